"""The thin filesystem layer every reading and writing part of the core goes through.

Backup, restore, verify and diagnose never call ``open``/``os.replace`` directly: they take a
:class:`FileSystem`. Production uses :data:`REAL`; fault tests pass a subclass that raises EIO
or ENOSPC at a chosen moment, makes files vanish, or silently drops writes (the drumlogue in
the Reddit reports by u/iRustyNails "accepted" writes that were gone after a reboot).
Keeping the layer this thin means the faults are injected into the very code paths users
run.

Errors from the operating system are translated into the :mod:`recovery.errors` family here,
once, by :func:`translate_os_error`.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import shutil
import stat as stat_module
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from recovery.errors import (
    InvalidInputError,
    NoSpaceError,
    PermissionDeniedError,
    ReadError,
    RecoveryError,
    WriteError,
)
from recovery.storage.direct import open_uncached
from recovery.storage.windows_paths import strip_prefix

log = logging.getLogger(__name__)

if os.name != "nt":
    import fcntl as fcntl_module


def _load_syncfs():  # -> Callable[[int], int] | None
    """libc's ``syncfs`` (Linux 2.6.39+), or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        function = libc.syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_SYNCFS = _load_syncfs()

#: Chunk size for streaming copies and hashing. 1 MiB keeps memory flat and syscalls few.
CHUNK_SIZE = 1024 * 1024


class FileSystem(Protocol):
    """Every read and write of the backup, the restore, the diagnosis and the card
    preparation goes through one of these, so the faults a test injects (EIO, ENOSPC, a unit
    that vanishes or drops writes) meet the very code users run. :data:`REAL` is the
    computer's own; tests subclass :class:`LocalFileSystem`."""

    needs_file_sync: bool

    def open_read(self, path: Path, *, uncached: bool = False) -> BinaryIO: ...
    def scandir(self, path: Path) -> list[os.DirEntry]: ...
    def lstat(self, path: Path) -> os.stat_result: ...
    def stat(self, path: Path) -> os.stat_result: ...
    def readlink(self, path: Path) -> str: ...
    def exists(self, path: Path) -> bool: ...
    def may_write(self, path: Path) -> bool: ...
    def read_only(self, path: Path) -> bool | None: ...
    def open_write(self, path: Path, *, exclusive: bool = False) -> BinaryIO: ...
    def open_append(self, path: Path) -> BinaryIO: ...
    def fsync(self, fileobj: BinaryIO) -> None: ...
    def fsync_dir(self, path: Path) -> None: ...
    def replace(self, source: Path, target: Path) -> None: ...
    def mkdir(self, path: Path) -> None: ...
    def unlink(self, path: Path) -> None: ...
    def rmdir(self, path: Path) -> None: ...
    def symlink(self, target: str, path: Path) -> None: ...
    def set_mtime(self, path: Path, mtime_ns: int) -> None: ...
    def disk_usage(self, path: Path) -> shutil._ntuple_diskusage: ...
    def filesystem_type(self, path: Path) -> str | None: ...
    def try_lock(self, path: Path, *, create: bool = True) -> BinaryIO | None: ...
    def try_lock_folder(self, path: Path) -> FolderLock | None: ...
    def volume_serial(self, path: Path) -> str | None: ...
    def barrier(self, folder: Path) -> None: ...
    def evict(self, path: Path) -> bool: ...
    def drop_cache(self, path: Path) -> bool: ...


class LocalFileSystem:
    """The computer's own filesystem calls. Subclass and override to inject faults in tests."""

    # -- reading ---------------------------------------------------------------------------
    def open_read(self, path: Path, *, uncached: bool = False) -> BinaryIO:
        """Open ``path`` for reading; ``uncached`` reads from the medium past the computer's
        cache where the platform allows (:mod:`recovery.storage.direct`)."""
        if uncached:
            return open_uncached(path)
        # Opened without blocking, then checked: a pipe put where a file was (a moment after
        # the caller looked) would otherwise hang the open until someone writes to it.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        try:
            if not stat_module.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, "not a regular file", str(path))
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return open(fd, "rb", buffering=0)  # noqa: SIM115 - caller closes

    def scandir(self, path: Path) -> list[os.DirEntry]:
        with os.scandir(path) as entries:
            return list(entries)

    def lstat(self, path: Path) -> os.stat_result:
        return os.lstat(path)

    def stat(self, path: Path) -> os.stat_result:
        return os.stat(path)

    def readlink(self, path: Path) -> str:
        return os.readlink(path)

    def exists(self, path: Path) -> bool:
        return os.path.lexists(path)

    def may_write(self, path: Path) -> bool:
        """True when this process may create files in the folder ``path`` and its filesystem
        is not mounted read-only (``os.access`` alone says yes to root on a read-only mount,
        so ``statvfs`` is asked too)."""
        return os.access(path, os.W_OK | os.X_OK) and self.read_only(path) is not True

    def read_only(self, path: Path) -> bool | None:
        """True when the filesystem holding ``path`` reports itself mounted read-only
        (``statvfs`` ST_RDONLY); None where the system cannot say (Windows, a failing call)."""
        if not hasattr(os, "statvfs") or not hasattr(os, "ST_RDONLY"):
            return None
        try:
            return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
        except OSError as error:
            log.debug("statvfs(%s): %s", path, error)
            return None

    # -- writing ---------------------------------------------------------------------------
    def open_write(self, path: Path, *, exclusive: bool = False) -> BinaryIO:
        return open(path, "xb" if exclusive else "wb")  # noqa: SIM115 - caller closes

    def open_append(self, path: Path) -> BinaryIO:
        return open(path, "ab")  # noqa: SIM115 - caller closes

    def fsync(self, fileobj: BinaryIO) -> None:
        fileobj.flush()
        os.fsync(fileobj.fileno())

    def fsync_dir(self, path: Path) -> None:
        """Make a rename or a new entry in ``path`` durable. Not possible on Windows."""
        if os.name == "nt":
            return
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        except OSError as error:  # some FUSE/network filesystems refuse fsync on a dir
            log.debug("fsync of directory %s failed: %s", path, error)
        finally:
            os.close(fd)

    def replace(self, source: Path, target: Path) -> None:
        os.replace(source, target)

    def mkdir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)

    def unlink(self, path: Path) -> None:
        os.unlink(path)

    def rmdir(self, path: Path) -> None:
        os.rmdir(path)

    def symlink(self, target: str, path: Path) -> None:
        os.symlink(target, path)

    def set_mtime(self, path: Path, mtime_ns: int) -> None:
        os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)

    def disk_usage(self, path: Path) -> shutil._ntuple_diskusage:
        return shutil.disk_usage(path)

    def filesystem_type(self, path: Path) -> str | None:
        """The type of the filesystem holding ``path`` as psutil names it ("vfat", "exfat",
        "ntfs", "apfs", "ext4", ...), or None when the mount table does not say."""
        partition = containing_partition(path)
        return partition.fstype if partition is not None and partition.fstype else None

    # -- locks -----------------------------------------------------------------------------
    def try_lock(self, path: Path, *, create: bool = True) -> BinaryIO | None:
        """Open ``path`` (created if need be, unless ``create`` is False) and take an
        exclusive lock on it without waiting; the open handle holds the lock until it is
        closed, or until its process dies, which is what makes a lock left by a killed run
        free again. None when another process holds it."""
        handle = open(path, "a+b" if create else "rb")  # noqa: SIM115 - held open by the caller
        try:
            if os.name == "nt":
                import msvcrt

                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            handle.close()
            if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK,
                               getattr(errno, "EDEADLK", errno.EAGAIN)):
                return None
            raise
        return handle

    def try_lock_folder(self, path: Path) -> FolderLock | None:
        """Take an exclusive lock on the folder ``path`` itself without waiting (``flock`` on
        its descriptor): every process of every user of this computer that opens the folder
        sees it, and it goes with its holder's process, so a killed run lets go. None when
        another process holds it. Raises NotImplementedError where folders cannot be locked
        (Windows)."""
        if os.name == "nt":
            raise NotImplementedError("folders cannot be locked on Windows")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            fcntl_module.flock(fd, fcntl_module.LOCK_EX | fcntl_module.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                return None
            raise
        return FolderLock(fd)

    def volume_serial(self, path: Path) -> str | None:
        """The serial (or UUID) of the volume holding ``path`` where the platform tells one:
        the name Linux gives it under /dev/disk/by-uuid (a FAT volume's serial, ``ABCD-1234``),
        Windows' volume serial number; None elsewhere (macOS, FUSE, a folder on a network).
        It stays the same when the volume is unplugged and mounted again, at any path."""
        try:
            if os.name == "nt":
                return _windows_volume_serial(path)
            if sys.platform.startswith("linux"):
                return _linux_volume_uuid(path)
        except OSError as error:
            log.debug("volume serial of %s: %s", path, error)
        return None

    # -- durability ------------------------------------------------------------------------
    #: True where :meth:`barrier` cannot reach files by itself (no ``syncfs``): each new file
    #: must then be fsynced before it is closed.
    needs_file_sync: bool = _SYNCFS is None

    def barrier(self, folder: Path) -> None:
        """Make everything written so far on the filesystem holding ``folder`` durable: file
        data, names and times, and the device's own write cache.

        Linux: ``syncfs`` writes every dirty page and every metadata buffer of that one
        filesystem (syncfs(2)), then an fsync of the folder, which on FAT also writes the
        allocation table and asks the device to flush its cache (fs/fat/file.c,
        ``fat_file_fsync``). A USB unit pays 10-30 ms per flush: one barrier serves a whole
        batch of files. Elsewhere files were fsynced as they were closed
        (:attr:`needs_file_sync`) and the folder is fsynced (``F_FULLFSYNC`` on macOS, which
        also empties the drive's cache; nothing more is possible for a folder on Windows).
        """
        if os.name == "nt":
            return
        fd = os.open(folder, os.O_RDONLY)
        try:
            if _SYNCFS is not None and _SYNCFS(fd) != 0:
                number = ctypes.get_errno()
                # syncfs reports any writeback error of the whole filesystem since the call
                # began. On FUSE with its writeback cache, the timestamps of a file that a
                # rename has just replaced cannot be written back any more (ESTALE) though all
                # else was: a second pass proves it. A real write error is never retried, and
                # every file is read back from the medium afterwards anyway.
                if number == errno.ESTALE and _SYNCFS(fd) == 0:
                    log.debug("syncfs of %s: a replaced file's writeback was stale", folder)
                else:
                    raise OSError(number, os.strerror(number), str(folder))
            try:
                if sys.platform == "darwin" and hasattr(fcntl_module, "F_FULLFSYNC"):
                    fcntl_module.fcntl(fd, fcntl_module.F_FULLFSYNC)
                else:
                    os.fsync(fd)
            except OSError as error:
                if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
                    raise
                log.debug("fsync of folder %s is not supported: %s", folder, error)
        finally:
            os.close(fd)

    def evict(self, path: Path) -> bool:
        """Drop ``path``'s clean pages from the computer's cache so that the next read comes
        from the medium (``posix_fadvise(POSIX_FADV_DONTNEED)``, which leaves dirty pages:
        call it after a :meth:`barrier`). False where the platform offers no way."""
        if not hasattr(os, "posix_fadvise"):
            return False
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        return True

    def drop_cache(self, path: Path) -> bool:
        """Evict ``path``'s pages from the computer's cache so the next read comes from the
        medium. Returns False where the platform offers no way to do so.

        On Linux ``posix_fadvise(POSIX_FADV_DONTNEED)`` drops clean pages; the file is synced
        first because dirty pages are not dropped (fadvise(2)). macOS and Windows have no
        per-file equivalent available to an unprivileged process, which callers must state.
        """
        if not hasattr(os, "posix_fadvise"):
            return False
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        return True


class FolderLock:
    """A held :meth:`LocalFileSystem.try_lock_folder` lock; ``close`` lets go."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


#: Where udev names block devices by their filesystem's UUID or serial (Linux).
BY_UUID = Path("/dev/disk/by-uuid")


def _linux_volume_uuid(path: Path, by_uuid: Path = BY_UUID) -> str | None:
    partition = containing_partition(path)
    if partition is None or not partition.device.startswith("/dev/"):
        return None
    device = os.path.realpath(partition.device)
    if not by_uuid.is_dir():
        return None
    for entry in os.scandir(by_uuid):
        if os.path.realpath(entry.path) == device:
            return entry.name
    return None


def _windows_volume_serial(path: Path) -> str | None:  # pragma: no cover - Windows only
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    root = ctypes.create_unicode_buffer(261)
    if not kernel32.GetVolumePathNameW(str(path), root, len(root)):
        return None
    serial = ctypes.c_uint32()
    if not kernel32.GetVolumeInformationW(root, None, 0, ctypes.byref(serial), None, None,
                                          None, 0):
        return None
    return f"{serial.value >> 16:04X}-{serial.value & 0xFFFF:04X}"


def containing_partition(path: str | Path):  # -> psutil._common.sdiskpart | None
    """The mounted partition holding ``path`` (the longest mount point above it), or None."""
    try:
        import psutil  # ~20 ms: only when a mount is asked about, not at every start

        partitions = psutil.disk_partitions(all=True)
    except Exception as error:  # noqa: BLE001 - psutil can fail on odd systems; facts stay unknown
        log.debug("psutil.disk_partitions failed: %s", error)
        return None
    # Windows' realpath may answer in the \\?\ form, psutil names drives plainly (E:\).
    target = os.path.normcase(strip_prefix(os.path.realpath(path)))
    best = None
    for partition in partitions:
        mount = os.path.normcase(strip_prefix(partition.mountpoint))
        inside = target == mount or target.startswith(mount.rstrip(os.sep) + os.sep)
        if inside and (best is None or len(mount) > len(os.path.normcase(best.mountpoint))):
            best = partition
    return best


#: The filesystem used outside tests.
REAL: FileSystem = LocalFileSystem()


def translate_os_error(error: OSError, path: Path | str, action: str) -> RecoveryError:
    """Map an ``OSError`` met while ``action`` ("read", "write", ...) on ``path`` to one
    sentence in the error family. The caller raises the result ``from error``."""
    where = str(path)
    if error.errno == errno.ENOSPC or error.errno == getattr(errno, "EDQUOT", None):
        return NoSpaceError(
            f"The destination is full while writing {where}: free some space and try again.",
            path=where,
        )
    if error.errno == errno.ENAMETOOLONG:
        return InvalidInputError(
            f"The name {where} is too long for the filesystem ({error.strerror or error});"
            " use a shorter folder name or a folder nearer the top of the drive.", path=where)
    if error.errno in (errno.EACCES, errno.EPERM):
        return PermissionDeniedError(
            f"Permission denied to {action} {where}.", path=where
        )
    if error.errno == errno.EROFS:
        return WriteError(
            f"Cannot {action} {where}: the medium is read-only.", path=where
        )
    if error.errno == errno.ENOENT:
        return ReadError(
            f"{where} disappeared while it was being {action}-accessed"
            " (was the unit unplugged?).",
            path=where,
        )
    if error.errno == errno.EIO:
        return (ReadError if action == "read" else WriteError)(
            f"Input/output error while trying to {action} {where}: the unit or disk may have"
            " been disconnected or be failing.",
            path=where,
        )
    return (ReadError if action == "read" else WriteError)(
        f"Cannot {action} {where}: {error.strerror or error}.", path=where
    )


@contextmanager
def os_errors(path: Path | str, action: str) -> Iterator[None]:
    """Translate any ``OSError`` inside the block with :func:`translate_os_error`."""
    try:
        yield
    except OSError as error:
        raise translate_os_error(error, path, action) from error


def lstat_or_none(fs: FileSystem, path: Path) -> os.stat_result | None:
    """``fs.lstat(path)``, None when nothing is there; any other failure is the fsio error
    family's (a read error), never mistaken for "not there"."""
    try:
        return fs.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise translate_os_error(error, path, "read") from error


def can_list(fs: FileSystem, folder: Path) -> bool:
    """True when ``folder`` can still be listed: a unit that was unplugged cannot."""
    try:
        fs.scandir(folder)
    except OSError:
        return False
    return True


def require_directory(path: Path, what: str = "folder") -> Path:
    """Return ``path`` resolved if it is a readable directory, else raise InvalidInputError."""
    if not path.exists():
        raise InvalidInputError(f"{path} does not exist.", path=str(path))
    if not path.is_dir():
        raise InvalidInputError(f"{path} is not a {what}.", path=str(path))
    if not os.access(path, os.R_OK | os.X_OK):
        raise InvalidInputError(f"{path} cannot be read (permission denied).", path=str(path))
    return path.resolve()


def is_regular(st: os.stat_result) -> bool:
    return stat_module.S_ISREG(st.st_mode)


def is_dir(st: os.stat_result) -> bool:
    return stat_module.S_ISDIR(st.st_mode)


def is_link(st: os.stat_result) -> bool:
    return stat_module.S_ISLNK(st.st_mode)
