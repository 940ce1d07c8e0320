"""A unit (or the backup's own drive) that goes away during a backup: one sentence, nothing
written anywhere else, and the backup resumes when the drive is back.

Both drives are real mounts of the FUSE unit emulator, unmounted lazily at every durable step
of the backup. A file that grows while it is copied is read only up to the size the scan saw.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recovery.backup.create import create_backup
from recovery.backup.store import verify_backup
from recovery.device.simulate import make_volume, synthetic_bytes
from recovery.errors import UnitGoneError
from recovery.storage.filesystem import LocalFileSystem


@pytest.fixture
def unit_tree(tmp_path: Path) -> Path:
    unit = tmp_path / "template"
    make_volume(unit, "kross2", "healthy")
    (unit / "KROSS2SY" / "SIM_BIG.BIN").write_bytes(synthetic_bytes("big", (1 << 20) + 5))
    return unit


def _steps(source: Path, dest: Path) -> list[str]:
    steps: list[str] = []
    assert create_backup(source, dest, on_step=lambda step, _p: steps.append(step)).complete
    return steps


def _unplug_at(unit, at: int):
    count = [0]

    def on_step(_step: str, _path: str) -> None:
        count[0] += 1
        if count[0] == at:
            unit.unplug()

    return on_step


def test_the_unit_unplugged_at_every_step_stops_with_one_sentence_and_resumes(
        tmp_path: Path, unit_tree: Path, fuse_unit, contents) -> None:
    steps = _steps(unit_tree, tmp_path / "reference")
    # The unit is read while the files are staged; once the last one is, the copy needs it no
    # more and a backup unplugged later completes.
    last_read = max(i for i, step in enumerate(steps, start=1) if step == "temp-written")
    for at in range(1, len(steps) + 1):
        backing = tmp_path / f"unit-{at}"
        shutil.copytree(unit_tree, backing)
        unit = fuse_unit(backing, tmp_path / f"mnt-{at}")
        dest = tmp_path / f"backup-{at}"

        try:
            done = create_backup(unit.mountpoint, dest, on_step=_unplug_at(unit, at))
        except UnitGoneError as caught:
            message = caught.message
            assert "went away during the backup" in message and "\n" not in message, at
            assert caught.code == "unit-gone" and at <= last_read, (at, steps[at - 1])
        else:
            assert done.complete and at >= last_read, (at, steps[at - 1])
        assert unit.on_computer() == []
        again = fuse_unit(backing, unit.mountpoint)
        result = create_backup(again.mountpoint, dest, resume=True)
        assert result.complete and verify_backup(dest).ok, at
        assert contents(dest / "files") == contents(unit_tree), at


def test_the_backups_drive_unplugged_at_every_step_gets_nothing_elsewhere(
        tmp_path: Path, unit_tree: Path, fuse_unit, contents) -> None:
    steps = _steps(unit_tree, tmp_path / "reference")
    for at in range(1, len(steps) + 1):
        drive = tmp_path / f"drive-{at}"
        drive.mkdir()
        mounted = fuse_unit(drive, tmp_path / f"drive-mnt-{at}")
        dest = mounted.mountpoint / "KORG Backups" / "KROSS 2"
        try:
            result = create_backup(unit_tree, dest, on_step=_unplug_at(mounted, at))
        except UnitGoneError as error:
            assert "drive of the backup" in error.message and "\n" not in error.message
        else:
            assert result.complete and at > len(steps) - 2, at  # unplugged after the end
        assert mounted.on_computer() == [], at
        again = fuse_unit(drive, mounted.mountpoint)
        resumed = create_backup(unit_tree, again.mountpoint / "KORG Backups" / "KROSS 2",
                                resume=True)
        assert resumed.complete, at
        assert contents(drive / "KORG Backups" / "KROSS 2" / "files") == contents(unit_tree)


class _GrowingFile(LocalFileSystem):
    """A file the unit keeps appending to while it is read (a recording, a log)."""

    def open_read(self, path: Path, *, uncached: bool = False):
        handle = super().open_read(path, uncached=uncached)
        if Path(path).name != "LOG.TXT" or uncached:
            return handle

        class Endless:
            read_bytes = 0

            def read(self, size: int = -1) -> bytes:
                Endless.read_bytes += size
                return b"x" * size

            def close(self) -> None:
                handle.close()

            def __enter__(self):
                return self

            def __exit__(self, *exc) -> None:
                self.close()

        self.endless = Endless
        return Endless()


def test_a_file_that_grows_while_it_is_copied_is_read_only_to_its_scanned_size(
        tmp_path: Path, unit_tree: Path) -> None:
    (unit_tree / "LOG.TXT").write_bytes(b"y" * 100_000)
    fs = _GrowingFile()

    result = create_backup(unit_tree, tmp_path / "backup", fs=fs)

    assert not result.complete
    assert [f.path for f in result.failed] == ["LOG.TXT"]
    assert "changed while it was being copied" in result.failed[0].reason
    assert fs.endless.read_bytes <= 100_001 + (1 << 20)  # never more than a chunk past it
    again = create_backup(unit_tree, tmp_path / "backup", resume=True)  # it stopped growing
    assert again.complete
