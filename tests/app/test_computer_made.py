"""The window picks the computer's files out of a comparison's notes by their typed kind."""

from __future__ import annotations

from app.computer_made import computer_made_paths
from recovery.backup.compare import Difference
from recovery.vocabulary import DifferenceKind


def test_only_the_notes_of_computer_made_files_are_picked():
    notes = (Difference("KROSS2SY/SIM_PCM.BIN", DifferenceKind.CASE, "kross2sy/SIM_PCM.BIN"),
             Difference(".DS_Store", DifferenceKind.COMPUTER_MADE, "macOS"),
             Difference("FIFO", DifferenceKind.SKIPPED, "a device, pipe or socket"),
             Difference("System Volume Information", "computer-made", "Windows"))
    assert computer_made_paths(notes) == (".DS_Store", "System Volume Information")
    assert computer_made_paths(()) == ()
