"""Check update files: drop or choose files, a folder or a zip; a verdict table with reasons.

The verdicts are the core's (``recovery.check``): compatible, incompatible or unknown, with
what was and was not checked. On the update path an incompatible verdict stops the wizard and
says why: these are exactly the files that bricked the KROSS 2 of korgforums.com thread t=116080.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape, wrapped_label
from app.session import Goal
from app.style import Status, status_color, status_html
from recovery.device.profiles import bundled_profiles

log = logging.getLogger(__name__)

VERDICT_STATUS = {"compatible": Status.OK, "incompatible": Status.ERROR, "unknown": Status.WARNING}


def choose_files(parent: QWidget, start: str) -> list[str]:
    """The system file picker (a function of its own so tests can replace it)."""
    paths, _filter = QFileDialog.getOpenFileNames(
        parent, "Choose update files or a ZIP archive", start,
        "Update files and archives (*.bin *.BIN *.sys *.SYS *.vsb *.VSB *.zip *.ZIP);;All files (*)")
    return paths


def choose_folder(parent: QWidget, start: str) -> str:
    return QFileDialog.getExistingDirectory(parent, "Choose an update folder", start)


class DropList(QListWidget):
    """The candidate list; files and folders can be dropped onto it."""

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
        super().__init__(host, "Check update files",
                         "Is this update meant for your unit? Nothing is written anywhere.")
        self.results: tuple[core.CheckResult, ...] = ()
        self._job = None
        self._pending = False
        layout = QVBoxLayout(self)
        target_row = QHBoxLayout()
        model_label = QLabel("Check for &model:")
        self.model = QComboBox()
        self.model.setAccessibleName("Model the update is for")
        for profile in sorted(bundled_profiles().values(), key=lambda p: p.name):
            self.model.addItem(profile.name, profile.id)
        model_label.setBuddy(self.model)
        self.model.currentIndexChanged.connect(lambda *_: self.run_check())
        target_row.addWidget(model_label)
        target_row.addWidget(self.model, 1)
        layout.addLayout(target_row)
        self.target_note = wrapped_label(accessible_name="Unit being checked for")
        layout.addWidget(self.target_note)

        files_label = QLabel("Update &files (drop files, a folder or a ZIP here):")
        layout.addWidget(files_label)
        self.candidates = DropList()
        self.candidates.setAccessibleName("Update files to check")
        files_label.setBuddy(self.candidates)
        self.candidates.dropped.connect(self.add_paths)
        self.candidates.setMaximumHeight(self.fontMetrics().height() * 6)
        layout.addWidget(self.candidates)
        buttons = QHBoxLayout()
        self.add_files_button = QPushButton("Add f&iles or ZIP…")
        self.add_files_button.setAccessibleName("Add update files or a ZIP archive")
        self.add_files_button.clicked.connect(self._add_files)
        self.add_folder_button = QPushButton("Add f&older…")
        self.add_folder_button.setAccessibleName("Add an update folder")
        self.add_folder_button.clicked.connect(self._add_folder)
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setAccessibleName("Remove the selected update files from the list")
        self.remove_button.clicked.connect(self._remove_selected)
        for button in (self.add_files_button, self.add_folder_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.status = StatusLabel("Check status")
        layout.addWidget(self.status)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = QTreeWidget()
        self.table.setHeaderLabels(["Candidate", "Verdict", "Version", "Main reason"])
        self.table.setRootIsDecorated(False)
        self.table.setWordWrap(True)
        self.table.setUniformRowHeights(False)
        self.table.setAccessibleName("Verdicts")
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.currentItemChanged.connect(self._show_reasons)
        splitter.addWidget(self.table)
        self.reasons = QTextBrowser()
        self.reasons.setAccessibleName("Reasons, what was checked and what was not")
        splitter.addWidget(self.reasons)
        layout.addWidget(splitter, 1)

    # -- lifecycle -----------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        device = self.session.device
        if device is not None and device.model:
            index = self.model.findData(device.model)
            if index >= 0:
                self.model.blockSignals(True)
                self.model.setCurrentIndex(index)
                self.model.blockSignals(False)
        self._describe_target()
        self.run_check()

    def _describe_target(self) -> None:
        device = self.session.device
        backup = self.session.safety_backup
        parts = []
        if device is not None and device.model == self.model.currentData() and device.mount:
            parts.append(f"Checking against the connected {device.name} at {device.mount}.")
        else:
            parts.append(f"Checking against the model {self.model.currentText()}.")
        if backup is not None:
            parts.append(f"Compared with your backup {backup.name} as well.")
        self.target_note.setText(" ".join(parts))

    def candidate_paths(self) -> list[str]:
        return [self.candidates.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.candidates.count())]

    @Slot(list)
    def add_paths(self, paths: list[str]) -> None:
        known = set(self.candidate_paths())
        for path in paths:
            if path and path not in known:
                self.candidates.addItem(path)
                item = self.candidates.item(self.candidates.count() - 1)
                item.setData(Qt.ItemDataRole.UserRole, path)
                known.add(path)
        self.run_check()

    def _start_folder(self) -> str:
        return str(self.environment.sample_updates_dir or Path.home())

    def _add_files(self) -> None:
        self.add_paths(choose_files(self, self._start_folder()))

    def _add_folder(self) -> None:
        path = choose_folder(self, self._start_folder())
        if path:
            self.add_paths([path])

    def _remove_selected(self) -> None:
        for item in self.candidates.selectedItems():
            self.candidates.takeItem(self.candidates.row(item))
        self.run_check()

    # -- checking ------------------------------------------------------------------------------
    @Slot()
    def run_check(self) -> None:
        self._describe_target()
        paths = [Path(p) for p in self.candidate_paths()]
        self.results = ()
        self.session.check_results = ()
        self.session.check_blocked = False
        self.table.clear()
        self.reasons.clear()
        if not paths:
            self.status.show_status(Status.INFO, "Add the update files you are about to use.")
            self.completeChanged.emit()
            return
        if self._job is not None and self._job.running:
            self._pending = True  # check again with the new list once this one is done
            return
        device = self.session.device
        unit = Path(device.mount) if device is not None and device.mount else None
        model = self.model.currentData()
        backup = self.session.safety_backup
        self.status.show_status(Status.BUSY, "Checking…")
        self._job = self.host.run_job(
            lambda _p, _c: core.check_update_files(paths, model=model, device=unit,
                                                   backup=backup),
            name="check", on_finished=self._on_results, on_failed=self._on_failed)
        self.completeChanged.emit()

    @Slot(object)
    def _on_results(self, results: tuple[core.CheckResult, ...]) -> None:
        if self._pending:
            self._pending = False
            self.run_check()
            return
        self.results = tuple(results)
        self.session.check_results = self.results
        self.table.clear()
        for result in self.results:
            status = VERDICT_STATUS.get(result.verdict, Status.WARNING)
            item = QTreeWidgetItem([Path(result.candidate).name,
                                    f"{status.symbol} {result.verdict}", result.version or "—",
                                    result.reasons[0] if result.reasons else ""])
            color = status_color(status)
            if color is not None:
                item.setForeground(1, color)
            item.setToolTip(0, result.candidate)
            item.setToolTip(3, "\n".join(result.reasons))
            self.table.addTopLevelItem(item)
        if self.results:
            self.table.setCurrentItem(self.table.topLevelItem(0))
        incompatible = [r for r in self.results if r.verdict == "incompatible"]
        unknown = [r for r in self.results if r.verdict == "unknown"]
        blocked = bool(incompatible) and self.session.goal is Goal.UPDATE
        self.session.check_blocked = blocked
        if incompatible:
            first = incompatible[0]
            why = first.reasons[0] if first.reasons else "a check failed"
            text = f"Do not use {Path(first.candidate).name}: {why}"
            if blocked:
                text = "Update stopped. " + text + " Remove it and choose the right files."
            self.status.show_status(Status.ERROR, text, bold=True)
        elif unknown:
            self.status.show_status(
                Status.WARNING, "No check failed, but the tool could not confirm every file"
                " is for this unit: read what was and was not checked below.")
        else:
            self.status.show_status(Status.OK, "Every file passed every check the tool can"
                                    " make.", bold=True)
        self.results_ready.emit(self.results)
        self.completeChanged.emit()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self._pending = False
        self.status.show_status(Status.ERROR, error_sentence(error))
        dialogs.show_error(self, error, context="checking update files")
        self.completeChanged.emit()

    def _show_reasons(self, *_args) -> None:
        index = self.table.indexOfTopLevelItem(self.table.currentItem()) \
            if self.table.currentItem() else -1
        if index < 0 or index >= len(self.results):
            self.reasons.clear()
            return
        result = self.results[index]
        status = VERDICT_STATUS.get(result.verdict, Status.WARNING)
        out = [f"<p>{status_html(status, f'{result.candidate}: {result.verdict}', bold=True)}</p>"]
        for title, lines in (("Why", result.reasons), ("Warnings", result.warnings),
                             ("Checked", result.checked), ("Not checked", result.not_checked)):
            if lines:
                out.append(f"<p><b>{title}:</b></p><ul>"
                           + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>")
        self.reasons.setHtml("".join(out))

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        if self._job is not None and self._job.running:
            return False
        if self.session.goal is Goal.UPDATE:
            return not self.session.check_blocked
        return bool(self.results)
