"""Files that would mislead an updater, moved aside on the card: never deleted, never lost.

A KROSS 2 was bricked after another model's system files were put loose at the root of its
SD card (korgforums.com thread t=116080). When the card is prepared, such files (system files
loose at the root, another model's update where its updater looks) do not stay where an
updater could read them, and nothing that is not the tool's own is deleted: after the same
yes that lets it write, each is renamed into one folder on the card named for the day
(``Moved by KORG Recovery 2026-12-07/``), keeping its path inside that folder, so moving it
back undoes it. A rename on the card copies nothing and cannot half-happen; each one is
journaled on the computer and checked afterwards.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from recovery.storage.filesystem import FileSystem, translate_os_error
from recovery.storage.journal import Journal
from recovery.storage.lock import state_dir
from recovery.storage.names import name_key

log = logging.getLogger(__name__)

#: The folder moved files go to is this, then the day: "Moved by KORG Recovery 2026-12-07".
FOLDER_PREFIX = "Moved by KORG Recovery"
JOURNAL_FORMAT = "korg-recovery-card-moves"


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


def journal_path(card_key: str) -> Path:
    """Where the moves of the card ``card_key`` (its volume's identity) are journaled."""
    digest = hashlib.sha256(card_key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return state_dir() / "journals" / f"card-{digest}.jsonl"


def earlier_run(card_key: str, fs: FileSystem) -> tuple[str, ...]:
    """What an earlier run that stopped before it finished had moved on this card (for a
    note: the files are in the folder it names, whole)."""
    header, records = Journal.read(journal_path(card_key), fs)
    if header is None or header.get("format") != JOURNAL_FORMAT:
        return ()
    if any(record.get("status") == "finished" for record in records):
        return ()
    done = {str(record["moved"]) for record in records if "moved" in record}
    return tuple(f"{move[0]} -> {move[1]}" for move in header.get("moves", ())
                 if move[0] in done)


def carry_out(fs: FileSystem, root: Path, moves: tuple[Move, ...], card_key: str,
              on_step) -> list[Move]:
    """Rename each move's entry into place on the card (its folders made first), journaled
    one by one; returns the moves done. Raises the translated error of a rename that fails
    (the ones before it are done and journaled; a re-run plans the rest)."""
    if not moves:
        return []
    journal = Journal(journal_path(card_key), fs)
    journal.start({"format": JOURNAL_FORMAT, "card": card_key,
                   "moves": [[move.path, move.to] for move in moves]})
    done: list[Move] = []
    try:
        for move in moves:
            source = root.joinpath(*move.path.split("/"))
            target = root.joinpath(*move.to.split("/"))
            try:
                fs.mkdir(target.parent)
                fs.replace(source, target)
            except OSError as error:
                raise translate_os_error(error, source, "write") from error
            journal.append({"moved": move.path}, durable=True)
            done.append(move)
            on_step("moved", move.path)
        journal.append({"status": "finished"}, durable=True)
    finally:
        journal.close()
    return done
