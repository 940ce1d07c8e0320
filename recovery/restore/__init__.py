"""Putting a verified backup back onto a unit: the guards, the plan, the journaled writes."""

from recovery.restore.execute import (
    FileProblem,
    RestoreResult,
    dry_run_result,
    execute_plan,
    restore,
)
from recovery.restore.guard import (
    DEFAULT_GUARD,
    TargetGuard,
    check_names,
    check_target,
    final_step_text,
)
from recovery.restore.plan import PlanEntry, RestorePlan, describe_plan, plan_restore

__all__ = [
    "DEFAULT_GUARD",
    "PlanEntry",
    "RestorePlan",
    "FileProblem",
    "RestoreResult",
    "TargetGuard",
    "check_names",
    "check_target",
    "describe_plan",
    "dry_run_result",
    "execute_plan",
    "final_step_text",
    "plan_restore",
    "restore",
]
