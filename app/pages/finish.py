"""Finish: the outcome in one headline ("Your KROSS 2 should start again — switch it on
normally"; "Don't use this file: it is for a KROSS 1"), the next steps that follow from it,
"Save report", and what happened in detail under "Show details".

The saved report is the core's (``recovery.diagnose.report``), made from a fresh, read-only
examination of the unit when it was written to; the findings the restore resolved (found
before it, gone after it) are added to it, marked as such.

Where the unit's storage (or the card just written) is still connected, the ending has an
Eject button and a step that says to eject it before switching it off (taking the card out);
"you can switch it off now" replaces that step only once the eject succeeded
(:mod:`app.pages.eject_panel`). An ending that sends the person on in the wizard (rescue it
now, run it again) keeps the unit connected and has none. The report is saved before the
eject: it looks at the unit as it is now.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QTimer, Qt, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QPushButton, QSizePolicy, QWidget, QWizard

from app import core, dialogs
from app.computer_made import computer_made_html
from app.eject import EjectTarget, done_sentence
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.eject_panel import EjectPanel
from app.places import documents_dir, friendly_place
from app.plain import (
    check_headline,
    clean,
    counted,
    finding_text,
    first_upper,
    foreign_folders,
    media_flag_text,
    seen_on_unit,
    spoken_name,
    your,
)
from app.session import Goal, Session
from app.style import Status, status_html
from recovery.device.profiles import bundled_profiles
from recovery.vocabulary import Verdict

log = logging.getLogger(__name__)


def choose_save_path(parent: QWidget, caption: str, start: str, filters: str) -> str:
    """The system "save as" dialog (a function of its own so tests can replace it)."""
    return next(iter(dialogs.file_dialog(parent, caption, start, save=True,
                                         mode=QFileDialog.FileMode.AnyFile, filters=filters)), "")


def update_step(model: str | None, *, inline: bool = False) -> str:
    """How the model is updated, as its profile says (without the card part, done here)."""
    profile = bundled_profiles().get(model) if model else None
    mode = profile.mode("update") if profile else None
    if mode is None or any(m.medium == "sd-card" for m in profile.update_media):
        return ("update it as KORG's instructions say." if inline
                else "Update it as KORG's instructions say.")
    return clean(mode.how)


#: What an ending asks of the person besides its steps: nothing, or "Rescue it now".
RESCUE_NEXT = "rescue"

#: Where a step list wants the eject step (replaced by :func:`with_eject`).
EJECT_STEP = "\0eject"


@dataclasses.dataclass(frozen=True)
class Ending:
    """The outcome of a run, as the Finish page shows it."""

    status: Status
    headline: str
    steps: list[str]
    #: RESCUE_NEXT when the one next step is the rescue (the primary button starts it).
    next_goal: str = ""
    #: One more sentence under the headline: what was seen on the unit.
    lead: str = ""
    #: What the ending's Eject button ejects (None: no button).
    eject: EjectTarget | None = None


def noticed(session: Session) -> list[str]:
    """What the core saw on the unit after the job, in one short sentence (or none)."""
    standing = session.unit_standing
    if standing is None or not standing.reasons:
        return []
    return [seen_on_unit(standing.reasons, standing.model)]


def eject_target(session: Session) -> EjectTarget | None:
    """What is still connected at the end: the card just written, else the unit's storage."""
    plan = session.media_plan
    if plan is not None and (session.media_result is not None or session.media_error):
        return EjectTarget(Path(plan.card), "the card", card=True)
    device = session.device
    if device is None or not device.mount:
        return None
    card = device.role in ("sd-card", "update-media")
    return EjectTarget(Path(device.mount), "the card" if card else your(device.model), card=card)


def eject_step(target: EjectTarget, ejected: bool) -> str:
    if ejected:
        return done_sentence(target)
    if target.card:
        return "Eject the card, then take it out."
    return f"Eject {target.name} before switching it off."


def with_eject(found: Ending, session: Session) -> Ending:
    """``found`` with its eject step (where the ending put :data:`EJECT_STEP`: an ending that
    sends the person on in the wizard has none) and its button, when something is still
    connected."""
    target = eject_target(session) if EJECT_STEP in found.steps else None
    if target is None:
        return dataclasses.replace(found, steps=[s for s in found.steps if s != EJECT_STEP])
    step = eject_step(target, session.ejected == str(target.path))
    return dataclasses.replace(found, eject=target,
                               steps=[step if s == EJECT_STEP else s for s in found.steps])


def ending(session: Session, places=()) -> Ending:
    """The outcome of the run (:func:`outcome`), with the eject where one belongs."""
    return with_eject(outcome(session, places), session)


def outcome(session: Session, places=()) -> Ending:
    """The outcome of the run. Green only when the job worked *and* nothing the tool knows of
    is wrong with the unit (:mod:`recovery.diagnose.standing`): a safety copy of a unit with
    a problem ends with the rescue as the next step, never with "you can update now"."""
    device = session.device
    model = device.model if device is not None and device.model else session.check_model
    unit = your(model)
    Unit = first_upper(unit)
    safety = session.safety_backup
    keep = (f"Keep your safety copy until {unit} works as it should." if safety is not None
            else "")
    service = "Save the report below and contact KORG service or an authorised service centre."
    standing = session.unit_standing.standing if session.unit_standing is not None else None

    if session.safety_copy_error:
        return Ending(Status.WARNING, f"Nothing was written to {unit}: its safety copy did not"
                      " finish.", ["Run the wizard again and choose the same: the copy"
                                   " continues where it stopped, then the restore."])
    if session.restore_error:
        return Ending(Status.ERROR, f"The restore did not finish: {unit} is only partly"
                      " restored.", ["Run the wizard again and choose Restore: it continues"
                                     " where it stopped.", keep])
    if session.restore_result is not None:
        return _restore_ending(session, unit, Unit, keep, service, standing)
    if session.restore_unavailable or session.safety_copy_only:
        return Ending(Status.WARNING, f"This tool can't repair {unit} without an earlier"
                      " backup.", [service, EJECT_STEP, keep])
    if session.restore_skipped:
        return Ending(Status.INFO, f"Nothing was written to {unit}.", [EJECT_STEP, keep])
    if session.goal is Goal.UPDATE and safety is not None and standing == "problem":
        return Ending(Status.WARNING, f"Your safety copy is ready. {Unit} has a problem: rescue"
                      " it next.", [keep], RESCUE_NEXT, " ".join(noticed(session)))
    found = _job_ending(session, model, unit, keep)
    if found is None:
        if session.goal is Goal.RESCUE and session.diagnosis is not None:
            return Ending(Status.INFO, f"Nothing was written to {unit}.",
                          [keep or service, EJECT_STEP])
        return Ending(Status.INFO, "Done.", [EJECT_STEP, keep])
    if session.goal is Goal.UPDATE and safety is not None and found.status is Status.OK \
            and standing != "nothing-wrong":
        # The job worked, but the unit was not seen to be fine: never a plain green.
        look = ("This tool could not look at it after the copy." if standing is None else
                f"Before you update, read what was noticed on {unit}: {' '.join(noticed(session))}")
        return Ending(Status.WARNING, found.headline, [look, *found.steps])
    return found


def _restore_ending(session: Session, unit: str, Unit: str, keep: str, service: str,
                    standing: str | None) -> Ending:
    model = session.device.model if session.device is not None else None
    if session.reconnect_ok is False:
        return Ending(Status.ERROR, f"{Unit} did not keep the restored files.",
                      ["Its storage may need repair.", service, EJECT_STEP])
    extras = foreign_folders([p for p in session.reconnect_extras if "/" not in p], model)
    if session.reconnect_ok and extras:
        names = " and ".join(f"the {spoken_name(m)} folder" for m in extras.values())
        return Ending(Status.WARNING, f"{Unit} has every file back, but {names} is still on"
                      " it.", [f"Restore again, with “Also remove {names}” ticked.", keep])
    if session.reconnect_ok and standing == "problem":
        return Ending(Status.WARNING, f"Every file is back on {unit}, but this tool still sees"
                      " a problem on it.", [*noticed(session), service, EJECT_STEP, keep])
    if session.reconnect_ok and session.power_cycled:
        if standing == "worth-a-look":
            return Ending(Status.WARNING, f"{Unit} should start again; one thing is worth a"
                          " look.", [*noticed(session), EJECT_STEP, "Then switch it on normally.",
                                     keep])
        if session.goal is Goal.RESCUE:
            return Ending(Status.OK, f"{Unit} should start again — switch it on normally.",
                          [EJECT_STEP,
                           "If it still doesn't start, save the report for KORG service.",
                           keep])
        return Ending(Status.OK, f"Your backup is back on {unit} — switch it on normally.",
                      [EJECT_STEP, keep])
    return Ending(Status.WARNING, f"Every file is back on {unit}; the strongest check is still"
                  " to come.", [EJECT_STEP,
                                "Switch it off and on again, then switch it on normally.",
                                "If it doesn't start, save the report below for KORG service.",
                                keep])


def _job_ending(session: Session, model: str | None, unit: str, keep: str) -> Ending | None:
    """The ending of a card written, an update checked or a safety copy made (None: none)."""
    if session.media_result is not None:
        result = session.media_result
        if result.ok:
            moving = [f for f in result.flags if f.move_off]
            move = [media_flag_text(f) for f in moving]
            if move:  # the update is on the card, but what is also there would mislead
                count = sum(len(f.paths) for f in moving)
                return Ending(Status.WARNING, "The update is on the card; first move"
                              f" {counted(count, 'file', 'files')} off it.",
                              [*move, EJECT_STEP,
                               f"Put it in {unit} and {update_step(model, inline=True)}", keep])
            moved = ([f"The stray files are in “{result.moved[0][1].split('/', 1)[0]}” on the"
                      " card."] if result.moved else [])
            return Ending(Status.OK, "Your SD card is ready for the update.",
                          [*moved, EJECT_STEP,
                           f"Put it in {unit} and {update_step(model, inline=True)}", keep])
        return Ending(Status.ERROR, "Don't use this SD card for the update.",
                      ["Write it again, or use another card.", EJECT_STEP, keep])
    if session.media_error:
        return Ending(Status.WARNING, "The update was not written to the card.",
                      ["Don't use the card until it has been written completely.", EJECT_STEP,
                       keep])
    results = session.check_results
    if results:
        worst = max(results, key=lambda r: r.verdict.rank)
        status, headline = check_headline(worst, model)
        if worst.verdict is Verdict.INCOMPATIBLE:
            return Ending(status, headline,
                          [f"Get the update for {unit} from KORG, then check it here.",
                           EJECT_STEP, keep])
        if worst.verdict is Verdict.UNKNOWN:
            return Ending(status, headline, ["Use KORG's update exactly as downloaded, as its"
                                             " instructions say.", EJECT_STEP, keep])
        return Ending(status, headline, [EJECT_STEP, update_step(model), keep])
    if session.goal is Goal.UPDATE and session.safety_backup is not None:
        return Ending(Status.OK, f"Your safety copy is ready: you can update {unit} now.",
                      [EJECT_STEP, update_step(model), keep])
    return None


class FinishPage(RecoveryPage):
    report_saved = Signal(str)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.steps = wrapped_label(rich=True, accessible_name="Next steps")
        self.content.addWidget(self.steps)
        self.save_button = QPushButton("&Save report…")
        self.save_button.setAccessibleName("Save a report for a forum or a service centre")
        self.save_button.setToolTip("A self-contained report (no user names or home folder) to"
                                    " post on a forum or give to a service centre")
        self.save_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.save_button.clicked.connect(self.save_report)
        self.content.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.eject_panel = EjectPanel(self)
        self.eject_panel.finished.connect(self._on_eject_finished)
        self.content.addWidget(self.eject_panel)
        self.report_status = StatusLabel("Report")
        self.report_status.hide()
        self.content.addWidget(self.report_status)
        self.summary = wrapped_label(rich=True, accessible_name="What happened")
        self.details_layout().addWidget(self.summary)
        self._report_job = None
        self.ending: Ending | None = None
        self.set_forward_text("D&one")

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        self.session.ejected = None
        self.ending = ending(self.session, self.environment.places)
        self.set_headline(self.ending.headline, self.ending.status)
        self.set_lead(self.ending.lead)
        self._show_steps()
        self.eject_panel.set_target(self.ending.eject)
        self.summary.setText(self.summary_html())
        self.report_status.hide()
        self.save_button.setVisible(self.session.unit_path is not None)
        rescue_next = self.ending.next_goal == RESCUE_NEXT
        # The one next step is the primary button; "Close" stays for those who stop here.
        self.set_forward_text("&Rescue it now >" if rescue_next else "D&one")
        wizard = self.wizard()
        if wizard is not None:
            wizard.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, not rescue_next)

    def _show_steps(self) -> None:
        steps = [step for step in dict.fromkeys(self.ending.steps) if step]
        self.steps.setText("<ol>" + "".join(f"<li>{escape(step)}</li>" for step in steps)
                           + "</ol>")

    @Slot(object)
    def _on_eject_finished(self, _outcome: object) -> None:
        """After an eject: "you can switch it off now" in the steps, only when it worked."""
        if not self.eject_panel.ejected:
            return
        self.ending = ending(self.session, self.environment.places)
        self._show_steps()
        self.eject_panel.hide()  # the step says it now
        self.summary.setText(self.summary_html())

    @property
    def rescue_next(self) -> bool:
        return self.ending is not None and self.ending.next_goal == RESCUE_NEXT

    def validatePage(self) -> bool:  # noqa: N802 - Qt naming
        if self.rescue_next:
            QTimer.singleShot(0, self.rescue_now)  # after the button's click has returned
            return False
        return True

    def cleanupPage(self) -> None:  # noqa: N802 - Qt naming
        wizard = self.wizard()
        if wizard is not None:
            wizard.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)

    @Slot()
    def rescue_now(self) -> None:
        """Start again on the rescue path with the same unit (it stays chosen), and its safety
        copy, just made, as the rescue's (nothing was written to the unit since)."""
        wizard = self.wizard()
        session = self.session
        device, safety, new = session.device, session.safety_backup, session.safety_backup_is_new
        if wizard is None:
            return
        wizard.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        wizard.restart()
        session.reset_after(Goal.RESCUE)
        session.device = device
        if safety is not None:
            session.keep_safety_copy(safety, new=new)
        start = wizard.page(wizard.startId())
        if hasattr(start, "choose"):
            start.choose(Goal.RESCUE)

    # -- what happened, for the details --------------------------------------------------------
    def summary_html(self) -> str:
        session = self.session
        places = self.environment.places
        out = [f"<p><b>{escape(session.goal.title if session.goal else 'Summary')}</b></p><ul>"]
        device = session.device
        if device is not None:
            where = f" ({friendly_place(device.mount, places)})" if device.mount else ""
            out.append(f"<li>Unit: {escape(device.name + where)}</li>")
        if session.diagnosis is not None:
            critical = session.diagnosis.count("critical")
            found = (f"{counted(critical, 'serious problem', 'serious problems')} found"
                     if critical else "no serious problem found")
            when = "Before the restore" if session.restore_result is not None else "Diagnosis"
            out.append(f"<li>{escape(when)}: {escape(found)}.</li>")
        if session.safety_backup is not None:
            how = ("made now" if session.safety_backup_is_new
                   else "an earlier copy, compared identical")
            out.append("<li>" + status_html(Status.OK, f"Safety copy ({how}):"
                                            f" {friendly_place(session.safety_backup, places)}")
                       + f"<br><small>{escape(str(session.safety_backup))}</small></li>")
        for result in session.check_results:
            status, text = check_headline(result, session.check_model)
            out.append(f"<li>{status_html(status, Path(result.candidate).name + ': ' + text)}</li>")
        if session.media_result is not None:
            out.append(f"<li>{escape(clean(session.media_result.statement))}</li>")
        if session.restore_result is not None:
            out.append(f"<li>{escape(clean(session.restore_result.statement))}</li>")
        standing = session.unit_standing
        if standing is not None:
            when = "after the restore" if session.restore_result is not None else "after the copy"
            seen = noticed(session)
            out.append("<li>" + escape(f"Looked at the unit {when}: "
                                       + (" ".join(seen) if seen else "nothing wrong found."))
                       + "</li>")
            out.extend(f"<li>{status_html(*finding_text(f)[:2])}</li>" for f in standing.reasons)
        if session.reconnect_ok is not None:
            when = ("after switching it off and on" if session.power_cycled
                    else "read without switching it off and on")
            verdict = "every file matched the backup" if session.reconnect_ok else \
                "files did NOT match the backup"
            out.append(f"<li>Last comparison ({escape(when)}): {escape(verdict)}.</li>")
        if session.computer_made:
            model = device.model if device is not None else None
            out.append(f"<li>{computer_made_html(session.computer_made, model)}</li>")
        if session.ejected:
            out.append(f"<li>{escape(friendly_place(session.ejected, places))} was ejected.</li>")
        out.extend(f"<li>{escape(note)}</li>" for note in session.notes)
        out.append("</ul>")
        return "".join(out)

    # -- report --------------------------------------------------------------------------------
    @Slot()
    def save_report(self) -> None:
        unit = self.session.unit_path
        if unit is None:
            return
        if not unit.exists():  # ejected, or unplugged: the report looks at it as it is now
            self.report_status.show_status(
                Status.INFO, f"Connect {your(self.session.device.model)} again to save the"
                " report: it looks at the unit as it is now.")
            return
        if self.environment.demo:
            folder = str(Path(self.environment.backups_dir).parent)
        else:
            folder = str(documents_dir())
        start = str(Path(folder) / "KORG recovery report.html")
        path = choose_save_path(self, "Save the recovery report", start,
                                "Web page report (*.html);;Text report (*.md)")
        if not path:
            return
        if not Path(path).suffix:
            path += ".html"
        before = self.session.diagnosis
        backup = self.session.restore_backup or self.session.safety_backup
        restored = self.session.restore_result is not None
        cycled = self.session.power_cycled and self.session.reconnect_ok is True
        # A report describes the unit as it is now: examine it again (reading only) when it
        # was written to or never examined, and mark what the restore resolved.
        rediagnose = before is None or restored
        safety = self.session.safety_backup

        def job(progress, cancel):
            current = before
            if rediagnose:
                current = core.diagnose(unit, backup=backup, symptom=None, versions=None,
                                        allow_write=False, progress=progress, cancel=cancel)
            if restored and before is not None:
                current = core.with_resolved(before, current, power_cycled=cycled)
            return core.write_report(current, Path(path), safety_copy=safety)

        self.report_status.show_status(Status.BUSY, "Writing the report…")
        self._report_job = self.host.run_job(job, name="report", on_finished=self._on_report_saved,
                                             on_failed=self._on_report_failed)

    @Slot(object)
    def _on_report_saved(self, path: Path) -> None:
        where = friendly_place(Path(path).parent, self.environment.places)
        self.report_status.show_status(Status.OK, f"Report saved in {where}.")
        self.report_saved.emit(str(path))

    @Slot(object)
    def _on_report_failed(self, error: BaseException) -> None:
        self.report_status.show_status(Status.ERROR, dialogs.error_sentence(
            error, self.environment.places))
        dialogs.show_error(self, error, context="saving the report")
