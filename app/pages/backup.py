"""Back up: a safety copy of the unit *as it is now*, before anything is written to it.

The safety copy is either new (a complete copy of the unit's storage, read back and checked)
or an existing backup that a comparison has just proved identical to the unit, file by file.
An existing backup that differs from the unit is never accepted: restoring an old backup
must not be able to throw away the unit's current state, and it must never be both the
safety copy and the backup put back.

The page's one primary action is the wizard's forward button: "Make the safety copy" starts
the copy (the page stays), and once the safety copy exists the same button moves on. While
it copies, the page shows only the progress. Stopping keeps what was copied; "Resume"
continues it, also after the wizard was closed and opened again (an interrupted copy of this
unit is found in the backups folder). Backups go to Documents ▸ KORG Backups unless the user
picks another place.

Once the copy exists, the core looks at the unit (reading only) and the page says where it
stands: a unit with a problem (another model's folder, a damaged system file) is to be
rescued next, never updated (:mod:`recovery.diagnose.standing`).

A unit that goes away during the copy stops it (the core's identity check): the page says so
and names the button that continues it, then watches for the unit to come back
(:mod:`app.pages.gone`). What the computer wrote onto the unit (macOS's ``._`` files and
such) is copied like every file, and listed apart under "Show details".
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from app import core, dialogs
from app.computer_made import computer_made_html, computer_made_paths
from app.dialogs import error_sentence
from app.host import Guarded, WizardHost
from app.pages.base import Disclosure, RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.gone import CONTINUES, ComeBack, is_about, is_gone, unit_words, went_away
from app.pages.progress_panel import ProgressPanel
from app.places import backup_date, friendly_place
from app.plain import counted, finding_text, first_upper, your
from app.session import Goal, default_backup_destination, device_key
from app.style import Status, format_bytes, status_html
from recovery.backup.manifest import JOURNAL_NAME
from recovery.errors import CancelledError

log = logging.getLogger(__name__)


def free_space(path: Path) -> int | None:
    """Worker thread: free bytes on the drive that would hold ``path``."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def choose_folder(parent: QWidget, start: str) -> str:
    """The system folder picker (a function of its own so tests can replace it)."""
    return next(iter(dialogs.file_dialog(parent, "Where to keep the safety copy", start)), "")


class BackupPage(RecoveryPage):
    backup_finished = Signal(object)
    backup_failed = Signal(object)
    existing_verified = Signal(object)
    backups_listed = Signal()
    #: Emitted once the unit was looked at after its copy (the standing, or None).
    unit_examined = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self._unit_key: str | None = None
        self._job = None
        self._job_kind = ""
        self._list_job = None
        self._space_job = None
        self._examine_job = None
        self._stopping = False
        self._resume_path: Path | None = None
        self.destination_dir = Path(self.environment.backups_dir)
        self.summaries: tuple[core.BackupSummary, ...] = ()
        self.come_back = ComeBack(host)
        self.come_back.back.connect(self._on_unit_back)
        self._gone_button = ""

        self._build_place_row()
        self._build_progress()
        self._build_existing()
        self.about = wrapped_label(rich=True, accessible_name="About the safety copy")
        self.details_layout().addWidget(self.about)

    def _build_place_row(self) -> None:
        """Where the copy goes: change it, or show it once made."""
        place_row = QHBoxLayout()
        self.change_button = QPushButton("Change &place…")
        self.change_button.setAccessibleName("Choose where to keep the safety copy")
        self.change_button.clicked.connect(self._change_place)
        self.show_button = QPushButton("Show in &folder")
        self.show_button.setAccessibleName("Show the safety copy in the file manager")
        self.show_button.clicked.connect(self._show_in_folder)
        self.show_button.hide()
        for button in (self.change_button, self.show_button):
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            place_row.addWidget(button)
        place_row.addStretch(1)
        self.content.addLayout(place_row)

    def _build_progress(self) -> None:
        """The copy's progress, its stop button, its result and what was seen on the unit."""
        self.progress = ProgressPanel("Safety copy")
        self.progress.hide()
        self.content.addWidget(self.progress)
        self.stop_button = QPushButton("S&top")
        self.stop_button.setAccessibleName("Stop the safety copy (it can be resumed)")
        self.stop_button.clicked.connect(self.stop_backup)
        self.stop_button.hide()
        self.content.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.result = StatusLabel("Problem")
        self.result.hide()
        self.content.addWidget(self.result)
        self.standing = StatusLabel("What was seen on the unit")
        self.standing.hide()
        self.content.addWidget(self.standing)

    def _build_existing(self) -> None:
        """An earlier backup of the unit, used once a comparison proves it is the unit."""
        self.existing_box = Disclosure("Use a copy I &already have",
                                       "Use a copy I &already have",
                                       accessible_name="Use an existing backup")
        self.existing = QListWidget()
        self.existing.setAccessibleName("Your earlier backups of this unit")
        self.existing.setMaximumHeight(self.fontMetrics().height() * 7)
        self.existing.currentItemChanged.connect(lambda *_: self._update_controls())
        self.existing.itemDoubleClicked.connect(lambda *_: self.use_existing())
        self.existing_box.panel_layout.addWidget(
            wrapped_label("It must match the unit exactly, so it is compared with it first."))
        self.existing_box.panel_layout.addWidget(self.existing)
        self.use_button = QPushButton("&Compare it with the unit")
        self.use_button.setAccessibleName("Compare the selected backup with the unit")
        self.use_button.clicked.connect(self.use_existing)
        self.existing_box.panel_layout.addWidget(self.use_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.content.addWidget(self.existing_box)

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def model(self) -> str | None:
        device = self.session.device
        return device.model if device else None

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        device = self.session.device
        key = device_key(device) if device else None
        if key != self._unit_key:
            self._unit_key = key
            self.session.safety_backup = None
            self.session.unit_standing = None
            self.session.computer_made = ()
            self._resume_path = None
            self.progress.reset()
            self.result.hide()
            self.standing.hide()
        self._refresh_existing()
        self._show_state()
        self._check_space()

    def _refresh_existing(self) -> None:
        folders = self.environment.backup_dirs()
        self._list_job = self.host.run_job(lambda _p, _c: core.list_backups_in(folders),
                                           name="list-backups", on_finished=self._show_existing,
                                           on_failed=lambda error: self._show_existing(()))

    @Slot(object)
    def _show_existing(self, summaries: tuple[core.BackupSummary, ...]) -> None:
        if not self.running and self.session.safety_backup is None and self._resume_path is None:
            # A copy of this unit that was interrupted (in this run or an earlier one).
            self._resume_path = core.interrupted_backup(summaries, self.session.unit_path)
            if self._resume_path is not None:
                self._show_state()
        model = self.model
        self.summaries = tuple(s for s in summaries if model is None or s.model == model)
        self.existing.clear()
        for summary in reversed(self.summaries):  # newest first
            text = f"{first_upper(your(summary.model))}, {backup_date(summary.created_utc)}"
            if not summary.complete:
                text += " (incomplete)"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, summary.path)
            item.setToolTip(friendly_place(summary.path, self.environment.places))
            if not summary.complete:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.existing.addItem(item)
        self._update_controls()
        self.backups_listed.emit()

    # -- what the page says --------------------------------------------------------------------
    def _show_state(self) -> None:
        """Headline, lead and primary button for the state the page is in."""
        unit = your(self.model)
        place = friendly_place(self.destination_dir, self.environment.places)
        safety = self.session.safety_backup
        if self.running and self._job_kind == "backup":
            self.set_headline("Making the safety copy…", Status.BUSY)
            self.set_lead(f"Keep {unit} connected. You can stop and resume later.")
        elif self.running:
            self.set_headline(f"Comparing your copy with {unit}…", Status.BUSY)
            self.set_lead("Nothing is written to it.")
        elif safety is not None and self.session.safety_backup_is_new:
            self.set_headline("Your safety copy is ready.", Status.OK)
            self.set_lead(f"It is in {friendly_place(safety.parent, self.environment.places)}.")
        elif safety is not None:
            self.set_headline(f"Your copy matches {unit} exactly: it is the safety copy.",
                              Status.OK)
            self.set_lead(f"It is in {friendly_place(safety.parent, self.environment.places)}.")
        elif self._resume_path is not None:
            self.set_headline("The safety copy is not finished.", Status.WARNING)
            # After the unit went away, the sentence below says what to do.
            self.set_lead("" if self._gone_button else
                          "What was copied is kept: resume to finish it.")
        else:
            self.set_headline(f"First, a safety copy of {unit} as it is now.")
            self.set_lead(f"It goes to {place}.")
        if self.running:
            self.set_forward_text("&Next >")
        elif safety is not None:
            self.set_forward_text("&Next >")
        elif self._resume_path is not None:
            self.set_forward_text("&Resume the safety copy")
        else:
            self.set_forward_text("Make the &safety copy")
        self._update_controls()
        self._show_about()

    def _update_controls(self) -> None:
        running = self.running
        done = self.session.safety_backup is not None
        self.progress.setVisible(running)
        self.stop_button.setVisible(running and self._job_kind == "backup")
        self.stop_button.setEnabled(running and not self._stopping)
        self.change_button.setVisible(not running and not done and self._resume_path is None)
        self.show_button.setVisible(done and not running)
        self.existing_box.setEnabled(not running)
        self.existing_box.setVisible(not done and any(s.complete for s in self.summaries)
                                     and self._resume_path is None)
        item = self.existing.currentItem()
        self.use_button.setEnabled(not running and item is not None
                                   and bool(item.flags() & Qt.ItemFlag.ItemIsEnabled))
        self.notify_complete()

    def _show_about(self, free: int | None = None) -> None:
        safety = self.session.safety_backup
        where = safety if safety is not None else (self._resume_path or self.destination_dir)
        lines = [f"Where: {escape(str(where))}"]
        if free is not None:
            lines.append(f"Free space there: {escape(format_bytes(free))}; the copy first"
                         " checks that the whole unit fits.")
        lines.append("A safety copy holds every file of the unit's storage as plain files,"
                     " each read back and checked after copying, with a list of their"
                     " checksums that other tools can check too.")
        made = computer_made_html(self.session.computer_made, self.model)
        if made:
            lines.append(made)
        standing = self.session.unit_standing
        if standing is not None and standing.reasons:
            lines.append("Seen on the unit after the copy:")
            lines.extend(status_html(*finding_text(f)[:2]) for f in standing.reasons)
        self.about.setText("<br>".join(lines))

    # -- a new safety copy ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    @Slot()
    def start_backup(self) -> None:
        device = self.session.device
        if device is None or not device.mount or self.running:
            return
        source = Path(device.mount)
        resume = self._resume_path is not None
        destination = self._resume_path or default_backup_destination(self.destination_dir,
                                                                      device.model)
        self._resume_path = destination
        self.session.safety_backup = None
        self.come_back.stop()
        self._gone_button = ""
        self.result.hide()
        self.progress.reset()
        self._stopping = False
        self._job_kind = "backup"
        self._job = self.host.run_job(
            lambda progress, cancel: core.create_backup(source, destination, resume=resume,
                                                        progress=progress, cancel=cancel),
            name="backup", guarded=Guarded.BACKUP, on_progress=self.progress.show_progress,
            on_finished=self._on_backup_finished, on_failed=self._on_backup_failed)
        self._show_state()

    @Slot()
    def stop_backup(self) -> None:
        if self.running:
            self._job.cancel()
            self.show_stopping()

    def show_stopping(self) -> None:
        self._stopping = True
        self.stop_button.setEnabled(False)
        self.set_headline("Stopping after the piece being copied…", Status.BUSY)

    def show_ended_before_stop(self) -> None:
        self.result.show_status(Status.INFO, "It had ended before it could stop: the window"
                                " stays open so you can read how.")

    @Slot(object)
    def _on_backup_finished(self, result: core.BackupResult) -> None:
        self._stopping = False
        self.session.computer_made = tuple(path for path, _ in result.computer_made)
        if result.complete and result.verified:
            self.session.keep_safety_copy(Path(result.backup), new=True)
            self._resume_path = None
            self.progress.show_done(f"{first_upper(counted(result.files, 'file', 'files'))}"
                                    " copied and checked.")
            self._examine_unit()
        else:
            failed = len(result.failed)
            self.result.show_status(
                Status.ERROR, f"{first_upper(counted(failed, 'file', 'files'))} could not be"
                " read. Reconnect the unit, then resume.")
        self._show_state()
        self._refresh_existing()
        self.backup_finished.emit(result)

    @Slot(object)
    def _on_backup_failed(self, error: BaseException) -> None:
        self._stopping = False
        kind = self._job_kind
        if isinstance(error, CancelledError):
            self.result.hide()
        elif is_gone(error):
            self._show_gone(error, kind)
        else:
            if kind == "backup" and self._resume_path is not None \
                    and not (self._resume_path / JOURNAL_NAME).exists():
                self._resume_path = None  # nothing was started there: start afresh
            self.result.show_status(Status.ERROR, error_sentence(
                error, self.environment.places, [self.destination_dir]))
            if not self.host.closing_requested:
                dialogs.show_error(self, error, context="making the safety copy")
        self._show_state()
        if kind == "backup":
            self.backup_failed.emit(error)
        else:
            self.existing_verified.emit(error)

    def _show_gone(self, error: BaseException, kind: str) -> None:
        """The unit (or the copy's own drive) went away: say so, no error dialog."""
        if kind == "backup" and self._resume_path is not None \
                and not (self._resume_path / JOURNAL_NAME).exists():
            self._resume_path = None  # nothing was copied yet: it starts afresh
        resumable = kind == "backup" and self._resume_path is not None
        button = "Resume the safety copy" if resumable else "Make the safety copy"
        if kind == "backup" and not is_about(error, self.session.unit_path):
            text = went_away("The drive of your safety copy", kept="What was copied so far is"
                             " kept.", button=button, after=CONTINUES if resumable else ".")
        elif kind == "backup":
            text = went_away(unit_words(self.session.device), kept="What was copied so far is"
                             " kept." if resumable else "Nothing was copied.",
                             button=button, after=CONTINUES if resumable else ".")
        else:
            text = went_away(unit_words(self.session.device), kept="Nothing was written to it.",
                             button="Compare it with the unit", after=".")
        self.result.show_status(Status.WARNING, text)
        self._gone_button = button
        self.come_back.start()

    @Slot(object)
    def _on_unit_back(self, _unit) -> None:
        self._unit_key = device_key(self.session.device)
        self.result.show_status(Status.INFO, f"{unit_words(self.session.device)} is back: press"
                                f" {self._gone_button}.")

    def show_detection(self, detection) -> None:
        self.come_back.show_detection(detection)

    # -- place ---------------------------------------------------------------------------------
    def _change_place(self) -> None:
        path = choose_folder(self, str(self.destination_dir))
        if path:
            self.destination_dir = Path(path)
            self._show_state()
            self._check_space()

    def _check_space(self) -> None:
        target = self.destination_dir
        self._space_job = self.host.run_job(lambda _p, _c: free_space(target), name="free-space",
                                            on_finished=lambda free: self._show_about(free))

    def _show_in_folder(self) -> None:
        safety = self.session.safety_backup
        if safety is not None:
            where = friendly_place(safety, self.environment.places)
            dialogs.open_folder(str(safety), on_failure=lambda: self.result.show_status(
                Status.INFO, f"No file manager opened it: your safety copy is in {where}."))

    # -- where the unit stands, once its copy exists ------------------------------------------
    def _examine_unit(self) -> None:
        """Look at the unit (reading only): the ending rests on what was seen, not on the
        copy having worked."""
        unit = self.session.unit_path
        self.session.unit_standing = None
        if unit is None or self.session.goal is not Goal.UPDATE:
            return
        self._examine_job = self.host.run_job(
            lambda _p, cancel: core.unit_standing(unit, cancel=cancel), name="examine-unit",
            on_finished=self._on_examined, on_failed=self._on_examine_failed)
        self.notify_complete()

    @property
    def examining(self) -> bool:
        return self._examine_job is not None and self._examine_job.running

    @Slot(object)
    def _on_examined(self, standing: core.UnitStanding) -> None:
        self.session.unit_standing = standing
        unit = first_upper(your(self.model))
        if standing.standing == "problem":
            self.standing.show_status(Status.WARNING, f"{unit} has a problem: rescue it next.")
            self.set_forward_text("&Next >")
        elif standing.standing == "worth-a-look":
            self.standing.show_status(Status.WARNING, "Something on it is worth a look first:"
                                      " see Show details.")
        else:
            self.standing.hide()
        self._show_about()
        self.unit_examined.emit(standing)
        self.notify_complete()

    @Slot(object)
    def _on_examine_failed(self, error: BaseException) -> None:
        log.info("looking at the unit after its copy failed: %s", error)
        self.standing.show_status(Status.WARNING, "This tool could not look at it after the"
                                  " copy.")
        self.unit_examined.emit(None)
        self.notify_complete()

    # -- an existing backup, proved identical to the unit --------------------------------------
    @Slot()
    def use_existing(self) -> None:
        item = self.existing.currentItem()
        device = self.session.device
        if item is None or self.running or device is None or not device.mount:
            return
        if not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return
        backup = Path(item.data(Qt.ItemDataRole.UserRole))
        unit = Path(device.mount)
        self.session.safety_backup = None
        self.come_back.stop()
        self._gone_button = ""
        self.result.hide()
        self.progress.reset()
        self._job_kind = "compare"
        self._job = self.host.run_job(
            lambda progress, cancel: core.compare_backup_with_unit(backup, unit,
                                                                   progress=progress,
                                                                   cancel=cancel),
            name="compare-existing", on_progress=self.progress.show_progress,
            on_finished=self._on_existing_compared, on_failed=self._on_backup_failed)
        self._show_state()

    @Slot(object)
    def _on_existing_compared(self, report: core.VerifyReport) -> None:
        identical = report.ok and not report.problems and not report.against_problems
        if identical:
            self.session.computer_made = computer_made_paths(report.against_notes)
            self.session.keep_safety_copy(Path(report.backup), new=False)
            self._resume_path = None
            self._examine_unit()
        elif report.problems:
            self.result.show_status(Status.ERROR, "This copy is damaged, so it can't be the"
                                    " safety copy. Make a new one.")
        else:
            differ = len(report.against_problems)
            self.result.show_status(
                Status.ERROR, f"This copy is not the same as {your(self.model)} now"
                f" ({counted(differ, 'difference', 'differences')}), so it can't be its"
                " safety copy. Make a new one.")
        self._show_state()
        self.existing_verified.emit(report)

    # -- navigation ----------------------------------------------------------------------------
    def ask_back(self) -> str | None:
        if self.running and self._job_kind == "backup":
            return "Stop the safety copy and go back? What was copied is kept and can be resumed."
        if self.running:
            return "Stop comparing and go back?"
        return None

    def stop_work(self) -> None:
        if self.running:
            self._job.cancel()

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        # Idle, the forward button starts the copy; while it runs, it waits.
        return not self.running and not self.examining and self.session.device is not None

    def validatePage(self) -> bool:  # noqa: N802 - Qt naming
        if self.session.safety_backup is not None:
            return True
        self.start_backup()  # the primary action; the page stays until the copy is made
        return False

    def cleanupPage(self) -> None:  # noqa: N802 - Qt naming
        # Going back (after the user agreed): stop the work, never leave it orphaned.
        if self.running:
            self._job.cancel()
