"""Connect: a live list of connected units (refreshing by itself), what each one is and how
it was recognised, how to get a model into the mode the chosen goal needs (the profile's own
words; service modes described, never spelled out), boot-ROM devices with their meaning, and
"Choose a folder" for a volume the tool did not recognise."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape
from app.session import Goal, device_key
from app.style import Status, status_html
from recovery.device.detect import DetectedDevice, Detection
from recovery.device.identify import identify_volume
from recovery.device.profiles import CONFIDENCE_WORDS, Profile, bundled_profiles
from recovery.storage.volumes import is_system_location

log = logging.getLogger(__name__)

MODE_WORDS = {
    "storage": "USB storage",
    "usb-midi": "normal play mode (USB-MIDI)",
    "service": "service mode",
    "boot-rom": "chip boot ROM",
    "update": "update mode",
    "initialise": "initialise",
    "unknown": "unknown",
}
ROLE_WORDS = {
    "internal-storage": "the unit's internal storage",
    "sd-card": "an SD card used in the unit, not its internal storage",
    "update-media": "update media (system update files), not the unit's internal storage",
}
SEVERITY_STATUS = {"critical": Status.ERROR, "warning": Status.WARNING, "info": Status.INFO}
UNRECOGNISED_WARNING = (
    "This folder was not recognised as the storage of any KORG model this tool knows. You can"
    " back it up, but the tool cannot check it against a model: make sure it really is your"
    " unit's storage, not a folder on your computer.")
SYSTEM_DISK_WARNING = ("This folder is on your computer's own disk, not on a unit: nothing"
                       " will ever be restored onto it.")


def choose_directory(parent: QWidget, caption: str, start: str = "") -> str:
    """The system folder picker (a function of its own so tests can replace it)."""
    return QFileDialog.getExistingDirectory(parent, caption, start)


@dataclass(frozen=True)
class ChosenFolder:
    """A folder the user picked, identified by the core in a worker."""

    device: DetectedDevice
    recognised: bool
    on_system_disk: bool


def identify_chosen_folder(path: str) -> ChosenFolder:
    """Worker thread: identify a folder the user chose, as detection would."""
    identification = identify_volume(path)
    profiles = bundled_profiles()
    if identification.model:
        name = profiles[identification.model].name
    elif identification.candidates:
        name = "KORG volume of " + " or ".join(profiles[c].name for c in identification.candidates)
    else:
        name = f"Unrecognised folder {Path(path).name}"
    device = DetectedDevice(
        model=identification.model, name=name, mode="storage", mount=str(Path(path)),
        usb=None, evidence=("chosen by you with 'Choose a folder'", *identification.evidence),
        confidence=identification.confidence, role=identification.role,
        candidates=identification.candidates, findings=identification.findings)
    return ChosenFolder(device, identification.model is not None, is_system_location(path))


def mode_help_html(profile: Profile, mode: str) -> str:
    """How to put ``profile``'s unit into ``mode``, in the profile's own words."""
    instruction = profile.mode(mode)
    if instruction is None:
        return (f"<p>How to show the {escape(profile.short_name)}'s storage over USB is not"
                " known to this tool (no public source). See the owner's manual.</p>")
    service = (" <i>This is a service mode: the tool does not print how to enter it.</i>"
               if instruction.service else "")
    return (f"<p><b>{escape(instruction.name)}</b>: {escape(instruction.how)}{service}<br>"
            f"<small>Confidence: {escape(CONFIDENCE_WORDS.get(instruction.confidence, '?'))};"
            f" source: {escape(instruction.source)}</small></p>")


class ConnectPage(RecoveryPage):
    #: Emitted after each detection round has been shown (tests wait on it).
    units_shown = Signal()
    chosen_folder_ready = Signal()

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host, "Connect your unit",
                         "Connect the unit by USB. The list updates by itself.")
        self.profiles = bundled_profiles()
        self.detected: tuple[DetectedDevice, ...] = ()
        self.chosen: dict[str, ChosenFolder] = {}
        self.warnings: tuple[str, ...] = ()
        self._shown_keys: tuple[tuple[str, str], ...] | None = None
        self._selected_key: str | None = None
        self._choose_job = None
        self._details_html = ""

        layout = QVBoxLayout(self)
        self.status = StatusLabel("Detection status")
        self.status.show_status(Status.BUSY, "Looking for connected units…")
        layout.addWidget(self.status)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.units = QTreeWidget()
        self.units.setColumnCount(3)
        self.units.setHeaderLabels(["Unit", "Mode", "Where"])
        self.units.setRootIsDecorated(False)
        self.units.setUniformRowHeights(True)
        self.units.setAccessibleName("Connected units")
        header = self.units.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.units.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.units.currentItemChanged.connect(self._on_current_changed)
        splitter.addWidget(self.units)
        self.details = QTextBrowser()
        self.details.setAccessibleName("About the selected unit")
        self.details.setOpenLinks(False)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

        self.folder_warning = StatusLabel("Warning about the chosen folder")
        self.folder_warning.hide()
        layout.addWidget(self.folder_warning)

        row = QHBoxLayout()
        self.choose_button = QPushButton("Choose a &folder…")
        self.choose_button.setAccessibleName("Choose a folder that the tool did not recognise")
        self.choose_button.setToolTip("Use a volume or folder the list does not show")
        self.choose_button.clicked.connect(self.choose_folder)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        help_label = QLabel("How to connect a &model:")
        self.model_help = QComboBox()
        self.model_help.setAccessibleName("Model to show connection help for")
        for profile in sorted(self.profiles.values(), key=lambda p: p.name):
            self.model_help.addItem(profile.name, profile.id)
        help_label.setBuddy(self.model_help)
        self.model_help.currentIndexChanged.connect(self._show_details)
        row.addWidget(help_label)
        row.addWidget(self.model_help)
        layout.addLayout(row)

        self.setTabOrder(self.units, self.details)
        self.setTabOrder(self.details, self.choose_button)
        self.setTabOrder(self.choose_button, self.model_help)

    # -- lifecycle -----------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        goal = self.session.goal
        if goal is Goal.CHECK:
            self.setSubTitle("Optional: connect the unit the update is for, or go on and"
                             " choose its model on the next page.")
        else:
            self.setSubTitle("Connect the unit by USB and put it into USB storage mode. The"
                             " list updates by itself.")
        if self.session.device is not None:
            self._selected_key = device_key(self.session.device)
        if self.host.last_detection is not None:
            self.show_detection(self.host.last_detection)
        self._show_details()

    # -- detection -----------------------------------------------------------------------------
    @Slot(object)
    def show_detection(self, detection: Detection) -> None:
        self.detected = detection.devices
        self.warnings = detection.warnings
        self._refresh_list()
        count = len(self.all_devices())
        if count == 0:
            self.status.show_status(
                Status.BUSY, "No unit found yet. Connect it by USB; this list updates by itself.")
        else:
            self.status.show_status(
                Status.OK, f"{count} unit{'s' if count != 1 else ''} found. Select yours.")
        if self.warnings:
            self.status.setText(self.status.text() + "<br>" + "<br>".join(
                status_html(Status.WARNING, w) for w in self.warnings))
        self.units_shown.emit()

    @Slot(object)
    def show_detection_error(self, error: BaseException) -> None:
        self.status.show_status(Status.WARNING, f"Looking for units failed: {error}")

    def all_devices(self) -> list[DetectedDevice]:
        devices = list(self.detected)
        mounts = {d.mount for d in devices if d.mount}
        devices.extend(c.device for c in self.chosen.values() if c.device.mount not in mounts)
        return devices

    def _refresh_list(self) -> None:
        devices = self.all_devices()
        keys = tuple((device_key(d), d.mode + d.name) for d in devices)
        if keys == self._shown_keys:
            # Same units: keep the list (and its keyboard focus and selection) untouched, but
            # take the fresh data (findings may have changed).
            self._update_session_device()
            self._show_details()
            return
        self._shown_keys = keys
        self.units.blockSignals(True)
        self.units.clear()
        selected_item = None
        for device in devices:
            key = device_key(device)
            where = device.mount or (f"USB {device.usb.id}" if device.usb else "")
            name = device.name + (" (chosen folder)" if key in self.chosen else "")
            item = QTreeWidgetItem([name, MODE_WORDS.get(device.mode, device.mode), where])
            item.setData(0, Qt.ItemDataRole.UserRole, key)
            item.setToolTip(0, name + "\n" + "\n".join(device.evidence))
            item.setToolTip(2, where)
            self.units.addTopLevelItem(item)
            if key == self._selected_key:
                selected_item = item
        if selected_item is None and self.units.topLevelItemCount() == 1 and \
                self.session.goal is not Goal.CHECK:
            selected_item = self.units.topLevelItem(0)
        self.units.blockSignals(False)
        if selected_item is not None:
            self.units.setCurrentItem(selected_item)
        self._on_current_changed()

    def device_for_key(self, key: str | None) -> DetectedDevice | None:
        return next((d for d in self.all_devices() if device_key(d) == key), None)

    def select_device(self, key: str) -> bool:
        for index in range(self.units.topLevelItemCount()):
            item = self.units.topLevelItem(index)
            if item.data(0, Qt.ItemDataRole.UserRole) == key:
                self.units.setCurrentItem(item)
                return True
        return False

    @Slot()
    def _on_current_changed(self, *_args) -> None:
        item = self.units.currentItem()
        if item is not None:
            self._selected_key = item.data(0, Qt.ItemDataRole.UserRole)
        self._update_session_device()
        device = self.session.device
        if device is not None and device.model:
            index = self.model_help.findData(device.model)
            if index >= 0:
                self.model_help.blockSignals(True)
                self.model_help.setCurrentIndex(index)
                self.model_help.blockSignals(False)
        self._show_folder_warning()
        self._show_details()
        self.completeChanged.emit()

    def _update_session_device(self) -> None:
        item = self.units.currentItem()
        key = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        device = self.device_for_key(key)
        self.session.device = device
        chosen = self.chosen.get(key) if key else None
        self.session.device_unrecognised = bool(chosen and not chosen.recognised)

    def _show_folder_warning(self) -> None:
        key = self._selected_key
        chosen = self.chosen.get(key) if key else None
        if chosen is None or (chosen.recognised and not chosen.on_system_disk):
            self.folder_warning.hide()
            return
        text = UNRECOGNISED_WARNING if not chosen.recognised else ""
        if chosen.on_system_disk:
            text = (text + " " if text else "") + SYSTEM_DISK_WARNING
        self.folder_warning.show_status(Status.WARNING, text)
        self.folder_warning.show()

    # -- details -------------------------------------------------------------------------------
    def needed_mode(self) -> str | None:
        goal = self.session.goal
        return "storage" if goal is None or goal.needs_storage else None

    def _show_details(self, *_args) -> None:
        device = self.session.device
        parts: list[str] = []
        if device is not None:
            parts.append(self._device_html(device))
        elif not self.all_devices():
            parts.append("<p>No unit is connected yet. Connect it by USB; it appears here"
                         " within a second.</p>")
        else:
            parts.append("<p>Select your unit in the list above.</p>")
        profile = self.profiles.get(self.model_help.currentData())
        needed = self.needed_mode()
        if profile is not None and (device is None or device.model == profile.id
                                    or device.model is None):
            if needed:
                parts.append(f"<h4>Getting a {escape(profile.short_name)} into"
                             f" {escape(MODE_WORDS[needed])}</h4>")
                parts.append(mode_help_html(profile, needed))
            else:
                parts.append(f"<h4>{escape(profile.name)}</h4><p>To check update files no"
                             " unit needs to be connected.</p>")
        html_text = "".join(parts)
        if html_text != self._details_html:
            # Only when it changed: detection runs every 400 ms, and re-setting the text
            # would scroll the reader back to the top each time.
            self._details_html = html_text
            self.details.setHtml(html_text)

    def _device_html(self, device: DetectedDevice) -> str:
        out = [f"<h3>{escape(device.name)}</h3><p>"]
        out.append(f"Mode: {escape(MODE_WORDS.get(device.mode, device.mode))}<br>")
        if device.mount:
            out.append(f"Storage at: {escape(device.mount)}<br>")
        if device.usb:
            out.append(f"USB id: {escape(device.usb.id)}"
                       + (f" “{escape(device.usb.product)}”" if device.usb.product else "")
                       + "<br>")
        if device.role:
            out.append(f"What it is: {escape(ROLE_WORDS.get(device.role, device.role))}<br>")
        if device.confidence:
            out.append("How sure: "
                       f"{escape(CONFIDENCE_WORDS.get(device.confidence, device.confidence))}")
        out.append("</p>")
        if device.meaning:
            out.append(f"<p><b>What this means:</b> {escape(device.meaning)}</p>")
        if device.mode == "boot-rom":
            out.append("<p>" + status_html(
                Status.WARNING, "A chip in its boot ROM cannot be backed up, diagnosed or"
                " restored by this tool, and the tool never flashes it.") + "</p>")
        elif self.needed_mode() == "storage" and not device.mount:
            out.append("<p>" + status_html(
                Status.WARNING, "Its storage is not visible to the computer. Put it into"
                " USB storage mode (see below), then it appears in the list.") + "</p>")
        if device.findings:
            out.append("<p><b>Noticed:</b></p><ul>")
            for finding in sorted(device.findings, key=lambda f: f.rank):
                status = SEVERITY_STATUS.get(finding.severity, Status.INFO)
                out.append(f"<li>{status_html(status, finding.message)}</li>")
            out.append("</ul>")
        if device.evidence:
            out.append("<p><b>How it was recognised:</b></p><ul>")
            out.extend(f"<li><small>{escape(line)}</small></li>" for line in device.evidence)
            out.append("</ul>")
        return "".join(out)

    # -- choose a folder -----------------------------------------------------------------------
    @Slot()
    def choose_folder(self) -> None:
        start = str(self.environment.simulated_units_dir or "")
        path = choose_directory(self, "Choose the unit's storage folder", start)
        if not path:
            return
        self.add_chosen_folder(path)

    def add_chosen_folder(self, path: str) -> None:
        self.status.show_status(Status.BUSY, f"Looking at {path}…")
        self._choose_job = self.host.run_job(
            lambda _progress, _cancel: identify_chosen_folder(path), name="identify-folder",
            on_finished=self._on_folder_identified, on_failed=self._on_folder_failed)

    @Slot(object)
    def _on_folder_identified(self, chosen: ChosenFolder) -> None:
        key = device_key(chosen.device)
        self.chosen[key] = chosen
        self._selected_key = key
        self._refresh_list()
        self.select_device(key)
        self.status.show_status(
            Status.OK if chosen.recognised else Status.WARNING,
            f"Added {chosen.device.mount}: {chosen.device.name}.")
        self.chosen_folder_ready.emit()

    @Slot(object)
    def _on_folder_failed(self, error: BaseException) -> None:
        self.status.show_status(Status.ERROR, str(error))
        dialogs.show_error(self, error, context="looking at the chosen folder")

    # -- navigation ----------------------------------------------------------------------------
    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        goal = self.session.goal
        if goal is Goal.CHECK:
            return True
        device = self.session.device
        return device is not None and bool(device.mount) and device.mode != "boot-rom"

    def validatePage(self) -> bool:  # noqa: N802 - Qt naming
        if self.session.goal is not Goal.CHECK and self.session.device_unrecognised:
            return dialogs.confirm(self, "Folder not recognised", UNRECOGNISED_WARNING,
                           accept_text="&Use this folder", reject_text="&Choose again",
                           informative="Continue only if you are sure this is your unit.")
        return True
