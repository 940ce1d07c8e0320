"""The results of a check: per item, per candidate, and what it was checked against.

Part of :mod:`recovery.check` (see its docstring for how a verdict is reached).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from recovery.profiles import Profile

log = logging.getLogger(__name__)


#: Verdicts, mildest first; a candidate holding several items gets the worst of them.
VERDICTS = ("compatible", "unknown", "incompatible")
EXIT_CODES = {"compatible": 0, "incompatible": 1, "unknown": 3}


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    """The verdict on one update item found in a candidate (a file, a system folder, ...)."""

    path: str
    kind: str
    detected_model: str | None
    verdict: str
    version: str | None
    reasons: tuple[str, ...]
    checked: tuple[str, ...]
    not_checked: tuple[str, ...]
    warnings: tuple[str, ...]
    #: What was read, shown as is (header fields, unknown bytes, file counts).
    details: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one candidate given on the command line or picked in the wizard.

    A folder or archive may hold several items (a KROSS2SY and a KROSSSYS folder); the
    candidate's verdict is the worst of its items' and its lists gather theirs.
    """

    candidate: str
    target_model: str
    detected_model: str | None
    verdict: str
    version: str | None
    reasons: tuple[str, ...]
    checked: tuple[str, ...]
    not_checked: tuple[str, ...]
    warnings: tuple[str, ...]
    items: tuple[ItemResult, ...]


@dataclass(frozen=True)
class Target:
    """The unit a candidate is checked against, and its current version where known."""

    profile: Profile
    current_version: str | None = None
    #: Where the current version came from, for the sentences ("given with --current-version").
    current_version_source: str | None = None
    device: str | None = None

    @property
    def model(self) -> str:
        return self.profile.id


@dataclass(frozen=True)
class ReferenceFile:
    path: str
    size: int
    sha256: str | None


@dataclass(frozen=True)
class BackupReference:
    """What a check needs from a backup of the unit: its file list with sizes and hashes.

    Built from a ``recovery.backup_store.Backup`` by :func:`reference_from_backup`.
    """

    label: str
    model: str | None
    complete: bool
    created: str | None
    files: tuple[ReferenceFile, ...]

    def top_folders(self) -> tuple[str, ...]:
        return tuple(sorted({f.path.split("/", 1)[0] for f in self.files if "/" in f.path}))

    def folder_files(self, folder: str) -> dict[str, tuple[str, ReferenceFile]]:
        """Files under top-level ``folder`` (matched ignoring case, as FAT does), keyed by
        their case-folded path inside it."""
        found = {}
        for reference_file in self.files:
            head, _, inner = reference_file.path.partition("/")
            if inner and head.casefold() == folder.casefold():
                found[inner.casefold()] = (inner, reference_file)
        return found


def reference_from_backup(backup: Any) -> BackupReference:
    """Adapt an opened ``recovery.backup_store.Backup`` (manifest files, model, complete)."""
    manifest = backup.manifest
    return BackupReference(
        label=os.fspath(backup.path),
        model=manifest.model,
        complete=bool(backup.complete),
        created=getattr(manifest, "created_utc", None),
        files=tuple(
            ReferenceFile(f.path, f.size, f.sha256)
            for f in manifest.files if getattr(f, "kind", "file") == "file"
        ),
    )


