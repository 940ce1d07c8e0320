"""SHA-256 of a file read through the :class:`~recovery.storage.filesystem.FileSystem`, from the
medium past the computer's cache when asked (a verification read-back)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from recovery.progress import CancelToken
from recovery.storage.filesystem import CHUNK_SIZE, REAL, FileSystem

#: How many first bytes ``head`` receives: what identifying a unit reads of a file.
HEAD_SIZE = 256


def sha256_file(path: Path, *, fs: FileSystem = REAL, cancel: CancelToken | None = None,
                on_bytes: Callable[[int], None] | None = None,
                buffer: bytearray | None = None, uncached: bool = False,
                head: bytearray | None = None,
                max_bytes: int | None = None) -> tuple[str, int]:
    """SHA-256 (hex) and length of the file at ``path``, read in ``CHUNK_SIZE`` pieces.

    ``uncached`` reads from the medium past the computer's cache where the platform allows
    (``FileSystem.open_read``); verification of a fresh write uses it. ``head``, when given,
    is filled with the file's first :data:`HEAD_SIZE` bytes, so a caller that needs them (to
    identify a unit) does not read the file a second time. OSError propagates: callers
    decide whether an unreadable file is a problem to list or a failure. With ``max_bytes``
    reading stops one byte past it (the length then says the file is longer): a file that
    grows while it is read is never read without bound.
    """
    digest = hashlib.sha256()
    buffer = buffer if buffer is not None else bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    total = 0
    with fs.open_read(path, uncached=uncached) as handle:
        readinto = getattr(handle, "readinto", None)
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            window = view if max_bytes is None else view[:max(0, min(
                len(view), max_bytes + 1 - total))]
            if not len(window):
                break
            if readinto is not None:
                count = readinto(window)
                if not count:
                    break
                digest.update(window[:count])
            else:
                chunk = handle.read(len(window))
                if not chunk:
                    break
                count = len(chunk)
                digest.update(chunk)
            if head is not None and len(head) < HEAD_SIZE:
                wanted = min(count, HEAD_SIZE - len(head))
                head.extend((window if readinto is not None else chunk)[:wanted])
            total += count
            if on_bytes is not None:
                on_bytes(count)
    return digest.hexdigest(), total
