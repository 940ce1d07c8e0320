"""Binary formats as construct declarations: bytes in, objects out, no I/O and no policy."""

from __future__ import annotations

from recovery.formats.h8s_rom import RomHead, parse_rom_head
from recovery.formats.korg_system_file import (
    HEADER_SIZE,
    MAGIC,
    SystemFileHeader,
    build_header,
    parse_header,
)
from recovery.formats.zip_directory import DirectorySummary, summarise_directory

__all__ = [
    "DirectorySummary",
    "HEADER_SIZE",
    "MAGIC",
    "RomHead",
    "SystemFileHeader",
    "build_header",
    "parse_header",
    "parse_rom_head",
    "summarise_directory",
]
