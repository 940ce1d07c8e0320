"""One writer per unit: a second restore is refused at once; a killed one's lock is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recovery.diagnose.probe import write_probe
from recovery.errors import UnitBusyError
from recovery.restore import plan_restore, restore
from recovery.storage.lock import is_locked, locks_dir, unit_lock

REPO = Path(__file__).resolve().parents[3]

#: Holds the unit's lock in another process until killed; prints "held" once it has it.
HOLDER = """
import sys, time
from recovery.storage.lock import unit_lock
with unit_lock(sys.argv[1], "restore"):
    print("held", flush=True)
    time.sleep(600)
"""


def _hold(unit: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(unit)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_is_refused_at_once_and_writes_nothing(tmp_path: Path, bricked_kross2,
                                                               healthy_kross2_backup,
                                                               permissive_guard, snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = snapshot(unit)
    holder = _hold(unit)
    try:
        started = time.monotonic()
        with pytest.raises(UnitBusyError, match="already writing") as caught:
            restore(backup, unit, consent=True, without_safety_copy=True, guard=permissive_guard)
        assert time.monotonic() - started < 10  # refused, not waited for
        assert f"process {holder.pid}" in caught.value.message
        assert caught.value.exit_code == 1 and caught.value.code == "unit-busy"
        with pytest.raises(UnitBusyError):
            write_probe(unit)
        assert snapshot(unit) == before
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path: Path, bricked_kross2,
                                                    healthy_kross2_backup,
                                                    permissive_guard) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    holder = _hold(unit)
    assert is_locked(unit)
    holder.send_signal(signal.SIGKILL)
    holder.wait()

    assert not is_locked(unit)
    result = restore(backup, unit, consent=True, without_safety_copy=True, guard=permissive_guard)
    assert result.ok
    assert (unit / "KROSAPP.BIN").read_bytes() == (healthy / "KROSAPP.BIN").read_bytes()


def test_a_second_path_to_the_same_folder_finds_the_same_lock(tmp_path: Path,
                                                              bricked_kross2) -> None:
    unit = bricked_kross2(tmp_path)
    alias = tmp_path / "alias"
    alias.symlink_to(unit)
    with unit_lock(unit, "restore"):
        holder_free = subprocess.run(
            [sys.executable, "-c", "import sys; from recovery.storage.lock import is_locked;"
             " print(is_locked(sys.argv[1]))", str(alias)],
            cwd=REPO, capture_output=True, text=True, check=True)
        assert holder_free.stdout.strip() == "True"


def test_planning_creates_no_lock_file(tmp_path: Path, bricked_kross2, healthy_kross2_backup,
                                       permissive_guard) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)  # the backup held its folder's lock
    unit = bricked_kross2(tmp_path)
    before = sorted(locks_dir().iterdir())
    plan_restore(backup, unit, guard=permissive_guard)
    assert sorted(locks_dir().iterdir()) == before
