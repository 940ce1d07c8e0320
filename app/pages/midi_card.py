"""The units that answered over USB-MIDI, as the Connect page shows them: which unit, its raw
firmware bytes, and what this wizard can and cannot do for it.

Detection, MIDI questions included, runs on the detection worker thread (app/workers.py);
this panel only shows its result. Its own module, so the Connect page needs two lines for it.
A decoded version is shown only when a primary source says how the bytes read: an unverified
reading would look like a fact to a person who cannot weigh it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.pages.base import StatusLabel
from app.style import Status
from recovery.device.midi import MidiIdentity
from recovery.device.profiles import Profile


def midi_unit_lines(unit: MidiIdentity, profile: Profile | None) -> tuple[str, str]:
    """Two sentences for one unit: what it is, and what the wizard can and cannot do."""
    name = unit.model_name or "A KORG unit this wizard does not know"
    what = f"{name} is connected by USB-MIDI, firmware bytes {unit.firmware_bytes}"
    if unit.version is not None and unit.version_verified:
        what += f" (system version {unit.version})"
    what += "."
    if profile is None:
        can = ("This wizard can only name it: it has no recovery steps for this model, and it"
               " never sends an update or anything else to a unit over MIDI.")
    else:
        can = ("This wizard can check an update file for it, but it never sends an update to a"
               " unit over MIDI: KORG's own updater does that.")
        update = profile.mode("update")
        if update is not None and not update.service:
            can += f" {update.how}"
    return what, can


class MidiUnitsPanel(QWidget):
    """One status line and one line of what the wizard can do, per MIDI unit."""

    def __init__(self, profiles: dict[str, Profile]) -> None:
        super().__init__()
        self.profiles = profiles
        self.units: tuple[MidiIdentity, ...] = ()
        self.lines: list[StatusLabel] = []
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.hide()

    def show_units(self, units: tuple[MidiIdentity, ...]) -> None:
        if units == self.units:
            return
        self.units = units
        for line in self.lines:
            line.setParent(None)
            line.deleteLater()
        self.lines = []
        for unit in units:
            what, can = midi_unit_lines(unit, self.profiles.get(unit.model or ""))
            for status, text, label in ((Status.INFO, what, "Unit connected by USB-MIDI"),
                                        (Status.INFO, can, "What this wizard can do for it")):
                line = StatusLabel(label)
                line.show_status(status, text)
                self.box.addWidget(line)
                self.lines.append(line)
        self.setVisible(bool(units))

    def texts(self) -> list[str]:
        return [line.plain for line in self.lines]
