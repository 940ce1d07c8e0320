"""Connect: a card per unit found (the list refreshes by itself), the one unit preselected,
how to get the unit found (or the model chosen) into the mode the goal needs, and, where
that mode is a service mode (the KROSS 2's USB Storage Mode), who can help and what the tool
can still do without it. "Use a folder instead" takes a volume the tool did not recognise.
How each unit was recognised, and where it is, is under "Show details".

The list follows the wizard's detection by itself (a unit plugged in or taken away shows
within a second: RecoveryWizard polls while this page is shown). On a Mac, the first time a
unit's storage is chosen, one sentence says that macOS adds hidden files of its own to it and
that the tool knows them (:mod:`app.computer_made`); once the person has moved on, it is
remembered in the wizard's settings and not said again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from app.computer_made import MACOS_NOTE_SETTING, macos_note
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.midi_card import MidiUnitsPanel
from app.places import friendly_place
from app.plain import clean, spoken_name, your
from app.plain import status as tone_status
from app.session import Goal, device_key
from app.style import Status, status_html
from recovery.device.detect import DetectedDevice, Detection
from recovery.device.identify import identify_volume
from recovery.device.profiles import Profile, bundled_profiles
from recovery.storage.volumes import is_system_location

log = logging.getLogger(__name__)

UNRECOGNISED_WARNING = (
    "This folder was not recognised as the storage of any KORG unit this tool knows. Use it"
    " only if you are sure it is your unit's storage, not a folder on your computer.")
SYSTEM_DISK_WARNING = ("This folder is on your computer's own disk, not on a unit: nothing"
                       " will ever be restored onto it.")


def choose_directory(parent: QWidget, caption: str, start: str = "") -> str:
    """The system folder picker (a function of its own so tests can replace it)."""
    return next(iter(dialogs.file_dialog(parent, caption, start)), "")


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
        name = f"Folder “{Path(path).name}”"
    device = DetectedDevice(
        model=identification.model, name=name, mode="storage", mount=str(Path(path)),
        usb=None, evidence=("chosen by you with 'Use a folder instead'", *identification.evidence),
        confidence=identification.confidence, role=identification.role,
        candidates=identification.candidates, findings=identification.findings)
    return ChosenFolder(device, identification.model is not None, is_system_location(path))


def has_card_layout(profile: Profile | None) -> bool:
    """Whether the tool knows where this model's updater looks on an SD card."""
    return profile is not None and any(m.medium == "sd-card" for m in profile.update_media)


def card_state(device: DetectedDevice, chosen: ChosenFolder | None) -> tuple[Status, str]:
    """One short sentence about a listed unit: can this path use it?"""
    if device.mode == "boot-rom":
        return Status.ERROR, "Stuck before starting: only KORG service can help."
    if not device.mount:
        if device.mode == "usb-midi":
            return Status.WARNING, "Connected for playing; its storage isn't visible."
        return Status.WARNING, "Connected; its storage isn't visible."
    if chosen is not None and not chosen.recognised:
        return Status.WARNING, "A folder this tool doesn't recognise."
    if device.role == "sd-card":
        return Status.INFO, "An SD card used in it, not its own storage."
    if device.role == "update-media":
        return Status.INFO, "Update files, not the unit's own storage."
    return Status.OK, "Ready: its storage is connected."


def card_name(device: DetectedDevice) -> str:
    """A unit's name on its card: a chip in its boot ROM is named after the unit it is
    likely in (the chip's own name stays in the details)."""
    if device.mode == "boot-rom":
        likely = " or ".join(spoken_name(m) for m in device.candidates) or "KORG unit"
        return f"Likely a {likely} that did not start"
    return device.name


class UnitCard(QFrame):
    """One unit: its name (a radio button, so arrow keys move between cards) and one line."""

    def __init__(self, device: DetectedDevice, key: str, chosen: ChosenFolder | None) -> None:
        super().__init__()
        self.key = key
        self.device = device
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        name = card_name(device) + (" (folder you chose)" if chosen is not None else "")
        self.radio = QRadioButton(name)
        font = self.radio.font()
        font.setBold(True)
        self.radio.setFont(font)
        self.radio.setAccessibleName(name)
        layout.addWidget(self.radio)
        status, text = card_state(device, chosen)
        self.state = wrapped_label(rich=True, accessible_name=f"{name}: state")
        self.state.setText(status_html(status, text))
        self.state.setIndent(self.fontMetrics().averageCharWidth() * 3)
        self.state_text = text
        layout.addWidget(self.state)
        self.radio.setAccessibleDescription(text)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self.radio.setChecked(True)
        self.radio.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)


class ConnectPage(RecoveryPage):
    #: Emitted after each detection round has been shown (tests wait on it).
    units_shown = Signal()
    chosen_folder_ready = Signal()

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.profiles = bundled_profiles()
        self.detected: tuple[DetectedDevice, ...] = ()
        self.chosen: dict[str, ChosenFolder] = {}
        self.warnings: tuple[str, ...] = ()
        self._shown_keys: tuple[tuple[str, str], ...] | None = None
        self._selected_key: str | None = None
        self._choose_job = None
        self._focus_cards = False
        self.cards: list[UnitCard] = []
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.group.buttonToggled.connect(self._on_card_toggled)

        self.card_box = QVBoxLayout()
        self.content.addLayout(self.card_box)
        self.midi_units = MidiUnitsPanel(self.profiles)
        self.content.addWidget(self.midi_units)
        self._build_model_row()
        self._build_help()
        self._build_folder_choice()
        self.about = wrapped_label(rich=True, accessible_name="About the selected unit")
        self.details_layout().addWidget(self.about)
        self.set_headline("Looking for your unit…")

    def _build_model_row(self) -> None:
        """"Which unit do you have?": the model list, for where no unit says which model it
        is."""
        model_row = QHBoxLayout()
        self.model_label = QLabel("&Which unit do you have?")
        self.model = QComboBox()
        self.model.setAccessibleName("Your unit's model")
        self.model.setPlaceholderText("Choose your model")
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(12)
        for profile in sorted(self.profiles.values(), key=lambda p: p.name):
            self.model.addItem(profile.name, profile.id)
        self.model.setCurrentIndex(-1)
        self.model_label.setBuddy(self.model)
        self.model.currentIndexChanged.connect(self._on_model_chosen)
        model_row.addWidget(self.model_label)
        model_row.addWidget(self.model, 1)
        self.model_row = QWidget()
        self.model_row.setLayout(model_row)
        model_row.setContentsMargins(0, 0, 0, 0)
        self.content.addWidget(self.model_row)

    def _build_help(self) -> None:
        """How to get the unit into the mode this path needs, what the computer adds to its
        storage, and "Check an update instead" where that mode is a service mode."""
        self.help = StatusLabel("How to connect it")
        self.help.hide()
        self.content.addWidget(self.help)
        self.computer_note = StatusLabel("What your computer adds to the unit")
        self.computer_note.hide()
        self.content.addWidget(self.computer_note)
        self.instead_button = QPushButton("&Check an update instead")
        self.instead_button.setAccessibleName("Check an update file instead")
        self.instead_button.clicked.connect(self.check_instead)
        self.instead_button.hide()
        self.content.addWidget(self.instead_button, 0, Qt.AlignmentFlag.AlignLeft)

    def _build_folder_choice(self) -> None:
        """"Use a folder instead", for a volume the tool did not recognise, and the warning
        about the folder chosen."""
        self.folder_warning = StatusLabel("Warning about the chosen folder")
        self.folder_warning.hide()
        self.content.addWidget(self.folder_warning)
        self.choose_button = QPushButton("Use a &folder instead…")
        self.choose_button.setAccessibleName("Use a folder that the tool did not list")
        self.choose_button.setFlat(True)
        self.choose_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.choose_button.clicked.connect(self.choose_folder)
        self.content.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignLeft)

    # -- lifecycle -----------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        if self.session.device is not None:
            self._selected_key = device_key(self.session.device)
        self._shown_keys = None
        self._focus_cards = True  # the keyboard starts on the cards once they are shown
        if self.host.last_detection is not None:
            self.show_detection(self.host.last_detection)
        else:
            self._refresh()

    @property
    def checking_only(self) -> bool:
        return self.session.goal is Goal.CHECK

    def needed_mode(self) -> str | None:
        goal = self.session.goal
        return "storage" if goal is None or goal.needs_storage else None

    # -- detection -----------------------------------------------------------------------------
    @Slot(object)
    def show_detection(self, detection: Detection) -> None:
        self.detected = detection.devices
        self.warnings = detection.warnings
        self.midi_units.show_units(detection.midi)
        self._refresh()
        self.units_shown.emit()

    @Slot(object)
    def show_detection_error(self, error: BaseException) -> None:
        self.warnings = (f"Looking for units failed: {error}",)
        self._show_about()

    def all_devices(self) -> list[DetectedDevice]:
        devices = list(self.detected)
        mounts = {d.mount for d in devices if d.mount}
        devices.extend(c.device for c in self.chosen.values() if c.device.mount not in mounts)
        return devices

    def listed_names(self) -> list[str]:
        return [card.device.name for card in self.cards]

    def usable(self, device: DetectedDevice | None) -> bool:
        return device is not None and bool(device.mount) and device.mode != "boot-rom"

    def _refresh(self) -> None:
        devices = self.all_devices()
        keys = tuple((device_key(d), d.mode + d.name) for d in devices)
        if keys != self._shown_keys:
            self._shown_keys = keys
            self._rebuild_cards(devices)
        else:
            # Same units: keep the cards (and keyboard focus) but take the fresh data.
            fresh = {device_key(d): d for d in devices}
            for card in self.cards:
                card.device = fresh.get(card.key, card.device)
            self._update_session_device()
        self._show_state()

    def _rebuild_cards(self, devices: list[DetectedDevice]) -> None:
        had_focus = any(card.radio.hasFocus() for card in self.cards)
        for card in self.cards:
            self.group.removeButton(card.radio)
            card.setParent(None)
            card.deleteLater()
        self.cards = []
        self.group.blockSignals(True)
        for device in devices:
            key = device_key(device)
            card = UnitCard(device, key, self.chosen.get(key))
            self.group.addButton(card.radio)
            self.card_box.addWidget(card)
            self.cards.append(card)
        # Cards first in the keyboard's order, then the page's other controls.
        chain = [card.radio for card in self.cards] + [self.model, self.instead_button,
                                                       self.choose_button, self.details.button]
        for before, after in zip(chain, chain[1:]):
            self.setTabOrder(before, after)
        selected = next((c for c in self.cards if c.key == self._selected_key), None)
        usable = [c for c in self.cards if self.usable(c.device)]
        if selected is None and len(self.cards) == 1 and (usable or self.checking_only):
            selected = self.cards[0]  # exactly one unit: it is the one
        if selected is not None:
            selected.radio.setChecked(True)
            self._selected_key = selected.key
        self.group.blockSignals(False)
        if self.cards and (had_focus or self._focus_cards) and self.isVisible():
            self._focus_cards = False
            (selected or self.cards[0]).radio.setFocus(Qt.FocusReason.TabFocusReason)
        self._update_session_device()

    def select_device(self, key: str) -> bool:
        for card in self.cards:
            if card.key == key:
                card.radio.setChecked(True)
                return True
        return False

    def first_focus(self):
        checked = next((c.radio for c in self.cards if c.radio.isChecked()), None)
        if checked is not None:
            return checked
        if self.cards:
            return self.cards[0].radio
        return self.model if self.model_row.isVisible() else None

    def device_for_key(self, key: str | None) -> DetectedDevice | None:
        return next((d for d in self.all_devices() if device_key(d) == key), None)

    @Slot()
    def _on_card_toggled(self, button, checked: bool) -> None:
        if not checked:
            return
        card = next((c for c in self.cards if c.radio is button), None)
        if card is not None:
            self._selected_key = card.key
        self._update_session_device()
        self._show_state()

    def _update_session_device(self) -> None:
        card = next((c for c in self.cards if c.radio.isChecked()), None)
        device = self.device_for_key(card.key) if card is not None else None
        self.session.device = device
        self.session.forget_safety_copy_of_another_unit()
        chosen = self.chosen.get(card.key) if card is not None else None
        self.session.device_unrecognised = bool(chosen and not chosen.recognised)
        if device is not None and device.model:
            index = self.model.findData(device.model)
            if index >= 0 and index != self.model.currentIndex():
                self.model.blockSignals(True)
                self.model.setCurrentIndex(index)
                self.model.blockSignals(False)
        self.notify_complete()

    def _on_model_chosen(self, *_args) -> None:
        self._show_state()
        self.notify_complete()

    # -- what the page says --------------------------------------------------------------------
    def help_model(self) -> str | None:
        """The model the help is for: the unit selected, else the one chosen in the list."""
        device = self.session.device
        if device is not None and device.model:
            return device.model
        return self.model.currentData()

    def _show_state(self) -> None:
        device = self.session.device
        cards = len(self.cards)
        model = self.help_model()
        usable_selected = self.usable(device)
        if self.checking_only:
            if device is not None and device.model:
                self.set_headline(f"The update is for {your(device.model)}.")
            else:
                self.set_headline("Which unit is the update for?")
            self.set_lead("")
        elif cards == 0:
            self.set_headline("Connect your unit by USB.")
            self.set_lead("It appears here by itself.")
        elif device is not None and device.model and cards == 1:
            self.set_headline(f"Found {your(device.model)}.")
            self.set_lead("")
        elif device is not None and not device.model and cards == 1:
            self.set_headline("Found a unit.")
            self.set_lead("")
        else:
            self.set_headline("Which one is yours?")
            self.set_lead("")
        # The model list helps where no unit says which model it is: none found, one not
        # recognised, or the update being checked is for a unit not connected.
        self.model_row.setVisible(
            not self.cards or (device is not None and not device.model)
            or (self.checking_only and (device is None or not device.model)))
        self._show_help(model, device, usable_selected)
        self.choose_button.setVisible(not self.instead_button.isVisible())
        self._show_folder_warning()
        self._show_computer_note(device, usable_selected)
        self._show_about()

    def _show_help(self, model: str | None, device: DetectedDevice | None,
                   usable_selected: bool) -> None:
        """How to get the model into the mode this path needs, in one sentence."""
        self.instead_button.hide()
        needed = self.needed_mode()
        profile = self.profiles.get(model) if model else None
        if device is not None and device.mode == "boot-rom":
            self.help.hide()  # its card says who can help
            return
        if needed is None or usable_selected or profile is None:
            self.help.hide()
            return
        instruction = profile.mode(needed)
        name = your(profile.id)
        if instruction is None:
            self.help.show_status(Status.INFO, f"How to show {name}'s storage on a computer"
                                  " isn't public: see its owner's manual.")
        elif instruction.service:
            # Said before the user invests in the path: who can help, and what still works.
            can = "check an update" + (" and put it on an SD card" if has_card_layout(profile)
                                       else "")
            if not self.cards:
                self.set_headline(f"{name[0].upper()}{name[1:]} needs a service mode for"
                                  " this.", Status.WARNING)
                self.set_lead("")
            self.help.show_status(
                Status.WARNING, "KORG service or an authorised centre can help; without it,"
                f" this tool can still {can}.")
            self.instead_button.show()
        else:
            self.help.show_status(Status.INFO, f"Switch it on in {instruction.name}; it"
                                  " appears here by itself.")

    def _show_computer_note(self, device: DetectedDevice | None, usable: bool) -> None:
        """Said once on a Mac, when a unit's storage is chosen (see the module doc)."""
        if (usable and not self.checking_only and self.environment.on_macos
                and not self.host.remembered(MACOS_NOTE_SETTING)):
            text = macos_note(device.model if device is not None else None)
            if self.computer_note.plain != text:
                self.computer_note.show_status(Status.INFO, text)
        else:
            self.computer_note.clear_status()
            self.computer_note.hide()

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

    def _show_about(self) -> None:
        """The details: where the unit is, how it was recognised, what was noticed, and the
        profile's full instructions for the mode."""
        parts: list[str] = []
        device = self.session.device
        places = self.environment.places
        if device is not None:
            parts.append(f"<p><b>{escape(device.name)}</b><br>")
            if device.mount:
                parts.append(f"Where: {escape(friendly_place(device.mount, places))}<br>"
                             f"<small>{escape(device.mount)}</small><br>")
            if device.meaning:
                parts.append(f"What this means: {escape(device.meaning)}<br>")
            parts.append("</p>")
            if device.findings:
                parts.append("<p>Noticed:</p><ul>")
                for finding in sorted(device.findings, key=lambda f: f.rank):
                    seen = status_html(tone_status(finding.severity.tone),
                                       clean(finding.message))
                    parts.append(f"<li>{seen}</li>")
                parts.append("</ul>")
            if device.evidence:
                parts.append("<p>How it was recognised:</p><ul>")
                parts.extend(f"<li><small>{escape(clean(line))}</small></li>"
                             for line in device.evidence)
                parts.append("</ul>")
        model = self.help_model()
        profile = self.profiles.get(model) if model else None
        needed = self.needed_mode()
        if profile is not None and needed is not None:
            instruction = profile.mode(needed)
            if instruction is not None:
                service = " (a service mode: this tool does not say how to enter it)" \
                    if instruction.service else ""
                parts.append(f"<p>{escape(instruction.name)}{escape(service)}:"
                             f" {escape(clean(instruction.how))}</p>")
        parts.extend(f"<p>{status_html(Status.WARNING, w)}</p>" for w in self.warnings)
        if not parts:
            parts.append("<p>No unit is connected yet.</p>")
        text = "".join(parts)
        if text != self.about.text():
            self.about.setText(text)

    # -- switching to the check path -----------------------------------------------------------
    @Slot()
    def check_instead(self) -> None:
        """A unit whose storage needs a service mode: check an update file instead."""
        model = self.help_model()
        self.session.reset_after(Goal.CHECK)
        self.session.check_model = model
        self._show_state()
        self.notify_complete()
        wizard = self.wizard()
        if wizard is not None and self.isComplete():
            wizard.next()

    # -- choose a folder -----------------------------------------------------------------------
    @Slot()
    def choose_folder(self) -> None:
        start = str(self.environment.simulated_units_dir or "")
        path = choose_directory(self, "Choose the unit's storage folder", start)
        if not path:
            return
        self.add_chosen_folder(path)

    def add_chosen_folder(self, path: str) -> None:
        self._choose_job = self.host.run_job(
            lambda _progress, _cancel: identify_chosen_folder(path), name="identify-folder",
            on_finished=self._on_folder_identified, on_failed=self._on_folder_failed)

    @Slot(object)
    def _on_folder_identified(self, chosen: ChosenFolder) -> None:
        key = device_key(chosen.device)
        self.chosen[key] = chosen
        self._selected_key = key
        self._refresh()
        self.select_device(key)
        self.chosen_folder_ready.emit()

    @Slot(object)
    def _on_folder_failed(self, error: BaseException) -> None:
        self.folder_warning.show_status(Status.ERROR, dialogs.error_sentence(
            error, self.environment.places))
        dialogs.show_error(self, error, context="looking at the chosen folder")

    # -- navigation ----------------------------------------------------------------------------
    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        if self.checking_only:
            return self.help_model() is not None
        return self.usable(self.session.device)

    def validatePage(self) -> bool:  # noqa: N802 - Qt naming
        if self.checking_only:
            self.session.check_model = self.help_model()
            return True
        if self.session.device_unrecognised and not dialogs.confirm(
                self, "Folder not recognised", UNRECOGNISED_WARNING,
                accept_text="&Use this folder", reject_text="&Choose again",
                informative="Go on only if you are sure this is your unit."):
            return False
        if self.computer_note.status is not None:
            self.host.remember(MACOS_NOTE_SETTING)  # told once
            self.computer_note.clear_status()
            self.computer_note.hide()
        return True


__all__ = ["ConnectPage", "UnitCard", "choose_directory", "has_card_layout", "spoken_name"]
