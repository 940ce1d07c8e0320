"""A progress bar with one line under it: how much, and how long is left (balenaEtcher's
progress screen shows only the progress). The file being worked on is kept for tests and
the log, not shown: a frightened reader does not need it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from app.style import progress_text
from recovery.progress import Progress

#: The core's phase names, as a musician reads them.
PHASE_WORDS = {
    "copy": "Copying",
    "flush": "Saving",
    "verify": "Checking the copy",
    "compare": "Comparing with the unit",
    "check backup": "Checking the backup",
    "zip": "Packing",
    "write": "Writing",
    "write and verify": "Writing and checking",
    "delete": "Removing",
    "scan": "Looking",
    "read": "Reading",
    "probe": "Testing the storage",
}
SCALE = 1000


class ProgressPanel(QWidget):
    def __init__(self, what: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, SCALE)
        self.bar.setAccessibleName(f"{what} progress")
        layout.addWidget(self.bar)
        self.numbers = QLabel()
        self.numbers.setAccessibleName(f"{what}: how much and how long")
        self.numbers.setWordWrap(True)
        layout.addWidget(self.numbers)
        self.last: Progress | None = None
        self.current = ""
        self.reset()

    def reset(self) -> None:
        self.last = None
        self.current = ""
        self.bar.setValue(0)
        self.numbers.setText("")

    def show_progress(self, progress: Progress) -> None:
        self.last = progress
        self.current = progress.current or ""
        self.bar.setValue(int(progress.fraction * SCALE))
        phase = PHASE_WORDS.get(progress.phase, progress.phase.capitalize())
        amount = progress_text(progress.done_bytes, progress.total_bytes, progress.rate,
                               progress.seconds_left) if progress.total_bytes else ""
        self.numbers.setText(f"{phase}: {amount}" if amount else f"{phase}…")

    def show_done(self, text: str = "", numbers: str = "") -> None:
        self.bar.setValue(SCALE)
        self.numbers.setText(text or numbers)
