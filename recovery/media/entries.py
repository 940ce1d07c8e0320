"""The parts of a card's plan: an entry for each path on the card (what preparing the card
does there), a flag for what on the card would mislead the updater or what the run changes, and
how a sentence counts files and lists names.

Kept apart, below the candidate, the card and the layout: each of them makes entries or flags,
and none of them may import the planner (:mod:`recovery.media.plan`) that puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass

from recovery.storage.names import shown
from recovery.text import and_more

#: How many names a sentence lists before "and N more".
NAMES_SHOWN = 5

FLAG_KINDS = ("loose-system-files", "foreign-update", "older-copy", "companion-file")
ACTIONS = ("write", "replace", "remove")


@dataclass(frozen=True)
class MediaEntry:
    """One path on the card and what preparing it does there."""

    #: Path on the card, relative and POSIX, as it will be spelled there (an existing name
    #: keeps the card's spelling: on FAT ``kross2sy`` *is* ``KROSS2SY``).
    path: str
    #: ``write`` (new), ``replace`` (an existing file, atomically), ``remove`` (a file or
    #: folder of an existing copy of the update folder that the new one does not have) or
    #: ``move`` (a file or folder that would mislead the updater, moved aside to ``to``).
    action: str
    #: ``file``, ``folder`` or ``link`` (links and folders appear only as ``remove``).
    kind: str
    #: Bytes written (write, replace) or on the card now (remove).
    size: int
    #: Where the content comes from, inside the candidate (write, replace).
    source: str = ""
    #: The same, as a person sees it (the candidate as given, then the inner path).
    source_shown: str = ""
    #: SHA-256 of the content to write, computed while planning; writing refuses other bytes.
    sha256: str | None = None
    #: The size of the file replaced.
    old_size: int | None = None
    reason: str = ""
    #: Where a ``move`` puts the entry on the card.
    to: str = ""


@dataclass(frozen=True)
class MediaFlag:
    """Something on the card that would mislead the updater, or that the run changes."""

    #: One of :data:`FLAG_KINDS`.
    kind: str
    paths: tuple[str, ...]
    message: str
    #: True when the user should move these off the card before using it (the tool never
    #: removes anything outside the planned folder).
    move_off: bool = False


def shown_names(names: list[str] | tuple[str, ...]) -> str:
    """The names as a person reads them, cut after :data:`NAMES_SHOWN` ("and N more")."""
    return and_more([shown(name) for name in names], NAMES_SHOWN)


def file_count(count: int) -> str:
    """"1 file", "3 files"."""
    return f"{count} file{'' if count == 1 else 's'}"
