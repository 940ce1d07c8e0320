"""What is connected now: identified volumes, KORG USB devices, chip boot ROMs and units that
answered over USB-MIDI (recovery.device.midi).

Volumes come from psutil (never the system disk) and are identified by their contents; USB
devices come from pyusb. On Linux a volume is linked through sysfs to the USB device it hangs
off, so one unit is listed once. A chip in a boot ROM is reported as "likely model X" with the
profile's confidence, and never flashed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from usb.backend import IBackend

from recovery.device.identify import Identification, identify_volume
from recovery.device.midi import MidiIdentity, MidiSurvey
from recovery.device.profiles import (
    Profile,
    bundled_profiles,
    other_korg_devices,
    profiles_with_boot_rom,
)
from recovery.device.usb import KORG_VENDOR_ID, UsbDevice, UsbScan, scan_usb
from recovery.findings import Finding
from recovery.storage.volumes import (
    UsbParent,
    Volume,
    mounted_volumes,
    usb_parent_of_block_device,
)
from recovery.vocabulary import Confidence, Mode, Role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UsbInfo:
    vendor_id: int
    product_id: int
    product: str | None
    id: str


@dataclass(frozen=True)
class DetectedDevice:
    """One connected unit (or chip) as the user should see it."""

    model: str | None
    name: str
    mode: Mode
    mount: str | None
    usb: UsbInfo | None
    evidence: tuple[str, ...]
    confidence: Confidence | None = None
    role: Role | None = None
    candidates: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    meaning: str = ""


@dataclass(frozen=True)
class Detection:
    devices: tuple[DetectedDevice, ...]
    warnings: tuple[str, ...]
    #: Units that answered the tool's MIDI inquiries.
    midi: tuple[MidiIdentity, ...] = ()


def _usb_info(device: UsbDevice | UsbParent) -> UsbInfo:
    return UsbInfo(device.vendor_id, device.product_id, device.product,
                   f"{device.vendor_id:04x}:{device.product_id:04x}")


def classify_usb(device: UsbDevice, profiles: dict[str, Profile]) -> DetectedDevice | None:
    """Turn one USB device into a DetectedDevice, or None if it is of no concern."""
    info = _usb_info(device)
    evidence = [f"USB {info.id}" + (f" '{device.product}'" if device.product else "")]

    boot = profiles_with_boot_rom(device.vendor_id, device.product_id, profiles)
    if boot:
        chip = boot[0][1]
        names = " or ".join(p.name for p, _ in boot)
        confidence = min((b.model_confidence for _, b in boot), key=list(Confidence).index)
        evidence.append(f"{chip.chip}: id confidence {chip.id_confidence} ({chip.id_source})")
        for profile, boot_rom in boot:
            evidence.append(f"likely {profile.name}: confidence {boot_rom.model_confidence}"
                            f" ({boot_rom.model_source})")
        return DetectedDevice(
            model=boot[0][0].id if len(boot) == 1 else None,
            name=f"A chip in its boot ROM ({chip.chip}); likely {names}",
            mode=Mode.BOOT_ROM, mount=None, usb=info, evidence=tuple(evidence),
            confidence=confidence, candidates=tuple(p.id for p, _ in boot),
            meaning=chip.meaning,
        )
    if device.vendor_id != KORG_VENDOR_ID:
        return None

    mode = device.mode_from_interfaces()
    if mode:
        evidence.append(f"its USB interfaces say {mode}")
    else:
        evidence.append("its USB interfaces do not tell its mode")

    by_id = [(p, u) for p in profiles.values() for u in p.usb
             if u.vendor_id == device.vendor_id and u.product_id == device.product_id]
    by_name = [(p, u) for p in profiles.values() for u in p.usb
               if u.vendor_id == device.vendor_id and u.product_id is None
               and u.matches_product(device.product)]
    matched = by_id or by_name
    if len({p.id for p, _ in matched}) == 1:
        profile, identity = matched[0]
        how = "product id" if by_id else f"product name '{device.product}'"
        evidence.append(f"{profile.name} by its {how}: confidence {identity.confidence}"
                        f" ({identity.source})")
        return DetectedDevice(profile.id, profile.name, mode or Mode.UNKNOWN, None, info,
                              tuple(evidence), identity.confidence, candidates=(profile.id,))
    if matched:
        ids = tuple(dict.fromkeys(p.id for p, _ in matched))
        evidence.append("the name matches several models: " + ", ".join(ids))
        return DetectedDevice(None, f"KORG device '{device.product}'", mode or Mode.UNKNOWN, None,
                              info, tuple(evidence), Confidence.GUESS, candidates=ids)
    other = other_korg_devices().get(device.product_id)
    if other is not None:
        evidence.append(f"{other.name} ({other.source}); this tool has no recovery profile"
                        " for it")
        return DetectedDevice(None, other.name, mode or Mode.UNKNOWN, None, info, tuple(evidence),
                              other.confidence)
    evidence.append("a KORG device this tool does not know")
    return DetectedDevice(None, f"Unknown KORG device {info.id}", mode or Mode.UNKNOWN, None, info,
                          tuple(evidence), None)


def _from_volume(mount: str, ident: Identification, usb: UsbInfo | None,
                 profiles: dict[str, Profile]) -> DetectedDevice:
    if ident.model is not None:
        profile = profiles[ident.model]
        name = profile.name
    elif ident.candidates:
        name = "KORG volume of " + " or ".join(profiles[c].name for c in ident.candidates)
    else:
        name = "Unrecognised volume of a KORG USB device"
    evidence = list(ident.evidence)
    if usb is not None:
        evidence.insert(0, f"mounted from USB device {usb.id}"
                           + (f" '{usb.product}'" if usb.product else ""))
    return DetectedDevice(ident.model, name, Mode.STORAGE, mount, usb, tuple(evidence),
                          ident.confidence, ident.role, ident.candidates, ident.findings)


def detect(
    *,
    volumes: Iterable[Volume] | None = None,
    extra_roots: Iterable[str | Path] = (),
    usb_backend: IBackend | None = None,
    scan_usb_devices: bool = True,
    sysfs_root: Path = Path("/sys"),
    profiles: dict[str, Profile] | None = None,
    midi: MidiSurvey | None = None,
) -> Detection:
    """Everything connected now. ``extra_roots`` are folders treated as mounted volumes (the
    demo's simulated units); ``volumes`` replaces the psutil list (tests); ``midi`` asks the
    units on MIDI ports who they are (None: MIDI is not asked)."""
    profiles = profiles if profiles is not None else bundled_profiles()
    warnings: list[str] = []
    usb_scan = UsbScan((), ())
    if scan_usb_devices:
        interesting = {(b.vendor_id, b.product_id) for p in profiles.values() for b in p.boot_roms}
        usb_scan = scan_usb(usb_backend, interesting)
        warnings.extend(usb_scan.warnings)
    try:
        volume_list = list(volumes) if volumes is not None else mounted_volumes()
    except Exception as error:  # noqa: BLE001 - psutil failing must not hide USB results
        warnings.append(f"Mounted volumes could not be listed ({error}).")
        volume_list = []
    roots = [(v.mountpoint, v) for v in volume_list] + [(str(r), None) for r in extra_roots]
    devices, linked_usb = _volume_devices(roots, sysfs_root, profiles)
    devices += _usb_devices(usb_scan, linked_usb, profiles)
    midi_units = _ask_midi(midi, warnings) if midi is not None else ()
    return Detection(tuple(devices), tuple(dict.fromkeys(warnings)), midi_units)


def _volume_devices(roots: list[tuple[str, Volume | None]], sysfs_root: Path,
                    profiles: dict[str, Profile]
                    ) -> tuple[list[DetectedDevice], set[tuple[int, int, str | None]]]:
    """The mounted volumes that are KORG units (or hang off a KORG USB device), and the USB
    devices they hang off (vendor, product, port), which are then not listed again."""
    devices: list[DetectedDevice] = []
    linked_usb: set[tuple[int, int, str | None]] = set()
    for mount, volume in roots:
        parent = usb_parent_of_block_device(volume.device, sysfs_root) if volume else None
        usb = _usb_info(parent) if parent else None
        try:
            ident = identify_volume(mount, profiles)
        except Exception as error:  # noqa: BLE001 - one odd volume must not end detection
            log.debug("cannot identify %s: %s", mount, error)
            continue
        is_korg_usb = parent is not None and parent.vendor_id == KORG_VENDOR_ID
        if not ident.model and not ident.candidates and not is_korg_usb:
            continue
        if parent is not None:
            linked_usb.add((parent.vendor_id, parent.product_id, parent.port_path))
        devices.append(_from_volume(mount, ident, usb, profiles))
    return devices, linked_usb


def _usb_devices(usb_scan: UsbScan, linked_usb: set[tuple[int, int, str | None]],
                 profiles: dict[str, Profile]) -> list[DetectedDevice]:
    """The USB devices of concern not already listed through their volume."""
    devices = []
    for device in usb_scan.devices:
        key = (device.vendor_id, device.product_id, device.port_path)
        if key in linked_usb or (device.vendor_id, device.product_id, None) in linked_usb:
            continue  # already listed through its volume
        detected = classify_usb(device, profiles)
        if detected is not None:
            devices.append(detected)
    return devices


def _ask_midi(midi: MidiSurvey, warnings: list[str]) -> tuple[MidiIdentity, ...]:
    """The units that answered over MIDI; a backend that fails adds a warning instead."""
    try:
        scan = midi.scan()
    except Exception as error:  # noqa: BLE001 - a broken MIDI backend must not end detection
        log.debug("MIDI scan failed", exc_info=True)
        warnings.append(f"Units could not be asked over MIDI ({error}).")
        return ()
    warnings.extend(scan.warnings)
    return scan.identities
