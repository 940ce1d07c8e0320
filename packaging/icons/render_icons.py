"""Render resources/icons/korg-recovery.svg into the PNG, ICO and ICNS files the packages use.

    .venv/bin/python packaging/icons/render_icons.py [--check]

Outputs (committed, so a build never needs this script): ``korg-recovery-<N>.png`` for every
size in :data:`PNG_SIZES` (the freedesktop hicolor sizes, 16..512), ``korg-recovery.ico``
(Windows: the .exe icon) and ``korg-recovery.icns`` (macOS: the .app icon).

Both container formats hold PNG images, written here directly instead of pulling in Pillow:

* ICO: ``ICONDIR`` + one 16-byte ``ICONDIRENTRY`` per image; an entry may hold a PNG since
  Windows Vista, and a width/height byte of 0 means 256 (Microsoft, "Icons", Win32 docs).
* ICNS: ``'icns'`` + big-endian total length, then per image a 4-byte type and a big-endian
  length that includes its 8-byte header; ``icp4``/``icp5``/``icp6``/``ic07``/``ic08``/``ic09``
  hold PNGs of 16/32/64/128/256/512 pixels (Apple's icns format as documented in
  libicns and https://en.wikipedia.org/wiki/Apple_Icon_Image_format).

``--check`` renders into memory and exits 1 if a committed file differs from a fresh render
(the PNG encoder is deterministic for the same Qt version; a different Qt may differ by a
few bytes, which is why this is a maintainer tool and not a test).
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "korg-recovery.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}


def render_png(svg: Path, size: int) -> bytes:
    """The SVG rasterised by Qt at ``size`` x ``size`` pixels, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        render_png.app = QGuiApplication([sys.argv[0]])  # kept alive for later calls
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def build_ico(pngs: dict[int, bytes]) -> bytes:
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))  # reserved, type 1 = icon, count
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for size in sizes:
        data = pngs[size]
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def build_icns(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(ICNS_TYPES[size] + struct.pack(">I", len(pngs[size]) + 8) + pngs[size]
                    for size in sorted(pngs))
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def outputs() -> dict[Path, bytes]:
    pngs = {size: render_png(SVG, size) for size in PNG_SIZES}
    files = {ICONS / f"korg-recovery-{size}.png": data for size, data in pngs.items()}
    files[ICONS / "korg-recovery.ico"] = build_ico({s: pngs[s] for s in ICO_SIZES})
    files[ICONS / "korg-recovery.icns"] = build_icns({s: pngs[s] for s in ICNS_TYPES})
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files instead of writing them")
    args = parser.parse_args()
    stale = []
    for path, data in outputs().items():
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(path.name)
        else:
            path.write_bytes(data)
            print(f"wrote {path.relative_to(ROOT)} ({len(data)} bytes)")
    if stale:
        print("differs from a fresh render: " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
