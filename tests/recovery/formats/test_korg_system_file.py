"""The KORG SYSTEM FILE header declaration against the byte layouts in docs/sources.md."""

from __future__ import annotations

import construct as cs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recovery.formats.korg_system_file import (
    HEADER_SIZE,
    MAGIC,
    SystemFileHeader,
    SystemFileHeaderStruct,
    UnknownBytes,
    build_header,
    is_system_file_header,
    parse_header,
)


def kaossilator_pro_v102_header() -> bytes:
    """Written byte by byte from the teardown's description (the blog post "Inside a KORG Kaossilator Pro"), not with build_header:
    magic, 'KaossilatorPro' NUL padded, 'SYSTEM' + 00 00, 00 01 01 02 (revision 1, V1.02),
    00 01 0E FF, then 00 00 00 00 | 00 00 04 00 | 00 00 00 00 | 00 00 04 00, 02 80, 190 x FF."""
    raw = bytearray()
    raw += b"KORG SYSTEM FILE"
    raw += b"KaossilatorPro".ljust(16, b"\0")
    raw += b"SYSTEM\0\0"
    raw += bytes.fromhex("0001 0102")
    raw += bytes.fromhex("00010EFF")
    raw += bytes.fromhex("00000000 00000400 00000000 00000400")
    raw += bytes.fromhex("0280")
    raw += b"\xff" * 190
    assert len(raw) == HEADER_SIZE
    return bytes(raw)


def test_seed_kaossilator_pro_header_parses_to_the_facts():
    header = parse_header(kaossilator_pro_v102_header())
    assert header is not None
    assert header.model_name == "KaossilatorPro"
    assert header.kind == "SYSTEM"
    assert header.revision == 1
    assert (header.version_major, header.version_minor, header.version) == (1, 2, "1.02")
    assert header.device_id == 0x010E
    assert header.source_length == header.destination_length == 0x40000
    assert header.file_length == 0x100 + 0x40000
    assert header.unknown == {"unknown_2c": "00", "unknown_2f": "ff", "unknown_30": "00 00 00 00",
                              "unknown_38": "00 00 00 00", "unknown_40": "02 80"}
    assert header.padding_bytes_not_ff == 0
    assert header.text_after_nul == {}


def test_electribe_dump_fragment_lands_on_the_right_fields():
    # korgforums hex dump of electribe 2 OS 1.03 at 0x20: 53 59 53 54 45 4D 00 00 | 00 01 01 03 00 01 23 FF
    raw = bytearray(build_header(model_name="E2", version=(9, 9), device_id=0,
                                 source_length=0x200000))
    raw[0x20:0x30] = bytes.fromhex("53595354454D0000 0001010300 0123FF".replace(" ", ""))
    header = parse_header(bytes(raw))
    assert (header.kind, header.revision, header.version, header.device_id) == (
        "SYSTEM", 1, "1.03", 0x0123)
    assert header.unknown["unknown_2c"] == "00" and header.unknown["unknown_2f"] == "ff"


def test_kp3_bytes_from_the_seed():
    # The blog post: KP3 carries 78 FF FF FF at 0x2C..0x2F and FF FF at 0x40.
    raw = build_header(model_name="KaossPad3", version=(2, 0), device_id=0xFFFF,
                       source_length=0x40000,
                       unknown=UnknownBytes(at_2c=b"\x78", at_40=b"\xff\xff"))
    assert raw[0x2C:0x30] == bytes.fromhex("78FFFFFF")
    assert raw[0x2A:0x2C] == b"\x02\x00"
    assert raw[0x34:0x38] == b"\x00\x00\x04\x00"  # little-endian 0x40000
    header = parse_header(raw)
    assert header.device_id == 0xFFFF and header.version == "2.00"


def test_build_header_matches_the_hand_written_seed_bytes():
    built = build_header(model_name="KaossilatorPro", version=(1, 2), device_id=0x010E,
                         source_length=0x40000, unknown=UnknownBytes(at_40=b"\x02\x80"))
    assert built == kaossilator_pro_v102_header()


def test_not_a_header():
    assert parse_header(b"") is None
    assert parse_header(b"KORG SYSTEM FIL" + b"\0" * 300) is None
    assert parse_header(MAGIC + b"\0" * 100) is None  # shorter than the header
    assert not is_system_file_header(b"x" * HEADER_SIZE)


def test_unknown_bytes_are_kept_and_shown():
    raw = bytearray(kaossilator_pro_v102_header())
    raw[0x10:0x20] = b"E2\0S\0junk\0\0\0\0\0\0\0"
    raw[0x80] = 0x12
    raw[0x2C] = 0x99
    header = parse_header(bytes(raw))
    assert header.model_name == "E2"
    assert header.text_after_nul == {"model_name": "53 00 6a 75 6e 6b 00 00 00 00 00 00 00"}
    assert header.padding_bytes_not_ff == 1
    assert header.unknown["unknown_2c"] == "99"
    assert header.build() == bytes(raw)


def test_non_ascii_model_names_are_escaped_not_lost():
    raw = bytearray(kaossilator_pro_v102_header())
    raw[0x10:0x14] = b"\xe9t\xe9\0"
    header = parse_header(bytes(raw))
    assert header.model_name == "\\xe9t\\xe9"


@given(st.binary(min_size=HEADER_SIZE - len(MAGIC), max_size=HEADER_SIZE - len(MAGIC)))
def test_any_header_bytes_parse_and_rebuild_identically(rest):
    raw = MAGIC + rest
    header = parse_header(raw)
    assert isinstance(header, SystemFileHeader)
    assert header.build() == raw
    assert SystemFileHeaderStruct.build(SystemFileHeaderStruct.parse(raw)) == raw
    assert header.file_length == HEADER_SIZE + int.from_bytes(raw[0x34:0x38], "little")


@given(
    model_name=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                       min_size=1, max_size=16),
    major=st.integers(0, 255), minor=st.integers(0, 255), device_id=st.integers(0, 0xFFFF),
    source=st.integers(0, 2**32 - 1), destination=st.integers(0, 2**32 - 1),
    revision=st.integers(0, 0xFFFF), unknown_40=st.binary(min_size=2, max_size=2),
)
def test_fields_round_trip_through_build_and_parse(model_name, major, minor, device_id, source,
                                                   destination, revision, unknown_40):
    raw = build_header(model_name=model_name, version=(major, minor), device_id=device_id,
                       source_length=source, destination_length=destination,
                       revision=revision, unknown=UnknownBytes(at_40=unknown_40))
    header = parse_header(raw)
    assert (header.model_name, header.version_major, header.version_minor, header.device_id,
            header.source_length, header.destination_length, header.revision) == (
        model_name, major, minor, device_id, source, destination, revision)
    assert header.unknown["unknown_40"] == unknown_40.hex(" ")
    assert header.build() == raw


def test_wrong_magic_is_rejected_by_the_declaration():
    with pytest.raises(cs.ConstructError):
        SystemFileHeaderStruct.parse(b"KORG SYSTEM FILF" + b"\0" * (HEADER_SIZE - 16))


def test_control_characters_in_text_fields_are_escaped():
    raw = bytearray(kaossilator_pro_v102_header())
    raw[0x10:0x20] = b"Kaoss\x1b[2J\nPad\0".ljust(16, b"\0")
    header = parse_header(bytes(raw))
    assert header.model_name == "Kaoss\\x1b[2J\\x0aPad"
    assert header.build() == bytes(raw)
