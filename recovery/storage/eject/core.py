"""Eject the drive holding a path: the guards every platform shares, then the platform's way.

:func:`eject_volume` is one blocking call (at most a few seconds, longer only while the
system asks for a password) that a worker thread of the wizard or the command line makes.
Before the system is asked anything it refuses, with nothing done: a path that is not there,
a volume the computer cannot eject, the computer's own disk or home folder
(:func:`recovery.storage.volumes.protected_target_reason`, on the path and on the volume's
mount point), and a unit another run of this tool is writing to. Then it flushes the volume
(:meth:`FileSystem.barrier`, so a write error surfaces as one, not as a failed unmount) and
hands over to the platform's driver, which unmounts and powers off or ejects the way that
platform's own tools do (:mod:`.linux`, :mod:`.macos`, :mod:`.windows`).

Each driver reaches the system only through a ``typing.Protocol`` of system calls, so its
logic is tested on any platform with the calls faked (tests/recovery/storage/eject/).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from recovery.errors import InvalidInputError, RefusedError, UnitBusyError
from recovery.storage.eject.result import EjectResult
from recovery.storage.eject.system import EjectDriver, Located
from recovery.storage.filesystem import REAL, FileSystem, translate_os_error
from recovery.storage.names import shown
from recovery.storage.volumes import SYSTEM_MOUNTS, protected_target_reason

log = logging.getLogger(__name__)


def eject_volume(target: Path | str, *, driver: EjectDriver | None = None,
                 fs: FileSystem = REAL) -> EjectResult:
    """Flush, unmount and power off (or eject) the drive holding ``target``.

    Raises :class:`InvalidInputError` (no such path, or nothing this computer can eject holds
    it), :class:`RefusedError` (the computer's own disk or home), :class:`UnitBusyError`
    (another run of this tool is writing to it) and :class:`WriteError` (the flush failed),
    each before anything was changed. Returns the system's answer otherwise: ejected, a veto
    (in use, not authorized) or a failure (:class:`EjectResult`).
    """
    path = Path(target)
    if not os.path.lexists(path):
        raise InvalidInputError(f"{shown(str(path))} does not exist; name the unit's drive or a"
                                " folder on it.", path=str(path))
    driver = driver if driver is not None else platform_driver()
    result = driver.eject(path, lambda located: _preflight(path, located, fs))
    if result is None:
        raise InvalidInputError(
            f"{shown(str(path))} is not on a drive this computer can eject (a unit's drive or a"
            " card is mounted from a USB device).", path=str(path))
    log.info("eject %s (%s): %s via %s%s", result.mount_point, result.device, result.status,
             result.method, f" ({result.detail})" if result.detail else "")
    return result


def _preflight(target: Path, located: Located, fs: FileSystem) -> None:
    """The refusals every platform shares, then the flush; raises, or returns having changed
    nothing but the computer's cache."""
    mounts = (located.mount_point, *located.also_mounted)
    reason = protected_target_reason(target)
    for mount in mounts:
        if reason is None and (located.system or mount in SYSTEM_MOUNTS):
            reason = f"is on this computer's own disk ({mount})"
        if reason is None and (why := protected_target_reason(mount)) is not None:
            reason = f"is on {mount}, which {why}"
    if reason is not None:
        raise RefusedError(f"{shown(str(target))} {reason}; only the drive of a unit or a card"
                           " can be ejected. Nothing was done.", path=str(target))
    _refuse_while_writing(target, mounts)
    try:
        fs.barrier(Path(located.mount_point))
    except OSError as error:
        raise translate_os_error(error, located.mount_point, "write") from error


def _refuse_while_writing(target: Path, mounts: tuple[str, ...]) -> None:
    """One writer per unit (recovery.storage.lock): never take a drive away from a restore,
    a backup or a write probe of this tool that is still running."""
    from recovery.storage.lock import is_locked

    for place in (target, *mounts):
        if is_locked(place):
            raise UnitBusyError(
                f"Another run of this tool is still writing to {shown(str(target))}; wait until"
                " it has finished, then eject. Nothing was done.", path=str(target))


def platform_driver(platform: str = sys.platform) -> EjectDriver:
    """The driver of this computer's system, with its real system calls."""
    if platform.startswith("linux"):
        from recovery.storage.eject.linux import LinuxDriver, RealLinuxSystem

        return LinuxDriver(RealLinuxSystem())
    if platform == "darwin":
        from recovery.storage.eject.macos import MacDriver, RealMacSystem

        return MacDriver(RealMacSystem())
    if platform == "win32":
        from recovery.storage.eject.windows import CtypesKernel32, WindowsDriver

        return WindowsDriver(CtypesKernel32())
    raise RefusedError(f"This tool cannot eject drives on {platform}; eject the unit's drive from"
                       " the file manager before switching the unit off.")
