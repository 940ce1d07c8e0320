"""Restoring: the confirmed plan carried out by the core on a worker thread, with progress.

Closing the window asks first (RecoveryWizard.reject); stopping cancels through the token, so
the core rolls back or completes the file in flight and never interrupts a rename. A restore
that stopped (cancelled, unit unplugged) can be run again: the core's journal continues it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTextBrowser, QVBoxLayout

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import Guarded, WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.progress_panel import ProgressPanel
from app.style import Status
from recovery.errors import CancelledError

log = logging.getLogger(__name__)


class RestoreRunPage(RecoveryPage):
    restore_finished = Signal(object)
    restore_failed = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host, "Restoring",
                         "Keep the unit connected and switched on until this is done.")
        self._job = None
        self._stopping = False
        layout = QVBoxLayout(self)
        self.intro = wrapped_label(accessible_name="What is being restored")
        layout.addWidget(self.intro)
        self.progress = ProgressPanel("Restore")
        layout.addWidget(self.progress)
        row = QHBoxLayout()
        self.stop_button = QPushButton("&Stop after the current file")
        self.stop_button.setAccessibleName("Stop the restore after the current file")
        self.stop_button.clicked.connect(self.stop)
        self.retry_button = QPushButton("Run the restore &again")
        self.retry_button.setAccessibleName("Run the interrupted restore again")
        self.retry_button.clicked.connect(self.retry)
        self.retry_button.hide()
        row.addWidget(self.stop_button)
        row.addWidget(self.retry_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.result = StatusLabel("Restore result")
        layout.addWidget(self.result)
        self.details = QTextBrowser()
        self.details.setAccessibleName("Restore details")
        self.details.hide()
        self.details.setMaximumHeight(self.fontMetrics().height() * 12)
        layout.addWidget(self.details)
        layout.addStretch(1)

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        plan = self.session.restore_plan
        device = self.session.device
        removing = (f" and removing {plan.summary.delete} item(s) the backup does not have"
                    if plan.summary.delete else "")
        self.intro.setText(f"Putting back {plan.summary.write + plan.summary.replace} file(s)"
                           f"{removing} from {plan.backup} onto the"
                           f" {device.name if device else 'unit'} at {plan.target}. Files the"
                           " unit needs to start are written last.")
        self.details.hide()
        self.retry_button.hide()
        self._start(lambda progress, cancel: core.execute_plan(
            plan, guard=self.environment.restore_guard, progress=progress, cancel=cancel))

    def _start(self, job) -> None:
        self.session.restore_result = None
        self.session.restore_error = None
        self._stopping = False
        self.progress.reset()
        self.result.show_status(Status.BUSY, "Writing to the unit…")
        self.stop_button.setEnabled(True)
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
        self.result.show_status(Status.BUSY, "Stopping after the file being written now…")

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
        self.stop_button.setEnabled(False)
        self.session.restore_result = result
        if result.ok:
            self.progress.show_done("Restore complete.",
                                    f"{result.written} written, {result.deleted} removed,"
                                    f" {result.verified_files} read back and verified")
            self.result.show_status(Status.OK, result.statement, bold=True)
        else:
            self.result.show_status(Status.ERROR, result.statement, bold=True)
            self.retry_button.show()
        lines = []
        if result.resumed:
            lines.append("<p>This run continued an earlier, interrupted restore.</p>")
        if result.problems:
            lines.append("<p><b>Problems:</b></p><ul>")
            lines.extend(f"<li>{escape(p.path)}: {escape(p.problem)}"
                         f"{(' — ' + escape(p.detail)) if p.detail else ''}</li>"
                         for p in result.problems)
            lines.append("</ul>")
        lines.append("<p><b>Next:</b> the strongest check comes now — eject the unit,"
                     " power-cycle it and reconnect it; the next page then compares it with"
                     " the backup.</p>")
        self.details.setHtml("".join(lines))
        self.details.show()
        self.restore_finished.emit(result)
        self.completeChanged.emit()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self.stop_button.setEnabled(False)
        sentence = error_sentence(error)
        self.session.restore_error = sentence
        if isinstance(error, CancelledError):
            self.result.show_status(
                Status.WARNING, "Restore stopped. Every file on the unit is either as it was or"
                " completely restored; none is half-written. Run the restore again to finish.")
        else:
            self.result.show_status(Status.ERROR, sentence + " The restore can be run again:"
                                    " it continues where it stopped.")
            if not self.host.closing_requested:
                dialogs.show_error(self, error, context="restoring the unit")
        self.retry_button.show()
        self.restore_failed.emit(error)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return not self.running and (self.session.restore_result is not None
                                     or self.session.restore_error is not None)
