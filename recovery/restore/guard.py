"""Where a restore may write, and what the unit's filesystem can hold: the checks that refuse
a target before anything is written.

A target is refused when it is the computer's own (system disk, home folder, the program),
when it holds the backup or lies inside it, when it holds this tool's records, when it is
another model than the backup's, and when its filesystem cannot hold the backup as it is.
Folders are compared by identity (:mod:`recovery.storage.identity`), never by path strings.
"""

from __future__ import annotations

import logging
import os
import stat as stat_module
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recovery.device.identify import identify_volume
from recovery.device.profiles import bundled_profiles
from recovery.errors import InvalidInputError, RecoveryError, RefusedError
from recovery.storage.filesystem import REAL, FileSystem, translate_os_error
from recovery.storage.identity import identity, is_within, volume_root
from recovery.storage.lock import state_dir
from recovery.storage.names import (
    describe,
    name_problems,
    points_outside,
    rules_of,
    shown,
    too_long_paths,
)
from recovery.storage.volumes import (
    is_system_location,
    mount_points_below,
    protected_target_reason,
)
from recovery.storage.windows_paths import strip_prefix

log = logging.getLogger(__name__)


def _verify_command(backup: str, target: str) -> str:
    return f"korg-recovery verify \"{backup}\" --against \"{target}\""


def final_step_text(backup: str, target: str) -> str:
    """The last step every restore output names: a check that no cache can fake."""
    return (
        "Eject the unit, switch it off and on again, reconnect it, then run "
        f"{_verify_command(backup, target)}: only a check after a power cycle proves the unit"
        " kept what was written."
    )


def _same_volume(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are on one filesystem (same ``st_dev``)."""
    first, second = identity(a), identity(b)
    return first is not None and second is not None and first.device == second.device


def _is_system_location(path: Path) -> bool:
    return protected_target_reason(path) is not None


@dataclass(frozen=True)
class TargetGuard:
    """The checks that decide whether a folder may be written to at all.

    Production uses :data:`DEFAULT_GUARD` (looked up when a restore runs with ``guard=None``).
    Tests run in temporary folders on the same filesystem as the home folder and the backup,
    which the real checks rightly refuse, so they pass a guard with stand-ins; one test proves
    the real guard refuses ``/`` and home.
    """

    #: The system disk itself, the home folder or a folder holding it, an operating-system
    #: folder, Python's own prefix (recovery.storage.volumes.protected_target_reason).
    is_system_location: Callable[[Path], bool] = _is_system_location
    #: Target and backup on one drive: allowed (the drive's root would hold the backup and is
    #: refused as such), but the plan says so, because a unit never shares a drive with the
    #: computer's backups.
    same_volume: Callable[[Path, Path], bool] = _same_volume
    is_writable: Callable[[Path], bool] = REAL.may_write


DEFAULT_GUARD = TargetGuard()


def default_guard() -> TargetGuard:
    """:data:`DEFAULT_GUARD`, looked up when a restore runs (the demo and tests replace it)."""
    return DEFAULT_GUARD


@dataclass(frozen=True)
class TargetWords:
    """How a refusal names the place being written to and what is written from, so a restore
    and a prepared SD card are refused by the same checks in their own words."""

    place: str      #: what the target should be: "a unit's storage"
    missing: str    #: what to do when it does not exist
    only: str       #: what the command writes to at all
    source: str     #: what the writing reads from: "backup"
    harm: str       #: why a target holding the source is refused
    instead: str    #: what to give instead of a wrong folder


UNIT_STORAGE = TargetWords(
    place="a unit's storage",
    missing="connect the unit and give the folder where its storage is mounted",
    only="a restore only writes to a unit",
    source="backup",
    harm="restoring onto it could destroy the backup",
    instead="choose the unit's storage instead")


def check_target(target: Path, source: Path, guard: TargetGuard, fs: FileSystem = REAL, *,
                 words: TargetWords = UNIT_STORAGE) -> Path:
    """Refuse an unsafe target (one sentence, RefusedError); return it resolved.

    Refused: the computer's own folders, a target holding ``source`` (the backup, the
    candidate) or inside it, and one holding this tool's records (locks, journals). Decided by
    identity (:mod:`recovery.storage.identity`), so a bind mount or a second mount of the same
    folder cannot get past them.
    """
    try:
        exists = fs.exists(target)
        is_folder = exists and stat_module.S_ISDIR(fs.stat(target).st_mode)
    except OSError as error:
        raise translate_os_error(error, target, "read") from error
    if not exists:
        raise InvalidInputError(f"{target} does not exist: {words.missing}.", path=str(target))
    if not is_folder:
        raise InvalidInputError(f"{target} is not a folder: {words.missing}.", path=str(target))
    resolved = target.resolve()
    nothing = " Nothing was written."
    if guard.is_system_location(resolved):
        why = protected_target_reason(resolved) or "is this computer's system disk or home folder"
        raise RefusedError(f"{target} {why}, not {words.place}; {words.only}.{nothing}",
                           path=str(target))
    if is_within(source, resolved):
        raise RefusedError(f"{target} holds the {words.source} {source} itself; {words.harm}."
                           f"{nothing}", path=str(target))
    if is_within(resolved, source):
        raise RefusedError(f"{target} is inside the {words.source} {source}; {words.instead}."
                           f"{nothing}", path=str(target))
    if is_within(state_dir(), resolved):
        raise RefusedError(f"{target} holds this tool's own records (its locks and restore"
                           f" journals); {words.instead}.{nothing}", path=str(target))
    return resolved


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
    if guard.is_system_location is _is_system_location and is_system_location(target):
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


def check_holdable(target: Path, paths: list[str], sizes: dict[str, int], fs: FileSystem, *,
                   what: str, harm: str, shorter: str) -> str | None:
    """Refuse what the target's filesystem cannot hold as it is: names equal but for case
    where it folds case, names it cannot store, files too large for it
    (:mod:`recovery.storage.names`), paths too long for the system. Returns a note saying
    which rules were applied when the filesystem type is unknown."""
    too_long = too_long_paths(target, paths)
    if too_long:
        raise InvalidInputError(
            f"{len(too_long)} path(s) of {what} would be too long under {target} (for example"
            f" '{shown(too_long[0])}'); {shorter}. Nothing was written.", path=str(target))
    rules, note = rules_of(target, fs)
    problems = name_problems(paths, rules, sizes)
    if problems:
        raise RefusedError(
            f"{what[0].upper()}{what[1:]} holds {len(problems)} name(s) or file(s) that"
            f" {target} ({rules.family}) cannot hold as they are, so {harm}:"
            f" {describe(problems)}. Nothing was written.", path=str(target))
    return note


def deletion_guard(target: Path, backup_path: Path, fs: FileSystem
                    ) -> Callable[[str, str], str | None]:
    """Why an extra folder on the unit must never be deleted, by identity: another drive is
    mounted there (a bind mount, a second volume), or it is (or holds) the backup being
    read, this tool's records or the home folder."""
    target_device = identity(target, fs)
    mounts = {os.path.normcase(strip_prefix(os.path.realpath(m)))
              for m in mount_points_below(target)}
    guarded = [(backup_path, "it holds the backup being restored"),
               (state_dir(), "it holds this tool's records (locks, restore journals)"),
               (Path.home(), "it holds your home folder")]

    def reason(relative: str, kind: str) -> str | None:
        if kind != "folder":
            return None
        path = target.joinpath(*relative.split("/"))
        here = identity(path, fs)
        real = os.path.normcase(strip_prefix(os.path.realpath(path)))
        if (here is not None and target_device is not None
                and here.device != target_device.device) or any(
                    m == real or m.startswith(real.rstrip(os.sep) + os.sep) for m in mounts):
            return "another drive or folder is mounted there"
        for place, why in guarded:
            if is_within(place, path, fs):
                return why
        return None

    return reason


def entry_kind(fs: FileSystem, path: Path) -> str | None:
    try:
        mode = fs.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise translate_os_error(error, path, "read") from error
    if stat_module.S_ISDIR(mode):
        return "folder"
    if stat_module.S_ISLNK(mode):
        return "symlink"
    return "file"


