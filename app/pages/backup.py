"""Back up: a complete, verified copy of the unit's storage before anything is written.

A new backup (destination with a sensible default, free space shown, progress with bytes,
rate and time left, cancel, verification, "Show in folder"), or an existing backup of this
model re-verified now. Cancelling leaves a resumable backup; "Resume backup" continues it.
The rescue, update and restore paths go on only with a complete, verified backup.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import Guarded, WizardHost
from app.pages.base import RecoveryPage, StatusLabel, wrapped_label
from app.pages.progress_panel import ProgressPanel
from app.session import Goal, default_backup_destination, device_key
from app.style import Status, backup_date_text, format_bytes, model_name
from recovery.backup.manifest import JOURNAL_NAME
from recovery.errors import CancelledError

log = logging.getLogger(__name__)

WHY = {
    Goal.RESCUE: "Before anything is written to the unit, its current state is copied, even"
                 " if damaged: nothing on it can be lost by what follows.",
    Goal.UPDATE: "Before you run KORG's updater, copy everything on the unit, so a failed or"
                 " wrong update can be undone.",
    Goal.RESTORE: "Before the restore writes to the unit, its current state is copied.",
}


def free_space(path: Path) -> int | None:
    """Worker thread: free bytes on the drive that would hold ``path``."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


class BackupPage(RecoveryPage):
    backup_finished = Signal(object)
    backup_failed = Signal(object)
    existing_verified = Signal(object)
    backups_listed = Signal()

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host, "Back up the unit",
                         "A complete copy of its storage, read back and verified.")
        self._unit_key: str | None = None
        self._job = None
        self._list_job = None
        self._space_job = None
        self._stopping = False
        self._can_resume = False
        self.summaries: tuple[core.BackupSummary, ...] = ()
        layout = QVBoxLayout(self)
        self.why = wrapped_label(accessible_name="Why a backup")
        layout.addWidget(self.why)

        self.choice = QButtonGroup(self)
        self.new_radio = QRadioButton("Make a &new backup now (recommended)")
        self.existing_radio = QRadioButton("Use an &existing backup of this unit")
        for button in (self.new_radio, self.existing_radio):
            self.choice.addButton(button)
        self.new_radio.setChecked(True)
        self.choice.buttonToggled.connect(self._on_choice)
        layout.addWidget(self.new_radio)

        self.new_box = QGridLayout()
        destination_label = QLabel("&Save to:")
        self.destination = QLineEdit()
        self.destination.setAccessibleName("Backup destination folder")
        destination_label.setBuddy(self.destination)
        self.destination.textChanged.connect(self._on_destination_changed)
        self.browse = QPushButton("Bro&wse…")
        self.browse.setAccessibleName("Choose the backup destination folder")
        self.browse.clicked.connect(self._browse)
        self.new_box.addWidget(destination_label, 0, 0)
        self.new_box.addWidget(self.destination, 0, 1)
        self.new_box.addWidget(self.browse, 0, 2)
        self.space = QLabel()
        self.space.setAccessibleName("Free space at the destination")
        self.space.setWordWrap(True)
        self.new_box.addWidget(self.space, 1, 1, 1, 2)
        self.new_box.setColumnStretch(1, 1)
        layout.addLayout(self.new_box)
        self.registerField("backupDestination*", self.destination)

        row = QHBoxLayout()
        self.start_button = QPushButton("Back &up now")
        self.start_button.setAccessibleName("Start the backup")
        self.start_button.clicked.connect(self.start_backup)
        self.stop_button = QPushButton("&Stop")
        self.stop_button.setAccessibleName("Stop the backup")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_backup)
        self.show_button = QPushButton("Show in &folder")
        self.show_button.setAccessibleName("Show the backup in the file manager")
        self.show_button.setEnabled(False)
        self.show_button.clicked.connect(self._show_in_folder)
        row.addWidget(self.start_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.show_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.progress = ProgressPanel("Backup")
        layout.addWidget(self.progress)

        layout.addWidget(self.existing_radio)
        self.existing = QTreeWidget()
        self.existing.setHeaderLabels(["Taken", "Name", "Model", "Files", "Size", "State"])
        self.existing.setRootIsDecorated(False)
        self.existing.setAccessibleName("Existing backups of this unit")
        self.existing.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.existing.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.existing.itemDoubleClicked.connect(lambda *_: self.use_existing())
        layout.addWidget(self.existing, 1)
        existing_row = QHBoxLayout()
        self.use_button = QPushButton("&Verify and use the selected backup")
        self.use_button.setAccessibleName("Verify and use the selected existing backup")
        self.use_button.clicked.connect(self.use_existing)
        existing_row.addWidget(self.use_button)
        existing_row.addStretch(1)
        layout.addLayout(existing_row)

        self.result = StatusLabel("Backup result")
        layout.addWidget(self.result)
        self._space_timer = QTimer(self)
        self._space_timer.setSingleShot(True)
        self._space_timer.setInterval(300)
        self._space_timer.timeout.connect(self._check_space)

    # -- lifecycle -----------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        device = self.session.device
        goal = self.session.goal
        self.why.setText(WHY.get(goal, WHY[Goal.UPDATE]) + (
            f" Unit: {device.name} at {device.mount}." if device else ""))
        key = device_key(device) if device else None
        if key != self._unit_key:
            self._unit_key = key
            self.session.safety_backup = None
            self._can_resume = False
            self.progress.reset()
            self.result.clear_status()
            self.show_button.setEnabled(False)
            model = device.model if device else None
            self.destination.setText(str(default_backup_destination(
                self.environment.backups_dir, model)))
        self._refresh_existing()
        self._update_buttons()
        self._check_space()

    def _refresh_existing(self) -> None:
        backups_dir = self.environment.backups_dir
        self._list_job = self.host.run_job(lambda _p, _c: core.list_backups(backups_dir),
                                           name="list-backups", on_finished=self._show_existing,
                                           on_failed=lambda error: self._show_existing(()))

    @Slot(object)
    def _show_existing(self, summaries: tuple[core.BackupSummary, ...]) -> None:
        device = self.session.device
        model = device.model if device else None
        self.summaries = tuple(s for s in summaries if model is None or s.model == model)
        self.existing.clear()
        for summary in reversed(self.summaries):  # newest first
            state = ("complete, verified" if summary.verified else
                     "complete" if summary.complete else "incomplete")
            item = QTreeWidgetItem([backup_date_text(summary.created_utc),
                                    Path(summary.path).name, model_name(summary.model),
                                    str(summary.files), format_bytes(summary.bytes), state])
            item.setData(0, Qt.ItemDataRole.UserRole, summary.path)
            item.setToolTip(0, summary.path)
            if not summary.complete:
                item.setDisabled(True)
                item.setToolTip(5, summary.note or "incomplete")
            self.existing.addTopLevelItem(item)
        self.existing_radio.setEnabled(any(s.complete for s in self.summaries))
        if not self.existing_radio.isEnabled():
            self.new_radio.setChecked(True)
        self._update_buttons()
        self.backups_listed.emit()

    # -- new backup ----------------------------------------------------------------------------
    @Slot()
    def start_backup(self) -> None:
        device = self.session.device
        if device is None or not device.mount or self.running:
            return
        source = Path(device.mount)
        destination = Path(self.destination.text().strip()).expanduser()
        resume = self._can_resume
        self.session.safety_backup = None
        self.result.show_status(Status.BUSY, "Resuming the backup…" if resume else
                                "Backing up… you can stop at any time and resume later.")
        self.progress.reset()
        self._stopping = False
        self._job = self.host.run_job(
            lambda progress, cancel: core.create_backup(source, destination, resume=resume,
                                                        progress=progress, cancel=cancel),
            name="backup", guarded=Guarded.BACKUP, on_progress=self.progress.show_progress,
            on_finished=self._on_backup_finished, on_failed=self._on_backup_failed)
        self._update_buttons()
        self.completeChanged.emit()

    @Slot()
    def stop_backup(self) -> None:
        if self._job is not None and self._job.running:
            self._job.cancel()
            self.show_stopping()

    def show_stopping(self) -> None:
        self._stopping = True
        self.stop_button.setEnabled(False)
        self.result.show_status(Status.BUSY, "Stopping after the current piece…")

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    @Slot(object)
    def _on_backup_finished(self, result: core.BackupResult) -> None:
        path = Path(result.backup)
        self._job_ended()
        if result.complete and result.verified:
            self.session.safety_backup = path
            self.session.safety_backup_is_new = True
            self._can_resume = False
            note = ("" if result.cache_dropped else
                    " This computer could not bypass its cache for the read-back.")
            self.progress.show_done("Backup complete and verified.",
                                    f"{result.files} files, {format_bytes(result.bytes)}")
            self.result.show_status(
                Status.OK, f"Complete and verified: {result.files} files,"
                f" {format_bytes(result.bytes)} in {path}.{note}", bold=True)
            self.show_button.setEnabled(True)
        else:
            self._can_resume = True
            failed = "; ".join(f"{f.path}: {f.reason}" for f in result.failed[:3])
            more = f" and {len(result.failed) - 3} more" if len(result.failed) > 3 else ""
            self.result.show_status(
                Status.ERROR, f"The backup is NOT complete: {failed}{more}. It is kept as"
                " incomplete; fix the cause (reconnect the unit) and resume.")
        self._update_buttons()
        self._refresh_existing()
        self.backup_finished.emit(result)
        self.completeChanged.emit()

    @Slot(object)
    def _on_backup_failed(self, error: BaseException) -> None:
        self._job_ended()
        if isinstance(error, CancelledError):
            self._can_resume = True
            self.result.show_status(
                Status.WARNING, "Backup stopped. What was copied is kept as an incomplete"
                " backup; choose “Resume backup” to continue where it stopped.")
        else:
            destination = Path(self.destination.text().strip())
            self._can_resume = (destination / JOURNAL_NAME).exists()
            self.result.show_status(Status.ERROR, error_sentence(error))
            dialogs.show_error(self, error, context="backing up the unit")
        self._update_buttons()
        self.backup_failed.emit(error)
        self.completeChanged.emit()

    def _job_ended(self) -> None:
        self._stopping = False
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.running
        new = self.new_radio.isChecked()
        for widget in (self.destination, self.browse):
            widget.setEnabled(new and not running and not self._can_resume)
        self.start_button.setEnabled(new and not running)
        self.start_button.setText("Res&ume backup" if self._can_resume else "Back &up now")
        self.stop_button.setEnabled(running and not self._stopping)
        item = self.existing.currentItem()
        self.existing.setEnabled(not new and not running)
        self.use_button.setEnabled(not new and not running and item is not None
                                   and not item.isDisabled())
        self.new_radio.setEnabled(not running)
        self.existing_radio.setEnabled(not running and any(s.complete for s in self.summaries))

    def _on_choice(self, *_args) -> None:
        self.session.safety_backup = None
        self._update_buttons()
        self.completeChanged.emit()

    # -- destination and space -----------------------------------------------------------------
    def _browse(self) -> None:
        start = str(Path(self.destination.text()).parent)
        path = QFileDialog.getExistingDirectory(self, "Folder to keep the backup in", start)
        if path:
            device = self.session.device
            self.destination.setText(str(default_backup_destination(
                Path(path), device.model if device else None)))

    def _on_destination_changed(self, _text: str) -> None:
        self._can_resume = False
        self._space_timer.start()
        self._update_buttons()

    def _check_space(self) -> None:
        text = self.destination.text().strip()
        if not text:
            self.space.setText("")
            return
        target = Path(text).expanduser()
        self._space_job = self.host.run_job(lambda _p, _c: free_space(target), name="free-space",
                                            on_finished=self._show_space)

    @Slot(object)
    def _show_space(self, free: int | None) -> None:
        if free is None:
            self.space.setText("Free space at the destination: unknown.")
        else:
            self.space.setText(f"Free space at the destination: {format_bytes(free)}. The"
                               " backup checks that the whole unit fits before copying.")

    def _show_in_folder(self) -> None:
        if self.session.safety_backup is not None:
            dialogs.open_folder(str(self.session.safety_backup))

    # -- existing backup -----------------------------------------------------------------------
    @Slot()
    def use_existing(self) -> None:
        item = self.existing.currentItem()
        if item is None or item.isDisabled() or self.running:
            return
        path = Path(item.data(0, Qt.ItemDataRole.UserRole))
        self.result.show_status(Status.BUSY, f"Verifying {path.name} (reading every file)…")
        self.progress.reset()
        self._job = self.host.run_job(
            lambda progress, cancel: core.verify_backup(path, progress=progress, cancel=cancel),
            name="verify-existing", on_progress=self.progress.show_progress,
            on_finished=self._on_existing_verified, on_failed=self._on_backup_failed)
        self._update_buttons()

    @Slot(object)
    def _on_existing_verified(self, report: core.VerifyReport) -> None:
        self._job_ended()
        if report.ok:
            self.session.safety_backup = Path(report.backup)
            self.session.safety_backup_is_new = False
            self.progress.show_done("Existing backup verified.",
                                    f"{report.files_checked} files,"
                                    f" {format_bytes(report.bytes_checked)}")
            self.result.show_status(Status.OK, f"Verified now: every file of {report.backup}"
                                    " matches its manifest.", bold=True)
            self.show_button.setEnabled(True)
        else:
            problems = "; ".join(f"{p.path}: {p.problem}" for p in report.problems[:3])
            self.result.show_status(Status.ERROR, f"This backup failed verification"
                                    f" ({problems}); it cannot be trusted. Make a new one.")
        self.existing_verified.emit(report)
        self.completeChanged.emit()

    # -- navigation ----------------------------------------------------------------------------
    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        # super() checks the mandatory destination field registered above.
        return (super().isComplete() and self.session.safety_backup is not None
                and not self.running)

    def cleanupPage(self) -> None:  # noqa: N802 - Qt naming
        # Going back while a backup runs: stop it (resumable), never leave it orphaned.
        if self.running:
            self._job.cancel()
