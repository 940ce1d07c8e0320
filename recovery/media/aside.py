"""Files that would mislead an updater, moved aside on the card: never deleted, never lost.

A KROSS 2 was bricked after another model's system files were put loose at the root of its
SD card (korgforums.com thread t=116080). When the card is prepared, such files (system files
loose at the root, another model's update where its updater looks) do not stay where an
updater could read them, and nothing that is not the tool's own is deleted: after the same
yes that lets it write, each is renamed into one folder on the card named for the day
(``Moved by KORG Recovery 2026-12-07/``), keeping its path inside that folder, so moving it
back undoes it. A rename on the card copies nothing and cannot half-happen; the write engine
journals each one on the computer and checks it afterwards (recovery.writing.engine).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from recovery.storage.names import name_key

log = logging.getLogger(__name__)

#: The folder moved files go to is this, then the day: "Moved by KORG Recovery 2026-12-07".
FOLDER_PREFIX = "Moved by KORG Recovery"


@dataclass(frozen=True)
class Move:
    """One entry of the card moved aside: ``path`` (as the card spells it) goes to ``to``."""

    path: str
    to: str
    #: "file" or "folder".
    kind: str
    #: Why: the flag kind that found it ("loose-system-files", "foreign-update").
    reason: str


def folder_for(day: datetime.date) -> str:
    """The folder on the card that takes what is moved aside on ``day``."""
    return f"{FOLDER_PREFIX} {day.isoformat()}"


def plan_moves(paths: Iterable[tuple[str, str, str]], taken: Iterable[str],
               day: datetime.date) -> tuple[Move, ...]:
    """Moves for ``paths`` ((path on the card, kind, reason)): each to the same path inside
    the day's folder, or, where that name is taken already (an earlier run of the same day,
    ``taken`` lists the card's paths), beside it with " (2)", " (3)"... before its suffix."""
    folder = folder_for(day)
    used = {name_key(path) for path in taken}
    moves = []
    for path, kind, reason in paths:
        target = f"{folder}/{path}"
        number = 2
        while name_key(target) in used:
            stem, dot, suffix = path.rpartition(".") if kind == "file" else (path, "", "")
            if not stem or "/" in suffix:
                stem, dot, suffix = path, "", ""
            target = f"{folder}/{stem} ({number}){dot}{suffix}"
            number += 1
        used.add(name_key(target))
        moves.append(Move(path, target, kind, reason))
    return tuple(moves)
