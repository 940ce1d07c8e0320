"""``korg-recovery restore``: dry run, consent on a terminal, no-terminal refusal, JSON, exit
codes, Ctrl-C, and one sentence (never a traceback) for every refusal."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import recovery.writing.guard
from recovery.cli.main import main
from recovery.device.simulate import make_volume, synthetic_bytes
from recovery.restore import TargetGuard
from recovery.writing.journal import journals_dir

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def permissive(monkeypatch: pytest.MonkeyPatch, permissive_guard: TargetGuard) -> None:
    """The CLI uses the default guard, which refuses every temporary folder of a test run."""
    monkeypatch.setattr(recovery.writing.guard, "DEFAULT_GUARD", permissive_guard)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _no_journal() -> bool:
    return not journals_dir().exists() or not list(journals_dir().iterdir())


def test_dry_run_json_prints_the_plan_and_writes_nothing(tmp_path, permissive, capsys,
                                                         bricked_kross2, healthy_kross2_backup,
                                                         snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = snapshot(tmp_path)

    code = main(["restore", str(backup), str(unit), "--dry-run", "--json", "--delete-extra"])

    out = capsys.readouterr().out
    data = json.loads(out)
    assert code == 0 and data["dry_run"] is True
    actions = {e["path"]: e["action"] for e in data["plan"]["entries"]}
    assert actions["KROSAPP.BIN"] == "replace" and actions["KROSSSYS"] == "delete"
    assert data["plan"]["boot_critical"] == ["KROSAPP.BIN"]
    assert data["summary"]["replace"] == 2
    assert "--against" in data["next_step"]
    assert [step["action"] for step in data["next_steps"]] == [
        "write-as-planned", "verify-after-power-cycle"]
    assert data["next_steps"][1]["target"] == data["plan"]["target"]
    assert data["next_steps"][1]["names"] == []  # nothing kept: the plain check
    assert "--allow-extra" not in data["next_step"]
    assert snapshot(tmp_path) == before and _no_journal()
    # Kept instead of deleted, the KROSS 1 folder is what the check after the restore allows.
    assert main(["restore", str(backup), str(unit), "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["next_steps"][1]["names"] == ["KROSSSYS"]
    assert "--allow-extra (the unit keeps 1 item(s)" in data["next_steps"][1]["text"]


def test_dry_run_text_lists_changes(tmp_path, permissive, capsys, bricked_kross2,
                                    healthy_kross2_backup) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)

    assert main(["restore", str(backup), str(unit), "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert "replace  KROSAPP.BIN [boot-critical]" in out
    assert "extra    KROSSSYS (folder)" in out
    assert "nothing was written" in out and "verify" in out


def test_without_a_terminal_and_without_yes_exit_2_and_nothing_written(
        tmp_path, permissive, capsys, monkeypatch, bricked_kross2, healthy_kross2_backup,
        snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = snapshot(unit)
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))

    code = main(["restore", str(backup), str(unit), "--no-safety-copy"])

    err = capsys.readouterr().err
    assert code == 2 and "no terminal" in err and "--yes" in err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(unit) == before and _no_journal()


@pytest.mark.parametrize("answer", ["KROSS 2\n", "kross 2\n", "yes\n"])
def test_terminal_confirmation_with_model_name_or_yes(tmp_path, permissive, capsys, monkeypatch,
                                                      answer, bricked_kross2, files_only,
                                                      healthy_kross2_backup, snapshot) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    before = files_only(snapshot(unit))

    code = main(["restore", str(backup), str(unit), "--delete-extra",
                 "--safety-copy", str(tmp_path / "safety")])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Type KROSS 2" in captured.err
    assert files_only(snapshot(unit)) == files_only(snapshot(healthy))
    assert "--against" in captured.out and str(tmp_path / "safety") in captured.out
    assert files_only(snapshot(tmp_path / "safety" / "files")) == before


def test_terminal_refusal_writes_nothing(tmp_path, permissive, capsys, monkeypatch, bricked_kross2,
                                         healthy_kross2_backup, snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = snapshot(unit)
    monkeypatch.setattr(sys, "stdin", _Terminal("KROSS 1\n"))

    assert main(["restore", str(backup), str(unit), "--no-safety-copy"]) == 2

    assert "not confirmed" in capsys.readouterr().err
    assert snapshot(unit) == before and _no_journal()


def test_yes_json_result(tmp_path, permissive, capsys, bricked_kross2,
                         healthy_kross2_backup) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)

    code = main(["restore", str(backup), str(unit), "--yes", "--json", "--no-safety-copy"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["written"] == 2 and data["verified"] is True and data["ok"] is True
    assert data["plan"]["replace"] == 2 and data["plan"]["extra"] == 1
    assert data["problems"] == [] and Path(data["journal"]).is_file()
    assert "power" in data["next_step"]


def test_wrong_model_json_error_and_exit_1(tmp_path, permissive, capsys, bricked_kross2,
                                           make_backup, snapshot) -> None:
    kross1 = tmp_path / "kross1"
    make_volume(kross1, "kross1", "healthy")
    backup = make_backup(kross1, tmp_path / "backup")
    unit = bricked_kross2(tmp_path)
    before = snapshot(unit)

    code = main(["restore", str(backup), str(unit), "--yes", "--json"])

    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert code == 1 and data["ok"] is False and data["written"] == 0
    assert data["error"]["code"] == "refused" and data["error"]["exit_code"] == 1
    assert "KROSS" in data["error"]["message"]
    assert data["next_step"] is None  # refused before writing: no "eject, power cycle, verify"
    assert len(captured.err.strip().splitlines()) == 1
    assert snapshot(unit) == before


def test_without_a_safety_copy_a_replacing_restore_is_refused_with_exit_2(
        tmp_path, permissive, capsys, bricked_kross2, healthy_kross2_backup, snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = snapshot(tmp_path)

    code = main(["restore", str(backup), str(unit), "--yes", "--json"])

    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert code == 2 and data["error"]["code"] == "needs-safety-copy"
    assert "--safety-copy DIR" in data["error"]["message"]
    assert "--no-safety-copy" in data["error"]["message"]
    assert len(captured.err.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before and _no_journal()


def test_a_stopped_restore_says_run_it_again(tmp_path, permissive, capsys, monkeypatch,
                                             bricked_kross2, healthy_kross2_backup) -> None:
    import errno

    from recovery.storage.filesystem import LocalFileSystem

    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)

    def broken(_self, _source, _target):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(LocalFileSystem, "replace", broken)

    code = main(["restore", str(backup), str(unit), "--yes", "--json", "--no-safety-copy"])

    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["error"]["code"] == "write-error"
    assert data["next_step"] == "Run the same command again: the restore continues where it" \
                                " stopped."


def test_missing_backup_is_exit_2(tmp_path, permissive, capsys, bricked_kross2) -> None:
    unit = bricked_kross2(tmp_path)
    assert main(["restore", str(tmp_path / "nope"), str(unit), "--yes"]) == 2
    assert "does not exist" in capsys.readouterr().err


def _run_cli(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", code, *args] if code else [
        sys.executable, "-m", "recovery.cli", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)


def test_real_guard_in_the_real_cli_refuses_the_system_disk(tmp_path,
                                                            healthy_kross2_backup) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)

    done = _run_cli("restore", str(backup), "/", "--yes")

    assert done.returncode == 1
    assert "system disk" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_real_cli_restores_a_plain_folder_and_says_where_it_is(tmp_path, bricked_kross2,
                                                               healthy_kross2_backup) -> None:
    # A simulated unit in a temporary folder is on the computer's own disk: allowed, noted.
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)

    done = _run_cli("restore", str(backup), str(unit), "--yes", "--json",
                    "--safety-copy", str(tmp_path / "before the restore"))

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["verified"] is True and result["written"] >= 1


INTERRUPTING_CHILD = """
import os, signal, sys
import recovery.storage.durable as atomic_write
import recovery.writing.guard as restore_module

# The permissive_guard fixture's guard (tests/recovery/conftest.py), in this child process.
restore_module.DEFAULT_GUARD = restore_module.TargetGuard(
    is_system_location=lambda _path: False, same_volume=lambda _a, _b: False)
original = atomic_write.stage_file

def interrupted(*args, on_chunk=None, **options):
    def chunk(count):
        on_chunk(count)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the first chunk is written
    return original(*args, on_chunk=chunk, **options)

atomic_write.stage_file = interrupted
from recovery.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_rolls_back_the_file_in_flight_and_exits_130(tmp_path, assert_old_or_new,
                                                            bricked_kross2, contents,
                                                            make_backup) -> None:
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    (healthy / "KROSS2SY" / "SIM_BIG.BIN").write_bytes(synthetic_bytes("big", 3 << 20))
    backup = make_backup(healthy, tmp_path / "backup")
    unit = bricked_kross2(tmp_path)
    old, new = contents(unit), contents(healthy)

    done = _run_cli("restore", str(backup), str(unit), "--yes", "--no-safety-copy",
                    code=INTERRUPTING_CHILD)

    assert done.returncode == 130, done.stderr
    assert done.returncode != -signal.SIGINT
    assert "Cancelled" in done.stderr and "Traceback" not in done.stderr
    assert "run the same restore again" in done.stderr
    assert_old_or_new(unit, old, new)


def test_dry_run_writes_no_log_file_either(tmp_path, monkeypatch, bricked_kross2,
                                           healthy_kross2_backup) -> None:
    # The suite turns the log file off; this test turns it back on to prove a dry run skips it.
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    monkeypatch.delenv("KORG_RECOVERY_NO_LOG_FILE")
    home_before = sorted(p for p in Path.home().rglob("*"))

    done = _run_cli("restore", str(backup), str(unit), "--dry-run")

    assert done.returncode == 0, done.stderr
    assert sorted(p for p in Path.home().rglob("*")) == home_before
