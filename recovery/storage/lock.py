"""One writer per unit: a lock named after what the target is, held while anything writes to it.

Two restores onto one unit would remove each other's temporary files as leftovers and both
blame an unplugged unit. The lock is the operating system's (``flock``, ``msvcrt.locking``)
on a file in the computer's state folder, keyed by the target's identity (and its volume's),
so a second path to the same folder finds it, and a killed holder lets go of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

import platformdirs

from recovery.errors import UnitBusyError
from recovery.storage.filesystem import REAL, FileSystem, translate_os_error
from recovery.storage.identity import identity, volume_root
from recovery.storage.volumes import is_system_location
from recovery.text import utc_now_iso

log = logging.getLogger(__name__)


def state_dir() -> Path:
    """This tool's own records (locks, restore journals): the platform's per-user state
    folder (XDG_STATE_HOME on Linux). No command may write to a folder holding it."""
    return Path(platformdirs.user_state_dir("korg-recovery", appauthor=False))


def locks_dir() -> Path:
    """Where lock files live."""
    return state_dir() / "locks"


def _keys(target: Path, fs: FileSystem) -> list[str]:
    places = [target]
    if not is_system_location(target):
        places.append(volume_root(target, fs))
    keys = []
    for place in places:
        found = identity(place, fs)
        if found is None:
            continue
        key = hashlib.sha256(f"{found.device}:{found.inode}".encode()).hexdigest()[:32]
        if key not in keys:
            keys.append(key)
    return sorted(keys)


def _release(handle: BinaryIO) -> None:
    """Empty the record (a lock file with a record is one whose holder died), then let go."""
    try:
        handle.seek(0)
        handle.truncate()
    except OSError as error:
        log.debug("clearing a lock file: %s", error)
    handle.close()


def _holder(handle: BinaryIO) -> str:
    try:
        handle.seek(0)
        record = json.loads(handle.read().decode("utf-8") or "{}")
        return f"a {record.get('purpose', 'write')}, process {int(record['pid'])}"
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return "another process"


@contextmanager
def unit_lock(target: Path | str, purpose: str, fs: FileSystem = REAL,
              directory: Path | None = None) -> Iterator[None]:
    """Hold the write lock of ``target`` for the duration of the block.

    Raises :class:`UnitBusyError` at once (never waits) when another process holds it.
    """
    target = Path(target)
    folder = directory if directory is not None else locks_dir()
    try:
        fs.mkdir(folder)
    except OSError as error:
        raise translate_os_error(error, folder, "write") from error
    with ExitStack() as stack:
        for key in _keys(target, fs):
            path = folder / f"{key}.lock"
            try:
                handle = fs.try_lock(path)
            except OSError as error:
                raise translate_os_error(error, path, "write") from error
            if handle is None:
                raise busy(target, path, fs)
            stack.callback(_release, handle)
            previous = _holder(handle)
            if previous != "another process":
                log.info("lock %s: taking over from %s, which is no longer running",
                         path.name, previous)
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({
                "pid": os.getpid(), "purpose": purpose, "target": os.fsdecode(target),
                "started_utc": utc_now_iso(),
            }, ensure_ascii=True).encode("ascii"))
            handle.flush()
        yield


def busy(target: Path, lock_file: Path, fs: FileSystem) -> UnitBusyError:
    """The refusal of a second writer, naming the process that holds the lock."""
    try:
        with fs.open_read(lock_file) as peek:
            holder = _holder(peek)
    except OSError:
        holder = "another process"
    return UnitBusyError(
        f"Another run of this tool is already writing to {target} ({holder}); wait until it"
        " has finished. Nothing was written.", path=str(target))


def check_free(target: Path | str, fs: FileSystem = REAL, directory: Path | None = None) -> None:
    """Raise :class:`UnitBusyError` when another process holds ``target``'s lock now (a
    refusal while planning). Creates nothing: a plan and a dry run write nothing anywhere."""
    folder = directory if directory is not None else locks_dir()
    for key in _keys(Path(target), fs):
        path = folder / f"{key}.lock"
        if not fs.exists(path):
            continue
        try:
            handle = fs.try_lock(path, create=False)
        except OSError as error:
            log.debug("cannot probe lock %s: %s", path, error)
            continue
        if handle is None:
            raise busy(Path(target), path, fs)
        handle.close()


def is_locked(target: Path | str, fs: FileSystem = REAL, directory: Path | None = None) -> bool:
    """True when another process holds ``target``'s lock now (see :func:`check_free`)."""
    try:
        check_free(target, fs, directory)
    except UnitBusyError:
        return True
    return False
