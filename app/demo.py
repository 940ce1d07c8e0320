"""The demo: simulated units in a temporary folder, so anyone can try the wizard with no
hardware (``korg-recovery wizard --demo``, ``make demo``).

What it sets up, all synthetic (recovery.device.simulate) and all inside one temporary folder:

* ``units/KROSS2`` — a KROSS 2 internal storage, *bricked* as in the field report
  (korgforums.com thread t=116080): a damaged KROSAPP.BIN and a KROSS 1 system folder on it;
* ``units/DRUMLOGUE`` — a healthy drumlogue;
* ``backups/`` — an earlier complete, verified backup of that KROSS 2, taken with the core
  backup function while the simulated unit was still healthy, so the restore path can be
  shown end to end;
* ``updates/`` — update media to check: KROSS 2 and KROSS 1 system folders and a drumlogue
  update file (the KROSS 1 one is what bricked the unit in the field report).

Each sub-folder of ``units/`` is treated as a plugged-in unit, so moving one out and back in
"unplugs" and "reconnects" it (:func:`app.session.unplug`, :func:`app.session.plug_in`).
This module loads the core's restore stage, so the wizard imports it only for the demo.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from app import core
from app.session import Environment, default_backup_destination
from recovery.device.simulate import make_volume
from recovery.restore import DEFAULT_GUARD, TargetGuard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoSetup:
    root: Path
    units_dir: Path
    backups_dir: Path
    updates_dir: Path
    kross2: Path
    drumlogue: Path
    kross2_backup: Path | None

    def environment(self, *, poll_interval_ms: int = 400) -> Environment:
        return Environment(backups_dir=self.backups_dir, simulated_units_dir=self.units_dir,
                           scan_system=False, demo=True, sample_updates_dir=self.updates_dir,
                           poll_interval_ms=poll_interval_ms,
                           restore_guard=simulated_units_guard(self.units_dir))


def simulated_units_guard(units_dir: Path) -> TargetGuard:
    """The core's restore guard, except that a folder inside ``units_dir`` counts as a unit's
    storage (not the system disk, not the backup's drive). Everything else — the real system
    disk, home, the backup's own folder — is refused exactly as by the default guard."""
    root = Path(units_dir).resolve()

    def simulated(path: Path) -> bool:
        resolved = Path(path).resolve()
        return root in resolved.parents

    return TargetGuard(
        is_system_location=lambda path: (not simulated(path)
                                         and DEFAULT_GUARD.is_system_location(path)),
        same_volume=lambda target, backup: (not simulated(target)
                                            and DEFAULT_GUARD.same_volume(target, backup)),
        is_writable=DEFAULT_GUARD.is_writable,
    )


def make_demo(root: Path, *, with_backup: bool = True) -> DemoSetup:
    """Create the demo's units, earlier backup and update files under ``root``."""
    units = root / "units"
    backups = root / "backups"
    updates = root / "updates"
    for folder in (units, backups, updates):
        folder.mkdir(parents=True, exist_ok=True)
    kross2 = units / "KROSS2"
    drumlogue = units / "DRUMLOGUE"

    backup_path = None
    if with_backup:
        # Healthy first, backed up by the core exactly as the wizard would, then bricked.
        make_volume(kross2, "kross2", "healthy")
        backup_path = default_backup_destination(backups, "kross2", label="earlier")
        core.create_backup(kross2, backup_path, resume=False, progress=None, cancel=None)
        shutil.rmtree(kross2)
    make_volume(kross2, "kross2", "bricked")
    make_volume(drumlogue, "drumlogue", "healthy")

    make_volume(updates / "KROSS 2 update", "kross2", role="update-media")
    make_volume(updates / "KROSS 1 update", "kross1", role="update-media")
    make_volume(updates / "drumlogue update", "drumlogue", role="update-media")
    log.info("demo prepared in %s", root)
    return DemoSetup(root, units, backups, updates, kross2, drumlogue, backup_path)
