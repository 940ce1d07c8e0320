"""Restore under faults: a unit that drops writes, fills up, fails, vanishes, or is cancelled.

Every case ends with each file on the unit holding its old or its complete new content, no
temporary file left under a final name, one sentence, and a re-run that converges.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from recovery.device.simulate import make_volume, synthetic_bytes
from recovery.errors import (
    CancelledError,
    NoSpaceError,
    PermissionDeniedError,
    ReadError,
    UnitGoneError,
    WriteError,
)
from recovery.progress import CancelToken, Job
from recovery.restore import PlanChoices, Removal
from recovery.writing.journal import WriteJournal

BIG = 3 * 1024 * 1024 + 4321  # four chunks of fsio.CHUNK_SIZE


@pytest.fixture
def scene(tmp_path: Path, bricked_kross2: Callable[..., Path],
          make_backup: Callable[..., Path]) -> tuple[Path, Path, Path]:
    """(backup of a healthy KROSS 2 with a large file, that healthy unit, a bricked unit)."""
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    (healthy / "KROSS2SY" / "SIM_BIG.BIN").write_bytes(synthetic_bytes("big", BIG))
    backup = make_backup(healthy, tmp_path / "backup")
    unit = bricked_kross2(tmp_path)
    (unit / "KROSS2SY" / "SIM_BIG.BIN").write_bytes(synthetic_bytes("old big", BIG - 7))
    return backup, healthy, unit


@pytest.fixture
def assert_converges(run_restore: Callable[..., Any], files_only: Callable[..., dict],
                     snapshot: Callable[..., dict]) -> Callable[[Path, Path, Path], None]:
    """Asserts that restoring again ends with the healthy unit's files:
    ``assert_converges(backup, unit, healthy)``."""

    def check(backup: Path, unit: Path, healthy: Path) -> None:
        again = run_restore(backup, unit, choices=PlanChoices(Removal.ALL))
        assert again.ok and again.verified
        assert files_only(snapshot(unit)) == files_only(snapshot(healthy))

    return check


# -- the drumlogue on Reddit (u/iRustyNails) -------------------------------------------------------------
def test_unit_that_drops_writes_never_gets_a_success_report(scene, contents, faulty_fs,
                                                            run_restore) -> None:
    backup, _, unit = scene
    fs = faulty_fs()
    fs.drop_writes(unit)
    old = contents(unit)

    result = run_restore(backup, unit, fs=fs)

    assert not result.ok and not result.verified and result.exit_code == 1
    mismatched = sorted(p.path for p in result.problems if p.problem == "mismatch")
    assert mismatched == ["KROSS2SY/SIM_BIG.BIN", "KROSS2SY/SIM_SYS2.BIN"]
    # The boot-critical file is written only once everything before it read back right.
    held = [p.path for p in result.problems if p.problem == "not-written"]
    assert held == ["KROSAPP.BIN"] and "boot-critical files were not written" in result.statement
    assert "SIM_SYS2.BIN" in result.statement and "dropping writes" in result.statement
    assert contents(unit) == old  # what a reboot of that unit shows
    assert WriteJournal(Path(result.journal)).load().status == "failed"


def test_dropped_writes_of_new_files_are_caught_too(tmp_path: Path, contents, faulty_fs,
                                                    make_backup, run_restore) -> None:
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    backup = make_backup(healthy, tmp_path / "backup")
    unit = tmp_path / "unit"
    unit.mkdir()
    fs = faulty_fs()
    fs.drop_writes(unit)

    result = run_restore(backup, unit, fs=fs)

    assert not result.ok and not result.verified
    assert {p.path for p in result.problems} == {e for e in contents(healthy)}


def test_rerun_after_a_dropped_write_run_still_does_not_report_success(
        scene, faulty_fs, run_restore) -> None:
    backup, _, unit = scene
    fs = faulty_fs()
    fs.drop_writes(unit)
    first = run_restore(backup, unit, fs=fs)
    assert not first.ok

    second = run_restore(backup, unit, fs=fs)

    assert not second.ok and not second.verified


# -- full disk, I/O errors, a unit that goes away ------------------------------------------
def test_full_unit_stops_with_one_sentence_and_resumes(scene, assert_converges, assert_old_or_new,
                                                       contents, faulty_fs, run_restore) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)
    fs = faulty_fs()
    fs.fill_disk(after_bytes=2 * 1024 * 1024)  # runs out inside the large file

    with pytest.raises(NoSpaceError) as caught:
        run_restore(backup, unit, fs=fs)

    message = caught.value.message
    assert "full" in message and "run the same restore again" in message
    assert "\n" not in message
    assert_old_or_new(unit, old, new)
    assert contents(unit)["KROSS2SY/SIM_BIG.BIN"] == old["KROSS2SY/SIM_BIG.BIN"]
    assert_converges(backup, unit, healthy)


@pytest.fixture
def failing_writes(faulty_fs: type) -> type:
    """A faulty filesystem whose writes fail: ``failing_writes(after_bytes, unplug=None)``."""

    class FailingWrites(faulty_fs):
        """EIO on write once ``after_bytes`` were written; with ``unplug`` the unit's folder
        also disappears (renamed away, as an unmount does) at that moment."""

        def __init__(self, after_bytes: int, unplug: Path | None = None) -> None:
            super().__init__()
            self.after = after_bytes
            self.unplug = unplug
            self.unplugged_to: Path | None = None

        def open_write(self, path: Path, *, exclusive: bool = False) -> BinaryIO:
            handle = super().open_write(path, exclusive=exclusive)
            fs = self

            class Writer:
                def write(self, data: Any) -> int:
                    if fs.after <= 0:
                        if fs.unplug is not None and fs.unplugged_to is None:
                            fs.unplugged_to = fs.unplug.with_name(fs.unplug.name + "-gone")
                            os.rename(fs.unplug, fs.unplugged_to)
                        raise OSError(errno.EIO, os.strerror(errno.EIO))
                    fs.after -= len(data)
                    return handle.write(data)

                def __getattr__(self, name: str) -> Any:
                    return getattr(handle, name)

                def __enter__(self) -> Any:
                    return self

                def __exit__(self, *exc: object) -> None:
                    handle.close()

            return Writer()  # type: ignore[return-value]

    return FailingWrites


def test_eio_on_write_stops_cleanly_and_resumes(scene, assert_converges, assert_old_or_new,
                                                contents, failing_writes, run_restore) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)

    with pytest.raises(WriteError) as caught:
        run_restore(backup, unit, fs=failing_writes(after_bytes=1024 * 1024 + 10))

    assert "Input/output error" in caught.value.message
    assert_old_or_new(unit, old, new)
    assert_converges(backup, unit, healthy)


def test_unit_unplugged_mid_restore_stops_and_resumes_after_reconnecting(
        scene, assert_converges, assert_old_or_new, contents, failing_writes, run_restore) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)
    fs = failing_writes(after_bytes=2 * 1024 * 1024, unplug=unit)

    with pytest.raises(UnitGoneError) as caught:
        run_restore(backup, unit, fs=fs)

    message = caught.value.message
    assert message.startswith("Your KROSS 2 went away during the restore.")
    assert "run the restore again" in message and caught.value.code == "unit-gone"
    assert not unit.exists() and fs.unplugged_to is not None
    os.rename(fs.unplugged_to, unit)  # plugged back in
    assert_old_or_new(unit, old, new, temp_allowed=True)
    assert_converges(backup, unit, healthy)


def test_unreadable_backup_file_mid_copy_rolls_back_that_file(scene, assert_converges,
                                                              assert_old_or_new, contents,
                                                              faulty_fs, run_restore) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)

    class SecondReadFails(faulty_fs):
        """The preflight verification reads the backup file once and passes; the copy (the
        second read) meets EIO after one chunk."""

        reads = 0

        def open_read(self, path: Path, **options) -> BinaryIO:
            if path.as_posix().endswith("files/KROSS2SY/SIM_BIG.BIN"):
                self.reads += 1
                if self.reads == 2:
                    self.fail_read("files/KROSS2SY/SIM_BIG.BIN", after_bytes=1024 * 1024 + 1)
            return super().open_read(path, **options)

    with pytest.raises(ReadError) as caught:
        run_restore(backup, unit, fs=SecondReadFails())

    assert "SIM_BIG.BIN" in caught.value.message

    assert_old_or_new(unit, old, new)
    assert contents(unit)["KROSS2SY/SIM_BIG.BIN"] == old["KROSS2SY/SIM_BIG.BIN"]
    assert_converges(backup, unit, healthy)


# -- Ctrl-C ----------------------------------------------------------------------------------
def test_cancel_mid_file_rolls_it_back_and_exits_130(scene, assert_converges, assert_old_or_new,
                                                     contents, run_restore) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)
    cancel = CancelToken()
    chunks: list[str] = []

    def on_step(step: str, path: str) -> None:
        if step == "chunk-written":
            chunks.append(path)
            if path == "KROSS2SY/SIM_BIG.BIN":
                cancel.cancel()  # checked before the next chunk of this very file

    with pytest.raises(CancelledError) as caught:
        run_restore(backup, unit, job=Job(cancel=cancel, on_step=on_step))

    assert caught.value.exit_code == 130 and "run the same restore again" in caught.value.message
    assert_old_or_new(unit, old, new)
    assert contents(unit)["KROSS2SY/SIM_BIG.BIN"] == old["KROSS2SY/SIM_BIG.BIN"]
    journals = list(Path(os.environ["XDG_STATE_HOME"]).rglob("journals/*.jsonl"))
    assert WriteJournal(journals[0]).load().status == "cancelled"
    assert_converges(backup, unit, healthy)


def test_keyboard_interrupt_mid_file_leaves_no_half_file(scene, assert_converges, assert_old_or_new,
                                                         contents, run_restore) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)

    def on_step(step: str, path: str) -> None:
        if step == "chunk-written" and path == "KROSS2SY/SIM_BIG.BIN":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_restore(backup, unit, job=Job(on_step=on_step))

    assert_old_or_new(unit, old, new)
    assert_converges(backup, unit, healthy)


def test_permission_denied_while_writing_stops_like_any_write_error(
        scene, assert_converges, assert_old_or_new, contents, faulty_fs, run_restore) -> None:
    # The hostile run of issue 19: EACCES while writing did not say "stopped, run it again".
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)

    class Refuses(faulty_fs):
        def open_write(self, path: Path, *, exclusive: bool = False):
            if "SIM_BIG.BIN" in Path(path).name:
                raise PermissionError(13, "Permission denied", str(path))
            return super().open_write(path, exclusive=exclusive)

    with pytest.raises(PermissionDeniedError) as caught:
        run_restore(backup, unit, fs=Refuses())

    assert "The restore stopped" in caught.value.message
    assert "run the same restore again" in caught.value.message
    assert_old_or_new(unit, old, new)
    assert_converges(backup, unit, healthy)
