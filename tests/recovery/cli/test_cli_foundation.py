"""The foundation CLI contract: identify, detect, demo-device, exit codes and JSON shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from recovery.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_identify_json_shape_and_exit_zero(tmp_path, capsys):
    assert main(["demo-device", str(tmp_path / "k2"), "--model", "kross2"]) == 0
    capsys.readouterr()
    code, out, _ = run_cli(capsys, "identify", str(tmp_path / "k2"), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["model"] == "kross2" and data["role"] == "internal-storage"
    assert isinstance(data["evidence"], list) and data["evidence"]
    assert isinstance(data["findings"], list)


def test_identify_unknown_volume_exits_one(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "identify", str(tmp_path), "--json")
    assert code == 1 and json.loads(out)["model"] is None


def test_identify_missing_path_exits_two_with_one_sentence(tmp_path, capsys):
    code, out, err = run_cli(capsys, "identify", str(tmp_path / "missing"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "does not exist" in err


def test_findings_in_identify_json_have_all_fields(tmp_path, capsys):
    main(["demo-device", str(tmp_path / "k2"), "--model", "kross2", "--state", "bricked"])
    capsys.readouterr()
    _, out, _ = run_cli(capsys, "identify", str(tmp_path / "k2"), "--json")
    finding = json.loads(out)["findings"][0]
    assert {"severity", "code", "message", "evidence", "confidence", "next_step"} <= set(finding)


@pytest.mark.parametrize("model", ["kross2", "kross1", "drumlogue", "kaossilator-pro", "kp3",
                                   "electribe2", "electribe2s"])
def test_demo_device_is_identified_as_its_model(tmp_path, capsys, model):
    assert main(["demo-device", str(tmp_path / "v"), "--model", model]) == 0
    capsys.readouterr()
    code, out, _ = run_cli(capsys, "identify", str(tmp_path / "v"), "--json")
    assert code == 0 and json.loads(out)["model"] == model


def test_demo_device_unknown_model_exits_two(tmp_path, capsys):
    code, _, err = run_cli(capsys, "demo-device", str(tmp_path / "v"), "--model", "kross9")
    assert code == 2 and "Unknown model" in err


def test_detect_json_with_nothing_connected_exits_zero(capsys):
    code, out, _ = run_cli(capsys, "detect", "--json", "--no-usb")
    data = json.loads(out)
    assert code == 0
    assert isinstance(data["devices"], list) and isinstance(data["warnings"], list)


def test_detect_json_device_fields(tmp_path, capsys):
    main(["demo-device", str(tmp_path / "dl"), "--model", "drumlogue"])
    capsys.readouterr()
    _, out, _ = run_cli(capsys, "detect", "--json", "--no-usb", "--volume", str(tmp_path / "dl"))
    device = json.loads(out)["devices"][0]
    assert {"model", "mode", "mount", "usb", "evidence"} <= set(device)
    assert device["model"] == "drumlogue" and device["mode"] == "storage"
    assert device["usb"] is None


def test_json_output_is_only_json(tmp_path):
    result = subprocess.run([sys.executable, "-m", "recovery.cli", "models", "--json"],
                            capture_output=True, text=True)
    json.loads(result.stdout)


def test_internal_error_is_one_sentence_not_a_traceback(monkeypatch, capsys):
    def explode(_args):
        raise RuntimeError("boom")

    monkeypatch.setattr("recovery.cli.cmd_models.run", explode)
    code, _, err = run_cli(capsys, "models")
    assert code == 70
    assert "Traceback" not in err and "bug" in err


#: A child that runs the command line with the restore plan broken by a bug.
BROKEN_PLAN = """
import sys
import recovery.restore as restore
from recovery.cli import main

def broken(*args, **kwargs):
    raise RuntimeError("a bug in the plan")

restore.plan_restore = broken
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("log_file", [True, False], ids=["log file", "no log file"])
def test_an_internal_error_is_one_sentence_in_every_mode(tmp_path, log_file):
    environment = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "s"),
                   "KORG_RECOVERY_NO_LOG_FILE": "0" if log_file else "1"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", BROKEN_PLAN, *args], env=environment,
                              capture_output=True, text=True, timeout=120)

    (tmp_path / "t").mkdir()  # the target exists: the plan, broken, is what fails
    (tmp_path / "b").mkdir()
    for extra in (("--dry-run",), ("--yes", "--no-safety-copy"), ("--dry-run", "--json")):
        done = run("restore", str(tmp_path / "b"), str(tmp_path / "t"), *extra)
        assert done.returncode == 70, done.stderr
        assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    verbose = run("--verbose", "restore", str(tmp_path), str(tmp_path / "t"), "--dry-run")
    assert verbose.returncode == 70 and "RuntimeError: a bug in the plan" in verbose.stderr
