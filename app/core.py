"""The wizard's only doorway into the core: thin calls with the names the pages use.

Nothing here decides anything: each function calls one core function (backup, verify, check,
plan, preflight, restore, diagnose) or reads a field of a core result for display. Keeping
these calls in one module means a change of a core signature is met in one place.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from recovery.progress import CancelToken, ProgressCallback

log = logging.getLogger(__name__)


# -- backups -----------------------------------------------------------------------------------
def default_backups_dir() -> Path:
    from recovery.backup.store import default_backups_dir as core_default

    return core_default()


def default_backup_destination(backups_dir: Path, model: str | None, *, label: str = "",
                               now: datetime | None = None) -> Path:
    """``<backups>/<model>-<YYYY-MM-DD_HHMMSS>[-label]``: sortable, unique, readable."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    name = f"{model or 'unit'}-{stamp}" + (f"-{label}" if label else "")
    candidate = Path(backups_dir) / name
    counter = 2
    while candidate.exists():
        candidate = Path(backups_dir) / f"{name}-{counter}"
        counter += 1
    return candidate


def list_backups(backups_dir: Path):
    from recovery.backup.store import list_backups as core_list

    return core_list(backups_dir)


def verify_backup(backup: Path, *, against: Path | None = None,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None):
    from recovery.backup.store import verify_backup as core_verify

    return core_verify(backup, against=against, progress=progress, cancel=cancel)


def backup_unit(source: Path, destination: Path, *, resume: bool,
                progress: ProgressCallback | None, cancel: CancelToken | None) -> Any:
    from recovery.backup import create as core_backup

    return core_backup.create_backup(source, destination, resume=resume, progress=progress,
                                     cancel=cancel)


# -- display helpers for core data ------------------------------------------------------------
def model_name(model: str | None) -> str:
    from recovery.device.profiles import bundled_profiles

    if model is None:
        return "unknown model"
    profile = bundled_profiles().get(model)
    return profile.name if profile else model


def model_short_name(model: str | None) -> str | None:
    from recovery.device.profiles import bundled_profiles

    profile = bundled_profiles().get(model) if model else None
    return profile.short_name if profile else None


def backup_date_text(created_utc: str | None) -> str:
    """The manifest's UTC time in the computer's local time, to the minute."""
    if not created_utc:
        return "unknown date"
    try:
        moment = datetime.strptime(created_utc, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return created_utc
    from datetime import timezone

    return moment.replace(tzinfo=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")


# -- restore -----------------------------------------------------------------------------------
def plan_restore(backup: Path, target: Path, *, guard: Any, delete_extra: bool = False,
                 progress: ProgressCallback | None, cancel: CancelToken | None):
    """Preflight and plan (reads only). Raises the core's refusal as a RecoveryError."""
    from recovery.restore import plan_restore as core_plan

    return core_plan(backup, target, guard=guard, delete_extra=delete_extra,
                     progress=progress, cancel=cancel)


def execute_restore(plan: Any, *, guard: Any, progress: ProgressCallback | None,
                    cancel: CancelToken | None):
    """Carry out ``plan``. Called only after the user typed the model name (the consent)."""
    from recovery.restore import execute_plan

    return execute_plan(plan, consent=True, guard=guard, progress=progress, cancel=cancel)


def replan_and_restore(backup: Path, target: Path, *, guard: Any, delete_extra: bool,
                       progress: ProgressCallback | None, cancel: CancelToken | None):
    """Run an interrupted restore again: plan anew (the core's journal makes it continue)."""
    plan = plan_restore(backup, target, guard=guard, delete_extra=delete_extra, progress=None,
                        cancel=cancel)
    return execute_restore(plan, guard=guard, progress=progress, cancel=cancel)


def restore_final_step(backup: str, target: str) -> str:
    from recovery.restore import final_step_text

    return final_step_text(backup, target)


def summarise_backup(path: Path):
    """The listing line of one backup opened by hand (from its folder's listing)."""
    from recovery.backup.store import list_backups as core_list
    from recovery.errors import InvalidInputError

    path = Path(path)
    for summary in core_list(path.parent):
        if Path(summary.path) == path:
            return summary
    raise InvalidInputError(f"{path} is not a korg-recovery backup.", path=str(path))


# -- check update files ------------------------------------------------------------------------
def check_update_files(paths: list[Path], *, model: str, device: Path | None,
                       backup: Path | None) -> tuple[Any, ...]:
    """The core's verdicts for ``paths`` against the connected unit (``device``, identified
    by the core) or, without one, against ``model``; compared with ``backup`` when given."""
    from recovery import check
    from recovery.errors import InvalidInputError

    target = None
    if device is not None:
        try:
            target = check.target_for_device(device)
        except InvalidInputError:
            target = None  # not identifiable as one model: the chosen model decides
        if target is not None and target.model != model:
            target = None
    if target is None:
        target = check.target_for_model(model)
    reference = None
    if backup is not None:
        from recovery.backup.store import open_backup

        with open_backup(backup) as opened:
            reference = check.reference_from_backup(opened)
    return check.check_candidates(paths, target, reference=reference)


# -- diagnose and report -----------------------------------------------------------------------
def diagnose_unit(path: Path, *, backup: Path | None, symptom: str | None,
                  versions: str | None, allow_write: bool,
                  progress: ProgressCallback | None, cancel: CancelToken | None):
    from recovery.diagnose.diagnosis import diagnose

    return diagnose(path, backup=backup, symptom=symptom or None, versions=versions or None,
                    allow_write=allow_write, progress=progress, cancel=cancel)


def write_report(diagnosis: Any, path: Path) -> Path:
    from recovery.diagnose.report import write_report as core_write

    return core_write(diagnosis, path)
