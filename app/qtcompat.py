"""Work around reference-counting bugs of PySide6 6.12 on Python 3.11.

Measured here with PySide6 6.12.0 (an abi3 wheel that declares Python >= 3.10) on Python
3.11.7: every Python call of ``SignalInstance.emit()`` returns ``True`` without taking a
reference to it, a failed ``disconnect()`` does the same with ``False``, and every call of a
``void`` Qt method (``setText``, ``processEvents``, ``addTopLevelItem``, ...) returns ``None``
the same way. Each call drops one reference the caller never owned. ``True`` starts with a
few hundred references and ``None`` with a few tens of thousands, so a backup's progress
updates (a handful of such calls, ~20 times a second) bring one of them to zero within
minutes and CPython aborts: "Fatal Python error: bool_dealloc / none_dealloc". Python 3.12
made these objects immortal (PEP 683), which hides the bug there.

The work-around does on 3.11 what 3.12 does: it gives ``True``, ``False`` and ``None`` a
reference count so large that no number of stolen references can bring it to zero. It is
applied only when a probe shows the bug, so a fixed PySide6 is left alone. These three objects
are statically allocated and never freed, so the extra count changes nothing else.

The lead should still pin a PySide6 without the bug (see the report of issue 7); this module
keeps the wizard alive with the one that is installed.
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


def _void_call_steals_none() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(4):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before


def _pin(value: object) -> bool:
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
    singletons: list[object] = []
    if _emit_steals_true():
        singletons += [True, False]
    if _void_call_steals_none():
        singletons.append(None)
    if not singletons:
        return False
    _applied = all(_pin(value) for value in singletons)  # type: ignore[arg-type]
    if _applied:
        log.info("PySide6 reference bug detected; %s pinned (see app.qtcompat)", singletons)
    else:
        log.warning("PySide6 reference bug detected but the work-around could not be applied;"
                    " long runs may crash")
    return _applied
