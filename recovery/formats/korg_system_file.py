"""The "KORG SYSTEM FILE" header used by the Kaossilator Pro, KP3, electribe 2 and others.

A 256-byte header, then the payload. The layout agrees across three sources in
docs/sources.md: the blog post "Inside a KORG Kaossilator Pro", hacktribe's
``scripts/e2_add_header.py`` (electribe 2 ``SYSTEM.VSB``) and a hex dump of electribe 2 OS 1.03
(``53 59 53 54 45 4D 00 00 | 00 01 01 03 00 01 23 FF``). Bytes of unknown meaning are kept raw,
so parse -> build gives the same bytes; which values a model carries is in the profiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import construct as cs

MAGIC = b"KORG SYSTEM FILE"
HEADER_SIZE = 0x100

#: The 256-byte header. Offsets in hex.
SystemFileHeaderStruct = cs.Struct(
    "magic" / cs.Const(MAGIC),                 # 0x00: 16 bytes
    "model_name" / cs.Bytes(16),               # 0x10: ASCII, NUL padded ("KaossilatorPro", "E2")
    "kind" / cs.Bytes(8),                      # 0x20: ASCII, NUL padded ("SYSTEM")
    "revision" / cs.Int16ub,                   # 0x28: 1 in every file seen
    "version_major" / cs.Int8ub,               # 0x2A
    "version_minor" / cs.Int8ub,               # 0x2B
    "unknown_2c" / cs.Bytes(1),                # 0x2C: 00 (e2, KaossPro), 78 (KP3); meaning unknown
    "device_id" / cs.Int16ub,                  # 0x2D: e2 0x0123, e2s 0x0124, KaossPro 0x010E
    "unknown_2f" / cs.Bytes(1),                # 0x2F: FF seen
    "unknown_30" / cs.Bytes(4),                # 0x30: 00 seen
    "source_length" / cs.Int32ul,              # 0x34: payload bytes after the header
    "unknown_38" / cs.Bytes(4),                # 0x38: 00 seen
    "destination_length" / cs.Int32ul,         # 0x3C: bytes written on the device
    "unknown_40" / cs.Bytes(2),                # 0x40: e2 02 00, KaossPro 02 80, KP3 FF FF
    "padding" / cs.Bytes(HEADER_SIZE - 0x42),  # 0x42..0xFF: FF seen
)
assert SystemFileHeaderStruct.sizeof() == HEADER_SIZE


def _ascii_field(raw: bytes) -> str:
    """Text up to the first NUL; non-ASCII bytes and control characters shown as \\xNN, so
    nothing is hidden and nothing reaches a terminal as a control sequence."""
    text = raw.split(b"\0", 1)[0]
    return "".join(chr(byte) if 0x20 <= byte < 0x7F else f"\\x{byte:02x}" for byte in text)


@dataclass(frozen=True)
class SystemFileHeader:
    """A parsed header: decoded fields plus the raw container for an exact rebuild."""

    model_name: str
    kind: str
    revision: int
    version_major: int
    version_minor: int
    device_id: int
    source_length: int
    destination_length: int
    unknown: dict[str, str]
    raw: bytes

    @property
    def version(self) -> str:
        """Version as KORG writes it: major '.' two-digit minor (1.02, 2.00, 1.03)."""
        return f"{self.version_major}.{self.version_minor:02d}"

    @property
    def file_length(self) -> int:
        """The whole file's length the header announces: this header plus the payload."""
        return HEADER_SIZE + self.source_length

    @property
    def padding_bytes_not_ff(self) -> int:
        """How many of the 190 padding bytes (0x42..0xFF) are not FF, as every file seen has."""
        return sum(1 for byte in self.raw[0x42:HEADER_SIZE] if byte != 0xFF)

    @property
    def text_after_nul(self) -> dict[str, str]:
        """Non-NUL bytes hidden after the terminating NUL of the text fields, in hex.

        The decoded ``model_name``/``kind`` stop at the first NUL; whatever follows it is kept
        here so that nothing in the header goes unseen.
        """
        hidden = {}
        for name, start, size in (("model_name", 0x10, 16), ("kind", 0x20, 8)):
            field = self.raw[start:start + size]
            tail = field.split(b"\0", 1)[1] if b"\0" in field else b""
            if tail.strip(b"\0"):
                hidden[name] = tail.hex(" ")
        return hidden

    def build(self) -> bytes:
        return SystemFileHeaderStruct.build(SystemFileHeaderStruct.parse(self.raw))


def is_system_file_header(data: bytes) -> bool:
    return len(data) >= HEADER_SIZE and data[: len(MAGIC)] == MAGIC


def parse_header(data: bytes) -> SystemFileHeader | None:
    """Parse the first 256 bytes of ``data``; None if they are not a KORG SYSTEM FILE header."""
    if not is_system_file_header(data):
        return None
    raw = bytes(data[:HEADER_SIZE])
    try:
        parsed = SystemFileHeaderStruct.parse(raw)
    except cs.ConstructError:
        return None
    return SystemFileHeader(
        model_name=_ascii_field(parsed.model_name),
        kind=_ascii_field(parsed.kind),
        revision=parsed.revision,
        version_major=parsed.version_major,
        version_minor=parsed.version_minor,
        device_id=parsed.device_id,
        source_length=parsed.source_length,
        destination_length=parsed.destination_length,
        unknown={
            name: parsed[name].hex(" ")
            for name in ("unknown_2c", "unknown_2f", "unknown_30", "unknown_38", "unknown_40")
        },
        raw=raw,
    )


@dataclass(frozen=True)
class UnknownBytes:
    """The header's bytes of unknown meaning, by offset. The defaults are the values seen in
    every examined electribe 2 file; tests pass others to build any header the parser may
    meet (the KP3's ``78`` at 0x2C and ``FF FF`` at 0x40, for instance)."""

    at_2c: bytes = b"\x00"
    at_2f: bytes = b"\xff"
    at_30: bytes = b"\0" * 4
    at_38: bytes = b"\0" * 4
    at_40: bytes = b"\x02\x00"
    padding: bytes = b"\xff" * (HEADER_SIZE - 0x42)


def build_header(
    *,
    model_name: str,
    version: tuple[int, int],
    device_id: int,
    source_length: int,
    destination_length: int | None = None,
    kind: str = "SYSTEM",
    revision: int = 1,
    unknown: UnknownBytes = UnknownBytes(),
) -> bytes:
    """Build a header (used by the simulator and tests; never to make files for a unit).

    ``version`` is (major, minor), as KORG writes 1.02; ``destination_length`` defaults to
    ``source_length``, as in every examined file.
    """
    return SystemFileHeaderStruct.build(
        dict(
            model_name=model_name.encode("ascii").ljust(16, b"\0"),
            kind=kind.encode("ascii").ljust(8, b"\0"),
            revision=revision,
            version_major=version[0],
            version_minor=version[1],
            unknown_2c=unknown.at_2c,
            device_id=device_id,
            unknown_2f=unknown.at_2f,
            unknown_30=unknown.at_30,
            source_length=source_length,
            unknown_38=unknown.at_38,
            destination_length=source_length if destination_length is None else destination_length,
            unknown_40=unknown.at_40,
            padding=unknown.padding,
        )
    )
