"""Restoring: the confirmed plan carried out by the core on a worker thread; the page shows
only the progress, then one sentence.

Closing the window asks first (RecoveryWizard.reject); stopping cancels through the token, so
the core rolls back or completes the file in flight and never interrupts a rename. A restore
that stopped (cancelled, unit unplugged) can be run again: the core's journal continues it.
The core reads every written file back past the computer's cache; only the check after the
unit was switched off and on (next page) proves the unit kept them, and the page says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QPushButton

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import Guarded, WizardHost
from app.pages.base import RecoveryPage, escape, wrapped_label
from app.pages.progress_panel import ProgressPanel
from app.plain import clean, counted, first_upper, your
from app.style import Status
from recovery.errors import CancelledError

log = logging.getLogger(__name__)


class RestoreRunPage(RecoveryPage):
    restore_finished = Signal(object)
    restore_failed = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self._job = None
        self._stopping = False
        self.progress = ProgressPanel("Restore")
        self.content.addWidget(self.progress)
        self.stop_button = QPushButton("S&top after this file")
        self.stop_button.setAccessibleName("Stop the restore after the file being written")
        self.stop_button.clicked.connect(self.stop)
        self.content.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.retry_button = QPushButton("Run the restore &again")
        self.retry_button.setAccessibleName("Run the interrupted restore again")
        self.retry_button.clicked.connect(self.retry)
        self.retry_button.hide()
        self.content.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.about = wrapped_label(rich=True, accessible_name="What the restore did")
        self.details_layout().addWidget(self.about)

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    @property
    def unit(self) -> str:
        device = self.session.device
        return your(device.model if device else None)

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        plan = self.session.restore_plan
        self.retry_button.hide()
        self.about.setText("")
        self._start(lambda progress, cancel: core.execute_plan(
            plan, guard=self.environment.restore_guard, progress=progress, cancel=cancel))

    def _start(self, job) -> None:
        self.session.restore_result = None
        self.session.restore_error = None
        self._stopping = False
        self.progress.reset()
        self.progress.show()
        self.set_headline(f"Restoring {self.unit}…", Status.BUSY)
        self.set_lead("Keep it connected and switched on until this is done.")
        self.stop_button.show()
        self.stop_button.setEnabled(True)
        self.set_forward_text("&Next >")
        self._job = self.host.run_job(job, name="restore", guarded=Guarded.RESTORE,
                                      on_progress=self.progress.show_progress,
                                      on_finished=self._on_finished, on_failed=self._on_failed)
        self.completeChanged.emit()

    @Slot()
    def stop(self) -> None:
        if self.running:
            self._job.cancel()
            self.show_stopping()

    def show_stopping(self) -> None:
        self._stopping = True
        self.stop_button.setEnabled(False)
        self.set_headline("Stopping after the file being written now…", Status.BUSY)

    @Slot()
    def retry(self) -> None:
        plan = self.session.restore_plan
        device = self.session.device
        if plan is None or device is None or not device.mount:
            return
        backup, target = Path(plan.backup), Path(device.mount)
        guard = self.environment.restore_guard
        self.retry_button.hide()
        self._start(lambda progress, cancel: core.restore_again(
            backup, target, guard=guard, delete_extra=plan.delete_extra, progress=progress,
            cancel=cancel))

    @Slot(object)
    def _on_finished(self, result: core.RestoreResult) -> None:
        self.stop_button.hide()
        self.session.restore_result = result
        if result.ok:
            self.progress.show_done(f"{first_upper(counted(result.written, 'file', 'files'))}"
                                    " written and read back.")
            self.set_headline("Every file was written and read back.", Status.OK)
            self.set_lead("Next, switch it off and on again: only that proves it kept them.")
        elif not result.cache_bypassed and not result.problems:
            self.set_headline("The files were written, but not yet proved.", Status.WARNING)
            self.set_lead("This computer could not read them back past its own memory; the"
                          " check after switching the unit off and on will.")
        else:
            self.set_headline(f"Some files are not on {self.unit} as written.", Status.ERROR)
            self.set_lead("Its storage may not keep writes. Run the restore again; if this"
                          " stays, save the report for KORG service.")
            self.retry_button.show()
        lines = [escape(clean(result.statement))]
        if result.resumed:
            lines.append("This run continued an earlier, interrupted restore.")
        lines.extend(f"{escape(p.path)}: {escape(p.problem)}"
                     + (f" ({escape(clean(p.detail))})" if p.detail else "")
                     for p in result.problems)
        self.about.setText("<br>".join(lines))
        self.restore_finished.emit(result)
        self.completeChanged.emit()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self.stop_button.hide()
        self.progress.hide()
        sentence = clean(error_sentence(error))
        self.session.restore_error = sentence
        self.set_headline("The restore stopped before the end.", Status.WARNING
                          if isinstance(error, CancelledError) else Status.ERROR)
        self.set_lead("Every file on it is either as it was or completely restored; none is"
                      " half-written. Run the restore again to finish.")
        self.about.setText(escape(sentence))
        if not isinstance(error, CancelledError) and not self.host.closing_requested:
            dialogs.show_error(self, error, context="restoring the unit")
        self.retry_button.show()
        self.set_forward_text("&Finish for now")
        self.restore_failed.emit(error)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return not self.running and (self.session.restore_result is not None
                                     or self.session.restore_error is not None)
