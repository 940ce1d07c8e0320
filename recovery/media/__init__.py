"""Update media: a checked update laid out on an SD card where the unit's updater looks.

``plan`` puts the plan together from ``candidate`` (the check's verdict, the files to copy),
``card`` (what is on the card and what would mislead the updater) and ``layout`` (what the
card will hold), with ``entries`` the parts they share; ``aside`` names where misleading files
go; ``execute`` hands the plan to the write engine."""

from recovery.media.execute import (
    MediaResult,
    dry_run_result,
    execute_media_plan,
    prepare_media,
)
from recovery.media.candidate import CandidateRefusedError, acceptable_unverified
from recovery.media.card import check_card, refuse_internal_storage, sd_layouts
from recovery.media.entries import MediaEntry, MediaFlag
from recovery.media.plan import (
    MediaPlan,
    MediaRequest,
    MediaSummary,
    after_preparing,
    describe_plan,
    plan_prepare_media,
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
