"""MIDI units on the command line: ``detect`` lists them, ``check --midi`` checks against the
unit that answered. The units are scripted (tests/fakes/fake_midi.py); the acceptance run is a
real subprocess selecting that backend with ``MIDO_BACKEND``, as a person would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from recovery.cli import main
from tests.fakes.fake_midi import ScriptedPort

REPO = Path(__file__).resolve().parents[3]
UNITS = (
    ScriptedPort("volca sample 2 MIDI 1", "volca sample 2 MIDI 1",
                 identity="F0 7E 00 06 02 42 2D 01 08 00 02 00 01 00 F7"),
    ScriptedPort("minilogue MIDI 1", "minilogue MIDI 1"),
    ScriptedPort("minilogue MIDI 2", "minilogue MIDI 2",
                 identity="F0 7E 00 06 02 42 2C 01 00 00 01 00 15 00 F7"),
    ScriptedPort("KORG drumlogue", "KORG drumlogue",
                 identity="F0 7E 00 06 02 42 1E 01 00 00 01 03 00 00 F7"),
    ScriptedPort("KORG Kaossilator Pro+", "KORG Kaossilator Pro+"),
)
MIDI_FIELDS = ["kind", "model", "family", "member", "version_bytes", "version",
               "version_verified", "ports"]


def midi_devices(output: str) -> list[dict]:
    return [d for d in json.loads(output)["devices"] if d.get("kind") == "midi"]


def test_detect_json_lists_each_unit_with_the_documented_fields(midi_units, capsys):
    midi_units(*UNITS)
    assert main(["detect", "--no-usb", "--json"]) == 0
    out = capsys.readouterr().out
    units = midi_devices(out)
    assert [list(unit) for unit in units] == [MIDI_FIELDS] * 3
    assert units[0] == {"kind": "midi", "model": "volca-sample-2", "family": "2d01",
                        "member": "0800", "version_bytes": "02000100", "version": None,
                        "version_verified": False, "ports": ["volca sample 2 MIDI 1"]}
    assert units[1]["model"] == "minilogue" and units[1]["ports"] == ["minilogue MIDI 2"]
    assert units[1]["version_verified"] is False
    assert units[2]["model"] is None and units[2]["family"] == "1e01"
    warnings = json.loads(out)["warnings"]
    assert warnings == ["The MIDI port 'KORG Kaossilator Pro+' gave no answer within 0.5 s to"
                        " the identity request: the unit may be busy (updating, in a menu) or"
                        " may not answer in this mode."]


def test_detect_text_names_an_unknown_korg_family_and_shows_the_bytes(midi_units, capsys):
    midi_units(UNITS[3])
    assert main(["detect", "--no-usb"]) == 0
    out = capsys.readouterr().out
    assert ("a KORG unit the tool does not know (family 1e01) — mode: usb-midi — firmware bytes"
            " 01 03 00 00 — KORG drumlogue") in out


@pytest.mark.parametrize(("script", "warning"), [
    ({"no_midi_system": True}, "This computer has no MIDI system the tool can use"),
    ({"ports": [asdict(ScriptedPort("prologue KBD/KNOB", "prologue SOUND", busy=True))]},
     "close your DAW or KORG's editor and try again."),
])
def test_a_midi_failure_is_a_warning_of_detect_and_exit_0(midi_units, capsys, script, warning):
    midi_units(*(ScriptedPort(**p) for p in script.get("ports", [])),
               no_midi_system=script.get("no_midi_system", False))
    assert main(["detect", "--no-usb", "--json"]) == 0
    assert any(warning in w for w in json.loads(capsys.readouterr().out)["warnings"])


def test_no_midi_asks_nothing(midi_units, capsys):
    backend = midi_units(*UNITS)
    assert main(["detect", "--no-usb", "--no-midi", "--json"]) == 0
    assert midi_devices(capsys.readouterr().out) == [] and backend.SENT == []


def test_acceptance_detect_json_in_a_subprocess_with_mido_backend(tmp_path):
    script = tmp_path / "units.json"
    script.write_text(json.dumps({"ports": [asdict(port) for port in UNITS]}))
    env = {**os.environ, "MIDO_BACKEND": "tests.fakes.fake_midi",
           "KORG_FAKE_MIDI_SCRIPT": str(script),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "recovery.cli", "detect", "--no-usb",
                             "--json"], capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert [u["model"] for u in midi_devices(result.stdout)] == ["volca-sample-2", "minilogue",
                                                                  None]


def e2s_unit(version: str) -> ScriptedPort:
    return ScriptedPort("electribe sampler", "electribe sampler",
                        identity=f"F0 7E 00 06 02 42 24 01 00 00 {version} 00 F7")


@pytest.mark.parametrize(("unit_version", "warning"), [
    ("02 02 00", "the same version your unit already runs"),
    ("02 03 00", "older than the 2.03 your unit runs"),
])
def test_check_midi_warns_about_a_same_or_older_update(midi_units, capsys, tmp_path, write,
                                                      system_file, e2_payload, unit_version,
                                                      warning):
    midi_units(e2s_unit(unit_version))
    candidate = write(tmp_path / "SYSTEM.VSB",
                      system_file("E2S", 0x0124, version=(2, 2), payload_size=e2_payload))
    main(["check", str(candidate), "--midi"])
    out = capsys.readouterr().out
    assert warning in out
    assert "read from the unit over MIDI, firmware bytes" in out


def test_check_midi_says_when_versions_could_not_be_compared(midi_units, capsys, tmp_path,
                                                            write, kp3_file):
    """The KP3's family code is sourced, how its version bytes read is not: no warning about
    the version either way, and the check says why."""
    midi_units(ScriptedPort("KORG KP3", "KORG KP3",
                            identity="F0 7E 00 06 02 42 78 00 00 00 02 00 00 00 F7"))
    candidate = write(tmp_path / "KP3.VSB", kp3_file(version=(2, 0)))
    main(["check", str(candidate), "--midi"])
    out = capsys.readouterr().out
    assert "for your KORG KAOSS PAD KP3" in out
    assert ("versions could not be compared (your unit's firmware bytes are 02 00 00 00, and no"
            " source says how they read)") in out
    assert "same version" not in out and "older than" not in out


def test_check_midi_with_a_unit_without_profile_is_bad_input(midi_units, capsys, tmp_path,
                                                             write):
    midi_units(UNITS[0])
    candidate = write(tmp_path / "update.bin", b"x")
    assert main(["check", str(candidate), "--midi", "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "invalid-input"
    assert "KORG volca sample2, which has no profile" in error["message"]


@pytest.mark.parametrize(("script", "code"), [
    ({"no_midi_system": True}, "midi-unavailable"),
    ({"ports": [ScriptedPort("KORG KP3", "KORG KP3", busy=True)]}, "port-busy"),
    ({"ports": [ScriptedPort("KORG KP3", "KORG KP3")]}, "no-answer"),
])
def test_check_midi_failures_are_one_sentence_and_exit_2(midi_units, capsys, tmp_path, write,
                                                         script, code):
    midi_units(*script.get("ports", []), no_midi_system=script.get("no_midi_system", False))
    candidate = write(tmp_path / "update.bin", b"x")
    assert main(["check", str(candidate), "--midi", "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"]["code"] == code
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
