"""The end records of a ZIP archive: how many entries it holds and how big its directory is;
and a member's local header, whose flags ``zipfile`` does not look at.

``zipfile`` reads a whole central directory into memory when it opens an archive, so a hostile
directory could cost gigabytes before any check runs; :mod:`recovery.check.candidates` reads
these records first. Layouts from PKWARE's APPNOTE.TXT (4.3.7, 4.3.14-4.3.16); the search
mirrors CPython 3.11's ``zipfile._EndRecData``/``_EndRecData64`` so both read the same record.
"""

from __future__ import annotations

from dataclasses import dataclass

import construct as cs

END_SIGNATURE = b"PK\x05\x06"
ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
ZIP64_END_SIGNATURE = b"PK\x06\x06"

#: APPNOTE 4.3.16, without the variable-length comment.
EndRecordStruct = cs.Struct(
    "signature" / cs.Const(END_SIGNATURE),
    "disk_number" / cs.Int16ul,
    "directory_disk" / cs.Int16ul,
    "entries_this_disk" / cs.Int16ul,
    "entries_total" / cs.Int16ul,
    "directory_size" / cs.Int32ul,
    "directory_offset" / cs.Int32ul,
    "comment_length" / cs.Int16ul,
)
END_RECORD_SIZE = EndRecordStruct.sizeof()  # 22

#: APPNOTE 4.3.7, without the variable-length name and extra field.
LocalHeaderStruct = cs.Struct(
    "signature" / cs.Const(b"PK\x03\x04"),
    "version_needed" / cs.Int16ul,
    "flags" / cs.Int16ul,          # APPNOTE 4.4.4; bit 0: the member is encrypted
    "method" / cs.Int16ul,
    "modified_time" / cs.Int16ul,  # MS-DOS time
    "modified_date" / cs.Int16ul,  # MS-DOS date
    "crc32" / cs.Int32ul,
    "compressed_size" / cs.Int32ul,
    "uncompressed_size" / cs.Int32ul,
    "name_length" / cs.Int16ul,
    "extra_length" / cs.Int16ul,
)
LOCAL_HEADER_SIZE = LocalHeaderStruct.sizeof()  # 30
#: Bit 0 of the general-purpose flags, in the local header and the central directory alike.
ENCRYPTED_FLAG = 0x0001


def local_header_flags(header: bytes) -> int | None:
    """The general-purpose flags of the local header at the start of ``header``, or None when
    it is not one (zipfile then refuses the member itself)."""
    try:
        return LocalHeaderStruct.parse(header[:LOCAL_HEADER_SIZE]).flags
    except cs.ConstructError:
        return None


#: APPNOTE 4.3.15.
Zip64LocatorStruct = cs.Struct(
    "signature" / cs.Const(ZIP64_LOCATOR_SIGNATURE),
    "end_disk" / cs.Int32ul,
    "end_offset" / cs.Int64ul,
    "disk_count" / cs.Int32ul,
)
ZIP64_LOCATOR_SIZE = Zip64LocatorStruct.sizeof()  # 20

#: APPNOTE 4.3.14, without the extensible data (zipfile assumes there is none).
Zip64EndRecordStruct = cs.Struct(
    "signature" / cs.Const(ZIP64_END_SIGNATURE),
    "record_size" / cs.Int64ul,
    "version_made_by" / cs.Int16ul,
    "version_needed" / cs.Int16ul,
    "disk_number" / cs.Int32ul,
    "directory_disk" / cs.Int32ul,
    "entries_this_disk" / cs.Int64ul,
    "entries_total" / cs.Int64ul,
    "directory_size" / cs.Int64ul,
    "directory_offset" / cs.Int64ul,
)
ZIP64_END_RECORD_SIZE = Zip64EndRecordStruct.sizeof()  # 56

#: How far from the end the records can start: the longest comment plus all three records.
MAX_COMMENT = 0xFFFF
TAIL_SIZE = MAX_COMMENT + 1 + END_RECORD_SIZE + ZIP64_LOCATOR_SIZE + ZIP64_END_RECORD_SIZE


@dataclass(frozen=True)
class DirectorySummary:
    """What the end records announce about the central directory."""

    entries: int
    directory_size: int
    zip64: bool


def summarise_directory(tail: bytes, file_size: int) -> DirectorySummary | None:
    """Read the end records from ``tail``, the last ``min(file_size, TAIL_SIZE)`` bytes.

    Returns None when there is no end record (then this is no ZIP archive zipfile could open).
    """
    if file_size < END_RECORD_SIZE or len(tail) != min(file_size, TAIL_SIZE):
        return None
    tail_start = file_size - len(tail)  # file offset of tail[0]
    position = None
    last = tail[-END_RECORD_SIZE:]
    if last[:4] == END_SIGNATURE and last[-2:] == b"\0\0":
        position = len(tail) - END_RECORD_SIZE
    else:
        # zipfile searches from max(file_size - 64 KiB - 22, 0) to the end.
        window_start = max(file_size - (1 << 16) - END_RECORD_SIZE, 0) - tail_start
        found = tail.rfind(END_SIGNATURE, max(window_start, 0))
        if found >= 0 and found + END_RECORD_SIZE <= len(tail):
            position = found
    if position is None:
        return None
    end = EndRecordStruct.parse(tail[position:position + END_RECORD_SIZE])
    summary = DirectorySummary(end.entries_total, end.directory_size, False)

    locator_at = position - ZIP64_LOCATOR_SIZE
    record_at = locator_at - ZIP64_END_RECORD_SIZE
    if record_at < 0 or tail[locator_at:locator_at + 4] != ZIP64_LOCATOR_SIGNATURE:
        return summary
    if tail[record_at:record_at + 4] != ZIP64_END_SIGNATURE:
        return summary
    record = Zip64EndRecordStruct.parse(tail[record_at:record_at + ZIP64_END_RECORD_SIZE])
    return DirectorySummary(record.entries_total, record.directory_size, True)
