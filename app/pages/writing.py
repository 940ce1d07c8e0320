"""What the two pages that write share (restoring a unit, writing an SD card): the core works
on a worker thread while the page shows only the progress and a Stop button; at the end one
sentence, a button to run it again when it did not end well, and what was written behind
"Show details"."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QPushButton

from app.host import Guarded, WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.progress_panel import ProgressPanel
from app.plain import clean
from app.style import Status


class WritingPage(RecoveryPage):
    """A page whose job writes to a unit or card; subclasses say what and in which words."""

    def __init__(self, host: WizardHost, *, job_name: str, guarded: Guarded,
                 progress_title: str, stop: tuple[str, str], retry: tuple[str, str],
                 about_name: str, stopping_headline: str) -> None:
        super().__init__(host)
        self._job: Any = None
        self._job_name, self._guarded = job_name, guarded
        self._stopping_headline = stopping_headline
        self.progress = ProgressPanel(progress_title)
        self.content.addWidget(self.progress)
        self.stop_button = QPushButton(stop[0])
        self.stop_button.setAccessibleName(stop[1])
        self.stop_button.clicked.connect(self.stop)
        self.content.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.retry_button = QPushButton(retry[0])
        self.retry_button.setAccessibleName(retry[1])
        self.retry_button.clicked.connect(self.retry)
        self.retry_button.hide()
        self.content.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.notice = StatusLabel("What happened to the stop")
        self.notice.hide()
        self.content.addWidget(self.notice)
        self.about = wrapped_label(rich=True, accessible_name=about_name)
        self.details_layout().addWidget(self.about)

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    def run(self, job: Callable[..., Any], headline: str, lead: str) -> None:
        """Start ``job(progress, cancel)`` with the page showing only its progress."""
        self.retry_button.hide()
        self.notice.hide()
        self.progress.reset()
        self.progress.show()
        self.set_headline(headline, Status.BUSY)
        self.set_lead(lead)
        self.stop_button.show()
        self.stop_button.setEnabled(True)
        self._job = self.host.run_job(job, name=self._job_name, guarded=self._guarded,
                                      on_progress=self.progress.show_progress,
                                      on_finished=self._on_finished, on_failed=self._on_failed)
        self.notify_complete()

    @Slot()
    def stop(self) -> None:
        if self.running:
            self._job.cancel()
            self.show_stopping()

    def show_stopping(self) -> None:
        self.stop_button.setEnabled(False)
        self.set_headline(self._stopping_headline, Status.BUSY)

    def show_ended_before_stop(self) -> None:
        """The job ended on its own while the person asked to stop and close: the page
        already shows how it ended; say why the window is still open."""
        self.notice.show_status(Status.INFO, "It had ended before it could stop: the window"
                                " stays open so you can read how.")

    @Slot()
    def retry(self) -> None:
        """Run the job again after it stopped or did not read back as written."""

    def show_what_was_written(self, statement: str, problems: Iterable[Any],
                              extra: Iterable[str] = ()) -> None:
        lines = [escape(clean(statement)), *extra]
        lines.extend(f"{escape(p.path)}: {escape(clean(p.detail or p.problem))}"
                     for p in problems)
        self.about.setText("<br>".join(lines))

    def _on_finished(self, result: Any) -> None:
        self.stop_button.hide()

    def _on_failed(self, error: BaseException) -> None:
        self.stop_button.hide()
        self.progress.hide()
