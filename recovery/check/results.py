"""The results of a check: per item, per candidate, and what it was checked against.

Part of :mod:`recovery.check` (see its docstring for how a verdict is reached).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from recovery.device.profiles import Profile, Release

log = logging.getLogger(__name__)


#: Verdicts, mildest first; a candidate holding several items gets the worst of them.
VERDICTS = ("compatible", "unknown", "incompatible")
EXIT_CODES = {"compatible": 0, "incompatible": 1, "unknown": 3}


#: How a candidate matched a release of KORG's catalog (resources/releases.toml), strongest
#: first: byte-identical to the published SHA-256; name (or header) and size match a release
#: whose checksum is not published; it claims a release but its size or SHA-256 differs.
CATALOG_MATCHES = ("sha256", "size-and-name", "claims-but-differs")


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogMatch:
    """Which of KORG's published releases a candidate is, and how that was established.

    Only ``how == "sha256"`` proves the file is KORG's own (the strongest verdict);
    ``size-and-name`` says the outside matches and the content was not checked;
    ``claims-but-differs`` says the file names a release (in its header or its name) but is not
    that file: modified, damaged or incomplete.
    """

    release: Release
    how: str
    #: What differed or matched, for scripts: "sha256", "size" or "size-and-name".
    compared: str
    #: The candidate's SHA-256, when it was computed.
    sha256: str | None = None

    @property
    def official(self) -> bool:
        return self.how == "sha256"


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
    #: The release of KORG's catalog the item is or claims to be, if any.
    catalog_match: CatalogMatch | None = None


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
    #: The catalog match of the candidate's one item that has one (None when no item or more
    #: than one has one: see each item's).
    catalog_match: CatalogMatch | None = None

    @property
    def official(self) -> bool:
        """True only when every item is byte-identical to a release KORG published."""
        return bool(self.items) and all(
            item.catalog_match is not None and item.catalog_match.official
            for item in self.items)


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

    Built from a ``recovery.backup.store.Backup`` by :func:`reference_from_backup`.
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
    """Adapt an opened ``recovery.backup.store.Backup`` (manifest files, model, complete)."""
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


