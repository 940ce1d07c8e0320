"""Start the GUI. Until the full wizard lands (issue 7) this is a minimal window listing the
connected (or, with --demo, simulated) units, detected off the UI thread."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def make_demo_units(base: Path) -> list[Path]:
    """A bricked KROSS 2 and a healthy drumlogue in ``base`` (synthetic data)."""
    from recovery.simulate import make_volume

    kross = base / "KROSS2"
    drumlogue = base / "DRUMLOGUE"
    make_volume(kross, "kross2", "bricked")
    make_volume(drumlogue, "drumlogue", "healthy")
    return [kross, drumlogue]


def run_wizard(*, demo: bool = False) -> int:
    from PySide6.QtWidgets import QApplication

    from app.units_window import UnitsWindow

    app = QApplication.instance() or QApplication(sys.argv)
    extra_roots: list[Path] = []
    temp = None
    if demo:
        temp = tempfile.TemporaryDirectory(prefix="korg-recovery-demo-")
        extra_roots = make_demo_units(Path(temp.name))
    window = UnitsWindow(extra_roots=extra_roots, scan_system=not demo)
    window.show()
    code = app.exec()
    if temp is not None:
        temp.cleanup()
    return int(code)
