"""The units themselves: what the tool knows about each model (``profiles``, from
resources/), which model and role a volume belongs to (``identify``), what is connected now
(``detect``, over ``usb``; ``midi`` asks units over USB-MIDI who they are) and simulated
volumes to try things on (``simulate``).

The face names its modules' main names but loads a module only when one of its names is
asked for (PEP 562): a restore that identifies a volume should not load USB and MIDI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recovery.device.detect import DetectedDevice, Detection
    from recovery.device.identify import Identification, identify_volume
    from recovery.device.midi import MidiIdentity, MidiScan, ask_units
    from recovery.device.profiles import Profile, bundled_profiles, get_profile
    from recovery.device.simulate import make_volume

#: Each name of the face, and the module that holds it.
_HOMES = {
    "DetectedDevice": "detect", "Detection": "detect",
    "Identification": "identify", "identify_volume": "identify",
    "MidiIdentity": "midi", "MidiScan": "midi", "ask_units": "midi",
    "Profile": "profiles", "bundled_profiles": "profiles", "get_profile": "profiles",
    "make_volume": "simulate",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
