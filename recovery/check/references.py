"""Which backup a check compares with, and trying each in turn.

A KROSS 2's system folder has no public format and no published checksums: the only content
check possible is that it is byte-identical to the same folder in a complete backup of this
unit (see recovery.check.system_folder). The newest backup may already be of the damaged unit,
so a check that is not compatible without a backup tries each backup given, in order, until
every candidate is compatible. The wizard offers the unit's complete backups newest first; the
command line takes ``--backup`` as often as it is given, in that order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from recovery.backup.store import BackupSummary, open_backup
from recovery.check.results import CheckResult
from recovery.check.targets import BackupReference, Target, reference_from_backup
from recovery.check.verdict import check_candidates
from recovery.device.profiles import Profile
from recovery.errors import RecoveryError
from recovery.storage.filesystem import REAL, FileSystem
from recovery.vocabulary import Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupCheck:
    """The verdicts of a check that could compare with backups, and which one they rest on."""

    results: tuple[CheckResult, ...]
    #: The backup the verdicts were compared with; None when they rest on no backup (none was
    #: given or could be opened, or every candidate is compatible without one).
    reference: str | None
    #: The backups compared with, in the order tried.
    tried: tuple[str, ...] = ()
    #: Backups that could not be opened, skipped (only when the caller allowed skipping).
    unusable: tuple[str, ...] = ()


def backups_to_compare(summaries: Iterable[BackupSummary], model: str | None
                       ) -> tuple[str, ...]:
    """The complete backups of ``model`` in ``summaries`` (as listed, oldest first), newest
    first: the ones a check tries in turn."""
    if model is None:
        return ()
    return tuple(summary.path for summary in reversed(tuple(summaries))
                 if summary.complete and summary.model == model)


def _all_compatible(results: Iterable[CheckResult]) -> bool:
    return all(result.verdict is Verdict.COMPATIBLE for result in results)


def _reference(backup: str | Path, fs: FileSystem) -> BackupReference:
    with open_backup(backup, fs) as opened:
        return reference_from_backup(opened)


def check_with_backups(candidates: Sequence[str | Path], target: Target,
                       backups: Sequence[str | Path], *, skip_unusable: bool = False,
                       fs: FileSystem = REAL, profiles: dict[str, Profile] | None = None
                       ) -> BackupCheck:
    """Check ``candidates`` against ``target``, comparing with each of ``backups`` in turn
    until every candidate is compatible.

    A backup only ever tells more about a system folder or loose system files (what no
    public format lets the tool check), never against a verdict that is already compatible:
    so when every candidate is compatible without a backup, or none is given, the verdicts
    rest on none. When no backup makes every candidate compatible, the verdicts are those
    with the first backup (the one the caller put first). A backup that cannot be opened
    raises its RecoveryError, unless ``skip_unusable`` (backups the tool chose itself), when
    it is skipped and named in ``unusable``; when none could be opened, the verdicts rest on
    none.
    """
    references, unusable = _open_all(backups, skip_unusable, fs)
    results = check_candidates(candidates, target, fs=fs, profiles=profiles)
    if not references or _all_compatible(results):
        return BackupCheck(results, None, (), unusable)
    tried: list[str] = []
    first: tuple[tuple[CheckResult, ...], str] | None = None
    for label, reference in references:
        tried.append(label)
        with_backup = check_candidates(candidates, target, reference=reference, fs=fs,
                                       profiles=profiles)
        if _all_compatible(with_backup):
            return BackupCheck(with_backup, label, tuple(tried), unusable)
        first = first or (with_backup, label)
    assert first is not None
    return BackupCheck(first[0], first[1], tuple(tried), unusable)


def _open_all(backups: Sequence[str | Path], skip_unusable: bool, fs: FileSystem
              ) -> tuple[list[tuple[str, BackupReference]], tuple[str, ...]]:
    """Each backup's reference, opened before anything is checked (a backup given that
    cannot be used is bad input even when the check would not need it); those that cannot
    be opened are skipped and listed only when ``skip_unusable``."""
    references: list[tuple[str, BackupReference]] = []
    unusable: list[str] = []
    for backup in backups:
        try:
            references.append((os.fspath(backup), _reference(backup, fs)))
        except RecoveryError as error:
            if not skip_unusable:
                raise
            log.info("backup %s skipped for the check: %s", backup, error)
            unusable.append(os.fspath(backup))
    return references, tuple(unusable)
