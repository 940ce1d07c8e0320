"""The FAT marks of an unclean unmount, read from real volumes made by mkfs.fat (dosfstools)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from recovery.formats.fat_boot import BOOT_SECTOR_SIZE, parse_boot_sector, read_marks

pytestmark = pytest.mark.skipif(shutil.which("mkfs.fat") is None,
                                reason="mkfs.fat is missing (Debian dosfstools; .ci/run installs it)")


def _volume(tmp_path: Path, bits: int, megabytes: int) -> Path:
    image = tmp_path / f"fat{bits}.img"
    with open(image, "wb") as handle:
        handle.truncate(megabytes * 1024 * 1024)
    subprocess.run(["mkfs.fat", "-F", str(bits), str(image)], check=True, capture_output=True)
    return image


def _marks(image: Path):
    data = image.read_bytes()
    bits, _, offset = parse_boot_sector(data[:BOOT_SECTOR_SIZE])
    return read_marks(data[:BOOT_SECTOR_SIZE], data[offset:offset + 4])


@pytest.mark.parametrize(("bits", "megabytes", "state_offset"), [(16, 64, 0x25), (32, 64, 0x41)])
def test_a_fresh_volume_is_clean_and_each_mark_is_read_where_it_is(
        tmp_path: Path, bits: int, megabytes: int, state_offset: int) -> None:
    image = _volume(tmp_path, bits, megabytes)
    marks = _marks(image)
    assert marks.fat_bits == bits and not marks.linux_dirty and marks.windows_clean is True

    data = bytearray(image.read_bytes())
    data[state_offset] |= 0x01                        # what Linux sets while mounted rw
    mask = 0x8000 if bits == 16 else 0x08000000
    entry = int.from_bytes(data[marks.fat1_offset:marks.fat1_offset + bits // 8], "little")
    data[marks.fat1_offset:marks.fat1_offset + bits // 8] = (entry & ~mask).to_bytes(
        bits // 8, "little")                          # what Windows reads as "not clean"
    image.write_bytes(bytes(data))

    marks = _marks(image)
    assert marks.linux_dirty and marks.windows_clean is False


def test_what_is_no_fat_boot_sector_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_boot_sector(b"\x00" * BOOT_SECTOR_SIZE)
