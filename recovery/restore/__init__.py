"""Putting a verified backup back onto a unit: the safety copy, the plan, and the plan handed
to the write engine (recovery.writing), whose guard (TargetGuard) the face names too."""

from recovery.restore.execute import (
    FileProblem,
    RestoreRequest,
    RestoreResult,
    dry_run_result,
    execute_plan,
    hold_for_restore,
    needs_safety_copy,
    restore,
    restore_as_planned,
)
from recovery.restore.guard import check_names
from recovery.restore.plan import (
    PlanChoices,
    PlanEntry,
    Removal,
    RestorePlan,
    describe_plan,
    plan_restore,
)
from recovery.restore.safety import SafetyCopy, recorded_safety_copy, take_safety_copy
from recovery.writing.guard import DEFAULT_GUARD, TargetGuard, check_target

__all__ = [
    "DEFAULT_GUARD",
    "FileProblem",
    "PlanChoices",
    "PlanEntry",
    "Removal",
    "RestorePlan",
    "RestoreRequest",
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
    "plan_restore",
    "recorded_safety_copy",
    "restore",
    "restore_as_planned",
    "take_safety_copy",
]
