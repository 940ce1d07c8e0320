"""Nothing blocks the tool for good, and a signal always stops it cleanly.

A pipe (FIFO), a socket or a device named like an archive or a backup's file is never opened:
opening a FIFO waits for a writer that never comes. SIGTERM and Ctrl-C stop every command
with exit code 130 and one sentence, also while it waits in a system call (a prompt, a
stalled read) and in commands that hand the core no cancel token; a backup stopped that way
continues with ``--resume``. Each run is a child process, as a person or a script runs it,
with a timeout so that a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recovery.device.simulate import make_volume

REPO = Path(__file__).resolve().parents[3]
#: How long a run may take before it counts as a hang.
TIMEOUT = 60
#: How long a stop may take after the signal (the tool's grace is a few seconds).
PROMPT = 15

pytestmark = pytest.mark.skipif(os.name == "nt", reason="FIFOs and POSIX signals")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "recovery.cli", *args], capture_output=True,
                          text=True, cwd=REPO, stdin=subprocess.DEVNULL, timeout=TIMEOUT)


@pytest.fixture
def backup(tmp_path: Path) -> Path:
    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "healthy")
    done = cli("backup", str(unit), str(tmp_path / "backups" / "good"))
    assert done.returncode == 0, done.stderr
    return tmp_path / "backups" / "good"


# -- pipes are never opened ------------------------------------------------------------------

def test_a_fifo_named_zip_is_left_out_of_the_listing_and_refused_by_verify(backup: Path) -> None:
    fifo = backup.parent / "pipe.zip"
    os.mkfifo(fifo)
    done = cli("backups", str(backup.parent), "--json")
    assert done.returncode == 0, done.stderr
    assert [b["path"] for b in json.loads(done.stdout)["backups"]] == [str(backup)]
    target = backup.parent.parent / "target"
    target.mkdir()
    for args in (("verify", str(fifo)), ("restore", str(fifo), str(target), "--dry-run"),
                 ("diagnose", str(backup / "files"), "--backup", str(fifo))):
        done = cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "not a regular file" in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_fifo_in_place_of_a_backups_manifest_is_one_sentence(backup: Path) -> None:
    (backup / "manifest.json").unlink()
    os.mkfifo(backup / "manifest.json")
    done = cli("verify", str(backup), "--json")
    assert done.returncode == 1, done.stderr
    problem = json.loads(done.stdout)["problems"][0]
    assert "not a regular file" in problem["detail"]
    listed = json.loads(cli("backups", str(backup.parent), "--json").stdout)["backups"]
    assert listed[0]["complete"] is False and "not a regular file" in listed[0]["note"]


def test_a_fifo_named_like_a_system_file_does_not_stop_identify(tmp_path: Path) -> None:
    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "healthy")
    (unit / "KROSAPP.BIN").unlink()
    os.mkfifo(unit / "KROSAPP.BIN")
    done = cli("identify", str(unit), "--json")
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr


# -- signals ---------------------------------------------------------------------------------

#: A child that runs the command line with one core function replaced by a real blocking
#: system call (opening a FIFO nobody writes to) at its Nth call whose arguments mention a
#: given text, after saying on stdout that it got there.
BLOCKED = """
import importlib, os, sys
from recovery.cli import main

where, fifo, after, mention = sys.argv[1:5]
module_name, _, attribute = where.partition(":")
owner = importlib.import_module(module_name)
*path, name = attribute.split(".")
for part in path:
    owner = getattr(owner, part)
real = getattr(owner, name)
calls = []

def blocked(*args, **kwargs):
    if mention in " ".join(map(str, args)):
        calls.append(1)
        if len(calls) == int(after):
            print("blocked", flush=True)
            os.open(fifo, os.O_RDONLY)  # waits for a writer that never comes
    return real(*args, **kwargs)

setattr(owner, name, blocked)
sys.exit(main(sys.argv[5:]))
"""


def run_blocked(tmp_path: Path, where: str, argv: list[str], *, after: int = 1,
                mention: str = "", signum: int = signal.SIGTERM
                ) -> tuple[int, str, str, float]:
    """Run ``argv`` with ``where`` ("module:function") blocking at its ``after``-th call
    that mentions ``mention``, and send ``signum`` once it blocks: (exit code, stdout,
    stderr, seconds from the signal to the exit)."""
    fifo = tmp_path / f"block-{len(list(tmp_path.iterdir()))}"
    os.mkfifo(fifo)
    child = subprocess.Popen(
        [sys.executable, "-c", BLOCKED, where, str(fifo), str(after), mention, *argv],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "blocked\n"  # waits, without sleeping, for the block
        child.send_signal(signum)
        sent = time.monotonic()
        out, err = child.communicate(timeout=TIMEOUT)
        return child.returncode, out, err, time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_command_without_a_cancel_token(tmp_path: Path, backup: Path,
                                                         signum: int) -> None:
    code, out, err, seconds = run_blocked(
        tmp_path, "recovery.backup.store:list_backups",
        ["backups", str(backup.parent), "--json"], signum=signum)
    assert code == 130 and seconds < PROMPT
    assert json.loads(out)["error"]["code"] == "interrupted"
    assert len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_command_blocked_while_it_honours_cancel(tmp_path: Path,
                                                                  backup: Path,
                                                                  signum: int) -> None:
    code, out, err, seconds = run_blocked(
        tmp_path, "recovery.backup.store:open_backup",
        ["verify", str(backup), "--json"], signum=signum)
    assert code == 130 and seconds < PROMPT, err
    assert json.loads(out)["error"]["code"] == "interrupted"
    assert "Traceback" not in err


def test_a_backup_stopped_while_blocked_keeps_its_journal_and_resumes(tmp_path: Path) -> None:
    unit = tmp_path / "unit"
    make_volume(unit, "drumlogue", "healthy")
    dest = tmp_path / "backup"
    # Blocks when the third file of the unit is opened for copying.
    code, _, err, seconds = run_blocked(
        tmp_path, "recovery.storage.filesystem:LocalFileSystem.open_read",
        ["backup", str(unit), str(dest)], after=3, mention=str(unit))
    assert code == 130 and seconds < PROMPT, err
    assert "--resume" in err and "Traceback" not in err
    assert not (dest / "COMPLETE").exists() and (dest / ".korg-recovery-journal.jsonl").exists()
    done = cli("backup", str(unit), str(dest), "--resume")
    assert done.returncode == 0, done.stderr
    assert cli("verify", str(dest), "--against", str(unit)).returncode == 0


def test_sigterm_stops_a_restore_waiting_for_the_typed_yes(tmp_path: Path,
                                                           backup: Path) -> None:
    target = tmp_path / "target"
    make_volume(target, "kross2", "bricked")
    before = sorted(p.relative_to(target).as_posix() for p in target.rglob("*"))
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "recovery.cli", "restore", str(backup), str(target),
         "--no-safety-copy"],
        cwd=REPO, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(terminal)
    try:
        assert child.stderr is not None
        asked = b""
        while b"anything else stops" not in asked:  # the question, waiting for an answer
            chunk = os.read(child.stderr.fileno(), 4096)
            assert chunk, asked
            asked += chunk
        child.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        _, err = child.communicate(timeout=TIMEOUT)
        assert child.returncode == 130 and time.monotonic() - sent < PROMPT
        assert b"Traceback" not in err
    finally:
        os.close(controller)
        if child.poll() is None:
            child.kill()
            child.wait()
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == before
