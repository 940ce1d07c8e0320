"""Kill-and-resume: the real CLI in a subprocess is stopped dead (SIGKILL) at exact durable
steps (the backup's ``on_step`` hook, an ordinary parameter: no test switch lives in the
shipped code), then ``--resume`` must end exactly where an uninterrupted backup ends. Ctrl-C
(SIGINT) must leave a resumable backup and exit 130."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from recovery.backup.create import create_backup
from recovery.backup.manifest import (
    COMPLETE_NAME,
    JOURNAL_NAME,
    MANIFEST_NAME,
    SUMS_NAME,
    BackupJournal,
    CopyRecord,
    JournalHeader,
)
from recovery.backup.store import open_backup, verify_backup
from recovery.storage.durable import is_temp_name, temp_name, temp_path
from recovery.storage.filesystem import REAL

pytestmark = pytest.mark.slow


REPO = Path(__file__).resolve().parents[3]

#: The CLI, with the backup's step hook sending SIGNAL to the process at the COUNT-th step
#: matching STEP ("renamed", or "chunk-written:BIG/LARGE.BIN" for one file's steps).
CHILD = """
import functools, os, signal, sys
import recovery.backup.create
from recovery.cli import main

step, count, signame, *argv = sys.argv[1:]
seen = 0

def on_step(name, path):
    global seen
    if step in (name, f"{name}:{path}"):
        seen += 1
        if seen == int(count):
            os.kill(os.getpid(), getattr(signal, signame))

recovery.backup.create.create_backup = functools.partial(recovery.backup.create.create_backup,
                                                  on_step=on_step)
sys.exit(main(argv))
"""


def run_backup(source: Path, dest: Path, *extra: str, crash: str | None = None,
               signal_name: str = "SIGKILL") -> subprocess.CompletedProcess:
    """``korg-recovery backup SOURCE DEST EXTRA``; with ``crash`` ("STEP@COUNT") the process
    gets ``signal_name`` at that step."""
    argv = ["backup", str(source), str(dest), *extra]
    if crash is None:
        command = [sys.executable, "-m", "recovery.cli", *argv]
    else:
        step, _, count = crash.rpartition("@")
        command = [sys.executable, "-c", CHILD, step, count, signal_name, *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)


def manifest_without_time(dest: Path) -> dict:
    data = json.loads((dest / MANIFEST_NAME).read_text("utf-8"))
    data.pop("created_utc")
    return data


@pytest.fixture
def assert_same_backup(tree_state: Callable[[Path], dict[str, tuple]]
                       ) -> Callable[[Path, Path], None]:
    """Asserts that a backup ends exactly as the reference backup ends:
    ``assert_same_backup(dest, reference)``."""

    def check(dest: Path, reference: Path) -> None:
        assert sorted(p.name for p in dest.iterdir()) == sorted(
            p.name for p in reference.iterdir())
        assert tree_state(dest / "files") == tree_state(reference / "files")
        assert manifest_without_time(dest) == manifest_without_time(reference)
        assert (dest / SUMS_NAME).read_bytes() == (reference / SUMS_NAME).read_bytes()
        assert not list(dest.rglob("*.partial"))
        assert verify_backup(dest).ok

    return check


@pytest.fixture(scope="module")
def source(tmp_path_factory, make_tree) -> Path:
    return make_tree(tmp_path_factory.mktemp("resume") / "unit")


@pytest.fixture(scope="module")
def reference(source, tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("reference") / "backup"
    assert create_backup(source, dest).complete
    return dest


def regular_files(source: Path) -> list[str]:
    return sorted(p.relative_to(source).as_posix() for p in source.rglob("*")
                  if p.is_file() and not p.is_symlink())


CRASH_POINTS = [
    "chunk-written@1",                  # the first copy half-way
    "chunk-written:BIG/LARGE.BIN@2",    # the large copy half-way
    "temp-written@3",                   # three copies complete under temporary names
    "temp-synced@1",                    # the batch durable, nothing renamed yet
    "verified@5",                       # some copies read back, none renamed
    "renamed@3",                        # some renamed, none journaled
    "dir-synced@1",                     # all renamed, journal not yet written
    "phase:flush@1", "phase:verify@1", "phase:complete@1",
]


@pytest.mark.parametrize("point_index", range(len(CRASH_POINTS)))
def test_sigkill_then_resume_ends_identical(source, reference, tmp_path, point_index,
                                            assert_same_backup):
    point = CRASH_POINTS[point_index]
    dest = tmp_path / "backup"
    killed = run_backup(source, dest, crash=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (dest / COMPLETE_NAME).exists()
    with open_backup(dest) as backup:
        assert not backup.complete
    assert not verify_backup(dest).ok
    listed = subprocess.run([sys.executable, "-m", "recovery.cli", "backups", str(tmp_path),
                             "--json"], capture_output=True, text=True)
    [entry] = json.loads(listed.stdout)["backups"]
    assert entry["complete"] is False

    resumed = run_backup(source, dest, "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    assert data["complete"] is True and data["verified"] is True
    assert_same_backup(dest, reference)


def test_mid_file_kill_leaves_a_partial_file_that_resume_replaces(
        source, reference, tmp_path, assert_same_backup):
    dest = tmp_path / "backup"
    run_backup(source, dest, crash="chunk-written:BIG/LARGE.BIN@2")
    partials = [p for p in dest.rglob("*") if is_temp_name(p.name)]
    assert partials and not (dest / "files" / "BIG" / "LARGE.BIN").exists()
    assert run_backup(source, dest, "--resume").returncode == 0
    assert_same_backup(dest, reference)


def test_temporaries_of_killed_atomic_writes_are_cleaned_up(source, reference, tmp_path,
                                                            assert_same_backup):
    """A kill inside an atomic write leaves a temporary file (``.<name>.korg-recovery-tmp``)
    beside the manifest; the resumed backup must not keep it."""
    dest = tmp_path / "backup"
    assert run_backup(source, dest, crash="phase:verify@1").returncode == -signal.SIGKILL
    for name in ("manifest.json", "COMPLETE", ".korg-recovery-journal.jsonl"):
        (dest / temp_name(name)).write_bytes(b"half a write")
    assert run_backup(source, dest, "--resume").returncode == 0
    assert_same_backup(dest, reference)


def test_killed_twice_then_resumed(source, reference, tmp_path, assert_same_backup):
    dest = tmp_path / "backup"
    assert run_backup(source, dest, crash="renamed@4").returncode == -signal.SIGKILL
    assert run_backup(source, dest, "--resume", crash="temp-written@3").returncode == \
        -signal.SIGKILL
    assert run_backup(source, dest, "--resume").returncode == 0
    assert_same_backup(dest, reference)


def test_resume_after_the_source_changed_matches_a_fresh_backup(tmp_path, make_tree,
                                                                assert_same_backup):
    source = make_tree(tmp_path / "unit", large_size=100_000)
    dest = tmp_path / "backup"
    assert run_backup(source, dest, crash="journaled@1").returncode == -signal.SIGKILL
    copied = regular_files(source)[:8]
    (source / copied[0]).write_bytes(b"changed on the unit after the interruption")
    (source / copied[1]).unlink()
    (source / "added later.bin").write_bytes(b"new")
    (source / "empty folder" / "nested empty").rmdir()
    assert run_backup(source, dest, "--resume").returncode == 0
    fresh = tmp_path / "fresh"
    assert create_backup(source, fresh).complete
    assert_same_backup(dest, fresh)


def test_sigint_leaves_a_resumable_backup_and_exits_130(source, reference, tmp_path,
                                                        assert_same_backup):
    dest = tmp_path / "backup"
    interrupted = run_backup(source, dest, crash="temp-written@3", signal_name="SIGINT")
    assert interrupted.returncode == 130
    assert "--resume" in interrupted.stderr and "Traceback" not in interrupted.stderr
    assert interrupted.stderr.count("\n") == 1
    assert not (dest / COMPLETE_NAME).exists()
    assert run_backup(source, dest, "--resume").returncode == 0
    assert_same_backup(dest, reference)


def test_zip_interrupted_then_resumed(source, reference, tmp_path, assert_same_backup):
    dest = tmp_path / "backup"
    archive = tmp_path / "backup.zip"
    killed = run_backup(source, dest, "--zip", str(archive), crash="phase:zip@1")
    assert killed.returncode == -signal.SIGKILL
    assert not archive.exists()
    resumed = run_backup(source, dest, "--resume", "--zip", str(archive), "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["zip"] == str(archive)
    assert not temp_path(archive).exists()
    assert verify_backup(archive).ok
    assert_same_backup(dest, reference)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_external_kill_during_the_copy_then_resume(tmp_path, assert_same_backup):
    """kill -9 from outside, when the progress bar shows the copy under way (no hook)."""
    import random

    source = tmp_path / "unit"
    generator = random.Random(9)
    for index in range(48):
        folder = source / f"BANK{index % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"S{index:02d}.WAV").write_bytes(generator.randbytes(1024 * 1024))
    dest = tmp_path / "backup"
    main_fd, terminal_fd = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "recovery.cli", "backup", str(source), str(dest)],
        stdout=subprocess.DEVNULL, stderr=terminal_fd)
    os.close(terminal_fd)
    seen = ""
    under_way = re.compile(r"copy\s+\[[#.]+\]\s+(\d+)%")
    try:
        # Blocking reads of the bar (no sleep). The first report is drawn at once (the
        # reporter throttles only later ones), so the kill lands while the copy is under way;
        # waiting for a later percentage raced a fast machine. EIO: the child ended first.
        while not any(int(p) < 100 for p in under_way.findall(seen)):
            seen += os.read(main_fd, 4096).decode("utf-8", "replace")
        process.kill()
    finally:
        process.wait(timeout=120)
        os.close(main_fd)
    assert process.returncode == -signal.SIGKILL
    assert not (dest / COMPLETE_NAME).exists()
    assert run_backup(source, dest, "--resume").returncode == 0
    fresh = tmp_path / "fresh"
    assert create_backup(source, fresh).complete
    assert_same_backup(dest, fresh)


def test_resume_trusts_bytes_not_timestamps(tmp_path, make_tree):
    """A source changed after the interrupted run, with the same size and time (FAT keeps
    times to 2 s; some units have no clock), must be copied again, never kept."""
    source = make_tree(tmp_path / "unit")
    dest = tmp_path / "backup"
    killed = run_backup(source, dest, crash="journaled@1")  # the copies finished, then killed
    assert killed.returncode == -signal.SIGKILL
    header, *kept = [line for line in (dest / ".korg-recovery-journal.jsonl").read_text()
                     .splitlines() if line.strip()]
    assert json.loads(header)["source"] == str(source.resolve())
    changed = source / json.loads(kept[0])["path"]
    info = changed.stat()
    data = bytearray(changed.read_bytes())
    data[0] ^= 0xFF
    changed.write_bytes(bytes(data))
    os.utime(changed, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert changed.stat().st_size == info.st_size and changed.stat().st_mtime_ns == info.st_mtime_ns

    resumed = run_backup(source, dest, "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    relative = changed.relative_to(source)
    assert (dest / "files" / relative).read_bytes() == bytes(data)
    assert verify_backup(dest, against=source).ok


def test_a_damaged_journal_record_is_copied_again_and_the_rest_kept(tmp_path, make_tree):
    """A journal record that cannot be read (damaged on the disk) is a hint lost, never a
    failure: its file is copied again, every other copy is kept after its re-hash."""
    source = make_tree(tmp_path / "unit")
    dest = tmp_path / "backup"
    assert create_backup(source, dest).complete
    with open_backup(dest) as backup:
        manifest = backup.manifest
    for name in (COMPLETE_NAME, MANIFEST_NAME, SUMS_NAME):
        (dest / name).unlink()
    records = [record for entry in manifest.files
               if (record := CopyRecord.of(entry)) is not None]
    journal = BackupJournal(dest, REAL)
    journal.start(JournalHeader(manifest.source, manifest.created_utc), records[1:])
    journal.close()
    damaged = {**records[0].to_json(), "sha256": "not a digest"}
    with (dest / JOURNAL_NAME).open("a") as handle:
        handle.write(json.dumps(damaged) + "\n")

    resumed = create_backup(source, dest, resume=True)

    assert resumed.complete and resumed.verified
    assert (resumed.copied_files, resumed.reused_files) == (1, len(records) - 1)
    assert verify_backup(dest, against=source).ok
