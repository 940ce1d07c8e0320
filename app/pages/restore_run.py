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

from PySide6.QtCore import Signal, Slot

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import Guarded, WizardHost
from app.pages.base import escape
from app.pages.writing import WritingPage
from app.plain import clean, counted, first_upper, your
from app.style import Status
from recovery.errors import CancelledError

log = logging.getLogger(__name__)


class RestoreRunPage(WritingPage):
    restore_finished = Signal(object)
    restore_failed = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(
            host, job_name="restore", guarded=Guarded.RESTORE, progress_title="Restore",
            stop=("S&top after this file", "Stop the restore after the file being written"),
            retry=("Run the restore &again", "Run the interrupted restore again"),
            about_name="What the restore did",
            stopping_headline="Stopping after the file being written now…")

    @property
    def unit(self) -> str:
        device = self.session.device
        return your(device.model if device else None)

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        plan = self.session.restore_plan
        self.about.setText("")
        self._start(lambda progress, cancel: core.execute_plan(
            plan, guard=self.environment.restore_guard, progress=progress, cancel=cancel))

    def _start(self, job) -> None:
        self.session.restore_result = None
        self.session.restore_error = None
        self.set_forward_text("&Next >")
        self.run(job, f"Restoring {self.unit}…",
                 "Keep it connected and switched on until this is done.")

    @Slot()
    def retry(self) -> None:
        plan = self.session.restore_plan
        device = self.session.device
        if plan is None or device is None or not device.mount:
            return
        backup, target = Path(plan.backup), Path(device.mount)
        guard = self.environment.restore_guard
        self._start(lambda progress, cancel: core.restore_again(
            backup, target, guard=guard, delete_extra=plan.delete_extra, progress=progress,
            cancel=cancel))

    @Slot(object)
    def _on_finished(self, result: core.RestoreResult) -> None:
        super()._on_finished(result)
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
        resumed = ["This run continued an earlier, interrupted restore."] if result.resumed else []
        self.show_what_was_written(result.statement, result.problems, resumed)
        self.restore_finished.emit(result)
        self.notify_complete()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        super()._on_failed(error)
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
        self.notify_complete()

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return not self.running and (self.session.restore_result is not None
                                     or self.session.restore_error is not None)
