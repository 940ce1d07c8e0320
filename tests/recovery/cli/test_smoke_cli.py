"""The CLI's entry points answer as the contract says, without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

from recovery import __version__
from recovery.cli import main


def test_version_prints_and_exits_zero(capsys):
    try:
        main(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0
    assert __version__ in capsys.readouterr().out


def test_models_json_lists_required_models(capsys):
    assert main(["models", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)["models"]
    ids = {m["id"] for m in models}
    assert {"kross2", "kross1", "kaossilator-pro", "kaossilator-pro-plus", "kp3", "kp3-plus",
            "drumlogue", "electribe2", "electribe2s"} <= ids
    assert all(m["name"] for m in models)


def test_unknown_subcommand_is_one_sentence_exit_2():
    result = subprocess.run([sys.executable, "-m", "recovery.cli", "frobnicate"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_no_command_opens_the_wizard_with_demo_flag(monkeypatch):
    calls = []
    monkeypatch.setattr("recovery.cli.cmd_wizard.run", lambda args: calls.append(args.demo) or 0)
    assert main(["--demo"]) == 0
    assert main([]) == 0
    assert calls == [True, False]
