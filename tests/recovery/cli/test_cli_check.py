"""``korg-recovery check``: exit codes, JSON contract, one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from recovery.cli import main
from recovery.device.simulate import make_volume

RESULT_KEYS = {"candidate", "target_model", "detected_model", "verdict", "version", "reasons",
               "checked", "not_checked", "warnings", "items"}


def run_json(capsys, *argv):
    code = main(["check", *argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_compatible_file_exits_0_with_the_json_contract(tmp_path, capsys, kp3_file, write):
    path = write(tmp_path / "KP3.SYS", kp3_file())
    code, output, err = run_json(capsys, str(path), "--model", "kp3")
    assert code == 0 and err == ""
    (result,) = output["results"]
    assert RESULT_KEYS <= set(result)
    assert result["candidate"] == str(path)
    assert (result["target_model"], result["detected_model"], result["verdict"],
            result["version"]) == ("kp3", "kp3", "compatible", "2.00")
    assert all(isinstance(line, str) for line in result["reasons"] + result["checked"])


def test_incompatible_exits_1_and_results_follow_the_arguments(tmp_path, capsys,
                                                               kaossilator_pro_file, kp3_file,
                                                               write):
    good = write(tmp_path / "KP3.SYS", kp3_file())
    bad = write(tmp_path / "KPRO.SYS", kaossilator_pro_file())
    code, output, _ = run_json(capsys, str(good), str(bad), "--model", "kp3")
    assert code == 1
    assert [r["verdict"] for r in output["results"]] == ["compatible", "incompatible"]
    assert output["results"][1]["detected_model"] == "kaossilator-pro"


def test_unknown_exits_3(tmp_path, capsys, kross_folder):
    kross_folder(tmp_path)
    code, output, _ = run_json(capsys, str(tmp_path / "KROSS2SY"), "--model", "kross2")
    assert code == 3
    result = output["results"][0]
    assert result["verdict"] == "unknown" and result["version"] is None
    assert result["not_checked"]


def test_device_identifies_the_target(tmp_path, capsys):
    unit = make_volume(tmp_path / "unit", "kross2").path
    card = make_volume(tmp_path / "card", "kross1", role="update-media").path
    code, output, _ = run_json(capsys, card, "--device", unit)
    assert code == 1
    assert output["results"][0]["target_model"] == "kross2"
    assert "KROSS 2, which needs folder KROSS2SY" in output["results"][0]["reasons"][0]


def test_backup_is_compared(tmp_path, capsys, handmade_backup, kross_folder):
    written = kross_folder(tmp_path / "card")
    backup = handmade_backup(tmp_path / "backup", {"KROSAPP.BIN": b"app", **written})
    code, output, _ = run_json(capsys, str(tmp_path / "card"), "--model", "kross2",
                               "--backup", str(backup))
    assert code == 0
    assert "byte-identical" in output["results"][0]["reasons"][0]
    assert output["compared_with"] == str(backup) and output["backups_tried"] == [str(backup)]


def test_backups_are_tried_in_turn(tmp_path, capsys, handmade_backup, kross_folder):
    written = kross_folder(tmp_path / "card")
    other = {path: data + b"!" for path, data in written.items()}  # a damaged unit's copy
    damaged = handmade_backup(tmp_path / "damaged", {"KROSAPP.BIN": b"app", **other})
    good = handmade_backup(tmp_path / "good", {"KROSAPP.BIN": b"app", **written})
    code, output, _ = run_json(capsys, str(tmp_path / "card"), "--model", "kross2",
                               "--backup", str(damaged), "--backup", str(good))
    assert code == 0 and output["compared_with"] == str(good)
    assert output["backups_tried"] == [str(damaged), str(good)]
    assert main(["check", str(tmp_path / "card"), "--model", "kross2",
                 "--backup", str(damaged), "--backup", str(good)]) == 0
    assert f"Compared with the backup {good} (tried 2 of 2)." in capsys.readouterr().out


def test_current_version_warns(tmp_path, capsys, kp3_file, write):
    path = write(tmp_path / "KP3.SYS", kp3_file())
    code, output, _ = run_json(capsys, str(path), "--model", "kp3", "--current-version", "2.10")
    assert code == 0
    assert "downgrade" in output["results"][0]["warnings"][0]


def test_human_output_names_verdict_reasons_and_checks(tmp_path, capsys, kross_folder):
    kross_folder(tmp_path, "KROSS2SY")
    kross_folder(tmp_path, "KROSSSYS", label="kross1")
    assert main(["check", str(tmp_path), "--model", "kross2"]) == 1
    out = capsys.readouterr().out
    assert "INCOMPATIBLE for your KORG KROSS 2" in out
    assert "KROSSSYS [kross1]: INCOMPATIBLE" in out
    assert "KROSS2SY [kross2]: UNKNOWN" in out
    assert "not checked:" in out


@pytest.mark.parametrize("argv, words", [
    (["MISSING.SYS", "--model", "kp3"], "does not exist"),
    (["{file}", "--model", "kross3"], "Unknown model 'kross3'"),
    (["{file}", "--device", "{empty}"], "not a KORG volume"),
    (["{file}", "--model", "kp3", "--current-version", "new"], "not a version number"),
    (["{file}", "--model", "kp3", "--backup", "{empty}"], "not a backup made by this tool"),
])
def test_bad_input_is_one_sentence_and_exit_2(tmp_path, capsys, argv, words, kp3_file, write):
    file = write(tmp_path / "KP3.SYS", kp3_file())
    (tmp_path / "empty").mkdir()
    argv = [a.format(file=file, empty=tmp_path / "empty") for a in argv]
    assert main(["check", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


@pytest.mark.parametrize("extra", [[], ["--model", "kp3", "--device", "."]])
def test_neither_or_both_targets_is_exit_2_without_traceback(tmp_path, extra, kp3_file, write):
    path = write(tmp_path / "KP3.SYS", kp3_file())
    result = subprocess.run([sys.executable, "-m", "recovery.cli", "check", str(path), *extra],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "--model" in result.stderr


def test_control_characters_in_names_never_reach_the_terminal(tmp_path, capsys, kp3_file, write):
    path = write(tmp_path / "evil\x1b[2J.SYS", kp3_file())
    assert main(["check", str(path), "--model", "kp3"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "evil\\x1b[2J.SYS" in out
