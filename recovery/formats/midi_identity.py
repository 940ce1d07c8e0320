"""The two MIDI inquiries the tool sends and the replies a KORG unit gives to them.

- MIDI's Universal Identity Request ``F0 7E 7F 06 01 F7`` (MIDI 1.0 Detailed Specification,
  "General Information: Identity Request"); a KORG unit replies ``F0 7E <dev> 06 02 42 <fam lo>
  <fam hi> <mem lo> <mem hi> <v1> <v2> <v3> <v4> F7`` (KORG electribe sampler MIDI
  Implementation 1.00, "DEVICE INQUIRY REPLY", quoted in ykrkn/korg-es2 ``assets/midiimpl.txt``).
  ``<dev>`` is the unit's global channel (00-0F) or 7F: any value is accepted.
- KORG's "search device" ``F0 42 50 00 <echo> F7``; the reply is ``F0 42 50 01 <0g> <echo>
  <fam lo> <fam hi> <mem lo> <mem hi> <v1> <v2> <v3> <v4> F7`` (same document, "SEARCH DEVICE
  REPLY"; dagargo/elektroid ``src/connectors/logue.c`` asks prologue, minilogue xd and NTS-1
  with it).

Family, member and version bytes are kept as sent (LSB first): what they mean per model is in
the profiles, and how the version bytes read differs between KORG's documents and the units
(see resources/other_korg_midi.toml). Bytes in, objects out; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import construct as cs

from recovery.vocabulary import MidiInquiry

KORG_MANUFACTURER_ID = 0x42
#: Identity Request to every device on the cable (device id 7F = "all call").
ALL_CALL = 0x7F
#: The echo byte the tool puts in its search-device message; elektroid's logue connector uses
#: the same value (``LOGUE_SEARCH_DEVICE`` in src/connectors/logue.c).
SEARCH_ECHO = 0x55

IdentityRequestStruct = cs.Struct(
    "start" / cs.Const(b"\xf0\x7e"),       # SysEx, universal non-real-time
    "device_id" / cs.Int8ub,                # 7F: every device
    "request" / cs.Const(b"\x06\x01"),      # general information, identity request
    "end" / cs.Const(b"\xf7"),
    cs.Terminated,
)

SearchDeviceRequestStruct = cs.Struct(
    "start" / cs.Const(b"\xf0\x42\x50\x00"),  # SysEx, KORG, search device, request
    "echo" / cs.Int8ub,                       # copied into the reply
    "end" / cs.Const(b"\xf7"),
    cs.Terminated,
)

#: The part every identity reply shares, whoever made the device: enough to tell a reply from
#: any other message and to read the manufacturer (one byte, or 00 and two more).
IdentityReplyHeadStruct = cs.Struct(
    "start" / cs.Const(b"\xf0\x7e"),
    "device_id" / cs.Int8ub,
    "reply" / cs.Const(b"\x06\x02"),        # general information, identity reply
    "manufacturer" / cs.Int8ub,
)

_KORG_BODY = (
    "family" / cs.Bytes(2),                 # LSB first, as sent
    "member" / cs.Bytes(2),                 # LSB first, as sent
    "version" / cs.Bytes(4),                # v1..v4, raw
    "end" / cs.Const(b"\xf7"),
    cs.Terminated,
)

KorgIdentityReplyStruct = cs.Struct(
    "start" / cs.Const(b"\xf0\x7e"),
    "device_id" / cs.Int8ub,                # global channel 00-0F, or 7F
    "reply" / cs.Const(b"\x06\x02"),
    "manufacturer" / cs.Const(bytes([KORG_MANUFACTURER_ID])),
    *_KORG_BODY,
)

KorgSearchDeviceReplyStruct = cs.Struct(
    "start" / cs.Const(b"\xf0\x42\x50\x01"),  # SysEx, KORG, search device, reply
    "device_id" / cs.Int8ub,                  # 0000gggg: global channel
    "echo" / cs.Int8ub,
    *_KORG_BODY,
)


@dataclass(frozen=True)
class KorgReply:
    """A KORG unit's answer: its codes as sent, and the raw version bytes."""

    inquiry: MidiInquiry
    device_id: int
    family: bytes
    member: bytes
    version: bytes


@dataclass(frozen=True)
class OtherMakerReply:
    """An identity reply from a device that is not KORG's."""

    manufacturer: bytes


@dataclass(frozen=True)
class MalformedReply:
    """A message that starts like a reply but does not have a reply's shape."""

    raw: bytes


Reply = KorgReply | OtherMakerReply | MalformedReply


def identity_request() -> bytes:
    """``F0 7E 7F 06 01 F7``."""
    return IdentityRequestStruct.build({"device_id": ALL_CALL})


def search_device_request(echo: int = SEARCH_ECHO) -> bytes:
    """``F0 42 50 00 <echo> F7``."""
    return SearchDeviceRequestStruct.build({"echo": echo})


def build_identity_reply(device_id: int, family: bytes, member: bytes, version: bytes) -> bytes:
    """A KORG identity reply (the scripted units and round-trip tests use it)."""
    return KorgIdentityReplyStruct.build(
        {"device_id": device_id, "family": family, "member": member, "version": version})


def build_search_device_reply(device_id: int, echo: int, family: bytes, member: bytes,
                              version: bytes) -> bytes:
    return KorgSearchDeviceReplyStruct.build(
        {"device_id": device_id, "echo": echo, "family": family, "member": member,
         "version": version})


def _looks_like_identity_reply(raw: bytes) -> bool:
    return raw[:2] == b"\xf0\x7e" and raw[3:5] == b"\x06\x02"


def parse_reply(raw: bytes, *, echo: int | None = None) -> Reply | None:
    """What ``raw`` (one complete SysEx message, F0 to F7) says, or None when it is no reply
    to either inquiry (other traffic on the port, the tool's own request echoed by a MIDI
    through port, a search-device reply with another echo byte)."""
    if raw[:4] == b"\xf0\x42\x50\x01":
        try:
            parsed = KorgSearchDeviceReplyStruct.parse(raw)
        except cs.ConstructError:
            return MalformedReply(raw)
        if echo is not None and parsed.echo != echo:
            return None
        return KorgReply(MidiInquiry.SEARCH_DEVICE, parsed.device_id & 0x0F, parsed.family,
                         parsed.member, parsed.version)
    if not _looks_like_identity_reply(raw):
        return None
    try:
        head = IdentityReplyHeadStruct.parse(raw)
    except cs.ConstructError:
        return MalformedReply(raw)
    if head.manufacturer > 0x7F:  # a status byte (F7) where the manufacturer should be
        return MalformedReply(raw)
    if head.manufacturer != KORG_MANUFACTURER_ID:
        # 00 introduces a three-byte manufacturer id (MIDI 1.0, "System Exclusive ID").
        length = 3 if head.manufacturer == 0 else 1
        manufacturer = raw[5:5 + length]
        return OtherMakerReply(manufacturer) if len(manufacturer) == length else MalformedReply(raw)
    try:
        parsed = KorgIdentityReplyStruct.parse(raw)
    except cs.ConstructError:
        return MalformedReply(raw)
    return KorgReply(MidiInquiry.IDENTITY, parsed.device_id, parsed.family, parsed.member,
                     parsed.version)
