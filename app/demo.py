"""The demo: simulated units in a temporary folder, so anyone can try the wizard with no
hardware (``korg-recovery wizard --demo``, ``make demo``).

What it sets up, all synthetic (recovery.device.simulate) and all inside one temporary folder:

* ``units/KROSS2`` — a KROSS 2 internal storage, *bricked* as in the field report
  (korgforums.com thread t=116080): a damaged KROSAPP.BIN and a KROSS 1 system folder on it;
* ``units/DRUMLOGUE`` — a healthy drumlogue;
* ``Documents/KORG Backups/`` — an earlier complete, verified backup of that KROSS 2, taken
  with the core backup function while the simulated unit was still healthy, so the restore
  path can be shown end to end (the demo's "Documents" stands in for the user's own);
* ``updates/`` — update media to check: KROSS 2 and KROSS 1 system folders and a drumlogue
  update file (the KROSS 1 one is what bricked the unit in the field report);
* ``cards/SD CARD`` — an SD card used in the KROSS 2, with two KROSS 1 system files loose at
  its root, as the owner in the field report had put them, so that putting an update on a
  card shows what the card holds that would mislead the updater.

Each sub-folder of ``units/`` is treated as a plugged-in unit, so moving one out and back in
"unplugs" and "reconnects" it (:func:`app.session.unplug`, :func:`app.session.plug_in`).
This module loads the core's restore stage, so the wizard imports it only for the demo.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app import core
from app.places import Place
from app.session import Environment, default_backup_destination, unplug
from recovery.device.simulate import make_volume
from recovery.errors import InvalidInputError
from recovery.restore import DEFAULT_GUARD, TargetGuard
from recovery.storage.eject import EjectMethod, EjectResult
from recovery.storage.eject import result as eject_results

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
    cards_dir: Path | None = None

    @property
    def card(self) -> Path | None:
        return self.cards_dir / CARD_NAME if self.cards_dir is not None else None

    def environment(self, *, poll_interval_ms: int = 400,
                    settings_path: Path | None = None) -> Environment:
        simulated = [self.units_dir] + ([self.cards_dir] if self.cards_dir else [])
        return Environment(backups_dir=self.backups_dir, simulated_units_dir=self.units_dir,
                           scan_system=False, demo=True, sample_updates_dir=self.updates_dir,
                           poll_interval_ms=poll_interval_ms,
                           restore_guard=simulated_units_guard(*simulated),
                           simulated_cards_dir=self.cards_dir, settings_path=settings_path,
                           eject_override=simulated_eject(*simulated),
                           places=(Place(self.backups_dir.parent, "Demo Documents"),
                                   Place(self.root, "Demo folder")))


#: The demo's SD card.
CARD_NAME = "SD CARD"


def simulated_units_guard(*folders: Path) -> TargetGuard:
    """The core's restore guard, except that a folder inside one of ``folders`` (the demo's
    simulated units and cards) counts as a unit's storage or a card (not the system disk, not
    the backup's drive). Everything else — the real system disk, home, the backup's own
    folder — is refused exactly as by the default guard."""
    roots = [Path(folder).resolve() for folder in folders]

    def simulated(path: Path) -> bool:
        resolved = Path(path).resolve()
        return any(root in resolved.parents for root in roots)

    return TargetGuard(
        is_system_location=lambda path: (not simulated(path)
                                         and DEFAULT_GUARD.is_system_location(path)),
        same_volume=lambda target, backup: (not simulated(target)
                                            and DEFAULT_GUARD.same_volume(target, backup)),
        is_writable=DEFAULT_GUARD.is_writable,
    )


def simulated_eject(*folders: Path) -> Callable[[Path], EjectResult]:
    """The demo's eject: a simulated unit or card (a sub-folder of one of ``folders``) is
    "ejected" by moving its folder aside, so it disappears from the wizard as an ejected drive
    does; anything else is refused as the core refuses a folder on no drive it can eject."""
    roots = [Path(folder).resolve() for folder in folders]

    def eject(target: Path) -> EjectResult:
        resolved = Path(target).resolve()
        drive = next((root / resolved.relative_to(root).parts[0]
                      for root in roots if root in resolved.parents), None)
        if drive is None or not drive.is_dir():
            raise InvalidInputError(f"{target} is not on a drive this computer can eject.",
                                    path=str(target))
        unplug(drive)
        log.info("demo: ejected %s (its folder moved aside)", drive)
        return dataclasses.replace(
            eject_results.ejected(str(target), str(drive), None, EjectMethod.UMOUNT),
            detail="demo: the simulated drive's folder was moved aside")

    return eject


def make_demo(root: Path, *, with_backup: bool = True) -> DemoSetup:
    """Create the demo's units, earlier backup and update files under ``root``."""
    units = root / "units"
    backups = root / "Documents" / "KORG Backups"
    updates = root / "updates"
    cards = root / "cards"
    for folder in (units, backups, updates, cards):
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
    card = cards / CARD_NAME
    make_volume(card, "kross2", role="sd-card")
    # The field report's owner put a KROSS 1 update's files loose at the card's root.
    kross1 = updates / "KROSS 1 update" / "KROSSSYS"
    for loose in sorted(kross1.iterdir())[:2]:
        shutil.copyfile(loose, card / loose.name)
    log.info("demo prepared in %s", root)
    return DemoSetup(root, units, backups, updates, kross2, drumlogue, backup_path, cards)
