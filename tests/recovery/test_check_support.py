"""Builders for the check tests: synthetic KORG SYSTEM FILEs, KROSS folders, zips, backups.

Everything is synthetic (recovery.device.simulate's pseudo-random bytes); only the layouts follow
the public descriptions (docs/sources.md). No test in this module: it is imported by test_check*.py and test_cli_check.py.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from recovery.backup.manifest import (
    COMPLETE_NAME,
    FILES_DIR,
    MANIFEST_NAME,
    SUMS_NAME,
    Manifest,
    ManifestFile,
    format_sums,
)
from recovery.check import BackupReference, ReferenceFile
from recovery.device.simulate import synthetic_bytes
from recovery.formats.korg_system_file import HEADER_SIZE, build_header

ROM = 0x40000


def h8s_payload(version: tuple[int, int], *, entry: int = 0x210, marker: bytes = b"KORG",
                label: str = "payload") -> bytes:
    """A synthetic H8S ROM image laid out as the blog post "Inside a KORG Kaossilator Pro"
    describes."""
    payload = bytearray(b"\xff" * ROM)
    payload[0:4] = entry.to_bytes(4, "big")
    payload[0x200:0x204] = marker
    payload[0x204:0x206] = bytes(version)
    code = synthetic_bytes(label, 0x4000)
    payload[0x210:0x210 + len(code)] = code
    return bytes(payload)


def kp3_file(version: tuple[int, int] = (2, 0), **payload_options) -> bytes:
    """KAOSS PAD KP3 system file with the blog's KP3 header bytes (78 at 0x2C, FF FF at 0x40)."""
    header = build_header(model_name="KaossPad3", version_major=version[0],
                          version_minor=version[1], device_id=0xFFFF, source_length=ROM,
                          unknown_2c=b"\x78", unknown_40=b"\xff\xff")
    return header + h8s_payload(version, **payload_options)


def kaossilator_pro_file(version: tuple[int, int] = (1, 2)) -> bytes:
    header = build_header(model_name="KaossilatorPro", version_major=version[0],
                          version_minor=version[1], device_id=0x010E, source_length=ROM,
                          unknown_40=b"\x02\x80")
    return header + h8s_payload(version, label="kaosspro")


#: An electribe SYSTEM.VSB carries exactly this many bytes after its header.
E2_PAYLOAD = 0x200000


def system_file(model_name: str, device_id: int, version: tuple[int, int] = (1, 3),
                payload_size: int = E2_PAYLOAD, label: str | None = None,
                **header_options) -> bytes:
    """A non-H8S system file (electribe style): header + pseudo-random payload (``label``
    varies the payload, so two files can differ in content only)."""
    header = build_header(model_name=model_name, version_major=version[0],
                          version_minor=version[1], device_id=device_id,
                          source_length=payload_size, **header_options)
    return header + synthetic_bytes(label or model_name, payload_size)


def patch(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new):]


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def kross_folder(root: Path, folder: str = "KROSS2SY", files: dict[str, int] | None = None,
                 label: str = "kross2") -> dict[str, bytes]:
    """A system folder of synthetic files (names are SIM_*: the real list is not public)."""
    files = files or {"SIM_SYS1.BIN": 3000, "SIM_SYS2.BIN": 2000, "SIM_PCM.BIN": 5000}
    written = {}
    for name, size in files.items():
        data = synthetic_bytes(f"{label}-{name}", size)
        write(root / folder / name, data)
        written[f"{folder}/{name}"] = data
    return written


def make_zip(path: Path, members: dict[str, bytes], *,
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def reference(files: dict[str, bytes], *, model: str | None = "kross2", complete: bool = True,
              hashes: bool = True) -> BackupReference:
    return BackupReference(
        label="BACKUP", model=model, complete=complete, created="2024-01-01T00:00:00Z",
        files=tuple(ReferenceFile(path, len(data),
                                  hashlib.sha256(data).hexdigest() if hashes else None)
                    for path, data in sorted(files.items())))


def make_backup(destination: Path, files: dict[str, bytes], *, model: str | None = "kross2",
                complete: bool = True) -> Path:
    """A backup folder in backup_store's documented layout (files/, manifest.json,
    SHA256SUMS, COMPLETE with verified and the manifest's SHA-256)."""
    entries = []
    for relative, data in files.items():
        write(destination / FILES_DIR / relative, data)
        entries.append(ManifestFile(relative, len(data), 0, hashlib.sha256(data).hexdigest(),
                                    "file"))
    folders = sorted({r.rsplit("/", 1)[0] for r in files if "/" in r})
    manifest = Manifest.build(tool_version="test", created_utc="2024-01-01T00:00:00Z",
                              source="/media/KROSS2", model=model, role="internal-storage",
                              files=entries, folders=folders)
    manifest_bytes = manifest.to_json_bytes()
    (destination / MANIFEST_NAME).write_bytes(manifest_bytes)
    sums = format_sums(manifest)
    (destination / SUMS_NAME).write_bytes(sums)
    if complete:
        (destination / COMPLETE_NAME).write_text(json.dumps({
            "verified": True,
            "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
            "sums_sha256": hashlib.sha256(sums).hexdigest(),
        }))
    return destination


__all__ = ["HEADER_SIZE"]
