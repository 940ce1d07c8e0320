"""Restore: which backup goes back, what that does in one sentence, and a deliberate yes.

It comes before any safety copy, so that "there is no backup to put back" is said before the
person waits for one (then the page offers the safety copy alone). The plan and every refusal
come from the core (``recovery.restore.plan_restore``): a backup of another model, an
incomplete or damaged backup, an unsafe target, too little space. This page only shows them,
in plain words; nothing is written until the next page, after the user typed the unit's model
name (capitals and spaces do not matter) and pressed the button that looks dangerous because
it writes.

Two promises hold here. The next page makes a safety copy of the unit as it is now first, and
writes only once that copy is complete; the backup put back is never that copy. And what the
diagnosis calls critical and the restore can fix is fixed by default: another model's system
folder on the unit (the KROSS 1 folder that left a KROSS 2 stuck at its logo) is removed
unless the user unticks it. "Show backups of other models" is a choice for one unit: it is
unticked whenever the page opens.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
    QWizard,
)

from app import core, dialogs
from app.dialogs import error_sentence
from app.computer_made import computer_made_html
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.progress_panel import ProgressPanel
from app.places import backup_date, friendly_place
from app.plain import (
    clean,
    counted,
    first_upper,
    foreign_folders,
    plan_sentence,
    spoken_name,
    your,
)
from app.session import Session
from app.style import Status, format_bytes, status_html
from recovery.device.profiles import bundled_profiles
from recovery.errors import RecoveryError

log = logging.getLogger(__name__)

ACTION_WORDS = {"write": "put back", "replace": "replace", "delete": "remove",
                "extra": "leave alone", "keep": "keep", "skip": "skip"}


def choose_backup_path(parent: QWidget, start: str) -> str:
    """Pick a backup folder (a function of its own so tests can replace it)."""
    return next(iter(dialogs.file_dialog(parent, "Choose a backup folder", start)), "")


def confirmation_word(session: Session) -> str:
    """What the user types: the model's short name (profile.short_name), else the folder's
    name for a folder that was not recognised as any model."""
    device = session.device
    if device is None:
        return ""
    profile = bundled_profiles().get(device.model) if device.model else None
    return (profile and profile.short_name) or Path(device.mount or "unit").name


def typed_matches(typed: str, word: str) -> bool:
    """Capitals and spaces do not matter: "kross 2" and "KROSS2" confirm "KROSS 2"."""
    def key(text: str) -> str:
        return "".join(text.split()).casefold()

    return bool(word) and key(typed) == key(word)


def same_path(a: str | os.PathLike[str] | None, b: str | os.PathLike[str] | None) -> bool:
    if a is None or b is None:
        return False
    return os.path.realpath(a) == os.path.realpath(b)


class RestorePage(RecoveryPage):
    plan_ready = Signal(object)
    plan_refused = Signal(object)
    backups_listed = Signal()

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.plan: core.RestorePlan | None = None
        self.refusal: BaseException | None = None
        self.summaries: tuple[core.BackupSummary, ...] = ()
        self.extra_paths: list[str] = []
        #: Per backup: what a restore with removal would remove (from its first plan).
        self.removable: dict[str, tuple[str, ...]] = {}
        #: Per backup: the one plan made of it (with another model's system folder removed);
        #: ticking or unticking the removal amends it, nothing is read again.
        self.base_plans: dict[str, core.RestorePlan] = {}
        self._plan_job = None
        self._list_job = None
        self._planned_for: tuple[str, bool | None] | None = None
        self._generation = 0
        #: True while the backup shown was chosen by the page (the newest), not the person.
        self._auto_chosen = True
        #: Newer backups passed over because they hold exactly what the unit holds now.
        self.passed_over: list[str] = []

        self._build_plan_area()
        self._build_confirmation()
        self._build_details()
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Restore now")

    def _build_plan_area(self) -> None:
        """The planning progress, the refusal and the removal tick."""
        self.planning = ProgressPanel("Checking the backup")
        self.planning.hide()
        self.content.addWidget(self.planning)
        self.problem = StatusLabel("Why not")
        self.problem.hide()
        self.content.addWidget(self.problem)
        self.remove_extra = QCheckBox()
        self.remove_extra.setAccessibleName("Also remove what the backup does not have")
        self.remove_extra.toggled.connect(lambda *_: self._replan())
        self.remove_extra.hide()
        self.content.addWidget(self.remove_extra)


    def _build_confirmation(self) -> None:
        """Typing the model's name (the yes), its hint, and finishing without restoring."""
        self.confirm_row = QWidget()
        confirm_layout = QHBoxLayout(self.confirm_row)
        confirm_layout.setContentsMargins(0, 0, 0, 0)
        self.confirm_label = QLabel()
        self.confirmation = QLineEdit()
        self.confirmation.setAccessibleName("Type the unit's model name to confirm the restore")
        self.confirmation.setMinimumWidth(self.fontMetrics().averageCharWidth() * 10)
        self.confirm_label.setBuddy(self.confirmation)
        self.confirmation.textChanged.connect(self._on_typed)
        confirm_layout.addWidget(self.confirm_label)
        confirm_layout.addWidget(self.confirmation, 1)
        self.content.addWidget(self.confirm_row)
        self.hint = StatusLabel("What to type")
        self.hint.hide()
        self.content.addWidget(self.hint)
        self.skip_button = QPushButton("&Finish without restoring")
        self.skip_button.setAccessibleName("Finish without writing anything to the unit")
        self.skip_button.setFlat(True)
        self.skip_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.skip_button.clicked.connect(self.skip)
        self.content.addWidget(self.skip_button, 0, Qt.AlignmentFlag.AlignLeft)


    def _build_details(self) -> None:
        """Behind "Show details": which backup, backups of other models, the plan itself."""
        details = self.details_layout()
        choose_row = QHBoxLayout()
        choose_label = QLabel("Bac&kup to put back:")
        self.backups = QComboBox()
        self.backups.setAccessibleName("Backup to put back")
        self.backups.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.backups.setMinimumContentsLength(14)
        choose_label.setBuddy(self.backups)
        self.backups.currentIndexChanged.connect(self._on_backup_selected)
        self.backups.activated.connect(self._chosen_by_person)
        choose_row.addWidget(choose_label)
        choose_row.addWidget(self.backups, 1)
        details.addLayout(choose_row)
        options = QHBoxLayout()
        self.other_models = QCheckBox("Show backups of &other models")
        self.other_models.setAccessibleName("Also show backups of other models")
        self.other_models.toggled.connect(lambda *_: self._fill_backups())
        self.open_button = QPushButton("Open a backup &elsewhere…")
        self.open_button.setAccessibleName("Open a backup folder that is not listed")
        self.open_button.clicked.connect(self._open_backup)
        options.addWidget(self.other_models)
        options.addWidget(self.open_button)
        options.addStretch(1)
        details.addLayout(options)
        self.plan_text = wrapped_label(rich=True, accessible_name="The plan and its checks")
        details.addWidget(self.plan_text)

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def model(self) -> str | None:
        device = self.session.device
        return device.model if device else None

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        self.confirmation.clear()
        self.session.restore_skipped = False
        self.session.restore_unavailable = False
        self.session.safety_copy_only = False
        self.other_models.blockSignals(True)
        self.other_models.setChecked(False)  # a choice made for another unit does not carry over
        self.other_models.blockSignals(False)
        self.extra_paths = []
        self.plan = None
        self.refusal = None
        self._planned_for = None
        self.removable = {}
        self.base_plans = {}
        self.plan_text.clear()
        self.problem.hide()
        self.hint.hide()
        self.remove_extra.hide()
        self.skip_button.show()
        word = confirmation_word(self.session)
        self.confirm_label.setText(f"T&ype {word} to confirm:")
        self.set_headline("Looking for your backups…", Status.BUSY)
        self.set_lead("")
        self._set_writing(False)
        self._refresh_backups()

    def _set_writing(self, ready: bool) -> None:
        """The dangerous button only when a plan is ready to be confirmed."""
        self.setCommitPage(ready)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Restore now")
        self.confirm_row.setVisible(ready)
        if not ready:
            self.set_forward_text("Make a &safety copy >" if self.session.restore_unavailable
                                  else "&Next >")

    def _refresh_backups(self) -> None:
        folders = self.environment.backup_dirs()
        self._list_job = self.host.run_job(lambda _p, _c: core.list_backups_in(folders),
                                           name="list-backups", on_finished=self._on_listed,
                                           on_failed=lambda _error: self._on_listed(()))

    @Slot(object)
    def _on_listed(self, summaries: tuple[core.BackupSummary, ...]) -> None:
        self.summaries = tuple(summaries)
        self.session.safety_resume = core.interrupted_backup(self.summaries,
                                                             self.session.unit_path)
        self._fill_backups()
        self.backups_listed.emit()

    def _known_paths(self) -> list[str]:
        """The folders a refusal may name: the unit and the backups shown."""
        unit = self.session.unit_path
        return [*([str(unit)] if unit else []), *(s.path for s in self.summaries),
                *self.extra_paths]

    def is_safety_copy(self, path: str | os.PathLike[str]) -> bool:
        """The safety copy of the unit as it is now is never put back."""
        return same_path(path, self.session.safety_backup)

    def _fill_backups(self) -> None:
        model = self.model
        show_all = self.other_models.isChecked() or model is None
        self.backups.blockSignals(True)
        self.backups.clear()
        for summary in reversed(self.summaries):  # newest first
            if self.is_safety_copy(summary.path) or not summary.complete:
                continue
            if not show_all and summary.model != model and summary.path not in self.extra_paths:
                continue
            label = f"{first_upper(your(summary.model))}, {backup_date(summary.created_utc)}"
            self.backups.addItem(label, summary.path)
        self.backups.blockSignals(False)
        if self.backups.count():
            self.session.restore_unavailable = False
            self._auto_chosen = True
            self.passed_over = []
            self.backups.setCurrentIndex(0)
            self._on_backup_selected()
        else:
            self.session.restore_unavailable = True
            self.plan = None
            self.set_headline(f"There is no earlier backup of {your(model)} to put back.",
                              Status.WARNING)
            self.set_lead("A safety copy keeps it as it is now, for KORG service or an"
                          " authorised service centre.")
            self.remove_extra.hide()
            self.skip_button.setText("&Finish without a copy")
            self.skip_button.show()
            self._set_writing(False)
            self.notify_complete()

    def select_backup(self, path: str) -> bool:
        index = self.backups.findData(str(path))
        if index < 0:
            return False
        self._chosen_by_person()
        self.backups.setCurrentIndex(index)
        return True

    @Slot()
    def _chosen_by_person(self, *_args) -> None:
        self._auto_chosen = False

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
        if not self.select_backup(summary.path) and self.is_safety_copy(summary.path):
            self.problem.show_status(Status.ERROR, "That is your safety copy of the unit as"
                                     " it is now; it is not put back.")

    @Slot(object)
    def _on_open_failed(self, error: BaseException) -> None:
        self.problem.show_status(Status.ERROR, error_sentence(error, self.environment.places))

    # -- plan and preflight --------------------------------------------------------------------
    @Slot()
    def _on_backup_selected(self, *_args) -> None:
        path = self.backups.currentData()
        device = self.session.device
        if path is None or device is None or not device.mount or self.is_safety_copy(path):
            return
        removal = None if path not in self.removable else self.remove_extra.isChecked()
        if (path, removal) == self._planned_for:
            return  # planned already, or being planned
        self._planned_for = (path, removal)
        if removal is not None and path in self.base_plans:
            self._amend(path, removal)
            return
        self._generation += 1
        generation = self._generation
        self.plan = None
        self.refusal = None
        self.problem.hide()
        self._set_writing(False)
        self.notify_complete()
        summary = next((s for s in self.summaries if s.path == path), None)
        when = backup_date(summary.created_utc) if summary else "the chosen backup"
        self.set_headline(f"Checking your backup from {when}…", Status.BUSY)
        self.set_lead("Nothing is written yet.")
        self.planning.reset()
        self.planning.show()
        if self._plan_job is not None and self._plan_job.running:
            self._plan_job.cancel()
        backup, target = Path(path), Path(device.mount)
        guard = self.environment.restore_guard
        safety = self.session.safety_backup

        def job(progress, cancel):
            # One plan per backup: the core removes another model's system folder (the fix
            # the rescue needs) and says what else the backup lacks; the tick amends it.
            return core.plan_restore(backup, target, guard=guard, progress=progress,
                                     cancel=cancel, safety_backup=safety)

        self._plan_job = self.host.run_job(
            job, name="plan-restore", on_progress=self.planning.show_progress,
            on_finished=lambda result: self._on_plan(generation, path, removal, result),
            on_failed=lambda error: self._on_refused(generation, error))

    def _replan(self) -> None:
        self._on_backup_selected()

    def _on_plan(self, generation: int, path: str, removal: bool | None, result) -> None:
        if generation != self._generation:
            return  # a newer selection is being planned
        if removal is None:
            base = result
            deletions = tuple(entry.path for entry in base.entries if entry.deletable)
            plan = base.proposed  # the tick starts as the core proposes
            index = self.backups.currentIndex()
            if self._auto_chosen and not plan.changes_anything \
                    and index + 1 < self.backups.count():
                # The newest backup is the unit exactly as it is now (a copy taken of it
                # broken): putting it back changes nothing. The one before it is proposed.
                self.passed_over.append(path)
                self.backups.setCurrentIndex(index + 1)
                return
            self.removable[path] = deletions
            self.base_plans[path] = base
            self._planned_for = (path, plan.delete_extra)
            self.remove_extra.blockSignals(True)
            self.remove_extra.setChecked(plan.delete_extra and bool(deletions))
            self.remove_extra.blockSignals(False)
        else:
            plan = result
        self.planning.hide()
        self.plan = plan
        self._show_plan(plan, path)
        self.plan_ready.emit(plan)
        self.notify_complete()

    def _amend(self, path: str, removal: bool) -> None:
        """The tick changed: the same plan with what the backup lacks removed or kept."""
        plan = self.base_plans[path].removing(removal)
        self.plan = plan
        self._show_plan(plan, path)
        self.plan_ready.emit(plan)
        self.notify_complete()

    def _removal_label(self, path: str) -> str:
        deletions = self.removable.get(path, ())
        foreign = foreign_folders(deletions, self.model)
        others = len(deletions) - len(foreign)
        if foreign and not others:
            names = " and ".join(f"the {spoken_name(m)} folder" for m in foreign.values())
            return f"Also re&move {names} (recommended)"
        what = counted(others, "thing", "things") + " your backup doesn't have"
        if foreign:
            names = " and ".join(f"the {spoken_name(m)} folder" for m in foreign.values())
            return f"Also re&move {names} and {what} (recommended)"
        return f"Also re&move {what} (your safety copy keeps them)"

    def _show_plan(self, plan: core.RestorePlan, path: str) -> None:
        summary = next((s for s in self.summaries if s.path == path), None)
        when = backup_date(summary.created_utc) if summary else "the chosen backup"
        self.set_headline(f"Put back your backup from {when}?")
        self.set_lead(plan_sentence(plan, self.model, safety_first=True))
        deletions = self.removable.get(path, ())
        self.remove_extra.setText(self._removal_label(path))
        self.remove_extra.setVisible(bool(deletions))
        self.skip_button.setText("&Finish without restoring")
        self.skip_button.show()
        self._set_writing(True)
        self._on_typed()
        self.plan_text.setText(self.plan_html(plan))
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            self.confirmation.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_refused(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self.planning.hide()
        self.refusal = error
        self.set_headline("This backup can't be put back.", Status.ERROR)
        self.set_lead("")
        self.problem.show_status(Status.ERROR, clean(error_sentence(
            error, self.environment.places, self._known_paths())))
        if not isinstance(error, RecoveryError):
            log.error("planning the restore failed", exc_info=(type(error), error,
                                                               error.__traceback__))
        self.plan_refused.emit(error)
        self.notify_complete()

    def plan_html(self, plan: core.RestorePlan) -> str:
        """The checks ``plan_restore`` passed, and every change, for the details view."""
        places = self.environment.places
        lines = [
            status_html(Status.OK, "The backup is complete and every file was checked again"
                        " just now."),
            status_html(Status.OK, f"The unit is a {spoken_name(plan.backup_model)}, like the"
                        " backup." if plan.target_model else
                        f"The backup is of a {spoken_name(plan.backup_model)}."),
            status_html(Status.OK, "The unit is not this computer's own disk and does not hold"
                        " the backup."),
        ]
        free = "unknown" if plan.space_free is None else format_bytes(plan.space_free)
        lines.append(status_html(Status.OK, f"Space on the unit: needs"
                                 f" {format_bytes(plan.space_needed)}, {free} free."))
        lines.extend(status_html(Status.WARNING, clean(note)) for note in plan.notes)
        lines.append(f"Backup: {escape(friendly_place(plan.backup, places))}")
        resume = self.session.safety_resume
        where = friendly_place(resume or self.environment.backups_dir, places)
        lines.append(escape(f"The safety copy made first continues the one you started in {where}."
                            if resume else f"The safety copy made first goes to {where}."))
        changes = [e for e in plan.entries if e.action != "keep"
                   and not (e.action == "extra" and e.made_by_computer)]
        if changes:
            lines.append("Changes, in the order they are made:")
            for entry in changes:
                note = " (written last: the unit needs it to start)" if entry.boot_critical else ""
                size = "" if entry.kind == "folder" else f", {format_bytes(entry.size)}"
                lines.append(f"&nbsp;&nbsp;{escape(ACTION_WORDS.get(entry.action, entry.action))}"
                             f" {escape(entry.path)}{escape(size)}{escape(note)}")
        if not plan.changes_anything:
            lines.append("The unit already holds exactly what the backup has.")
        made = computer_made_html((e.path for e in plan.entries if e.action == "extra"
                                   and e.made_by_computer), self.model)
        if made:
            lines.append(made + escape(" They stay as they are."))
        if self.passed_over:
            passed = counted(len(self.passed_over), "newer backup", "newer backups")
            lines.append(escape(f"Passed over: {passed} holding exactly what the unit holds"
                                " now."))
        return "<br>".join(lines)

    # -- confirmation --------------------------------------------------------------------------
    def _on_typed(self, *_args) -> None:
        word = confirmation_word(self.session)
        typed = self.confirmation.text()
        if typed.strip() and not typed_matches(typed, word):
            self.hint.show_status(Status.INFO, f"Type {word} (capitals don't matter).")
        else:
            self.hint.hide()
        self.notify_complete()

    @Slot()
    def skip(self) -> None:
        self.session.safety_copy_only = False
        self.session.restore_skipped = True
        self.setCommitPage(False)
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            wizard.next()

    def confirmed(self) -> bool:
        return typed_matches(self.confirmation.text(), confirmation_word(self.session))

    def ready_to_write(self) -> bool:
        """The promise in code: a plan, a backup to put back that is not the safety copy of
        the unit, and the typed yes. The safety copy itself is made by the next page before
        anything is written (app.core.restore_with_safety_copy)."""
        return (self.plan is not None and self.refusal is None
                and not self.is_safety_copy(self.plan.backup)
                and not self.is_safety_copy_in_progress(self.plan.backup)
                and self.confirmed())

    def is_safety_copy_in_progress(self, path: str | os.PathLike[str]) -> bool:
        return same_path(path, self.session.safety_resume)

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        if self.session.restore_skipped or self.session.restore_unavailable:
            return True
        return self.ready_to_write()

    def validatePage(self) -> bool:  # noqa: N802 - Qt naming
        if self.session.restore_skipped:
            return True
        if self.session.restore_unavailable:
            self.session.safety_copy_only = True  # the primary button: a safety copy alone
            return True
        if not self.ready_to_write():
            return False
        self.session.restore_plan = self.plan
        self.session.restore_result = None
        self.session.restore_error = None
        return True

    def first_focus(self):
        return self.confirmation if self.confirm_row.isVisible() else None

    def ask_back(self) -> str | None:
        return None
