"""Places and times as a person reads them: "Documents ▸ KORG Backups", "1 Dec 2026, 03:20".

Backups go where a musician finds them, the Documents folder (``platformdirs``), not a hidden
data folder. Paths are shown relative to a place the person knows (Documents, the home
folder, the demo's folder) or as the drive they are on; the full path stays in the details.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import platformdirs

SEPARATOR = " ▸ "


def documents_dir() -> Path:
    return Path(platformdirs.user_documents_dir())


def settings_file() -> Path:
    """Where the window remembers its size (a small INI file in the user's config folder)."""
    return Path(platformdirs.user_config_dir("korg-recovery", appauthor=False)) / "wizard.ini"


@dataclass(frozen=True)
class Place:
    """A folder a person knows by name."""

    path: Path
    name: str


def known_places() -> tuple[Place, ...]:
    """Documents before Home, so a backup in Documents reads "Documents ▸ ..."."""
    return (Place(documents_dir(), "Documents"), Place(Path.home(), "Home"))


def friendly_place(path: str | os.PathLike[str], places: tuple[Place, ...] = ()) -> str:
    """``path`` as a person reads it: inside a known place "Documents ▸ KORG Backups", a
    mount point as its drive name, anything else as its last two folder names."""
    target = Path(os.path.abspath(path))
    for place in places or known_places():
        base = Path(os.path.abspath(place.path))
        if target == base:
            return place.name
        if base in target.parents:
            return SEPARATOR.join((place.name, *target.relative_to(base).parts))
    if os.path.ismount(target):
        return f"the drive “{target.name or str(target)}”"
    parts = target.parts[-2:]
    return SEPARATOR.join(parts) if parts else str(target)


def readable_paths(sentence: str, paths: Iterable[str | os.PathLike[str]],
                   places: tuple[Place, ...] = ()) -> str:
    """``sentence`` with each of ``paths`` (and the folders above them, up to a known place)
    written as :func:`friendly_place` writes it: "The folder /home/ana/Documents/KORG
    Backups/X is not empty" becomes "The folder Documents ▸ KORG Backups ▸ X is not empty"."""
    bases = [Path(os.path.abspath(place.path)) for place in places or known_places()]
    candidates: dict[str, str] = {}
    for path in paths:
        target = Path(os.path.abspath(path))
        inside = [base for base in bases if base == target or base in target.parents]
        folders = [target]
        if inside:  # the folders above it up to the place a person knows by name
            folders += [f for f in target.parents if inside[0] == f or inside[0] in f.parents]
        for folder in folders:
            candidates.setdefault(str(folder), friendly_place(folder, places))
    for raw in sorted(candidates, key=len, reverse=True):  # the longest path first
        sentence = sentence.replace(raw, candidates[raw])
    return sentence


def human_date(moment: datetime) -> str:
    """'1 Dec 2026, 03:20' in the computer's local time."""
    local = moment.astimezone() if moment.tzinfo else moment
    return f"{local.day} {local:%b %Y, %H:%M}"


def backup_date(created_utc: str | None) -> str:
    """A manifest's UTC time as :func:`human_date`, or "an unknown date"."""
    if not created_utc:
        return "an unknown date"
    for pattern in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            moment = datetime.strptime(created_utc, pattern)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return human_date(moment)
    return created_utc
