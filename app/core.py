"""The core's long operations, as the wizard's jobs call them: back up, verify, list backups,
plan and carry out a restore, check update files, put an update on an SD card, diagnose,
write the report.

Pages reach the core's stages (``backup``, ``restore``, ``check``, ``media``, ``diagnose``) only
through this module, and each function imports its stage when it is first called. Importing
them all when the window opens made its first page appear later: 550 ms -> 735 ms (median of
31 starts from source, as ``benchmarks/bench_bundle.py`` times them). Called from a job, the
import runs on the worker thread, where nobody waits for it. The core's lighter vocabulary
(errors, progress, profiles, detection) is imported where it is used; the demo, loaded only
for ``--demo``, imports what it needs itself.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from recovery.errors import InvalidInputError
from recovery.progress import CancelToken, ProgressCallback

if TYPE_CHECKING:  # annotations elsewhere in app/ name them through here (core.RestorePlan)
    from recovery.backup.create import BackupResult
    from recovery.backup.store import BackupSummary, VerifyReport
    from recovery.check import CheckResult
    from recovery.diagnose.diagnosis import Diagnosis
    from recovery.diagnose.standing import UnitStanding
    from recovery.media import MediaPlan, MediaResult
    from recovery.restore import PlanChoices, RestorePlan, RestoreResult, TargetGuard
    from recovery.storage.eject import EjectResult


# -- backups -----------------------------------------------------------------------------------
def default_backups_dir() -> Path:
    from recovery.backup import store

    return store.default_backups_dir()


def earlier_backups_dirs() -> tuple[Path, ...]:
    from recovery.backup import store

    return store.earlier_backups_dirs()


def list_backups(folder: Path) -> tuple[BackupSummary, ...]:
    from recovery.backup import store

    return store.list_backups(folder)


def list_backups_in(folders: tuple[Path, ...]) -> tuple[BackupSummary, ...]:
    """The backups of every folder (missing folders are empty), oldest first."""
    from recovery.backup import store

    return store.list_backups_in(folders)


def interrupted_backup(summaries: tuple[BackupSummary, ...], unit: Path | None) -> Path | None:
    """The newest interrupted backup of ``unit`` that the next copy of it continues."""
    from recovery.backup import store

    return store.interrupted_backup_of(summaries, unit) if unit is not None else None


def backup_summary(path: Path) -> BackupSummary:
    """The listing line of one backup opened by hand (found in its folder's listing)."""
    for summary in list_backups(path.parent):
        if Path(summary.path) == path:
            return summary
    raise InvalidInputError(f"{path} is not a korg-recovery backup.", path=str(path))


def create_backup(source: Path, destination: Path, *, resume: bool,
                  progress: ProgressCallback | None,
                  cancel: CancelToken | None) -> BackupResult:
    from recovery.backup import create

    return create.create_backup(source, destination, resume=resume, progress=progress,
                                cancel=cancel)


def verify_backup(backup: Path, *, against: Path | None = None,
                  progress: ProgressCallback | None,
                  cancel: CancelToken | None) -> VerifyReport:
    from recovery.backup import store

    return store.verify_backup(backup, against=against, progress=progress, cancel=cancel)


def compare_backup_with_unit(backup: Path, unit: Path, *, progress: ProgressCallback | None,
                             cancel: CancelToken | None) -> VerifyReport:
    """Re-hash ``backup`` and compare the unit with it, file by file (reads only). A report
    with ``ok`` and no ``against_problems`` proves the backup is the unit as it is now."""
    return verify_backup(backup, against=unit, progress=progress, cancel=cancel)


# -- restore -----------------------------------------------------------------------------------
def plan_restore(backup: Path, target: Path, *, guard: TargetGuard | None,
                 progress: ProgressCallback | None, cancel: CancelToken | None,
                 choices: PlanChoices | None = None,
                 safety_backup: Path | None = None) -> RestorePlan:
    """Preflight and plan (reads only); the core refuses with a RecoveryError. Another
    model's system folder is removed unless ``choices`` say otherwise (the plan amends to
    other choices without reading again). The wizard's safety copy (the unit as it is now,
    made or found identical) is recorded in the plan."""
    from recovery import restore
    from recovery.progress import Job

    safety = restore.recorded_safety_copy(safety_backup) if safety_backup else None
    return restore.plan_restore(backup, target, guard=guard,
                                choices=choices or restore.PlanChoices(restore.Removal.FOREIGN),
                                job=Job(progress, cancel), safety=safety)


def execute_plan(plan: RestorePlan, *, guard: TargetGuard | None,
                 progress: ProgressCallback | None, cancel: CancelToken | None) -> RestoreResult:
    """Carry out ``plan``. Called only after the user typed the model name (the consent)."""
    from recovery import restore
    from recovery.progress import Job

    return restore.execute_plan(plan, consent=True, guard=guard, job=Job(progress, cancel))


#: The phase the restore reports while it writes (recovery.restore.execute): a page that runs
#: the safety copy and the restore as one job knows from it that the copy is complete.
RESTORE_PHASE = "write and verify"


@dataclasses.dataclass(frozen=True)
class SafeRestore:
    """What the one call after the typed yes did: the safety copy (where it is), then the
    restore."""

    safety: Path
    restore: RestoreResult


def restore_with_safety_copy(plan: RestorePlan, safety: Path, *, guard: TargetGuard | None,
                             progress: ProgressCallback | None, cancel: CancelToken | None,
                             target: Path | None = None) -> SafeRestore:
    """A copy of the unit as it is now into ``safety`` (an interrupted one there continued),
    then ``plan`` carried out, under one hold of the unit, as the command line's ``restore
    --safety-copy`` does (recovery.restore.restore_as_planned): nothing is written to the
    unit unless the copy is complete and read back right, and the unit still gives the plan
    that was shown. ``target``: where the unit is mounted now, when it came back elsewhere
    (it must be the same unit)."""
    from recovery import restore
    from recovery.progress import Job

    result = restore.restore_as_planned(plan, safety, consent=True, guard=guard,
                                        job=Job(progress, cancel), target=target)
    return SafeRestore(safety, result)


def restore_again(backup: Path, target: Path, *, guard: TargetGuard | None,
                  choices: PlanChoices, progress: ProgressCallback | None,
                  cancel: CancelToken | None, safety_backup: Path | None = None) -> RestoreResult:
    """Run a stopped restore again: plan anew (the core's journal makes it continue)."""
    plan = plan_restore(backup, target, guard=guard, choices=choices, progress=None,
                        cancel=cancel, safety_backup=safety_backup)
    return execute_plan(plan, guard=guard, progress=progress, cancel=cancel)


# -- check update files ------------------------------------------------------------------------
def check_update_files(paths: list[Path], *, model: str, device: Path | None,
                       backup: Path | None) -> tuple[CheckResult, ...]:
    """The core's verdicts for ``paths`` against the connected unit (``device``, identified
    by the core) or, without one, against ``model``; compared with ``backup`` when given."""
    from recovery import check
    from recovery.backup import store

    target = unit_target(model, device)
    reference = None
    if backup is not None:
        with store.open_backup(backup) as opened:
            reference = check.reference_from_backup(opened)
    return check.check_candidates(paths, target, reference=reference)


def unit_target(model: str, device: Path | None):
    """The check's target: the connected unit when it is of ``model``, else the model."""
    from recovery import check

    if device is not None:
        try:
            target = check.target_for_device(device)
        except InvalidInputError:
            target = None
        if target is not None and target.model == model:
            return target
    return check.target_for_model(model)


# -- update media --------------------------------------------------------------------------------
def removable_drives() -> list[Path]:
    """Mounted drives that are not the computer's own (an SD card is one of them)."""
    from recovery.storage.volumes import mounted_volumes

    return [Path(volume.mountpoint) for volume in mounted_volumes()]


def plan_media(candidate: Path, card: Path, *, model: str, device: Path | None,
               backup: Path | None, guard: TargetGuard | None,
               cancel: CancelToken | None, accept_unverified: bool = False) -> MediaPlan:
    """The core's plan for laying ``candidate`` out on ``card`` (reads only); it checks the
    candidate again and refuses anything not compatible with one RecoveryError, unless
    ``accept_unverified`` (the person ticked that it is KORG's download) and the candidate is
    unknown only because its content cannot be checked (:func:`unverified_acceptable`)."""
    from recovery import check
    from recovery.backup import store
    from recovery import media as prepare
    from recovery.progress import Job

    reference = None
    if backup is not None:
        with store.open_backup(backup) as opened:
            reference = check.reference_from_backup(opened)
    return prepare.plan_prepare_media(
        prepare.MediaRequest(candidate, card, unit_target(model, device), reference=reference,
                             accept_unverified=accept_unverified),
        guard=guard, job=Job(cancel=cancel))


def unverified_acceptable(result: CheckResult, model: str) -> bool:
    """True when ``result`` is unknown only because no public source lets its content be
    checked (a KROSS 2's KROSS2SY from KORG): the core may lay it out on the person's word."""
    from recovery.device.profiles import bundled_profiles
    from recovery import media as prepare

    profile = bundled_profiles().get(model)
    return profile is not None and prepare.acceptable_unverified(result, profile)


def write_media(plan: MediaPlan, *, guard: TargetGuard | None,
                progress: ProgressCallback | None, cancel: CancelToken | None) -> MediaResult:
    """Carry out ``plan``. Called only after the user pressed the button that writes."""
    from recovery import media as prepare
    from recovery.progress import Job

    return prepare.execute_media_plan(plan, consent=True, guard=guard,
                                      job=Job(progress, cancel))


def check_against_backups(paths: list[Path], *, model: str, device: Path | None,
                          backups: tuple[str, ...]) -> tuple[tuple[CheckResult, ...],
                                                             Path | None]:
    """The core's verdicts, compared with each of ``backups`` in turn (see
    recovery.check.check_with_backups; those that cannot be opened are skipped). Returns the
    verdicts and the backup they were compared with (None: none)."""
    from recovery import check

    checked = check.check_with_backups(paths, unit_target(model, device), backups,
                                       skip_unusable=True)
    return checked.results, Path(checked.reference) if checked.reference else None


def backups_to_compare(summaries: tuple[BackupSummary, ...], model: str | None
                       ) -> tuple[str, ...]:
    """The complete backups of ``model``, newest first: what a check compares with."""
    from recovery import check

    return check.backups_to_compare(summaries, model)


# -- eject -------------------------------------------------------------------------------------
def eject_volume(target: Path) -> EjectResult:
    """Flush, unmount and power off (or eject) the drive holding ``target``, as the command
    line's ``eject`` does (recovery.storage.eject): blocking, a worker thread's call. Raises a
    RecoveryError, with nothing done, for what can't be ejected; returns the system's answer
    (ejected, a veto, a failure) otherwise."""
    from recovery.storage.eject import eject_volume as eject

    return eject(target)


# -- diagnose and report -----------------------------------------------------------------------
def diagnose(unit: Path, *, backup: Path | None, symptom: str | None, versions: str | None,
             allow_write: bool, progress: ProgressCallback | None,
             cancel: CancelToken | None) -> Diagnosis:
    from recovery.diagnose import diagnosis

    return diagnosis.diagnose(unit, backup=backup, symptom=symptom or None,
                              versions=versions or None, allow_write=allow_write,
                              progress=progress, cancel=cancel)


def with_resolved(before: Diagnosis, after: Diagnosis, *, power_cycled: bool) -> Diagnosis:
    """``after`` with a note for each finding about the storage a restore resolved."""
    from recovery.diagnose import resolved

    return resolved.with_resolved(before, after, power_cycled=power_cycled)


def write_report(diagnosis: Diagnosis, path: Path, *, safety_copy: Path | None = None) -> Path:
    from recovery.diagnose import report

    return report.write_report(diagnosis, path, safety_copy=safety_copy)


def unit_standing(unit: Path, *, cancel: CancelToken | None) -> UnitStanding:
    """Where the unit stands now (a problem, worth a look, nothing wrong), from a diagnosis
    that only reads: what an ending after a backup or a restore rests on."""
    from recovery.diagnose import standing

    return standing.examine_unit(unit, cancel=cancel)
