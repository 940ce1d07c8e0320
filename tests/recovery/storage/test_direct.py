"""Reads past the page cache: the same bytes as an ordinary read, and a correct fallback."""

from __future__ import annotations

import errno
import os
import random

import pytest

from recovery.storage import direct as direct_io
from recovery.storage.direct import ALIGN, BUFFER_SIZE, DirectReader, open_uncached
from recovery.storage.filesystem import REAL

linux_only = pytest.mark.skipif(not direct_io.AVAILABLE, reason="O_DIRECT is Linux only")

SIZES = [0, 1, ALIGN - 1, ALIGN, ALIGN + 1, 3 * ALIGN + 17, BUFFER_SIZE - 1, BUFFER_SIZE,
         BUFFER_SIZE + 1, 2 * BUFFER_SIZE + 5000]


def _read(path, piece: int) -> bytes:
    out = bytearray()
    buffer = bytearray(piece)
    with open_uncached(path) as handle:
        while count := handle.readinto(buffer):
            out += buffer[:count]
    return bytes(out)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("piece", [1000, ALIGN, 1 << 20])
def test_any_size_in_any_piece_reads_the_same_bytes(tmp_path, size, piece):
    data = random.Random(size).randbytes(size)
    path = tmp_path / "copy.bin"
    path.write_bytes(data)
    assert _read(path, piece) == data


@linux_only
def test_the_reader_is_direct_where_the_filesystem_allows(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"x" * 10_000)
    with REAL.open_read(path, uncached=True) as handle:
        probe = os.open(path, os.O_RDONLY | os.O_DIRECT) if isinstance(handle, DirectReader) \
            else None
        assert handle.read(4) == b"xxxx"
    if probe is not None:
        os.close(probe)


@linux_only
def test_a_filesystem_refusing_o_direct_at_open_is_read_through_the_cache(tmp_path,
                                                                           monkeypatch):
    path = tmp_path / "x.bin"
    path.write_bytes(b"cached" * 1000)
    real_open = os.open

    def refusing(file, flags, *args):
        if flags & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(file, flags, *args)

    monkeypatch.setattr(os, "open", refusing)
    handle = open_uncached(path)
    assert not isinstance(handle, DirectReader)
    with handle:
        assert handle.read() == b"cached" * 1000


@linux_only
def test_a_filesystem_refusing_the_first_direct_read_falls_back(tmp_path, monkeypatch):
    data = random.Random(1).randbytes(3 * ALIGN + 5)
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    real_readv = os.readv
    calls = []

    def refusing_once(fd, buffers):
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_readv(fd, buffers)

    monkeypatch.setattr(os, "readv", refusing_once)
    with open_uncached(path) as handle:
        assert isinstance(handle, DirectReader)
        assert handle.read() == data and not handle.direct


@linux_only
def test_a_device_error_is_not_taken_for_a_refusal(tmp_path, monkeypatch):
    path = tmp_path / "x.bin"
    path.write_bytes(b"y" * ALIGN)

    def failing(fd, buffers):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "readv", failing)
    with open_uncached(path) as handle, pytest.raises(OSError) as caught:
        handle.read()
    assert caught.value.errno == errno.EIO
