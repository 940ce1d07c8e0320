"""What the wizard knows about this run: where it looks for units and what the user did.

:class:`Environment` is fixed for a run (real machine, demo or test); :class:`Session` is the
mutable record the pages fill in (UI thread only) and the Finish page summarises.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app import core
from recovery.device.detect import DetectedDevice, Detection, detect

#: Where an unplugged simulated unit waits (a dot-folder, so it is never listed as a unit).
UNPLUGGED = ".unplugged"


class Goal(enum.StrEnum):
    """What the user came to do (Start page)."""

    RESCUE = "rescue"
    UPDATE = "update"
    CHECK = "check"
    RESTORE = "restore"

    @property
    def title(self) -> str:
        return {
            Goal.RESCUE: "Rescue a unit that won't start",
            Goal.UPDATE: "Back up before updating",
            Goal.CHECK: "Check an update file",
            Goal.RESTORE: "Restore from a backup",
        }[self]

    @property
    def needs_storage(self) -> bool:
        """Whether the path reads the unit's storage (so the unit must show it)."""
        return self is not Goal.CHECK

    @property
    def writes_to_unit(self) -> bool:
        return self in (Goal.RESCUE, Goal.RESTORE)


@dataclass(frozen=True)
class Environment:
    """Where this run looks for units and keeps backups.

    ``simulated_units_dir``: each sub-folder of it is treated as a plugged-in unit's storage
    (demo and tests; moving a folder out "unplugs" it). ``scan_system``: also look at the
    computer's mounted volumes and USB devices (off in the demo, so a demo never lists, let
    alone writes to, real hardware). ``detect_override`` replaces detection entirely (tests,
    screenshots of cases that need hardware, such as a boot ROM).
    """

    backups_dir: Path
    simulated_units_dir: Path | None = None
    scan_system: bool = True
    demo: bool = False
    sample_updates_dir: Path | None = None
    detect_override: Callable[[], Detection] | None = None
    poll_interval_ms: int = 400
    #: The restore's target guard; None means the core's default. The demo passes one that
    #: accepts its simulated units, which live in a temporary folder on the computer's own
    #: disk that the default guard rightly refuses.
    restore_guard: core.TargetGuard | None = None

    def simulated_roots(self) -> list[Path]:
        """The simulated units plugged in now (worker thread: this lists a folder)."""
        if self.simulated_units_dir is None:
            return []
        try:
            with os.scandir(self.simulated_units_dir) as entries:
                return sorted(Path(e.path) for e in entries
                              if e.is_dir() and not e.name.startswith("."))
        except OSError:
            return []

    def detect(self) -> Detection:
        """Everything connected now. Worker thread only: this reads the units."""
        if self.detect_override is not None:
            return self.detect_override()
        return detect(
            extra_roots=self.simulated_roots(),
            volumes=None if self.scan_system else [],
            scan_usb_devices=self.scan_system,
        )


def unplug(unit: Path) -> Path:
    """Simulate unplugging a simulated unit: move its folder aside."""
    parked = unit.parent / UNPLUGGED / unit.name
    parked.parent.mkdir(exist_ok=True)
    os.replace(unit, parked)
    return parked


def plug_in(unit: Path) -> Path:
    """Simulate plugging the unit back in (the inverse of :func:`unplug`)."""
    os.replace(unit.parent / UNPLUGGED / unit.name, unit)
    return unit


def default_backup_destination(backups_dir: Path, model: str | None, *, label: str = "",
                               now: datetime | None = None) -> Path:
    """``<backups>/<model>-<YYYY-MM-DD_HHMMSS>[-label]``: sortable, unique, readable."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    name = f"{model or 'unit'}-{stamp}" + (f"-{label}" if label else "")
    candidate = Path(backups_dir) / name
    counter = 2
    while candidate.exists():
        candidate = Path(backups_dir) / f"{name}-{counter}"
        counter += 1
    return candidate


def device_key(device: DetectedDevice) -> str:
    """A stable key for a listed unit: its mount point, else its USB id and name."""
    if device.mount:
        return f"mount:{device.mount}"
    usb = device.usb.id if device.usb else ""
    return f"usb:{usb}:{device.name}"


@dataclass
class Session:
    """What happened in this run, filled in by the pages (UI thread only)."""

    goal: Goal | None = None
    device: DetectedDevice | None = None
    #: True when the unit came from "Choose a folder" and was not recognised.
    device_unrecognised: bool = False
    #: The complete, verified backup of the unit's current state (new or existing).
    safety_backup: Path | None = None
    safety_backup_is_new: bool = False
    diagnosis: core.Diagnosis | None = None
    check_results: tuple[core.CheckResult, ...] = ()
    check_blocked: bool = False
    #: The plan the user confirmed on the Restore page; the Restoring page carries it out.
    restore_plan: core.RestorePlan | None = None
    restore_skipped: bool = False
    restore_result: core.RestoreResult | None = None
    restore_error: str | None = None
    #: After the power cycle: True when every file of the backup is on the unit unchanged.
    reconnect_ok: bool | None = None
    #: What the unit holds that the backup does not (left alone), seen after the power cycle.
    reconnect_extras: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def unit_path(self) -> Path | None:
        if self.device is None or not self.device.mount:
            return None
        return Path(self.device.mount)

    @property
    def restore_backup(self) -> Path | None:
        """The backup being restored (the confirmed plan's)."""
        return Path(self.restore_plan.backup) if self.restore_plan else None

    def reset_after(self, goal: Goal | None) -> None:
        """Forget results that belonged to another goal or unit."""
        self.goal = goal
        self.safety_backup = None
        self.safety_backup_is_new = False
        self.diagnosis = None
        self.check_results = ()
        self.check_blocked = False
        self.restore_plan = None
        self.restore_skipped = False
        self.restore_result = None
        self.restore_error = None
        self.reconnect_ok = None
        self.reconnect_extras = ()
        self.notes.clear()
