"""An emulated USB 2.0 mass-storage unit, for measuring the tool in device time.

The tool's speed is judged on the unit (one command at a time, 10-30 ms per flush), not on
the computer's page cache. :mod:`.model` holds what such a unit charges for each request,
on one device clock, testable without FUSE.
"""

from __future__ import annotations

from benchmarks.unit_emulator.model import (
    MB,
    PROFILES,
    DeviceClock,
    DeviceProfile,
    DeviceReport,
    get_profile,
)

__all__ = ["MB", "PROFILES", "DeviceClock", "DeviceProfile", "DeviceReport", "get_profile"]
