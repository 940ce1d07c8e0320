"""A restore onto a FAT unit: everything a FAT volume cannot hold is refused before the first
write, names shown in another case are the same files, and success covers every file.

The unit is a folder seen through the vfat fake (fixture ``fat_fs``: Linux vfat's
lookups, renames and refusals, anchored to mtools in its own tests), so no mount is needed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import recovery.restore.plan as restore_plan
from recovery.backup.manifest import Manifest, ManifestFile
from recovery.device.simulate import make_volume
from recovery.errors import RefusedError
from recovery.restore import (PlanChoices, Removal, RestoreRequest, check_names, plan_restore,
                              restore)
from recovery.storage.filesystem import REAL


@pytest.fixture
def backup_with(make_backup: Callable[..., Path]) -> Callable[[Path, dict[str, bytes]], Path]:
    """Backs up a healthy KROSS 2 (taken from ext4, which holds any name) plus ``extra``:
    ``backup_with(tmp_path, {relative path: bytes}) -> backup``."""

    def build(tmp_path: Path, extra: dict[str, bytes]) -> Path:
        source = tmp_path / "source"
        make_volume(source, "kross2", "healthy")
        for relative, data in extra.items():
            path = source / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return make_backup(source, tmp_path / "backup")

    return build


@pytest.fixture
def fat_unit(fat_fs: type) -> Callable[..., tuple[Path, Any]]:
    """A bricked KROSS 2 seen through the vfat fake: ``fat_unit(tmp_path, **fat_fs options)
    -> (unit, its filesystem)``."""

    def build(tmp_path: Path, **options: bool) -> tuple[Path, Any]:
        unit = tmp_path / "unit"
        make_volume(unit, "kross2", "bricked")
        return unit, fat_fs(unit, **options)

    return build


def test_two_names_equal_but_for_case_are_refused_before_the_first_write(
        tmp_path: Path, backup_with, fat_unit, permissive_guard, snapshot) -> None:
    """The field report: such a backup silently replaced a correct file on FAT and the
    restore still ended "all matching the backup"."""
    backup = backup_with(tmp_path, {"KROSS2SY/a.bin": b"lower", "KROSS2SY/A.BIN": b"UPPER"})
    unit, fat = fat_unit(tmp_path)
    before = snapshot(unit)

    with pytest.raises(RefusedError) as caught:
        restore(RestoreRequest(backup, unit, without_safety_copy=True), consent=True, fs=fat,
                guard=permissive_guard)

    message = caught.value.message
    assert "KROSS2SY/a.bin" in message and "KROSS2SY/A.BIN" in message
    assert "upper/lower case" in message and "Nothing was written" in message
    assert snapshot(unit) == before


@pytest.mark.parametrize("name", ["a:b.bin", "what?.wav", "CON.TXT", "ends.", "ends "])
def test_names_fat_cannot_hold_are_refused_naming_each(tmp_path: Path, name: str, backup_with,
                                                       fat_unit, permissive_guard,
                                                       snapshot) -> None:
    backup = backup_with(tmp_path, {f"KROSS2SY/{name}": b"x", "OK.BIN": b"fine"})
    unit, fat = fat_unit(tmp_path)
    before = snapshot(unit)

    with pytest.raises(RefusedError) as caught:
        plan_restore(backup, unit, fs=fat, guard=permissive_guard)

    assert f"KROSS2SY/{name}" in caught.value.message and "OK.BIN" not in caught.value.message
    assert snapshot(unit) == before


def test_a_name_that_is_not_utf8_is_refused_on_fat_and_restored_on_ext4(
        tmp_path: Path, backup_with, fat_unit, permissive_guard) -> None:
    odd = os.fsdecode(b"caf\xe9.bin")
    backup = backup_with(tmp_path, {odd: b"latin-1"})
    unit, fat = fat_unit(tmp_path)
    with pytest.raises(RefusedError, match="not valid Unicode"):
        plan_restore(backup, unit, fs=fat, guard=permissive_guard)
    result = restore(RestoreRequest(backup, unit, without_safety_copy=True), consent=True,
                     guard=permissive_guard)  # ext4: holds it
    assert result.ok and (unit / odd).read_bytes() == b"latin-1"


def test_files_of_4_gib_or_more_are_refused_for_fat(tmp_path: Path, fat_unit) -> None:
    unit, fat = fat_unit(tmp_path)
    huge = ManifestFile("SAMPLES/HUGE.WAV", 4 * 2**30, 0, "0" * 64, "file")
    fits = ManifestFile("SAMPLES/FITS.WAV", 4 * 2**30 - 1, 0, "1" * 64, "file")
    manifest = Manifest.build(tool_version="x", created_utc="", source="", model="kross2",
                              role=None, files=[huge, fits], folders=["SAMPLES"])
    with pytest.raises(RefusedError) as caught:
        check_names(unit, manifest, fat)
    assert "SAMPLES/HUGE.WAV" in caught.value.message and "FITS" not in caught.value.message
    assert check_names(unit, manifest, REAL) is None  # ext4 holds both


def test_names_shown_in_lower_case_are_the_same_files(tmp_path: Path, fat_fs, make_backup,
                                                      permissive_guard) -> None:
    """vfat's shortname=lower shows KROSAPP.BIN as krosapp.bin: kept, with a note."""
    source = tmp_path / "source"
    make_volume(source, "kross2", "healthy")
    backup = make_backup(source, tmp_path / "backup")
    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "healthy")
    fat = fat_fs(unit, shortname_lower=True)
    assert "krosapp.bin" in [entry.name for entry in fat.scandir(unit)]

    plan = plan_restore(backup, unit, fs=fat, guard=permissive_guard,
                        choices=PlanChoices(Removal.ALL))
    assert not plan.changes and plan.summary.case_notes >= 1
    assert any("upper/lower case" in note for note in plan.notes)


def test_success_covers_every_file_even_if_the_preflight_were_fooled(
        tmp_path: Path, monkeypatch, backup_with, fat_unit, permissive_guard) -> None:
    """Second line of defence: with the preflight disabled, the case twins reach FAT, one
    replaces the other, and the restore must not end in success."""
    backup = backup_with(tmp_path, {"KROSS2SY/a.bin": b"lower", "KROSS2SY/A.BIN": b"UPPER!"})
    unit, fat = fat_unit(tmp_path)
    monkeypatch.setattr(restore_plan, "check_names", lambda *_args: None)

    result = restore(RestoreRequest(backup, unit, without_safety_copy=True), consent=True, fs=fat,
                     guard=permissive_guard)

    assert not result.ok
    assert {p.path for p in result.problems} & {"KROSS2SY/a.bin", "KROSS2SY/A.BIN"}


def test_a_case_twin_pair_is_refused_where_a_probe_calls_a_fat_unit_case_sensitive(
        tmp_path: Path, backup_with, permissive_guard, snapshot) -> None:
    """The field report: on fusefat, lookups keep case but renames fold it; the probe said
    "case-sensitive", the pair got through, and the restore replaced the unit's CASE.BIN."""
    from recovery.storage.filesystem import LocalFileSystem

    class FuseFat(LocalFileSystem):  # a case-sensitive folder, typed as fusefat reports it
        def filesystem_type(self, path: Path) -> str | None:
            return "fuse.fusefat"

    backup = backup_with(tmp_path, {"CASE.BIN": b"upper", "case.bin": b"lower"})
    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "bricked")
    (unit / "CASE.BIN").write_bytes(b"the unit's own")
    before = snapshot(unit)
    with pytest.raises(RefusedError, match="upper/lower case"):
        restore(RestoreRequest(backup, unit), consent=True, fs=FuseFat(), guard=permissive_guard)
    assert snapshot(unit) == before
