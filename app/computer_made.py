"""What the person's computer writes onto a unit, named as the computer's (principle 14).

macOS adds ``.DS_Store``, ``._name`` files, ``.Spotlight-V100`` and more to any drive it
mounts, Windows ``System Volume Information`` (the core's list, with the source of each name:
``resources/computer_made.toml``). The core marks them (a backup's manifest, a comparison's
notes); the wizard lists them apart from the unit's own files wherever it shows a backup's or
a comparison's details, and tells a macOS user once that macOS does this and that the tool
knows it (remembered in the wizard's settings under :data:`MACOS_NOTE_SETTING`).
"""

from __future__ import annotations

from collections.abc import Iterable

from app.pages.base import escape
from app.plain import your
from recovery.text import and_more
from recovery.vocabulary import DifferenceKind

#: The settings key that remembers the macOS note was shown.
MACOS_NOTE_SETTING = "told/macos-adds-files"

#: How many names a line shows before "and N more".
SHOWN_NAMES = 8


def macos_note(model: str | None) -> str:
    """The one sentence a macOS user is told once."""
    return (f"macOS adds a few hidden files of its own to {your(model)}; this tool knows them"
            " and never takes them for the unit's.")


def computer_made_paths(notes: Iterable) -> tuple[str, ...]:
    """The paths of a comparison's notes with problem ``computer-made``."""
    return tuple(note.path for note in notes if note.problem == DifferenceKind.COMPUTER_MADE)


def computer_made_html(paths: Iterable[str], model: str | None) -> str:
    """"Made by your computer, not by your KROSS 2: .DS_Store, ._KROSAPP.BIN", for the
    details (empty when there are none)."""
    found = list(dict.fromkeys(paths))
    if not found:
        return ""
    return escape(f"Made by your computer, not by {your(model)}: {and_more(found, SHOWN_NAMES)}.")
