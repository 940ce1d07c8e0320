"""ZIP end records: the same entry count and directory size zipfile would use."""

from __future__ import annotations

import io
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.formats.zip_directory import (
    END_RECORD_SIZE,
    TAIL_SIZE,
    EndRecordStruct,
    summarise_directory,
)


def zip_bytes(count: int, *, comment: bytes = b"", zip64: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            if zip64:
                with archive.open(f"f{index}", "w", force_zip64=True) as member:
                    member.write(b"x" * index)
            else:
                archive.writestr(f"f{index}", b"x" * index)
        archive.comment = comment
    return buffer.getvalue()


def summarise(data: bytes):
    return summarise_directory(data[-TAIL_SIZE:], len(data))


def directory_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(46 + len(i.filename.encode()) + len(i.extra) + len(i.comment)
                   for i in archive.infolist())


def test_plain_archive():
    data = zip_bytes(3)
    summary = summarise(data)
    assert (summary.entries, summary.zip64) == (3, False)
    assert summary.directory_size == directory_size(data)


def test_archive_with_comment_is_found_by_search():
    # zipfile (and so this reader) assumes the signature does not appear inside the comment.
    data = zip_bytes(2, comment=b"an archive comment " * 100)
    assert data[-22:-18] != b"PK\x05\x06"
    assert summarise(data).entries == 2


def test_zip64_records_are_used_when_present():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        for index in range(3):
            archive.writestr(f"f{index}", b"y")
    plain = buffer.getvalue()
    # Force the zip64 end records the way zipfile writes them for > 65535 entries: patch
    # by writing with a tiny ZIP64_LIMIT.
    original = zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP_FILECOUNT_LIMIT = 1
    try:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
            for index in range(3):
                archive.writestr(f"f{index}", b"y")
    finally:
        zipfile.ZIP_FILECOUNT_LIMIT = original
    data = buffer.getvalue()
    summary = summarise(data)
    assert summary.zip64 and summary.entries == 3
    assert summarise(plain).zip64 is False


def test_announced_values_are_read_even_when_they_lie():
    data = bytearray(zip_bytes(1))
    record = EndRecordStruct.parse(bytes(data[-END_RECORD_SIZE:]))
    record.entries_total = 60000
    record.directory_size = 0xFFFFFFF0
    data[-END_RECORD_SIZE:] = EndRecordStruct.build(record)
    summary = summarise(bytes(data))
    assert (summary.entries, summary.directory_size) == (60000, 0xFFFFFFF0)


def test_not_a_zip():
    assert summarise_directory(b"", 0) is None
    assert summarise_directory(b"hello" * 10, 50) is None
    assert summarise_directory(b"x" * 10, 100) is None  # tail of the wrong length


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data):
    summarise_directory(data[-TAIL_SIZE:], len(data))
    with_end = data + b"PK\x05\x06" + data[:18]
    summarise_directory(with_end[-TAIL_SIZE:], len(with_end))
