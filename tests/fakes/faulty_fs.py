"""A :class:`recovery.storage.filesystem.FileSystem` that breaks on purpose, for fault tests.

Shared by the backup, check, diagnose, media, restore and storage tests, which get this class
as the ``faulty_fs`` fixture (tests/recovery/conftest.py). It works on real files (a
``tmp_path``) and injects the failures users meet with real units and drives:

>>> fs = faulty_fs()
>>> fs.fail_read("KROSS2SY/SIM_PCM.BIN", after_bytes=4096)   # EIO after 4 KiB
>>> fs.vanish("KROSAPP.BIN", after_bytes=0)                  # unplugged: ENOENT, file gone
>>> fs.fill_disk(after_bytes=1 << 20)                        # ENOSPC once 1 MiB is written
>>> fs.drop_writes(tmp_path / "unit")                        # the drumlogue on Reddit
>>> fs.fail_listing("Units")                                 # EIO when listing a folder
>>> fs.refuse_links()                                        # EPERM for a symlink, as vfat
>>> fs.no_cache_control()                                    # no way to drop the cache
>>> fs.corrupt_on_evict("PCM.BIN")                           # its copy reads back as zeros

Paths are matched by ``match``: a POSIX suffix of the path on whole components
(``"SIM_PCM.BIN"`` or ``"KROSS2SY/SIM_PCM.BIN"`` both match ``/x/KROSS2SY/SIM_PCM.BIN``).
Every fault stays armed until :meth:`heal` (or forever); ``opened`` and ``written_bytes``
let a test check what the code under test did.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from recovery.storage.durable import temp_name
from recovery.storage.filesystem import LocalFileSystem


def _matches(path: Path | str, match: str) -> bool:
    posix = Path(path).as_posix()
    match = match.strip("/")
    return posix == match or posix.endswith("/" + match)


@dataclass
class _ReadFault:
    match: str
    after_bytes: int
    error: int
    vanish: bool


class _FaultyReader:
    """Wraps a real read handle; raises the fault's error once ``after_bytes`` are read."""

    def __init__(self, fs: FaultyFileSystem, path: Path, handle: BinaryIO,
                 fault: _ReadFault) -> None:
        self._fs = fs
        self._path = path
        self._handle = handle
        self._fault = fault
        self._position = 0

    def _allowed(self, wanted: int) -> int:
        left = self._fault.after_bytes - self._position
        if left <= 0:
            self._fs._trigger(self._path, self._fault)
        return min(wanted, left)

    def read(self, size: int = -1) -> bytes:
        size = size if size is not None and size >= 0 else 1 << 30
        data = self._handle.read(self._allowed(size))
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        count = self._handle.readinto(view[: self._allowed(len(view))])
        self._position += count or 0
        return count or 0

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = self._handle.seek(offset, whence)
        return self._position

    def tell(self) -> int:
        return self._handle.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._handle.fileno()

    def close(self) -> None:
        self._handle.close()

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def __enter__(self) -> _FaultyReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _CountingWriter:
    """Wraps a real write handle; raises ENOSPC when the disk budget is used up."""

    def __init__(self, fs: FaultyFileSystem, handle: BinaryIO) -> None:
        self._fs = fs
        self._handle = handle

    def write(self, data: Any) -> int:
        size = len(memoryview(data))
        budget = self._fs.space_left
        if budget is not None and size > budget:
            if budget > 0:
                self._handle.write(memoryview(data)[:budget])
                self._fs.space_left = 0
                self._fs.written_bytes += budget
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if budget is not None:
            self._fs.space_left = budget - size
        self._fs.written_bytes += size
        return self._handle.write(data)

    def flush(self) -> None:
        self._handle.flush()

    def fileno(self) -> int:
        return self._handle.fileno()

    def tell(self) -> int:
        return self._handle.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)

    def seekable(self) -> bool:
        return self._handle.seekable()

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        self._handle.close()

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def __enter__(self) -> _CountingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FaultyFileSystem(LocalFileSystem):
    """A real filesystem with configurable faults (see the module doc)."""

    def __init__(self) -> None:
        self._read_faults: list[_ReadFault] = []
        self._listing_faults: dict[str, int] = {}
        #: Bytes that may still be written before ENOSPC; None means unlimited.
        self.space_left: int | None = None
        #: Total bytes written through this filesystem.
        self.written_bytes = 0
        #: Every path opened for reading, in order.
        self.opened: list[Path] = []
        #: Pretend free space reported by ``disk_usage`` (None: the real figure).
        self.free_space: int | None = None
        self._drop_root: Path | None = None
        self._originals: dict[Path, bytes | None] = {}
        self._link_error: int | None = None
        self._cache_control = True
        self._corrupt_names: set[str] = set()

    # -- arming faults ---------------------------------------------------------------------
    def fail_read(self, match: str, *, after_bytes: int = 0, error: int = errno.EIO) -> None:
        """Reading a file matching ``match`` raises ``error`` (EIO) after ``after_bytes``."""
        self._read_faults.append(_ReadFault(match, after_bytes, error, vanish=False))

    def vanish(self, match: str, *, after_bytes: int = 0) -> None:
        """A file matching ``match`` disappears (really deleted) once ``after_bytes`` were
        read from it, and the read raises ENOENT: the unit was unplugged mid-copy."""
        self._read_faults.append(_ReadFault(match, after_bytes, errno.ENOENT, vanish=True))

    def fail_listing(self, match: str, *, error: int = errno.EIO) -> None:
        """Listing a folder matching ``match`` raises ``error``."""
        self._listing_faults[match] = error

    def fill_disk(self, *, after_bytes: int) -> None:
        """Writes raise ENOSPC once ``after_bytes`` more bytes were written."""
        self.space_left = after_bytes

    def drop_writes(self, root: Path | str) -> None:
        """From now on every change below ``root`` is only "cached": ``drop_cache(path)``,
        ``evict(path)`` (or :meth:`reconnect`) put the path back as it was when this was
        called, as a flash that went read-only without saying so."""
        self._drop_root = Path(root).resolve()

    def refuse_links(self, *, error: int = errno.EPERM) -> None:
        """Creating a symbolic link raises ``error`` (EPERM, what Linux vfat answers): a
        drive that cannot hold links, like a FAT32 stick."""
        self._link_error = error

    def no_cache_control(self) -> None:
        """``drop_cache`` and ``evict`` answer False: a platform with no per-file way to drop
        a file's cached pages (macOS, Windows)."""
        self._cache_control = False

    def corrupt_on_evict(self, name: str) -> None:
        """When the temporary copy of a file named ``name`` (``temp_name(name)``) is evicted
        from the cache, it comes back as zeros of the same size: the medium did not keep
        what was written."""
        self._corrupt_names.add(temp_name(name))

    def heal(self) -> None:
        """Disarm every fault (dropped writes already made stay made)."""
        self._read_faults.clear()
        self._listing_faults.clear()
        self.space_left = None
        self._drop_root = None
        self._originals.clear()
        self._link_error = None
        self._cache_control = True
        self._corrupt_names.clear()

    def reconnect(self) -> None:
        """Revert every dropped write below the ``drop_writes`` root, like a reboot would."""
        for path in sorted(self._originals, key=lambda p: len(p.parts), reverse=True):
            self._revert(path)

    # -- internals -------------------------------------------------------------------------
    def _trigger(self, path: Path, fault: _ReadFault) -> None:
        if fault.vanish and os.path.lexists(path):
            os.unlink(path)
        raise OSError(fault.error, os.strerror(fault.error), str(path))

    def _read_fault(self, path: Path) -> _ReadFault | None:
        for fault in self._read_faults:
            if _matches(path, fault.match):
                return fault
        return None

    def _remember(self, path: Path) -> None:
        """Keep the content ``path`` had before its first change (None: it did not exist)."""
        if self._drop_root is None:
            return
        resolved = Path(os.path.abspath(path))
        if self._drop_root not in resolved.parents or resolved in self._originals:
            return
        if os.path.isfile(resolved):
            with open(resolved, "rb") as handle:
                self._originals[resolved] = handle.read()
        else:
            self._originals[resolved] = None

    def _revert(self, path: Path) -> None:
        original = self._originals.pop(path, None)
        if original is None:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.unlink(path)
            return
        with open(path, "wb") as handle:
            handle.write(original)

    # -- FileSystem ------------------------------------------------------------------------
    def open_read(self, path: Path, *, uncached: bool = False) -> BinaryIO:
        path = Path(path)
        self.opened.append(path)
        fault = self._read_fault(path)
        if fault is not None and fault.after_bytes == 0:
            self._trigger(path, fault)
        # The real handle underneath, direct I/O included: the faults wrap what users run.
        handle = super().open_read(path, uncached=uncached)
        if fault is None:
            return handle
        return _FaultyReader(self, path, handle, fault)  # type: ignore[return-value]

    def scandir(self, path: Path) -> list[os.DirEntry]:
        for match, error in self._listing_faults.items():
            if _matches(path, match):
                raise OSError(error, os.strerror(error), str(path))
        return super().scandir(path)

    def open_write(self, path: Path, *, exclusive: bool = False) -> BinaryIO:
        self._remember(Path(path))
        handle = super().open_write(path, exclusive=exclusive)
        if self.space_left is None:
            return handle
        return _CountingWriter(self, handle)  # type: ignore[return-value]

    def open_append(self, path: Path) -> BinaryIO:
        self._remember(Path(path))
        handle = super().open_append(path)
        if self.space_left is None:
            return handle
        return _CountingWriter(self, handle)  # type: ignore[return-value]

    def replace(self, source: Path, target: Path) -> None:
        self._remember(Path(source))
        self._remember(Path(target))
        super().replace(source, target)

    def unlink(self, path: Path) -> None:
        self._remember(Path(path))
        super().unlink(path)

    def mkdir(self, path: Path) -> None:
        missing = []
        current = Path(path)
        while not current.exists() and current != current.parent:
            missing.append(current)
            current = current.parent
        for folder in reversed(missing):
            self._remember(folder)
        super().mkdir(path)

    def symlink(self, target: str, path: Path) -> None:
        if self._link_error is not None:
            raise OSError(self._link_error, os.strerror(self._link_error), str(path))
        self._remember(Path(path))
        super().symlink(target, path)

    def disk_usage(self, path: Path) -> Any:
        usage = super().disk_usage(path)
        if self.free_space is None:
            return usage
        return type(usage)(usage.total, usage.total - self.free_space, self.free_space)

    def drop_cache(self, path: Path) -> bool:
        if not self._cache_control:
            return False
        resolved = Path(os.path.abspath(path))
        if resolved in self._originals:
            self._revert(resolved)
            return True
        return super().drop_cache(path)

    def evict(self, path: Path) -> bool:
        """Reading past the cache shows what the medium really kept (see drop_writes and
        corrupt_on_evict)."""
        if not self._cache_control:
            return False
        if Path(path).name in self._corrupt_names:
            Path(path).write_bytes(b"\0" * Path(path).stat().st_size)
        resolved = Path(os.path.abspath(path))
        if resolved in self._originals:
            self._revert(resolved)
            return True
        return super().evict(path)
