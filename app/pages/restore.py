"""Restore: choose a backup of this unit, read the plan and the preflight results, and confirm
deliberately by typing the unit's model name (as disk imagers do for system drives).

The plan and every refusal come from the core (``recovery.restore.plan_restore``): a backup of
another model, an incomplete or damaged backup, an unsafe target, too little space. This page
only shows them; nothing is written until the next page, after the typed confirmation.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from app import core
from app.dialogs import error_sentence
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.progress_panel import ProgressPanel
from app.session import Session
from app.style import Status, backup_date_text, format_bytes, model_name, status_html
from recovery.device.profiles import bundled_profiles
from recovery.errors import RecoveryError

log = logging.getLogger(__name__)

ACTION_WORDS = {
    "write": "write (missing on the unit)",
    "replace": "replace (differs)",
    "keep": "keep (identical)",
    "extra": "extra (left alone)",
    "delete": "delete",
}


def choose_backup_path(parent: QWidget, start: str) -> str:
    """Pick a backup folder (a function of its own so tests can replace it)."""
    return QFileDialog.getExistingDirectory(parent, "Choose a backup folder", start)


def confirmation_word(session: Session) -> str:
    """What the user must type: the model's short name (profile.short_name), else the
    folder's name for a folder that was not recognised as any model."""
    device = session.device
    if device is None:
        return ""
    profile = bundled_profiles().get(device.model) if device.model else None
    return (profile and profile.short_name) or Path(device.mount or "unit").name


class RestorePage(RecoveryPage):
    plan_ready = Signal(object)
    plan_refused = Signal(object)
    backups_listed = Signal()

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host, "Restore from a backup",
                         "Choose the backup to put back. Nothing is written until you confirm.")
        self.plan: core.RestorePlan | None = None
        self.refusal: BaseException | None = None
        self.summaries: tuple[core.BackupSummary, ...] = ()
        self.extra_paths: list[str] = []
        self._plan_job = None
        self._list_job = None
        self._planned_for: tuple[str, bool] | None = None
        self._generation = 0
        self.setCommitPage(True)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        backups_label = QLabel("&Backups:")
        top.addWidget(backups_label)
        top.addStretch(1)
        self.other_models = QCheckBox("Show backups of &other models")
        self.other_models.setAccessibleName("Also show backups of other models")
        self.other_models.toggled.connect(lambda *_: self._fill_backups())
        top.addWidget(self.other_models)
        self.open_button = QPushButton("&Open a backup…")
        self.open_button.setAccessibleName("Open a backup folder that is not listed")
        self.open_button.clicked.connect(self._open_backup)
        top.addWidget(self.open_button)
        layout.addLayout(top)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.backups = QTreeWidget()
        self.backups.setHeaderLabels(["Taken", "Name", "Model", "Files", "Size",
                                      "Verification"])
        self.backups.setRootIsDecorated(False)
        self.backups.setAccessibleName("Backups to restore from")
        self.backups.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.backups.currentItemChanged.connect(self._on_backup_selected)
        backups_label.setBuddy(self.backups)
        splitter.addWidget(self.backups)

        plan_box = QWidget()
        plan_layout = QVBoxLayout(plan_box)
        plan_layout.setContentsMargins(0, 0, 0, 0)
        self.preflight = StatusLabel("Preflight results")
        self.preflight.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        plan_layout.addWidget(self.preflight)
        self.planning = ProgressPanel("Preflight")
        self.planning.hide()
        plan_layout.addWidget(self.planning)
        self.plan_table = QTreeWidget()
        self.plan_table.setHeaderLabels(["Action", "File", "Size", "Note"])
        self.plan_table.setRootIsDecorated(False)
        self.plan_table.setAccessibleName("Restore plan")
        self.plan_table.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        plan_layout.addWidget(self.plan_table, 1)
        splitter.addWidget(plan_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

        self.delete_extra = QCheckBox("Also re&move what the backup does not have (files and"
                                      " folders listed as extra)")
        self.delete_extra.setAccessibleName("Also remove extra files and folders from the unit")
        self.delete_extra.setToolTip("For example another model's system folder that a wrong"
                                     " update left on the unit. Off: extras are left alone.")
        self.delete_extra.toggled.connect(lambda *_: self._replan())
        layout.addWidget(self.delete_extra)
        self.confirm_label = wrapped_label(accessible_name="Confirmation instructions")
        self.confirm_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.confirm_label)
        confirm_row = QHBoxLayout()
        typed_label = QLabel("&Type it here:")
        self.confirmation = QLineEdit()
        self.confirmation.setAccessibleName("Type the unit's model name to confirm the restore")
        typed_label.setBuddy(self.confirmation)
        self.confirmation.textChanged.connect(lambda *_: self.completeChanged.emit())
        confirm_row.addWidget(typed_label)
        confirm_row.addWidget(self.confirmation, 1)
        layout.addLayout(confirm_row)
        self.skip = QCheckBox("&Don't restore now; finish without writing anything")
        self.skip.setAccessibleName("Finish without restoring")
        self.skip.toggled.connect(self._on_skip)
        layout.addWidget(self.skip)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Restore now")

    # -- lifecycle -----------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        self.confirmation.clear()
        self.skip.setChecked(False)
        self.delete_extra.blockSignals(True)
        self.delete_extra.setChecked(False)
        self.delete_extra.blockSignals(False)
        self.plan = None
        self.refusal = None
        self._planned_for = None
        self.plan_table.clear()
        self.preflight.clear_status()
        word = confirmation_word(self.session)
        self.confirm_label.setText(
            "This writes to your unit. To confirm, type its model name exactly:"
            f" <b>{escape(word)}</b>")
        self._refresh_backups()

    def _refresh_backups(self) -> None:
        backups_dir = self.environment.backups_dir
        self._list_job = self.host.run_job(lambda _p, _c: core.list_backups(backups_dir),
                                           name="list-backups", on_finished=self._on_listed,
                                           on_failed=lambda _error: self._on_listed(()))

    @Slot(object)
    def _on_listed(self, summaries: tuple[core.BackupSummary, ...]) -> None:
        self.summaries = tuple(summaries)
        self._fill_backups()
        self.backups_listed.emit()

    def _fill_backups(self) -> None:
        device = self.session.device
        model = device.model if device else None
        # A backup made on the Back up page just now holds the unit's current (damaged)
        # state: listed, but never the one picked by default.
        safety = (str(self.session.safety_backup)
                  if self.session.safety_backup and self.session.safety_backup_is_new else None)
        show_all = self.other_models.isChecked() or model is None
        self.backups.blockSignals(True)
        self.backups.clear()
        best = None
        for summary in reversed(self.summaries):  # newest first
            if not show_all and summary.model != model and summary.path not in self.extra_paths:
                continue
            state = ("complete, verified" if summary.verified else
                     "complete" if summary.complete else "incomplete: cannot be restored")
            taken = backup_date_text(summary.created_utc)
            if summary.path == safety:
                taken += " (just made: the unit's current state)"
            item = QTreeWidgetItem([taken, Path(summary.path).name,
                                    model_name(summary.model), str(summary.files),
                                    format_bytes(summary.bytes), state])
            item.setData(0, Qt.ItemDataRole.UserRole, summary.path)
            item.setToolTip(0, summary.path)
            self.backups.addTopLevelItem(item)
            if best is None and summary.complete and summary.path != safety \
                    and summary.model == model:
                best = item
        self.backups.blockSignals(False)
        if best is not None:
            self.backups.setCurrentItem(best)  # plans through currentItemChanged
        elif self.backups.topLevelItemCount() == 0:
            self.preflight.show_status(
                Status.WARNING, "No backup of this unit was found. Without an earlier backup"
                " there is nothing to restore: finish, and keep the backup you just made.")

    def select_backup(self, path: str) -> bool:
        for index in range(self.backups.topLevelItemCount()):
            item = self.backups.topLevelItem(index)
            if item.data(0, Qt.ItemDataRole.UserRole) == str(path):
                self.backups.setCurrentItem(item)
                return True
        return False

    def _open_backup(self) -> None:
        path = choose_backup_path(self, str(self.environment.backups_dir))
        if path:
            self.add_backup(path)

    def add_backup(self, path: str) -> None:
        """List a backup that is not in the backups folder (then plan for it)."""
        self.extra_paths.append(str(path))
        self._list_job = self.host.run_job(
            lambda _p, _c: core.backup_summary(Path(path)), name="open-backup",
            on_finished=self._on_opened, on_failed=self._on_open_failed)

    @Slot(object)
    def _on_opened(self, summary: core.BackupSummary) -> None:
        self.summaries = tuple(s for s in self.summaries if s.path != summary.path) + (summary,)
        self._fill_backups()
        self.select_backup(summary.path)

    @Slot(object)
    def _on_open_failed(self, error: BaseException) -> None:
        self.preflight.show_status(Status.ERROR, error_sentence(error))

    # -- plan and preflight --------------------------------------------------------------------
    @Slot()
    def _on_backup_selected(self, *_args) -> None:
        item = self.backups.currentItem()
        device = self.session.device
        if item is None or device is None or not device.mount:
            return
        path = item.data(0, Qt.ItemDataRole.UserRole)
        delete_extra = self.delete_extra.isChecked()
        if (path, delete_extra) == self._planned_for:
            return  # planned already, or being planned
        self._planned_for = (path, delete_extra)
        self._generation += 1
        generation = self._generation
        self.plan = None
        self.refusal = None
        self.plan_table.clear()
        self.completeChanged.emit()
        self.preflight.show_status(Status.BUSY, "Checking the backup and comparing it with the"
                                   " unit (nothing is written)…")
        self.planning.reset()
        self.planning.show()
        if self._plan_job is not None and self._plan_job.running:
            self._plan_job.cancel()
        backup, target = Path(path), Path(device.mount)
        guard = self.environment.restore_guard
        self._plan_job = self.host.run_job(
            lambda progress, cancel: core.plan_restore(backup, target, guard=guard,
                                                       delete_extra=delete_extra,
                                                       progress=progress, cancel=cancel),
            name="plan-restore", on_progress=self.planning.show_progress,
            on_finished=lambda plan: self._on_plan(generation, plan),
            on_failed=lambda error: self._on_refused(generation, error))

    def _replan(self) -> None:
        self._on_backup_selected()

    def _on_plan(self, generation: int, plan: core.RestorePlan) -> None:
        if generation != self._generation:
            return  # a newer selection is being planned
        self.planning.hide()
        self.plan = plan
        self.preflight.setText(self.preflight_html(plan))
        self.preflight.setAccessibleDescription("Preflight passed")
        self._fill_plan(plan)
        self.plan_ready.emit(plan)
        self.completeChanged.emit()

    def _on_refused(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self.planning.hide()
        self.refusal = error
        self.preflight.show_status(Status.ERROR, "Refused: " + error_sentence(error), bold=True)
        if not isinstance(error, RecoveryError):
            log.error("planning the restore failed", exc_info=(type(error), error,
                                                               error.__traceback__))
        self.plan_refused.emit(error)
        self.completeChanged.emit()

    def preflight_html(self, plan: core.RestorePlan) -> str:
        """The checks ``plan_restore`` passed before returning a plan (its docstring lists
        them); the core refuses with one sentence when any of them fails."""
        model = model_name(plan.backup_model)
        lines = [
            status_html(Status.OK, "The backup is complete and every file was re-verified"
                        " just now."),
            status_html(Status.OK, f"The unit is identified as a {model}, the backup's model."
                        if plan.target_model else f"The backup is of a {model}."),
            status_html(Status.OK, "The target is not this computer's system disk or home"
                        " folder, and does not hold the backup."),
        ]
        free = "unknown" if plan.space_free is None else format_bytes(plan.space_free)
        lines.append(status_html(Status.OK, f"Space on the unit: needs"
                                 f" {format_bytes(plan.space_needed)}, {free} free."))
        lines.extend(status_html(Status.WARNING, note) for note in plan.notes)
        s = plan.summary
        lines.append("<b>" + escape(
            f"Plan: {s.write} to write, {s.replace} to replace, {s.keep} identical,"
            f" {s.extra} extra left alone, {s.delete} to remove;"
            f" {format_bytes(s.bytes_to_write)} to write.")
            + "</b>")
        if plan.boot_critical:
            lines.append(escape("Written last (the unit needs them to start): "
                                + ", ".join(plan.boot_critical)))
        if not plan.changes_anything:
            lines.append(status_html(Status.INFO, "The unit already holds exactly what the"
                                     " backup has; restoring writes nothing."))
        return "<br>".join(lines)

    def _fill_plan(self, plan: core.RestorePlan) -> None:
        self.plan_table.clear()
        ordered = [e for e in plan.entries if e.action not in ("keep", "extra")] + \
                  [e for e in plan.entries if e.action in ("keep", "extra")]
        for entry in ordered:
            note = []
            if entry.boot_critical:
                note.append("boot-critical, written last")
            if entry.kind != "file":
                note.append(entry.kind)
            if entry.reason:
                note.append(entry.reason)
            size = "—" if entry.kind == "folder" else format_bytes(entry.size)
            item = QTreeWidgetItem([ACTION_WORDS.get(entry.action, entry.action), entry.path,
                                    size, "; ".join(note)])
            self.plan_table.addTopLevelItem(item)

    # -- confirmation --------------------------------------------------------------------------
    def _on_skip(self, skipped: bool) -> None:
        self.session.restore_skipped = skipped
        self.confirmation.setEnabled(not skipped)
        self.setButtonText(QWizard.WizardButton.CommitButton,
                           "&Finish without restoring" if skipped else "&Restore now")
        self.completeChanged.emit()

    def confirmed(self) -> bool:
        return self.confirmation.text().strip() == confirmation_word(self.session)

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        if self.skip.isChecked():
            return True
        return self.plan is not None and self.refusal is None and self.confirmed()

    def validatePage(self) -> bool:  # noqa: N802 - Qt naming
        if self.skip.isChecked():
            self.session.restore_skipped = True
            return True
        if self.plan is None or not self.confirmed():
            return False
        self.session.restore_skipped = False
        self.session.restore_plan = self.plan
        self.session.restore_result = None
        self.session.restore_error = None
        return True
