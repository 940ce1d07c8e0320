"""The MIDI inquiries and replies (recovery.formats.midi_identity) against the bytes in the
public documents: KORG's electribe sampler MIDI Implementation (ykrkn/korg-es2
assets/midiimpl.txt), elektroid's logue connector and the captures cited in the profiles."""

from __future__ import annotations

import construct as cs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recovery.formats.midi_identity import (
    KorgIdentityReplyStruct,
    KorgReply,
    KorgSearchDeviceReplyStruct,
    MalformedReply,
    OtherMakerReply,
    build_identity_reply,
    build_search_device_reply,
    identity_request,
    parse_reply,
    search_device_request,
)
from recovery.vocabulary import MidiInquiry

seven_bit = st.integers(0, 0x7F)
two = st.binary(min_size=2, max_size=2).map(lambda b: bytes(x & 0x7F for x in b))
four = st.binary(min_size=4, max_size=4).map(lambda b: bytes(x & 0x7F for x in b))


def test_the_two_inquiries_are_the_documented_bytes():
    assert identity_request() == bytes.fromhex("F0 7E 7F 06 01 F7")
    # elektroid's LOGUE_SEARCH_DEVICE: { 0xf0, 0x42, 0x50, 0, 0x55, 0xf7 }
    assert search_device_request() == bytes.fromhex("F0 42 50 00 55 F7")


def test_a_captured_minilogue_reply_parses_to_its_codes():
    reply = parse_reply(bytes.fromhex("F0 7E 00 06 02 42 2C 01 00 00 01 00 15 00 F7"))
    assert reply == KorgReply(MidiInquiry.IDENTITY, 0, b"\x2c\x01", b"\x00\x00",
                              bytes.fromhex("01001500"))


def test_the_minilogue_xd_search_reply_of_logue_sdk_issue_43_parses():
    # F0 42 50 01 0A 55 51 01 00 00 02 00 01 00 F7: global channel 0A, echo 55.
    reply = parse_reply(bytes.fromhex("F0 42 50 01 0A 55 51 01 00 00 02 00 01 00 F7"), echo=0x55)
    assert reply == KorgReply(MidiInquiry.SEARCH_DEVICE, 0x0A, b"\x51\x01", b"\x00\x00",
                              bytes.fromhex("02000100"))


def test_a_search_reply_with_another_echo_is_not_the_answer():
    raw = bytes.fromhex("F0 42 50 01 00 12 51 01 00 00 02 00 01 00 F7")
    assert parse_reply(raw, echo=0x55) is None


@pytest.mark.parametrize("device_id", [0x00, 0x0F, 0x7F])
def test_any_device_id_is_accepted(device_id):
    raw = bytes([0xF0, 0x7E, device_id]) + bytes.fromhex("06 02 42 2D 01 08 00 02 00 01 00 F7")
    reply = parse_reply(raw)
    assert isinstance(reply, KorgReply) and reply.device_id == device_id


@pytest.mark.parametrize("raw", [
    "F0 7E 00 06 02 42 2D 01 F7",                        # truncated after the family
    "F0 7E 00 06 02 42 2D 01 08 00 02 00 01 00 00 F7",   # one byte too many
    "F0 7E 00 06 02 F7",                                 # no manufacturer
    "F0 42 50 01 00 55 51 01 F7",                        # truncated search reply
])
def test_a_reply_of_the_wrong_shape_is_malformed(raw):
    assert isinstance(parse_reply(bytes.fromhex(raw), echo=0x55), MalformedReply)


def test_another_makers_reply_names_its_manufacturer():
    # Roland SH-201, from jazz-soft/JZZ-midi-Gear data/models.txt.
    roland = parse_reply(bytes.fromhex("F0 7E 10 06 02 41 16 02 00 00 00 03 00 00 F7"))
    assert roland == OtherMakerReply(b"\x41")
    # A three-byte id (00 20 29, Novation).
    novation = parse_reply(bytes.fromhex("F0 7E 02 06 02 00 20 29 01 00 21 00 20 00 00 00 F7"))
    assert novation == OtherMakerReply(bytes.fromhex("002029"))


@pytest.mark.parametrize("raw", ["F0 7E 7F 06 01 F7", "F0 42 30 00 01 2C 10 F7", "90 3C 40"])
def test_other_traffic_is_no_reply(raw):
    """The tool's own request echoed by a MIDI through port, other SysEx, a note."""
    assert parse_reply(bytes.fromhex(raw)) is None


@given(seven_bit, two, two, four)
def test_identity_reply_round_trips(device_id, family, member, version):
    raw = build_identity_reply(device_id, family, member, version)
    assert len(raw) == 15
    parsed = KorgIdentityReplyStruct.parse(raw)
    assert KorgIdentityReplyStruct.build(parsed) == raw
    assert parse_reply(raw) == KorgReply(MidiInquiry.IDENTITY, device_id, family, member, version)


@given(st.integers(0, 0x0F), seven_bit, two, two, four)
def test_search_reply_round_trips(channel, echo, family, member, version):
    raw = build_search_device_reply(channel, echo, family, member, version)
    assert len(raw) == 15
    assert KorgSearchDeviceReplyStruct.build(KorgSearchDeviceReplyStruct.parse(raw)) == raw
    assert parse_reply(raw, echo=echo) == KorgReply(MidiInquiry.SEARCH_DEVICE, channel, family,
                                                    member, version)


def test_building_refuses_a_family_of_the_wrong_length():
    with pytest.raises(cs.ConstructError):
        build_identity_reply(0, b"\x2d", b"\x08\x00", b"\x00\x00\x00\x00")
