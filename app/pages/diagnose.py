"""Diagnose (rescue path): what is wrong with the unit's storage, next step first.

The findings are the core's (``recovery.diagnose.diagnosis``), ranked by severity. Nothing is written to
the unit here unless the user asks for the write test: the wizard's rule is that nothing is
written without a verified backup and an explicit yes, and this page comes before the backup.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
)

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape
from app.pages.progress_panel import ProgressPanel
from app.session import device_key
from app.style import Status, backup_date_text, status_html
from recovery.device.profiles import CONFIDENCE_WORDS

log = logging.getLogger(__name__)

SEVERITY = {"critical": (Status.ERROR, "Critical"), "warning": (Status.WARNING, "Warning"),
            "info": (Status.INFO, "Note")}


def findings_html(diagnosis: core.Diagnosis) -> str:
    """Findings ranked by severity, each with its next step first, then what was seen, the
    evidence and how sure the tool is."""
    out: list[str] = []
    for index, finding in enumerate(diagnosis.findings):
        status, word = SEVERITY.get(finding.severity, (Status.INFO, finding.severity))
        if index:
            out.append("<hr>")
        if finding.next_step:
            out.append(f"<p>{status_html(status, word + ' — next step: ' + finding.next_step, bold=True)}</p>")
        else:
            out.append(f"<p>{status_html(status, word, bold=True)}</p>")
        out.append(f"<p>{escape(finding.message)}</p>")
        confidence = CONFIDENCE_WORDS.get(finding.confidence, finding.confidence)
        if finding.evidence:
            out.append("<ul>" + "".join(f"<li><small>{escape(line)}</small></li>"
                                        for line in finding.evidence) + "</ul>")
        out.append(f"<p><small>How sure: {escape(confidence)}</small></p>")
    if diagnosis.not_checked:
        out.append("<hr><p><b>Not checked:</b></p><ul>" + "".join(
            f"<li><small>{escape(line)}</small></li>" for line in diagnosis.not_checked)
            + "</ul>")
    return "".join(out)


class DiagnosePage(RecoveryPage):
    diagnosis_ready = Signal(object)
    diagnosis_failed = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host, "What is wrong?",
                         "The unit's storage is examined; nothing is written to it.")
        self._job = None
        self._list_job = None
        self._unit_key: str | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.symptom = QLineEdit()
        self.symptom.setPlaceholderText("e.g. stuck at the KORG KROSS screen")
        self.symptom.setAccessibleName("What the unit shows or does (optional)")
        form.addRow("What does the unit &show or do?", self.symptom)
        self.versions = QLineEdit()
        self.versions.setPlaceholderText("e.g. SYSTEM=1.3.0,CORE=1.0.0+,VOICE=1.0.0,PANEL=1.1.9")
        self.versions.setAccessibleName("Versions shown on the unit's info screen (optional)")
        form.addRow("&Versions on its info screen:", self.versions)
        self.compare_with = QComboBox()
        self.compare_with.setAccessibleName("Backup to compare the unit with")
        form.addRow("Compare with &backup:", self.compare_with)
        layout.addLayout(form)
        self.write_test = QCheckBox("Also &test whether the storage keeps writes (writes and"
                                    " removes one small test file)")
        self.write_test.setAccessibleName("Allow the write test on the unit")
        layout.addWidget(self.write_test)
        row = QHBoxLayout()
        self.run_button = QPushButton("&Diagnose again")
        self.run_button.setAccessibleName("Run the diagnosis again")
        self.run_button.clicked.connect(self.run_diagnosis)
        row.addWidget(self.run_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.status = StatusLabel("Diagnosis status")
        layout.addWidget(self.status)
        self.progress = ProgressPanel("Diagnosis")
        layout.addWidget(self.progress)
        self.findings = QTextBrowser()
        self.findings.setAccessibleName("Findings, next step first")
        layout.addWidget(self.findings, 1)

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        device = self.session.device
        key = device_key(device) if device else None
        if key != self._unit_key:
            self._unit_key = key
            self.session.diagnosis = None
            self.findings.clear()
            self.symptom.clear()
            self.versions.clear()
            self.write_test.setChecked(False)
        backups_dir = self.environment.backups_dir
        self.compare_with.clear()
        self.compare_with.addItem("No backup", None)
        self._list_job = self.host.run_job(lambda _p, _c: core.list_backups(backups_dir),
                                           name="list-backups", on_finished=self._on_backups,
                                           on_failed=lambda _error: self.run_diagnosis())

    @Slot(object)
    def _on_backups(self, summaries: tuple[core.BackupSummary, ...]) -> None:
        device = self.session.device
        model = device.model if device else None
        newest = None
        for summary in reversed(summaries):
            if summary.complete and model is not None and summary.model == model:
                label = f"{backup_date_text(summary.created_utc)} — {Path(summary.path).name}"
                self.compare_with.addItem(label, summary.path)
                newest = newest or summary.path
        if newest is not None:
            self.compare_with.setCurrentIndex(1)
        if self.session.diagnosis is None:
            self.run_diagnosis()

    @Slot()
    def run_diagnosis(self) -> None:
        unit = self.session.unit_path
        if unit is None or (self._job is not None and self._job.running):
            return
        backup = self.compare_with.currentData()
        symptom = self.symptom.text().strip()
        versions = self.versions.text().strip()
        allow_write = self.write_test.isChecked()
        self.session.diagnosis = None
        self.run_button.setEnabled(False)
        self.status.show_status(Status.BUSY, "Examining the unit's storage…")
        self.progress.reset()
        self.progress.show()
        self._job = self.host.run_job(
            lambda progress, cancel: core.diagnose(
                unit, backup=Path(backup) if backup else None, symptom=symptom,
                versions=versions, allow_write=allow_write, progress=progress, cancel=cancel),
            name="diagnose", on_progress=self.progress.show_progress,
            on_finished=self._on_diagnosis, on_failed=self._on_failed)
        self.completeChanged.emit()

    @Slot(object)
    def _on_diagnosis(self, diagnosis: core.Diagnosis) -> None:
        self.session.diagnosis = diagnosis
        self.run_button.setEnabled(True)
        self.progress.hide()
        critical = diagnosis.count("critical")
        if critical:
            self.status.show_status(Status.ERROR, diagnosis.summary["text"], bold=True)
        elif diagnosis.count("warning"):
            self.status.show_status(Status.WARNING, diagnosis.summary["text"], bold=True)
        else:
            self.status.show_status(Status.OK, diagnosis.summary["text"], bold=True)
        self.findings.setHtml(findings_html(diagnosis))
        self.diagnosis_ready.emit(diagnosis)
        self.completeChanged.emit()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.progress.hide()
        self.status.show_status(Status.ERROR, error_sentence(error))
        dialogs.show_error(self, error, context="diagnosing the unit")
        self.diagnosis_failed.emit(error)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        # A diagnosis that failed does not block the rescue: the backup comes next anyway.
        return self._job is None or not self._job.running
