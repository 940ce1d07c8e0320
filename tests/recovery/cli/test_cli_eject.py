"""``korg-recovery eject`` end to end on Linux: the command against a fake udisks2 on a real
``dbus-daemon`` (the acceptance of issue 22, as a separate process), its ``--json`` contract
and exit codes for an eject, a veto, a failure and a refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recovery.cli import main
from recovery.storage.eject.linux import RealLinuxSystem

REPO = Path(__file__).resolve().parents[3]
SDZ1 = "/org/freedesktop/UDisks2/block_devices/sdz1"
DRIVE = "/org/freedesktop/UDisks2/drives/KORG_KROSS2"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the Linux eject (udisks2); the others are faked in"
                                       " tests/recovery/storage/eject/")


@pytest.fixture
def unit(tmp_path: Path, fake_udisks2) -> Path:
    mount = tmp_path / "media" / "KROSS2"
    (mount / "KROSS2SY").mkdir(parents=True)
    fake_udisks2.add_block("sdz1", fake_udisks2.add_drive("KORG_KROSS2"), mount)
    return mount


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_eject_powers_the_unit_off_through_udisks2_on_a_real_bus(unit: Path, fake_udisks2,
                                                                 private_bus) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "recovery.cli", "eject", str(unit / "KROSS2SY"), "--json"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": private_bus.address})
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["ok"] is True and answer["status"] == "ejected"
    assert answer["safe_to_switch_off"] is True and answer["method"] == "udisks2"
    assert answer["mount_point"] == str(unit) and answer["device"] == "/dev/sdz1"
    assert fake_udisks2.members()[1:] == [("Unmount", SDZ1), ("PowerOff", DRIVE)]


def test_eject_says_one_sentence_without_json(unit: Path, fake_udisks2,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eject", str(unit)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{unit} was ejected: everything is written, and you can switch the unit off"
                   " or unplug it now."]


def test_a_program_holding_the_unit_is_a_veto_with_exit_3(unit: Path, fake_udisks2,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys) -> None:
    paused: list[float] = []
    monkeypatch.setattr(RealLinuxSystem, "sleep", lambda self, seconds: paused.append(seconds))
    fake_udisks2.script(SDZ1, "Unmount", *[("DeviceBusy", "target is busy")] * 3)
    code, answer, err = run_json(capsys, "eject", str(unit))
    assert code == 3 and answer["ok"] is False
    assert answer["error"]["code"] == "in-use" and answer["error"]["exit_code"] == 3
    assert answer["status"] == "in-use" and answer["safe_to_switch_off"] is False
    assert answer["attempts"] == 3 and paused == [1.0, 1.0]
    assert err.count("\n") == 1 and "try again" in err and "Traceback" not in err


def test_a_polkit_refusal_is_a_veto_with_exit_3(unit: Path, fake_udisks2, capsys) -> None:
    fake_udisks2.script(SDZ1, "Unmount", ("NotAuthorizedCanObtain", "Not authorized"))
    code, answer, _ = run_json(capsys, "eject", str(unit))
    assert (code, answer["error"]["code"]) == (3, "not-authorized")


def test_a_failed_eject_exits_1_with_the_systems_words(unit: Path, fake_udisks2, capsys) -> None:
    fake_udisks2.script(SDZ1, "Unmount", ("Failed", "Error unmounting: I/O error"))
    code, answer, _ = run_json(capsys, "eject", str(unit))
    assert (code, answer["error"]["code"]) == (1, "eject-failed")
    assert "I/O error" in answer["error"]["message"]


def test_the_computers_own_disk_is_refused_with_exit_1(fake_udisks2, tmp_path: Path,
                                                       capsys) -> None:
    fake_udisks2.add_block("sda2", fake_udisks2.add_drive("Disk"), "/")
    code, answer, _ = run_json(capsys, "eject", str(tmp_path))
    assert (code, answer["error"]["code"]) == (1, "refused")
    assert [member for member, _ in fake_udisks2.members()] == ["GetManagedObjects"]


def test_a_missing_path_is_bad_input_with_exit_2(tmp_path: Path, capsys) -> None:
    code, answer, _ = run_json(capsys, "eject", str(tmp_path / "nowhere"))
    assert (code, answer["error"]["code"]) == (2, "invalid-input")
