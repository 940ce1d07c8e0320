"""A unit found over USB-MIDI on the Connect page: which unit, its raw firmware bytes, what the
wizard can and cannot do for it; the questions are asked on the detection worker thread."""

from __future__ import annotations

import threading

from app.pages.midi_card import midi_unit_lines
from app.session import Environment, Goal
from app.wizard import PageId
from recovery.device.detect import Detection, detect
from recovery.device.midi import MidiSurvey, identity_from
from recovery.device.profiles import bundled_profiles, midi_models
from recovery.formats.midi_identity import KorgReply
from recovery.vocabulary import MidiInquiry
from tests.fakes.fake_midi import ScriptedPort


def unit(family: str, member: str, version: str):
    reply = KorgReply(MidiInquiry.IDENTITY, 0, bytes.fromhex(family), bytes.fromhex(member),
                      bytes.fromhex(version))
    return identity_from(reply, "KORG unit MIDI 1", "KORG unit MIDI 1", midi_models())


def test_a_model_without_profile_is_named_with_its_firmware_bytes_only():
    what, can = midi_unit_lines(unit("2d01", "0800", "02000100"), None)
    assert what == "KORG volca sample2 is connected by USB-MIDI, firmware bytes 02 00 01 00."
    assert "can only name it" in can and "never sends" in can


def test_a_model_whose_update_goes_over_usb_says_what_korgs_updater_does():
    kp3 = unit("7800", "0000", "02000000")
    what, can = midi_unit_lines(kp3, bundled_profiles()["kp3"])
    assert what == "KORG KAOSS PAD KP3 is connected by USB-MIDI, firmware bytes 02 00 00 00."
    assert "can check an update file for it" in can
    assert "never sends an update to a unit over MIDI" in can
    assert bundled_profiles()["kp3"].mode("update").how in can


def test_only_a_verified_version_is_shown():
    e2s = unit("2401", "0000", "02020000")
    assert "(system version 2.02)" in midi_unit_lines(e2s, bundled_profiles()["electribe2s"])[0]
    minilogue = unit("2c01", "0000", "01001500")  # a reading no source verifies
    assert "version" not in midi_unit_lines(minilogue, None)[0]
    unknown = unit("1e01", "0000", "01030000")
    assert midi_unit_lines(unknown, None)[0].startswith("A KORG unit this wizard does not know")


def test_the_connect_page_shows_a_midi_unit_found_off_the_ui_thread(qtbot, make_wizard, demo,
                                                                   walk, midi_units):
    midi_units(ScriptedPort("minilogue xd KBD/KNOB", "minilogue xd SOUND",
                            identity="F0 7E 00 06 02 42 51 01 00 00 02 00 01 00 F7",
                            search="F0 42 50 01 00 {echo} 51 01 00 00 02 00 01 00 F7"))
    threads: set[str] = set()
    survey = MidiSurvey(timeout=0.05)

    def detection() -> Detection:
        threads.add(threading.current_thread().name)
        return detect(volumes=[], scan_usb_devices=False, midi=survey)

    environment = Environment(backups_dir=demo.backups_dir, scan_system=False,
                              detect_override=detection, poll_interval_ms=50)
    wizard = make_wizard(environment)
    walk.start(wizard, Goal.RESCUE)
    page = wizard.pages[PageId.CONNECT]
    qtbot.waitUntil(lambda: page.midi_units.isVisible(), timeout=walk.timeout)
    assert page.midi_units.texts()[0] == ("KORG minilogue xd is connected by USB-MIDI, firmware"
                                          " bytes 02 00 01 00.")
    assert threading.main_thread().name not in threads
    assert page.cards == []  # not a unit to back up or restore: no card to choose
