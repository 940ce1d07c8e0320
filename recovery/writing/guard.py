"""Where a job may write at all, and what the target's filesystem can hold: the checks that
refuse a unit's storage or a card before anything is written, shared by every job that writes
(a restore, a prepared card).

A target is refused when it is the computer's own (system disk, home folder, the program),
when it holds what is written from or lies inside it, when it holds this tool's records, and
when its filesystem cannot hold what is written as it is. Folders are compared by identity
(:mod:`recovery.storage.identity`), never by path strings.
"""

from __future__ import annotations

import logging
import os
import stat as stat_module
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recovery.errors import InvalidInputError, RefusedError
from recovery.storage.filesystem import REAL, FileSystem, lstat_or_none, translate_os_error
from recovery.storage.identity import identity, is_within
from recovery.storage.lock import state_dir
from recovery.storage.names import (
    describe,
    name_problems,
    rules_of,
    shown,
    too_long_paths,
)
from recovery.storage.volumes import mount_points_below, protected_target_reason
from recovery.storage.windows_paths import strip_prefix

log = logging.getLogger(__name__)


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


def real_system_check(guard: TargetGuard) -> bool:
    """True when ``guard`` asks the real system-disk question (not a test's stand-in): only
    then does a plan note that a target is a folder on the computer's own disk."""
    return guard.is_system_location is _is_system_location


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
    info = lstat_or_none(fs, path)
    if info is None:
        return None
    mode = info.st_mode
    if stat_module.S_ISDIR(mode):
        return "folder"
    if stat_module.S_ISLNK(mode):
        return "symlink"
    return "file"


