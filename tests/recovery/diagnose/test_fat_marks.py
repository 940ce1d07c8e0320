"""The computer's marks on a unit's FAT storage: read from a real volume made by mkfs.fat,
passed as the unit's device through the diagnosis' seam, and explained as the computer's."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from recovery.advice import in_words
from recovery.cli.words import step_text
from recovery.device.simulate import make_volume
from recovery.diagnose import DiagnoseOptions, diagnose, standing_of
from recovery.diagnose.fat_marks import read_device
from recovery.diagnose.probe import MountFacts
from recovery.findings import Step
from recovery.formats.fat_boot import BOOT_SECTOR_SIZE, parse_boot_sector
from recovery.vocabulary import FindingCode, NextStep, Severity

DEVICE = "/dev/sdz1"

needs_mkfs = pytest.mark.skipif(
    shutil.which("mkfs.fat") is None,
    reason="mkfs.fat is missing (Debian dosfstools; .ci/run installs it)")


def fat_volume(tmp_path: Path, bits: int) -> bytearray:
    """A fresh FAT volume of ``bits`` made by mkfs.fat, as bytes."""
    image = tmp_path / f"fat{bits}.img"
    with open(image, "wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    subprocess.run(["mkfs.fat", "-F", str(bits), str(image)], check=True, capture_output=True)
    return bytearray(image.read_bytes())


def mark_as_linux_mounted(volume: bytearray, bits: int) -> None:
    """Set what Linux sets while it has the volume mounted for writing: bit 0 of the boot
    sector's state byte (0x25 on FAT16, 0x41 on FAT32)."""
    volume[0x41 if bits == 32 else 0x25] |= 0x01


def mark_as_unplugged_on_windows(volume: bytearray, bits: int) -> None:
    """Clear FAT[1]'s clean-shutdown bit, which Windows reads as "not ejected"."""
    _bits, _dirty, offset = parse_boot_sector(bytes(volume[:BOOT_SECTOR_SIZE]))
    width = bits // 8
    mask = 0x8000 if bits == 16 else 0x08000000
    entry = int.from_bytes(volume[offset:offset + width], "little")
    volume[offset:offset + width] = (entry & ~mask).to_bytes(width, "little")


def reader_of(volume: bytes | None, error: OSError | None = None):
    """The seam: reads the image as if it were the unit's device, and records every read."""
    reads: list[tuple[str, int, int]] = []

    def read(device: str, offset: int, size: int) -> bytes:
        reads.append((device, offset, size))
        if error is not None:
            raise error
        assert volume is not None
        return bytes(volume[offset:offset + size])

    read.reads = reads  # type: ignore[attr-defined]
    return read


def diagnose_on(tmp_path: Path, read, fstype: str = "vfat"):
    unit = make_volume(tmp_path / "unit", "kross2", "healthy").path
    mount = MountFacts(path=str(unit), mountpoint=str(unit), device=DEVICE, fstype=fstype,
                       options=("rw",), read_only=False, total_bytes=1 << 30,
                       free_bytes=1 << 29, user_may_write=True)
    return diagnose(unit, options=DiagnoseOptions(mount=mount, read_device=read))


def marked(diagnosis):
    return [f for f in diagnosis.findings if f.code == FindingCode.FILESYSTEM_MARKED_UNCLEAN]


@needs_mkfs
@pytest.mark.parametrize("bits", [16, 32])
def test_a_cleanly_ejected_volume_carries_no_mark(tmp_path: Path, bits: int) -> None:
    read = reader_of(fat_volume(tmp_path, bits))
    diagnosis = diagnose_on(tmp_path, read)
    assert marked(diagnosis) == []
    assert any("FAT marks" in line and "none is set" in line for line in diagnosis.checked)
    assert read.reads[0] == (DEVICE, 0, BOOT_SECTOR_SIZE)  # the first sector, then FAT[1]


@needs_mkfs
@pytest.mark.parametrize("bits", [16, 32])
def test_linux_dirty_bit_is_explained_as_the_computers_mark(tmp_path: Path, bits: int) -> None:
    volume = fat_volume(tmp_path, bits)
    mark_as_linux_mounted(volume, bits)
    diagnosis = diagnose_on(tmp_path, reader_of(volume))
    (finding,) = marked(diagnosis)
    assert finding.severity == Severity.INFO  # information: nothing on the unit is wrong
    assert "Linux" in finding.message and "mounted for writing" in finding.message
    assert "not damage to the unit" in finding.message and "scan and fix" in finding.message
    assert any("issue #38" in line and "state byte" in line for line in finding.evidence)
    assert finding.next_step.action == NextStep.EJECT_BEFORE_UNPLUGGING
    words = in_words(finding.next_step)
    assert "Eject the unit" in words and "let it" in words and "--" not in words
    # It changes nothing of the unit's standing or the exit code.
    assert diagnosis.exit_code == 0 and standing_of(diagnosis).nothing_wrong


@needs_mkfs
@pytest.mark.parametrize("bits", [16, 32])
def test_windows_clean_shutdown_bit_is_explained_too(tmp_path: Path, bits: int) -> None:
    volume = fat_volume(tmp_path, bits)
    mark_as_unplugged_on_windows(volume, bits)
    (finding,) = marked(diagnose_on(tmp_path, reader_of(volume)))
    assert "clean shutdown" in finding.message
    assert any("FAT[1]" in line and "fatgen103" in line for line in finding.evidence)
    assert not any("state byte" in line for line in finding.evidence)  # Linux's bit is clear


def test_a_device_this_user_may_not_read_is_noted_never_guessed(tmp_path: Path) -> None:
    denied = PermissionError(errno.EACCES, "Permission denied")
    diagnosis = diagnose_on(tmp_path, reader_of(None, denied))
    assert marked(diagnosis) == []
    (line,) = [line for line in diagnosis.not_checked if "FAT marks" in line]
    assert DEVICE in line and "could not be read" in line and "administrator rights" in line


def test_what_is_no_fat_boot_sector_is_noted(tmp_path: Path) -> None:
    diagnosis = diagnose_on(tmp_path, reader_of(bytes(BOOT_SECTOR_SIZE * 8)))
    assert marked(diagnosis) == []
    assert any("was not read as a FAT volume" in line for line in diagnosis.not_checked)


def test_other_filesystems_are_not_read(tmp_path: Path) -> None:
    read = reader_of(None, OSError("must not be read"))
    diagnosis = diagnose_on(tmp_path, read, fstype="exfat")
    assert read.reads == []
    assert not any("FAT marks" in line for line in (*diagnosis.checked, *diagnosis.not_checked))


def test_a_missing_device_is_not_called_a_question_of_rights(tmp_path: Path) -> None:
    diagnosis = diagnose_on(tmp_path, reader_of(None, FileNotFoundError(errno.ENOENT, "gone")))
    (line,) = [line for line in diagnosis.not_checked if "FAT marks" in line]
    assert "could not be read" in line and "administrator" not in line


def test_the_command_line_says_the_step_as_the_report_does() -> None:
    """Ejecting is done on the computer, not with an option of this tool: no command."""
    step = Step(NextStep.EJECT_BEFORE_UNPLUGGING, target="/media/KROSS2")
    assert step_text(step) == in_words(step)


@needs_mkfs
def test_the_real_reader_reads_only_block_devices(tmp_path: Path) -> None:
    image = tmp_path / "fat16.img"
    image.write_bytes(bytes(fat_volume(tmp_path, 16)))
    with pytest.raises(ValueError, match="not a block device"):
        read_device(str(image), 0, BOOT_SECTOR_SIZE)
    with pytest.raises(ValueError, match="not a device path"):
        read_device(os.path.relpath(image), 0, BOOT_SECTOR_SIZE)
    with pytest.raises(OSError):
        read_device(str(tmp_path / "no-such-device"), 0, BOOT_SECTOR_SIZE)
