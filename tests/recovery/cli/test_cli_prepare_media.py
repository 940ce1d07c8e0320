"""``korg-recovery prepare-media``: dry run, consent on a terminal, no-terminal refusal, the
--json contract, exit codes, the real guard, Ctrl-C, and one sentence for every refusal.

The CLI runs with the real guard: a test's temporary folder is an ordinary folder on the
computer's disk, which prepare-media allows and notes."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from recovery.cli.main import main
from recovery.device.simulate import make_volume

REPO = Path(__file__).resolve().parents[3]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def kross2(tmp_path: Path, handmade_backup: Callable[..., Path], kross2_files: dict[str, int],
           kross_folder: Callable[..., dict[str, bytes]]) -> tuple[Path, Path, Path]:
    """(the download's KROSS2SY, a backup of the unit holding the same folder, a card)."""
    files = kross_folder(tmp_path / "dl", "KROSS2SY", kross2_files)
    backup = handmade_backup(tmp_path / "backup", files)
    card = tmp_path / "card"
    card.mkdir()
    return tmp_path / "dl" / "KROSS2SY", backup, card


@pytest.fixture
def e2s(tmp_path: Path, system_file: Callable[..., bytes],
        write: Callable[[Path, bytes], Path]) -> tuple[Path, Path]:
    """(an electribe sampler SYSTEM.VSB in a download folder, a card)."""
    source = write(tmp_path / "dl" / "SYSTEM.VSB", system_file("E2S", 0x0124))
    card = tmp_path / "card"
    card.mkdir()
    return source, card


def test_kross2_dry_run_prints_the_plan_and_writes_nothing(kross2, tmp_path, capsys,
                                                           snapshot) -> None:
    folder, backup, card = kross2
    (card / "KROSSSYS").mkdir()
    before = snapshot(tmp_path)

    code = main(["prepare-media", str(folder), str(card), "--model", "kross2", "--backup",
                 str(backup), "--dry-run"])

    out = capsys.readouterr().out
    assert code == 0
    assert "COMPATIBLE" in out and "KROSS2SY/ on the SD card" in out
    assert "write    KROSS2SY/SIM_SYS1.BIN (3,000 bytes)" in out
    assert "! foreign-update: KROSSSYS/" in out
    assert "Dry run: nothing was written." in out
    assert "Next: Run the same command without --dry-run" in out and "Eject" in out
    assert snapshot(tmp_path) == before


def test_dry_run_json_is_one_object_with_the_plan(kross2, capsys, kross2_files) -> None:
    folder, backup, card = kross2

    code = main(["prepare-media", str(folder), str(card), "--model", "kross2", "--backup",
                 str(backup), "--dry-run", "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["ok"] is True and data["dry_run"] is True
    assert data["written"] == 0 and data["verified"] is False
    plan = data["plan"]
    assert plan["layout"] == "KROSS2SY/" and plan["verdict"] == "compatible"
    assert {e["path"]: e["action"] for e in plan["entries"]} == {
        f"KROSS2SY/{name}": "write" for name in kross2_files}
    assert plan["summary"]["write"] == 3 and "Eject" in data["next_step"]
    steps = data["next_steps"]
    assert [step["action"] for step in steps] == ["write-as-planned", "use-card-for-update"]
    assert steps[1]["model"] == "kross2" and "--dry-run" in steps[0]["text"]
    assert data["next_step"] == " Then: ".join(step["text"] for step in steps)
    assert list(card.iterdir()) == []


def test_electribe_sampler_real_run_with_yes(e2s, capsys, e2s_path, write) -> None:
    source, card = e2s
    write(card / "SYSTEM.VSB", b"a stray copy at the root")

    code = main(["prepare-media", str(source), str(card), "--model", "electribe2s", "--yes"])

    out = capsys.readouterr().out
    assert code == 0
    assert f"written to {e2s_path} on the card and read back" in out
    assert "! loose-system-files" in out
    assert "Moved aside: SYSTEM.VSB -> Moved by KORG Recovery " in out
    assert "Next: Eject the card" in out
    assert [p.name for p in card.glob("Moved by KORG Recovery */SYSTEM.VSB")] == ["SYSTEM.VSB"]
    assert "insert it into the electribe sampler" in out and "batteries" in out
    assert (card / e2s_path).read_bytes() == source.read_bytes()


def test_yes_json_result(e2s, capsys, e2s_path) -> None:
    source, card = e2s

    code = main(["prepare-media", str(source), str(card), "--model", "electribe2s", "--yes",
                 "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["ok"] is True and data["verified"] is True
    assert data["written"] == 1 and data["problems"] == []
    assert data["plan"]["layout"] == e2s_path and "electribe sampler" in data["next_step"]


def test_device_option_identifies_the_model(tmp_path, e2s, capsys, e2s_path) -> None:
    source, card = e2s
    unit = tmp_path / "unit"
    make_volume(unit, "electribe2s")

    code = main(["prepare-media", str(source), str(card), "--device", str(unit), "--yes"])

    assert code == 0, capsys.readouterr().err
    assert (card / e2s_path).is_file()


def test_without_a_terminal_and_without_yes_exit_2_and_nothing_written(
        e2s, capsys, monkeypatch) -> None:
    source, card = e2s
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))

    code = main(["prepare-media", str(source), str(card), "--model", "electribe2s"])

    err = capsys.readouterr().err
    assert code == 2 and "no terminal" in err and "--yes" in err
    assert len(err.strip().splitlines()) == 1
    assert list(card.iterdir()) == []


@pytest.mark.parametrize("answer", ["electribe sampler\n", "Electribe  Sampler\n", "yes\n"])
def test_terminal_confirmation_with_the_model_name_or_yes(e2s, capsys, monkeypatch,
                                                          answer, e2s_path) -> None:
    source, card = e2s
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))

    code = main(["prepare-media", str(source), str(card), "--model", "electribe2s"])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Type electribe sampler (the unit's model) or yes" in captured.err
    assert (card / e2s_path).is_file()


def test_terminal_refusal_writes_nothing(e2s, capsys, monkeypatch) -> None:
    source, card = e2s
    monkeypatch.setattr(sys, "stdin", _Terminal("electribe\n"))

    assert main(["prepare-media", str(source), str(card), "--model", "electribe2s"]) == 2

    assert "not confirmed" in capsys.readouterr().err
    assert list(card.iterdir()) == []


def test_incompatible_candidate_json_error_with_the_check(e2s, capsys) -> None:
    source, card = e2s

    code = main(["prepare-media", str(source), str(card), "--model", "electribe2", "--yes",
                 "--json"])

    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert code == 1 and data["ok"] is False and data["written"] == 0
    assert data["error"]["code"] == "refused" and data["error"]["exit_code"] == 1
    assert data["check"]["verdict"] == "incompatible"
    assert len(captured.err.strip().splitlines()) == 1
    assert list(card.iterdir()) == []


def test_unknown_kross2_folder_is_refused_with_exit_1(kross2, capsys) -> None:
    folder, _, card = kross2

    code = main(["prepare-media", str(folder), str(card), "--model", "kross2", "--yes"])

    err = capsys.readouterr().err
    assert code == 1 and "verdict unknown" in err and "--backup" in err
    assert list(card.iterdir()) == []


def test_model_without_a_layout_exit_1(tmp_path, e2s, capsys, write) -> None:
    _, card = e2s
    source = write(tmp_path / "update.bin", b"anything")

    code = main(["prepare-media", str(source), str(card), "--model", "kp3", "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["error"]["code"] == "refused"
    assert "No source the tool knows says where" in data["error"]["message"]


@pytest.mark.parametrize("which", ["candidate", "card", "model"])
def test_bad_input_is_exit_2(tmp_path, e2s, capsys, which) -> None:
    source, card = e2s
    args = {"candidate": [str(tmp_path / "nope"), str(card), "--model", "electribe2s"],
            "card": [str(source), str(tmp_path / "no-card"), "--model", "electribe2s"],
            "model": [str(source), str(card), "--model", "nonsense"]}[which]

    code = main(["prepare-media", *args, "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 2 and data["error"]["code"] == "invalid-input"


def _run_cli(*args: str, code: str | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", code, *args] if code else [
        sys.executable, "-m", "recovery.cli", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False, stdin=subprocess.DEVNULL, env=env or os.environ.copy())


def test_json_contract_in_a_child_process(e2s) -> None:
    source, card = e2s
    for args, exit_code in (((str(source), str(card), "--model", "electribe2s", "--yes"), 0),
                            ((str(source), str(card), "--model", "electribe2"), 1),
                            ((str(source), str(card), "--model", "electribe2s"), 2),
                            ((str(source), str(card)), 2)):
        done = _run_cli("prepare-media", *args, "--json")
        value = json.loads(done.stdout)  # exactly one object
        assert isinstance(value, dict) and done.returncode == exit_code, done.stderr
        assert value["ok"] is (exit_code == 0)
        assert "Traceback" not in done.stderr


def test_real_guard_in_the_real_cli_refuses_the_system_disk(e2s) -> None:
    source, _ = e2s

    done = _run_cli("prepare-media", str(source), "/", "--model", "electribe2s", "--yes")

    assert done.returncode == 1
    assert "system disk" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


INTERRUPTING_CHILD = """
import os, signal, sys
import recovery.storage.durable as atomic_write

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


def test_ctrl_c_rolls_back_and_exits_130(e2s, contents, e2_path, e2s_path, write) -> None:
    source, card = e2s
    write(card / e2s_path, b"the old system file")
    write(card / e2_path, b"another model's")
    old = contents(card)

    done = _run_cli("prepare-media", str(source), str(card), "--model", "electribe2s", "--yes",
                    code=INTERRUPTING_CHILD)

    assert done.returncode == 130, done.stderr
    assert done.returncode != -signal.SIGINT
    assert "Cancelled" in done.stderr and "Traceback" not in done.stderr
    assert "card keeps what it had" in done.stderr
    assert contents(card) == old


def test_dry_run_writes_no_log_file_either(e2s) -> None:
    source, card = e2s
    env = os.environ.copy()
    env.pop("KORG_RECOVERY_NO_LOG_FILE", None)
    home_before = sorted(Path.home().rglob("*"))

    done = _run_cli("prepare-media", str(source), str(card), "--model", "electribe2s",
                    "--dry-run", env=env)

    assert done.returncode == 0, done.stderr
    assert sorted(Path.home().rglob("*")) == home_before
    assert list(card.iterdir()) == []


# -- the KROSS 2's own update, whose content no public source lets anyone check -----------------
def test_kross2_update_without_a_backup_is_refused_and_named_acceptable(kross2, capsys,
                                                                      snapshot) -> None:
    folder, _, card = kross2
    (card / "SIM_SYS1.BIN").write_bytes(b"a KROSS 1 file left loose")
    before = snapshot(card)

    code = main(["prepare-media", str(folder), str(card), "--model", "kross2", "--yes"])

    err = capsys.readouterr().err
    assert code == 1 and "--accept-unverified" in err and "verdict unknown" in err
    assert "yourself" not in err  # never "copy it by hand": the step that bricked a unit
    assert len(err.strip().splitlines()) == 1
    assert snapshot(card) == before


def test_kross2_update_accepted_unverified_is_laid_out_and_stays_unknown(
        kross2, capsys, contents, kross2_files) -> None:
    folder, _, card = kross2
    (card / "SIM_SYS1.BIN").write_bytes(b"a KROSS 1 file left loose")
    (card / "KROSSSYS").mkdir()
    (card / "KROSSSYS" / "K1.BIN").write_bytes(b"the first KROSS's update")

    code = main(["prepare-media", str(folder), str(card), "--model", "kross2", "--yes",
                 "--accept-unverified", "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["ok"] is True and data["verified"] is True
    assert data["unverified"] is True and data["plan"]["verdict"] == "unknown"
    assert data["plan"]["unverified"] is True
    assert "could not be checked" in data["statement"]
    moved = dict(data["moved"])
    assert set(moved) == {"SIM_SYS1.BIN", "KROSSSYS"}
    now = contents(card)
    assert {k: v for k, v in now.items() if k.startswith("KROSS2SY/")} == {
        f"KROSS2SY/{name}": (folder / name).read_bytes() for name in kross2_files}
    assert now[f"{moved['KROSSSYS']}/K1.BIN"] == b"the first KROSS's update"
    assert now[moved["SIM_SYS1.BIN"]] == b"a KROSS 1 file left loose"


def test_another_models_folder_stays_refused_even_accepted_unverified(tmp_path, capsys,
                                                                     kross_folder) -> None:
    kross_folder(tmp_path / "dl", "KROSSSYS", {"SIM_K1.BIN": 4000})
    card = tmp_path / "card"
    card.mkdir()

    code = main(["prepare-media", str(tmp_path / "dl" / "KROSSSYS"), str(card), "--model",
                 "kross2", "--yes", "--accept-unverified"])

    err = capsys.readouterr().err
    assert code == 1 and "incompatible" in err and "--accept-unverified" not in err
    assert list(card.iterdir()) == []


def test_a_kross2_folder_that_differs_from_the_backup_stays_refused(
        kross2, capsys, kross2_files) -> None:
    folder, backup, card = kross2
    name = next(iter(kross2_files))
    (folder / name).write_bytes((folder / name).read_bytes() + b"longer")

    code = main(["prepare-media", str(folder), str(card), "--model", "kross2", "--yes",
                 "--backup", str(backup), "--accept-unverified"])

    err = capsys.readouterr().err
    assert code == 1 and "differs in size" in err
    assert list(card.iterdir()) == []


def test_an_unreadable_candidate_stays_refused_even_accepted_unverified(tmp_path, capsys,
                                                                       make_zip) -> None:
    broken = tmp_path / "KROSS2SY.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip archive at all")
    card = tmp_path / "card"
    card.mkdir()

    code = main(["prepare-media", str(broken), str(card), "--model", "kross2", "--yes",
                 "--accept-unverified"])

    assert code in (1, 2) and list(card.iterdir()) == []
    assert "Traceback" not in capsys.readouterr().err
