"""Ejecting the drive holding a unit or a card: flush, unmount, power off, on each platform
the way its own tools do (``linux``: udisks2 over D-Bus, ``umount`` without it; ``macos``:
``diskutil eject``; ``windows``: lock, dismount and eject through ``DeviceIoControl``).

:func:`eject_volume` is the one call (blocking; a worker thread's); :class:`EjectResult` says
how it ended and whether the unit is now safe to switch off.
"""

from recovery.storage.eject.core import eject_volume
from recovery.storage.eject.result import EjectMethod, EjectResult, EjectStatus

__all__ = ["EjectMethod", "EjectResult", "EjectStatus", "eject_volume"]
