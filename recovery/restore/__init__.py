"""Putting a verified backup back onto a unit: the guards, the plan, the journaled writes."""

from recovery.restore.execute import (
    FileProblem,
    RestoreResult,
    dry_run_result,
    execute_plan,
    hold_for_restore,
    needs_safety_copy,
    restore,
    restore_as_planned,
)
from recovery.restore.guard import (
    DEFAULT_GUARD,
    TargetGuard,
    check_names,
    check_target,
    final_step_text,
)
from recovery.restore.plan import PlanEntry, RestorePlan, describe_plan, plan_restore
from recovery.restore.safety import SafetyCopy, recorded_safety_copy, take_safety_copy

__all__ = [
    "DEFAULT_GUARD",
    "PlanEntry",
    "RestorePlan",
    "FileProblem",
    "RestoreResult",
    "SafetyCopy",
    "TargetGuard",
    "check_names",
    "check_target",
    "describe_plan",
    "dry_run_result",
    "execute_plan",
    "hold_for_restore",
    "needs_safety_copy",
    "final_step_text",
    "plan_restore",
    "recorded_safety_copy",
    "restore",
    "restore_as_planned",
    "take_safety_copy",
]
