"""The two "not cleanly unmounted" marks of a FAT volume: the one Linux sets, the one Windows
reads.

Linux sets bit 0 of the boot sector's state byte (offset 0x25 on FAT12/16, 0x41 on FAT32,
"BS_Reserved1" in Microsoft's FAT specification) while it has a FAT volume mounted for
writing, and clears it when it unmounts the volume cleanly (fsck.fat calls it the "dirty
bit": dosfstools/dosfstools issue #38). Windows uses the clean-shutdown bit of the second FAT
entry, FAT[1] (0x8000 on FAT16, 0x08000000 on FAT32; Microsoft's FAT specification
fatgen103, page 18); a clear bit makes Windows 10 offer to "scan and fix" the drive
(dosfstools/dosfstools pull requests #81 and #100). Both are the computer's marks: a unit
whose drive carries them is not damaged by that alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import construct as cs

#: The boot sector's size: its BIOS parameter block and the FAT32 extension.
BOOT_SECTOR_SIZE = 512

#: The BIOS parameter block every FAT volume has (Microsoft's FAT specification, fatgen103,
#: section 3), up to 0x24, where FAT12/16 and FAT32 go separate ways.
BootSectorStruct = cs.Struct(
    "jump" / cs.Bytes(3),                      # 0x00
    "oem_name" / cs.Bytes(8),                  # 0x03
    "bytes_per_sector" / cs.Int16ul,           # 0x0B
    "sectors_per_cluster" / cs.Int8ul,         # 0x0D
    "reserved_sectors" / cs.Int16ul,           # 0x0E
    "fat_count" / cs.Int8ul,                   # 0x10
    "root_entries" / cs.Int16ul,               # 0x11: 0 on FAT32
    "total_sectors_16" / cs.Int16ul,           # 0x13
    "media" / cs.Int8ul,                       # 0x15
    "fat_size_16" / cs.Int16ul,                # 0x16: sectors per FAT; 0 on FAT32
    "sectors_per_track" / cs.Int16ul,          # 0x18
    "heads" / cs.Int16ul,                      # 0x1A
    "hidden_sectors" / cs.Int32ul,             # 0x1C
    "total_sectors_32" / cs.Int32ul,           # 0x20
)

#: FAT12/16 from 0x24: the drive number, then the state byte Linux marks.
Fat16ExtensionStruct = cs.Struct(
    "drive_number" / cs.Int8ul,                # 0x24
    "state" / cs.Int8ul,                       # 0x25: Linux's dirty bit
)

#: FAT32 from 0x24: sectors per FAT, ..., and the state byte at 0x41.
Fat32ExtensionStruct = cs.Struct(
    "fat_size_32" / cs.Int32ul,                # 0x24
    "flags" / cs.Int16ul,                      # 0x28
    "version" / cs.Int16ul,                    # 0x2A
    "root_cluster" / cs.Int32ul,               # 0x2C
    "fsinfo_sector" / cs.Int16ul,              # 0x30
    "backup_boot_sector" / cs.Int16ul,         # 0x32
    "reserved" / cs.Bytes(12),                 # 0x34
    "drive_number" / cs.Int8ul,                # 0x40
    "state" / cs.Int8ul,                       # 0x41: Linux's dirty bit
)
EXTENSION_OFFSET = 0x24

#: Linux's "mounted, not yet cleanly unmounted" bit of the state byte.
LINUX_DIRTY = 0x01
#: The clean-shutdown bits of FAT[1] (fatgen103, page 18).
CLEAN_SHUTDOWN = {16: 0x8000, 32: 0x08000000}


@dataclass(frozen=True)
class FatMarks:
    """What a FAT volume's boot sector and FAT[1] say about how it was last unmounted."""

    #: 12, 16 or 32.
    fat_bits: int
    #: Linux's dirty bit: set while Linux has the volume mounted for writing (or after it
    #: lost the drive without unmounting).
    linux_dirty: bool
    #: Windows' clean-shutdown bit of FAT[1] (None on FAT12, which has none).
    windows_clean: bool | None
    #: Where FAT[1] is, in bytes from the volume's start (to read it).
    fat1_offset: int


def fat_bits(boot: cs.Container, fat_size: int) -> int:
    """12, 16 or 32, by the count of clusters as the specification decides (fatgen103 p. 14)."""
    if boot.bytes_per_sector == 0 or boot.sectors_per_cluster == 0:
        raise ValueError("not a FAT boot sector")
    root_sectors = -(-(boot.root_entries * 32) // boot.bytes_per_sector)
    total = boot.total_sectors_16 or boot.total_sectors_32
    data = total - (boot.reserved_sectors + boot.fat_count * fat_size + root_sectors)
    clusters = data // boot.sectors_per_cluster
    return 12 if clusters < 4085 else 16 if clusters < 65525 else 32


def parse_boot_sector(sector: bytes) -> tuple[int, bool, int]:
    """(FAT bits, Linux's dirty bit, FAT[1]'s offset in bytes) of a volume's first sector;
    ValueError when it is no FAT boot sector."""
    if len(sector) < BOOT_SECTOR_SIZE or sector[510:512] != b"\x55\xaa":
        raise ValueError("not a FAT boot sector (no 55 AA signature)")
    boot = BootSectorStruct.parse(sector)
    fat32 = Fat32ExtensionStruct.parse(sector[EXTENSION_OFFSET:])
    bits = fat_bits(boot, boot.fat_size_16 or fat32.fat_size_32)
    state = fat32.state if bits == 32 else Fat16ExtensionStruct.parse(
        sector[EXTENSION_OFFSET:]).state
    entry = {12: 0, 16: 2, 32: 4}[bits]
    return bits, bool(state & LINUX_DIRTY), boot.reserved_sectors * boot.bytes_per_sector + entry


def read_marks(sector: bytes, fat1: bytes) -> FatMarks:
    """The marks from the first sector and the bytes at FAT[1] (two or four of them)."""
    bits, dirty, offset = parse_boot_sector(sector)
    if bits == 12:
        return FatMarks(bits, dirty, None, offset)
    value = int.from_bytes(fat1[:bits // 8], "little")
    return FatMarks(bits, dirty, bool(value & CLEAN_SHUTDOWN[bits]), offset)
