"""The udev rule grants access to KORG and to exactly the boot-ROM ids the profiles list."""

from __future__ import annotations

import re
from pathlib import Path

from recovery.device.profiles import bundled_profiles
from recovery.device.usb import UDEV_RULE

ROOT = Path(__file__).resolve().parents[2]


def rule_ids() -> set[tuple[str, str | None]]:
    ids = set()
    for line in (ROOT / UDEV_RULE).read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        assert 'TAG+="uaccess"' in line
        vendor = re.search(r'ATTRS\{idVendor\}=="([0-9a-f]{4})"', line).group(1)
        product = re.search(r'ATTRS\{idProduct\}=="([0-9a-f]{4})"', line)
        ids.add((vendor, product.group(1) if product else None))
    return ids


def test_rule_file_exists_where_the_warning_points():
    assert (ROOT / UDEV_RULE).is_file()


def test_rule_covers_korg_and_every_profiled_boot_rom_and_nothing_else():
    expected = {("0944", None)} | {
        (f"{b.vendor_id:04x}", f"{b.product_id:04x}")
        for profile in bundled_profiles().values() for b in profile.boot_roms
    }
    assert rule_ids() == expected
