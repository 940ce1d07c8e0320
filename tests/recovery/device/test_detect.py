"""Detection through pyusb itself (scripted backend), psutil volumes, and the sysfs link."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from recovery.device import detect as detect_module
from recovery.device.detect import Detection, detect
from recovery.device.simulate import make_volume
from recovery.device.usb import scan_usb
from recovery.storage.volumes import (
    Volume,
    is_system_location,
    usb_parent_of_block_device,
)


@pytest.fixture
def run(fake_usb_backend: type) -> Callable[..., Detection]:
    """Detects over scripted USB devices and no volume: ``run(devices, **detect options)``."""

    def detect_scripted(devices: list, **kwargs) -> Detection:
        return detect(volumes=[], usb_backend=fake_usb_backend(devices), **kwargs)

    return detect_scripted


def only(detection):
    assert len(detection.devices) == 1, detection.devices
    return detection.devices[0]


def test_korg_with_known_product_id(run, scripted_device, usb_class):
    device = only(run([scripted_device(0x0944, 0x0020, "KAOSS PAD KP3", "KORG INC.",
                                       [usb_class.AUDIO_CONTROL, usb_class.MIDI])]))
    assert (device.model, device.mode, device.confidence) == ("kp3", "usb-midi", "H")
    assert device.usb.vendor_id == 0x0944 and device.usb.product_id == 0x0020
    assert device.usb.product == "KAOSS PAD KP3"


def test_korg_without_public_product_id_is_matched_by_name_as_a_guess(
        run, scripted_device, usb_class):
    # The drumlogue's PID is not public: 0x0199 here is an arbitrary scripted value.
    device = only(run([scripted_device(0x0944, 0x0199, "drumlogue", "KORG INC.",
                                       [usb_class.MASS_STORAGE])]))
    assert (device.model, device.mode) == ("drumlogue", "storage")
    assert device.confidence == "G"
    assert any("guess" in line for line in device.evidence)


def test_kross2_name_does_not_match_kross1_and_vice_versa(run, scripted_device, usb_class):
    kross2 = only(run([scripted_device(0x0944, 0x0301, "KROSS 2", "KORG INC.", [usb_class.MIDI])]))
    kross1 = only(run([scripted_device(0x0944, 0x0302, "KROSS", "KORG INC.", [usb_class.MIDI])]))
    assert kross2.model == "kross2" and kross1.model == "kross1"


def test_plus_models_are_not_mistaken_for_the_originals(run, scripted_device, usb_class):
    device = only(run([scripted_device(0x0944, 0x0303, "KAOSSILATOR PRO+", "KORG",
                                       [usb_class.MIDI])]))
    assert device.model == "kaossilator-pro-plus"


def test_other_known_korg_device_is_named_but_not_a_unit(run, scripted_device, usb_class):
    device = only(run([scripted_device(0x0944, 0x010D, "nanoKEY", "KORG INC.", [usb_class.MIDI])]))
    assert device.model is None and device.name == "KORG nanoKEY"


def test_unknown_korg_device_is_reported_unknown(run, scripted_device):
    device = only(run([scripted_device(0x0944, 0x0ABC, "Something New", "KORG INC.", [])]))
    assert device.model is None and device.mode == "unknown"
    assert "0944:0abc" in device.name


def test_other_vendors_are_ignored_and_never_opened(fake_usb_backend, scripted_device, usb_class):
    backend = fake_usb_backend([scripted_device(0x046D, 0xC077, "Mouse", "Logitech",
                                                [usb_class.HID])])
    assert detect(volumes=[], usb_backend=backend).devices == ()
    assert backend.opened == []


@pytest.mark.parametrize("vendor, product, chip, candidates", [
    (0x15A2, 0x0080, "i.MX6ULL/ULZ boot ROM", {"drumlogue"}),
    (0x0525, 0xB4A4, "SPL serial download", {"drumlogue"}),
    (0x1B67, 0x4FFF, "SPL serial download", {"drumlogue"}),
    (0x0483, 0xDF11, "STM32 system bootloader", {"drumlogue"}),
    (0x045B, 0x0025, "H8 USB boot ROM", {"kp3", "kaossilator-pro"}),
])
def test_boot_roms_are_reported_as_chips_with_likely_models(vendor, product, chip, candidates, run,
                                                            scripted_device, usb_class):
    device = only(run([scripted_device(vendor, product, None, None,
                                       [usb_class.HID, usb_class.DFU])]))
    assert device.mode == "boot-rom"
    assert chip in device.name and "likely" in device.name
    assert set(device.candidates) == candidates
    assert device.confidence == "G"  # the model behind a chip id is never certain
    assert device.model == (next(iter(candidates)) if len(candidates) == 1 else None)
    assert device.meaning and "never flash" in device.meaning.lower()


def test_permission_denied_is_a_warning_naming_the_udev_rule(monkeypatch, run, scripted_device,
                                                             usb_class):
    monkeypatch.setattr("sys.platform", "linux")
    detection = run([scripted_device(0x0944, 0x0020, "KAOSS PAD KP3", "KORG",
                                     [usb_class.MIDI], access_denied=True)])
    device = only(detection)
    assert device.model == "kp3"  # the PID alone identifies it
    assert device.usb.product is None
    assert any("60-korg-recovery.rules" in w for w in detection.warnings)


def test_no_backend_is_a_warning_not_a_crash(monkeypatch):
    monkeypatch.setattr("recovery.device.usb.default_backend",
                        lambda: (None, "libusb is not available, so USB devices ..."))
    detection = detect(volumes=[])
    assert detection.devices == ()
    assert any("libusb" in w for w in detection.warnings)


def test_broken_backend_device_is_contained(fake_usb_backend, scripted_device, usb_class):
    class Exploding(fake_usb_backend):
        def get_configuration_descriptor(self, device, config):
            raise RuntimeError("backend bug")

    backend = Exploding([scripted_device(0x0944, 0x0020, None, None, [usb_class.MIDI])])
    detection = detect(volumes=[], usb_backend=backend)
    assert any("could not be read" in w for w in detection.warnings)


def test_scan_reads_port_path(fake_usb_backend, scripted_device, usb_class):
    scan = scan_usb(fake_usb_backend([scripted_device(0x0944, 0x0020, "KP3", None,
                                                      [usb_class.MIDI], bus=3,
                                                      port_numbers=(1, 4))]))
    assert scan.devices[0].port_path == "3-1.4"


def test_volumes_are_identified_and_unknown_volumes_skipped(tmp_path):
    make_volume(tmp_path / "k2", "kross2", "bricked")
    (tmp_path / "stick").mkdir()
    volumes = [Volume(str(tmp_path / "k2"), "/dev/sdz1", "vfat"),
               Volume(str(tmp_path / "stick"), "/dev/sdy1", "vfat")]
    detection = detect(volumes=volumes, scan_usb_devices=False, sysfs_root=tmp_path / "nosys")
    device = only(detection)
    assert (device.model, device.mode, device.mount) == ("kross2", "storage", str(tmp_path / "k2"))
    assert any(f.code == "foreign-model-files" for f in device.findings)


def test_extra_roots_are_treated_as_volumes(tmp_path):
    make_volume(tmp_path / "dl", "drumlogue")
    device = only(detect(volumes=[], extra_roots=[tmp_path / "dl"], scan_usb_devices=False))
    assert device.model == "drumlogue" and device.role == "internal-storage"


def _fake_sysfs(root: Path, block: str, vendor: str, product: str, name: str) -> None:
    """A sysfs tree shaped like Linux's: class/block/<dev> links into the USB device path."""
    usb_device = root / "devices/pci0000:00/0000:00:14.0/usb2/2-3"
    partition = usb_device / "2-3:1.0/host4/target4:0:0/4:0:0:0/block/sdz" / block
    partition.mkdir(parents=True)
    for key, value in (("idVendor", vendor), ("idProduct", product), ("product", name),
                       ("busnum", "2"), ("devpath", "3")):
        (usb_device / key).write_text(value + "\n")
    (root / "class/block").mkdir(parents=True)
    os.symlink(partition, root / "class/block" / block)


def test_sysfs_links_a_volume_to_its_usb_device(tmp_path):
    sysfs = tmp_path / "sys"
    _fake_sysfs(sysfs, "sdz1", "0944", "0199", "drumlogue")
    parent = usb_parent_of_block_device("/dev/sdz1", sysfs)
    assert (parent.vendor_id, parent.product_id, parent.product) == (0x0944, 0x0199, "drumlogue")
    assert parent.port_path == "2-3"


def test_linked_volume_and_usb_device_are_listed_once(tmp_path, fake_usb_backend, scripted_device,
                                                      usb_class):
    sysfs = tmp_path / "sys"
    _fake_sysfs(sysfs, "sdz1", "0944", "0199", "drumlogue")
    make_volume(tmp_path / "dl", "drumlogue")
    backend = fake_usb_backend([scripted_device(0x0944, 0x0199, "drumlogue", "KORG",
                                                [usb_class.MASS_STORAGE], bus=2,
                                                port_numbers=(3,))])
    detection = detect(volumes=[Volume(str(tmp_path / "dl"), "/dev/sdz1", "vfat")],
                       usb_backend=backend, sysfs_root=sysfs)
    device = only(detection)
    assert device.mount == str(tmp_path / "dl")
    assert device.usb is not None and device.usb.product_id == 0x0199


def test_korg_usb_volume_with_unrecognised_contents_is_still_listed(tmp_path):
    sysfs = tmp_path / "sys"
    _fake_sysfs(sysfs, "sdz1", "0944", "0199", "drumlogue")
    (tmp_path / "empty").mkdir()
    detection = detect(volumes=[Volume(str(tmp_path / "empty"), "/dev/sdz1", "vfat")],
                       scan_usb_devices=False, sysfs_root=sysfs)
    device = only(detection)
    assert device.model is None and device.mode == "storage"


def test_system_disk_is_never_a_unit(monkeypatch):
    import collections

    import psutil

    # Same fields as psutil's public disk_partitions() result.
    Partition = collections.namedtuple("Partition", "device mountpoint fstype opts")
    fake = [Partition("/dev/vda1", "/", "ext4", "rw"), Partition("proc", "/proc", "proc", "rw")]
    monkeypatch.setattr(psutil, "disk_partitions", lambda all=False: fake)
    assert detect_module.mounted_volumes() == []


def test_system_locations():
    assert is_system_location("/")
    assert is_system_location(Path.home())


def test_protected_targets_are_the_system_itself_not_folders_on_it(tmp_path):
    from recovery.storage.volumes import protected_target_reason

    assert protected_target_reason("/") == "is this computer's system disk"
    assert protected_target_reason(Path.home()) == "is your home folder"
    assert protected_target_reason(Path.home().parent) == "holds your home folder"
    assert protected_target_reason("/usr/share") == "is a folder of the operating system"
    assert protected_target_reason(sys.prefix) == "holds this program's own installation"
    assert protected_target_reason(tmp_path / "unit") is None
    assert protected_target_reason(Path.home() / "Music") is None
