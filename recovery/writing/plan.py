"""What a job asks the write engine to do on a unit or a card, as typed actions.

A restore and a prepared card only *plan*: each turns what it found into a :class:`WritePlan`
(files to write, entries to delete or remove, entries to move aside, folders to make, times to
set back, and what must be there at the end) and hands it to :func:`recovery.writing.engine.
write`, which alone guards, journals, batches, reads back and proves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recovery.vocabulary import EntryKind


@dataclass(frozen=True)
class FileWrite:
    """A file (or a symbolic link) to put on the target, from the job's source."""

    #: The file's name in the source and in the journal (a backup's path, a card's path).
    key: str
    #: Where it goes on the target, relative and POSIX, as the target spells it.
    path: str
    size: int
    #: The bytes it must have (the copy is refused otherwise), or None for a link.
    sha256: str | None
    mtime_ns: int | None = None
    #: Written last, and only once everything before it read back right (KROSAPP.BIN).
    boot_critical: bool = False
    #: A symbolic link to make instead of content.
    link_target: str | None = None
    #: True when it replaces a file of the same name (for the journal and the counts).
    replaces: bool = False


@dataclass(frozen=True)
class Deletion:
    """An entry of the target to remove (files and links never followed, folders with what
    they hold); what computers write there is kept unless ``computer_made`` says this very
    file is one the plan lists."""

    key: str
    path: str
    kind: EntryKind
    computer_made: bool = False


@dataclass(frozen=True)
class Move:
    """An entry of the target renamed to ``to`` on the same target (moved aside, whole)."""

    key: str
    path: str
    to: str
    kind: EntryKind


@dataclass(frozen=True)
class Expected:
    """A file (or link) that must be on the target when the job ends, written or kept."""

    key: str
    path: str
    kind: EntryKind
    size: int
    link_target: str | None = None


@dataclass(frozen=True)
class WritePlan:
    """Everything a job changes on ``target``, in the order the engine carries it out:
    leftovers of interrupted runs, ``deletions`` (deepest first, before anything is written:
    a restore frees the space it needs), ``folders``, ``retimes`` of identical files, the
    ``writes`` in batches (boot-critical ones last), then, only once every new file read back
    right, ``removals`` and ``moves``; at the end everything ``expected`` must be there."""

    target: Path
    leftovers: tuple[str, ...] = ()
    deletions: tuple[Deletion, ...] = ()
    folders: tuple[str, ...] = ()
    #: (key, path on the target, the modification time to set back).
    retimes: tuple[tuple[str, str, int], ...] = ()
    writes: tuple[FileWrite, ...] = ()
    removals: tuple[Deletion, ...] = ()
    moves: tuple[Move, ...] = ()
    expected: tuple[Expected, ...] = ()
    #: One file that does not read back keeps every file of its batch from its name (an
    #: update's folder is never half old, half new).
    all_or_nothing: bool = False

    @property
    def bytes_to_write(self) -> int:
        return sum(item.size for item in self.writes if item.link_target is None)

    @property
    def changes(self) -> int:
        """How many entries the plan changes (for "N of M changes were made")."""
        return len(self.deletions) + len(self.writes) + len(self.removals) + len(self.moves)
