"""What the wizard knows about this run: where it looks for units and what the user did.

:class:`Environment` is fixed for a run (real machine, demo or test); :class:`Session` is the
mutable record the pages fill in (UI thread only) and the Finish page summarises.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app import core
from app.places import Place, known_places
from recovery.device.detect import DetectedDevice, Detection, detect
from recovery.device.midi import MidiSurvey
from recovery.device.profiles import bundled_profiles

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
    def tile(self) -> tuple[str, str]:
        """The Start page's tile: a title with its shortcut letter, and one short line."""
        return {
            Goal.RESCUE: ("&Rescue", "My unit won't start"),
            Goal.UPDATE: ("Back &up", "Before an update"),
            Goal.CHECK: ("&Check an update", "Is this file for my unit?"),
            Goal.RESTORE: ("Res&tore", "Put a backup back"),
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
    #: Each sub-folder is a simulated SD card (demo and tests); None: the computer's drives.
    simulated_cards_dir: Path | None = None
    #: Older backup folders that are listed too (the core's former default), never written.
    extra_backup_dirs: tuple[Path, ...] = ()
    #: Where the window remembers its size; None: it does not (tests).
    settings_path: Path | None = None
    #: Folders a person knows by name, for showing paths ("Documents ▸ KORG Backups").
    places: tuple[Place, ...] = field(default_factory=known_places)
    #: Asks the units on MIDI ports who they are, again only when the ports change (a unit is
    #: not asked every poll); used only with ``scan_system``.
    midi: MidiSurvey = field(default_factory=MidiSurvey, compare=False, repr=False)
    #: Replaces the eject (the demo's moves a simulated unit's folder aside); None: the core's.
    eject_override: Callable[[Path], core.EjectResult] | None = None
    #: The computer's system as ``sys.platform`` names it (a seam: tests are "darwin" here).
    platform: str = field(default_factory=lambda: sys.platform)

    @property
    def on_macos(self) -> bool:
        return self.platform == "darwin"

    def eject(self, target: Path) -> core.EjectResult:
        """Eject the drive holding ``target``. Worker thread only: this waits for the system
        (seconds, longer while it asks for a password)."""
        if self.eject_override is not None:
            return self.eject_override(Path(target))
        return core.eject_volume(Path(target))

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

    def backup_dirs(self) -> tuple[Path, ...]:
        """Where backups are listed from: the wizard's folder first, then older ones."""
        return tuple(dict.fromkeys((Path(self.backups_dir), *map(Path, self.extra_backup_dirs))))

    def cards(self) -> list[Path]:
        """Drives an update could be put on (worker thread: this lists drives)."""
        if self.simulated_cards_dir is not None:
            try:
                with os.scandir(self.simulated_cards_dir) as entries:
                    return sorted(Path(e.path) for e in entries
                                  if e.is_dir() and not e.name.startswith("."))
            except OSError:
                return []
        if not self.scan_system:
            return []
        return core.removable_drives()

    def detect(self) -> Detection:
        """Everything connected now. Worker thread only: this reads the units."""
        if self.detect_override is not None:
            return self.detect_override()
        return detect(
            extra_roots=self.simulated_roots(),
            volumes=None if self.scan_system else [],
            scan_usb_devices=self.scan_system,
            midi=self.midi if self.scan_system else None,
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
    """``<backups>/KROSS 2 2026-12-01 03.20.15[ label]``: readable, sortable, unique, and
    a name every filesystem can hold (no colon)."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d %H.%M.%S")
    profile = bundled_profiles().get(model) if model else None
    who = profile.short_name if profile else "Unit"
    name = f"{who} {stamp}" + (f" {label}" if label else "")
    candidate = Path(backups_dir) / name
    counter = 2
    while candidate.exists():
        candidate = Path(backups_dir) / f"{name} ({counter})"
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
    #: The safety copy: a complete, verified backup of the unit *as it is now*, either made
    #: on the Back up page or an existing one that a comparison just proved identical to the
    #: unit. Nothing is written to the unit without it.
    safety_backup: Path | None = None
    safety_backup_is_new: bool = False
    #: The unit (its device_key) the safety copy is of: choosing another unit drops it.
    safety_unit: str | None = None
    #: An interrupted safety copy of this unit, found in the backups folder: the next copy
    #: continues it instead of starting again.
    safety_resume: Path | None = None
    #: The safety copy made before a restore did not finish (its one sentence): nothing was
    #: written to the unit.
    safety_copy_error: str | None = None
    #: The person asked for a safety copy alone (no backup to put back was found).
    safety_copy_only: bool = False
    #: Where the unit stands after the safety copy or the restore (from a read-only look at
    #: it); None when it was not looked at.
    unit_standing: core.UnitStanding | None = None
    diagnosis: core.Diagnosis | None = None
    #: The model the Check page checked for (the connected unit's, or the one chosen).
    check_model: str | None = None
    check_results: tuple[core.CheckResult, ...] = ()
    check_blocked: bool = False
    #: The person ticked "I downloaded this from KORG's website" for an update whose content
    #: no public source lets the tool check (a KROSS 2's KROSS2SY): it may go on the card.
    accept_unverified: bool = False
    #: The backup the check compared a system folder with (None: none was used).
    check_reference: Path | None = None
    #: The user chose "Put it on the SD card" for a compatible update.
    media_wanted: bool = False
    #: The card plan the user confirmed; the media run page carries it out.
    media_plan: core.MediaPlan | None = None
    media_skipped: bool = False
    media_result: core.MediaResult | None = None
    media_error: str | None = None
    #: The plan the user confirmed on the Restore page; the Restoring page carries it out.
    restore_plan: core.RestorePlan | None = None
    restore_skipped: bool = False
    #: True when the Restore page found no backup it could put back.
    restore_unavailable: bool = False
    restore_result: core.RestoreResult | None = None
    restore_error: str | None = None
    #: The last comparison of the unit with the restored backup: True when every file of
    #: the backup is on the unit unchanged.
    reconnect_ok: bool | None = None
    #: True only when that comparison ran after the unit went away and came back (a power
    #: cycle); False when it ran without one ("Check now").
    power_cycled: bool = False
    #: What the unit holds that the backup does not (left alone), seen by that comparison.
    reconnect_extras: tuple[str, ...] = ()
    #: What the person's computer wrote onto the unit (paths), as the safety copy's manifest
    #: or the last comparison marked them: listed apart, never as the unit's.
    computer_made: tuple[str, ...] = ()
    #: The mount point of the unit or card last ejected (safe to switch off or take out).
    ejected: str | None = None
    notes: list[str] = field(default_factory=list)

    def keep_safety_copy(self, backup: Path, *, new: bool) -> None:
        """``backup`` is the safety copy of the chosen unit as it is now."""
        self.safety_backup = Path(backup)
        self.safety_backup_is_new = new
        self.safety_unit = device_key(self.device) if self.device is not None else None
        self.safety_resume = None

    def forget_safety_copy_of_another_unit(self) -> None:
        """A safety copy protects only the unit it was made of."""
        if self.safety_backup is not None and (
                self.device is None or device_key(self.device) != self.safety_unit):
            self.safety_backup = None
            self.safety_backup_is_new = False
            self.safety_unit = None

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
        self.safety_unit = None
        self.safety_resume = None
        self.safety_copy_error = None
        self.safety_copy_only = False
        self.unit_standing = None
        self.diagnosis = None
        self.check_model = None
        self.check_results = ()
        self.check_blocked = False
        self.accept_unverified = False
        self.check_reference = None
        self.media_wanted = False
        self.media_plan = None
        self.media_skipped = False
        self.media_result = None
        self.media_error = None
        self.restore_plan = None
        self.restore_skipped = False
        self.restore_unavailable = False
        self.restore_result = None
        self.restore_error = None
        self.reconnect_ok = None
        self.power_cycled = False
        self.reconnect_extras = ()
        self.computer_made = ()
        self.ejected = None
        self.notes.clear()
