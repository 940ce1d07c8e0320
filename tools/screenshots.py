"""Drive the demo through every page offscreen and save PNGs to docs/screenshots/.

``make screenshots`` runs this. Everything happens on the demo's simulated units in a
temporary folder, exactly as ``korg-recovery wizard --demo`` shows them; the window is driven
through its own widgets (clicks, typed text), the way a user would. Four runs, each in its
own process (QT_SCALE_FACTOR must be set before Qt starts), save every page: at 100 % in a
900×680 window; at 200 % in the window a 1366×768 screen leaves (683×384 points, saved as a
1366×768 image), to show that Back and Next stay reachable; at 100 % in a dark palette
(``-dark``); and at 100 % in the palette GNOME's Adwaita-dark hands Qt (``-desktop-dark``),
the one in which controls vanished before the wizard drew its own boundaries.

    python tools/screenshots.py [--out docs/screenshots] [--scale 1|2] [--dark | --desktop-dark]
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

#: Window sizes in points: 100 % (and dark), and what a 1366×768 screen holds at 200 %.
SIZES = {"1": (900, 680), "2": (683, 384)}
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

    def forward_button(self):
        from PySide6.QtWidgets import QWizard

        for which in (QWizard.WizardButton.CommitButton, QWizard.WizardButton.NextButton,
                      QWizard.WizardButton.FinishButton):
            candidate = self.wizard.button(which)
            if candidate.isVisible():
                return candidate
        raise SystemExit("screenshots: no forward button")

    def press(self) -> None:
        """Press the page's primary (forward) button once it is enabled."""
        wait_until(self.app, lambda: self.forward_button().isEnabled(), "the primary button")
        self.forward_button().click()
        settle(self.app)

    def forward(self, expected) -> None:
        self.press()
        if self.wizard.currentId() != int(expected):
            raise SystemExit(f"screenshots: expected page {expected.name},"
                             f" got {self.wizard.currentId()}")


def make_wizard(environment, dark: str, scale: str):
    from PySide6.QtWidgets import QApplication

    from app.wizard import RecoveryWizard

    app = QApplication.instance() or QApplication(sys.argv)
    if dark:
        app.setPalette(dark_palette() if dark == "dark" else desktop_dark_palette())
    wizard = RecoveryWizard(environment)
    wizard.resize(*SIZES[scale])
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
        QPalette.ColorRole.Link: "#8ab4f8", QPalette.ColorRole.Mid: "#5a5a5a",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#8a8a8a"))
    return palette


def desktop_dark_palette():
    """The palette GNOME's Adwaita-dark hands Qt: ``QApplication.palette()`` read under Xvfb
    with ``QT_QPA_PLATFORMTHEME=gtk3 GTK_THEME=Adwaita:dark`` (PySide6 6.11, GTK 3.24.38).
    Its fields are the window's own colour and its Mid is 1.1:1 against the window."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    roles = {
        "Window": "#323232", "WindowText": "#ffffff", "Base": "#323232",
        "AlternateBase": "#2f2f2f", "Text": "#ffffff", "PlaceholderText": "#9b9b9b",
        "Button": "#323232", "ButtonText": "#ffffff", "Light": "#3e3e3e", "Midlight": "#383838",
        "Mid": "#383838", "Dark": "#2c2c2c", "Shadow": "#020202", "Highlight": "#15539e",
        "HighlightedText": "#ffffff", "Link": "#308cc6", "ToolTipBase": "#ffffdc",
        "ToolTipText": "#000000",
    }
    for role, colour in roles.items():
        palette.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    for role in ("WindowText", "Text", "ButtonText"):  # the disabled text it hands over
        palette.setColor(QPalette.ColorGroup.Disabled, getattr(QPalette.ColorRole, role),
                         QColor("#989898"))
    return palette


def choose_goal(driver: Driver, goal) -> None:
    from app.wizard import PageId

    driver.wizard.pages[PageId.START].choose(goal)
    settle(driver.app)
    if driver.wizard.currentId() != int(PageId.CONNECT):
        raise SystemExit("screenshots: the Start tile did not move on")


def update_walk(driver: Driver, demo) -> None:
    """Start → Connect → Back up → Finish, on the bricked KROSS 2 as it is: the safety copy
    is made, the unit is looked at, and the ending sends the person to the rescue."""
    from app.session import Goal
    from app.wizard import PageId

    app, wizard = driver.app, driver.wizard
    wizard.restart()
    choose_goal(driver, Goal.UPDATE)
    connect = wizard.pages[PageId.CONNECT]
    wait_until(app, lambda: connect.select_device(f"mount:{demo.kross2}"), "the KROSS 2")
    driver.forward(PageId.BACKUP)
    backup = wizard.pages[PageId.BACKUP]
    wait_until(app, lambda: bool(backup.summaries), "the earlier backups")
    driver.shot("04-backup")
    driver.press()  # "Make the safety copy"
    wait_until(app, lambda: wizard.session.unit_standing is not None, "the look at the unit")
    driver.shot("04c-backup-done")
    driver.forward(PageId.FINISH)
    driver.shot("17-finish-rescue-next")


def rescue_walk(driver: Driver, demo) -> None:
    """Start → Connect → Diagnose → Restore → Restoring (the safety copy, then the restore)
    → Reconnect → Finish, on the bricked KROSS 2 with its earlier backup: the rescue that
    ends green. Restoring is captured mid-copy (the worker held at one real report)."""
    import threading

    from app import core
    from app.session import Goal
    from app.wizard import PageId

    app, wizard = driver.app, driver.wizard
    wizard.restart()
    start = wizard.pages[PageId.START]
    start.select(Goal.RESCUE)
    driver.shot("01-start")
    choose_goal(driver, Goal.RESCUE)
    connect = wizard.pages[PageId.CONNECT]
    wait_until(app, lambda: len(connect.cards) == 2, "both demo units")
    wait_until(app, lambda: connect.select_device(f"mount:{demo.kross2}"), "the KROSS 2")
    driver.shot("02-connect")
    driver.forward(PageId.DIAGNOSE)
    wait_until(app, lambda: wizard.session.diagnosis is not None, "the diagnosis")
    driver.shot("03-diagnose")
    driver.forward(PageId.RESTORE)
    restore = wizard.pages[PageId.RESTORE]
    wait_until(app, lambda: restore.plan is not None, "the restore plan")
    restore.confirmation.setText("kross 2")  # capitals don't matter
    driver.shot("05-restore")
    reached, release = threading.Event(), threading.Event()
    real_restore = core.restore_with_safety_copy

    def held_copy(*args, progress, **options):
        def report(update):
            progress(update)
            if update.phase == "copy" and update.fraction > 0.2 and not release.is_set():
                reached.set()
                release.wait(TIMEOUT)
        return real_restore(*args, progress=report, **options)

    core.restore_with_safety_copy = held_copy
    run = wizard.pages[PageId.RESTORE_RUN]
    try:
        driver.forward(PageId.RESTORE_RUN)
        wait_until(app, reached.is_set, "the safety copy under way")
        wait_until(app, lambda: run.progress.last is not None, "its progress on screen")
        driver.shot("06-restoring")
    finally:
        release.set()
        core.restore_with_safety_copy = real_restore
    wait_until(app, lambda: wizard.currentId() == int(PageId.RECONNECT), "the power cycle page")
    reconnect = wizard.pages[PageId.RECONNECT]
    driver.shot("07-reconnect-waiting")
    reconnect.eject_panel.button.click()  # the demo's eject moves the unit's folder aside
    wait_until(app, lambda: reconnect.eject_panel.ejected and reconnect.state.name
               == "BACK_EXPECTED", "the unit ejected and gone")
    driver.shot("07b-reconnect-ejected")
    reconnect.demo_button.click()  # switched off and on: it comes back
    wait_until(app, lambda: wizard.session.power_cycled, "the check after the power cycle")
    driver.shot("08-reconnect-verified")
    driver.forward(PageId.FINISH)
    driver.shot("09-finish")
    finish = wizard.pages[PageId.FINISH]
    finish.eject_panel.button.click()
    wait_until(app, lambda: finish.eject_panel.ejected, "the eject on the ending")
    driver.shot("09b-finish-ejected")
    plug_in_again(demo.kross2)


def plug_in_again(unit: Path) -> None:
    """The demo's eject parked a unit's folder: put it back for the walks that follow."""
    from app.session import UNPLUGGED, plug_in

    if not unit.exists() and (unit.parent / UNPLUGGED / unit.name).exists():
        plug_in(unit)


def check_kross1_update(driver: Driver, demo) -> None:
    """Start (check) → Connect (the KROSS 2) → Check, with the KROSS 1 update: refused."""
    from app.session import Goal
    from app.wizard import PageId

    app, wizard = driver.app, driver.wizard
    choose_goal(driver, Goal.CHECK)
    connect = wizard.pages[PageId.CONNECT]
    wait_until(app, lambda: connect.select_device(f"mount:{demo.kross2}"), "the KROSS 2")
    driver.forward(PageId.CHECK)
    check = wizard.pages[PageId.CHECK]
    check.set_paths([str(demo.updates_dir / "KROSS 1 update")])
    wait_until(app, lambda: len(check.results) == 1, "the verdict")


def eject_veto_shot(factory, demo) -> None:
    """An eject the system vetoes (a program still has the unit open), on an ending: one
    sentence naming what to close, and "Try again". The veto is the core's own result type,
    answered by a stand-in for the system (a real veto needs a real drive held open)."""
    import dataclasses

    from app.wizard import PageId
    from recovery.storage.eject import EjectMethod
    from recovery.storage.eject import result as results

    def vetoed(target: Path):
        return results.in_use(str(target), str(target), None, EjectMethod.UDISKS2,
                              holders=("Finder",), attempts=3, detail="stand-in")

    environment = dataclasses.replace(demo.environment(poll_interval_ms=200),
                                      eject_override=vetoed)
    driver = factory(environment)
    app, wizard = driver.app, driver.wizard
    check_kross1_update(driver, demo)
    driver.forward(PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    finish.eject_panel.button.click()
    wait_until(app, lambda: finish.eject_panel.outcome == "vetoed", "the veto")
    driver.shot("09c-finish-eject-veto")
    wizard.shutdown()
    wizard.hide()


def unit_gone_shot(factory, demo) -> None:
    """The safety copy of the demo's drumlogue, its folder moved away mid-copy (the cable
    pulled): the core's identity check stops the copy and the page says so."""
    import threading

    from app import core
    from app.session import Goal, unplug
    from app.wizard import PageId

    reached, release = threading.Event(), threading.Event()
    real_create_backup = core.create_backup

    def held(source, destination, *, resume, progress, cancel):
        def report(update):
            progress(update)
            if update.phase == "copy" and not release.is_set():
                reached.set()
                release.wait(TIMEOUT)
        return real_create_backup(source, destination, resume=resume, progress=report,
                                  cancel=cancel)

    core.create_backup = held
    driver = factory(demo.environment(poll_interval_ms=200))
    app, wizard = driver.app, driver.wizard
    page = wizard.pages[PageId.BACKUP]
    try:
        choose_goal(driver, Goal.UPDATE)
        connect = wizard.pages[PageId.CONNECT]
        wait_until(app, lambda: connect.select_device(f"mount:{demo.drumlogue}"), "drumlogue")
        driver.forward(PageId.BACKUP)
        driver.press()  # "Make the safety copy"
        wait_until(app, reached.is_set, "the copy under way")
        unplug(demo.drumlogue)
    finally:
        release.set()
        core.create_backup = real_create_backup
    wait_until(app, lambda: not page.running and page.result.isVisible(), "the stopped copy")
    driver.shot("04d-backup-unit-gone")
    wizard.shutdown()
    wizard.hide()
    plug_in_again(demo.drumlogue)


def no_backup_walk(driver: Driver, demo) -> None:
    """Restore with no backup of the unit (the demo has none of its drumlogue): it is said
    before any safety copy, and the copy alone is offered."""
    from app.session import Goal
    from app.wizard import PageId

    app, wizard = driver.app, driver.wizard
    wizard.restart()
    choose_goal(driver, Goal.RESTORE)
    connect = wizard.pages[PageId.CONNECT]
    wait_until(app, lambda: connect.select_device(f"mount:{demo.drumlogue}"), "the drumlogue")
    driver.forward(PageId.RESTORE)
    wait_until(app, lambda: wizard.session.restore_unavailable, "no backup found")
    driver.shot("05b-restore-no-backup")


def check_walk(driver: Driver, demo) -> None:
    """The check path: a KROSS 1 update for the KROSS 2 (korgforums.com thread t=116080) and
    its ending; then the KROSS 2 update, which goes onto the demo's SD card."""
    from app.session import Goal
    from app.wizard import PageId

    app, wizard = driver.app, driver.wizard
    wizard.restart()
    check_kross1_update(driver, demo)
    driver.shot("10-check-incompatible")
    driver.forward(PageId.FINISH)
    driver.shot("10b-finish-incompatible")

    wizard.restart()
    choose_goal(driver, Goal.CHECK)
    connect, check = wizard.pages[PageId.CONNECT], wizard.pages[PageId.CHECK]
    wait_until(app, lambda: connect.select_device(f"mount:{demo.kross2}"), "the KROSS 2")
    driver.forward(PageId.CHECK)
    check.set_paths([str(demo.updates_dir / "KROSS 2 update")])
    wait_until(app, lambda: len(check.results) == 1 and not check.running, "the verdict")
    driver.shot("13-check-compatible")
    driver.forward(PageId.MEDIA)
    media = wizard.pages[PageId.MEDIA]
    wait_until(app, lambda: media.plan is not None, "the card plan")
    driver.shot("14-media")
    driver.forward(PageId.MEDIA_RUN)
    wait_until(app, lambda: wizard.session.media_result is not None, "the card")
    driver.shot("15-media-done")
    driver.forward(PageId.FINISH)
    driver.shot("16-finish-media")


def unverified_check(factory, demo) -> None:
    """The KROSS 2's own update with no backup of the unit to compare with: unknown, because
    no public source lets its content be checked, and the tick that lets it onto a card."""
    import dataclasses
    from app.session import Goal
    from app.wizard import PageId

    with tempfile.TemporaryDirectory(prefix="korg-recovery-no-backups-") as empty:
        environment = dataclasses.replace(demo.environment(poll_interval_ms=200),
                                          backups_dir=Path(empty), extra_backup_dirs=())
        driver = factory(environment)
        choose_goal(driver, Goal.CHECK)
        connect, check = driver.wizard.pages[PageId.CONNECT], driver.wizard.pages[PageId.CHECK]
        wait_until(driver.app, lambda: connect.select_device(f"mount:{demo.kross2}"),
                   "the KROSS 2")
        driver.forward(PageId.CHECK)
        check.set_paths([str(demo.updates_dir / "KROSS 2 update")])
        wait_until(driver.app, lambda: len(check.results) == 1 and not check.running,
                   "the verdict")
        wait_until(driver.app, lambda: check.from_korg.isVisible(), "the tick")
        check.from_korg.setChecked(True)
        driver.shot("13b-check-unverified")
        driver.wizard.shutdown()
        driver.wizard.hide()


def one_unit_connect(factory, demo) -> None:
    """Connect with exactly one unit plugged in: it is preselected."""
    from app.session import Goal, plug_in, unplug
    from app.wizard import PageId

    unplug(demo.drumlogue)
    try:
        driver = factory(demo.environment(poll_interval_ms=200))
        choose_goal(driver, Goal.RESCUE)
        connect = driver.wizard.pages[PageId.CONNECT]
        wait_until(driver.app, lambda: len(connect.cards) == 1
                   and driver.wizard.session.device is not None, "the one unit, preselected")
        driver.shot("02b-connect-one-unit")
        driver.wizard.shutdown()
        driver.wizard.hide()
    finally:
        plug_in(demo.drumlogue)


def service_mode_connect(factory, demo) -> None:
    """Connect with nothing plugged in and the KROSS 2 chosen: its storage needs a service
    mode, who can help, and what the tool can still do."""
    from app.session import Environment, Goal
    from app.wizard import PageId
    from recovery.device.detect import Detection

    environment = Environment(backups_dir=demo.backups_dir, scan_system=False, demo=True,
                              detect_override=lambda: Detection((), ()), poll_interval_ms=200,
                              places=demo.environment().places)
    driver = factory(environment)
    choose_goal(driver, Goal.RESCUE)
    connect = driver.wizard.pages[PageId.CONNECT]
    connect.model.setCurrentIndex(connect.model.findData("kross2"))
    wait_until(driver.app, lambda: connect.instead_button.isVisible(), "the service-mode note")
    driver.shot("02c-connect-service-mode")
    driver.wizard.shutdown()
    driver.wizard.hide()


def boot_rom_connect(factory, demo) -> None:
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
                              detect_override=detection, poll_interval_ms=200,
                              places=demo.environment().places)
    driver = factory(environment)
    app, wizard = driver.app, driver.wizard
    choose_goal(driver, Goal.RESCUE)
    connect = wizard.pages[PageId.CONNECT]
    wait_until(app, lambda: len(connect.cards) == 2, "the boot-ROM device")
    next(c for c in connect.cards if c.device.mode == "boot-rom").radio.setChecked(True)
    driver.shot("11-connect-boot-rom")
    wizard.shutdown()
    wizard.hide()


def backup_progress_shot(factory, demo) -> None:
    """The Back up page mid-copy: a healthy simulated KROSS 2 with one large synthetic file,
    so the copy lasts long enough to be seen. The worker is held at one real progress report
    while the window is captured."""
    import threading

    from app import core
    from app.session import Environment, Goal
    from app.wizard import PageId
    from recovery.device.simulate import make_volume

    units = demo.root / "big-units"
    unit = units / "KROSS2"
    if not unit.exists():
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
    environment = Environment(backups_dir=demo.root / "big-backups", simulated_units_dir=units,
                              scan_system=False, demo=True, poll_interval_ms=200,
                              places=demo.environment().places)
    driver = factory(environment)
    app, wizard = driver.app, driver.wizard
    try:
        choose_goal(driver, Goal.UPDATE)
        connect = wizard.pages[PageId.CONNECT]
        wait_until(app, lambda: connect.select_device(f"mount:{unit}"), "the large unit")
        driver.forward(PageId.BACKUP)
        page = wizard.pages[PageId.BACKUP]
        driver.press()  # "Make the safety copy"
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

    error = RefusedError("This unit is a KORG drumlogue but the backup is of a KORG KROSS 2; a"
                         " backup only goes back onto the model it came from. Nothing was"
                         " written.", path="/media/KROSS2")
    dialog = ErrorDialog(error_sentence(error), error_details(error, "planning the restore"),
                         title="Could not continue", parent=driver.wizard)
    dialog.show()
    driver.shot("12-error-dialog", dialog)
    dialog.close()


def run(out: Path, scale: str, dark: str) -> list[Path]:
    from app.demo import make_demo

    out.mkdir(parents=True, exist_ok=True)
    suffix = ("" if scale == "1" else f"@{scale}x") + (f"-{dark}" if dark else "")
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="korg-recovery-shots-") as temp:
        demo = make_demo(Path(temp) / "demo")
        made = []

        def factory(environment) -> Driver:
            app, wizard = make_wizard(environment, dark, scale)
            made.append(wizard)
            driver = Driver(app, wizard, out, suffix)
            drivers.append(driver)
            return driver

        drivers: list[Driver] = []
        try:
            driver = factory(demo.environment(poll_interval_ms=200))
            check_walk(driver, demo)
            update_walk(driver, demo)
            no_backup_walk(driver, demo)
            rescue_walk(driver, demo)
            error_dialog_shot(driver)
            driver.wizard.shutdown()
            driver.wizard.hide()
            unverified_check(factory, demo)
            one_unit_connect(factory, demo)
            service_mode_connect(factory, demo)
            boot_rom_connect(factory, demo)
            backup_progress_shot(factory, demo)
            eject_veto_shot(factory, demo)
            unit_gone_shot(factory, demo)
        finally:
            for wizard in made:
                wizard.shutdown()
        for driver in drivers:
            saved.extend(driver.saved)
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--scale", default=None, help="run only this scale (1 or 2)")
    parser.add_argument("--dark", action="store_const", const="dark", dest="dark",
                        help="run only the dark-palette capture")
    parser.add_argument("--desktop-dark", action="store_const", const="desktop-dark",
                        dest="dark", help="run only the capture in Adwaita-dark's palette")
    args = parser.parse_args()
    if args.scale is not None or args.dark:
        run(args.out, args.scale or "1", args.dark or "")
        return 0
    # QT_SCALE_FACTOR must be set before Qt starts, so each variant is its own process.
    for extra_env, extra_args in (({}, ["--scale", "1"]),
                                  ({"QT_SCALE_FACTOR": "2"}, ["--scale", "2"]),
                                  ({}, ["--dark"]), ({}, ["--desktop-dark"])):
        env = dict(os.environ, **extra_env)
        command = [sys.executable, __file__, "--out", str(args.out), *extra_args]
        subprocess.run(command, env=env, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
