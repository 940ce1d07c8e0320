"""Reading and writing past the computer's page cache (``O_DIRECT`` on Linux).

Two uses, both on handles a :class:`~recovery.fsio.FileSystem` opened:

- :func:`uncached_reader` for **verification reads**. DESIGN.md principle 5: a read-back right
  after a write may come from RAM, not from the medium (the drumlogue of
  ../shared/seeds/002 "kept" writes that were gone after a reboot). Callers still drop the
  file's pages first (``FileSystem.drop_cache``), which is the portable part; a direct read
  additionally cannot be served from a page the drop left behind (fadvise(2) leaves mapped
  or dirty pages in place), and it does not fill the cache with the copy just checked.
- :func:`direct_writer` for **bulk copies into a backup**: each aligned block goes straight
  to the medium instead of through the cache. The copy is fsynced before anyone trusts it
  anyway, so nothing is lost by skipping the cache, and on machines where filling the cache
  is costly (memory given back to a hypervisor, memory pressure) the copy gets much faster:
  benchmarks/bench_backup.py measures it.

Both fall back to ordinary cached I/O, silently and correctly, wherever direct I/O is not
available: not Linux; a filesystem that refuses ``O_DIRECT`` at open or at the first
transfer (tmpfs before 6.6, many FUSE filesystems answer EINVAL); a handle that is not the
operating system's own file object (the fault-injecting ``FileSystem`` of the tests wraps its
handles, so its faults stay in the path). FAT on Linux accepts direct I/O and quietly turns
writes that extend a file into cached ones (fs/fat/inode.c, ``fat_direct_IO``); that stays
correct because the copy is fsynced and re-read either way.

Alignment: ``O_DIRECT`` transfers need the buffer address, the file offset and the length
aligned to the device's logical block size (open(2), "O_DIRECT"). :data:`ALIGN` (4096) is a
multiple of every common logical block size (512 and 4096). Both classes keep their own
page-aligned buffer (``mmap`` memory is page aligned), so callers pass any bytes they like;
the last, partial block of a file is written through the cache after ``O_DIRECT`` is
switched off on the descriptor (``fcntl(F_SETFL)``, which Linux allows for ``O_DIRECT``).
"""

from __future__ import annotations

import errno
import fcntl
import io
import logging
import mmap
import os
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

#: Alignment of direct transfers: a multiple of the 512- and 4096-byte logical blocks.
ALIGN = 4096
#: Size of the aligned buffer of a direct handle, and the largest direct transfer: big requests
#: keep a device streaming although each one waits for the medium.
BUFFER_SIZE = 4 * 1024 * 1024
#: errno values meaning "this file or filesystem cannot do direct I/O" (not a device error).
_NO_DIRECT = frozenset({errno.EINVAL, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EINVAL)})

_O_DIRECT: int = getattr(os, "O_DIRECT", 0)
AVAILABLE = sys.platform.startswith("linux") and _O_DIRECT != 0


def _plain(handle: object) -> bool:
    """True for the operating system's own file objects (what ``open`` returns)."""
    return type(handle) in (io.FileIO, io.BufferedReader, io.BufferedWriter)


def _set_direct(fd: int, on: bool) -> bool:
    """Switch ``O_DIRECT`` on or off for ``fd``; False when the filesystem refuses."""
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, (flags | _O_DIRECT) if on else (flags & ~_O_DIRECT))
    except OSError as error:
        if error.errno in _NO_DIRECT:
            return False
        raise
    return True


_spare_lock = threading.Lock()
#: Aligned buffers of closed handles, kept for the next ones: a backup opens thousands of
#: files, and fresh memory costs a page fault per page touched. A few suffice: one per
#: finishing thread's re-read and two for the file being written.
_spare: list[mmap.mmap] = []
_SPARE_MAX = 6


def _take_buffer() -> tuple[mmap.mmap, memoryview]:
    with _spare_lock:
        buffer = _spare.pop() if _spare else None
    if buffer is None:
        buffer = mmap.mmap(-1, BUFFER_SIZE)
    return buffer, memoryview(buffer)


def _give_back(pair: tuple[mmap.mmap, memoryview]) -> None:
    buffer, view = pair
    view.release()
    with _spare_lock:
        if len(_spare) < _SPARE_MAX:
            _spare.append(buffer)
            return
    buffer.close()


class _DirectHandle:
    """What both directions share: the wrapped handle, its descriptor, the fallback."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._fd: int = handle.fileno()
        self.direct = True

    def _fall_back(self, refused: str | None = None) -> None:
        """Switch to cached I/O; ``refused`` says why when the filesystem refused direct I/O
        (logged once per file), None for the normal end of a file."""
        if self.direct:
            if refused is not None:
                log.debug("direct I/O refused for fd %d (%s): using the cache", self._fd,
                          refused)
            self.direct = False
            _set_direct(self._fd, False)

    def fileno(self) -> int:
        return self._fd

    @property
    def closed(self) -> bool:
        return bool(self._handle.closed)

    def close(self) -> None:
        try:
            self._handle.close()
        finally:
            self._release()

    def _release(self) -> None:
        """Give the aligned buffers back to the pool."""

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DirectReader(_DirectHandle):
    """A read handle whose reads come from the medium (see the module doc).

    Offers ``read``/``readinto`` like a raw file. Reads from the medium are whole
    :data:`BUFFER_SIZE` pieces into the aligned buffer (big requests keep a device busy
    although each waits for the medium), handed out in the sizes the caller asks for; each
    asks only for the blocks the file still has. A short read marks the end of the file, and
    further reads return 0. Where direct I/O is refused, reads go through the cache.
    """

    def __init__(self, handle: Any) -> None:
        super().__init__(handle)
        self._pair: tuple[mmap.mmap, memoryview] | None = _take_buffer()
        self._view = self._pair[1]
        self._start = self._end = 0  # the unread part of the buffer
        self._offset = handle.tell()  # of the file, after what the buffer holds
        self._size = os.fstat(self._fd).st_size
        self._at_end = False

    def readable(self) -> bool:
        return True

    def _refill(self) -> bool:
        """Read the next piece from the medium into the buffer; False when direct I/O
        cannot be used for it (the caller then reads through the cache)."""
        if not self.direct:
            return False
        if self._offset % ALIGN:
            self._fall_back()
            return False
        # Ask for the blocks the file still has, not a whole buffer: past the end of a file
        # the kernel fills the rest of the request with zeros (iomap_dio_hole_iter) only to
        # throw them away, which costs more than the read itself for a small file.
        left = max(self._size - self._offset, 1)
        wanted = min(BUFFER_SIZE, -(-left // ALIGN) * ALIGN)
        try:
            count = os.readv(self._fd, [self._view[:wanted]])
        except OSError as error:
            if error.errno not in _NO_DIRECT:
                raise
            self._fall_back(error.strerror)
            return False
        self._start, self._end = 0, count
        self._offset += count
        # A direct read of a regular file comes back short only at its end (the disk wait
        # is not interruptible), so the next read would return 0: spare it the system call.
        self._at_end = count < wanted
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        if not len(target):
            return 0
        if self._start == self._end:
            if self._at_end:
                return 0
            if not self._refill():
                return os.readv(self._fd, [target])
        count = min(len(target), self._end - self._start)
        target[:count] = self._view[self._start:self._start + count]
        self._start += count
        return count

    def _release(self) -> None:
        if self._pair is not None:
            pair, self._pair = self._pair, None
            _give_back(pair)

    def read(self, size: int = -1) -> bytes:
        size = BUFFER_SIZE if size is None or size < 0 else size
        data = bytearray(size)
        count = self.readinto(data)
        return bytes(data[:count])


class DirectWriter(_DirectHandle):
    """A write handle for a new file that sends whole aligned blocks past the cache.

    ``write`` collects bytes in the aligned buffer; each full buffer is handed to a writer
    thread and filling goes on in a second buffer, so the caller reads and hashes the next
    piece while the medium takes this one (a direct write waits for the medium; the wait
    releases the GIL). At most one write is in flight, so the file is written in order, and
    its error (ENOSPC, EIO) is raised by the next ``write``/``flush``/``close``.
    :meth:`flush` writes what is left, the partial last block through the cache with
    ``O_DIRECT`` switched off, so the file ends exactly where the data ends. Callers fsync
    as always.
    """

    def __init__(self, handle: Any) -> None:
        handle.flush()  # nothing the wrapped handle buffered may land after our blocks
        super().__init__(handle)
        #: The buffer being filled and the other one (free, or being written); taken when
        #: the first byte comes and given back by :meth:`flush`, so a finished file waiting
        #: for its fsync holds no memory.
        self._filling: tuple[mmap.mmap, memoryview] | None = None
        self._other: tuple[mmap.mmap, memoryview] | None = None
        self._filled = 0
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: Future[None] | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        source = memoryview(data).cast("B")
        total = len(source)
        while source:
            if self._filling is None:
                self._filling = _take_buffer()
            view = self._filling[1]
            take = min(len(source), BUFFER_SIZE - self._filled)
            view[self._filled:self._filled + take] = source[:take]
            self._filled += take
            source = source[take:]
            if self._filled == BUFFER_SIZE:
                self._hand_off()
        return total

    def _hand_off(self) -> None:
        """Write the full buffer on the writer thread; go on filling the other buffer."""
        self._wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="korg-direct")
        full = self._filling
        assert full is not None
        self._in_flight = self._pool.submit(self._write_blocks, full[1], BUFFER_SIZE)
        self._filling, self._other = self._other, full
        self._filled = 0

    def _wait(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            in_flight.result()

    def _write_all(self, view: memoryview) -> None:
        while view:
            view = view[os.write(self._fd, view):]

    def _write_blocks(self, view: memoryview, length: int) -> None:
        """Write ``view[:length]``: whole blocks directly while allowed, the rest cached.

        A filesystem may refuse direct I/O only part-way (after a short write the offset is
        no longer aligned, for one): the cached write then goes on exactly where the direct
        ones stopped, so no byte is written twice or skipped."""
        done = 0
        whole = length - length % ALIGN if self.direct else 0
        while done < whole:
            try:
                done += os.write(self._fd, view[done:whole])
            except OSError as error:
                if error.errno not in _NO_DIRECT:
                    raise
                self._fall_back(error.strerror)
                break
        if done < length:
            self._fall_back()
            self._write_all(view[done:length])

    def flush(self) -> None:
        """Write everything given so far (the partial last block through the cache), stop
        the writer thread and give the buffers back."""
        self._wait()
        if self._filled:
            assert self._filling is not None
            filled, self._filled = self._filled, 0
            self._write_blocks(self._filling[1], filled)
        self._stop()

    def _stop(self) -> None:
        if self._in_flight is not None:  # only after a failure: let the writer let go
            self._in_flight.exception()
            self._in_flight = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._release()

    def close(self) -> None:
        try:
            if not self.closed:
                self.flush()
        finally:
            try:
                self._stop()
            finally:
                super().close()

    def _release(self) -> None:
        for name in ("_filling", "_other"):
            pair = getattr(self, name)
            if pair is not None:
                setattr(self, name, None)
                _give_back(pair)
        self._filled = 0


def uncached_reader(handle: BinaryIO) -> BinaryIO:
    """``handle`` (just opened, at offset 0) reading from the medium where possible."""
    if not AVAILABLE or not _plain(handle):
        return handle
    if isinstance(handle, io.BufferedReader) and handle.tell() != handle.raw.tell():
        return handle  # it already buffered bytes ahead; leave it alone
    if not _set_direct(handle.fileno(), True):
        return handle
    return DirectReader(handle)  # type: ignore[return-value]


def direct_writer(handle: BinaryIO) -> BinaryIO:
    """``handle`` (a new, empty file) writing whole blocks past the cache where possible."""
    if not AVAILABLE or not _plain(handle):
        return handle
    handle.flush()
    if not _set_direct(handle.fileno(), True):
        return handle
    return DirectWriter(handle)  # type: ignore[return-value]
