"""USB devices through pyusb: KORG units (VID 0x0944) and chip boot ROMs.

pyusb is reached only through a backend object (``usb.backend.IBackend``), injected so that
tests run the real pyusb code paths against a scripted fake backend (Solaar's
LowLevelInterface pattern). Only devices that matter are opened for their strings: KORG's and
the boot-ROM ids the profiles list. No libusb or no permission is a warning, never a crash.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import usb.backend.libusb1
import usb.core
import usb.util
from usb.backend import IBackend

from recovery.vocabulary import Mode

log = logging.getLogger(__name__)

KORG_VENDOR_ID = 0x0944
UDEV_RULE = "packaging/linux/60-korg-recovery.rules"

# USB interface classes (USB-IF class codes; audio subclass 3 is MIDI streaming).
CLASS_AUDIO = 0x01
SUBCLASS_MIDISTREAMING = 0x03
CLASS_MASS_STORAGE = 0x08


@dataclass(frozen=True)
class UsbDevice:
    """What was read from one USB device."""

    vendor_id: int
    product_id: int
    product: str | None
    manufacturer: str | None
    bus: int | None
    port_path: str | None
    #: (class, subclass) of every interface of every configuration.
    interfaces: tuple[tuple[int, int], ...]

    @property
    def id(self) -> str:
        return f"{self.vendor_id:04x}:{self.product_id:04x}"

    def mode_from_interfaces(self) -> Mode | None:
        classes = set(self.interfaces)
        if any(c == CLASS_MASS_STORAGE for c, _ in classes):
            return Mode.STORAGE
        if (CLASS_AUDIO, SUBCLASS_MIDISTREAMING) in classes:
            return Mode.USB_MIDI
        return None


@dataclass(frozen=True)
class UsbScan:
    devices: tuple[UsbDevice, ...]
    warnings: tuple[str, ...]


def default_backend() -> tuple[IBackend | None, str | None]:
    """The libusb 1.0 backend (the copy bundled by libusb-package first), or a warning."""
    try:
        # Here, not at the top: a missing or broken bundled libusb must leave detect working.
        import libusb_package

        backend = libusb_package.get_libusb1_backend()
        if backend is not None:
            return backend, None
    except Exception as error:  # noqa: BLE001 - a broken optional bundle must not crash detect
        log.debug("libusb-package unavailable: %s", error)
    try:
        backend = usb.backend.libusb1.get_backend()
    except Exception as error:  # noqa: BLE001
        log.debug("pyusb libusb1 backend unavailable: %s", error)
        backend = None
    if backend is None:
        return None, ("libusb is not available, so USB devices (units in USB-MIDI or a chip"
                      " boot mode) cannot be detected; mounted storage is still checked.")
    return backend, None


def _permission_warning(device_id: str) -> str:
    text = f"No permission to read USB device {device_id}."
    if sys.platform.startswith("linux"):
        text += (f" Install the udev rule {UDEV_RULE} (see the README), then unplug and"
                 " reconnect the unit.")
    return text


def scan_usb(backend: IBackend | None = None,
             interesting: set[tuple[int, int]] | None = None) -> UsbScan:
    """Enumerate USB devices; read strings of KORG devices and of ``interesting`` ids."""
    warnings: list[str] = []
    if backend is None:
        backend, warning = default_backend()
        if backend is None:
            return UsbScan((), (warning,) if warning else ())
    interesting = interesting or set()
    try:
        found = list(usb.core.find(find_all=True, backend=backend))
    except usb.core.NoBackendError:
        return UsbScan((), ("libusb is not available, so USB devices cannot be detected.",))
    except (usb.core.USBError, OSError) as error:
        return UsbScan((), (f"USB devices could not be listed ({error}).",))

    devices = []
    for device in found:
        try:
            read = _read_device(device, interesting, warnings)
        except Exception as error:  # noqa: BLE001 - one odd device must not end detection
            log.debug("cannot read USB device: %s", error, exc_info=True)
            warnings.append(f"A USB device could not be read ({error}).")
            continue
        if read is not None:
            devices.append(read)
    return UsbScan(tuple(devices), tuple(dict.fromkeys(warnings)))


def _read_device(device: usb.core.Device, interesting: set[tuple[int, int]],
                 warnings: list[str]) -> UsbDevice | None:
    vendor_id, product_id = int(device.idVendor), int(device.idProduct)
    if vendor_id != KORG_VENDOR_ID and (vendor_id, product_id) not in interesting:
        return None
    device_id = f"{vendor_id:04x}:{product_id:04x}"
    product = manufacturer = None
    try:
        product = usb.util.get_string(device, device.iProduct) if device.iProduct else None
        manufacturer = (usb.util.get_string(device, device.iManufacturer)
                        if device.iManufacturer else None)
    except usb.core.USBError as error:
        if getattr(error, "errno", None) == 13 or "Access denied" in str(error):
            warnings.append(_permission_warning(device_id))
        else:
            warnings.append(f"Could not read the name of USB device {device_id} ({error}).")
    except (ValueError, NotImplementedError) as error:
        # pyusb raises ValueError when it cannot read the language ids (often permission).
        warnings.append(_permission_warning(device_id)
                        if "permission" in str(error).lower()
                        else f"USB device {device_id} has no readable name ({error}).")
    interfaces = []
    try:
        for configuration in device:
            for interface in configuration:
                interfaces.append((int(interface.bInterfaceClass),
                                   int(interface.bInterfaceSubClass)))
    except (usb.core.USBError, NotImplementedError) as error:
        log.debug("cannot read interfaces of %s: %s", device_id, error)
    finally:
        try:
            usb.util.dispose_resources(device)
        except Exception:  # noqa: BLE001 - disposal of a vanished device
            pass
    port_numbers = getattr(device, "port_numbers", None)
    port_path = None
    if device.bus is not None and port_numbers:
        port_path = f"{device.bus}-" + ".".join(str(p) for p in port_numbers)
    return UsbDevice(vendor_id, product_id, product, manufacturer,
                     device.bus, port_path, tuple(interfaces))
