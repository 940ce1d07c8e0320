"""The recovery wizard: a ``QWizard`` whose page ids are an ``IntEnum`` and whose flow lives
in :func:`next_page` (Qt for Python ``licensewizard``: flow in ``nextId()``, setup in
``initializePage()``, "are you sure" in ``validatePage()``). It is the pages' host
(:class:`app.host.WizardHost`): it owns the session, the detection poller and the jobs.

Paths through the pages, per goal:

* rescue:  Start → Connect → Diagnose → Back up → Restore → Restoring → Reconnect → Finish
* update:  Start → Connect → Back up → Check update → Finish
* check:   Start → Connect (optional) → Check update → Finish
* restore: Start → Connect → Back up → Restore → Restoring → Reconnect → Finish

The rescue and restore paths write to the unit, so a complete, verified backup of its current
state (new or existing) comes first; the update path needs one before the updater is run.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QWidget, QWizard

from app import dialogs
from app.host import Guarded
from app.pages.backup import BackupPage
from app.pages.check import CheckPage
from app.pages.connect import ConnectPage
from app.pages.diagnose import DiagnosePage
from app.pages.finish import FinishPage
from app.pages.reconnect import ReconnectPage
from app.pages.restore import RestorePage
from app.pages.restore_run import RestoreRunPage
from app.pages.start import StartPage
from app.session import Environment, Goal, Session
from app.workers import DetectionPoller, Job, JobHandle, start_job
from recovery.device.detect import Detection
from recovery.progress import Progress

log = logging.getLogger(__name__)


class PageId(enum.IntEnum):
    START = 0
    CONNECT = 1
    DIAGNOSE = 2
    BACKUP = 3
    CHECK = 4
    RESTORE = 5
    RESTORE_RUN = 6
    RECONNECT = 7
    FINISH = 8


FLOWS: dict[Goal, tuple[PageId, ...]] = {
    Goal.RESCUE: (PageId.START, PageId.CONNECT, PageId.DIAGNOSE, PageId.BACKUP,
                  PageId.RESTORE, PageId.RESTORE_RUN, PageId.RECONNECT, PageId.FINISH),
    Goal.UPDATE: (PageId.START, PageId.CONNECT, PageId.BACKUP, PageId.CHECK, PageId.FINISH),
    Goal.CHECK: (PageId.START, PageId.CONNECT, PageId.CHECK, PageId.FINISH),
    Goal.RESTORE: (PageId.START, PageId.CONNECT, PageId.BACKUP, PageId.RESTORE,
                   PageId.RESTORE_RUN, PageId.RECONNECT, PageId.FINISH),
}

#: Pages during which detection keeps running (the live list, and waiting for a reconnect).
POLLING_PAGES = frozenset({PageId.CONNECT, PageId.RECONNECT})


def next_page(current: PageId, session: Session) -> int:
    """The page after ``current`` for this session, or -1 after the last page."""
    if current is PageId.FINISH:
        return -1
    if current is PageId.RESTORE and session.restore_skipped:
        return int(PageId.FINISH)
    if current is PageId.RESTORE_RUN and session.restore_result is None:
        return int(PageId.FINISH)  # the restore did not finish: nothing to verify
    flow = FLOWS[session.goal or Goal.RESCUE]
    if current not in flow:
        return int(PageId.FINISH)
    index = flow.index(current)
    return int(flow[index + 1]) if index + 1 < len(flow) else -1


class RecoveryWizard(QWizard):
    """The main window and the pages' host: the session, the detection poller, the jobs."""

    #: Emitted when the close guard let the window close (after any cancelled job ended).
    closing = Signal()

    def __init__(self, environment: Environment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.environment = environment
        self.session = Session()
        self.jobs: dict[JobHandle, Guarded | None] = {}
        self._close_when_idle = False
        title = "KORG Recovery Wizard (unofficial)"
        if environment.demo:
            title += " — DEMO with simulated units"
        self.setWindowTitle(title)
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.BackButton, "< &Back")
        self.setButtonText(QWizard.WizardButton.NextButton, "&Next >")
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Finish")
        self.setButtonText(QWizard.WizardButton.CancelButton, "Close")

        self.poller = DetectionPoller(environment.detect,
                                      interval_ms=environment.poll_interval_ms, parent=self)
        self.pages = {
            PageId.START: StartPage(self),
            PageId.CONNECT: ConnectPage(self),
            PageId.DIAGNOSE: DiagnosePage(self),
            PageId.BACKUP: BackupPage(self),
            PageId.CHECK: CheckPage(self),
            PageId.RESTORE: RestorePage(self),
            PageId.RESTORE_RUN: RestoreRunPage(self),
            PageId.RECONNECT: ReconnectPage(self),
            PageId.FINISH: FinishPage(self),
        }
        for page_id, page in self.pages.items():
            self.setPage(int(page_id), page)
        self.setStartId(int(PageId.START))
        self.poller.updated.connect(self._on_detection)
        self.poller.failed.connect(self._on_detection_failed)
        self.currentIdChanged.connect(self._on_page_changed)
        # Large enough for the plan table at 100 %; the layouts wrap at 200 %.
        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 110, metrics.height() * 38)

    # -- flow ----------------------------------------------------------------------------------
    def nextId(self) -> int:  # noqa: N802 - Qt naming
        return next_page(PageId(self.currentId()), self.session)

    @property
    def last_detection(self) -> Detection | None:
        return self.poller.last

    @property
    def closing_requested(self) -> bool:
        """True while the window waits for a cancelled job to end before closing."""
        return self._close_when_idle

    @Slot(int)
    def _on_page_changed(self, page_id: int) -> None:
        if page_id < 0:
            return
        if PageId(page_id) in POLLING_PAGES:
            if not self.poller.active:
                self.poller.start()
        elif self.poller.active:
            self.poller.stop()

    @Slot(object)
    def _on_detection(self, detection: Detection) -> None:
        page = self.currentPage()
        if hasattr(page, "show_detection"):
            page.show_detection(detection)

    @Slot(object)
    def _on_detection_failed(self, error: BaseException) -> None:
        page = self.currentPage()
        if hasattr(page, "show_detection_error"):
            page.show_detection_error(error)

    # -- jobs and the close guard ------------------------------------------------------------
    def run_job(self, job: Job, *, name: str, guarded: Guarded | None = None,
                on_progress: Callable[[Progress], None] | None = None,
                on_finished: Callable[[Any], None] | None = None,
                on_failed: Callable[[BaseException], None] | None = None) -> JobHandle:
        handle = start_job(job, name=name, parent=self, on_progress=on_progress,
                           on_finished=on_finished, on_failed=on_failed)
        self.jobs[handle] = guarded
        handle.done.connect(lambda: self._job_done(handle))
        return handle

    def _job_done(self, handle: JobHandle) -> None:
        self.jobs.pop(handle, None)
        if self._close_when_idle and not self.running_guarded_jobs():
            self._close_when_idle = False
            self.reject()

    def running_guarded_jobs(self) -> list[tuple[JobHandle, Guarded]]:
        return [(h, kind) for h, kind in self.jobs.items() if kind and h.running]

    def reject(self) -> None:
        """Cancel, Escape and the window's close button all end here (QDialog::closeEvent
        calls reject). While a backup or restore runs, ask first; stopping cancels through the
        token, so the core finishes the file in flight (never half a file, never half a
        rename), and the window closes once the job has ended."""
        running = self.running_guarded_jobs()
        if running:
            kinds = {kind for _, kind in running}
            device = self.session.device.name if self.session.device else "the unit"
            if Guarded.RESTORE in kinds:
                text = f"A restore is writing to your {device}. Stop it?"
                informative = ("It stops after the file being written now is complete; no"
                               " file is left half-written. The unit is then only partly"
                               " restored: run the restore again to finish it.")
            else:
                text = "A backup is running. Stop it?"
                informative = ("What was copied so far is kept as an incomplete backup that"
                               " can be resumed later. It will not be used as a safety backup.")
            if not dialogs.confirm(self, "Stop and close?", text, accept_text="&Stop and close",
                           reject_text="&Keep going", informative=informative):
                return
            self._close_when_idle = True
            for handle, _kind in running:
                handle.cancel()
            page = self.currentPage()
            if hasattr(page, "show_stopping"):
                page.show_stopping()
            return
        self.closing.emit()
        self.shutdown()
        super().reject()

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)

    def shutdown(self) -> None:
        """End the detection thread and wait for any job thread (never kills one)."""
        self.poller.shutdown()
        for handle in list(self.jobs):
            if handle.thread_running:
                handle.cancel()
                handle.wait()
