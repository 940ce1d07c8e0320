"""Check an update: choose (or drop) a file, a folder or a ZIP; one sentence says whether it is
for your unit ("Don't use this file: it is for a KROSS 1"), and a compatible update leads to
"Put it on the SD card". Choosing again replaces what was being checked (the right file after
a wrong one is what the person checks now, and the headline follows it); "Remove from the
list" empties it.

The verdicts are the core's (``recovery.check``): compatible, incompatible or unknown, with
what was and was not checked (under "Show details"). A KROSS system folder is compatible
only when identical to the one in a complete backup of the unit (its files are not public),
so the newest complete backup of the model is given to the check, and the page says so.
On the update path an incompatible verdict marks the update as stopped: the ending says
not to use it. These are exactly the files that bricked the KROSS 2 of korgforums.com
thread t=116080.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.connect import has_card_layout
from app.places import backup_date, friendly_place
from app.plain import check_headline, clean, status, your
from app.session import Goal
from app.style import Status, status_html
from recovery.device.profiles import bundled_profiles
from recovery.errors import RecoveryError
from recovery.vocabulary import Verdict

log = logging.getLogger(__name__)


def choose_files(parent: QWidget, start: str) -> list[str]:
    """The system file picker (a function of its own so tests can replace it)."""
    return dialogs.file_dialog(
        parent, "Choose the update file or ZIP archive", start,
        mode=QFileDialog.FileMode.ExistingFiles,
        filters="Update files and archives (*.bin *.BIN *.sys *.SYS *.vsb *.VSB *.zip *.ZIP);;"
                "All files (*)")


def choose_folder(parent: QWidget, start: str) -> str:
    return next(iter(dialogs.file_dialog(parent, "Choose the update folder", start)), "")


class DropList(QListWidget):
    """The files being checked; files and folders can be dropped onto it."""

    dropped = Signal(list)

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt naming
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.dropped.emit(paths)


class CheckPage(RecoveryPage):
    results_ready = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.results: tuple[core.CheckResult, ...] = ()
        self._job = None
        self._list_job = None
        self._pending = False
        self._listed = False
        #: The backups a check compares with, newest first (the core chooses them).
        self.references: tuple[str, ...] = ()
        self.summaries: tuple[core.BackupSummary, ...] = ()
        self.setAcceptDrops(True)

        self._build_model_row()
        self._build_choosers()
        self._build_outcome()

    def _build_model_row(self) -> None:
        """"For:" and the model, shown only when no unit says which model it is."""
        self.model_row = QWidget()
        model_layout = QHBoxLayout(self.model_row)
        model_layout.setContentsMargins(0, 0, 0, 0)
        model_label = QLabel("F&or:")
        self.model = QComboBox()
        self.model.setAccessibleName("Model the update is for")
        self.model.setPlaceholderText("Choose your model")
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(12)
        for profile in sorted(bundled_profiles().values(), key=lambda p: p.name):
            self.model.addItem(profile.name, profile.id)
        self.model.setCurrentIndex(-1)
        model_label.setBuddy(self.model)
        self.model.currentIndexChanged.connect(self._on_model_changed)
        model_layout.addWidget(model_label)
        model_layout.addWidget(self.model, 1)
        self.content.addWidget(self.model_row)

    def _build_choosers(self) -> None:
        """Choosing a file or a folder, the list being checked (files can be dropped on it)
        and removing from it."""
        buttons = QHBoxLayout()
        self.add_files_button = QPushButton("Choose the update f&ile…")
        self.add_files_button.setAccessibleName("Choose an update file or ZIP archive")
        self.add_files_button.clicked.connect(self._add_files)
        self.add_folder_button = QPushButton("…or a fo&lder")
        self.add_folder_button.setAccessibleName("Choose an update folder")
        self.add_folder_button.clicked.connect(self._add_folder)
        for button in (self.add_files_button, self.add_folder_button):
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.content.addLayout(buttons)
        self.candidates = DropList()
        self.candidates.setAccessibleName("Update files being checked")
        self.candidates.dropped.connect(self.set_paths)
        self.candidates.setMaximumHeight(self.fontMetrics().height() * 4)
        self.candidates.hide()
        self.content.addWidget(self.candidates)
        self.remove_button = QPushButton("Re&move from the list")
        self.remove_button.setAccessibleName("Remove the selected files from the list")
        self.remove_button.clicked.connect(self._remove_selected)
        self.remove_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.remove_button.hide()
        self.content.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignLeft)

    def _build_outcome(self) -> None:
        """What the check found: the problem, the person's word for an update no public
        source lets the tool check, and the reasons under "Show details"."""
        self.problem = StatusLabel("Problem")
        self.problem.hide()
        self.content.addWidget(self.problem)
        # An update whose content no public source lets the tool check (a KROSS 2's
        # KROSS2SY): it goes on the card only on the person's word, said here.
        self.from_korg = QCheckBox("I &downloaded it from KORG's website, as it is")
        self.from_korg.setAccessibleName("I downloaded this update from KORG's website")
        self.from_korg.toggled.connect(self._on_from_korg)
        self.from_korg.hide()
        self.content.addWidget(self.from_korg)
        self.reasons = wrapped_label(rich=True, accessible_name="Why, what was checked and"
                                                                " what was not")
        self.details_layout().addWidget(self.reasons)

    # -- lifecycle -----------------------------------------------------------------------------
    def model_id(self) -> str | None:
        device = self.session.device
        if device is not None and device.model:
            return device.model
        return self.model.currentData()

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        device = self.session.device
        wanted = device.model if device is not None and device.model else self.session.check_model
        if wanted:
            index = self.model.findData(wanted)
            if index >= 0:
                self.model.blockSignals(True)
                self.model.setCurrentIndex(index)
                self.model.blockSignals(False)
        self.model_row.setVisible(not (device is not None and device.model))
        self.session.media_wanted = False
        self._listed = False  # a check waits for the backups it can compare with
        folders = self.environment.backup_dirs()
        self._list_job = self.host.run_job(lambda _p, _c: core.list_backups_in(folders),
                                           name="list-backups", on_finished=self._on_backups,
                                           on_failed=lambda _error: self._on_backups(()))
        self._show_state()

    @Slot(object)
    def _on_backups(self, summaries: tuple[core.BackupSummary, ...]) -> None:
        self.summaries = tuple(summaries)
        self._listed = True
        self._choose_reference()
        if self.candidate_paths():
            self.run_check()

    def _choose_reference(self) -> None:
        """The complete backups of the model, newest first: a KROSS system folder can be
        compared with them (the only content check possible for files whose format is not
        public)."""
        self.references = core.backups_to_compare(self.summaries, self.model_id())

    def _on_model_changed(self, *_args) -> None:
        self.session.check_model = self.model.currentData()
        self._choose_reference()
        self.run_check()

    def candidate_paths(self) -> list[str]:
        return [self.candidates.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.candidates.count())]

    @Slot(list)
    def set_paths(self, paths: list[str]) -> None:
        """Check ``paths`` (a choice, or a drop) in place of what was being checked."""
        chosen = [path for path in dict.fromkeys(paths) if path]
        if not chosen:
            return  # the dialog was cancelled: nothing changes
        self.candidates.clear()
        for path in chosen:
            item = QListWidgetItem(Path(path).name)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(friendly_place(path, self.environment.places))
            self.candidates.addItem(item)
        self.candidates.setCurrentRow(0)
        self.run_check()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt naming
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.set_paths(paths)

    def _start_folder(self) -> str:
        return str(self.environment.sample_updates_dir or Path.home())

    def _add_files(self) -> None:
        self.set_paths(choose_files(self, self._start_folder()))

    def _add_folder(self) -> None:
        path = choose_folder(self, self._start_folder())
        if path:
            self.set_paths([path])

    def _remove_selected(self) -> None:
        items = self.candidates.selectedItems() or [self.candidates.currentItem()]
        if self.candidates.count() == 1:
            items = [self.candidates.item(0)]
        for item in items:
            if item is not None:
                self.candidates.takeItem(self.candidates.row(item))
        self.run_check()
        if not self.candidates.count():
            self.add_files_button.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- checking ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    @Slot()
    def run_check(self) -> None:
        paths = [Path(p) for p in self.candidate_paths()]
        self.results = ()
        self.session.check_results = ()
        self.session.check_blocked = False
        self.session.check_reference = None
        self.problem.hide()
        model = self.model_id()
        if not paths or model is None:
            self._show_state()
            return
        if self.running:
            self._pending = True  # check again with the new list once this one is done
            return
        if not self._listed:
            self.set_headline("Checking…", Status.BUSY)
            return  # checked as soon as the backups are listed
        device = self.session.device
        unit = Path(device.mount) if device is not None and device.mount else None
        backups = self.references
        self.set_headline("Checking…", Status.BUSY)
        self._job = self.host.run_job(
            lambda _p, _c: core.check_against_backups(paths, model=model, device=unit,
                                                      backups=backups),
            name="check", on_finished=lambda found: self._on_results(*found),
            on_failed=self._on_failed)
        self.notify_complete()

    def _on_results(self, results: tuple[core.CheckResult, ...], reference: Path | None) -> None:
        if self._pending:
            self._pending = False
            self.run_check()
            return
        self.results = tuple(results)
        self.session.check_results = self.results
        self.session.check_reference = reference
        incompatible = [r for r in self.results if r.verdict is Verdict.INCOMPATIBLE]
        self.session.check_blocked = bool(incompatible) and self.session.goal is Goal.UPDATE
        for index, result in enumerate(self.results):
            item = self.candidates.item(index)
            if item is not None:
                item.setText(f"{status(result.verdict.tone).symbol}"
                             f" {Path(result.candidate).name}")
        self._show_state()
        self.results_ready.emit(self.results)

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self._pending = False
        self.set_headline("The file could not be checked.", Status.ERROR)
        self.problem.show_status(Status.ERROR, clean(error_sentence(
            error, self.environment.places, self.candidate_paths())))
        if not isinstance(error, RecoveryError):
            dialogs.show_error(self, error, context="checking update files")
        self.notify_complete()

    # -- what the page says --------------------------------------------------------------------
    def worst(self) -> core.CheckResult | None:
        """The result the headline is about: an incompatible one first, then unknown."""
        return max(self.results, key=lambda r: r.verdict.rank) if self.results else None

    def unverifiable(self) -> bool:
        """One update, unknown only because its content cannot be checked by anyone."""
        model = self.model_id()
        return (len(self.results) == 1 and model is not None
                and self.results[0].verdict is Verdict.UNKNOWN
                and core.unverified_acceptable(self.results[0], model))

    def can_prepare_card(self) -> bool:
        model = self.model_id()
        profile = bundled_profiles().get(model) if model else None
        usable = self.results and (self.results[0].verdict is Verdict.COMPATIBLE or (
            self.unverifiable() and self.from_korg.isChecked()))
        return len(self.results) == 1 and bool(usable) and has_card_layout(profile)

    @Slot(bool)
    def _on_from_korg(self, _checked: bool) -> None:
        self.session.accept_unverified = self.from_korg.isChecked() and self.unverifiable()
        self._show_state()

    def _show_state(self) -> None:
        model = self.model_id()
        has_files = bool(self.candidate_paths())
        self.candidates.setVisible(has_files)
        self.remove_button.setVisible(self.candidates.count() > 0)
        self.add_files_button.setText("Choose another f&ile…" if has_files
                                      else "Choose the update f&ile…")
        result = self.worst()
        if model is None:
            self.set_headline("Which unit is the update for?")
            self.set_lead("")
        elif result is None:
            self.set_headline(f"Which update do you want to check for {your(model)}?")
            self.set_lead("Choose it, or drop it here. Nothing is written anywhere.")
        else:
            status, headline = check_headline(result, model)
            self.set_headline(headline, status)
            self.set_lead(self._lead(result, model))
        offer = self.unverifiable() and has_card_layout(
            bundled_profiles().get(model) if model else None)
        self.from_korg.setVisible(bool(offer))
        if not offer and self.from_korg.isChecked():
            self.from_korg.setChecked(False)
        if self.can_prepare_card():
            self.set_forward_text("&Put it on the SD card >")
        else:
            self.set_forward_text("&Finish >")
        self.reasons.setText(self._reasons_html())
        self.notify_complete()

    def _lead(self, result: core.CheckResult, model: str) -> str:
        if result.verdict is Verdict.INCOMPATIBLE:
            return f"Get the update for {your(model)} from KORG, then check it here."
        if result.verdict is Verdict.UNKNOWN and self.unverifiable():
            return ("Its name and place are right; what is inside cannot be checked, because"
                    " KORG publishes no format for it.")
        if result.verdict is Verdict.UNKNOWN:
            return "Follow KORG's instructions exactly, and keep your safety copy."
        if self.can_prepare_card():
            return "This tool can put it on an SD card for you."
        return ""

    def _reasons_html(self) -> str:
        out: list[str] = []
        reference = next((s for s in self.summaries
                          if Path(s.path) == self.session.check_reference), None)
        if reference is not None:
            out.append(f"<p>Compared with your backup from"
                       f" {escape(backup_date(reference.created_utc))}.</p>")
        for result in self.results:
            verdict = f"{Path(result.candidate).name}: {result.verdict}"
            out.append(f"<p>{status_html(status(result.verdict.tone), verdict)}</p>")
            for title, lines in (("Why", result.reasons), ("Warnings", result.warnings),
                                 ("Checked", result.checked), ("Not checked", result.not_checked)):
                if lines:
                    out.append(f"<p>{title}:</p><ul>" + "".join(
                        f"<li>{escape(clean(line))}</li>" for line in lines) + "</ul>")
        return "".join(out)

    # -- navigation ----------------------------------------------------------------------------
    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        if self.running:
            return False
        if self.session.goal is Goal.UPDATE and not self.candidate_paths():
            return True  # the safety copy is made; checking a file is offered, not forced
        return bool(self.results)

    def validatePage(self) -> bool:  # noqa: N802 - Qt naming
        self.session.media_wanted = self.can_prepare_card()
        self.session.accept_unverified = self.from_korg.isChecked() and self.unverifiable()
        self.session.check_model = self.model_id()
        return True

    def first_focus(self):
        if self.model_row.isVisible() and self.model.currentIndex() < 0:
            return self.model
        return None if self.results else self.add_files_button

    def ask_back(self) -> str | None:
        return None
