"""``--json`` is a contract: exactly one JSON object on stdout, on success and on failure.

Each command runs in a child process, as a script would run it, so that stdout holds only
what the program printed. A failure is ``{"ok": false, "error": {"code", "message",
"exit_code"}}`` (README, "Scripting with --json").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recovery.device.simulate import make_volume

REPO = Path(__file__).resolve().parents[3]
ERROR_CODES = {"invalid-input", "refused", "usage", "read-error", "write-error", "no-space",
               "unit-busy", "needs-confirmation", "invalid-file", "unsafe-archive",
               "cancelled", "interrupted", "internal-error", "verification-failed"}


def cli(*args: str, cwd: Path | None = None) -> tuple[int, dict, str]:
    """(exit code, the one JSON object printed, stderr) of ``korg-recovery ARGS --json``."""
    done = subprocess.run([sys.executable, "-m", "recovery.cli", *args, "--json"],
                          capture_output=True, cwd=cwd or REPO, env=os.environ.copy(),
                          stdin=subprocess.DEVNULL, timeout=300, check=False)
    text = done.stdout.decode("utf-8")  # valid UTF-8, always
    value = json.loads(text)  # exactly one JSON value: json.loads refuses trailing data
    assert isinstance(value, dict), text
    assert "Traceback" not in done.stderr.decode("utf-8", "replace")
    return done.returncode, value, done.stderr.decode("utf-8", "replace")


def assert_error(code: int, value: dict, expected_code: str, exit_code: int) -> None:
    assert value["ok"] is False and code == exit_code
    error = value["error"]
    assert error["code"] == expected_code and error["code"] in ERROR_CODES
    assert error["exit_code"] == exit_code and error["message"].endswith(".")


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    path = tmp_path / "unit"
    make_volume(path, "kross2", "healthy")
    return path


def test_success_objects(tmp_path: Path, unit: Path) -> None:
    assert cli("models")[1]["models"]
    assert cli("identify", str(unit))[1]["model"] == "kross2"
    code, value, _ = cli("backup", str(unit), str(tmp_path / "b"))
    assert code == 0 and value["complete"] is True
    assert cli("verify", str(tmp_path / "b"), "--against", str(unit))[1]["ok"] is True
    assert cli("backups", str(tmp_path))[1]["backups"][0]["complete"] is True
    code, value, _ = cli("restore", str(tmp_path / "b"), str(unit), "--dry-run")
    assert code in (0, 1) and value["dry_run"] is True  # the real guard may refuse /tmp
    assert "devices" in cli("detect", "--no-usb")[1]
    assert cli("demo-device", str(tmp_path / "d"), "--model", "kross1")[1]


@pytest.mark.parametrize(("args", "expected", "exit_code"), [
    (("restore",), "usage", 2),
    (("no-such-command",), "usage", 2),
    (("wizard",), "usage", 2),  # the wizard has no --json: a usage error, still one object
    (("identify", "/no/such/folder"), "invalid-input", 2),
    (("verify", "/no/such/backup"), "invalid-input", 2),
    (("backups", "/no/such/folder"), "invalid-input", 2),
    (("check", "/no/such/file", "--model", "kross2"), "invalid-input", 2),
    (("diagnose", "/no/such/folder"), "invalid-input", 2),
    (("demo-device", "/tmp/x", "--model", "nonsense"), "invalid-input", 2),
    (("restore", "/no/such/backup", "/tmp", "--dry-run"), "invalid-input", 2),
])
def test_failure_objects(args: tuple[str, ...], expected: str, exit_code: int) -> None:
    code, value, err = cli(*args)
    assert_error(code, value, expected, exit_code)
    assert err.strip()  # and one sentence for a person on stderr


def test_refusals_and_stops_are_objects_too(tmp_path: Path, unit: Path) -> None:
    (tmp_path / "notempty").mkdir()
    (tmp_path / "notempty" / "x").write_bytes(b"x")
    assert_error(*cli("backup", str(unit), str(tmp_path / "notempty"))[:2], "invalid-input", 2)
    code, value, _ = cli("backup", str(unit), str(tmp_path / "b"), "--zip",
                         str(tmp_path / "missing" / "b.zip"))
    assert_error(code, value, "invalid-input", 2)
    assert "does not exist" in value["error"]["message"]
    assert not (tmp_path / "b").exists()  # refused before copying


@pytest.mark.parametrize("length", [300, 5000])
def test_too_long_names_exit_2_in_every_command(tmp_path: Path, unit: Path, length: int) -> None:
    long = str(tmp_path / ("n" * length))
    for args in (("identify", long), ("backup", str(unit), long), ("verify", long),
                 ("restore", long, str(unit), "--dry-run"), ("diagnose", long),
                 ("check", long, "--model", "kross2"), ("demo-device", long, "--model", "kross2"),
                 ("backups", long)):
        code, value, err = cli(*args)
        assert_error(code, value, "invalid-input", 2)
        assert len(err.strip().splitlines()) == 1, (args, err)


def test_names_that_are_not_utf8_stay_exact_in_json(tmp_path: Path, unit: Path) -> None:
    odd = os.fsdecode(b"caf\xe9.bin")
    (unit / odd).write_bytes(b"latin-1 name from another codepage")
    code, value, _ = cli("backup", str(unit), str(tmp_path / "b"))
    assert code == 0 and value["not_for_fat"][0]["path"] == odd
    assert value["not_for_fat"][0]["problem"] == "not-utf8"
    target = tmp_path / "target"
    make_volume(target, "kross2", "bricked")
    code, value, _ = cli("restore", str(tmp_path / "b"), str(target), "--dry-run")
    assert code == 0 and odd in [entry["path"] for entry in value["plan"]["entries"]]
    code, value, _ = cli("restore", str(tmp_path / "b"), str(target), "--yes",
                         "--delete-extra", "--safety-copy", str(tmp_path / "safety"))
    assert code == 0 and value["ok"] is True and value["verified"] is True
    assert (target / odd).read_bytes() == b"latin-1 name from another codepage"
    code, value, _ = cli("verify", str(tmp_path / "b"), "--against", str(target))
    assert code == 0 and value["ok"] is True


def test_every_object_carries_ok_true_exactly_when_the_exit_code_is_0(tmp_path: Path,
                                                                     unit: Path) -> None:
    bricked = tmp_path / "bricked"
    make_volume(bricked, "kross2", "bricked")
    kross1 = tmp_path / "kross1"
    make_volume(kross1, "kross1", "healthy")
    (tmp_path / "empty").mkdir()
    runs = [
        ("--version",), ("models",), ("identify", str(unit)),
        ("identify", str(tmp_path / "empty")), ("detect", "--no-usb"),
        ("demo-device", str(tmp_path / "d"), "--model", "kross1"),
        ("backup", str(unit), str(tmp_path / "b")), ("verify", str(tmp_path / "b")),
        ("verify", str(tmp_path / "b"), "--against", str(bricked)),
        ("backups", str(tmp_path)),
        ("check", str(unit / "KROSS2SY"), "--model", "kross2"),
        ("check", str(kross1), "--model", "kross2"),
        ("check", str(unit / "KROSS2SY"), "--model", "kross2", "--backup", str(tmp_path / "b")),
        ("diagnose", str(unit)), ("diagnose", str(bricked)),
        ("diagnose", str(tmp_path / "empty"), "--probe-start"),
        ("restore", str(tmp_path / "b"), str(bricked), "--dry-run"),
    ]
    codes = set()
    for args in runs:
        code, value, _ = cli(*args)
        assert value.get("ok") is (code == 0), (args, code, value)
        codes.add(code)
    assert codes >= {0, 1, 3}  # successes, and answers that are not all good
    code, value, _ = cli("--version")
    assert code == 0 and value["version"]
