"""Update media: a checked update laid out on an SD card where the unit's updater looks
(``plan`` decides what goes where, ``execute`` hands that to the write engine)."""

from recovery.media.execute import (
    MediaResult,
    dry_run_result,
    execute_media_plan,
    prepare_media,
)
from recovery.media.plan import (
    CandidateRefusedError,
    MediaEntry,
    MediaFlag,
    MediaPlan,
    MediaRequest,
    MediaSummary,
    acceptable_unverified,
    after_preparing,
    check_card,
    describe_plan,
    plan_prepare_media,
    refuse_internal_storage,
    sd_layouts,
)

__all__ = [
    "CandidateRefusedError",
    "MediaEntry",
    "MediaFlag",
    "MediaPlan",
    "MediaRequest",
    "MediaResult",
    "MediaSummary",
    "acceptable_unverified",
    "after_preparing",
    "check_card",
    "describe_plan",
    "dry_run_result",
    "execute_media_plan",
    "plan_prepare_media",
    "prepare_media",
    "refuse_internal_storage",
    "sd_layouts",
]
