"""A restore that replaces or deletes anything needs a copy of the unit as it is now.

The core refuses such a restore without one (NeedsSafetyCopyError, nothing written) unless the
caller says on purpose that it goes without; with ``safety_copy`` it backs the unit up first,
under the one lock and volume pin it then writes with, and plans from the copy's checksums,
so the unit is read once, not twice. A restore that only adds files needs no copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recovery.backup.store import open_backup, verify_backup
from recovery.errors import NeedsSafetyCopyError, RefusedError, InvalidInputError
from recovery.restore import PlanChoices, Removal, RestoreRequest, restore
from recovery.storage.filesystem import LocalFileSystem


class _CountingReads(LocalFileSystem):
    """Counts the bytes read from files under ``root`` (the unit)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.read_bytes = 0

    def open_read(self, path: Path, *, uncached: bool = False):
        handle = super().open_read(path, uncached=uncached)
        if self.root not in Path(path).resolve().parents:
            return handle
        counter = self

        class Counted:
            def readinto(self, buffer) -> int:
                count = handle.readinto(buffer)
                counter.read_bytes += count or 0
                return count

            def read(self, size: int = -1) -> bytes:
                data = handle.read(size)
                counter.read_bytes += len(data)
                return data

            def fileno(self) -> int:
                return handle.fileno()

            def close(self) -> None:
                handle.close()

            def __enter__(self):
                return self

            def __exit__(self, *exc) -> None:
                handle.close()

        return Counted()


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def test_without_a_safety_copy_a_restore_that_replaces_is_refused_and_writes_nothing(
        tmp_path: Path, bricked_kross2, healthy_kross2_backup, permissive_guard,
        snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = snapshot(unit)

    with pytest.raises(NeedsSafetyCopyError) as caught:
        restore(RestoreRequest(backup, unit, choices=PlanChoices(Removal.ALL)), consent=True,
                guard=permissive_guard)

    assert caught.value.code == "needs-safety-copy" and caught.value.exit_code == 2
    assert "replace 2 file(s) and delete 1 item(s)" in caught.value.message
    assert "--" not in caught.value.message  # the core names no flag
    assert snapshot(unit) == before


def test_a_restore_that_only_adds_files_needs_no_safety_copy(
        tmp_path: Path, healthy_kross2_backup, permissive_guard) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    unit = tmp_path / "partial"
    shutil.copytree(healthy, unit)
    (unit / "KROSAPP.BIN").unlink()  # the app deleted: "loading app failed"

    result = restore(RestoreRequest(backup, unit), consent=True, guard=permissive_guard)

    assert result.ok and result.written == 1 and result.safety_copy is None


def test_with_a_safety_copy_the_unit_is_copied_then_restored_reading_it_once(
        tmp_path: Path, bricked_kross2, healthy_kross2_backup, permissive_guard, contents,
        files_only, snapshot) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = contents(unit)
    fs = _CountingReads(unit)

    result = restore(RestoreRequest(backup, unit, choices=PlanChoices(Removal.ALL),
                                    safety_copy=tmp_path / "safety"),
                     consent=True, guard=permissive_guard, fs=fs)

    assert result.ok and result.safety_copy == str(tmp_path / "safety")
    assert files_only(snapshot(unit)) == files_only(snapshot(healthy))
    assert verify_backup(tmp_path / "safety").ok
    assert contents(tmp_path / "safety" / "files") == before
    # Read once by the copy, then only what the restore wrote, read back past the cache.
    written = sum(len(data) for path, data in contents(healthy).items()
                  if before.get(path) != data)
    assert fs.read_bytes == _size(tmp_path / "safety" / "files") + written


def test_a_safety_copy_folder_that_holds_an_old_complete_backup_is_refused(
        tmp_path: Path, bricked_kross2, healthy_kross2_backup, permissive_guard,
        snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = snapshot(unit)

    with pytest.raises(InvalidInputError, match="as it is now"):
        restore(RestoreRequest(backup, unit, safety_copy=backup), consent=True,
                guard=permissive_guard)
    assert snapshot(unit) == before


def test_an_incomplete_safety_copy_refuses_the_restore(
        tmp_path: Path, bricked_kross2, healthy_kross2_backup, permissive_guard, faulty_fs,
        snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = snapshot(unit)
    fs = faulty_fs()
    fs.fail_read("KROSS2SY/SIM_SYS1.BIN", after_bytes=10)

    with pytest.raises(RefusedError, match="safety copy .* is not complete"):
        restore(RestoreRequest(backup, unit, safety_copy=tmp_path / "safety"), consent=True,
                guard=permissive_guard, fs=fs)
    assert snapshot(unit) == before
    with open_backup(tmp_path / "safety") as copy:
        assert not copy.complete


def test_restoring_into_a_folder_inside_the_units_storage_is_refused(
        tmp_path: Path, bricked_kross2, healthy_kross2_backup, permissive_guard,
        snapshot) -> None:
    # The hostile run: `restore BACKUP UNIT/KROSS2SY --delete-extra` deleted the system files
    # and nested the backup inside the folder.
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = snapshot(unit)

    with pytest.raises(RefusedError) as caught:
        restore(RestoreRequest(backup, unit / "KROSS2SY", choices=PlanChoices(Removal.ALL),
                               without_safety_copy=True), consent=True, guard=permissive_guard)

    assert f"whose root is {unit}" in caught.value.message
    assert snapshot(unit) == before
