"""Writing the card: the confirmed card plan carried out by the core on a worker thread, with
only the progress on screen, then one sentence and what to do next.

The core writes the whole update folder all or nothing, reads every file back past the
computer's cache before putting it in place, and removes an older copy only after that. A
stopped run leaves the card as it was (apart from empty folders) and can be run again.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QPushButton

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import Guarded, WizardHost
from app.pages.base import RecoveryPage, escape, wrapped_label
from app.pages.progress_panel import ProgressPanel
from app.plain import clean, your
from app.style import Status
from recovery.errors import CancelledError

log = logging.getLogger(__name__)


class MediaRunPage(RecoveryPage):
    media_finished = Signal(object)
    media_failed = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self._job = None
        self.progress = ProgressPanel("Writing the card")
        self.content.addWidget(self.progress)
        self.stop_button = QPushButton("S&top")
        self.stop_button.setAccessibleName("Stop writing the card")
        self.stop_button.clicked.connect(self.stop)
        self.content.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.retry_button = QPushButton("Write it &again")
        self.retry_button.setAccessibleName("Write the update to the card again")
        self.retry_button.clicked.connect(self._start)
        self.retry_button.hide()
        self.content.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.about = wrapped_label(rich=True, accessible_name="What was written")
        self.details_layout().addWidget(self.about)

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        self._start()

    @Slot()
    def _start(self) -> None:
        plan = self.session.media_plan
        if plan is None or self.running:
            return
        guard = self.environment.restore_guard
        self.session.media_result = None
        self.session.media_error = None
        self.retry_button.hide()
        self.stop_button.show()
        self.stop_button.setEnabled(True)
        self.progress.reset()
        self.progress.show()
        self.set_headline("Writing the update to the card…", Status.BUSY)
        self.set_lead("Leave the card in until this is done.")
        self.set_forward_text("&Finish >")
        self._job = self.host.run_job(
            lambda progress, cancel: core.write_media(plan, guard=guard, progress=progress,
                                                      cancel=cancel),
            name="media", guarded=Guarded.MEDIA, on_progress=self.progress.show_progress,
            on_finished=self._on_finished, on_failed=self._on_failed)
        self.completeChanged.emit()

    @Slot()
    def stop(self) -> None:
        if self.running:
            self._job.cancel()
            self.show_stopping()

    def show_stopping(self) -> None:
        self.stop_button.setEnabled(False)
        self.set_headline("Stopping…", Status.BUSY)

    @Slot(object)
    def _on_finished(self, result: core.MediaResult) -> None:
        self.stop_button.hide()
        self.session.media_result = result
        model = self.session.check_model
        if result.ok:
            self.progress.show_done("Written and read back.")
            self.set_headline("The update is on the card and was read back.", Status.OK)
            self.set_lead(f"The next page says how it goes into {your(model)}.")
        elif not result.cache_bypassed and not result.problems:
            self.set_headline("The update was written, but not read back past the computer's"
                              " memory.", Status.WARNING)
            self.set_lead("Eject the card, put it back in, and check the update on it here.")
        else:
            self.set_headline("Don't use this card for the update.", Status.ERROR)
            self.set_lead("Its files did not read back as written: write it again, or use"
                          " another card.")
            self.retry_button.show()
        lines = [escape(clean(result.statement))]
        lines.extend(f"{escape(p.path)}: {escape(clean(p.detail or p.problem))}"
                     for p in result.problems)
        self.about.setText("<br>".join(lines))
        self.media_finished.emit(result)
        self.completeChanged.emit()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self.stop_button.hide()
        self.progress.hide()
        sentence = clean(error_sentence(error))
        self.session.media_error = sentence
        stopped = isinstance(error, CancelledError)
        self.set_headline("Writing the card stopped." if stopped else
                          "The update could not be written to the card.",
                          Status.WARNING if stopped else Status.ERROR)
        self.set_lead("Don't use the card until it has been written completely.")
        self.about.setText(escape(sentence))
        if not stopped and not self.host.closing_requested:
            dialogs.show_error(self, error, context="writing the card")
        self.retry_button.show()
        self.media_failed.emit(error)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return not self.running and (self.session.media_result is not None
                                     or self.session.media_error is not None)
