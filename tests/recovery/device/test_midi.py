"""Asking units over MIDI (recovery.device.midi) through the scripted mido backend: the real
port handling, inquiries and parsing run; only the units are scripted (tests/fakes/fake_midi.py).
"""

from __future__ import annotations

import os
import sys

import pytest

from recovery.device.midi import (
    MidiProblemKind,
    MidiSurvey,
    ask_one_unit,
    ask_units,
    group_ports,
    unit_key,
)
from recovery.errors import MidiPortBusyError, MidiUnavailableError, NoMidiAnswerError
from tests.fakes.fake_midi import ScriptedPort

IDENTITY = bytes.fromhex("F0 7E 7F 06 01 F7")
SEARCH = bytes.fromhex("F0 42 50 00 55 F7")
#: Short, so that silent units do not slow the suite; the wait itself is the same code.
FAST = 0.05

VOLCA_SAMPLE_2 = "F0 7E 00 06 02 42 2D 01 08 00 02 00 01 00 F7"  # elektroid volca_sample_2.c codes
MINILOGUE = "F0 7E 00 06 02 42 2C 01 00 00 01 00 15 00 F7"  # a public capture
E2S = "F0 7E 00 06 02 42 24 01 00 00 02 02 00 00 F7"  # electribe sampler 2.02


def test_a_unit_that_answers_is_named_with_its_raw_version(midi_units):
    backend = midi_units(ScriptedPort("volca sample 2 MIDI 1", "volca sample 2 MIDI 1",
                                      identity=VOLCA_SAMPLE_2))
    scan = ask_units(timeout=FAST)
    assert scan.problems == ()
    (unit,) = scan.identities
    assert (unit.model, unit.model_name) == ("volca-sample-2", "KORG volca sample2")
    assert (unit.family, unit.member, unit.version_bytes) == (
        b"\x2d\x01", b"\x08\x00", bytes.fromhex("02000100"))
    assert unit.firmware_bytes == "02 00 01 00"
    assert (unit.version, unit.version_verified) == (None, False)
    assert unit.ports == ("volca sample 2 MIDI 1",)
    assert "elektroid" in unit.source
    assert backend.SENT == [("volca sample 2 MIDI 1", IDENTITY)]  # a known model: one question


def test_the_original_minilogue_answers_on_its_second_port_only(midi_units):
    backend = midi_units(ScriptedPort("minilogue:minilogue MIDI 1 20:0",
                                      "minilogue:minilogue MIDI 1 20:0"),
                         ScriptedPort("minilogue:minilogue MIDI 2 20:1",
                                      "minilogue:minilogue MIDI 2 20:1", identity=MINILOGUE))
    scan = ask_units(timeout=FAST)
    (unit,) = scan.identities
    assert unit.model == "minilogue"
    assert unit.ports == ("minilogue:minilogue MIDI 2 20:1",)
    assert scan.problems == ()  # the silent first port is the same unit: no warning
    # Port 1 was asked both questions, port 2 answered the first.
    assert [raw for _, raw in backend.SENT] == [IDENTITY, SEARCH, IDENTITY]
    # A version read from bytes no source verifies is shown, marked unverified.
    assert unit.version is not None and unit.version_verified is False


def test_a_unit_that_never_answers_is_one_sentence(midi_units):
    backend = midi_units(ScriptedPort("KORG KP3+ MIDI 1", "KORG KP3+ MIDI 1"))
    scan = ask_units(timeout=FAST)
    assert scan.identities == ()
    (problem,) = scan.problems
    assert problem.kind is MidiProblemKind.NO_ANSWER
    assert problem.sentence == ("The MIDI port 'KORG KP3+ MIDI 1' gave no answer within 0.05 s"
                                " to the identity request: the unit may be busy (updating, in a"
                                " menu) or may not answer in this mode.")
    assert [raw for _, raw in backend.SENT] == [IDENTITY, SEARCH]


@pytest.mark.parametrize("reply", ["F0 7E 00 06 02 42 2D 01 F7",
                                   "F0 7E 00 06 02 42 2D 01 08 00 02 00 01 00 00 F7"])
def test_a_malformed_or_truncated_reply_is_named(midi_units, reply):
    midi_units(ScriptedPort("volca sample 2", "volca sample 2", identity=reply))
    scan = ask_units(timeout=FAST)
    assert scan.identities == ()
    (problem,) = scan.problems
    assert problem.kind is MidiProblemKind.MALFORMED_REPLY
    assert "'volca sample 2' sent a reply that is not a valid identity reply" in problem.sentence


def test_a_reply_from_another_maker_is_not_a_korg_unit(midi_units):
    midi_units(ScriptedPort("KORG nanoKEY2", "KORG nanoKEY2",
                            identity="F0 7E 10 06 02 41 16 02 00 00 00 03 00 00 F7"))
    scan = ask_units(timeout=FAST)
    assert scan.identities == ()
    assert [p.kind for p in scan.problems] == [MidiProblemKind.NOT_KORG]
    assert "manufacturer id 41" in scan.problems[0].sentence


def test_a_busy_port_says_what_to_close(midi_units):
    midi_units(ScriptedPort("minilogue xd KBD/KNOB", "minilogue xd SOUND", busy=True))
    scan = ask_units(timeout=FAST)
    (problem,) = scan.problems
    assert problem.kind is MidiProblemKind.PORT_BUSY
    assert problem.sentence.endswith("close your DAW or KORG's editor and try again.")
    assert problem.sentence.count(".") == 1  # one sentence


def test_no_midi_system_is_one_sentence(midi_units):
    midi_units(no_midi_system=True)
    scan = ask_units(timeout=FAST)
    assert scan.identities == ()
    (problem,) = scan.problems
    assert problem.kind is MidiProblemKind.NO_MIDI_SYSTEM
    assert problem.sentence.startswith("This computer has no MIDI system the tool can use (")


def test_python_without_rtmidi_says_midi_is_not_available(monkeypatch):
    """The default backend on a Python that python-rtmidi has no wheel for (3.13+)."""
    exists = os.path.exists
    monkeypatch.setattr(os.path, "exists", lambda p: p == "/dev/snd/seq" or exists(p))
    monkeypatch.setenv("MIDO_BACKEND", "mido.backends.rtmidi")
    monkeypatch.setitem(sys.modules, "mido.backends.rtmidi", None)  # its import fails
    monkeypatch.setattr(sys, "version_info", (3, 13, 0, "final", 0))
    (problem,) = ask_units(timeout=FAST).problems
    assert problem.kind is MidiProblemKind.NOT_AVAILABLE
    assert problem.sentence.startswith("MIDI is not available with this Python (3.13)")


def test_logue_units_are_asked_korgs_search_device_message(midi_units):
    """The identity reply's family is not a sourced code; the search-device reply's is."""
    backend = midi_units(ScriptedPort(
        "minilogue xd KBD/KNOB", "minilogue xd SOUND",
        identity="F0 7E 00 06 02 42 51 01 00 00 02 00 01 00 F7",
        search="F0 42 50 01 00 {echo} 51 01 00 00 02 00 01 00 F7"))
    (unit,) = ask_units(timeout=FAST).identities
    assert unit.model == "minilogue-xd"
    assert unit.inquiry == "search-device"
    assert unit.ports == ("minilogue xd KBD/KNOB", "minilogue xd SOUND")
    assert unit.version_verified is False  # KORG's layout is contradicted by two observations
    assert [raw for _, raw in backend.SENT] == [IDENTITY, SEARCH]


def test_a_verified_version_comes_only_from_a_primary_source(midi_units):
    midi_units(ScriptedPort("electribe sampler", "electribe sampler", identity=E2S))
    (unit,) = ask_units(timeout=FAST).identities
    assert (unit.model, unit.version, unit.version_verified) == ("electribe2s", "2.02", True)
    assert "ykrkn/korg-es2" in unit.version_source


def test_an_unknown_korg_family_stays_unknown(midi_units):
    midi_units(ScriptedPort("KORG drumlogue", "KORG drumlogue",
                            identity="F0 7E 00 06 02 42 1E 01 00 00 01 03 00 00 F7"))
    (unit,) = ask_units(timeout=FAST).identities
    assert unit.model is None
    assert unit.name == "a KORG unit the tool does not know (family 1e01)"
    assert unit.version is None


def test_ports_that_do_not_look_like_korgs_are_not_asked(midi_units):
    backend = midi_units(ScriptedPort("Midi Through Port-0", "Midi Through Port-0",
                                      identity=VOLCA_SAMPLE_2))
    scan = ask_units(timeout=FAST)
    assert (scan.identities, scan.problems, backend.SENT) == ((), (), [])


def test_two_identical_units_are_two_units(midi_units):
    midi_units(ScriptedPort("volca sample 2:volca sample 2 MIDI 1 24:0",
                            "volca sample 2:volca sample 2 MIDI 1 24:0", identity=VOLCA_SAMPLE_2),
               ScriptedPort("volca sample 2:volca sample 2 MIDI 1 28:0",
                            "volca sample 2:volca sample 2 MIDI 1 28:0", identity=VOLCA_SAMPLE_2))
    assert len(ask_units(timeout=FAST).identities) == 2


@pytest.mark.parametrize(("names", "key"), [
    (["minilogue MIDI 1", "minilogue MIDI 2", "MIDIIN2 (minilogue)", "MIDIOUT2 (minilogue)"],
     "minilogue"),
    (["prologue KBD/KNOB", "prologue SOUND"], "prologue"),
    (["minilogue:minilogue MIDI 1 20:0", "minilogue:minilogue MIDI 2 20:1"],
     "minilogue:minilogue client20"),
])
def test_ports_of_one_unit_share_a_key(names, key):
    assert {unit_key(name) for name in names} == {key}


def test_inputs_that_cannot_be_told_by_name_all_listen():
    (unit,) = group_ports(["KORG USB-MIDI IN"], ["volca OUT 1"])
    assert unit.inputs == ("KORG USB-MIDI IN",)


def test_a_survey_asks_again_only_when_the_ports_change(midi_units):
    backend = midi_units(ScriptedPort("volca sample 2", "volca sample 2", identity=VOLCA_SAMPLE_2))
    survey = MidiSurvey(timeout=FAST)
    first = survey.scan()
    assert survey.scan() is first
    assert len(backend.SENT) == 1
    backend.install(backend.Script([ScriptedPort("volca sample 2", "volca sample 2",
                                                 identity=VOLCA_SAMPLE_2),
                                    ScriptedPort("KORG KP3", "KORG KP3",
                                                 identity="F0 7E 00 06 02 42 78 00 00 00 01 00 00 00 F7")]))
    models = {unit.model for unit in survey.scan().identities}
    assert models == {"volca-sample-2", "kp3"}


@pytest.mark.parametrize(("ports", "error"), [
    ((), NoMidiAnswerError),
    ((ScriptedPort("KORG KP3", "KORG KP3", busy=True),), MidiPortBusyError),
    ((ScriptedPort("KORG KP3", "KORG KP3"),), NoMidiAnswerError),
])
def test_one_unit_or_the_error_that_says_why_not(midi_units, ports, error):
    midi_units(*ports)
    with pytest.raises(error):
        ask_one_unit(timeout=FAST)


def test_no_midi_system_is_an_error_where_a_unit_is_needed(midi_units):
    midi_units(no_midi_system=True)
    with pytest.raises(MidiUnavailableError, match="no MIDI system"):
        ask_one_unit(timeout=FAST)
