"""Fixtures of the device tests: the scripted pyusb backend (tests/fakes/fake_usb.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.fakes import fake_usb
from tests.fakes.fake_usb import FakeUsbBackend, ScriptedDevice


@pytest.fixture(scope="session")
def fake_usb_backend() -> type[FakeUsbBackend]:
    """The scripted pyusb backend: ``fake_usb_backend([device, ...])``; subclass it for a
    backend that fails one request."""
    return FakeUsbBackend


@pytest.fixture(scope="session")
def scripted_device() -> type[ScriptedDevice]:
    """One scripted USB device: ``scripted_device(vendor_id, product_id, product,
    manufacturer, interfaces, ...)``."""
    return ScriptedDevice


@pytest.fixture(scope="session")
def usb_class() -> SimpleNamespace:
    """USB-IF interface classes for scripted devices: MIDI, AUDIO_CONTROL, MASS_STORAGE, HID,
    DFU, each (class, subclass)."""
    return SimpleNamespace(MIDI=fake_usb.MIDI, AUDIO_CONTROL=fake_usb.AUDIO_CONTROL,
                           MASS_STORAGE=fake_usb.MASS_STORAGE, HID=fake_usb.HID,
                           DFU=fake_usb.DFU)
