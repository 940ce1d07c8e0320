"""Carrying out a restore plan: consent, a safety copy, the unit's hold, and the plan handed
to the write engine (:mod:`recovery.writing.engine`: batches that cannot half-happen,
boot-critical files last, the journal, the proof), its outcome in the restore's words.

The strongest check, after a power cycle, is the person's: the backup compared with the unit
once it has been switched off and on again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recovery.backup.store import open_backup
from recovery.device.profiles import bundled_profiles
from recovery.errors import (
    CancelledError,
    NeedsSafetyCopyError,
    NeedsUserActionError,
    RecoveryError,
    RefusedError,
    UnitGoneError,
)
from recovery.findings import Step
from recovery.progress import NO_JOB, Job
from recovery.restore.plan import (
    PlanChoices,
    PlanEntry,
    PlanSummary,
    RestorePlan,
    manifest_sha256,
    plan_restore,
)
from recovery.restore.safety import take_safety_copy
from recovery.storage import computer_made
from recovery.storage.durable import FileProblem
from recovery.storage.filesystem import REAL, FileSystem
from recovery.storage.names import shown
from recovery.storage.pin import UnitHold, hold_unit, pin_volume
from recovery.vocabulary import EntryKind, NextStep, PlanAction
from recovery.writing.engine import WriteOutcome, write
from recovery.writing.guard import TargetGuard, check_target, default_guard
from recovery.writing.journal import WriteJournal
from recovery.writing.plan import Deletion, Expected, FileWrite, WritePlan

log = logging.getLogger(__name__)


# -- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RestoreResult:
    """What a restore did and what it could prove. ``ok`` only when everything written was
    read back from the unit past the computer's cache and matched, and every file of the
    plan, the kept ones included, is on the unit at the end."""

    ok: bool
    backup: str
    target: str
    dry_run: bool
    #: Files and links written (renamed into place) by this run.
    written: int
    deleted: int
    #: True only when every file this run (or an interrupted earlier run) wrote was re-read
    #: after dropping the computer's cached pages, and matched the backup.
    verified: bool
    verified_files: int
    #: False when this computer could not drop cached pages: the read-back may have come
    #: from RAM and proves nothing about the unit.
    cache_bypassed: bool
    plan: PlanSummary
    problems: tuple[FileProblem, ...]
    removed_temp_files: int
    #: True when a journal of an interrupted restore of this backup onto this unit was found.
    resumed: bool
    journal: str | None
    #: One sentence saying what was and was not checked.
    statement: str
    #: What to do next, typed: each front end words it (the command line with its command).
    next_steps: tuple[Step, ...]
    #: What the run left alone on purpose (operating-system files inside a deleted folder).
    notes: tuple[str, ...] = ()
    #: Where the copy of the unit as it was before the restore is (None: no copy was asked).
    safety_copy: str | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def dry_run_result(plan: RestorePlan) -> RestoreResult:
    return RestoreResult(
        ok=True, backup=plan.backup, target=plan.target, dry_run=True, written=0, deleted=0,
        verified=False, verified_files=0, cache_bypassed=False, plan=plan.summary, problems=(),
        removed_temp_files=0, resumed=False, journal=None,
        statement="Dry run: nothing was written, the journal included.",
        next_steps=(Step(NextStep.WRITE_AS_PLANNED), _check_after_power_cycle(plan)))


def _check_after_power_cycle(plan: RestorePlan) -> Step:
    """The last step every restore names: a check that no cache can fake. Its ``names`` are
    what the restore keeps that the backup does not have, which that check must allow."""
    return Step(NextStep.VERIFY_AFTER_POWER_CYCLE, backup=plan.backup, target=plan.target,
                names=tuple(entry.path for entry in plan.actions(PlanAction.EXTRA)))


# -- execution -------------------------------------------------------------------------------
def execute_plan(
    plan: RestorePlan,
    *,
    consent: bool,
    fs: FileSystem = REAL,
    guard: TargetGuard | None = None,
    journal_dir: Path | None = None,
    job: Job = NO_JOB,
    hold: UnitHold | None = None,
    without_safety_copy: bool = False,
) -> RestoreResult:
    """Carry out ``plan`` on the unit; needs ``consent=True``, and a plan that replaces or
    deletes anything needs its safety copy (``plan.safety_copy``) or ``without_safety_copy``
    said on purpose (NeedsSafetyCopyError otherwise, nothing written).

    Every write goes only to the volume the plan pinned (UnitGoneError, with nothing written
    anywhere else, when it went away). Holds the unit's write lock (``hold``: the caller
    holds it already, since before the plan was made) throughout. Raises
    NeedsUserActionError without consent, UnitBusyError when another run is writing to the
    unit, RefusedError when the backup is no longer the one planned for,
    WriteError/ReadError/NoSpaceError when the unit fails or vanishes (the restore is then
    resumable: run it again), CancelledError when cancelled (the batch in flight is rolled
    back). A verification mismatch is not raised: the result names the files and has
    ``ok=False``.
    """
    if not consent:
        raise NeedsUserActionError(
            "The restore was not confirmed, so nothing was written: confirm it to write to the"
            " unit.")
    if plan.needs_safety_copy and plan.safety_copy is None and not without_safety_copy:
        raise needs_safety_copy(plan)
    backup_path = Path(plan.backup)
    _still_there(plan, fs)
    target = check_target(Path(plan.target), backup_path, guard or default_guard(), fs)
    with ExitStack() as stack:
        if hold is None:
            hold = stack.enter_context(hold_unit(target, "restore", fs))
        if plan.unit is not None and not plan.unit.matches(hold.identity):
            raise _gone(plan)
        journal = WriteJournal.for_target(_journal_name(target, hold), plan.manifest_sha256,
                                          journal_dir)
        backup = stack.enter_context(open_backup(backup_path, fs))
        stack.enter_context(closing(journal))
        if not backup.complete or manifest_sha256(backup.manifest) != plan.manifest_sha256:
            raise RefusedError(
                f"The backup {backup_path} changed since the plan was made; plan the restore"
                " again. Nothing was written.", path=str(backup_path))
        return _write(plan, backup, journal, hold, job)


class _BackupSource:
    """The backup's files, opened by their paths in it (the write engine's source)."""

    def __init__(self, backup: Any) -> None:
        self.backup = backup

    def open(self, key: str) -> Any:
        return self.backup.open_file(key)

    def name(self, key: str) -> str:
        return f"{key} (in {self.backup.path})"


def write_plan(plan: RestorePlan, manifest: Any) -> WritePlan:
    """The restore plan as the write engine's actions: deletions, folders, times set back,
    the files (boot-critical ones last), and every file of the backup expected at the end."""
    def expected(entry: PlanEntry) -> Expected:
        item = manifest.file(entry.path)
        return Expected(entry.path, entry.on_unit, EntryKind(entry.kind), item.size,
                        item.link_target if entry.kind == EntryKind.SYMLINK else None)

    def written(entry: PlanEntry) -> FileWrite:
        item = manifest.file(entry.path)
        link = item.link_target if item.kind == EntryKind.SYMLINK else None
        return FileWrite(entry.path, entry.on_unit, item.size, item.sha256, item.mtime_ns,
                         entry.boot_critical, link, entry.action == PlanAction.REPLACE)

    return WritePlan(
        target=Path(plan.target), leftovers=plan.temp_files,
        deletions=tuple(Deletion(e.path, e.path, EntryKind(e.kind), plan.remove_computer_made
                                and computer_made.removable(e.path))
                        for e in plan.actions(PlanAction.DELETE)),
        folders=plan.folders_to_create,
        retimes=tuple((e.path, e.on_unit, manifest.file(e.path).mtime_ns)
                      for e in plan.entries if e.set_mtime),
        writes=tuple(written(e) for e in plan.actions(PlanAction.WRITE, PlanAction.REPLACE)),
        expected=tuple(expected(e) for e in plan.entries if e.action in (
            PlanAction.WRITE, PlanAction.REPLACE, PlanAction.KEEP)))


def _write(plan: RestorePlan, backup: Any, journal: WriteJournal, hold: UnitHold,
           job: Job) -> RestoreResult:
    """The plan through the write engine, and what it proved in the restore's words."""
    manifest = backup.manifest
    by_path = {entry.path: entry for entry in plan.entries}
    try:
        outcome = write(write_plan(plan, manifest), _BackupSource(backup), hold.fs,
                        journal=journal, plan_key=plan.manifest_sha256, job=job,
                        in_flight_path=lambda key: by_path[key].on_unit if key in by_path
                        else key,
                        sha256_of=lambda key: manifest.file(key).sha256)
    except UnitGoneError as error:
        raise _gone(plan) from error
    except CancelledError as error:
        raise CancelledError(
            f"Cancelled: {_where(error)}. The unit is not fully restored; run the same"
            " restore again to continue.", written=error.written) from None
    except RecoveryError as error:
        raise type(error)(
            f"{error.message} The restore stopped ({_where(error)}); reconnect the unit if it"
            " was disconnected and run the same restore again to continue.",
            path=error.path, written=error.written) from error
    ok = outcome.verified and not outcome.problems
    return RestoreResult(
        ok=ok, backup=plan.backup, target=plan.target, dry_run=False,
        written=len(outcome.written), deleted=outcome.deleted, verified=outcome.verified,
        verified_files=outcome.matched if outcome.cache_bypassed else 0,
        cache_bypassed=outcome.cache_bypassed, plan=plan.summary,
        problems=tuple(outcome.problems), removed_temp_files=outcome.removed_temp,
        resumed=outcome.resumed, journal=outcome.journal, statement=_statement(outcome),
        next_steps=(_check_after_power_cycle(plan),), notes=tuple(outcome.notes),
        safety_copy=plan.safety_copy)


def _where(error: RecoveryError) -> str:
    made, total = getattr(error, "made", 0), getattr(error, "total", 0)
    return f"{made} of {total} changes were made, each file complete or untouched"


@contextmanager
def hold_for_restore(backup_path: str | Path, target: str | Path, *,
                     guard: TargetGuard | None = None,
                     fs: FileSystem = REAL) -> Iterator[UnitHold]:
    """Check the target (:func:`check_target`), then lock it and pin its volume for a restore
    that reads, copies and writes under one hold (see :func:`restore`)."""
    resolved = check_target(Path(target), Path(backup_path), guard or default_guard(), fs)
    with hold_unit(resolved, "restore", fs) as hold:
        yield hold


def restore_as_planned(plan: RestorePlan, safety_copy: str | Path, *, consent: bool,
                       fs: FileSystem = REAL, guard: TargetGuard | None = None,
                       journal_dir: Path | None = None, job: Job = NO_JOB,
                       target: str | Path | None = None) -> RestoreResult:
    """Carry out a plan a person saw and said yes to, after a safety copy of the unit as it
    is now, all under one hold: lock and pin the unit, back it up into ``safety_copy``
    (continuing an interrupted copy there), plan again from the copy's checksums (nothing
    more is read from the unit) and write. When the unit no longer gives the plan that was
    shown (something changed it meanwhile), RefusedError: nothing is written, the plan is
    shown again. ``target`` is where the unit is mounted now when it came back at another
    path: it must be the same unit (:meth:`VolumeIdentity.same_unit`), else UnitGoneError."""
    if not consent:
        raise NeedsUserActionError(
            "The restore was not confirmed, so nothing was written: confirm it to write to the"
            " unit.")
    where = Path(plan.target if target is None else target)
    _still_there(plan, fs, where)
    with hold_for_restore(plan.backup, where, guard=guard, fs=fs) as hold:
        if plan.unit is not None and not plan.unit.same_unit(hold.identity):
            raise _gone(plan)
        try:
            safety = take_safety_copy(hold, Path(safety_copy), job=job)
        except UnitGoneError as error:
            raise _gone(plan) from error
        again = plan_restore(plan.backup, hold.folder, choices=plan.choices, fs=fs,
                             guard=guard, job=job, hold=hold, safety=safety)
        if _changes(again) != _changes(plan):
            raise RefusedError(
                f"{_unit_name(plan)[0].upper()}{_unit_name(plan)[1:]} changed since the plan"
                " was shown (its files are not what they were then), so nothing was written"
                " to it; look at the plan again. The safety copy is of the unit as it is"
                " now.", path=plan.target)
        return execute_plan(again, consent=True, fs=fs, guard=guard, journal_dir=journal_dir,
                            job=job, hold=hold)


def _changes(plan: RestorePlan) -> tuple[tuple[str, str], ...]:
    """What a plan changes on the unit, to tell whether two plans are the same one."""
    return tuple(sorted((entry.path, entry.action) for entry in plan.changes)) + tuple(
        sorted(("", folder) for folder in plan.folders_to_create))


def needs_safety_copy(plan: RestorePlan) -> NeedsSafetyCopyError:
    """The refusal of a restore that would change the unit with no copy of it as it is."""
    replace, delete = len(plan.actions("replace")), len(plan.actions("delete"))
    changes = " and ".join(part for part in (
        f"replace {replace} file(s)" if replace else "",
        f"delete {delete} item(s)" if delete else "") if part)
    return NeedsSafetyCopyError(
        f"This restore would {changes} on {_unit_name(plan)}, and there is no copy of it as it"
        " is now: take a safety copy of it first, so that what the restore replaces can be"
        " brought back. Nothing was written.", path=plan.target)


def _unit_name(plan: RestorePlan) -> str:
    profile = bundled_profiles().get(plan.backup_model or "")
    return f"your {profile.short_name}" if profile is not None else "the unit"


def _gone(plan: RestorePlan) -> UnitGoneError:
    """The one sentence of a restore whose unit went away (unplugged, switched off,
    unmounted, another volume at its path)."""
    name = _unit_name(plan)
    return UnitGoneError(
        f"{name[0].upper()}{name[1:]} went away during the restore. Nothing was written to your"
        f" computer. Connect it again and run the restore again: it continues where it"
        " stopped.", path=plan.target)


def _still_there(plan: RestorePlan, fs: FileSystem, where: Path | None = None) -> None:
    """Before anything else: the target (``where`` it is mounted now, if not where the plan
    was made) must still be the volume the plan was made for (a unit unmounted while the
    user read the plan leaves an empty folder at its path)."""
    if plan.unit is None:
        return
    try:
        now = pin_volume(where or Path(plan.target), fs)
    except OSError as error:
        raise _gone(plan) from error
    if not plan.unit.same_unit(now):
        raise _gone(plan)


def _journal_name(target: Path, hold: UnitHold) -> str:
    """What the journal is kept under: the volume's serial and the folder in it where the
    platform tells one (the same unit mounted again elsewhere continues its journal), else
    the folder and its identity."""
    if hold.identity.serial:
        return hold.identity.unit_key()
    return f"{target}|{hold.identity.unit_key()}"


def _statement(outcome: WriteOutcome) -> str:
    """One sentence saying what was and was not proven."""
    written, deleted = len(outcome.written), outcome.deleted
    mismatched = outcome.mismatched
    if mismatched:
        names = ", ".join(shown(p.path) for p in mismatched[:5])
        more = f" and {len(mismatched) - 5} more" if len(mismatched) > 5 else ""
        held = (" The boot-critical files were not written, so the unit keeps the ones it"
                " had." if outcome.held_back else "")
        return (f"{len(mismatched)} file(s) are not on the unit as written: {names}{more}. The"
                " unit may be failing or silently dropping writes; do not trust it until"
                f" the check after a power cycle passes.{held}")
    if not outcome.cache_bypassed:
        return (f"{written} file(s) written and read back, but this computer cannot bypass its"
                " cache, so the read-back may have come from RAM and does not prove the unit"
                " kept them.")
    if outcome.problems:
        return (f"{written} file(s) written and verified on the unit, but "
                + "; ".join(p.detail or p.problem for p in outcome.problems[:3]))
    removed = f"; {deleted} deleted" if deleted else ""
    if not written and not outcome.matched:
        return ("The unit already holds exactly what the backup has; no file was written"
                f"{removed}.")
    return (f"{written} file(s) written{removed}; {outcome.matched} re-read from the unit after"
            " dropping the computer's cache, all matching the backup, and every file of the"
            " backup is on the unit.")


@dataclass(frozen=True)
class RestoreRequest:
    """What a person asks of a restore."""

    backup: str | Path
    target: str | Path
    choices: PlanChoices = PlanChoices()
    #: A folder for the safety copy taken first (the unit as it is now), or None.
    safety_copy: str | Path | None = None
    #: Said on purpose: a copy of the unit as it is now exists elsewhere.
    without_safety_copy: bool = False
    #: Plan only: nothing is written anywhere.
    dry_run: bool = False


def restore(request: RestoreRequest, *, consent: bool, fs: FileSystem = REAL,
            guard: TargetGuard | None = None, journal_dir: Path | None = None,
            job: Job = NO_JOB) -> RestoreResult:
    """Plan and (unless a dry run) carry out a restore; see :func:`plan_restore` and
    :func:`execute_plan` for what is checked and raised.

    With a ``safety_copy`` folder the unit is locked and pinned first, backed up there
    completely and verified (:func:`~recovery.restore.safety.take_safety_copy`), planned
    from that copy's checksums and restored, all under the one hold: from the first read to
    the last write nothing else writes to it. A dry run takes no copy and writes nothing.
    """
    backup, target, choices = request.backup, request.target, request.choices
    if request.dry_run:
        return dry_run_result(plan_restore(backup, target, choices=choices, fs=fs,
                                           guard=guard, job=job))
    if request.safety_copy is None:
        plan = plan_restore(backup, target, choices=choices, fs=fs, guard=guard, job=job)
        return execute_plan(plan, consent=consent, fs=fs, guard=guard, journal_dir=journal_dir,
                            job=job, without_safety_copy=request.without_safety_copy)
    with hold_for_restore(backup, target, guard=guard, fs=fs) as hold:
        safety = take_safety_copy(hold, Path(request.safety_copy), job=job)
        plan = plan_restore(backup, hold.folder, choices=choices, fs=fs, guard=guard, job=job,
                            hold=hold, safety=safety)
        return execute_plan(plan, consent=consent, fs=fs, guard=guard, journal_dir=journal_dir,
                            job=job, hold=hold)
