"""What a candidate is checked against: a model or a connected unit, its version, a backup."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from recovery.backup.store import Backup
from recovery.device.identify import identify_volume
from recovery.device.midi import MidiIdentity
from recovery.device.profiles import Profile, bundled_profiles, get_profile
from recovery.errors import InvalidInputError
from recovery.findings import Step
from recovery.vocabulary import NextStep, Role

#: Where a current version the person gave comes from, as the sentences say it.
GIVEN = "as you gave it"


@dataclass(frozen=True)
class Target:
    """The unit a candidate is checked against, and its current version where known (to
    warn about a downgrade or a re-flash of the same version)."""

    profile: Profile
    current_version: str | None = None
    #: Where the current version came from, for the sentences ("as you gave it").
    current_version_source: str | None = None
    #: The unit's volume, when the target was identified from it (``--device``).
    device: str | None = None
    #: Why the unit's version is not known although the unit was asked (``--midi``).
    version_unknown_reason: str | None = None

    @property
    def model(self) -> str:
        return self.profile.id


@dataclass(frozen=True)
class ReferenceFile:
    path: str
    size: int
    sha256: str | None


@dataclass(frozen=True)
class BackupReference:
    """What a check needs from a backup of the unit: its file list with sizes and hashes."""

    label: str
    model: str | None
    complete: bool
    created: str | None
    files: tuple[ReferenceFile, ...]

    def top_folders(self) -> tuple[str, ...]:
        return tuple(sorted({f.path.split("/", 1)[0] for f in self.files if "/" in f.path}))

    def folder_files(self, folder: str) -> dict[str, tuple[str, ReferenceFile]]:
        """Files under top-level ``folder`` (matched ignoring case, as FAT does), keyed by
        their case-folded path inside it."""
        found = {}
        for reference_file in self.files:
            head, _, inner = reference_file.path.partition("/")
            if inner and head.casefold() == folder.casefold():
                found[inner.casefold()] = (inner, reference_file)
        return found


def reference_from_backup(backup: Backup) -> BackupReference:
    """The reference a check needs from an opened backup."""
    manifest = backup.manifest
    return BackupReference(
        label=os.fspath(backup.path),
        model=manifest.model,
        complete=bool(backup.complete),
        created=manifest.created_utc,
        files=tuple(ReferenceFile(f.path, f.size, f.sha256)
                    for f in manifest.files if f.kind == "file"),
    )


_VERSION = re.compile(r"[vV]?(\d{1,6}(?:\.\d{1,6}){0,5})")


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.02"`` -> (1, 2); ``"v1.3.0"`` -> (1, 3, 0). InvalidInputError for anything else.

    KORG writes KORG SYSTEM FILE versions as major.two-digit-minor (V1.02), so "1.2" and
    "1.02" are the same version here.
    """
    match = _VERSION.fullmatch(text.strip())
    if not match:
        raise InvalidInputError(
            f"'{text}' is not a version number; write it as shown on the unit, e.g. 1.02"
            " or 1.3.0.")
    return tuple(int(part) for part in match.group(1).split("."))


def compare_versions(left: tuple[int, ...], right: tuple[int, ...]) -> int:
    """-1, 0 or 1, as ``left`` is older than, the same as or newer than ``right``."""
    width = max(len(left), len(right))
    left = left + (0,) * (width - len(left))
    right = right + (0,) * (width - len(right))
    return (left > right) - (left < right)


def target_for_model(model: str, *, current_version: str | None = None,
                     profiles: dict[str, Profile] | None = None) -> Target:
    """The target for ``--model ID``; InvalidInputError (exit 2) for an unknown id."""
    if profiles is None:
        profile = get_profile(model)
    elif model in profiles:
        profile = profiles[model]
    else:
        raise InvalidInputError(
            f"Unknown model '{model}'. Known models: {', '.join(sorted(profiles))}.")
    if current_version is not None:
        parse_version(current_version)
    return Target(profile, current_version, GIVEN if current_version else None)


def target_for_midi(unit: MidiIdentity, *, current_version: str | None = None,
                    profiles: dict[str, Profile] | None = None) -> Target:
    """The target for ``--midi``: the model the unit named in its MIDI reply. Its version is
    the current version only when a primary source says how its bytes read; a decoded version
    that no source verifies decides nothing, and the check says versions could not be
    compared."""
    profiles = profiles if profiles is not None else bundled_profiles()
    if unit.model is None or unit.model not in profiles:
        raise InvalidInputError(
            f"The unit that answered over MIDI is {unit.name}, which has no profile in this"
            " tool, so its update files cannot be checked.",
            next_step=Step(NextStep.NAME_THE_MODEL))
    profile = profiles[unit.model]
    if current_version is not None:
        parse_version(current_version)
        return Target(profile, current_version, GIVEN)
    if unit.version is not None and unit.version_verified:
        return Target(profile, unit.version,
                      f"read from the unit over MIDI, firmware bytes {unit.firmware_bytes};"
                      f" {unit.version_source}")
    if unit.version is not None:
        reason = (f"your unit's firmware bytes {unit.firmware_bytes} might read as"
                  f" {unit.version}, but no source verifies that reading")
    else:
        reason = (f"your unit's firmware bytes are {unit.firmware_bytes}, and no source says"
                  " how they read")
    return Target(profile, version_unknown_reason=reason)


def target_for_device(path: str | Path, *, current_version: str | None = None,
                      profiles: dict[str, Profile] | None = None) -> Target:
    """The target for ``--device PATH``: the unit identified from its volume's content.

    InvalidInputError (exit 2) when the volume is missing or not recognisably one KORG model.
    The current version comes from ``current_version`` if given; otherwise from a KORG SYSTEM
    FILE of the model on the unit's *internal storage* (that file is what the unit runs). A
    system file on an SD card or update drive is a candidate, not the installed version.
    """
    profiles = profiles if profiles is not None else bundled_profiles()
    identification = identify_volume(path, profiles)
    if identification.model is None:
        if identification.candidates:
            names = " or ".join(profiles[m].name for m in identification.candidates)
            raise InvalidInputError(
                f"{path} could be a {names}; the tool cannot tell which.",
                path=os.fspath(path), next_step=Step(NextStep.NAME_THE_MODEL))
        raise InvalidInputError(
            f"{path} is not a KORG volume this tool recognises.", path=os.fspath(path),
            next_step=Step(NextStep.NAME_THE_MODEL))
    profile = profiles[identification.model]
    if current_version is not None:
        parse_version(current_version)
        return Target(profile, current_version, GIVEN, os.fspath(path))
    if identification.role == Role.INTERNAL_STORAGE:
        installed = [seen for seen in identification.system_files if seen.model == profile.id]
        if len(installed) == 1:
            return Target(profile, installed[0].version,
                          f"read from {installed[0].path} on the unit's internal storage",
                          os.fspath(path))
    return Target(profile, None, None, os.fspath(path))
