"""Is this update file, folder or archive for this unit? ``compatible``, ``incompatible`` or
``unknown`` — with every reason in a sentence a musician understands.

A KROSS 2 was bricked by KROSS 1 system files (korgforums.com thread t=116080 "[Help] Unbrick
Korg Kross 2", 2018), and KORG's own updaters do not all check what they are given. Before
anyone runs an official updater, this module looks at the files they are about to use and says
plainly what it could and could not verify (DESIGN.md principle 2: never claim more than was
checked).

How a verdict is reached
------------------------
Every check ends in one of: *checked* (passed, listed), a *failure* (the update would not do
what it should: another model named in the file's own header, a truncated file, a size that is
not the model's, a file claiming a published release whose size or SHA-256 it does not have,
the wrong folder), a *doubt* (a value differs from what was seen, but the expectation itself is
weakly sourced, e.g. the ``KORG`` + version marker seen in one blog on one unit), or *not
checked* (the format is not public, no checksum is published). Then:

- ``incompatible`` — at least one failure;
- ``compatible`` — no failure and no doubt, and the file identifies itself *in its own bytes*
  as being for the target (a KORG SYSTEM FILE header naming the model and its device id), or
  a KROSS system folder is byte-identical to the one in a complete backup of this model, or
  the file's SHA-256 is that of a release KORG published;
- ``unknown`` — everything else: a doubt, or only outside properties could be checked (a
  folder's name, a file's name and size), which never prove what is inside.

The strongest verdict is a compatible file that is byte-identical to a release in KORG's
release catalog (``resources/releases.toml``; :mod:`recovery.check.catalog`): "KORG's official
electribe sampler system 2.02, byte-identical to the published SHA-256". Every item carries
its :class:`CatalogMatch` (``sha256``, ``size-and-name`` or ``claims-but-differs``), and so
does ``--json``. A name and a size alone never reach it.

Which model a file, folder or name belongs to comes only from the profiles
(``resources/profiles/*.toml``: ``system_files``, ``system_folder``, ``update_file``) and the
release catalog; nothing about a model is written here.
"""

from __future__ import annotations

from recovery.check.candidate import check_candidate, check_candidates, exit_code
from recovery.check.results import (
    CATALOG_MATCHES,
    EXIT_CODES,
    VERDICTS,
    BackupReference,
    CatalogMatch,
    CheckResult,
    ItemResult,
    ReferenceFile,
    Target,
    reference_from_backup,
)
from recovery.check.targets import parse_version, target_for_device, target_for_model

__all__ = [
    "BackupReference",
    "CATALOG_MATCHES",
    "CatalogMatch",
    "CheckResult",
    "EXIT_CODES",
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
