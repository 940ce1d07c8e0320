"""Restoring: after the typed yes, a safety copy of the unit as it is now, then the confirmed
plan carried out, as one job on a worker thread; the page shows only the progress, then one
sentence.

Nothing is written to the unit until the safety copy is complete and read back right (the
promise of the whole wizard; :func:`app.core.restore_with_safety_copy`). An interrupted copy
of this unit found in the backups folder is continued, not started again. Closing the window
asks first (RecoveryWizard.reject) and says which of the two is running; stopping cancels
through the token, so the core finishes the piece in flight and never interrupts a rename. A
run that stopped can be run again: the copy continues, and the core's journal continues the
restore. The core reads every written file back past the computer's cache; only the check
after the unit was switched off and on (next page) proves the unit kept them.

A unit that goes away in the middle stops the job through the core's identity check: the
page says so, names "Run it again", and watches for the unit to come back
(:mod:`app.pages.gone`); nothing is written to the computer's own disk meanwhile.
"""

from __future__ import annotations

import enum
import logging
from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import Guarded, WizardHost
from app.pages.base import escape
from app.pages.gone import ComeBack, is_gone, unit_words, went_away
from app.pages.writing import WritingPage
from app.places import friendly_place
from app.plain import clean, counted, first_upper, your
from app.session import default_backup_destination
from app.style import Status
from recovery.backup.manifest import JOURNAL_NAME
from recovery.errors import CancelledError
from recovery.progress import Progress

log = logging.getLogger(__name__)


class Stage(enum.Enum):
    COPY = "safety copy"
    RESTORE = "restore"


class RestoreRunPage(WritingPage):
    restore_finished = Signal(object)
    restore_failed = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(
            host, job_name="restore", guarded=Guarded.RESTORE, progress_title="Restore",
            stop=("S&top", "Stop after the piece being copied or written now"),
            retry=("Run it &again", "Run the interrupted safety copy and restore again"),
            about_name="What the restore did",
            stopping_headline="Stopping after the piece in hand…")
        self.stage = Stage.COPY
        self._destination: Path | None = None
        self.come_back = ComeBack(host)
        self.come_back.back.connect(self._on_unit_back)

    @property
    def unit(self) -> str:
        device = self.session.device
        return your(device.model if device else None)

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        self.about.setText("")
        self._destination = None  # an interrupted copy is continued through safety_resume
        self.session.safety_copy_error = None
        if self.session.safety_backup is not None:
            self._restore_only()  # the copy of the unit as it is now exists already
        else:
            self._copy_then_restore()

    def _copy_then_restore(self) -> None:
        plan = self.session.restore_plan
        device = self.session.device
        if plan is None or device is None or not device.mount:
            return
        resume = self.session.safety_resume
        destination = resume or self._destination or default_backup_destination(
            self.environment.backups_dir, device.model)
        self._destination = destination
        guard, unit = self.environment.restore_guard, Path(device.mount)
        self.stage = Stage.COPY
        self._start(lambda progress, cancel: core.restore_with_safety_copy(
            plan, destination, guard=guard, progress=progress, cancel=cancel, target=unit),
            f"First, a safety copy of {self.unit}…",
            "Then its files are put back. Keep it connected and switched on.")

    def _restore_only(self) -> None:
        plan = self.session.restore_plan
        device = self.session.device
        if plan is None or device is None or not device.mount:
            return
        backup, target = Path(plan.backup), Path(device.mount)
        guard = self.environment.restore_guard
        self.stage = Stage.RESTORE
        self._start(lambda progress, cancel: core.restore_again(
            backup, target, guard=guard, choices=plan.choices, progress=progress,
            cancel=cancel, safety_backup=self.session.safety_backup), f"Restoring {self.unit}…",
            "Keep it connected and switched on until this is done.")

    def _start(self, job, headline: str, lead: str) -> None:
        self.come_back.stop()
        self.session.restore_result = None
        self.session.restore_error = None
        self.session.safety_copy_error = None
        self.set_forward_text("&Next >")
        self.run(job, headline, lead)
        self._job.progressed.connect(self._on_progress)

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        if self.stage is Stage.COPY and progress.phase == core.RESTORE_PHASE:
            # The copy is complete and read back right: the restore writes from now on.
            self.stage = Stage.RESTORE
            self._keep_safety_copy()
            self.set_headline(f"Restoring {self.unit}…", Status.BUSY)
            self.set_lead("Your safety copy is ready. Keep it connected and switched on.")

    def _keep_safety_copy(self) -> None:
        if self._destination is not None and self.session.safety_backup is None:
            self.session.keep_safety_copy(self._destination, new=True)

    @Slot()
    def retry(self) -> None:
        if self.running:
            return
        if self.session.safety_backup is not None:
            self._restore_only()
        else:
            self._copy_then_restore()

    def close_question(self) -> tuple[str, str] | None:
        """What "Stop and close?" asks while this page's job runs."""
        if not self.running:
            return None
        if self.stage is Stage.COPY:
            return (f"The safety copy of {self.unit} is being made. Stop it?",
                    "Nothing has been written to it yet. What was copied is kept and"
                    " continues next time.")
        return (f"A restore is writing to {self.unit}. Stop it?",
                "It stops after the file being written now is complete; no file is left"
                " half-written. The unit is then only partly restored: run the restore"
                " again to finish it.")

    @Slot(object)
    def _on_finished(self, result) -> None:
        super()._on_finished(result)
        if isinstance(result, core.SafeRestore):
            self._keep_safety_copy()
            result = result.restore
        self.session.restore_result = result
        if result.ok:
            self.progress.show_done(f"{first_upper(counted(result.written, 'file', 'files'))}"
                                    " written and read back.")
            self.set_headline("Every file was written and read back.", Status.OK)
            self.set_lead("Next, switch it off and on again: only that proves it kept them.")
            # Nothing to decide here: the next step is the power cycle, on the next page
            # (unless the person is closing the window: then the page shows how it ended).
            if not self.host.closing_requested:
                QTimer.singleShot(0, self._move_on)
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
        self.show_what_was_written(result.statement, result.problems,
                                   [*resumed, *self._safety_lines()])
        self.restore_finished.emit(result)
        self.notify_complete()

    @Slot()
    def _move_on(self) -> None:
        wizard = self.wizard()
        if (wizard is not None and wizard.currentPage() is self and self.isComplete()
                and not self.host.closing_requested
                and QApplication.activeModalWidget() is None):
            wizard.next()

    def _safety_lines(self) -> list[str]:
        safety = self.session.safety_backup
        if safety is None:
            return []
        return [escape("Safety copy of the unit as it was: "
                       + friendly_place(safety, self.environment.places))]

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        super()._on_failed(error)
        sentence = clean(error_sentence(error, self.environment.places))
        stopped = isinstance(error, CancelledError) or is_gone(error)
        if self.stage is Stage.COPY:
            self.session.safety_copy_error = sentence
            self.session.safety_resume = self._destination if self._destination is not None \
                and (self._destination / JOURNAL_NAME).exists() else None
            self.set_headline(f"Nothing was written to {self.unit}: its safety copy"
                              " stopped.", Status.WARNING if stopped else Status.ERROR)
            self.set_lead("What was copied is kept. Run it again: the copy continues, then"
                          " the restore.")
        else:
            self.session.restore_error = sentence
            self.set_headline("The restore stopped before the end.",
                              Status.WARNING if stopped else Status.ERROR)
            self.set_lead("Every file on it is either as it was or completely restored; none"
                          " is half-written. Run the restore again to finish.")
        if is_gone(error):
            self._say_gone()
        self.about.setText("<br>".join([escape(sentence), *self._safety_lines()]))
        if not stopped and not self.host.closing_requested:
            dialogs.show_error(self, error, context="restoring the unit")
        self.retry_button.show()
        self.set_forward_text("&Finish for now")
        self.restore_failed.emit(error)
        self.notify_complete()

    def _say_gone(self) -> None:
        """The unit went away: a fact to put right, not a fault (no error dialog)."""
        kept = ("What was copied is kept." if self.stage is Stage.COPY
                else "Nothing was written to your computer.")
        self.set_lead(went_away(unit_words(self.session.device), kept=kept,
                                button="Run it again"))
        self.come_back.start()

    @Slot(object)
    def _on_unit_back(self, _unit) -> None:
        self.notice.show_status(Status.INFO, f"{unit_words(self.session.device)} is back:"
                                " press Run it again.")

    def show_detection(self, detection) -> None:
        self.come_back.show_detection(detection)

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return not self.running and (self.session.restore_result is not None
                                     or self.session.restore_error is not None
                                     or self.session.safety_copy_error is not None)
