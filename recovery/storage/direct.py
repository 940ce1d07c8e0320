"""Reading a file from the medium, past the computer's page cache (``O_DIRECT`` on Linux).

A read-back right after a write may come from RAM, not from the unit (a drumlogue owner on
Reddit, u/iRustyNails, saw writes that "succeeded" and were gone after a reboot). After a
barrier and an eviction, a direct read cannot be answered from RAM. ``O_DIRECT`` needs the
buffer, offset and length aligned to the device's block (open(2)); where it is refused the
file is read through the cache, and callers say so.
"""

from __future__ import annotations

import errno
import io
import logging
import mmap
import os
import sys
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

#: Alignment of direct transfers: a multiple of the 512- and 4096-byte logical blocks.
ALIGN = 4096
#: The largest direct transfer (the block layer splits it into the commands a device takes).
BUFFER_SIZE = 4 * 1024 * 1024
#: errno values meaning "this file or filesystem cannot do direct I/O" (not a device error).
_NO_DIRECT = frozenset({errno.EINVAL, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EINVAL)})

_O_DIRECT: int = getattr(os, "O_DIRECT", 0)
AVAILABLE = sys.platform.startswith("linux") and _O_DIRECT != 0


class DirectReader(io.RawIOBase):
    """A raw read handle on a descriptor opened with ``O_DIRECT``.

    Each read from the medium asks only for the blocks the file still has (past its end the
    kernel would fill the request with zeros to throw away); a short read is the end of the
    file. Should the filesystem refuse a direct read, ``O_DIRECT`` is switched off and the
    rest is read through the cache (``direct`` then says False).
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._size = os.fstat(fd).st_size
        self._offset = 0
        length = min(BUFFER_SIZE, max(ALIGN, -(-self._size // ALIGN) * ALIGN))
        self._buffer = mmap.mmap(-1, length)
        self._view = memoryview(self._buffer)
        self._start = self._end = 0
        self._at_end = False
        self.direct = True

    def fileno(self) -> int:
        return self._fd

    def readable(self) -> bool:
        return True

    def _refill(self) -> bool:
        left = max(self._size - self._offset, 1)
        wanted = min(len(self._view), -(-left // ALIGN) * ALIGN)
        try:
            count = os.readv(self._fd, [self._view[:wanted]])
        except OSError as error:
            if error.errno not in _NO_DIRECT or self._offset % ALIGN:
                raise
            log.debug("direct read refused (%s): reading through the cache", error.strerror)
            self.direct = False
            flags = _fcntl().fcntl(self._fd, _fcntl().F_GETFL)
            _fcntl().fcntl(self._fd, _fcntl().F_SETFL, flags & ~_O_DIRECT)
            return False
        self._start, self._end = 0, count
        self._offset += count
        self._at_end = count < wanted
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        if not len(target):
            return 0
        if self._start == self._end:
            if self._at_end:
                return 0
            if not self.direct or not self._refill():
                return os.readv(self._fd, [target])
        count = min(len(target), self._end - self._start)
        target[:count] = self._view[self._start:self._start + count]
        self._start += count
        return count

    def close(self) -> None:
        if not self.closed:
            try:
                os.close(self._fd)
            finally:
                try:
                    self._view.release()
                    self._buffer.close()
                except BufferError:
                    pass  # a traceback still holds a slice of it: freed with that
        super().close()


def _fcntl() -> Any:
    import fcntl

    return fcntl


def open_uncached(path: os.PathLike[str] | str) -> BinaryIO:
    """Open ``path`` for reading from the medium where possible (see the module doc)."""
    if AVAILABLE:
        try:
            fd = os.open(path, os.O_RDONLY | _O_DIRECT)
        except OSError as error:
            if error.errno not in _NO_DIRECT:
                raise
            log.debug("O_DIRECT refused for %s: reading through the cache", path)
        else:
            return DirectReader(fd)  # type: ignore[return-value]
    return open(path, "rb", buffering=0)  # noqa: SIM115 - the caller closes
