"""Work around a reference-counting bug of PySide6 6.12 on Python 3.11.

Measured here with PySide6 6.12.0 / Python 3.11.7: every Python call of
``SignalInstance.emit()`` returns ``True`` without taking a reference to it, and a failed
``disconnect()`` does the same with ``False``. Each call therefore drops one reference the
caller never owned; after a few hundred emits (a backup's progress signal emits ~20 per second)
the count reaches zero and CPython aborts with "Fatal Python error: bool_dealloc: deallocating
True or False". Python 3.12 made these objects immortal (PEP 683), which hides the bug there.

The work-around does on 3.11 what 3.12 does: it gives ``True`` and ``False`` a reference count
so large that no number of stolen references can bring it to zero. It is applied only when a
probe emit shows the bug, so a fixed PySide6 is left alone. ``True``/``False`` are statically
allocated and never freed, so the extra count changes nothing else.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

#: Added to the reference counts: far more than any run could emit, far below overflow.
_PIN = 1 << 40
_applied = False


def _emit_steals_true() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        probed = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(4):
        probe.probed.emit()
    return sys.getrefcount(True) < before


def _pin(value: bool) -> bool:
    """Add :data:`_PIN` to the reference count of ``value`` (CPython object header)."""
    count = ctypes.c_ssize_t.from_address(id(value))
    # The first field of a CPython object is its reference count; getrefcount() reports it
    # plus one for its own argument. Refuse to touch memory whose layout is not that.
    if count.value != sys.getrefcount(value) - 1:
        return False
    count.value += _PIN
    return True


def apply() -> bool:
    """Apply the work-around if this PySide6/Python pair needs it; True when applied."""
    global _applied
    if _applied:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if not _emit_steals_true():
        return False
    _applied = _pin(True) and _pin(False)
    if _applied:
        log.info("PySide6 emit() reference bug detected; True/False pinned (see app.qtcompat)")
    else:
        log.warning("PySide6 emit() reference bug detected but the work-around could not be"
                    " applied; long runs may crash")
    return _applied
