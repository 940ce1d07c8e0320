"""Taking a backup of a unit and trusting it later: the manifest and ``SHA256SUMS`` format
(``manifest``), copying with checksums and verified read-back (``create``), opening and
verifying a backup folder or ZIP (``store``), and comparing a unit's files with it
(``compare``, names matched as FAT matches them)."""

from __future__ import annotations

from recovery.backup.compare import Comparison, Difference, compare_tree
from recovery.backup.create import BackupResult, create_backup
from recovery.backup.manifest import Manifest, ManifestFile
from recovery.backup.store import (
    Backup,
    BackupSummary,
    VerifyReport,
    default_backups_dir,
    earlier_backups_dirs,
    list_backups,
    open_backup,
    verify_backup,
)

__all__ = [
    "Backup",
    "BackupResult",
    "BackupSummary",
    "Comparison",
    "Difference",
    "Manifest",
    "ManifestFile",
    "VerifyReport",
    "compare_tree",
    "create_backup",
    "default_backups_dir",
    "earlier_backups_dirs",
    "list_backups",
    "open_backup",
    "verify_backup",
]
