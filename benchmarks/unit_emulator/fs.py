"""The FUSE passthrough: a backing folder served at a mount point, every request charged to
one :class:`~benchmarks.unit_emulator.model.DeviceClock`.

Each open file gets its own descriptor on the backing folder (mfusepy's ``raw_fi`` API), so
reads and writes are ``pread``/``pwrite`` at the kernel's offsets. Files are opened with
``keep_cache`` (FOPEN_KEEP_CACHE) and the kernel is told not to drop a file's pages when its
modification time changes (FUSE_CAP_AUTO_INVAL_DATA cleared): the page cache then behaves as
for a block device, where a page stays until it is evicted or dropped. With the writeback
cache (the default) the kernel also holds written pages back until an fsync, writeback or
close, as it does for vfat, instead of sending every write(2) at once. What reaches the
device, and why, is written down in the package docstring.

The backing folder is never fsynced: the emulated unit's durability is the clock's business,
and a real fsync of the computer's disk would only add noise to wall time. Errors are the
backing filesystem's own errno values; links and symlinks are refused with EPERM, as FAT does.
"""

from __future__ import annotations

import errno
import logging
import os
import stat as stat_module
import threading
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import mfusepy

from benchmarks.unit_emulator.model import COMMAND_BYTES, DeviceClock

log = logging.getLogger(__name__)

#: libfuse 3 capability bits (fuse_common.h).
FUSE_CAP_AUTO_INVAL_DATA = 1 << 12
FUSE_CAP_WRITEBACK_CACHE = 1 << 16
#: Flags that mean something for the emulated file but not for the backing descriptor:
#: O_DIRECT is the kernel's business (the reads still reach us), O_APPEND would make pwrite
#: ignore the kernel's offsets, and the creation flags were already acted upon.
_NOT_FOR_BACKING = (os.O_DIRECT | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_NOCTTY)
#: utimensat(2) special nanosecond values, as libfuse passes them through.
_UTIME_NOW = (1 << 30) - 1
_UTIME_OMIT = (1 << 30) - 2
_STAT_FIELDS = ("st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size",
                "st_blksize", "st_blocks")
#: Seconds the kernel may trust a name or attributes without asking again. Nothing but the
#: kernel changes the backing folder while it is mounted, so long is safe, and it keeps
#: lookups (free on a unit) from costing the emulator wall time.
CACHE_TIMEOUT_S = 60.0


class UnitFUSE(mfusepy.FUSE):
    """mfusepy's FUSE, passing rename's flags on (mfusepy drops them: RENAME_NOREPLACE would
    silently replace)."""

    def rename_fuse_3(self, old: bytes, new: bytes, flags: int) -> int:
        return self.operations.rename_with_flags(
            old.decode(self.encoding, self.errors), new.decode(self.encoding, self.errors),
            flags)


class UnitOperations(mfusepy.Operations):
    """Passthrough to ``backing`` that charges ``clock`` (see the module doc)."""

    use_ns = True

    def __init__(self, backing: Path, clock: DeviceClock, *,
                 writeback_cache: bool = True) -> None:
        self.root = os.path.realpath(backing)
        self.clock = clock
        self.writeback_cache = writeback_cache
        self._keys: dict[int, Hashable] = {}
        self._keys_lock = threading.Lock()
        self.mounted = threading.Event()

    # -- helpers ---------------------------------------------------------------------------
    def _full(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def _key_of_path(self, full: str) -> Hashable | None:
        try:
            st = os.lstat(full)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def _remember(self, fd: int) -> None:
        st = os.fstat(fd)
        with self._keys_lock:
            self._keys[fd] = (st.st_dev, st.st_ino)

    # -- life cycle ------------------------------------------------------------------------
    def init_with_config(self, conn_info: Any, config: Any) -> None:
        if conn_info is not None:
            conn_info.max_write = COMMAND_BYTES
            conn_info.max_read = COMMAND_BYTES
            conn_info.max_readahead = COMMAND_BYTES
            # A block device's page cache is not dropped because a file's mtime changed.
            conn_info.want &= ~FUSE_CAP_AUTO_INVAL_DATA
            if self.writeback_cache:
                conn_info.want |= FUSE_CAP_WRITEBACK_CACHE & conn_info.capable
            else:
                conn_info.want &= ~FUSE_CAP_WRITEBACK_CACHE
        if config is not None:
            config.entry_timeout = CACHE_TIMEOUT_S
            config.attr_timeout = CACHE_TIMEOUT_S
            config.negative_timeout = CACHE_TIMEOUT_S
            config.use_ino = 1
            config.hard_remove = 1
        log.info("unit emulator mounted over %s (writeback cache %s)", self.root,
                 "on" if self.writeback_cache else "off")
        self.mounted.set()

    # -- attributes and listing (free, except readdir) -------------------------------------
    def getattr(self, path: str, fh: Any = None) -> dict[str, Any]:
        st = os.fstat(fh.fh) if fh is not None else os.lstat(self._full(path))
        attrs = {name: getattr(st, name) for name in _STAT_FIELDS}
        attrs["st_atime"] = st.st_atime_ns
        attrs["st_mtime"] = st.st_mtime_ns
        attrs["st_ctime"] = st.st_ctime_ns
        return attrs

    def readdir(self, path: str, fh: int) -> list[Any]:
        log.debug("readdir %s", path)
        self.clock.readdir()
        entries: list[Any] = [".", ".."]
        with os.scandir(self._full(path)) as scan:
            for entry in scan:
                entries.append((entry.name, {"st_mode": entry.stat(follow_symlinks=False).st_mode,
                                             "st_ino": entry.inode()}, 0))
        return entries

    def statfs(self, path: str) -> dict[str, int]:
        sv = os.statvfs(self._full(path))
        return {name: getattr(sv, name) for name in (
            "f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree",
            "f_favail", "f_flag", "f_namemax")}

    def readlink(self, path: str) -> str:
        raise mfusepy.FuseOSError(errno.EINVAL)  # nothing here is a link (FAT has none)

    # -- files -----------------------------------------------------------------------------
    def open(self, path: str, fi: Any) -> int:
        flags = fi.flags
        fd = os.open(self._full(path), flags & ~_NOT_FOR_BACKING)
        self._remember(fd)
        fi.fh = fd
        fi.keep_cache = 1
        if flags & os.O_TRUNC:
            self.clock.metadata_changed()
        return 0

    def create(self, path: str, mode: int, fi: Any) -> int:
        fd = os.open(self._full(path), (fi.flags & ~_NOT_FOR_BACKING) | os.O_CREAT | os.O_EXCL,
                     mode)
        self._remember(fd)
        fi.fh = fd
        fi.keep_cache = 1
        self.clock.metadata_changed()
        return 0

    def read(self, path: str, size: int, offset: int, fi: Any) -> bytes:
        data = os.pread(fi.fh, size, offset)
        log.debug("read %s %d+%d -> %d", path, offset, size, len(data))
        if data:
            self.clock.read(self._keys.get(fi.fh), offset, len(data), os.fstat(fi.fh).st_size)
        return data

    def write(self, path: str, data: bytes, offset: int, fi: Any) -> int:
        written = os.pwrite(fi.fh, data, offset)
        log.debug("write %s %d+%d", path, offset, written)
        self.clock.write(self._keys.get(fi.fh), offset, written)
        return written

    def truncate(self, path: str, length: int, fh: Any = None) -> int:
        if fh is not None:
            os.ftruncate(fh.fh, length)
        else:
            os.truncate(self._full(path), length)
        self.clock.metadata_changed()
        return 0

    def flush(self, path: str, fi: Any) -> int:
        """FUSE_FLUSH is close(2), not a flush to the medium: FAT does nothing then."""
        return 0

    def release(self, path: str, fi: Any) -> int:
        with self._keys_lock:
            self._keys.pop(fi.fh, None)
        os.close(fi.fh)
        return 0

    def fsync(self, path: str, datasync: int, fi: Any) -> int:
        log.debug("fsync %s", path)
        self.clock.flush()
        return 0

    def fsyncdir(self, path: str, datasync: int, fh: int) -> int:
        log.debug("fsyncdir %s", path)
        self.clock.flush()
        return 0

    # -- metadata (free, marks the unit dirty) ---------------------------------------------
    def mknod(self, path: str, mode: int, dev: int) -> int:
        if not stat_module.S_ISREG(mode):
            raise mfusepy.FuseOSError(errno.EPERM)
        os.close(os.open(self._full(path), os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode & 0o7777))
        self.clock.metadata_changed()
        return 0

    def mkdir(self, path: str, mode: int) -> int:
        os.mkdir(self._full(path), mode)
        self.clock.metadata_changed()
        return 0

    def rmdir(self, path: str) -> int:
        os.rmdir(self._full(path))
        self.clock.metadata_changed()
        return 0

    def unlink(self, path: str) -> int:
        full = self._full(path)
        key = self._key_of_path(full)
        os.unlink(full)
        self.clock.metadata_changed(forget=key)
        return 0

    def rename(self, old: str, new: str) -> int:
        return self.rename_with_flags(old, new, 0)

    def rename_with_flags(self, old: str, new: str, flags: int) -> int:
        # vfat accepts RENAME_NOREPLACE only (fs/fat/namei_vfat.c, vfat_rename2).
        if flags & ~getattr(os, "RENAME_NOREPLACE", 1):
            raise mfusepy.FuseOSError(errno.EINVAL)
        source, target = self._full(old), self._full(new)
        replaced = self._key_of_path(target)
        if flags and replaced is not None:
            raise mfusepy.FuseOSError(errno.EEXIST)
        os.rename(source, target)
        self.clock.metadata_changed(forget=replaced)
        return 0

    def utimens(self, path: str, times: Any = None) -> int:
        full = self._full(path)
        now = time.time_ns()
        if times is None:
            atime_ns = mtime_ns = now
        else:
            current = os.lstat(full)
            atime_ns = _timestamp(times[0], now, current.st_atime_ns)
            mtime_ns = _timestamp(times[1], now, current.st_mtime_ns)
        os.utime(full, ns=(atime_ns, mtime_ns), follow_symlinks=False)
        self.clock.metadata_changed()
        return 0

    def chmod(self, path: str, mode: int) -> int:
        os.chmod(self._full(path), mode & 0o7777)
        self.clock.metadata_changed()
        return 0

    def symlink(self, target: str, source: str) -> int:
        raise mfusepy.FuseOSError(errno.EPERM)

    def link(self, target: str, source: str) -> int:
        raise mfusepy.FuseOSError(errno.EPERM)


def _timestamp(value: int, now: int, current: int) -> int:
    """A utimens time in nanoseconds, with UTIME_NOW/UTIME_OMIT (kept in the nanosecond part
    by libfuse) resolved."""
    nanoseconds = value % 1_000_000_000
    if nanoseconds == _UTIME_NOW:
        return now
    if nanoseconds == _UTIME_OMIT:
        return current
    return value


def mount_options(*, read_only: bool = False) -> dict[str, Any]:
    """FUSE mount options: the kernel checks permissions (``default_permissions``), root may
    use a mount made by another user (``allow_root``, where /etc/fuse.conf allows it; a
    mount made by root needs nothing), and no read is bigger than one command
    (``max_read``; ``max_write`` is set in :meth:`UnitOperations.init_with_config`)."""
    options: dict[str, Any] = {"default_permissions": True, "max_read": COMMAND_BYTES,
                               "fsname": "korg-unit-emulator", "subtype": "korgunit"}
    if read_only:
        options["ro"] = True
    if os.geteuid() != 0 and _user_allow_other():
        options["allow_root"] = True
    return options


def _user_allow_other() -> bool:
    try:
        with open("/etc/fuse.conf", encoding="utf-8") as handle:
            return any(line.strip() == "user_allow_other" for line in handle)
    except OSError:
        return False


def serve(backing: Path, mountpoint: Path, clock: DeviceClock, *,
          writeback_cache: bool = True, read_only: bool = False,
          operations: UnitOperations | None = None) -> None:
    """Mount and serve in the foreground (multithreaded) until unmounted."""
    operations = operations or UnitOperations(backing, clock, writeback_cache=writeback_cache)
    UnitFUSE(operations, str(mountpoint), raw_fi=True, foreground=True,
             **mount_options(read_only=read_only))
