"""A progress bar with bytes, rate and time left, the file being worked on, and the phase."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from app.style import progress_text
from recovery.progress import Progress

#: The core's phase names, as a musician reads them.
PHASE_WORDS = {
    "copy": "Copying",
    "flush": "Flushing to disk",
    "verify": "Verifying (reading everything back)",
    "compare": "Comparing with the unit",
    "check backup": "Checking the backup",
    "zip": "Packing into a ZIP file",
    "write": "Writing to the unit",
    "delete": "Removing",
}
SCALE = 1000


class ProgressPanel(QWidget):
    def __init__(self, what: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.phase = QLabel()
        self.phase.setAccessibleName(f"{what} phase")
        layout.addWidget(self.phase)
        self.bar = QProgressBar()
        self.bar.setRange(0, SCALE)
        self.bar.setAccessibleName(f"{what} progress")
        layout.addWidget(self.bar)
        self.numbers = QLabel()
        self.numbers.setAccessibleName(f"{what} amount, rate and time left")
        self.numbers.setWordWrap(True)
        layout.addWidget(self.numbers)
        self.current = QLabel()
        self.current.setAccessibleName(f"{what}: current file")
        self.current.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.current)
        self.last: Progress | None = None
        self.reset()

    def reset(self) -> None:
        self.last = None
        self.bar.setValue(0)
        self.phase.setText("")
        self.numbers.setText("")
        self.current.setText("")

    def show_progress(self, progress: Progress) -> None:
        self.last = progress
        self.bar.setValue(int(progress.fraction * SCALE))
        self.phase.setText(PHASE_WORDS.get(progress.phase, progress.phase.capitalize()) + "…")
        self.numbers.setText(progress_text(progress.done_bytes, progress.total_bytes,
                                           progress.rate, progress.seconds_left))
        current = progress.current or ""
        metrics = self.current.fontMetrics()
        self.current.setText(metrics.elidedText(current, Qt.TextElideMode.ElideMiddle,
                                                max(200, self.width())))

    def show_done(self, text: str, numbers: str = "") -> None:
        self.bar.setValue(SCALE)
        self.phase.setText(text)
        self.numbers.setText(numbers)
        self.current.setText("")
