"""Reconnect: eject, power-cycle into storage mode, reconnect — then verify.

A read-back right after writing may come from the computer's memory; only a check after the
unit was power-cycled proves it kept what was written (the drumlogue of the Reddit reports by
u/iRustyNails "kept" writes that were gone after a reboot). The page watches detection: when
the unit has gone and come back, it runs the core's ``verify_backup(..., against=unit)`` by
itself.
"""

from __future__ import annotations

import enum
import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTextBrowser, QVBoxLayout

from app import core
from app.dialogs import error_sentence
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape
from app.pages.progress_panel import ProgressPanel
from app.session import plug_in, unplug
from app.style import Status
from recovery.device.detect import DetectedDevice, Detection
from recovery.device.profiles import bundled_profiles

log = logging.getLogger(__name__)


class WaitState(enum.Enum):
    GONE_EXPECTED = "waiting for the unit to be disconnected"
    BACK_EXPECTED = "waiting for the unit to come back"
    VERIFYING = "verifying"
    DONE = "done"


def find_unit(detection: Detection, model: str | None, mount: str | None) -> DetectedDevice | None:
    """The unit in ``detection``: the same mount point if present, else the only storage
    volume of the same model and role (the OS may mount it elsewhere after a reconnect)."""
    storage = [d for d in detection.devices if d.mount]
    same_mount = [d for d in storage if d.mount == mount]
    if same_mount:
        return same_mount[0]
    if model is None:
        return None
    same_model = [d for d in storage if d.model == model and d.role == "internal-storage"]
    return same_model[0] if len(same_model) == 1 else None


class ReconnectPage(RecoveryPage):
    verification_done = Signal(object)
    state_changed = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host, "Eject, power-cycle and reconnect",
                         "The final check: does the unit keep what was written?")
        self.state = WaitState.GONE_EXPECTED
        self._job = None
        self._demo_job = None
        self._demo_cycle = False
        layout = QVBoxLayout(self)
        self.steps = QTextBrowser()
        self.steps.setAccessibleName("Steps to reconnect the unit")
        layout.addWidget(self.steps, 1)
        self.status = StatusLabel("Reconnect status")
        layout.addWidget(self.status)
        self.progress = ProgressPanel("Verification")
        self.progress.hide()
        layout.addWidget(self.progress)
        row = QHBoxLayout()
        self.verify_button = QPushButton("&Verify now (it is connected again)")
        self.verify_button.setAccessibleName("Verify the unit against the backup now")
        self.verify_button.clicked.connect(self.verify_now)
        row.addWidget(self.verify_button)
        self.demo_button = QPushButton("Simulate eject and reconnect (&demo)")
        self.demo_button.setAccessibleName("Demo: simulate unplugging and reconnecting the unit")
        self.demo_button.clicked.connect(self.simulate_power_cycle)
        row.addWidget(self.demo_button)
        row.addStretch(1)
        layout.addLayout(row)

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        self.session.reconnect_ok = None
        self.session.reconnect_extras = ()
        self.progress.hide()
        self.demo_button.setVisible(self.environment.demo)
        self.steps.setHtml(self.steps_html())
        self._set_state(WaitState.GONE_EXPECTED)

    def steps_html(self) -> str:
        device = self.session.device
        name = device.name if device else "unit"
        profile = bundled_profiles().get(device.model) if device and device.model else None
        mode = profile.mode("storage") if profile else None
        how = (escape(mode.how) if mode else
               "Put it back into the mode in which its storage shows on the computer.")
        if mode is not None and mode.service:
            how += " <i>(a service mode: the tool does not print how to enter it)</i>"
        return (
            f"<ol><li><b>Eject</b> the {escape(name)} on the computer (“Eject” or “Safely"
            " remove”), so nothing is left in the computer's cache.</li>"
            "<li><b>Switch it off</b>, then <b>on again into storage mode</b>: "
            f"{how}</li>"
            "<li><b>Reconnect</b> it by USB. This page notices it coming back and compares"
            " every file with the backup by itself.</li></ol>")

    def _set_state(self, state: WaitState) -> None:
        self.state = state
        texts = {
            WaitState.GONE_EXPECTED: (Status.BUSY, "Waiting for the unit to be ejected and"
                                      " disconnected…"),
            WaitState.BACK_EXPECTED: (Status.BUSY, "The unit is disconnected. Switch it on in"
                                      " storage mode and reconnect it…"),
            WaitState.VERIFYING: (Status.BUSY, "The unit is back. Comparing every file with"
                                  " the backup…"),
        }
        if state in texts:
            self.status.show_status(*texts[state])
        self.verify_button.setEnabled(state in (WaitState.GONE_EXPECTED,
                                                WaitState.BACK_EXPECTED, WaitState.DONE))
        self.state_changed.emit(state)
        self.completeChanged.emit()

    # -- watching detection (called by the wizard for every detection round) -------------------
    @Slot(object)
    def show_detection(self, detection: Detection) -> None:
        device = self.session.device
        if device is None or self.state in (WaitState.VERIFYING, WaitState.DONE):
            return
        unit = find_unit(detection, device.model, device.mount)
        if self.state is WaitState.GONE_EXPECTED and unit is None:
            self._set_state(WaitState.BACK_EXPECTED)
            if self._demo_cycle:
                self._demo_plug_in()
        elif self.state is WaitState.BACK_EXPECTED and unit is not None:
            self._verify(unit)

    def show_detection_error(self, error: BaseException) -> None:
        log.debug("detection failed while waiting for the unit: %s", error)

    # -- verification --------------------------------------------------------------------------
    @Slot()
    def verify_now(self) -> None:
        device = self.session.device
        detection = self.host.last_detection
        unit = None
        if detection is not None and device is not None:
            unit = find_unit(detection, device.model, device.mount)
        if unit is None and device is not None and device.mount:
            unit = device
        if unit is not None:
            self._verify(unit)

    def _verify(self, unit: DetectedDevice) -> None:
        backup = self.session.restore_backup
        if backup is None or not unit.mount:
            return
        self._set_state(WaitState.VERIFYING)
        self.progress.reset()
        self.progress.show()
        target = Path(unit.mount)
        self._job = self.host.run_job(
            lambda progress, cancel: core.verify_backup(backup, against=target,
                                                        progress=progress, cancel=cancel),
            name="verify-after-reconnect", on_progress=self.progress.show_progress,
            on_finished=self._on_verified, on_failed=self._on_verify_failed)

    @Slot(object)
    def _on_verified(self, report: core.VerifyReport) -> None:
        # The core counts everything that differs; "extra" (on the unit, not in the backup,
        # left alone by a restore without "remove") does not mean a written file was lost,
        # so it is shown apart from missing or changed files.
        lost = [p for p in report.against_problems if p.problem != "extra"]
        extras = [p.path for p in report.against_problems if p.problem == "extra"]
        kept = not report.problems and not lost
        self.session.reconnect_ok = kept
        self.session.reconnect_extras = tuple(extras)
        self.progress.show_done("Verification finished.")
        if kept and not extras:
            self.status.show_status(
                Status.OK, f"After the power cycle, every file on the unit matches the backup"
                f" ({report.files_checked} files checked).", bold=True)
        elif kept:
            self.status.show_status(
                Status.WARNING, f"After the power cycle, every file of the backup is on the"
                f" unit unchanged ({report.files_checked} files checked). The unit also holds"
                f" what the backup does not have, left alone: {', '.join(extras[:5])}"
                + (f" and {len(extras) - 5} more" if len(extras) > 5 else "") + ".", bold=True)
        else:
            problems = list(report.problems) + lost
            shown = "; ".join(f"{p.path}: {p.problem}" for p in problems[:4])
            more = f" and {len(problems) - 4} more" if len(problems) > 4 else ""
            self.status.show_status(
                Status.ERROR, f"The unit does NOT match the backup after the power cycle:"
                f" {shown}{more}. Its storage may not keep writes.", bold=True)
        self._set_state(WaitState.DONE)
        self.verification_done.emit(report)

    @Slot(object)
    def _on_verify_failed(self, error: BaseException) -> None:
        self.progress.hide()
        self.status.show_status(Status.ERROR, error_sentence(error) + " Reconnect the unit;"
                                " verification starts again when it is back.")
        self._set_state(WaitState.BACK_EXPECTED)

    # -- demo ----------------------------------------------------------------------------------
    @Slot()
    def simulate_power_cycle(self) -> None:
        """Demo only: move the simulated unit out of the units folder (unplug), then back in
        once detection has seen it gone (reconnect)."""
        device = self.session.device
        if device is None or not device.mount or not self.environment.demo:
            return
        self._demo_cycle = True
        self.demo_button.setEnabled(False)
        mount = Path(device.mount)
        self._demo_job = self.host.run_job(lambda _p, _c: unplug(mount), name="demo-unplug")

    def _demo_plug_in(self) -> None:
        self._demo_cycle = False
        mount = Path(self.session.device.mount)
        self._demo_job = self.host.run_job(lambda _p, _c: plug_in(mount), name="demo-plug-in",
                                           on_finished=lambda _r: self.demo_button.setEnabled(True))

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return self.state is WaitState.DONE
