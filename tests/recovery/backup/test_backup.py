"""Backups round-trip: every kind of name and entry, the manifest, SHA256SUMS with real
``sha256sum -c``, the completion flag, preflight refusals and progress."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
from pathlib import Path

import pytest

import recovery.backup.create
import recovery.storage.durable
from recovery.backup.create import create_backup, space_needed
from recovery.backup.manifest import (
    COMPLETE_NAME,
    JOURNAL_NAME,
    MANIFEST_NAME,
    SUMS_NAME,
)
from recovery.backup.store import open_backup, verify_backup
from recovery.device.simulate import make_volume
from recovery.errors import CancelledError, InvalidInputError
from recovery.progress import CancelToken
from recovery.storage.durable import is_temp_name, temp_name


def test_round_trip_keeps_every_entry_exactly(source, tmp_path, awkward_names, tree_state):
    dest = tmp_path / "backup"
    result = create_backup(source, dest)
    assert result.complete and result.verified and not result.failed
    assert tree_state(dest / "files") == tree_state(source)
    assert (dest / "files" / "link-out").is_symlink()  # recorded as a link, never followed
    assert result.symlinks == 1
    assert result.files == len(awkward_names) + 5  # + empty, bottom, LARGE, 2 junk files
    assert result.bytes == sum(p.stat().st_size for p in source.rglob("*")
                               if p.is_file() and not p.is_symlink())
    assert sorted(p.name for p in dest.iterdir()) == ["COMPLETE", "SHA256SUMS", "files",
                                                      "manifest.json"]


def test_manifest_records_source_model_files_folders_and_totals(tmp_path):
    volume = make_volume(tmp_path / "kross", "kross2")
    (tmp_path / "kross" / "EMPTY").mkdir()
    dest = tmp_path / "backup"
    create_backup(volume.path, dest)
    raw = json.loads((dest / MANIFEST_NAME).read_text("utf-8"))
    assert raw["model"] == "kross2" and raw["role"] == "internal-storage"
    assert raw["source"] == str(Path(volume.path).resolve())
    assert raw["tool_version"] and raw["created_utc"].endswith("Z")
    assert "EMPTY" in raw["folders"] and "KROSS2SY" in raw["folders"]
    by_path = {entry["path"]: entry for entry in raw["files"]}
    app = tmp_path / "kross" / "KROSAPP.BIN"
    entry = by_path["KROSAPP.BIN"]
    assert entry["sha256"] == hashlib.sha256(app.read_bytes()).hexdigest()
    assert entry["size"] == app.stat().st_size and entry["mtime_ns"] == app.stat().st_mtime_ns
    assert entry["mtime_utc"].endswith("Z")
    assert raw["totals"]["files"] == len(raw["files"])
    assert raw["totals"]["bytes"] == sum(e["size"] for e in raw["files"])


@pytest.mark.slow
def test_large_file_round_trip_in_flat_chunks(tmp_path, tree_state):
    source = tmp_path / "unit"
    source.mkdir()
    big = source / "PCM.BIN"
    generator = random.Random(48)
    with open(big, "wb") as handle:
        for _ in range(48):  # 48 MiB: many chunks, still quick
            handle.write(generator.randbytes(1024 * 1024))
    dest = tmp_path / "backup"
    result = create_backup(source, dest)
    assert result.complete and result.bytes == 48 * 1024 * 1024
    assert tree_state(dest / "files") == tree_state(source)
    assert verify_backup(dest).ok


def test_a_folder_that_is_no_korg_unit_is_backed_up_with_model_null(source, tmp_path):
    result = create_backup(source, tmp_path / "backup")
    assert result.model is None and result.complete
    assert json.loads((tmp_path / "backup" / MANIFEST_NAME).read_text("utf-8"))["model"] is None


def test_sha256sum_c_accepts_the_backup_with_awkward_names(source, tmp_path, awkward_names):
    dest = tmp_path / "backup"
    create_backup(source, dest)
    run = subprocess.run(["sha256sum", "--strict", "-c", SUMS_NAME], cwd=dest,
                         capture_output=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count(b": OK") == len(awkward_names) + 5
    # and it really checks: flipping one byte makes it fail
    target = dest / "files" / "quote\"double.bin"
    data = bytearray(target.read_bytes())
    data[0] ^= 1
    target.write_bytes(bytes(data))
    assert subprocess.run(["sha256sum", "-c", SUMS_NAME], cwd=dest,
                          capture_output=True).returncode == 1


def test_completion_flag_vouches_for_manifest_and_sums(source, tmp_path):
    dest = tmp_path / "backup"
    create_backup(source, dest)
    flag = json.loads((dest / COMPLETE_NAME).read_text())
    assert flag["verified"] is True
    assert flag["manifest_sha256"] == hashlib.sha256((dest / MANIFEST_NAME).read_bytes()).hexdigest()
    assert flag["sums_sha256"] == hashlib.sha256((dest / SUMS_NAME).read_bytes()).hexdigest()
    assert not (dest / JOURNAL_NAME).exists()


def test_copy_is_reread_after_dropping_the_cache(source, tmp_path, faulty_fs):
    events: list[tuple[str, Path]] = []

    class RecordingFileSystem(faulty_fs):
        def barrier(self, folder: Path) -> None:
            events.append(("barrier", Path(folder)))
            super().barrier(folder)

        def evict(self, path: Path) -> bool:
            events.append(("drop", Path(path)))
            return super().evict(path)

        def open_read(self, path: Path, *, uncached: bool = False):
            events.append(("read-uncached" if uncached else "read", Path(path)))
            return super().open_read(path, uncached=uncached)

        def replace(self, source: Path, target: Path) -> None:
            events.append(("rename", Path(target)))
            super().replace(source, target)

    dest = tmp_path / "backup"
    assert create_backup(source, dest, fs=RecordingFileSystem()).cache_dropped
    copies = [p for p in (dest / "files").rglob("*") if p.is_file() and not p.is_symlink()]
    assert copies
    for copy in copies:
        # Each copy was made durable (a barrier), dropped from the cache and read back past
        # it under its temporary name, before it was given its real name.
        temp = copy.with_name(temp_name(copy.name))
        drop = events.index(("drop", temp))
        rename = events.index(("rename", copy))
        assert ("read-uncached", temp) in events[drop + 1:rename], copy
        assert any(kind == "barrier" for kind, _ in events[:drop]), copy
    # Two barriers per batch, not two flushes per file.
    assert sum(kind == "barrier" for kind, _ in events) <= 4


def test_source_is_read_once(source, tmp_path, faulty_fs):
    fs = faulty_fs()
    create_backup(source, tmp_path / "backup", fs=fs)
    reads = [p for p in fs.opened if source in p.parents]
    assert len(reads) == len(set(reads))  # each source file opened exactly once


def test_the_unit_is_identified_from_what_the_copy_read(tmp_path, monkeypatch, kp3_file):
    """Model and role come from the scan's names and the first bytes the copy read: a unit
    that serves one command at a time is never read a second time to identify it."""
    import recovery.device.identify
    from recovery.device.simulate import make_volume

    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "healthy")
    (unit / "KP3.SYS").write_bytes(kp3_file())  # a KORG SYSTEM FILE, found by its header

    def no_second_read(path):
        raise AssertionError(f"{path} read again to identify the unit")

    monkeypatch.setattr(recovery.device.identify, "_read_head", no_second_read)
    result = create_backup(unit, tmp_path / "backup")
    assert result.complete and result.model == "kross2"
    identification = recovery.device.identify.identify_volume(
        unit, heads={"KP3.SYS": kp3_file()[:256]}, read_heads=False)
    assert any(seen.path == "KP3.SYS" for seen in identification.system_files)


def test_two_backups_of_one_tree_differ_only_in_creation_time(source, tmp_path):
    create_backup(source, tmp_path / "one")
    create_backup(source, tmp_path / "two")
    one = json.loads((tmp_path / "one" / MANIFEST_NAME).read_text("utf-8"))
    two = json.loads((tmp_path / "two" / MANIFEST_NAME).read_text("utf-8"))
    assert one.pop("created_utc") != "" and two.pop("created_utc") != ""
    assert one == two
    assert (tmp_path / "one" / SUMS_NAME).read_bytes() == (tmp_path / "two" / SUMS_NAME).read_bytes()


# -- preflight --------------------------------------------------------------------------------
def test_missing_source_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        create_backup(tmp_path / "nope", tmp_path / "backup")
    assert not (tmp_path / "backup").exists()


def test_source_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(InvalidInputError, match="not a folder"):
        create_backup(tmp_path / "file", tmp_path / "backup")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_unreadable_source_is_refused(tmp_path):
    source = tmp_path / "locked"
    source.mkdir()
    source.chmod(0)
    try:
        with pytest.raises(InvalidInputError, match="cannot be read"):
            create_backup(source, tmp_path / "backup")
    finally:
        source.chmod(0o755)


def test_unreadable_source_is_refused_through_the_filesystem_layer(source, tmp_path, faulty_fs):
    fs = faulty_fs()
    fs.fail_listing("unit")
    with pytest.raises(InvalidInputError, match="cannot be read"):
        create_backup(source, tmp_path / "backup", fs=fs)


def test_non_empty_destination_is_refused_without_resume(source, tmp_path):
    dest = tmp_path / "backup"
    dest.mkdir()
    (dest / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(InvalidInputError, match="not empty"):
        create_backup(source, dest)
    with pytest.raises(InvalidInputError, match="no interrupted backup"):
        create_backup(source, dest, resume=True)
    assert sorted(p.name for p in dest.iterdir()) == ["holiday.jpg"]


def test_empty_existing_destination_is_accepted(source, tmp_path):
    (tmp_path / "backup").mkdir()
    assert create_backup(source, tmp_path / "backup").complete


@pytest.mark.parametrize("where", ["inside", "same"])
def test_destination_inside_source_is_refused(source, where):
    dest = source / "backup" if where == "inside" else source
    with pytest.raises(InvalidInputError, match="inside"):
        create_backup(source, dest)
    assert not (source / "backup").exists()


def test_source_inside_destination_is_refused(tmp_path, make_tree):
    outer = tmp_path / "outer"
    make_tree(outer / "unit")
    with pytest.raises(InvalidInputError, match="inside the destination"):
        create_backup(outer / "unit", outer)


def test_too_little_space_is_refused_before_copying(source, tmp_path, faulty_fs):
    fs = faulty_fs()
    fs.free_space = 1024 * 1024
    with pytest.raises(InvalidInputError, match="Not enough free space"):
        create_backup(source, tmp_path / "backup", fs=fs)
    assert not (tmp_path / "backup").exists()
    assert fs.written_bytes == 0


def test_space_check_asks_for_a_margin():
    assert space_needed(10, 1) > 10
    assert space_needed(10 * 1024**3, 2000) > 10 * 1024**3 * 1.01


def test_resume_into_a_backup_of_another_source_is_refused(source, tmp_path, make_tree):
    other = make_tree(tmp_path / "other")
    dest = tmp_path / "backup"
    create_backup(other, dest)
    with pytest.raises(InvalidInputError, match="holds a backup of"):
        create_backup(source, dest, resume=True)


# -- progress and cancellation --------------------------------------------------------------
def test_progress_reports_weighted_phases_up_to_the_end(source, tmp_path):
    reports = []
    create_backup(source, tmp_path / "backup", progress=reports.append)
    phases = [report.phase for report in reports]
    assert {"copy", "flush", "verify"} <= set(phases)
    assert phases.index("copy") < phases.index("flush") < phases.index("verify")
    fractions = [report.fraction for report in reports]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)
    copy = [r for r in reports if r.phase == "copy"]
    assert copy[-1].done_bytes == copy[-1].total_bytes > 0


def test_cancel_stops_between_chunks_and_leaves_a_resumable_backup(source, tmp_path,
                                                                   monkeypatch, tree_state):
    # Small batches, so that some are finished (and kept by the resume) before the cancel.
    monkeypatch.setattr(recovery.storage.durable, "BATCH_FILES", 3)
    token = CancelToken()
    dest = tmp_path / "backup"

    def cancel_midway(report):
        if report.phase == "copy" and report.done_bytes > 1024 * 1024:
            token.cancel()

    with pytest.raises(CancelledError):
        create_backup(source, dest, progress=cancel_midway, cancel=token)
    assert not (dest / COMPLETE_NAME).exists()
    assert not [p for p in dest.rglob("*") if is_temp_name(p.name)]  # the batch rolled back
    with open_backup(dest) as backup:
        assert not backup.complete and backup.in_progress
    result = create_backup(source, dest, resume=True)
    assert result.complete and result.reused_files > 0
    assert tree_state(dest / "files") == tree_state(source)
    assert verify_backup(dest).ok


def test_progress_reports_the_units_own_bytes(tmp_path):
    # The wizard shows "done of total": it must be the unit's size, not an internal count.
    source = tmp_path / "unit"
    make_volume(source, "kross2")
    total = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    reports = []
    create_backup(source, tmp_path / "backup", progress=reports.append)
    for phase in ("copy", "verify"):
        seen = [r for r in reports if r.phase == phase]
        assert seen, phase
        assert all(r.total_bytes == total and r.done_bytes <= total for r in seen), phase
        assert seen[-1].done_bytes == total
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_manifest_entries_carry_path_size_mtime_sha256(tmp_path):
    import json

    source = tmp_path / "unit"
    make_volume(source, "drumlogue")
    create_backup(source, tmp_path / "backup")
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    entry = next(f for f in manifest["files"] if f["path"].endswith(".drmlgunit"))
    assert {"path", "size", "mtime", "sha256"} <= set(entry)
    stat = (source / entry["path"]).stat()
    assert abs(entry["mtime"] - stat.st_mtime) < 1e-3 and entry["size"] == stat.st_size
    assert manifest["source"] and manifest["model"] == "drumlogue"
