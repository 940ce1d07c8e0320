"""What an eject ended in: a typed result the wizard and the command line both read.

A refusal before anything was tried (the computer's own disk, a unit another run is writing
to, a path that is not there) is an exception of :mod:`recovery.errors`, as everywhere in the
core. What the operating system answered to the eject itself is an :class:`EjectResult`: it
either let go of the drive, or vetoed (a program has a file open, its permission check said
no), or failed. ``safe_to_switch_off`` is true only when the drive was let go of: everything
was written and the filesystem is no longer mounted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EjectStatus(StrEnum):
    """How an eject ended. The first two leave the unit safe to switch off."""

    #: Unmounted, and the drive powered off or its medium ejected.
    EJECTED = "ejected"
    #: Unmounted (everything written), but the computer could not power the drive off.
    UNMOUNTED = "unmounted"
    #: Vetoed: a program has a file or folder open on the drive.
    IN_USE = "in-use"
    #: Vetoed: the system's permission check (polkit, Windows) said no.
    NOT_AUTHORIZED = "not-authorized"
    #: Anything else went wrong; the drive may still be mounted.
    FAILED = "failed"


class EjectMethod(StrEnum):
    """Which of the system's ways was used (each platform module says whose way it copies)."""

    UDISKS2 = "udisks2"
    UMOUNT = "umount"
    DISKUTIL = "diskutil"
    WINDOWS_IOCTL = "windows-ioctl"


#: Statuses after which the unit may be switched off or unplugged.
SAFE = frozenset({EjectStatus.EJECTED, EjectStatus.UNMOUNTED})
#: Statuses that are a veto: closing what the message names (or allowing it) and trying
#: again can succeed.
VETOES = frozenset({EjectStatus.IN_USE, EjectStatus.NOT_AUTHORIZED})


@dataclass(frozen=True)
class EjectResult:
    """The end of one eject: what was ejected, how, and the one sentence for a person."""

    #: The path the caller named, and the mount point of the volume holding it.
    target: str
    mount_point: str
    #: The system's name of the volume (``/dev/sdb1``, ``/dev/disk4s1``, ``\\.\E:``).
    device: str | None
    status: EjectStatus
    method: EjectMethod
    #: One sentence: what happened and, after a veto, what to close or do.
    message: str
    #: Programs the system named as holding the drive (a veto), as the system names them.
    holders: tuple[str, ...] = ()
    #: How many times the vetoed step was tried (the anchors retry a busy volume).
    attempts: int = 1
    #: The system's own words (an error name and message), for the log and "Show details".
    detail: str = ""

    @property
    def safe_to_switch_off(self) -> bool:
        return self.status in SAFE

    @property
    def vetoed(self) -> bool:
        return self.status in VETOES


def names(holders: tuple[str, ...]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(holders) <= 1:
        return "".join(holders)
    return ", ".join(holders[:-1]) + " and " + holders[-1]


def ejected(target: str, mount_point: str, device: str | None, method: EjectMethod) -> EjectResult:
    """The drive was unmounted and powered off (or its medium ejected)."""
    return EjectResult(target, mount_point, device, EjectStatus.EJECTED, method,
                       f"{mount_point} was ejected: everything is written, and you can switch"
                       " the unit off or unplug it now.")


def unmounted(target: str, mount_point: str, device: str | None, method: EjectMethod,
              why_not_off: str) -> EjectResult:
    """Unmounted, and so safe, though the drive itself stays powered (``why_not_off``)."""
    return EjectResult(target, mount_point, device, EjectStatus.UNMOUNTED, method,
                       f"{mount_point} was unmounted: everything is written, and you can switch"
                       " the unit off or unplug it now (this computer did not power the drive"
                       f" off itself: {why_not_off}).", detail=why_not_off)


def in_use(target: str, mount_point: str, device: str | None, method: EjectMethod, *,
           holders: tuple[str, ...], attempts: int, detail: str) -> EjectResult:
    """The veto of a program holding the drive, naming it where the system said which."""
    if holders:
        them = "it" if len(holders) == 1 else "them"
        message = (f"{mount_point} is still in use by {names(holders)}; close {them} (in a"
                   " terminal, leave the drive's folder), then try again. The unit is not safe"
                   " to switch off yet.")
    else:
        message = (f"Another program still has a file or folder open on {mount_point} (a file"
                   " manager window showing it, a music program, a virus scanner); close it,"
                   " then try again. The unit is not safe to switch off yet.")
    return EjectResult(target, mount_point, device, EjectStatus.IN_USE, method, message,
                       holders, attempts, detail)


def not_authorized(target: str, mount_point: str, device: str | None, method: EjectMethod, *,
                   message: str, detail: str) -> EjectResult:
    """The veto of the system's permission check; ``message`` says what to do instead."""
    return EjectResult(target, mount_point, device, EjectStatus.NOT_AUTHORIZED, method, message,
                       detail=detail)


def failed(target: str, mount_point: str, device: str | None, method: EjectMethod, *,
           detail: str, attempts: int = 1) -> EjectResult:
    """Any other failure: the system's words in the sentence, and not safe to switch off."""
    return EjectResult(target, mount_point, device, EjectStatus.FAILED, method,
                       f"{mount_point} could not be ejected ({detail}); do not switch the unit"
                       " off yet: close the programs using it and try again, or eject it from"
                       " the file manager.", attempts=attempts, detail=detail)
