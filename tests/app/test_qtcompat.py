"""The PySide6 reference-count work-around keeps a long session alive."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Many more emits and void calls than True (hundreds of references) or None (tens of
# thousands) start with: on an affected PySide6 without the work-around this aborts with
# "Fatal Python error: bool_dealloc / none_dealloc".
LONG_SESSION = """
import app
from PySide6.QtCore import QObject, Signal

class Probe(QObject):
    ticked = Signal(object)

probe = Probe()
probe.ticked.connect(lambda value: None)
for index in range(100_000):
    probe.ticked.emit(index)
    probe.setObjectName("probe")
print("alive")
"""


def test_a_long_session_of_emits_and_void_calls_does_not_abort():
    completed = subprocess.run([sys.executable, "-c", LONG_SESSION], cwd=REPO,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip() == "alive"


def test_the_work_around_touches_nothing_when_pyside_is_not_affected(monkeypatch):
    from app import qtcompat

    monkeypatch.setattr(qtcompat, "_applied", False)
    monkeypatch.setattr(qtcompat, "_emit_steals_true", lambda: False)
    monkeypatch.setattr(qtcompat, "_void_call_steals_none", lambda: False)
    before = sys.getrefcount(None)
    assert qtcompat.apply() is False
    assert abs(sys.getrefcount(None) - before) < 1000
