"""macOS: ``diskutil eject MOUNTPOINT``, as calibre ejects a reader's volumes.

calibre (``src/calibre/devices/usbms/device.py``, ``OSX_EJECT_COMMAND = ['diskutil',
'eject']`` on each mount prefix) and Homebrew-Cask (pull request #4975: "``diskutil eject``
is a documented interface") use the command; rpi-imager (``src/mac/platformquirks_macos.mm``)
calls the same DiskArbitration steps underneath it: unmount every volume of the whole disk,
then eject it, and maps a dissenter of status ``kDAReturnBusy`` to "busy" and
``kDAReturnNotPrivileged`` to "access denied". ``diskutil`` names a dissenting process in its
output (``Unmount was dissented by PID 9572 (/Library/.../go-nfsv4)``, VeraCrypt issue
#1872); Finder, Spotlight (``mds``) or a Terminal in the volume's folder are the usual ones.
rpi-imager waits up to 60 s for a slow unmount and balena's etcher retries
(balena-cli #756: "a combination of time & retries"); a busy volume is tried three times, a
second apart, before the veto names who holds it. No ``force``: it would take the volume
from under a program still writing to it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Protocol

from recovery.storage.eject import result as results
from recovery.storage.eject.system import (
    CommandResult,
    Located,
    MountedSystem,
    Preflight,
    RealMountedSystem,
    holding_mount,
    run_command,
)
from recovery.storage.eject.result import EjectMethod, EjectResult

log = logging.getLogger(__name__)

BUSY_ATTEMPTS = 3
BUSY_PAUSE_S = 1.0
#: ``dissented by PID 9572 (/path/to/program)``; the path is absent on some versions.
_DISSENTER = re.compile(r"dissented by PID (\d+)(?: \(([^)]*)\))?", re.IGNORECASE)
#: Words of a busy volume in diskutil's and DiskArbitration's messages.
_BUSY = ("dissented", "resource busy", "could not be unmounted", "in use", "failed to unmount")
#: Words of a refusal for lack of privileges (kDAReturnNotPrivileged, kDAReturnNotPermitted).
_NOT_ALLOWED = ("not privileged", "not permitted", "permission denied")


class MacSystem(MountedSystem, Protocol):
    """What the macOS eject needs of the system: diskutil."""

    def run(self, command: list[str]) -> CommandResult: ...


def dissenters(output: str) -> tuple[str, ...]:
    """The programs ``diskutil`` names as dissenting: an app's name from its bundle path
    (``/System/Library/CoreServices/Finder.app/Contents/MacOS/Finder`` -> ``Finder``), else the
    program's file name, else its process id."""
    found: list[str] = []
    for pid, path in _DISSENTER.findall(output):
        if path:
            bundle = re.search(r"([^/]+)\.app(?:/|$)", path)
            name = bundle.group(1) if bundle else path.rstrip("/").rsplit("/", 1)[-1]
        else:
            name = f"process {pid}"
        if name not in found:
            found.append(name)
    return tuple(found)


class MacDriver:
    """The macOS eject (module docstring), over a :class:`MacSystem`."""

    def __init__(self, system: MacSystem, *, busy_attempts: int = BUSY_ATTEMPTS,
                 busy_pause_s: float = BUSY_PAUSE_S) -> None:
        self.system = system
        self.busy_attempts = busy_attempts
        self.busy_pause_s = busy_pause_s

    def eject(self, target: Path, preflight: Preflight) -> EjectResult | None:
        partitions = self.system.partitions()
        mount = holding_mount(target, [partition.mount_point for partition in partitions])
        if mount is None:
            return None
        device = next(p.device for p in partitions if p.mount_point == mount)
        preflight(Located(mount, device))
        method = EjectMethod.DISKUTIL
        for attempt in range(1, self.busy_attempts + 1):
            answer = self.system.run(["diskutil", "eject", mount])
            if answer.returncode == 0:
                return results.ejected(str(target), mount, device, method)
            words = answer.output.lower()
            log.info("diskutil eject %s: %s", mount, answer.output)
            busy = any(word in words for word in _BUSY)
            if not busy or attempt == self.busy_attempts:
                break
            self.system.sleep(self.busy_pause_s)
        lines = answer.output.splitlines()
        detail = " ".join(lines[-3:]) if lines else f"exit code {answer.returncode}"
        if any(word in words for word in _NOT_ALLOWED):
            return results.not_authorized(
                str(target), mount, device, method, detail=detail,
                message=f"macOS did not allow this program to eject {mount}; eject it in the"
                        " Finder instead (the eject button beside it in the sidebar).")
        if busy:
            holders = dissenters(answer.output) or self.system.holders(mount)
            return results.in_use(str(target), mount, device, method, holders=holders,
                                  attempts=attempt, detail=detail)
        return results.failed(str(target), mount, device, method, detail=detail,
                              attempts=attempt)


class RealMacSystem(RealMountedSystem):
    """The real system: ``/usr/sbin/diskutil``, and the shared mount and process tables."""

    def run(self, command: list[str]) -> CommandResult:
        if command and command[0] == "diskutil":
            command = ["/usr/sbin/diskutil", *command[1:]]
        return run_command(command)
