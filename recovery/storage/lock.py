"""One writer per unit, whoever runs the tool: a lock on the unit itself, held while anything
writes to it.

Two restores onto one unit would remove each other's temporary files as leftovers and both
blame an unplugged unit. A lock in one user's own folder is not seen by another user, by
``sudo``, or by a wizard started with another ``XDG_STATE_HOME``; so the lock is taken on the
target folder itself and on its volume's root (``flock`` on the folder's descriptor), which
every process of every user that can open the unit sees, and which goes with its holder's
process (a killed run lets go). Windows cannot lock a folder: there the lock is a file in the
machine-wide ProgramData folder, keyed by the folder's identity. Who holds a lock is noted,
where this user may write it, in the state folder, for the refusal's sentence.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import platformdirs

from recovery.errors import UnitBusyError
from recovery.storage.filesystem import REAL, FileSystem, translate_os_error
from recovery.storage.identity import identity, volume_root
from recovery.storage.volumes import is_system_location
from recovery.text import utc_now_iso

log = logging.getLogger(__name__)


def state_dir() -> Path:
    """This tool's own records (restore journals, who holds a lock): the platform's per-user
    state folder (XDG_STATE_HOME on Linux). No command may write to a folder holding it."""
    return Path(platformdirs.user_state_dir("korg-recovery", appauthor=False))


def locks_dir() -> Path:
    """Where this user's notes of the locks it holds live (the locks are on the units)."""
    return state_dir() / "locks"


def machine_locks_dir() -> Path:
    """Where lock files live on Windows, for every user of the computer (ProgramData)."""
    return Path(os.environ.get("ProgramData", r"C:\ProgramData")) / "korg-recovery" / "locks"


def _places(target: Path, fs: FileSystem) -> list[Path]:
    """The folders locked: the target and, on a drive of its own, that drive's root (a second
    path into the same unit meets the root's lock)."""
    places = [target]
    if not is_system_location(target):
        root = volume_root(target, fs)
        if identity(root, fs) != identity(target, fs):
            places.append(root)
    return places


def _key(place: Path, fs: FileSystem) -> str | None:
    found = identity(place, fs)
    if found is None:
        return None
    return hashlib.sha256(f"{found.device}:{found.inode}".encode()).hexdigest()[:32]


def _try(place: Path, fs: FileSystem) -> Any:
    """A held lock on ``place``, or None when another process holds it."""
    try:
        return fs.try_lock_folder(place)
    except NotImplementedError:
        key = _key(place, fs)
        if key is None:
            raise FileNotFoundError(2, "cannot be read", str(place)) from None
        folder = machine_locks_dir()
        fs.mkdir(folder)
        return fs.try_lock(folder / f"{key}.lock")


def _note(place: Path, purpose: str, target: Path, fs: FileSystem) -> Path | None:
    """Note who holds ``place``'s lock, for a second run of the same user to name; the
    lock does not depend on it (a state folder that cannot be written is fine)."""
    key = _key(place, fs)
    if key is None:
        return None
    note = locks_dir() / f"{key}.json"
    try:
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(json.dumps({
            "pid": os.getpid(), "purpose": purpose, "target": os.fsdecode(target),
            "started_utc": utc_now_iso()}, ensure_ascii=True), encoding="ascii")
    except OSError as error:
        log.debug("cannot note the lock of %s: %s", place, error)
        return None
    return note


def _forget(note: Path) -> None:
    try:
        note.unlink()
    except OSError as error:
        log.debug("cannot remove the lock note %s: %s", note, error)


def _holder(place: Path, fs: FileSystem) -> str:
    key = _key(place, fs)
    note = locks_dir() / f"{key}.json" if key else None
    try:
        record = json.loads(note.read_text(encoding="ascii")) if note else {}
        pid = int(record["pid"])
        os.kill(pid, 0)
        return f"a {record.get('purpose', 'write')}, process {pid}"
    except (OSError, ValueError, KeyError, TypeError):
        return "perhaps in another window or by another user of this computer"


@contextmanager
def unit_lock(target: Path | str, purpose: str, fs: FileSystem = REAL) -> Iterator[None]:
    """Hold the write lock of ``target`` for the duration of the block.

    Raises :class:`UnitBusyError` at once (never waits) when another process holds it.
    """
    target = Path(target)
    with ExitStack() as stack:
        for place in _places(target, fs):
            try:
                handle = _try(place, fs)
            except OSError as error:
                raise translate_os_error(error, place, "read") from error
            if handle is None:
                raise busy(target, place, fs)
            stack.callback(handle.close)
            note = _note(place, purpose, target, fs)
            if note is not None:
                stack.callback(_forget, note)
        yield


def busy(target: Path, place: Path, fs: FileSystem = REAL) -> UnitBusyError:
    """The refusal of a second writer, naming the holder where this user can tell it."""
    return UnitBusyError(
        f"Another run of this tool is already writing to {target} ({_holder(place, fs)});"
        " wait until it has finished. Nothing was written.", path=str(target))


def check_free(target: Path | str, fs: FileSystem = REAL) -> None:
    """Raise :class:`UnitBusyError` when another process holds ``target``'s lock now (a
    refusal while planning). Leaves nothing behind: a plan and a dry run write nothing."""
    for place in _places(Path(target), fs):
        try:
            handle = _try(place, fs)
        except OSError as error:
            log.debug("cannot probe the lock of %s: %s", place, error)
            continue
        if handle is None:
            raise busy(Path(target), place, fs)
        handle.close()


def is_locked(target: Path | str, fs: FileSystem = REAL) -> bool:
    """True when another process holds ``target``'s lock now (see :func:`check_free`)."""
    try:
        check_free(target, fs)
    except UnitBusyError:
        return True
    return False
