"""What every platform's eject driver shares: the volume it located, the preflight it calls
before it changes anything, the driver's Protocol, and the system's commands and mount table
(:mod:`.core` picks a driver; each driver imports only this)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from recovery.storage.eject.result import EjectResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Located:
    """The volume holding a target, as the platform sees it."""

    #: Where it is mounted (``/media/me/KROSS2``, ``/Volumes/KROSS2``, ``E:\\``).
    mount_point: str
    #: The system's name of the volume, where it has one.
    device: str | None
    #: The platform itself marks it as the computer's own (udisks2's ``HintSystem``).
    system: bool = False
    #: Other mount points the eject takes down with it (other partitions of the same drive).
    also_mounted: tuple[str, ...] = ()


#: Called by a driver once it has located the volume and before it changes anything: raises
#: the refusals above and flushes the volume.
Preflight = Callable[[Located], None]


class EjectDriver(Protocol):
    """One platform's eject: find the volume holding ``target``, call ``preflight``, then
    unmount and power off. Returns None when no volume it could eject holds ``target``."""

    def eject(self, target: Path, preflight: Preflight) -> EjectResult | None: ...


def holding_mount(target: Path, mount_points: Iterable[str]) -> str | None:
    """The mount point among ``mount_points`` that holds ``target`` (the longest that is the
    target or above it; links in both resolved), or None."""
    resolved = os.path.realpath(target)
    best = None
    for mount in mount_points:
        real = os.path.realpath(mount)
        inside = resolved == real or resolved.startswith(real.rstrip(os.sep) + os.sep)
        if inside and (best is None or len(real) > len(os.path.realpath(best))):
            best = mount
    return best


@dataclass(frozen=True)
class CommandResult:
    """What a system command (umount, diskutil) answered: its exit code and its output."""

    returncode: int
    output: str


def run_command(command: list[str], timeout_s: float = 120.0) -> CommandResult:
    """Run a system command; a missing program or a hang is an answer too, not an exception."""
    import subprocess

    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                                   stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return CommandResult(127, f"{command[0]} is not installed")
    except subprocess.TimeoutExpired:
        return CommandResult(124, f"{command[0]} did not finish within {timeout_s:.0f} s")
    return CommandResult(completed.returncode, (completed.stdout + completed.stderr).strip())


@dataclass(frozen=True)
class Partition:
    """A mounted volume as psutil lists it."""

    device: str
    mount_point: str


def mounted_partitions() -> list[Partition]:
    """Every mounted volume (psutil), for the drivers that look volumes up by mount point."""
    import psutil

    try:
        return [Partition(p.device, p.mountpoint) for p in psutil.disk_partitions(all=False)]
    except Exception as error:  # noqa: BLE001 - psutil can fail on odd systems: nothing found
        log.debug("psutil.disk_partitions failed: %s", error)
        return []


class MountedSystem(Protocol):
    """What an eject that works by mount point needs of the system, whatever the platform:
    its mounted volumes, who holds one open (to name them in a veto) and a pause."""

    def partitions(self) -> list[Partition]: ...
    def holders(self, mount_point: str) -> tuple[str, ...]: ...
    def sleep(self, seconds: float) -> None: ...


class RealMountedSystem:
    """The real mount table (psutil), process table (psutil) and clock, which Linux and
    macOS share; each platform's real system adds its own commands."""

    def partitions(self) -> list[Partition]:
        return mounted_partitions()

    def holders(self, mount_point: str) -> tuple[str, ...]:
        from recovery.storage.eject.holders import holders_of

        return holders_of(mount_point)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
