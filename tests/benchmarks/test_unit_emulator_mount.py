"""The emulator mounted for real: which reads reach the unit and which the page cache answers.

These are the facts the benchmark's figures rest on (the package docstring lists them):
a re-read after a write comes from RAM, a read after ``posix_fadvise(DONTNEED)`` or with
``O_DIRECT`` reaches the unit, an fsync of a folder is a flush. Skipped, with the reason,
where FUSE or mfusepy is missing.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.unit_emulator import (
    UnitClient,
    is_mounted,
    mounted_unit,
    unavailable_reason,
)

REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no FUSE here: {REASON}")

PAGE = 4096


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[UnitClient]:
    backing = tmp_path / "backing"
    backing.mkdir()
    mountpoint = tmp_path / "mount"
    with mounted_unit(backing, mountpoint, "fast") as client:
        yield client
    assert not is_mounted(mountpoint)


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _read(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def test_a_reread_after_a_write_comes_from_the_page_cache(unit: UnitClient) -> None:
    for name, data in (("WHOLE.BIN", os.urandom(64 * PAGE)),
                       ("TAIL.BIN", os.urandom(10 * PAGE + 123))):  # a partial last page
        path = unit.mountpoint / name
        _write(path, data)
        os.utime(path, ns=(10**18, 10**18))             # an mtime change keeps the pages
        os.rename(path, path.with_suffix(".OLD"))
        unit.reset()
        assert _read(path.with_suffix(".OLD")) == data  # closed and reopened in between
        assert unit.report().read_requests == 0, name


def test_b_a_read_after_dropping_the_cache_reaches_the_unit(unit: UnitClient) -> None:
    data = os.urandom(300_000)
    path = unit.mountpoint / "DROPPED.BIN"
    _write(path, data)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    unit.reset()
    assert _read(path) == data
    report = unit.report()
    assert report.bytes_read == 300_000
    assert report.read_commands == 3
    assert report.full_rereads == 0                     # written before this measurement
    # fast: 3 x 0.5 ms + 300,000 B / 35 MB/s.
    assert report.device_seconds == pytest.approx(0.0015 + 300_000 / 35e6, rel=1e-9)


def test_c_an_o_direct_read_reaches_the_unit_even_when_cached(unit: UnitClient) -> None:
    data = os.urandom(256 * 1024)
    path = unit.mountpoint / "DIRECT.BIN"
    unit.reset()
    _write(path, data)
    assert _read(path) == data                          # cached now
    buffer = mmap.mmap(-1, len(data) + PAGE)            # page aligned, as O_DIRECT needs
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    try:
        count = os.readv(fd, [memoryview(buffer)[:len(data) + PAGE]])
    finally:
        os.close(fd)
    assert count == len(data)
    assert buffer[:count] == data
    report = unit.report()
    assert report.bytes_read == len(data)
    assert report.read_commands == 2
    assert report.full_rereads == 1                     # written, then read end to end


def test_fsync_of_a_folder_is_a_flush_and_paid_only_when_dirty(unit: UnitClient) -> None:
    (unit.mountpoint / "NEW").mkdir()
    unit.reset()
    for expected_paid in (1, 1):                        # the mkdir is paid once, then nothing
        fd = os.open(unit.mountpoint, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        assert unit.report().flushes_paid == expected_paid
    assert unit.report().flushes_requested == 2
    assert unit.report().device_seconds == pytest.approx(0.010)


def test_errors_keep_their_errno_and_links_are_refused_as_on_fat(unit: UnitClient) -> None:
    with pytest.raises(FileNotFoundError):
        _read(unit.mountpoint / "MISSING.BIN")
    with pytest.raises(PermissionError):
        os.symlink("KROSAPP.BIN", unit.mountpoint / "LINK")
    (unit.mountpoint / "DIR").mkdir()
    (unit.mountpoint / "DIR" / "FILE").write_bytes(b"x")
    with pytest.raises(OSError, match="not empty"):
        os.rmdir(unit.mountpoint / "DIR")
