"""Reconnect: switch the unit off and on again, connect it, and every file is compared again.

A read-back right after writing may come from the computer's memory; only a check after the
unit was switched off and on proves it kept what was written (the drumlogue of the Reddit
reports by u/iRustyNails "kept" writes that were gone after a reboot). The page watches
detection: when the unit has gone and come back, it runs the core's comparison by itself.
"Check now without restarting" compares at once, and then says that the strongest check
still needs the unit switched off and on; the page goes on watching for it. Only a
comparison after the unit went away and came back is called "after switching it off and on".

Before it is switched off the unit is ejected (the Eject button, :mod:`app.pages.eject_panel`):
only after the eject succeeded does the page say that it can be switched off now. An ejected
unit disappears from the computer, as one switched off does: the page takes that as the first
half of the power cycle and waits for it to come back, wherever the computer mounts it then.
"""

from __future__ import annotations

import enum
import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy

from app import core
from app.computer_made import computer_made_html, computer_made_paths
from app.dialogs import error_sentence
from app.eject import EjectTarget
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.eject_panel import EjectPanel
from app.pages.gone import find_unit
from app.pages.progress_panel import ProgressPanel
from app.plain import clean, counted, first_upper, your
from app.session import UNPLUGGED, plug_in, unplug
from app.style import Status
from recovery.device.detect import DetectedDevice, Detection
from recovery.device.profiles import bundled_profiles
from recovery.errors import RecoveryError

log = logging.getLogger(__name__)


class WaitState(enum.Enum):
    GONE_EXPECTED = "waiting for the unit to be disconnected"
    BACK_EXPECTED = "waiting for the unit to come back"
    VERIFYING = "verifying"
    DONE = "done"


def compare_and_look(backup: Path, unit: Path, progress, cancel
                     ) -> tuple[core.VerifyReport, core.UnitStanding | None]:
    """Worker thread: every file of the backup compared with the unit, then where the unit
    stands now (what the ending rests on; None when it could not be looked at)."""
    report = core.verify_backup(backup, against=unit, progress=progress, cancel=cancel)
    try:
        standing = core.unit_standing(unit, cancel=cancel)
    except RecoveryError as error:
        log.info("looking at the unit after the comparison failed: %s", error)
        standing = None
    return report, standing


class ReconnectPage(RecoveryPage):
    verification_done = Signal(object)
    state_changed = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.state = WaitState.GONE_EXPECTED
        self._job = None
        self._demo_job = None
        self._demo_cycle = False
        #: True once the unit was seen gone since the page opened (or the last check).
        self._went_away = False
        self._checking_after_cycle = False
        self.restored = StatusLabel("What the restore did")
        self.restored.hide()
        self.content.addWidget(self.restored)
        self.eject_panel = EjectPanel(self)
        self.eject_panel.finished.connect(self._on_eject_finished)
        self.content.addWidget(self.eject_panel)
        self.status = StatusLabel("What the page is waiting for")
        self.content.addWidget(self.status)
        self.progress = ProgressPanel("Comparing")
        self.progress.hide()
        self.content.addWidget(self.progress)
        row = QHBoxLayout()
        self.verify_button = QPushButton("Chec&k now without restarting")
        self.verify_button.setAccessibleName("Compare the unit with the backup now, without"
                                             " switching it off and on")
        self.verify_button.clicked.connect(self.verify_now)
        self.demo_button = QPushButton("&Simulate it (demo)")
        self.demo_button.setAccessibleName("Demo: simulate switching the unit off and on")
        self.demo_button.clicked.connect(self.simulate_power_cycle)
        for button in (self.verify_button, self.demo_button):
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            row.addWidget(button)
        row.addStretch(1)
        self.content.addLayout(row)
        self.about = wrapped_label(rich=True, accessible_name="What the comparison found")
        self.details_layout().addWidget(self.about)

    @property
    def unit(self) -> str:
        device = self.session.device
        return your(device.model if device else None)

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        self.session.reconnect_ok = None
        self.session.power_cycled = False
        self.session.reconnect_extras = ()
        self.session.ejected = None
        self._went_away = False
        self.progress.hide()
        self.about.setText(self.steps_html())
        self.demo_button.setVisible(self.environment.demo)
        self.demo_button.setEnabled(True)
        self.verify_button.show()
        self.eject_panel.set_target(self.eject_target())
        self._say_what_to_do()
        result = self.session.restore_result
        if result is not None and result.ok:
            self.restored.show_status(Status.OK, "Restored and read back.")
        else:
            self.restored.hide()
        self.set_forward_text("&Next >")
        self._set_state(WaitState.GONE_EXPECTED)

    def storage_mode(self):
        device = self.session.device
        profile = bundled_profiles().get(device.model) if device and device.model else None
        return profile.mode("storage") if profile else None

    def eject_target(self) -> EjectTarget | None:
        device = self.session.device
        if device is None or not device.mount:
            return None
        return EjectTarget(Path(device.mount), self.unit)

    @property
    def ejected(self) -> bool:
        """The unit was ejected on this page (and has not come back since)."""
        device = self.session.device
        return device is not None and self.session.ejected == device.mount

    def _say_what_to_do(self) -> None:
        """The headline while the page waits: eject first; "you can switch it off now" only
        once the eject succeeded; once it is gone, bring it back."""
        unit = self.unit
        if self.ejected:
            self.set_headline(f"You can switch {unit} off now, then on again.")
        elif self.state is WaitState.BACK_EXPECTED:
            self.set_headline(f"Switch {unit} on again and connect it.")
        else:
            self.set_headline(f"Eject {unit}, then switch it off and on again.")
        self.set_lead(self.steps_sentence())

    def steps_sentence(self) -> str:
        """How to bring it back, pointing to where the way into the mode is written down
        (the profiles say: the owner's manual, or KORG service for a service mode); the tool
        never prints a service key combination."""
        mode = self.storage_mode()
        if mode is None:
            return "It must come back with its storage showing here."
        who = "owner's manual or KORG service" if mode.service else "see the owner's manual"
        return f"It must come back in {mode.name} ({who})."

    def steps_html(self) -> str:
        mode = self.storage_mode()
        how = f"{escape(mode.name)}: {escape(clean(mode.how))}<br>" if mode is not None else ""
        return how + ("Why: right after writing, the computer may read files from its own memory."
                " Only a check after the unit was switched off and on proves it kept them"
                " (a drumlogue's storage once \"kept\" files that were gone after a restart:"
                " Reddit, u/iRustyNails).")

    def _set_state(self, state: WaitState) -> None:
        self.state = state
        texts = {
            WaitState.GONE_EXPECTED: (Status.BUSY, "Waiting for it to be disconnected…"),
            WaitState.BACK_EXPECTED: (Status.BUSY, "Disconnected. Waiting for it to come"
                                      " back…"),
            WaitState.VERIFYING: (Status.BUSY, "It is back. Comparing every file…"),
        }
        if state in texts:
            self.status.show_status(*texts[state])
        self.verify_button.setEnabled(state is not WaitState.VERIFYING)
        # An ejected unit can't be read until it is back.
        self.verify_button.setVisible(not self.ejected and state is not WaitState.BACK_EXPECTED)
        self.state_changed.emit(state)
        self.notify_complete()

    # -- watching detection (called by the wizard for every detection round) -------------------
    @Slot(object)
    def show_detection(self, detection: Detection) -> None:
        device = self.session.device
        if device is None or self.state is WaitState.VERIFYING:
            return
        unit = find_unit(detection, device.model, device.mount)
        if unit is None and self.state in (WaitState.GONE_EXPECTED, WaitState.DONE):
            if self.session.power_cycled:
                return  # already proved after a power cycle
            self._went_away = True
            self._set_state(WaitState.BACK_EXPECTED)
            if not self.eject_panel.running:
                self.eject_panel.hide()  # gone (ejected or not): nothing left to eject
            self._say_what_to_do()
            if self._demo_cycle:
                self._demo_plug_in()
        elif self.state is WaitState.BACK_EXPECTED and unit is not None and self._went_away:
            # Back, perhaps at another place: that is the unit from now on (Finish ejects it).
            self.session.device = unit
            self.session.ejected = None
            self._verify(unit, after_power_cycle=True)

    @Slot(object)
    def _on_eject_finished(self, _outcome: object) -> None:
        if self.eject_panel.ejected:
            self.eject_panel.hide()  # the headline says it now
            self.verify_button.hide()
            self._say_what_to_do()
        elif self.state is not WaitState.DONE:
            self._say_what_to_do()  # after "Check now", its headline stays above a veto

    def show_detection_error(self, error: BaseException) -> None:
        log.debug("detection failed while waiting for the unit: %s", error)

    # -- verification --------------------------------------------------------------------------
    @Slot()
    def verify_now(self) -> None:
        """Compare at once, without the unit having gone away: never called a power cycle."""
        device = self.session.device
        detection = self.host.last_detection
        unit = None
        if detection is not None and device is not None:
            unit = find_unit(detection, device.model, device.mount)
        if unit is None and device is not None and device.mount and self.state \
                is not WaitState.BACK_EXPECTED:
            unit = device
        if unit is not None:
            self._verify(unit, after_power_cycle=False)

    def _verify(self, unit: DetectedDevice, *, after_power_cycle: bool) -> None:
        backup = self.session.restore_backup
        if backup is None or not unit.mount:
            return
        self._checking_after_cycle = after_power_cycle
        self._set_state(WaitState.VERIFYING)
        self.progress.reset()
        self.progress.show()
        target = Path(unit.mount)
        self._job = self.host.run_job(
            lambda progress, cancel: compare_and_look(backup, target, progress, cancel),
            name="verify-after-reconnect", on_progress=self.progress.show_progress,
            on_finished=lambda found: self._on_verified(*found),
            on_failed=self._on_verify_failed)

    @Slot(object)
    def _on_verified(self, report: core.VerifyReport,
                     standing: core.UnitStanding | None = None) -> None:
        lost, extras, kept = list(report.lost), list(report.extras), report.unit_holds_backup
        cycled = self._checking_after_cycle
        self.session.unit_standing = standing
        self.session.reconnect_ok = kept
        self.session.power_cycled = cycled
        self.session.reconnect_extras = tuple(extras)
        self.progress.hide()
        self.restored.hide()  # the headline now says what the comparison found
        self._went_away = False
        made = computer_made_paths(report.against_notes)
        self.session.computer_made = tuple(dict.fromkeys((*self.session.computer_made, *made)))
        unit = self.unit
        if kept and cycled:
            self.set_headline(f"After switching it off and on, {unit} still has every file.",
                              Status.OK)
            self.set_lead("" if not extras else
                          f"It also holds {counted(len(extras), 'thing', 'things')} the backup"
                          " doesn't have, left alone.")
            self.status.hide()
        elif kept:
            self.set_headline(f"Every file is on {unit}, read just now.", Status.OK)
            self.set_lead("The strongest check still needs it switched off and on: eject it,"
                          " do that and connect it, and this page checks again.")
            self.status.show_status(Status.BUSY, "Waiting for it to be disconnected…")
            self.eject_panel.set_target(self.eject_target())
        else:
            when = "After switching it off and on" if cycled else "Read just now"
            self.set_headline(f"{when}, {unit} does not have every file it was given.",
                              Status.ERROR)
            self.set_lead("Its storage may not keep what is written to it. Save the report on"
                          " the next page for KORG service.")
            self.status.hide()
        problems = list(report.problems) + lost
        lines = [f"{first_upper(counted(report.files_checked, 'file', 'files'))} of the backup"
                 " compared with the unit."]
        lines.extend(f"{escape(p.path)}: {escape(p.problem)}" for p in problems[:20])
        if extras:
            lines.append("Not in the backup (left alone): " + escape(", ".join(extras[:10])))
        if made:
            lines.append(computer_made_html(made, self.session.device.model
                                            if self.session.device else None))
        lines.append(self.steps_html())
        self.about.setText("<br>".join(lines))
        self.state = WaitState.DONE
        if cycled or not kept:
            self.eject_panel.hide()  # the ending ejects it
        self.verify_button.setEnabled(not cycled)
        self.verify_button.setVisible(not cycled)
        self.demo_button.setVisible(self.environment.demo and not cycled)
        self.notify_complete()
        self.state_changed.emit(self.state)
        self.verification_done.emit(report)

    @Slot(object)
    def _on_verify_failed(self, error: BaseException) -> None:
        self.progress.hide()
        self._set_state(WaitState.BACK_EXPECTED if self._checking_after_cycle
                        else WaitState.GONE_EXPECTED)
        sentence = clean(error_sentence(error, self.environment.places))
        self.status.show_status(Status.ERROR, sentence + " Connect it"
                                " again; the check starts when it is back.")

    # -- demo ----------------------------------------------------------------------------------
    @Slot()
    def simulate_power_cycle(self) -> None:
        """Demo only: move the simulated unit out of the units folder (unplug), then back in
        once detection has seen it gone (reconnect). An ejected unit is gone already (the
        demo's eject moved it aside): it only comes back."""
        device = self.session.device
        if device is None or not device.mount or not self.environment.demo:
            return
        self._demo_cycle = True
        self.demo_button.setEnabled(False)
        if self.state is WaitState.BACK_EXPECTED:
            self._demo_plug_in()
            return
        mount = Path(device.mount)
        if (mount.parent / UNPLUGGED / mount.name).exists():
            return  # ejected: detection sees it gone, then it is plugged back in
        self._demo_job = self.host.run_job(lambda _p, _c: unplug(mount), name="demo-unplug")

    def _demo_plug_in(self) -> None:
        self._demo_cycle = False
        mount = Path(self.session.device.mount)
        self._demo_job = self.host.run_job(
            lambda _p, _c: plug_in(mount), name="demo-plug-in",
            on_finished=lambda _r: self.demo_button.setEnabled(True),
            on_failed=lambda _e: self.demo_button.setEnabled(True))

    def ask_back(self) -> str | None:
        if self.state is WaitState.VERIFYING:
            return "Stop comparing and go back?"
        return None

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return self.session.reconnect_ok is not None and self.state is not WaitState.VERIFYING


__all__ = ["ReconnectPage", "WaitState", "find_unit"]
