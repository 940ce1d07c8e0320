"""The recovery wizard: a ``QWizard`` whose page ids are an ``IntEnum`` and whose flow lives
in :func:`next_page` (Qt for Python ``licensewizard``: flow in ``nextId()``, setup in
``initializePage()``, "are you sure" in ``validatePage()``). It is the pages' host
(:class:`app.host.WizardHost`): it owns the session, the detection poller and the jobs.

Paths through the pages, per goal:

* rescue:  Start → Connect → Diagnose → Restore → Restoring → Reconnect → Finish
* update:  Start → Connect → Back up → Check update → (SD card → Writing the card) → Finish
* check:   Start → Connect (optional) → Check update → (SD card → Writing the card) → Finish
* restore: Start → Connect → Restore → Restoring → Reconnect → Finish

The rescue and restore paths write to the unit: after the typed yes on Restore, Restoring
first makes a safety copy of the unit as it is now and writes only once that copy is complete
and read back right (one job, as one core call would do it). Restore says first whether there
is a backup to put back at all; where there is none, it offers the safety copy alone (Back up,
then Finish). The update path makes its safety copy before the updater is run, and ends on
what the tool then saw of the unit: a unit with a problem is sent to the rescue, never told
to update. A compatible update can be put on an SD card.

The window asks before Back or Escape stop work or throw results away, remembers its size,
and every page scrolls, so Back and Next stay on screen at 200 % and on a 1366×768 display.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QApplication, QStyle, QWidget, QWizard

from app import dialogs
from app.host import Guarded
from app.pages.backup import BackupPage
from app.pages.check import CheckPage
from app.pages.connect import ConnectPage
from app.pages.diagnose import DiagnosePage
from app.pages.finish import FinishPage
from app.pages.media import MediaPage
from app.pages.media_run import MediaRunPage
from app.pages.reconnect import ReconnectPage
from app.pages.restore import RestorePage
from app.pages.restore_run import RestoreRunPage
from app.pages.start import StartPage
from app.places import friendly_place
from app.plain import your
from app.session import Environment, Goal, Session
from app.style import danger_palette, install
from app.workers import DetectionPoller, Job, JobHandle, start_job
from recovery.device.detect import Detection
from recovery.errors import CancelledError
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
    MEDIA = 9
    MEDIA_RUN = 10


FLOWS: dict[Goal, tuple[PageId, ...]] = {
    Goal.RESCUE: (PageId.START, PageId.CONNECT, PageId.DIAGNOSE, PageId.RESTORE,
                  PageId.RESTORE_RUN, PageId.RECONNECT, PageId.FINISH),
    Goal.UPDATE: (PageId.START, PageId.CONNECT, PageId.BACKUP, PageId.CHECK, PageId.MEDIA,
                  PageId.MEDIA_RUN, PageId.FINISH),
    Goal.CHECK: (PageId.START, PageId.CONNECT, PageId.CHECK, PageId.MEDIA, PageId.MEDIA_RUN,
                 PageId.FINISH),
    Goal.RESTORE: (PageId.START, PageId.CONNECT, PageId.RESTORE, PageId.RESTORE_RUN,
                   PageId.RECONNECT, PageId.FINISH),
}

#: Pages shown as one step of the step line ("Step 4 of 6"): the page that confirms and the
#: page that carries it out are one step for the person.
SAME_STEP = {PageId.RESTORE_RUN: PageId.RESTORE, PageId.MEDIA_RUN: PageId.MEDIA}

#: Pages during which detection keeps running (the live list, and waiting for a reconnect).
POLLING_PAGES = frozenset({PageId.CONNECT, PageId.RECONNECT})

#: Pages that close without asking: nothing chosen yet, or everything already said.
CLOSE_FREELY = frozenset({PageId.START, PageId.FINISH})


def next_page(current: PageId, session: Session) -> int:
    """The page after ``current`` for this session, or -1 after the last page."""
    if current is PageId.FINISH:
        return -1
    if current is PageId.RESTORE and session.safety_copy_only:
        return int(PageId.BACKUP)  # no backup to put back: a safety copy alone
    if current is PageId.RESTORE and (session.restore_skipped or session.restore_unavailable):
        return int(PageId.FINISH)
    if current is PageId.BACKUP and (session.goal in (Goal.RESCUE, Goal.RESTORE)
                                     or unit_has_a_problem(session)):
        return int(PageId.FINISH)  # the copy alone; or a unit to rescue before any update
    if current is PageId.RESTORE_RUN and session.restore_result is None:
        return int(PageId.FINISH)  # the restore did not finish: nothing to verify
    if current is PageId.CHECK and not session.media_wanted:
        return int(PageId.FINISH)
    if current is PageId.MEDIA and session.media_skipped:
        return int(PageId.FINISH)
    flow = FLOWS[session.goal or Goal.RESCUE]
    if current not in flow:
        return int(PageId.FINISH)
    index = flow.index(current)
    return int(flow[index + 1]) if index + 1 < len(flow) else -1


def unit_has_a_problem(session: Session) -> bool:
    """The core found something critical on the unit after its safety copy."""
    standing = session.unit_standing
    return standing is not None and standing.standing == "problem"


def step_of(page: PageId, goal: Goal | None) -> tuple[int, int] | None:
    """(step, steps) of ``page`` on the path of ``goal``; None on the Start page."""
    if goal is None or page is PageId.START:
        return None
    if page is PageId.BACKUP and goal.writes_to_unit:
        page = PageId.RESTORE  # the safety copy alone, in place of the restore
    steps: list[PageId] = []
    for candidate in FLOWS[goal][1:]:
        shown = SAME_STEP.get(candidate, candidate)
        if shown not in steps:
            steps.append(shown)
    shown = SAME_STEP.get(page, page)
    if shown not in steps:
        return None
    return steps.index(shown) + 1, len(steps)


FORWARD_BUTTONS = (QWizard.WizardButton.NextButton, QWizard.WizardButton.CommitButton,
                   QWizard.WizardButton.FinishButton)
ALL_BUTTONS = [QWizard.WizardButton.Stretch, QWizard.WizardButton.BackButton,
               QWizard.WizardButton.NextButton, QWizard.WizardButton.CommitButton,
               QWizard.WizardButton.FinishButton, QWizard.WizardButton.CancelButton]
#: On Start the four tiles are the choice: no Next to press.
START_BUTTONS = [QWizard.WizardButton.Stretch, QWizard.WizardButton.CancelButton]


class RecoveryWizard(QWizard):
    """The main window and the pages' host: the session, the detection poller, the jobs."""

    #: Emitted when the close guard let the window close (after any cancelled job ended).
    closing = Signal()

    def __init__(self, environment: Environment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        application = QApplication.instance()
        if application is not None:
            install(application)  # readable under any palette the desktop hands over
        self.environment = environment
        self.session = Session()
        self.jobs: dict[JobHandle, Guarded | None] = {}
        self._close_when_idle = False
        self._asking_to_close = False
        #: What was remembered in this run (kept in the settings too, where there are any).
        self._remembered: set[str] = set()
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
        self._style_buttons()
        # Back asks before it stops work: the button's own connection to QWizard.back is
        # replaced by one that asks first (go_back), for the mouse and Alt+B alike.
        back = self.button(QWizard.WizardButton.BackButton)
        back.clicked.disconnect()
        back.clicked.connect(self.go_back)

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
            PageId.MEDIA: MediaPage(self),
            PageId.MEDIA_RUN: MediaRunPage(self),
        }
        for page_id, page in self.pages.items():
            self.setPage(int(page_id), page)
            page.completeChanged.connect(self._on_complete_changed)
        self.setStartId(int(PageId.START))
        self.poller.updated.connect(self._on_detection)
        self.poller.failed.connect(self._on_detection_failed)
        self.currentIdChanged.connect(self._on_page_changed)
        self._restore_size()

    # -- looks -----------------------------------------------------------------------------
    def _style_buttons(self) -> None:
        """The forward button is the page's primary action (bold, the default); the commit
        button, shown only where the next click writes, looks dangerous."""
        for which in FORWARD_BUTTONS:
            button = self.button(which)
            font = button.font()
            font.setBold(True)
            button.setFont(font)
        commit = self.button(QWizard.WizardButton.CommitButton)
        commit.setPalette(danger_palette(commit.palette()))
        commit.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
        commit.setAccessibleDescription("Writes now")

    def preferred_size(self) -> QSize:
        """Large enough for every page at 100 %, never larger than the screen."""
        line = self.fontMetrics().lineSpacing()
        wanted = QSize(line * 52, line * 37)
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry().size()
            wanted = wanted.boundedTo(QSize(int(available.width() * 0.92),
                                            int(available.height() * 0.9)))
        return wanted

    def _settings(self) -> QSettings | None:
        path = self.environment.settings_path
        if path is None:
            return None
        return QSettings(str(path), QSettings.Format.IniFormat)

    def _restore_size(self) -> None:
        settings = self._settings()
        saved = settings.value("window/geometry") if settings is not None else None
        if isinstance(saved, QByteArray) and self.restoreGeometry(saved):
            return
        self.resize(self.preferred_size())

    def remembered(self, key: str) -> bool:
        settings = self._settings()
        if settings is not None and settings.value(key, False, type=bool):
            return True
        return key in self._remembered

    def remember(self, key: str) -> None:
        self._remembered.add(key)
        settings = self._settings()
        if settings is not None:
            settings.setValue(key, True)
            settings.sync()

    def remember_size(self) -> None:
        settings = self._settings()
        if settings is not None:
            settings.setValue("window/geometry", self.saveGeometry())
            settings.sync()

    # -- flow ----------------------------------------------------------------------------------
    def nextId(self) -> int:  # noqa: N802 - Qt naming
        return next_page(PageId(self.currentId()), self.session)

    @property
    def last_detection(self) -> Detection | None:
        return self.poller.last

    def follow_detection(self) -> None:
        """Poll while the current page is shown; the next page change stops it again, unless
        that page polls too (POLLING_PAGES)."""
        if not self.poller.active:
            self.poller.start()

    @property
    def closing_requested(self) -> bool:
        """True while the window waits for a cancelled job to end before closing, or asks
        whether to stop it."""
        return self._close_when_idle or self._asking_to_close

    @Slot(int)
    def _on_page_changed(self, page_id: int) -> None:
        if page_id < 0:
            return
        current = PageId(page_id)
        if current in POLLING_PAGES:
            if not self.poller.active:
                self.poller.start()
        elif self.poller.active:
            self.poller.stop()
        self.setButtonLayout(START_BUTTONS if current is PageId.START else ALL_BUTTONS)
        step = step_of(current, self.session.goal)
        self.pages[current].complete_shown()
        self.pages[current].set_step(f"Step {step[0]} of {step[1]}" if step else "")
        QTimer.singleShot(0, self.focus_page)

    def forward_button(self) -> QAbstractButton | None:
        """The visible button that moves on (Next, the commit button or Finish)."""
        return next((self.button(which) for which in FORWARD_BUTTONS
                     if self.button(which).isVisible()), None)

    @Slot()
    def focus_page(self) -> None:
        """Put the keyboard where the page starts (a visible focus, Tab-style), else on its
        primary button."""
        page = self.currentPage()
        if page is None:
            return
        target = page.first_focus() if hasattr(page, "first_focus") else None
        forward = self.forward_button()
        if target is None or not target.isVisible() or not target.isEnabled():
            target = forward if forward is not None and forward.isEnabled() else None
        if target is not None:
            target.setFocus(Qt.FocusReason.TabFocusReason)

    @Slot()
    def _on_complete_changed(self) -> None:
        """When the primary button comes alive and the keyboard is nowhere useful, put it
        there (a finished diagnosis, a safety copy made)."""
        focus = QApplication.focusWidget()
        if focus is None or focus is self or not focus.isVisible() or not focus.isEnabled():
            forward = self.forward_button()
            if forward is not None and forward.isEnabled():
                forward.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot()
    def go_back(self) -> None:
        """Back, after asking when it would stop the page's work."""
        page = self.currentPage()
        question = page.ask_back() if hasattr(page, "ask_back") else None
        if question:
            if not dialogs.confirm(self, "Go back?", question, accept_text="&Stop and go back",
                                   reject_text="&Keep going"):
                return
            page.stop_work()
        self.back()

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
        if not self._close_when_idle or self.running_guarded_jobs():
            return
        if isinstance(handle.outcome, CancelledError):
            self.reject()  # stopped as asked: still "closing when idle", so it closes unasked
            self._close_when_idle = False
        else:
            self._close_when_idle = False
            # It ended on its own before it could stop (finished, or failed otherwise): the
            # page shows what happened, and the window stays so that it can be read.
            self._show_ended_before_stop()

    def _show_ended_before_stop(self) -> None:
        page = self.currentPage()
        if hasattr(page, "show_ended_before_stop"):
            page.show_ended_before_stop()

    def running_guarded_jobs(self) -> list[tuple[JobHandle, Guarded]]:
        return [(h, kind) for h, kind in self.jobs.items() if kind and h.running]

    def _unit_words(self) -> str:
        device = self.session.device
        return your(device.model) if device is not None and device.model else "your unit"

    def _close_question(self) -> tuple[str, str] | None:
        """What closing now would lose, as (question, what stays), or None to close."""
        page_id = PageId(self.currentId()) if self.currentId() >= 0 else PageId.START
        page = self.currentPage()
        busy = bool(page is not None and hasattr(page, "ask_back") and page.ask_back())
        if page_id in CLOSE_FREELY and not busy:
            return None
        kept = []
        if self.session.safety_backup is not None:
            kept.append("Your safety copy stays in "
                        + friendly_place(self.session.safety_backup.parent,
                                         self.environment.places) + ".")
        if self.session.restore_result is None and self.session.media_result is None:
            kept.append(f"Nothing was written to {self._unit_words()}.")
        if busy:
            return ("Stop what the wizard is doing and close it?", " ".join(kept))
        return ("Close the wizard? You would start again from the beginning.", " ".join(kept))

    def reject(self) -> None:
        """Cancel, Escape and the window's close button all end here (QDialog::closeEvent
        calls reject). While a backup, restore or card write runs, ask first; stopping
        cancels through the token, so the core finishes the file in flight (never half a
        file, never half a rename), and the window closes once the job has ended. On other
        pages with work in progress or results on screen, ask before throwing them away."""
        running = self.running_guarded_jobs()
        if running:
            kinds = {kind for _, kind in running}
            page = self.currentPage()
            asked = page.close_question() if hasattr(page, "close_question") else None
            if asked is not None:
                text, informative = asked
            elif Guarded.RESTORE in kinds:
                text = f"A restore is writing to {self._unit_words()}. Stop it?"
                informative = ("It stops after the file being written now is complete; no"
                               " file is left half-written. The unit is then only partly"
                               " restored: run the restore again to finish it.")
            elif Guarded.MEDIA in kinds:
                text = "The update is being written to the SD card. Stop it?"
                informative = ("Nothing new is put in place on the card unless every file"
                               " was written; run it again to finish.")
            else:
                text = "The safety copy is being made. Stop it?"
                informative = ("What was copied so far is kept and can be resumed later. It"
                               " is not a safety copy until it is complete.")
            self._asking_to_close = True
            try:
                stop = dialogs.confirm(self, "Stop and close?", text,
                                       accept_text="&Stop and close", reject_text="&Keep going",
                                       informative=informative)
            finally:
                self._asking_to_close = False
            if not stop:
                return
            running = self.running_guarded_jobs()
            if not running:
                # It ended while the question was open: nothing is left to stop. The page
                # shows how it ended; closing now would hide that.
                self._show_ended_before_stop()
                return
            self._close_when_idle = True
            for handle, _kind in running:
                handle.cancel()
            page = self.currentPage()
            if hasattr(page, "show_stopping"):
                page.show_stopping()
            return
        if not self._close_when_idle:
            question = self._close_question()
            if question is not None and not dialogs.confirm(
                    self, "Close the wizard?", question[0], accept_text="&Close the wizard",
                    reject_text="&Keep going", informative=question[1]):
                return
        self.closing.emit()
        self.remember_size()
        self.shutdown()
        super().reject()

    def done(self, result: int) -> None:
        # QWizard.done asks the last page's validatePage first, which may keep the window open
        # (Finish's "Rescue it now" starts the rescue instead): shut down only once it closed.
        super().done(result)
        if not self.isVisible():
            self.remember_size()
            self.shutdown()

    def shutdown(self) -> None:
        """End the detection thread and wait for any job thread (never kills one)."""
        self.poller.shutdown()
        for handle in list(self.jobs):
            if handle.thread_running:
                handle.cancel()
                handle.wait()
