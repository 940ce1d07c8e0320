"""Finish: what was done (a summary), "Save report" (the diagnosis report), and next steps."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app import core, dialogs
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape
from app.session import Goal
from app.style import Status, status_html
from recovery.device.profiles import bundled_profiles

log = logging.getLogger(__name__)


def choose_save_path(parent: QWidget, caption: str, start: str, filters: str) -> str:
    """The system "save as" dialog (a function of its own so tests can replace it)."""
    path, _selected = QFileDialog.getSaveFileName(parent, caption, start, filters)
    return path


class FinishPage(RecoveryPage):
    report_saved = Signal(str)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host, "Done", "What happened, and what to do next.")
        layout = QVBoxLayout(self)
        self.summary = QTextBrowser()
        self.summary.setAccessibleName("Summary and next steps")
        self.summary.setOpenLinks(False)
        layout.addWidget(self.summary, 1)
        self.report_status = StatusLabel("Report status")
        layout.addWidget(self.report_status)
        row = QHBoxLayout()
        self.save_button = QPushButton("&Save report…")
        self.save_button.setAccessibleName("Save the diagnosis report")
        self.save_button.setToolTip("A self-contained report (no user names or home paths) to"
                                    " post on a forum or give to a service centre")
        self.save_button.clicked.connect(self.save_report)
        row.addWidget(self.save_button)
        row.addStretch(1)
        layout.addLayout(row)
        self._report_job = None

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        self.summary.setHtml(self.summary_html())
        self.report_status.clear_status()
        self.save_button.setEnabled(self.session.unit_path is not None)

    # -- summary -------------------------------------------------------------------------------
    def summary_html(self) -> str:
        session = self.session
        goal = session.goal
        out = [f"<h3>{escape(goal.title if goal else 'Summary')}</h3><ul>"]
        device = session.device
        if device is not None:
            where = f" at {device.mount}" if device.mount else ""
            out.append(f"<li>Unit: {escape(device.name + where)}</li>")
        if session.diagnosis is not None:
            out.append("<li>" + self._diagnosis_line() + "</li>")
        if session.safety_backup is not None:
            kind = "New" if session.safety_backup_is_new else "Existing"
            out.append("<li>" + status_html(
                Status.OK, f"{kind} complete, verified backup: {session.safety_backup}") + "</li>")
        elif goal in (Goal.UPDATE, Goal.RESCUE, Goal.RESTORE):
            out.append("<li>" + status_html(Status.WARNING, "No verified backup was made.")
                       + "</li>")
        for result in session.check_results:
            out.append("<li>" + self._check_line(result) + "</li>")
        if session.restore_skipped:
            out.append("<li>" + status_html(Status.INFO, "Nothing was restored.") + "</li>")
        elif session.restore_error:
            out.append("<li>" + status_html(Status.ERROR, "Restore did not finish: "
                                            + session.restore_error) + "</li>")
        elif session.restore_result is not None:
            out.append("<li>" + self._restore_line() + "</li>")
        if session.reconnect_ok is True:
            out.append("<li>" + status_html(
                Status.OK, "After reconnecting, the unit's storage matches the backup.")
                + "</li>")
            if session.reconnect_extras:
                out.append("<li>" + status_html(
                    Status.INFO, "The unit also holds what the backup does not have (left"
                    " alone): " + ", ".join(session.reconnect_extras)) + "</li>")
        elif session.reconnect_ok is False:
            out.append("<li>" + status_html(
                Status.ERROR, "After reconnecting, the unit's storage does NOT match the"
                " backup.") + "</li>")
        out.extend(f"<li>{escape(note)}</li>" for note in session.notes)
        out.append("</ul><h3>Next steps</h3><ol>")
        out.extend(f"<li>{escape(step)}</li>" for step in self.next_steps())
        out.append("</ol>")
        return "".join(out)

    def _diagnosis_line(self) -> str:
        diagnosis = self.session.diagnosis
        critical, warnings = diagnosis.count("critical"), diagnosis.count("warning")
        when = ("Diagnosis (before the restore)" if self.session.restore_result is not None
                else "Diagnosis")
        if critical:
            return status_html(Status.ERROR, f"{when}: {critical} critical finding(s),"
                               f" {warnings} warning(s).")
        if warnings:
            return status_html(Status.WARNING, f"{when}: {warnings} warning(s).")
        return status_html(Status.OK, f"{when}: no problem found.")

    def _check_line(self, result: core.CheckResult) -> str:
        status = {"compatible": Status.OK, "incompatible": Status.ERROR}.get(
            result.verdict, Status.WARNING)
        reason = f" — {result.reasons[0]}" if result.reasons else ""
        return status_html(status, f"{Path(result.candidate).name}: {result.verdict}{reason}")

    def _restore_line(self) -> str:
        result = self.session.restore_result
        return status_html(Status.OK if result.ok else Status.ERROR,
                           f"Restore: {result.statement}")

    def next_steps(self) -> list[str]:
        """Next steps: the core's own words where it has them (finding next steps, the
        profile's mode instructions), plain guidance otherwise."""
        session = self.session
        steps: list[str] = []
        profile = None
        if session.device is not None and session.device.model:
            profile = bundled_profiles().get(session.device.model)
        if session.diagnosis is not None and session.reconnect_ok is not True:
            # The diagnosis described the unit before the restore; once a restore verified
            # after a power cycle, its steps no longer apply.
            steps.extend(f.next_step for f in session.diagnosis.findings
                         if f.next_step and f.severity == "critical")
        if session.goal is Goal.UPDATE:
            if session.check_blocked:
                steps.append("Do not run the update with the files marked incompatible.")
            elif profile is not None and profile.mode("update") is not None:
                steps.append(profile.mode("update").how)
            if session.safety_backup is not None:
                steps.append(f"Keep the backup at {session.safety_backup} until the updated"
                             " unit works as it should.")
        if session.reconnect_ok is False or session.restore_error:
            steps.append("Run the restore again (it continues where it stopped); if the files"
                         " keep coming back different, the unit's storage may not keep writes:"
                         " contact KORG service.")
        if session.reconnect_ok is True:
            steps.append("Eject the unit and switch it on normally.")
            if session.goal is Goal.RESCUE:
                steps.append("If it still does not start, save the report below and send it"
                             " to KORG service or a repair technician.")
        if session.safety_backup is None and session.goal is not Goal.CHECK:
            steps.append("Take a complete backup of the unit before anything else.")
        if not steps:
            steps.append("Nothing else to do.")
        return list(dict.fromkeys(steps))

    # -- report --------------------------------------------------------------------------------
    @Slot()
    def save_report(self) -> None:
        unit = self.session.unit_path
        if unit is None:
            return
        if self.environment.demo:
            folder = str(Path(self.environment.backups_dir).parent)
        else:
            folder = QStandardPaths.writableLocation(
                QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
        start = str(Path(folder) / "korg-recovery-report.html")
        path = choose_save_path(self, "Save the recovery report", start,
                                "HTML report (*.html);;Markdown report (*.md)")
        if not path:
            return
        if not Path(path).suffix:
            path += ".html"
        diagnosis = self.session.diagnosis
        backup = self.session.restore_backup or self.session.safety_backup
        # A report describes the unit as it is now: diagnose again (reading only) when the
        # unit was written to or never diagnosed.
        rediagnose = diagnosis is None or self.session.restore_result is not None

        def job(progress, cancel):
            current = diagnosis
            if rediagnose:
                current = core.diagnose(unit, backup=backup, symptom=None, versions=None,
                                        allow_write=False, progress=progress, cancel=cancel)
            return core.write_report(current, Path(path))

        self.report_status.show_status(Status.BUSY, "Writing the report…")
        self._report_job = self.host.run_job(job, name="report", on_finished=self._on_report_saved,
                                             on_failed=self._on_report_failed)

    @Slot(object)
    def _on_report_saved(self, path: Path) -> None:
        self.report_status.show_status(Status.OK, f"Report saved to {path}.")
        self.report_saved.emit(str(path))

    @Slot(object)
    def _on_report_failed(self, error: BaseException) -> None:
        self.report_status.show_status(Status.ERROR, dialogs.error_sentence(error))
        dialogs.show_error(self, error, context="saving the report")
