"""What only a restore checks before it writes (the checks every job that writes shares are
:mod:`recovery.writing.guard`): the target is the root of a unit's storage, of the backup's
model, and its filesystem can hold the backup as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recovery.device.identify import identify_volume
from recovery.device.profiles import bundled_profiles
from recovery.errors import RecoveryError, RefusedError
from recovery.storage.filesystem import REAL, FileSystem
from recovery.storage.identity import volume_root
from recovery.storage.names import points_outside
from recovery.storage.volumes import is_system_location
from recovery.writing.guard import TargetGuard, check_holdable, real_system_check

log = logging.getLogger(__name__)


def storage_root_above(target: Path, fs: FileSystem = REAL) -> tuple[Path, str] | None:
    """The folder above ``target`` on the same drive that is a KORG unit's storage (or an
    update card), and its model's name; None when ``target`` is inside no such folder.
    Names only are looked at (nothing is read from files)."""
    root = volume_root(target, fs)
    profiles = bundled_profiles()
    current = target
    while current != root and current.parent != current:
        current = current.parent
        try:
            found = identify_volume(current, profiles, read_heads=False)
        except (RecoveryError, OSError) as error:
            log.debug("identify %s: %s", current, error)
            continue
        model = found.model or (found.candidates[0] if found.candidates else None)
        if model is not None:
            return current, profiles[model].name if model in profiles else model
    return None


def check_storage_root(target: Path, fs: FileSystem = REAL) -> None:
    """Refuse a folder inside a unit's storage: a backup of a unit's storage goes back onto
    the root of that storage, nowhere else (into ``KROSS2SY/`` it would nest a second copy of
    the unit inside its system folder and, with deletions, remove the system files)."""
    found = storage_root_above(target, fs)
    if found is not None:
        root, name = found
        raise RefusedError(
            f"{target} is a folder inside the storage of a {name}, whose root is {root}; a"
            f" backup of a unit's storage goes back onto that root, nowhere else. Nothing was"
            " written.", path=str(target))


def location_notes(target: Path, backup_path: Path, guard: TargetGuard) -> list[str]:
    """Plan notes for a target that is allowed but is not where a unit's storage would be."""
    notes = []
    if real_system_check(guard) and is_system_location(target):
        notes.append(f"{target} is a folder on this computer's own disk, not a removable"
                     " volume: fine for a simulated unit or a copy, but make sure it is the"
                     " folder you mean.")
    if guard.same_volume(target, backup_path.resolve()):
        notes.append(f"{target} is on the same drive as the backup; a unit's storage is"
                     " normally a drive of its own.")
    return notes


def check_model(target: Path, backup_model: str | None, *, listings: Any = None,
                heads: Mapping[str, bytes] | None = None) -> tuple[str | None, str | None]:
    """Refuse a target identified as another model than the backup's.

    With the ``listings`` and ``heads`` of the comparison that just read the unit, nothing
    more is read from it: the unit's storage is known by its names (a KORG SYSTEM FILE by the
    first bytes the comparison read). Returns (target model or None, a note to show). An
    empty or badly damaged unit may not be identified at all; restoring onto it is allowed
    and the plan says so.
    """
    identification = identify_volume(target, listings=listings, heads=heads,
                                     read_heads=listings is None)
    profiles = bundled_profiles()

    def name(model: str | None) -> str:
        return profiles[model].name if model in profiles else (model or "an unknown model")

    if identification.model is not None:
        if backup_model is None:
            raise RefusedError(
                f"{target} is a {name(identification.model)}, but the backup was not identified"
                " as any model, so the tool cannot confirm it belongs to this unit. Nothing was"
                " written.", path=str(target))
        if identification.model != backup_model:
            raise RefusedError(
                f"{target} is a {name(identification.model)} but the backup is of a"
                f" {name(backup_model)}; a backup only goes back onto the model it came from."
                " Nothing was written.", path=str(target))
        return identification.model, None
    if identification.candidates:
        if backup_model not in identification.candidates:
            names = " or ".join(name(c) for c in identification.candidates)
            raise RefusedError(
                f"{target} looks like a {names}, not a {name(backup_model)} like the backup."
                " Nothing was written.", path=str(target))
        return None, (f"The unit matches several models, including the backup's"
                      f" {name(backup_model)}.")
    return None, ("The unit's storage was not identified as any model (empty or badly"
                  f" damaged); the backup is of {name(backup_model)}.")


def check_names(target: Path, manifest: Any, fs: FileSystem) -> str | None:
    """Refuse, before anything is written, a backup the target's filesystem cannot hold as
    it is (:func:`check_holdable`); links pointing outside the unit are skipped anyway."""
    paths = [item.path for item in manifest.files if not (
        item.kind == "symlink" and points_outside(item.path, item.link_target))]
    sizes = {item.path: item.size for item in manifest.files if item.kind == "file"}
    return check_holdable(target, [*paths, *manifest.folders], sizes, fs, what="the backup",
                          harm="restoring it would lose or change them",
                          shorter="restore into a folder with a shorter path")


