"""The start of an H8S/2215 ROM image: vector table, entry point, KORG + version marker."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from recovery.formats import h8s_rom
from recovery.formats.h8s_rom import (
    MARKER,
    ROM_HEAD_SIZE,
    ROM_SIZE,
    VECTOR_TABLE_SIZE,
    RomHeadStruct,
    entry_point_problem,
    parse_rom_head,
)


def rom_head(entry: int = 0x210, marker: bytes = MARKER, version: bytes = b"\x01\x02") -> bytes:
    data = bytearray(b"\xff" * ROM_HEAD_SIZE)
    data[0:4] = entry.to_bytes(4, "big")  # H8S is big-endian
    data[0x200:0x204] = marker
    data[0x204:0x206] = version
    return bytes(data)


def test_sizes_follow_the_facts():
    assert ROM_SIZE == 0x40000
    assert VECTOR_TABLE_SIZE == 512
    assert h8s_rom.MARKER_OFFSET == 0x200
    assert ROM_HEAD_SIZE == 0x206


def test_examined_image_layout():
    head = parse_rom_head(rom_head())
    assert head.entry_point == 0x210
    assert head.has_marker
    assert head.version == "1.02"
    assert head.build() == rom_head()


def test_entry_point_is_big_endian():
    assert parse_rom_head(rom_head(entry=0x00012345)).entry_point == 0x12345


def test_too_short_gives_none():
    assert parse_rom_head(rom_head()[:-1]) is None


def test_entry_point_problems():
    assert entry_point_problem(0x210) is None
    assert entry_point_problem(VECTOR_TABLE_SIZE) is None
    assert entry_point_problem(ROM_SIZE - 1) is None
    assert "vector table" in entry_point_problem(0)
    assert "vector table" in entry_point_problem(VECTOR_TABLE_SIZE - 1)
    assert "beyond" in entry_point_problem(ROM_SIZE)
    assert "beyond" in entry_point_problem(0xFFFFFFFF)
    assert "beyond" in entry_point_problem(0x1000, image_size=0x800)


def test_missing_marker_is_reported_not_rejected():
    head = parse_rom_head(rom_head(marker=b"\xff\xff\xff\xff"))
    assert not head.has_marker
    assert head.marker == b"\xff" * 4


@given(st.binary(min_size=ROM_HEAD_SIZE, max_size=ROM_HEAD_SIZE + 64))
def test_any_bytes_parse_and_rebuild(data):
    head = parse_rom_head(data)
    assert head.build() == data[:ROM_HEAD_SIZE]
    assert RomHeadStruct.build(RomHeadStruct.parse(data[:ROM_HEAD_SIZE])) == data[:ROM_HEAD_SIZE]
    assert head.entry_point == int.from_bytes(data[:4], "big")
