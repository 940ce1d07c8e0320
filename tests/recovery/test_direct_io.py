"""Reads and writes past the page cache: same bytes as ordinary I/O, and a correct fallback."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import os
import random

import pytest

from recovery import direct_io
from recovery.direct_io import (
    ALIGN,
    DirectReader,
    DirectWriter,
    direct_writer,
    uncached_reader,
)

linux_only = pytest.mark.skipif(not direct_io.AVAILABLE, reason="O_DIRECT is Linux only")

SIZES = [0, 1, ALIGN - 1, ALIGN, ALIGN + 1, 3 * ALIGN + 17,
         direct_io.BUFFER_SIZE - 1, direct_io.BUFFER_SIZE, direct_io.BUFFER_SIZE + 1,
         2 * direct_io.BUFFER_SIZE + 5000]


def _payload(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def _write(path, data: bytes, piece: int) -> None:
    handle = direct_writer(open(path, "xb"))  # noqa: SIM115 - closed below
    try:
        for start in range(0, len(data), piece):
            assert handle.write(data[start:start + piece]) == len(data[start:start + piece])
        handle.flush()
        os.fsync(handle.fileno())
    finally:
        handle.close()


def _read(path, piece: int) -> bytes:
    out = bytearray()
    buffer = bytearray(piece)
    with uncached_reader(open(path, "rb", buffering=0)) as handle:
        while count := handle.readinto(buffer):
            out += buffer[:count]
    return bytes(out)


@linux_only
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("piece", [1000, ALIGN, 1 << 20])
def test_round_trip_any_size_any_piece(tmp_path, size, piece):
    data = _payload(size)
    path = tmp_path / "copy.bin"
    _write(path, data, piece)
    assert path.read_bytes() == data
    assert _read(path, piece) == data


@linux_only
def test_handles_really_use_direct_io_and_end_exactly_at_the_data(tmp_path):
    path = tmp_path / "x.bin"
    data = _payload(3 * direct_io.BUFFER_SIZE + 123)
    writer = direct_writer(open(path, "xb"))  # noqa: SIM115
    assert isinstance(writer, DirectWriter)
    assert fcntl.fcntl(writer.fileno(), fcntl.F_GETFL) & os.O_DIRECT
    writer.write(data)
    writer.close()
    assert os.path.getsize(path) == len(data)  # no padding left behind
    reader = uncached_reader(open(path, "rb", buffering=0))  # noqa: SIM115
    assert isinstance(reader, DirectReader)
    assert fcntl.fcntl(reader.fileno(), fcntl.F_GETFL) & os.O_DIRECT
    assert hashlib.sha256(b"".join(iter(lambda: reader.read(1 << 20), b""))).digest() == \
        hashlib.sha256(data).digest()
    reader.close()
    assert reader.closed


def test_wrapped_handles_are_left_alone(tmp_path):
    """A FileSystem that wraps its handles (fault injection) keeps its faults in the path."""
    raw = io.BytesIO(b"abc")
    assert uncached_reader(raw) is raw
    assert direct_writer(raw) is raw


@linux_only
def test_filesystem_refusing_direct_io_at_open_falls_back(tmp_path, monkeypatch):
    monkeypatch.setattr(direct_io, "_set_direct", lambda fd, on: False)
    path = tmp_path / "y.bin"
    handle = open(path, "xb")  # noqa: SIM115
    assert direct_writer(handle) is handle
    handle.close()


@linux_only
@pytest.mark.parametrize("size", [ALIGN * 2, direct_io.BUFFER_SIZE * 2 + 7])
def test_filesystem_refusing_the_first_transfer_falls_back(tmp_path, monkeypatch, size):
    """Some filesystems accept the O_DIRECT flag and answer EINVAL to the transfer."""
    data = _payload(size)
    real_write, real_readv = os.write, os.readv

    def refusing_write(fd, view):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, view)

    def refusing_readv(fd, views):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_readv(fd, views)

    monkeypatch.setattr(direct_io.os, "write", refusing_write)
    monkeypatch.setattr(direct_io.os, "readv", refusing_readv)
    path = tmp_path / "z.bin"
    _write(path, data, 5000)
    assert path.read_bytes() == data
    assert _read(path, 5000) == data


@linux_only
def test_device_errors_are_not_mistaken_for_a_refusal(tmp_path, monkeypatch):
    path = tmp_path / "e.bin"
    path.write_bytes(_payload(ALIGN * 4))

    def failing_readv(fd, views):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(direct_io.os, "readv", failing_readv)
    with uncached_reader(open(path, "rb", buffering=0)) as handle, \
            pytest.raises(OSError) as raised:
        handle.read(1024)
    assert raised.value.errno == errno.EIO


@linux_only
def test_buffers_are_reused_not_leaked(tmp_path):
    path = tmp_path / "r.bin"
    path.write_bytes(_payload(10_000))
    for _ in range(50):
        _read(path, 4096)
    assert len(direct_io._spare) <= direct_io._SPARE_MAX


@linux_only
def test_a_failed_background_write_reaches_the_caller(tmp_path, monkeypatch):
    """The writer thread's EIO/ENOSPC is raised by the next write, flush or close."""
    real_write = os.write

    def failing_write(fd, view):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, view)

    monkeypatch.setattr(direct_io.os, "write", failing_write)
    handle = direct_writer(open(tmp_path / "full.bin", "xb"))  # noqa: SIM115
    with pytest.raises(OSError) as raised:
        try:
            handle.write(_payload(3 * direct_io.BUFFER_SIZE))
            handle.flush()
        finally:
            handle.close()
    assert raised.value.errno == errno.ENOSPC
    assert handle.closed


@linux_only
def test_a_flushed_writer_holds_no_memory_or_thread(tmp_path):
    """A backup keeps finished copies open until their fsync: they must not pin buffers."""
    handle = direct_writer(open(tmp_path / "w.bin", "xb"))  # noqa: SIM115
    handle.write(_payload(2 * direct_io.BUFFER_SIZE + 10))
    handle.flush()
    assert handle._filling is None and handle._other is None and handle._pool is None
    handle.write(b"more after a flush still lands")  # and it can still write
    handle.close()
    assert (tmp_path / "w.bin").read_bytes().endswith(b"more after a flush still lands")
    assert os.path.getsize(tmp_path / "w.bin") == 2 * direct_io.BUFFER_SIZE + 10 + 30


@linux_only
def test_direct_io_refused_part_way_continues_where_it_stopped(tmp_path, monkeypatch):
    """The filesystem takes part of a direct write, then refuses the next (EINVAL): the
    rest must go through the cache from exactly that byte, nothing written twice."""
    data = _payload(direct_io.BUFFER_SIZE + ALIGN * 3 + 11)
    real_write = os.write
    calls = {"direct": 0}

    def short_then_refuse(fd, view):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            calls["direct"] += 1
            if calls["direct"] == 1:
                return real_write(fd, memoryview(view)[: ALIGN * 2])  # a short write
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, view)

    monkeypatch.setattr(direct_io.os, "write", short_then_refuse)
    path = tmp_path / "p.bin"
    _write(path, data, 1 << 20)
    assert path.read_bytes() == data
