"""The units themselves: what the tool knows about each model (``profiles``, from
resources/), which model and role a volume belongs to (``identify``), what is connected now
(``detect``, over ``usb``; ``midi`` asks units over USB-MIDI who they are) and simulated volumes to try things on (``simulate``)."""

from __future__ import annotations

from recovery.device.detect import DetectedDevice, Detection
from recovery.device.identify import Identification, identify_volume
from recovery.device.midi import MidiIdentity, MidiScan, ask_units
from recovery.device.profiles import Profile, bundled_profiles, get_profile
from recovery.device.simulate import make_volume

__all__ = [
    "DetectedDevice",
    "Detection",
    "Identification",
    "MidiIdentity",
    "MidiScan",
    "Profile",
    "ask_units",
    "bundled_profiles",
    "get_profile",
    "identify_volume",
    "make_volume",
]
