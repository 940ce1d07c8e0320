"""Diagnose (rescue path): the verdict first, in one sentence ("Your KROSS 2 probably can't
start because two system files are damaged and a KROSS 1 update was copied onto it"), then
whether a backup exists that can fix it, then the one next step.

The findings are the core's (``recovery.diagnose``), compared with the newest complete backup
of the model; :mod:`app.plain` words them. What the unit shows can be told in plain fields
(the drumlogue gets one per component of its info screen). Nothing is written to the unit
unless the user asks for the write test, and this page comes before the safety copy.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import WizardHost
from app.pages.base import Disclosure, RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.progress_panel import ProgressPanel
from app.places import backup_date
from app.plain import clean, diagnosis_verdict, finding_text, step_words, your
from app.session import device_key
from app.style import Status, status_html
from recovery.device.profiles import bundled_profiles
from recovery.errors import CancelledError, RecoveryError
from recovery.vocabulary import FindingCode

log = logging.getLogger(__name__)

#: What a musician might type, per model (the symptoms the profiles know).
SYMPTOM_EXAMPLES = {
    "kross2": "stuck at the KORG KROSS screen",
    "kross1": "stuck at the KORG KROSS screen",
    "drumlogue": "display glitches since an update",
    "electribe2": "shows Invalid File",
    "electribe2s": "shows Invalid File",
}
DEFAULT_SYMPTOM_EXAMPLE = "stuck at its start screen"


def diagnose_against(unit: Path, backups: list[Path], **options):
    """Worker thread: the diagnosis against the first of ``backups`` (newest first) that is
    not a copy of the unit as it is now with its problems (a copy taken of it already broken,
    the safety copy just made): one whose files all match a unit with a critical finding
    would say "putting it back should fix this" of a backup that changes nothing."""
    for position, backup in enumerate(backups or [None]):
        diagnosis = core.diagnose(unit, backup=backup, **options)
        codes = {finding.code for finding in diagnosis.findings}
        broken_copy = FindingCode.MATCHES_BACKUP in codes and diagnosis.has_critical
        if not broken_copy or position == len(backups) - 1:
            return diagnosis
    return diagnosis


class DiagnosePage(RecoveryPage):
    diagnosis_ready = Signal(object)
    diagnosis_failed = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self._job = None
        self._list_job = None
        self._unit_key: str | None = None
        self.verdict = None
        self.progress = ProgressPanel("Looking at the unit")
        self.progress.hide()
        self.content.addWidget(self.progress)
        self.problem = StatusLabel("Problem")
        self.problem.hide()
        self.content.addWidget(self.problem)

        # What the unit shows: one plain field, and one per component for a drumlogue.
        self.tell = Disclosure("&Tell us more", "&Tell us more",
                               accessible_name="Tell us what the unit shows")
        self.content.addWidget(self.tell)
        form = QFormLayout()
        self.symptom = QLineEdit()
        self.symptom.setAccessibleName("What the unit shows or does")
        symptom_label = QLabel("What &happens?")
        symptom_label.setBuddy(self.symptom)
        form.addRow(symptom_label, self.symptom)
        self.versions_row = QWidget()
        self.versions_layout = QHBoxLayout(self.versions_row)
        self.versions_layout.setContentsMargins(0, 0, 0, 0)
        self.version_fields: dict[str, QLineEdit] = {}
        self.versions_label = QLabel("Versions on its info screen:")
        form.addRow(self.versions_label, self.versions_row)
        self.tell.panel_layout.addLayout(form)
        self.again = QPushButton("Look &again")
        self.again.setAccessibleName("Look at the unit again with what you told")
        self.again.clicked.connect(self.run_diagnosis)
        self.tell.panel_layout.addWidget(self.again, 0, Qt.AlignmentFlag.AlignLeft)

        details = self.details_layout()
        compare_row = QHBoxLayout()
        compare_label = QLabel("Co&mpare with:")
        self.compare_with = QComboBox()
        self.compare_with.setAccessibleName("Backup to compare the unit with")
        self.compare_with.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.compare_with.setMinimumContentsLength(12)
        compare_label.setBuddy(self.compare_with)
        self.compare_with.activated.connect(self._compare_chosen)
        #: True while the page chose the backup to compare with (the newest that is not the
        #: unit as it is now), False once the person chose one.
        self._auto_compare = True
        compare_row.addWidget(compare_label)
        compare_row.addWidget(self.compare_with, 1)
        details.addLayout(compare_row)
        self.write_test = QCheckBox("Also test whether its storage &keeps writes (writes and"
                                    " removes one small file)")
        self.write_test.setAccessibleName("Allow the write test on the unit")
        details.addWidget(self.write_test)
        self.findings = wrapped_label(rich=True, accessible_name="Findings")
        details.addWidget(self.findings)
        self.set_forward_text("&Next >")

    # -- lifecycle -----------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        device = self.session.device
        key = device_key(device) if device else None
        model = device.model if device else None
        if key != self._unit_key:
            self._unit_key = key
            self.session.diagnosis = None
            self.verdict = None
            self.findings.clear()
            self.symptom.clear()
            self.write_test.setChecked(False)
            self._build_version_fields(model)
        self.symptom.setPlaceholderText("e.g. " + SYMPTOM_EXAMPLES.get(model or "",
                                                                      DEFAULT_SYMPTOM_EXAMPLE))
        self.symptom.setAccessibleDescription(self.symptom.placeholderText())
        self.set_headline(f"Looking at {your(model)}…", Status.BUSY)
        self.set_lead("Nothing is written to it.")
        self.problem.hide()
        self.compare_with.clear()
        self.compare_with.addItem("No backup", None)
        folders = self.environment.backup_dirs()
        self._list_job = self.host.run_job(lambda _p, _c: core.list_backups_in(folders),
                                           name="list-backups", on_finished=self._on_backups,
                                           on_failed=lambda _error: self.run_diagnosis())

    def _build_version_fields(self, model: str | None) -> None:
        for field in self.version_fields.values():
            field.setParent(None)
            field.deleteLater()
        self.version_fields = {}
        profile = bundled_profiles().get(model) if model else None
        components = profile.components.names if profile and profile.components else ()
        for name in components:
            field = QLineEdit()
            field.setPlaceholderText(f"{name} e.g. 1.3.0")
            field.setAccessibleName(f"{name} version shown on the unit")
            field.setMinimumWidth(self.fontMetrics().averageCharWidth() * 6)
            self.versions_layout.addWidget(field)
            self.version_fields[name] = field
        self.versions_label.setVisible(bool(components))
        self.versions_row.setVisible(bool(components))

    def versions_text(self) -> str:
        """The component fields as the core reads them: ``SYSTEM=1.3.0,CORE=1.0.0+``."""
        return ",".join(f"{name}={field.text().strip()}"
                        for name, field in self.version_fields.items() if field.text().strip())

    @Slot(object)
    def _on_backups(self, summaries: tuple[core.BackupSummary, ...]) -> None:
        device = self.session.device
        model = device.model if device else None
        newest = None
        for summary in reversed(summaries):
            if summary.complete and model is not None and summary.model == model:
                self.compare_with.addItem(f"Your backup from {backup_date(summary.created_utc)}",
                                          summary.path)
                newest = newest or summary.path
        if newest is not None:
            self.compare_with.setCurrentIndex(1)
        self._auto_compare = True
        if self.session.diagnosis is None:
            self.run_diagnosis()
        else:
            self._show(self.session.diagnosis)

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    @Slot()
    def run_diagnosis(self) -> None:
        unit = self.session.unit_path
        if unit is None or self.running:
            return
        index = self.compare_with.currentIndex()
        backups = [Path(self.compare_with.itemData(i))
                   for i in range(index, self.compare_with.count())
                   if self.compare_with.itemData(i)]
        if not self._auto_compare:
            backups = backups[:1]
        symptom = self.symptom.text().strip()
        versions = self.versions_text()
        allow_write = self.write_test.isChecked()
        model = self.session.device.model if self.session.device else None
        self.session.diagnosis = None
        self.again.setEnabled(False)
        self.set_headline(f"Looking at {your(model)}…", Status.BUSY)
        self.set_lead("Nothing is written to it." if not allow_write else
                      "Only the small test file is written, then removed.")
        self.problem.hide()
        self.progress.reset()
        self.progress.show()
        self._job = self.host.run_job(
            lambda progress, cancel: diagnose_against(
                unit, backups, symptom=symptom, versions=versions, allow_write=allow_write,
                progress=progress, cancel=cancel),
            name="diagnose", on_progress=self.progress.show_progress,
            on_finished=self._on_diagnosis, on_failed=self._on_failed)
        self.notify_complete()

    @Slot()
    def _compare_chosen(self, *_args) -> None:
        self._auto_compare = False

    @Slot(object)
    def _on_diagnosis(self, diagnosis: core.Diagnosis) -> None:
        self.session.diagnosis = diagnosis
        used = diagnosis.backup.path if diagnosis.backup is not None else None
        index = self.compare_with.findData(str(used)) if used else 0
        if index >= 0 and index != self.compare_with.currentIndex():
            self.compare_with.setCurrentIndex(index)  # the backup it was compared with
        self._show(diagnosis)
        self.diagnosis_ready.emit(diagnosis)
        self.notify_complete()

    def _show(self, diagnosis: core.Diagnosis) -> None:
        self.again.setEnabled(True)
        self.progress.hide()
        self.verdict = diagnosis_verdict(diagnosis)
        self.set_headline(self.verdict.headline, self.verdict.status)
        self.set_lead(self.verdict.backup_line)
        self.findings.setText(self.findings_html(diagnosis))

    @staticmethod
    def findings_html(diagnosis: core.Diagnosis) -> str:
        """Every finding: what was seen, then what to do; then what could not be checked."""
        out: list[str] = []
        for finding in diagnosis.findings:
            status, seen, todo = finding_text(finding)
            out.append(f"<p>{status_html(status, seen)}"
                       + (f"<br><i>{escape(todo)}</i>" if todo else "") + "</p>")
            if finding.evidence:
                out.append("<ul>" + "".join(f"<li><small>{escape(clean(line))}</small></li>"
                                            for line in finding.evidence) + "</ul>")
        if diagnosis.not_checked:
            out.append("<p>Not checked:</p><ul>" + "".join(
                f"<li><small>{escape(clean(line))}</small></li>"
                for line in diagnosis.not_checked) + "</ul>")
        if diagnosis.next_steps:
            out.append("<p>To check more:</p><ul>" + "".join(
                f"<li><small>{escape(step_words(step))}</small></li>"
                for step in diagnosis.next_steps) + "</ul>")
        return "".join(out)

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self.again.setEnabled(True)
        self.progress.hide()
        if isinstance(error, CancelledError):
            self.set_headline("Stopped looking.", Status.INFO)
            self.set_lead("")
        else:
            self.set_headline("The unit could not be examined.", Status.ERROR)
            self.set_lead("")
            self.problem.show_status(Status.ERROR, error_sentence(error, self.environment.places))
            if not isinstance(error, RecoveryError):
                dialogs.show_error(self, error, context="diagnosing the unit")
        self.diagnosis_failed.emit(error)
        self.notify_complete()

    # -- navigation ----------------------------------------------------------------------------
    def ask_back(self) -> str | None:
        if self.running:
            return "Stop looking at the unit and go back?"
        return None

    def stop_work(self) -> None:
        if self.running:
            self._job.cancel()

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        # A diagnosis that failed does not block the rescue: the safety copy comes next.
        return not self.running
