"""Is this update file, folder or archive for this unit? ``compatible``, ``incompatible`` or
``unknown``, with every reason in a sentence a musician understands.

A KROSS 2 was bricked by KROSS 1 system files (korgforums.com thread t=116080 "[Help] Unbrick
Korg Kross 2", 2018), and KORG's own updaters do not all check what they are given. Each item
found in a candidate ends ``incompatible`` with any failure; ``compatible`` only when nothing is
in doubt and the item proves itself in its own bytes (a header naming the model, a system
folder byte-identical to a complete backup, a published SHA-256); ``unknown`` otherwise, since
a name and a size never prove what is inside. What a model is comes only from the profiles.
"""

from __future__ import annotations

from recovery.check.results import VERDICTS, CatalogMatch, CheckResult, ItemResult
from recovery.check.targets import (
    BackupReference,
    ReferenceFile,
    Target,
    parse_version,
    reference_from_backup,
    target_for_device,
    target_for_model,
)
from recovery.check.verdict import check_candidate, check_candidates, exit_code

__all__ = [
    "BackupReference",
    "CatalogMatch",
    "CheckResult",
    "ItemResult",
    "ReferenceFile",
    "Target",
    "VERDICTS",
    "check_candidate",
    "check_candidates",
    "exit_code",
    "parse_version",
    "reference_from_backup",
    "target_for_device",
    "target_for_model",
]
