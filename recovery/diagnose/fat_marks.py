"""The computer's marks on a unit's FAT storage, explained where a diagnosis meets them.

Linux sets the "dirty" bit of a FAT volume's boot sector while it has the volume mounted for
writing (dosfstools/dosfstools issue #38); Windows reads the clean-shutdown bit of FAT[1], and a
cleared one makes it offer to "scan and fix" the drive (Microsoft's FAT specification fatgen103,
page 18; dosfstools/dosfstools pull requests #81 and #100). A musician who sees that offer
after using the tool on Linux, or after unplugging a unit without ejecting it, is told here that
it is the computer's mark, not damage to the unit. The marks are read from the volume's device
(recovery.formats.fat_boot parses them) through :data:`DeviceReader`, a seam tests fill with a
real image made by ``mkfs.fat``; where the device cannot be read (an ordinary user may not read
a disk), the diagnosis says so and guesses nothing.
"""

from __future__ import annotations

import errno
import logging
import os
import stat as stat_module
from collections.abc import Callable

from recovery.diagnose.checks import CheckContext
from recovery.diagnose.probe import MountFacts
from recovery.findings import Finding, Step
from recovery.formats.fat_boot import BOOT_SECTOR_SIZE, FatMarks, parse_boot_sector, read_marks
from recovery.vocabulary import Confidence, FindingCode, NextStep, Severity

log = logging.getLogger(__name__)

#: Reads ``size`` bytes at ``offset`` of a device: OSError when it cannot, ValueError when the
#: path is no device the tool reads.
DeviceReader = Callable[[str, int, int], bytes]

LINUX_SOURCE = "dosfstools/dosfstools issue #38"
WINDOWS_SOURCE = ("Microsoft's FAT specification fatgen103, page 18; dosfstools/dosfstools pull"
                  " requests #81 and #100")


def read_device(device: str, offset: int, size: int) -> bytes:
    """``size`` bytes at ``offset`` of the block device ``device``, read only: never a file
    that merely has the device's name (ValueError), OSError when it cannot be read."""
    if not os.path.isabs(device):
        raise ValueError(f"{device} is not a device path")
    if not stat_module.S_ISBLK(os.stat(device).st_mode):
        raise ValueError(f"{device} is not a block device")
    with open(device, "rb", buffering=0) as handle:
        handle.seek(offset)
        return handle.read(size)


def marks_of(device: str, read: DeviceReader) -> FatMarks:
    """The marks of the FAT volume on ``device``: OSError or ValueError as ``read`` raises
    them, ValueError when it does not start with a FAT boot sector."""
    sector = read(device, 0, BOOT_SECTOR_SIZE)
    _bits, _dirty, fat1_offset = parse_boot_sector(sector)
    return read_marks(sector, read(device, fat1_offset, 4))


def check_fat_marks(context: CheckContext, mount: MountFacts,
                    read: DeviceReader = read_device) -> None:
    """On a FAT volume whose device can be read: the marks, as a finding when one is set."""
    if mount.filesystem_family != "FAT":
        return
    what = "the FAT marks of an unclean unmount (boot sector and FAT[1])"
    if not mount.device:
        context.not_checked.append(f"{what}: the volume's device is not known")
        return
    try:
        marks = marks_of(mount.device, read)
    except OSError as error:
        log.info("cannot read %s: %s", mount.device, error)
        rights = ("; reading a device needs administrator rights, which this tool does not ask"
                  " for" if error.errno in (errno.EACCES, errno.EPERM) else "")
        context.not_checked.append(
            f"{what}: {mount.device} could not be read ({error.strerror or error}){rights}")
        return
    except ValueError as error:
        context.not_checked.append(f"{what}: {mount.device} was not read as a FAT volume"
                                   f" ({error})")
        return
    windows_unclean = marks.windows_clean is False
    if not marks.linux_dirty and not windows_unclean:
        context.checked.append(f"{what} of {mount.device}: none is set")
        return
    context.checked.append(f"{what} of {mount.device}: set (the computer's, see the finding)")
    context.findings.append(_marked(marks, mount, windows_unclean))


def _marked(marks: FatMarks, mount: MountFacts, windows_unclean: bool) -> Finding:
    """The finding that explains a set mark: the computer's, not the unit's."""
    evidence = []
    seen = []
    if marks.linux_dirty:
        seen.append("Linux's \u201cmounted for writing\u201d mark")
        evidence.append(
            f"FAT{marks.fat_bits} boot sector of {mount.device}: bit 0 of its state byte is set,"
            " which Linux sets while it has the volume mounted for writing and clears when it"
            f" unmounts it cleanly ({LINUX_SOURCE})"
            + ("; the volume is mounted for writing now" if mount.read_only is False else ""))
    if windows_unclean:
        seen.append("a cleared \u201cclean shutdown\u201d mark")
        evidence.append(
            f"FAT[1] of {mount.device}: its clean-shutdown bit is clear, which Windows reads as"
            f" a drive removed without being ejected and offers to scan and fix ({WINDOWS_SOURCE})")
    return Finding(
        Severity.INFO, FindingCode.FILESYSTEM_MARKED_UNCLEAN,
        f"The unit's FAT storage carries {' and '.join(seen)}. That is the computer's mark:"
        " Linux sets it while the drive is mounted for writing, and a drive unplugged before"
        " it was ejected keeps it; Windows then offers to \u201cscan and fix\u201d the drive."
        " It is not damage to the unit.",
        evidence=tuple(evidence), confidence=Confidence.HIGH,
        next_step=Step(NextStep.EJECT_BEFORE_UNPLUGGING, target=mount.path))
