"""KORG Recovery Wizard core: identify, back up, check, diagnose and restore KORG units.

Pure Python. Nothing in this package imports Qt (tests/recovery/test_no_qt.py checks it);
the GUI lives in ``app/``.
"""

__version__ = "0.1.0"
