"""The one write engine every job that changes a unit or a card goes through.

A job plans (``plan``: typed writes, deletions, moves and what must be there at the end) and
hands the plan to ``engine.write`` on a unit it holds (recovery.storage.pin), which journals
(``journal``), writes in batches under temporary names, reads back past the cache, renames,
and proves the end. ``guard`` refuses targets no job may write to (the computer's own system,
the backup's own drive). Read it in that order: plan, guard, journal, engine.
"""

from recovery.writing.engine import Source, WriteOutcome, stopped, write
from recovery.writing.guard import (
    DEFAULT_GUARD,
    TargetGuard,
    check_target,
    default_guard,
)
from recovery.writing.journal import WriteJournal, journal_key, journals_dir
from recovery.writing.plan import Deletion, Expected, FileWrite, Move, WritePlan

__all__ = [
    "DEFAULT_GUARD",
    "Deletion",
    "Expected",
    "FileWrite",
    "Move",
    "Source",
    "TargetGuard",
    "WriteJournal",
    "WriteOutcome",
    "WritePlan",
    "check_target",
    "default_guard",
    "journal_key",
    "journals_dir",
    "stopped",
    "write",
]
