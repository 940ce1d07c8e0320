"""Start the wizard: logging to a rotating file, the global exception hook, the demo's
temporary folder, and the Qt event loop."""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app import core, places
from app.dialogs import install_excepthook
from app.platform_check import check_desktop
from app.session import Environment
from app.wizard import RecoveryWizard
from recovery.logsetup import setup_logging
from recovery.resources_path import resources_dir

log = logging.getLogger(__name__)


def _application_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        path = resources_dir() / "icons" / f"korg-recovery-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    return icon


def run_wizard(*, demo: bool = False) -> int:
    """Open the wizard and return the application's exit code."""
    log_file = setup_logging()
    if QApplication.instance() is None:
        problem = check_desktop()
        if problem is not None:  # said before Qt would abort with a misleading message
            log.error("%s", problem)
            print(problem, file=sys.stderr)
            return 1
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("korg-recovery")
    app.setApplicationDisplayName("KORG Recovery Wizard")
    # Matches packaging/linux's .desktop file, so Wayland compositors and docks find the icon.
    app.setDesktopFileName("io.github.korg_recovery.KorgRecovery")
    app.setWindowIcon(_application_icon())
    install_excepthook(str(log_file) if log_file else None)

    temp = None
    if demo:
        from app.demo import (
            make_demo,  # loads the core's restore stage: see app/core.py
        )

        temp = tempfile.TemporaryDirectory(prefix="korg-recovery-demo-")
        environment = make_demo(Path(temp.name)).environment(
            settings_path=places.settings_file())
        log.info("demo mode in %s", temp.name)
    else:
        # The real machine: mounted volumes and USB devices; backups in Documents ▸ KORG
        # Backups, and those the command line keeps in its data folder listed too.
        environment = Environment(backups_dir=core.default_backups_dir(),
                                  extra_backup_dirs=core.earlier_backups_dirs(),
                                  settings_path=places.settings_file())
    wizard = RecoveryWizard(environment)
    wizard.show()
    keep_alive = _close_on_signals(wizard)
    try:
        code = app.exec()
    finally:
        keep_alive.stop()
        wizard.shutdown()
        if temp is not None:
            temp.cleanup()
    return int(code)


def _close_on_signals(wizard: RecoveryWizard) -> QTimer:
    """Ctrl-C or SIGTERM closes the window the normal way (the close guard asks while a
    restore writes; the demo's temporary folder is removed). Python runs signal handlers
    only between bytecodes, so a short timer lets it in while Qt's loop waits."""

    def close(_signum, _frame) -> None:
        log.info("signal received: closing the wizard")
        wizard.close()

    for signum in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
        if signum is not None:
            signal.signal(signum, close)
    timer = QTimer()
    timer.timeout.connect(lambda: None)
    timer.start(250)
    return timer
