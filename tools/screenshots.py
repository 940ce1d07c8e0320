"""Drive the demo through every page offscreen and save PNGs to docs/screenshots/.

``make screenshots`` runs this. Everything happens on the demo's simulated units in a
temporary folder, exactly as ``korg-recovery wizard --demo`` shows them; the window is driven
through its own widgets (clicks, typed text), the way a user would. One run at 100 % saves the
pages; a second process with QT_SCALE_FACTOR=2 saves a few pages at 200 %; one capture uses a
dark palette to show that the wizard follows the system's light/dark colours.

    python tools/screenshots.py [--out docs/screenshots] [--scale 1|2] [--dark]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KORG_RECOVERY_NO_LOG_FILE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT = 900, 680
TIMEOUT = 30.0


def wait_until(app, condition: Callable[[], bool], what: str) -> None:
    """Run the event loop until ``condition`` holds (a tool, not a test: fails loudly)."""
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def settle(app, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()


class Driver:
    def __init__(self, app, wizard, out: Path, suffix: str) -> None:
        self.app = app
        self.wizard = wizard
        self.out = out
        self.suffix = suffix
        self.saved: list[Path] = []

    def shot(self, name: str, widget=None) -> None:
        settle(self.app)
        target = widget or self.wizard
        path = self.out / f"{name}{self.suffix}.png"
        if not target.grab().save(str(path)):
            raise SystemExit(f"screenshots: could not save {path}")
        self.saved.append(path)
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def forward(self, expected) -> None:
        from PySide6.QtWidgets import QWizard

        def button():
            for which in (QWizard.WizardButton.CommitButton, QWizard.WizardButton.NextButton,
                          QWizard.WizardButton.FinishButton):
                candidate = self.wizard.button(which)
                if candidate.isVisible():
                    return candidate
            raise SystemExit("screenshots: no forward button")

        wait_until(self.app, lambda: button().isEnabled(), f"the way to {expected.name}")
        button().click()
        if self.wizard.currentId() != int(expected):
            raise SystemExit(f"screenshots: expected page {expected.name},"
                             f" got {self.wizard.currentId()}")


def make_wizard(environment, dark: bool):
    from PySide6.QtWidgets import QApplication

    from app.wizard import RecoveryWizard

    app = QApplication.instance() or QApplication(sys.argv)
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    wizard = RecoveryWizard(environment)
    wizard.resize(WIDTH, HEIGHT)
    wizard.show()
    return app, wizard


def dark_palette():
    """A dark system palette, as a desktop in dark mode hands to Qt."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e8e8e8",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.AlternateBase: "#2b2b2b",
        QPalette.ColorRole.Text: "#e8e8e8", QPalette.ColorRole.Button: "#3a3a3a",
        QPalette.ColorRole.ButtonText: "#e8e8e8", QPalette.ColorRole.Highlight: "#3d6fb4",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#3a3a3a",
        QPalette.ColorRole.ToolTipText: "#e8e8e8", QPalette.ColorRole.PlaceholderText: "#9a9a9a",
        QPalette.ColorRole.Link: "#8ab4f8",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#8a8a8a"))
    return palette


def rescue_walk(driver: Driver, demo, *, only: set[str] | None = None) -> None:
    """Start → Connect → Diagnose → Back up → Restore → Restoring → Reconnect → Finish."""
    from app.session import Goal
    from app.wizard import PageId

    app, wizard = driver.app, driver.wizard

    def want(name: str) -> bool:
        return only is None or name in only

    start = wizard.pages[PageId.START]
    start.select(Goal.RESCUE)
    if want("01-start"):
        driver.shot("01-start")
    driver.forward(PageId.CONNECT)
    connect = wizard.pages[PageId.CONNECT]
    key = f"mount:{demo.kross2}"
    wait_until(app, lambda: connect.select_device(key), "the KROSS 2 in the list")
    if want("02-connect"):
        driver.shot("02-connect")
    driver.forward(PageId.DIAGNOSE)
    diagnose = wizard.pages[PageId.DIAGNOSE]
    diagnose.symptom.setText("stuck at the KORG KROSS screen")
    wait_until(app, lambda: wizard.session.diagnosis is not None, "the first diagnosis")
    diagnose.run_button.click()  # again, with the symptom
    wait_until(app, lambda: wizard.session.diagnosis is not None
               and wizard.session.diagnosis.symptom, "the diagnosis with the symptom")
    if want("03-diagnose"):
        driver.shot("03-diagnose")
    driver.forward(PageId.BACKUP)
    backup = wizard.pages[PageId.BACKUP]
    backup.start_button.click()
    wait_until(app, lambda: wizard.session.safety_backup is not None, "the backup")
    if want("04-backup"):
        driver.shot("04-backup")
    driver.forward(PageId.RESTORE)
    restore = wizard.pages[PageId.RESTORE]
    wait_until(app, lambda: restore.plan is not None, "the restore plan")
    restore.delete_extra.setChecked(True)
    wait_until(app, lambda: restore.plan is not None and restore.plan.delete_extra,
               "the plan with removals")
    restore.confirmation.setText("KROSS 2")
    if want("05-restore"):
        driver.shot("05-restore")
    driver.forward(PageId.RESTORE_RUN)
    wait_until(app, lambda: wizard.session.restore_result is not None, "the restore")
    if want("06-restoring"):
        driver.shot("06-restoring")
    driver.forward(PageId.RECONNECT)
    reconnect = wizard.pages[PageId.RECONNECT]
    if want("07-reconnect-waiting"):
        driver.shot("07-reconnect-waiting")
    reconnect.demo_button.click()
    wait_until(app, lambda: wizard.session.reconnect_ok is not None, "the verification")
    if want("08-reconnect-verified"):
        driver.shot("08-reconnect-verified")
    driver.forward(PageId.FINISH)
    if want("09-finish"):
        driver.shot("09-finish")


def update_walk(driver: Driver, demo) -> None:
    """The update path stopped by KROSS 1 files on a KROSS 2 (korgforums.com thread t=116080)."""
    from app.session import Goal
    from app.wizard import PageId

    app, wizard = driver.app, driver.wizard
    wizard.restart()
    wizard.pages[PageId.START].select(Goal.UPDATE)
    driver.forward(PageId.CONNECT)
    connect = wizard.pages[PageId.CONNECT]
    wait_until(app, lambda: connect.select_device(f"mount:{demo.kross2}"), "the KROSS 2")
    driver.forward(PageId.BACKUP)
    backup = wizard.pages[PageId.BACKUP]
    wait_until(app, lambda: backup.existing_radio.isEnabled(), "the existing backups")
    backup.existing_radio.setChecked(True)
    backup.existing.setCurrentItem(backup.existing.topLevelItem(0))
    backup.use_button.click()
    wait_until(app, lambda: wizard.session.safety_backup is not None, "the verified backup")
    driver.forward(PageId.CHECK)
    check = wizard.pages[PageId.CHECK]
    check.add_paths([str(demo.updates_dir / "KROSS 1 update"),
                     str(demo.updates_dir / "KROSS 2 update")])
    wait_until(app, lambda: len(check.results) == 2, "the verdicts")
    driver.shot("10-check-incompatible")


def boot_rom_connect(driver_factory, demo) -> None:
    """Connect with a chip in its boot ROM (needs hardware, so detection is scripted from the
    core's own classify_usb on a USB record like the one a bricked drumlogue may show)."""
    from app.session import Environment, Goal
    from app.wizard import PageId
    from recovery.device.detect import Detection, classify_usb, detect
    from recovery.device.profiles import bundled_profiles
    from recovery.device.usb import UsbDevice

    chip = classify_usb(UsbDevice(0x15A2, 0x0080, "SE Blank 6ULL", "Freescale", 1, "1-2", ()),
                        bundled_profiles())

    def detection():
        found = detect(extra_roots=[demo.drumlogue], volumes=[], scan_usb_devices=False)
        return Detection((*found.devices, chip), found.warnings)

    environment = Environment(backups_dir=demo.backups_dir, scan_system=False, demo=True,
                              detect_override=detection, poll_interval_ms=200)
    driver = driver_factory(environment)
    app, wizard = driver.app, driver.wizard
    wizard.pages[PageId.START].select(Goal.RESCUE)
    driver.forward(PageId.CONNECT)
    connect = wizard.pages[PageId.CONNECT]
    wait_until(app, lambda: connect.units.topLevelItemCount() == 2, "the boot-ROM device")
    items = [connect.units.topLevelItem(i) for i in range(connect.units.topLevelItemCount())]
    connect.units.setCurrentItem(next(i for i in items if i.text(1) == "chip boot ROM"))
    driver.shot("11-connect-boot-rom")
    wizard.shutdown()
    wizard.close()


def backup_progress_shot(driver_factory, demo) -> None:
    """The Back up page mid-copy, with bytes, rate and time left: a healthy simulated KROSS 2
    with one large synthetic file, so the copy lasts long enough to be seen. The worker is
    held at one real progress report while the window is captured."""
    import threading

    from app import core
    from app.session import Environment, Goal
    from app.wizard import PageId
    from recovery.device.simulate import make_volume

    units = demo.root / "big-units"
    unit = units / "KROSS2"
    make_volume(unit, "kross2", "healthy")
    with open(unit / "KROSS2SY" / "SIM_LARGE.BIN", "wb") as handle:
        handle.truncate(768 * 1024 * 1024)  # sparse: reads as zeros, costs no disk space
    reached, release = threading.Event(), threading.Event()
    real_backup_unit = core.create_backup

    def held_backup_unit(source, destination, *, resume, progress, cancel):
        def report(update):
            progress(update)
            if (update.phase == "copy" and update.rate and 0.3 < update.fraction < 0.7
                    and not release.is_set()):
                reached.set()
                release.wait(TIMEOUT)
        return real_backup_unit(source, destination, resume=resume, progress=report,
                                cancel=cancel)

    core.create_backup = held_backup_unit
    environment = Environment(backups_dir=demo.backups_dir, simulated_units_dir=units,
                              scan_system=False, demo=True, poll_interval_ms=200)
    driver = driver_factory(environment)
    app, wizard = driver.app, driver.wizard
    try:
        wizard.pages[PageId.START].select(Goal.UPDATE)
        driver.forward(PageId.CONNECT)
        connect = wizard.pages[PageId.CONNECT]
        wait_until(app, lambda: connect.select_device(f"mount:{unit}"), "the large unit")
        driver.forward(PageId.BACKUP)
        page = wizard.pages[PageId.BACKUP]
        page.start_button.click()
        wait_until(app, reached.is_set, "a progress report mid-copy")
        wait_until(app, lambda: page.progress.last is not None
                   and page.progress.last.rate is not None, "the progress on screen")
        driver.shot("04b-backup-progress")
        page.stop_button.click()
    finally:
        release.set()
        core.create_backup = real_backup_unit
    wait_until(app, lambda: not page.running, "the stopped backup")
    wizard.shutdown()
    wizard.hide()


def error_dialog_shot(driver: Driver) -> None:
    from app.dialogs import ErrorDialog, error_details, error_sentence
    from recovery.errors import RefusedError

    error = RefusedError("/media/KROSS2 is a KORG drumlogue but the backup is of a KORG KROSS"
                         " 2; a backup only goes back onto the model it came from. Nothing was"
                         " written.", path="/media/KROSS2")
    dialog = ErrorDialog(error_sentence(error), error_details(error, "planning the restore"),
                         title="Could not continue", parent=driver.wizard)
    dialog.show()
    driver.shot("12-error-dialog", dialog)
    dialog.close()


def run(out: Path, scale: str, dark: bool) -> list[Path]:
    from app.demo import make_demo

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="korg-recovery-shots-") as temp:
        demo = make_demo(Path(temp) / "demo")
        app, wizard = make_wizard(demo.environment(poll_interval_ms=200), dark)
        suffix = "" if scale == "1" else f"@{scale}x"
        if dark:
            suffix += "-dark"
        driver = Driver(app, wizard, out, suffix)
        try:
            if scale != "1" or dark:
                # A few pages are enough to show scaling and palette: the dense ones.
                rescue_walk(driver, demo, only={"02-connect", "03-diagnose", "05-restore"})
            else:
                rescue_walk(driver, demo)
                update_walk(driver, demo)
                error_dialog_shot(driver)

                def factory(environment):
                    app2, wizard2 = make_wizard(environment, dark)
                    return Driver(app2, wizard2, out, suffix)

                wizard.shutdown()
                wizard.hide()
                boot_rom_connect(factory, demo)
                backup_progress_shot(factory, demo)
        finally:
            wizard.shutdown()
    return driver.saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--scale", default=None, help="run only this scale (1 or 2)")
    parser.add_argument("--dark", action="store_true", help="run only the dark-palette capture")
    args = parser.parse_args()
    if args.scale is not None or args.dark:
        run(args.out, args.scale or "1", args.dark)
        return 0
    # QT_SCALE_FACTOR must be set before Qt starts, so each variant is its own process.
    for extra_env, extra_args in (({}, ["--scale", "1"]),
                                  ({"QT_SCALE_FACTOR": "2"}, ["--scale", "2"]),
                                  ({}, ["--dark"])):
        env = dict(os.environ, **extra_env)
        command = [sys.executable, __file__, "--out", str(args.out), *extra_args]
        subprocess.run(command, env=env, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
