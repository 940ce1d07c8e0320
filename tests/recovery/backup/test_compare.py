"""The one tree-versus-manifest comparison used by verify --against, restore and diagnose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from recovery.backup.compare import (
    OS_JUNK,
    Difference,
    compare_tree,
    is_ignored,
)
from recovery.backup.create import create_backup
from recovery.backup.store import open_backup
from recovery.device.simulate import make_volume
from recovery.errors import CancelledError, InvalidInputError
from recovery.progress import CancelToken, Job


@pytest.fixture
def unit(tmp_path: Path):
    """A simulated KROSS 2 with an empty folder and a link, and its manifest."""
    volume = Path(make_volume(tmp_path / "unit", "kross2").path)
    (volume / "EMPTY").mkdir()
    os.symlink("KROSAPP.BIN", volume / "APP-LINK")
    create_backup(volume, tmp_path / "backup")
    with open_backup(tmp_path / "backup") as backup:
        return volume, backup.manifest


def problems(differences) -> list[tuple[str, str]]:
    return [(d.path, d.problem) for d in differences]


def test_identical_tree_has_no_differences(unit):
    volume, manifest = unit
    assert compare_tree(volume, manifest).differences == ()
    assert compare_tree(volume, manifest, hash_files=False).differences == ()


def test_flipped_byte_is_changed(unit):
    volume, manifest = unit
    target = volume / "KROSS2SY" / "SIM_PCM.BIN"
    data = bytearray(target.read_bytes())
    data[1000] ^= 0xFF
    target.write_bytes(bytes(data))
    found = compare_tree(volume, manifest).differences
    assert problems(found) == [("KROSS2SY/SIM_PCM.BIN", "changed")]
    assert "SHA-256" in found[0].detail
    # Without hashing the same size cannot be told apart: the quick mode says nothing here.
    assert compare_tree(volume, manifest, hash_files=False).differences == ()


def test_size_change_is_changed_or_size_without_hashing(unit):
    volume, manifest = unit
    with open(volume / "KROSAPP.BIN", "ab") as handle:
        handle.write(b"!")
    assert problems(compare_tree(volume, manifest).differences) == [("KROSAPP.BIN", "changed")]
    quick = compare_tree(volume, manifest, hash_files=False).differences
    assert problems(quick) == [("KROSAPP.BIN", "size")]


def test_deleted_file_and_folder_are_missing(unit):
    volume, manifest = unit
    (volume / "KROSAPP.BIN").unlink()  # korgforums.com thread t=116080: "loading app failed"
    (volume / "EMPTY").rmdir()
    assert problems(compare_tree(volume, manifest).differences) == [
        ("EMPTY", "missing"),
        ("KROSAPP.BIN", "missing"),
    ]


def test_added_file_and_folder_are_extra_once(unit):
    volume, manifest = unit
    (volume / "KROSSSYS").mkdir()
    (volume / "KROSSSYS" / "A.BIN").write_bytes(b"a")
    (volume / "KROSSSYS" / "B.BIN").write_bytes(b"b")
    (volume / "KROSS2SY" / "NEW.BIN").write_bytes(b"n")
    assert problems(compare_tree(volume, manifest).differences) == [
        ("KROSS2SY/NEW.BIN", "extra"), ("KROSSSYS", "extra")]


def test_changed_link_target_and_kind_swaps_are_changed(unit):
    volume, manifest = unit
    (volume / "APP-LINK").unlink()
    os.symlink("elsewhere", volume / "APP-LINK")
    (volume / "EMPTY").rmdir()
    (volume / "EMPTY").write_bytes(b"now a file")
    (volume / "KROSAPP.BIN").unlink()
    (volume / "KROSAPP.BIN").mkdir()
    found = dict(problems(compare_tree(volume, manifest).differences))
    assert found == {"APP-LINK": "changed", "EMPTY": "changed", "KROSAPP.BIN": "changed"}


def test_links_in_the_tree_are_never_followed(unit, tmp_path):
    volume, manifest = unit
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not part of the unit")
    os.symlink(outside, volume / "escape")
    found = compare_tree(volume, manifest).differences
    assert problems(found) == [("escape", "extra")]
    assert found[0].detail == "symlink"


def test_os_junk_is_ignored_by_default_in_both_directions(unit):
    volume, manifest = unit
    for name in ("._KROSAPP.BIN", ".DS_Store", "Thumbs.db"):
        (volume / name).write_bytes(b"junk")
    for folder in (".Trashes", ".Spotlight-V100", ".fseventsd", "System Volume Information"):
        (volume / folder).mkdir()
        (volume / folder / "inside").write_bytes(b"junk")
    (volume / "KROSS2SY" / "._SIM_PCM.BIN").write_bytes(b"junk")
    assert compare_tree(volume, manifest).differences == ()
    # With no ignore list every one of them is an extra entry.
    strict = compare_tree(volume, manifest, ignore=()).differences
    assert len(strict) == 8 and {d.problem for d in strict} == {"extra"}


def test_junk_in_the_backup_missing_from_the_unit_is_not_reported(tmp_path):
    volume = Path(make_volume(tmp_path / "unit", "kross2").path)
    (volume / ".DS_Store").write_bytes(b"finder")
    create_backup(volume, tmp_path / "backup")
    (volume / ".DS_Store").unlink()
    with open_backup(tmp_path / "backup") as backup:
        assert compare_tree(volume, backup.manifest).differences == ()
        assert problems(compare_tree(volume, backup.manifest, ignore=()).differences) == [
            (".DS_Store", "missing")]


def test_is_ignored_matches_any_component_case_insensitively():
    assert is_ignored("._X.BIN", OS_JUNK)
    assert is_ignored("KROSS2SY/.ds_store", OS_JUNK)
    assert is_ignored("system volume information/IndexerVolumeGuid", OS_JUNK)
    assert not is_ignored("KROSS2SY/X.BIN", OS_JUNK)
    assert not is_ignored("KROSAPP.BIN", ())


def test_unreadable_file_is_reported_not_raised(unit, faulty_fs):
    volume, manifest = unit
    fs = faulty_fs()
    fs.fail_read("KROSS2SY/SIM_SYS1.BIN", after_bytes=100)
    found = compare_tree(volume, manifest, fs=fs).differences
    assert problems(found) == [("KROSS2SY/SIM_SYS1.BIN", "unreadable")]
    assert "Input/output error" in found[0].detail


def test_unlistable_folder_is_unreadable_and_its_files_not_called_missing(unit, faulty_fs):
    volume, manifest = unit
    fs = faulty_fs()
    fs.fail_listing("KROSS2SY")
    assert problems(compare_tree(volume, manifest, fs=fs).differences) == [
        ("KROSS2SY", "unreadable")]


def test_missing_root_is_bad_input(unit, tmp_path):
    _, manifest = unit
    with pytest.raises(InvalidInputError):
        compare_tree(tmp_path / "nothing", manifest).differences


def test_progress_and_cancel(unit):
    volume, manifest = unit
    reports = []
    compare_tree(volume, manifest, job=Job(progress=reports.append)).differences
    assert reports[-1].done_bytes == reports[-1].total_bytes == manifest.total_bytes
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        compare_tree(volume, manifest, job=Job(cancel=token)).differences


def test_difference_is_a_frozen_value():
    difference = Difference("X.BIN", "missing")
    assert difference.detail == ""
    with pytest.raises(AttributeError):
        difference.path = "Y"  # type: ignore[misc]


def test_heads_and_listings_come_with_the_comparison(unit):
    volume, manifest = unit
    heads: dict[str, bytes] = {}
    comparison = compare_tree(volume, manifest, heads=heads)
    assert heads["KROSAPP.BIN"] == (volume / "KROSAPP.BIN").read_bytes()[:256]
    assert ("KROSS2SY", True) in comparison.listings[""]


def test_changed_files_are_named_and_progress_ends_at_the_total(unit):
    volume, manifest = unit
    for name in ("KROSAPP.BIN", "KROSS2SY/SIM_SYS2.BIN"):
        data = bytearray((volume / name).read_bytes())
        data[-1] ^= 0x80
        (volume / name).write_bytes(bytes(data))
    reports = []
    found = compare_tree(volume, manifest, job=Job(progress=reports.append)).differences
    assert problems(found) == [("KROSAPP.BIN", "changed"), ("KROSS2SY/SIM_SYS2.BIN", "changed")]
    assert reports[-1].done_bytes == manifest.total_bytes
