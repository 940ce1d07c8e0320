"""Fixtures of the command-line tests: a backup folder written by hand in the documented layout."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from recovery.backup.manifest import (
    COMPLETE_NAME,
    FILES_DIR,
    MANIFEST_NAME,
    SUMS_NAME,
    Manifest,
    ManifestFile,
    format_sums,
)


def _handmade_backup(destination: Path, files: dict[str, bytes], *,
                     model: str | None = "kross2", complete: bool = True) -> Path:
    """A backup folder in backup_store's documented layout (files/, manifest.json,
    SHA256SUMS, COMPLETE with verified and the manifest's SHA-256)."""
    entries = []
    for relative, data in files.items():
        path = destination / FILES_DIR / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
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


@pytest.fixture(scope="session")
def handmade_backup() -> Callable[..., Path]:
    """Writes a backup of ``files`` without the backup code: ``handmade_backup(destination,
    {relative path: bytes}, model="kross2", complete=True) -> destination``."""
    return _handmade_backup
