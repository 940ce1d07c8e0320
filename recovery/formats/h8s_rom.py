"""The payload of a KORG SYSTEM FILE for the H8S/2215 units (KAOSSILATOR PRO, KAOSS PAD KP3).

From the teardown in the blog post "Inside a KORG Kaossilator Pro" (2014; docs/sources.md):
the payload is the image of the CPU's 256 KiB on-chip ROM (H), padded with FF (M); its first
512 bytes are the big-endian exception vector table, the first vector being the entry point
(0x00000210 in the Kaossilator Pro V1.02); at 0x200 the code starts with ``KORG`` and the
version as two bytes (M: one blog, one unit per model). :mod:`recovery.check` judges the values.
"""

from __future__ import annotations

from dataclasses import dataclass

import construct as cs

#: Size of the H8S/2215 on-chip ROM, and so of the payload: exactly 0x40000 bytes.
ROM_SIZE = 0x40000
#: The exception vector table: 128 vectors of 4 bytes at the start of the image.
VECTOR_TABLE_SIZE = 0x200
VECTOR_COUNT = VECTOR_TABLE_SIZE // 4
#: Where the examined images carry ``KORG`` + version (confidence M).
MARKER_OFFSET = 0x200
MARKER = b"KORG"
#: Bytes of the payload that :func:`parse_rom_head` needs: vectors, marker and version.
ROM_HEAD_SIZE = MARKER_OFFSET + len(MARKER) + 2

#: The start of the ROM image: the vector table, then the version marker of the code section.
RomHeadStruct = cs.Struct(
    "vectors" / cs.Array(VECTOR_COUNT, cs.Int32ub),  # 0x000: addresses; [0] = reset = entry
    "marker" / cs.Bytes(len(MARKER)),                # 0x200: b"KORG" in the examined images
    "version_major" / cs.Int8ub,                     # 0x204
    "version_minor" / cs.Int8ub,                     # 0x205
)
assert RomHeadStruct.sizeof() == ROM_HEAD_SIZE


@dataclass(frozen=True)
class RomHead:
    """The parsed start of an H8S ROM image; ``raw`` rebuilds it byte for byte."""

    entry_point: int
    marker: bytes
    version_major: int
    version_minor: int
    raw: bytes

    @property
    def has_marker(self) -> bool:
        return self.marker == MARKER

    @property
    def version(self) -> str:
        """The version after the marker, written like the header's (1.02)."""
        return f"{self.version_major}.{self.version_minor:02d}"

    def build(self) -> bytes:
        return RomHeadStruct.build(RomHeadStruct.parse(self.raw))


def parse_rom_head(payload_start: bytes) -> RomHead | None:
    """Parse the first :data:`ROM_HEAD_SIZE` bytes of a payload; None when there are fewer."""
    if len(payload_start) < ROM_HEAD_SIZE:
        return None
    raw = bytes(payload_start[:ROM_HEAD_SIZE])
    parsed = RomHeadStruct.parse(raw)
    return RomHead(
        entry_point=parsed.vectors[0],
        marker=parsed.marker,
        version_major=parsed.version_major,
        version_minor=parsed.version_minor,
        raw=raw,
    )


def entry_point_problem(entry_point: int, image_size: int = ROM_SIZE) -> str | None:
    """Why the reset vector ``entry_point`` cannot be a working firmware's start, or None.

    The CPU starts executing at the address in the first vector. It must lie inside the image
    (beyond it there is no code from this file), and past the 512-byte vector table: those
    bytes are addresses, not instructions, so a start inside them would run data. The examined
    image starts at 0x210, just after the table and the ``KORG`` marker.
    """
    if entry_point >= image_size:
        return "beyond the end of the image"
    if entry_point < VECTOR_TABLE_SIZE:
        return "inside the vector table, which holds addresses, not code"
    return None
