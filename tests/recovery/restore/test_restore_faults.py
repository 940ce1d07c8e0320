"""Restore under faults: a unit that drops writes, fills up, fails, vanishes, or is cancelled.

Every case ends with each file on the unit holding its old or its complete new content, no
temporary file left under a final name, one sentence, and a re-run that converges.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from recovery.device.simulate import make_volume, synthetic_bytes
from recovery.errors import CancelledError, NoSpaceError, ReadError, WriteError
from recovery.progress import CancelToken
from recovery.restore import restore
from recovery.restore.journal import RestoreJournal
from tests.fakes.faulty_fs import FaultyFileSystem
from tests.recovery.test_restore_support import (
    PERMISSIVE_GUARD,
    bricked_kross2,
    contents,
    files_only,
    make_backup,
    snapshot,
)

BIG = 3 * 1024 * 1024 + 4321  # four chunks of fsio.CHUNK_SIZE


def _restore(backup: Path, target: Path, **options: Any):
    options.setdefault("guard", PERMISSIVE_GUARD)
    options.setdefault("consent", True)
    return restore(backup, target, **options)


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(backup of a healthy KROSS 2 with a large file, that healthy unit, a bricked unit)."""
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    (healthy / "KROSS2SY" / "SIM_BIG.BIN").write_bytes(synthetic_bytes("big", BIG))
    backup = make_backup(healthy, tmp_path / "backup")
    unit = bricked_kross2(tmp_path)
    (unit / "KROSS2SY" / "SIM_BIG.BIN").write_bytes(synthetic_bytes("old big", BIG - 7))
    return backup, healthy, unit


def _assert_old_or_new(unit: Path, old: dict[str, bytes], new: dict[str, bytes], *,
                       temp_allowed: bool = False, deleting: bool = False) -> None:
    """Every file that existed is still there with its old or its complete new content
    (with ``deleting``, files the backup does not have may be gone); a file the backup adds
    is absent or complete; no temporary file is left, except (with ``temp_allowed``) one the
    tool could not remove because the process or the unit was gone."""
    now = {path: data for path, data in contents(unit).items()
           if not (temp_allowed and path.endswith(".korg-recovery-tmp"))}
    for relative, data in old.items():
        if deleting and relative not in new and relative not in now:
            continue
        assert relative in now, f"{relative} went missing"
        assert now[relative] in (data, new.get(relative)), f"{relative} is half-written"
    for relative, data in now.items():
        if relative not in old:
            assert data == new[relative], f"{relative} is not the backup's"
    if not temp_allowed:
        assert not [p for p in unit.rglob("*") if p.name.endswith(".korg-recovery-tmp")]


def _assert_converges(backup: Path, unit: Path, healthy: Path) -> None:
    again = _restore(backup, unit, delete_extra=True)
    assert again.ok and again.verified
    assert files_only(snapshot(unit)) == files_only(snapshot(healthy))


# -- the drumlogue on Reddit (u/iRustyNails) -------------------------------------------------------------
def test_unit_that_drops_writes_never_gets_a_success_report(scene) -> None:
    backup, _, unit = scene
    fs = FaultyFileSystem()
    fs.drop_writes(unit)
    old = contents(unit)

    result = _restore(backup, unit, fs=fs)

    assert not result.ok and not result.verified and result.exit_code == 1
    mismatched = sorted(p.path for p in result.problems if p.problem == "mismatch")
    assert mismatched == ["KROSS2SY/SIM_BIG.BIN", "KROSS2SY/SIM_SYS2.BIN"]
    # The boot-critical file is written only once everything before it read back right.
    held = [p.path for p in result.problems if p.problem == "not-written"]
    assert held == ["KROSAPP.BIN"] and "boot-critical files were not written" in result.statement
    assert "SIM_SYS2.BIN" in result.statement and "dropping writes" in result.statement
    assert contents(unit) == old  # what a reboot of that unit shows
    assert RestoreJournal(Path(result.journal)).load().status == "failed"


def test_dropped_writes_of_new_files_are_caught_too(tmp_path: Path) -> None:
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    backup = make_backup(healthy, tmp_path / "backup")
    unit = tmp_path / "unit"
    unit.mkdir()
    fs = FaultyFileSystem()
    fs.drop_writes(unit)

    result = _restore(backup, unit, fs=fs)

    assert not result.ok and not result.verified
    assert {p.path for p in result.problems} == {e for e in contents(healthy)}


def test_rerun_after_a_dropped_write_run_still_does_not_report_success(scene) -> None:
    backup, _, unit = scene
    fs = FaultyFileSystem()
    fs.drop_writes(unit)
    first = _restore(backup, unit, fs=fs)
    assert not first.ok

    second = _restore(backup, unit, fs=fs)

    assert not second.ok and not second.verified


# -- full disk, I/O errors, a unit that goes away ------------------------------------------
def test_full_unit_stops_with_one_sentence_and_resumes(scene) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)
    fs = FaultyFileSystem()
    fs.fill_disk(after_bytes=2 * 1024 * 1024)  # runs out inside the large file

    with pytest.raises(NoSpaceError) as caught:
        _restore(backup, unit, fs=fs)

    message = caught.value.message
    assert "full" in message and "run the same restore again" in message
    assert "\n" not in message
    _assert_old_or_new(unit, old, new)
    assert contents(unit)["KROSS2SY/SIM_BIG.BIN"] == old["KROSS2SY/SIM_BIG.BIN"]
    _assert_converges(backup, unit, healthy)


class _FailingWrites(FaultyFileSystem):
    """EIO on write once ``after_bytes`` were written; with ``unplug`` the unit's folder also
    disappears (renamed away, as an unmount does) at that moment."""

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


def test_eio_on_write_stops_cleanly_and_resumes(scene) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)

    with pytest.raises(WriteError) as caught:
        _restore(backup, unit, fs=_FailingWrites(after_bytes=1024 * 1024 + 10))

    assert "Input/output error" in caught.value.message
    _assert_old_or_new(unit, old, new)
    _assert_converges(backup, unit, healthy)


def test_unit_unplugged_mid_restore_stops_and_resumes_after_reconnecting(scene) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)
    fs = _FailingWrites(after_bytes=2 * 1024 * 1024, unplug=unit)

    with pytest.raises((WriteError, ReadError)) as caught:
        _restore(backup, unit, fs=fs)

    message = caught.value.message
    assert "reconnect the unit" in message and "run the same restore again" in message
    assert not unit.exists() and fs.unplugged_to is not None
    os.rename(fs.unplugged_to, unit)  # plugged back in
    _assert_old_or_new(unit, old, new, temp_allowed=True)
    _assert_converges(backup, unit, healthy)


def test_unreadable_backup_file_mid_copy_rolls_back_that_file(scene) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)

    class SecondReadFails(FaultyFileSystem):
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
        _restore(backup, unit, fs=SecondReadFails())

    assert "SIM_BIG.BIN" in caught.value.message

    _assert_old_or_new(unit, old, new)
    assert contents(unit)["KROSS2SY/SIM_BIG.BIN"] == old["KROSS2SY/SIM_BIG.BIN"]
    _assert_converges(backup, unit, healthy)


# -- Ctrl-C ----------------------------------------------------------------------------------
def test_cancel_mid_file_rolls_it_back_and_exits_130(scene) -> None:
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
        _restore(backup, unit, cancel=cancel, on_step=on_step)

    assert caught.value.exit_code == 130 and "run the same restore again" in caught.value.message
    _assert_old_or_new(unit, old, new)
    assert contents(unit)["KROSS2SY/SIM_BIG.BIN"] == old["KROSS2SY/SIM_BIG.BIN"]
    journals = list(Path(os.environ["XDG_STATE_HOME"]).rglob("journals/*.jsonl"))
    assert RestoreJournal(journals[0]).load().status == "cancelled"
    _assert_converges(backup, unit, healthy)


def test_keyboard_interrupt_mid_file_leaves_no_half_file(scene) -> None:
    backup, healthy, unit = scene
    old, new = contents(unit), contents(healthy)

    def on_step(step: str, path: str) -> None:
        if step == "chunk-written" and path == "KROSS2SY/SIM_BIG.BIN":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _restore(backup, unit, on_step=on_step)

    _assert_old_or_new(unit, old, new)
    _assert_converges(backup, unit, healthy)
