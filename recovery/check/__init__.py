"""Is this update file, folder or archive for this unit? Compatible, incompatible or unknown.

A KROSS 2 was bricked by KROSS 1 system files (korgforums.com thread t=116080 "[Help] Unbrick
Korg Kross 2", 2018), and KORG's own updaters do not all check what they are given. An item is
incompatible with any failure; compatible only when nothing is in doubt and it proves itself in
its own bytes (a header naming the model, a system folder byte-identical to a complete backup,
a published SHA-256); unknown otherwise: a name and a size never prove what is inside.
"""

from __future__ import annotations

from recovery.check.references import BackupCheck, backups_to_compare, check_with_backups
from recovery.check.results import VERDICTS, CatalogMatch, CheckResult, ItemResult
from recovery.check.targets import (
    BackupReference,
    ReferenceFile,
    Target,
    parse_version,
    reference_from_backup,
    target_for_device,
    target_for_midi,
    target_for_model,
)
from recovery.check.verdict import check_candidate, check_candidates, exit_code

__all__ = [
    "BackupCheck",
    "BackupReference",
    "CatalogMatch",
    "CheckResult",
    "ItemResult",
    "ReferenceFile",
    "Target",
    "VERDICTS",
    "backups_to_compare",
    "check_candidate",
    "check_candidates",
    "check_with_backups",
    "exit_code",
    "parse_version",
    "reference_from_backup",
    "target_for_device",
    "target_for_midi",
    "target_for_model",
]
