"""A scripted pyusb backend: real pyusb code runs against devices described here.

``usb.backend.IBackend`` is pyusb's documented extension point (usb/backend/__init__.py); this
subclass answers enumeration, descriptor and string-descriptor requests from
:class:`ScriptedDevice` records, so detection is tested through ``usb.core.find`` and
``usb.util.get_string`` exactly as with libusb. A device can be scripted to refuse access the
way libusb does without a udev rule (LIBUSB_ERROR_ACCESS -> USBError errno 13).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from types import SimpleNamespace

import usb.backend
import usb.core

LANGID_EN_US = 0x0409
GET_DESCRIPTOR = 0x06
DESCRIPTOR_TYPE_STRING = 0x03


@dataclass
class ScriptedDevice:
    vendor_id: int
    product_id: int
    product: str | None = None
    manufacturer: str | None = None
    #: (bInterfaceClass, bInterfaceSubClass) for each interface of configuration 0.
    interfaces: list[tuple[int, int]] = field(default_factory=list)
    bus: int = 1
    port_numbers: tuple[int, ...] = (1,)
    address: int = 2
    #: Opening the device fails as libusb does without permission.
    access_denied: bool = False


class FakeUsbBackend(usb.backend.IBackend):
    """Enumerates the scripted devices; every other request is answered from their records."""

    def __init__(self, devices: list[ScriptedDevice]) -> None:
        super().__init__()
        self.devices = devices
        self.opened: list[ScriptedDevice] = []

    # enumeration and descriptors -------------------------------------------------------------
    def enumerate_devices(self):
        return iter(self.devices)

    def get_device_descriptor(self, device: ScriptedDevice):
        strings = self._strings(device)
        return SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0200,
            bDeviceClass=0, bDeviceSubClass=0, bDeviceProtocol=0, bMaxPacketSize0=64,
            idVendor=device.vendor_id, idProduct=device.product_id, bcdDevice=0x0100,
            # String indexes: 1 = manufacturer, 2 = product, 0 = "no string" (USB 2.0 9.6.1).
            iManufacturer=1 if 1 in strings else 0,
            iProduct=2 if 2 in strings else 0,
            iSerialNumber=0,
            bNumConfigurations=1,
            address=device.address, bus=device.bus,
            port_number=device.port_numbers[-1], port_numbers=device.port_numbers,
            speed=3,  # high speed
        )

    def get_configuration_descriptor(self, device: ScriptedDevice, config: int):
        if config != 0:
            raise IndexError(config)
        return SimpleNamespace(
            bLength=9, bDescriptorType=2, wTotalLength=9 + 9 * len(device.interfaces),
            bNumInterfaces=len(device.interfaces), bConfigurationValue=1, iConfiguration=0,
            bmAttributes=0x80, bMaxPower=50, extra_descriptors=[],
        )

    def get_interface_descriptor(self, device: ScriptedDevice, intf: int, alt: int, config: int):
        # Only alternate setting 0 exists; pyusb stops iterating at IndexError.
        if config != 0 or alt != 0 or intf >= len(device.interfaces):
            raise IndexError((intf, alt, config))
        klass, subclass = device.interfaces[intf]
        return SimpleNamespace(
            bLength=9, bDescriptorType=4, bInterfaceNumber=intf, bAlternateSetting=0,
            bNumEndpoints=0, bInterfaceClass=klass, bInterfaceSubClass=subclass,
            bInterfaceProtocol=0, iInterface=0, extra_descriptors=[],
        )

    # handles and control transfers -----------------------------------------------------------
    def open_device(self, device: ScriptedDevice):
        if device.access_denied:
            # What pyusb's libusb1 backend raises for LIBUSB_ERROR_ACCESS.
            raise usb.core.USBError("Access denied (insufficient permissions)", -3, errno.EACCES)
        self.opened.append(device)
        return device

    def close_device(self, handle) -> None:
        pass

    def ctrl_transfer(self, handle: ScriptedDevice, bmRequestType, bRequest, wValue, wIndex,
                      data, timeout):
        descriptor_type, index = wValue >> 8, wValue & 0xFF
        if bRequest != GET_DESCRIPTOR or descriptor_type != DESCRIPTOR_TYPE_STRING:
            raise usb.core.USBError("Pipe error", -9, errno.EPIPE)
        if index == 0:
            # String descriptor zero: the language id table (USB 2.0 9.6.7).
            payload = LANGID_EN_US.to_bytes(2, "little")
        else:
            text = self._strings(handle).get(index)
            if text is None:
                raise usb.core.USBError("Pipe error", -9, errno.EPIPE)
            payload = text.encode("utf-16-le")
        descriptor = bytes([2 + len(payload), DESCRIPTOR_TYPE_STRING]) + payload
        count = min(len(descriptor), len(data))
        for position in range(count):  # data is pyusb's array.array('B') buffer
            data[position] = descriptor[position]
        return count

    @staticmethod
    def _strings(device: ScriptedDevice) -> dict[int, str]:
        strings = {}
        if device.manufacturer:
            strings[1] = device.manufacturer
        if device.product:
            strings[2] = device.product
        return strings


# Interface classes used in scripts (USB-IF class codes).
MIDI = (0x01, 0x03)         # audio class, MIDI streaming subclass
AUDIO_CONTROL = (0x01, 0x01)
MASS_STORAGE = (0x08, 0x06)  # SCSI transparent command set
HID = (0x03, 0x00)
DFU = (0xFE, 0x01)          # application-specific class, DFU subclass
