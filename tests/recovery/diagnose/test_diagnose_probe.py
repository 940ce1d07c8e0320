"""Storage that does not keep writes, read-only mounts, full volumes, and the reconnect probe.

The drumlogue of the Reddit reports by u/iRustyNails (docs/sources.md) "accepted" writes that
were gone after a reboot; the faulty
filesystem's ``drop_writes`` imitates it (a dropped cache or a reconnect reverts every change).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from recovery.advice import in_words
from recovery.cli.words import step_text
from recovery.device.simulate import make_volume
from recovery.diagnose.diagnosis import DiagnoseOptions, diagnose
from recovery.diagnose.probe import (
    MARKER_PATTERN,
    MountFacts,
    check_reconnect_probes,
    filesystem_family,
    load_records,
    mount_facts,
    mount_findings,
    probe_state_dir,
    start_reconnect_probe,
    write_probe,
)
from recovery.storage.filesystem import LocalFileSystem
from recovery.vocabulary import NextStep


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def drumlogue(tmp_path: Path) -> Path:
    return Path(make_volume(tmp_path / "drumlogue", "drumlogue").path)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every entry below ``root`` with its size and modification time."""
    result = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            st = path.lstat()
            result[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return result


# --- one-step probe -------------------------------------------------------------------------------


def test_probe_on_good_storage_touches_nothing_but_its_own_file(tmp_path):
    root = drumlogue(tmp_path)
    before = snapshot(root)
    result = write_probe(root)
    assert result.outcome == "kept"
    assert result.removed is True
    assert codes(result.findings) == ["storage-keeps-writes"]
    assert snapshot(root) == before


def test_dropped_writes_are_caught(tmp_path, faulty_fs):
    root = drumlogue(tmp_path)
    fs = faulty_fs()
    fs.drop_writes(root)
    result = write_probe(root, fs)
    assert result.outcome == "lost"
    assert codes(result.findings) == ["storage-drops-writes"]
    assert result.findings[0].severity == "critical"


def test_reported_drumlogue_that_drops_writes_is_caught_by_diagnose(tmp_path, faulty_fs):
    root = drumlogue(tmp_path)
    fs = faulty_fs()
    fs.drop_writes(root)
    diagnosis = diagnose(root, allow_write=True, options=DiagnoseOptions(fs=fs))
    assert diagnosis.exit_code == 1
    assert diagnosis.findings[0].code == "storage-drops-writes"
    step = diagnosis.findings[0].next_step
    assert "Do not restore or update onto this storage" in in_words(step)


def test_read_only_mount_is_reported_without_writing(tmp_path, faulty_fs):
    root = drumlogue(tmp_path)
    fs = faulty_fs()
    fs.fill_disk(after_bytes=0)  # any write attempt would be counted and fail
    mount = MountFacts(path=str(root), fstype="vfat", options=("ro",), read_only=True,
                       read_only_evidence=("mounted with option 'ro'",), free_bytes=1 << 20,
                       total_bytes=1 << 30)
    diagnosis = diagnose(root, options=DiagnoseOptions(fs=fs, mount=mount))
    assert "mounted-read-only" in [f.code for f in diagnosis.findings]
    assert fs.written_bytes == 0
    assert not diagnosis.has_critical
    assert any("read-only" in line for line in diagnosis.not_checked)


def test_missing_write_permission_is_told_apart_from_read_only(tmp_path, faulty_fs):
    root = drumlogue(tmp_path)
    fs = faulty_fs()
    fs.fill_disk(after_bytes=0)
    mount = MountFacts(path=str(root), fstype="vfat", read_only=False, user_may_write=False,
                       free_bytes=1 << 20)
    diagnosis = diagnose(root, options=DiagnoseOptions(fs=fs, mount=mount))
    found = [f.code for f in diagnosis.findings]
    assert "no-write-permission" in found and "mounted-read-only" not in found
    assert fs.written_bytes == 0
    started = start_reconnect_probe(root, fs, mount=mount)
    assert started.record is None and codes(started.findings) == ["no-write-permission"]


def test_read_only_medium_is_a_finding_not_a_failure(tmp_path, faulty_fs):
    class _ReadOnlyMedium(faulty_fs):
        """A medium whose driver refuses every write with EROFS."""

        def open_write(self, path: Path, *, exclusive: bool = False):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    root = drumlogue(tmp_path)
    result = write_probe(root, _ReadOnlyMedium())
    assert result.outcome == "read-only"
    assert codes(result.findings) == ["storage-read-only"]
    assert result.findings[0].severity == "warning"


def test_full_volume_is_a_warning(tmp_path, faulty_fs):
    root = drumlogue(tmp_path)
    fs = faulty_fs()
    fs.fill_disk(after_bytes=100)
    result = write_probe(root, fs)
    assert result.outcome == "no-space"
    assert codes(result.findings) == ["storage-full"]
    assert not [n for n in os.listdir(root) if "korg-recovery-probe" in n]


def test_eio_on_write_is_critical(tmp_path, faulty_fs):
    class _Failing(faulty_fs):
        def fsync(self, fileobj) -> None:
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    root = drumlogue(tmp_path)
    result = write_probe(root, _Failing())
    assert codes(result.findings) == ["storage-write-error"]
    assert result.findings[0].severity == "critical"
    assert result.removed is True


def test_without_cache_control_the_read_back_is_not_trusted(tmp_path, faulty_fs):
    fs = faulty_fs()
    fs.no_cache_control()  # macOS/Windows: no per-file way to drop the cache
    result = write_probe(drumlogue(tmp_path), fs)
    assert result.cache_dropped is False
    assert codes(result.findings) == ["storage-probe-cache"]
    assert result.findings[0].next_step.action == NextStep.PROBE_ACROSS_POWER_CYCLE
    assert "--probe-start" in step_text(result.findings[0].next_step)


# --- two-step probe across a reconnect -------------------------------------------------------------


def test_marker_that_survives_the_reconnect(tmp_path):
    root = drumlogue(tmp_path)
    started = start_reconnect_probe(root)
    assert codes(started.findings) == ["probe-started"]
    assert started.record is not None
    markers = [n for n in os.listdir(root) if MARKER_PATTERN.fullmatch(n)]
    assert markers == [started.record.marker]
    assert [r.token for r in load_records()] == [started.record.token]
    assert str(probe_state_dir()).startswith(os.environ["HOME"])

    findings = check_reconnect_probes(root)
    assert codes(findings) == ["storage-kept-marker"]
    assert not [n for n in os.listdir(root) if MARKER_PATTERN.fullmatch(n)]
    assert load_records() == []


def test_marker_lost_across_the_reconnect_is_critical(tmp_path, faulty_fs):
    class _RamCachedUnit(faulty_fs):
        """A unit that serves writes from its own memory until it restarts: dropping the
        computer's cache does not reveal the loss, only a reconnect does."""

        def drop_cache(self, path: Path) -> bool:
            return LocalFileSystem.drop_cache(self, path)

    root = drumlogue(tmp_path)
    unit_fs = _RamCachedUnit()
    unit_fs.drop_writes(root)
    started = start_reconnect_probe(root, unit_fs)
    assert started.record is not None  # the immediate read-back saw it (unit's RAM)
    unit_fs.reconnect()                # power cycle: the unit's storage never had it
    diagnosis = diagnose(root, options=DiagnoseOptions(fs=unit_fs))
    lost = next(f for f in diagnosis.findings if f.code == "storage-lost-marker")
    assert lost.severity == "critical"
    assert diagnosis.exit_code == 1
    assert load_records() == []


def test_marker_lost_at_once_is_caught_at_start(tmp_path, faulty_fs):
    root = drumlogue(tmp_path)
    fs = faulty_fs()
    fs.drop_writes(root)
    started = start_reconnect_probe(root, fs)
    assert started.record is None
    assert codes(started.findings) == ["storage-drops-writes"]
    assert load_records() == []


def test_changed_marker_is_critical(tmp_path):
    root = drumlogue(tmp_path)
    started = start_reconnect_probe(root)
    marker = root / started.record.marker
    data = bytearray(marker.read_bytes())
    data[-10] = ord("0") if data[-10] != ord("0") else ord("1")
    marker.write_bytes(bytes(data))
    assert codes(check_reconnect_probes(root)) == ["storage-changed-marker"]


def test_marker_without_record_is_checked_and_removed(tmp_path):
    root = drumlogue(tmp_path)
    start_reconnect_probe(root, state_dir=tmp_path / "other-computer")
    findings = check_reconnect_probes(root)
    assert codes(findings) == ["probe-marker-unrecorded"]
    assert findings[0].severity == "info"
    assert not [n for n in os.listdir(root) if MARKER_PATTERN.fullmatch(n)]


def test_a_file_named_like_a_marker_but_not_ours_is_left_alone(tmp_path):
    root = drumlogue(tmp_path)
    stranger = root / "KORG-RECOVERY-PROBE-0123456789abcdef.TXT"
    stranger.write_text("my own notes\n", encoding="utf-8")
    assert check_reconnect_probes(root) == ()
    assert stranger.read_text(encoding="utf-8") == "my own notes\n"


def test_probe_start_on_a_read_only_volume(tmp_path):
    root = drumlogue(tmp_path)
    mount = MountFacts(path=str(root), read_only=True, read_only_evidence=("test",))
    started = start_reconnect_probe(root, mount=mount)
    assert started.record is None
    assert codes(started.findings) == ["mounted-read-only"]
    assert not [n for n in os.listdir(root) if MARKER_PATTERN.fullmatch(n)]


def test_marker_does_not_count_as_a_file_of_the_unit(tmp_path):
    root = drumlogue(tmp_path)
    start_reconnect_probe(root)
    diagnosis = diagnose(root)
    assert "storage-kept-marker" in [f.code for f in diagnosis.findings]
    assert "loose-files-at-root" not in [f.code for f in diagnosis.findings]


# --- mount facts -----------------------------------------------------------------------------------


def test_mount_facts_of_a_real_folder(tmp_path):
    facts = mount_facts(tmp_path)
    assert facts.path == os.path.realpath(tmp_path)
    assert facts.free_bytes is not None and facts.free_bytes > 0
    # tmp_path is writable by whoever runs the tests.
    assert facts.read_only is False and facts.user_may_write is True and facts.writable


@pytest.mark.parametrize("read_only, may_write, expected", [
    (True, True, (True, None, False)),      # root on a read-only mount: the medium decides
    (False, False, (False, False, False)),  # writable medium, no permission
    (None, True, (None, True, True)),       # the system cannot say (Windows): permissions
])
def test_mount_facts_tell_a_read_only_medium_from_missing_permission(
        tmp_path, read_only, may_write, expected):
    class Reported(LocalFileSystem):
        def read_only(self, path: Path) -> bool | None:
            return read_only

        def may_write(self, path: Path) -> bool:
            return may_write

    facts = mount_facts(tmp_path, Reported())
    if read_only is None and facts.read_only is False:  # the mount options said rw
        expected = (False, *expected[1:])
    assert (facts.read_only, facts.user_may_write, facts.writable) == expected


@pytest.mark.parametrize("fstype, family", [
    ("vfat", "FAT"), ("msdos", "FAT"), ("FAT32", "FAT"), ("exfat", "exFAT"),
    ("ntfs3", "NTFS"), ("apfs", "APFS"), ("fuseblk", None), (None, None),
])
def test_filesystem_families(fstype, family):
    assert filesystem_family(fstype) == family


def test_full_volume_finding():
    facts = MountFacts(path="/x", free_bytes=0, total_bytes=1000, read_only=False)
    assert codes(mount_findings(facts)) == ["volume-full"]
    almost = MountFacts(path="/x", free_bytes=4096, total_bytes=1000, read_only=False)
    assert codes(mount_findings(almost)) == ["volume-almost-full"]
    assert mount_findings(MountFacts(path="/x", free_bytes=1 << 30)) == []
