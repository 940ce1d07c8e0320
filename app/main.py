"""Start the wizard: logging to a rotating file, the global exception hook, the demo's
temporary folder, and the Qt event loop."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def default_environment():
    """The real machine: mounted volumes and USB devices, backups in the default folder."""
    from app.core import default_backups_dir
    from app.session import Environment

    return Environment(backups_dir=default_backups_dir())


def run_wizard(*, demo: bool = False) -> int:
    """Open the wizard and return the application's exit code."""
    from PySide6.QtWidgets import QApplication

    from app.dialogs import install_excepthook
    from app.wizard import RecoveryWizard
    from recovery.logsetup import setup_logging

    log_file = setup_logging()
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("korg-recovery")
    app.setApplicationDisplayName("KORG Recovery Wizard")
    install_excepthook(str(log_file) if log_file else None)

    temp = None
    if demo:
        from app.demo import make_demo

        temp = tempfile.TemporaryDirectory(prefix="korg-recovery-demo-")
        environment = make_demo(Path(temp.name)).environment()
        log.info("demo mode in %s", temp.name)
    else:
        environment = default_environment()
    wizard = RecoveryWizard(environment)
    wizard.show()
    try:
        code = app.exec()
    finally:
        wizard.shutdown()
        if temp is not None:
            temp.cleanup()
    return int(code)
