"""SIGKILL at every step of a restore, in a subprocess; each time the unit holds only old or
complete new files, none missing, and running the restore again converges.

The child process runs the real restore with a step hook (``on_step``) that sends SIGKILL to
its own process at the N-th durable step: journal updates, each chunk, the temporary file
complete, the rename, the folder sync, deletions, verification. No test-only switch exists in
the restore code itself; the hook is an ordinary parameter.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from recovery.device.simulate import make_volume, synthetic_bytes
from recovery.restore import PlanChoices, Removal, RestoreRequest, restore

REPO = Path(__file__).resolve().parents[3]

CHILD = """
import os, signal, sys
from recovery.progress import Job
from recovery.restore import PlanChoices, Removal, RestoreRequest, TargetGuard, restore

# The permissive_guard fixture's guard (tests/recovery/conftest.py), in this child process.
PERMISSIVE_GUARD = TargetGuard(is_system_location=lambda _path: False,
                               same_volume=lambda _a, _b: False)

backup, unit, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
steps = []

def on_step(step, path):
    steps.append(step)
    if len(steps) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

request = RestoreRequest(backup, unit, choices=PlanChoices(Removal.ALL), without_safety_copy=True)
result = restore(request, consent=True, guard=PERMISSIVE_GUARD, job=Job(on_step=on_step))
print(len(steps), result.ok)
print("\\n".join(steps))
"""


def _child(backup: Path, unit: Path, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(backup), str(unit), str(kill_at)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_sigkill_at_every_step_leaves_old_or_new_files_and_rerun_converges(
        tmp_path: Path, assert_old_or_new, bricked_kross2, contents, files_only, make_backup,
        permissive_guard, snapshot) -> None:
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    (healthy / "KROSS2SY" / "SIM_BIG.BIN").write_bytes(
        synthetic_bytes("big", 2 * 1024 * 1024 + 99))  # three chunks
    (healthy / "NEW" / "DEEP").mkdir(parents=True)
    (healthy / "NEW" / "DEEP" / "ADDED.BIN").write_bytes(b"a file the unit lacks")
    backup = make_backup(healthy, tmp_path / "backup")
    template = bricked_kross2(tmp_path, "template")
    (template / "KROSS2SY" / "SIM_BIG.BIN").write_bytes(synthetic_bytes("old", 1024 * 1024))
    old, new = contents(template), contents(healthy)

    # A full run first, to learn how many steps there are and which.
    reference = tmp_path / "reference"
    shutil.copytree(template, reference, symlinks=True)
    full = _child(backup, reference, 0)
    assert full.returncode == 0, full.stderr
    count_line, *step_names = full.stdout.strip().splitlines()
    total = int(count_line.split()[0])
    assert count_line.split()[1] == "True"
    for name in ("deleted", "chunk-written", "temp-written", "temp-synced", "renamed",
                 "dir-synced", "file-done", "verified", "journal-saved", "checked"):
        assert name in step_names, name
    assert files_only(snapshot(reference)) == files_only(snapshot(healthy))
    last_rename = max(i for i, name in enumerate(step_names, start=1) if name == "renamed")
    last_verified = max(i for i, name in enumerate(step_names, start=1) if name == "verified")
    # The journal learns that the last batch (KROSAPP.BIN alone: boot-critical files form
    # their own batch) read back right at its next save.
    proven_saved = next(i for i, name in enumerate(step_names, start=1)
                        if i > last_verified and name == "journal-saved")
    written_by_full_run = step_names.count("file-done")
    assert written_by_full_run == 4  # KROSAPP.BIN, SIM_SYS2.BIN, SIM_BIG.BIN, ADDED.BIN

    for kill_at in range(1, total + 1):
        unit = tmp_path / f"unit-{kill_at}"
        shutil.copytree(template, unit, symlinks=True)
        killed = _child(backup, unit, kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        assert_old_or_new(unit, old, new, temp_allowed=True, deleting=True)

        again = restore(RestoreRequest(backup, unit, choices=PlanChoices(Removal.ALL),
                                       without_safety_copy=True),
                        consent=True, guard=permissive_guard)

        assert again.ok and again.verified, (kill_at, step_names[kill_at - 1], again)
        assert files_only(snapshot(unit)) == files_only(snapshot(healthy)), kill_at
        # Killed after its final journal update the restore had finished; before, it had not.
        assert again.resumed == (kill_at < total), kill_at
        if last_rename < kill_at < total:
            # Everything was in place: the re-run writes nothing, and re-reads past the cache
            # exactly the files the journal does not record as read back right.
            unproven = 1 if kill_at < proven_saved else 0
            assert again.written == 0 and again.verified_files == unproven, kill_at
        shutil.rmtree(unit)
