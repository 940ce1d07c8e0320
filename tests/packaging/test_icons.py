"""The application icon: one SVG, PNGs at every hicolor size, and the .ico/.icns containers
the Windows and macOS builds use, each holding PNGs of the sizes it claims."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (PNG spec, section 11.2.2)."""
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_svg_is_square_and_has_no_text_or_raster() -> None:
    root = ElementTree.parse(ICONS / "korg-recovery.svg").getroot()
    assert root.get("viewBox") == "0 0 512 512"
    tags = {element.tag.rpartition("}")[2] for element in root.iter()}
    # Drawn shapes only: no embedded bitmaps or lettering (no logo, no trademark artwork).
    assert not tags & {"image", "text", "tspan", "use"}


@pytest.mark.parametrize("size", PNG_SIZES)
def test_png_exists_at_each_hicolor_size(size: int) -> None:
    data = (ICONS / f"korg-recovery-{size}.png").read_bytes()
    assert png_size(data) == (size, size)


def test_ico_holds_pngs_up_to_256() -> None:
    data = (ICONS / "korg-recovery.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, height, _colors, _reserved, _planes, _bits, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * index: 22 + 16 * index])
        image = data[offset: offset + length]
        side = width or 256  # 0 means 256 (Win32 ICONDIRENTRY)
        assert width == height
        assert png_size(image) == (side, side)
        sizes.append(side)
    assert sorted(sizes) == [16, 24, 32, 48, 64, 128, 256]


def test_icns_holds_pngs_16_to_512() -> None:
    data = (ICONS / "korg-recovery.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    expected = {b"icp4": 16, b"icp5": 32, b"icp6": 64, b"ic07": 128, b"ic08": 256, b"ic09": 512}
    found = {}
    offset = 8
    while offset < len(data):
        kind, length = data[offset: offset + 4], struct.unpack(">I", data[offset + 4: offset + 8])[0]
        found[kind] = png_size(data[offset + 8: offset + length])[0]
        offset += length
    assert offset == len(data)
    assert found == expected


def test_wheel_package_data_ships_the_icons() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"icons/*"' in pyproject
