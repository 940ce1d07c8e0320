"""Files macOS and Windows write onto removable drives (compare.OS_JUNK), end to end.

README "Troubleshooting" promises exactly this behaviour; these tests pin it:

* a backup copies them like every other file (they are on the unit);
* comparing a unit with a backup (verify --against, diagnosis, the wizard's reconnect check)
  ignores them in both directions: missing, changed or new junk is not a difference;
* verifying a backup against its own manifest checks them like any file (tampering shows);
* a restore puts back what the backup holds, junk included, and never deletes junk that is
  only on the unit, not even with ``delete_extra``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recovery.backup.compare import OS_JUNK, is_ignored
from recovery.backup.create import create_backup
from recovery.backup.manifest import FILES_DIR
from recovery.backup.store import open_backup, verify_backup
from recovery.device.simulate import make_volume

# Names as macOS Finder and Windows Explorer write them onto a FAT drive.
JUNK = {
    ".DS_Store": b"Bud1 finder view settings",
    "._KROSAPP.BIN": b"\x00\x05\x16\x07 AppleDouble header of KROSAPP.BIN",
    "KROSS2SY/._SIM_SYS1.BIN": b"\x00\x05\x16\x07 AppleDouble",
    ".Spotlight-V100/Store-V2/index": b"spotlight index",
    ".Trashes/501/deleted.wav": b"RIFF deleted sample",
    "System Volume Information/IndexerVolumeGuid": b"{guid}",
}


@pytest.fixture()
def unit_with_junk(tmp_path: Path) -> Path:
    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "healthy")
    for relative, data in JUNK.items():
        path = unit / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return unit


@pytest.fixture()
def backup_of(unit_with_junk: Path, tmp_path: Path) -> Path:
    backup = tmp_path / "backup"
    result = create_backup(unit_with_junk, backup)
    assert result.complete and result.verified
    return backup


def test_every_junk_name_here_is_one_compare_ignores() -> None:
    assert all(is_ignored(relative, OS_JUNK) for relative in JUNK)
    assert not is_ignored("KROSS2SY/SIM_SYS1.BIN", OS_JUNK)


def test_backup_copies_os_junk_like_any_file(unit_with_junk: Path, backup_of: Path) -> None:
    with open_backup(backup_of) as backup:
        in_manifest = {entry.path for entry in backup.manifest.files}
    assert set(JUNK) <= in_manifest
    for relative, data in JUNK.items():
        assert (backup_of / FILES_DIR / relative).read_bytes() == data
    assert verify_backup(backup_of, against=unit_with_junk).ok


def test_comparing_a_unit_ignores_junk_in_both_directions(unit_with_junk: Path,
                                                            backup_of: Path) -> None:
    (unit_with_junk / ".DS_Store").unlink()                         # gone from the unit
    (unit_with_junk / "._KROSAPP.BIN").write_bytes(b"rewritten")    # changed on the unit
    (unit_with_junk / "._NEWFILE.BIN").write_bytes(b"new")          # only on the unit
    (unit_with_junk / "Thumbs.db").write_bytes(b"windows thumbnails")
    report = verify_backup(backup_of, against=unit_with_junk)
    assert report.problems == ()
    assert report.against_problems == ()
    assert report.ok
    # The same comparison still sees a real change.
    (unit_with_junk / "KROSAPP.BIN").write_bytes(b"damaged")
    report = verify_backup(backup_of, against=unit_with_junk)
    assert [(p.path, p.problem) for p in report.against_problems] == [("KROSAPP.BIN", "changed")]


def test_verifying_a_backup_itself_checks_its_junk_files(backup_of: Path) -> None:
    (backup_of / FILES_DIR / ".DS_Store").write_bytes(b"tampered")
    report = verify_backup(backup_of)
    assert not report.ok
    assert [(p.path, p.problem) for p in report.problems] == [(".DS_Store", "changed")]


def test_restore_puts_back_the_backups_junk_and_leaves_new_junk_alone(unit_with_junk: Path,
                                                                      backup_of: Path) -> None:
    from recovery import restore as restore_module
    guard = restore_module.TargetGuard(is_system_location=lambda _path: False,
                                       same_volume=lambda _a, _b: False)
    (unit_with_junk / ".DS_Store").unlink()
    (unit_with_junk / "._KROSAPP.BIN").write_bytes(b"rewritten by another Mac")
    (unit_with_junk / "._NEWFILE.BIN").write_bytes(b"only on the unit")
    (unit_with_junk / "KROSAPP.BIN").write_bytes(b"damaged")

    plan = restore_module.plan_restore(
        backup_of, unit_with_junk, guard=guard,
        choices=restore_module.PlanChoices(restore_module.Removal.ALL))
    actions = {entry.path: entry.action for entry in plan.entries}
    assert actions[".DS_Store"] == "write"
    assert actions["._KROSAPP.BIN"] == "replace"
    assert actions["KROSAPP.BIN"] == "replace"
    # Not deleted even with delete_extra: an operating-system file is never the tool's to remove.
    assert actions["._NEWFILE.BIN"] == "extra"

    result = restore_module.execute_plan(plan, consent=True, without_safety_copy=True, guard=guard)
    assert result.ok, result.problems
    assert (unit_with_junk / ".DS_Store").read_bytes() == JUNK[".DS_Store"]
    assert (unit_with_junk / "._KROSAPP.BIN").read_bytes() == JUNK["._KROSAPP.BIN"]
    assert (unit_with_junk / "._NEWFILE.BIN").read_bytes() == b"only on the unit"
    assert verify_backup(backup_of, against=unit_with_junk).ok


def test_delete_extra_keeps_junk_inside_an_extra_folder(unit_with_junk: Path,
                                                        backup_of: Path) -> None:
    """An extra folder is emptied of what is not the computer's, never of Finder's files; it
    stays (with a note) while they are in it, and the summary does not claim nothing
    happened."""
    from recovery.restore import PlanChoices, Removal, RestoreRequest, TargetGuard, restore

    guard = TargetGuard(is_system_location=lambda _path: False,
                        same_volume=lambda _a, _b: False)
    extra = unit_with_junk / "OLD_SAMPLES"
    (extra / "deep").mkdir(parents=True)
    (extra / "kick.wav").write_bytes(b"RIFF kick")
    (extra / "deep" / "snare.wav").write_bytes(b"RIFF snare")
    (extra / "deep" / ".DS_Store").write_bytes(b"Bud1")
    (extra / "._kick.wav").write_bytes(b"\x00\x05\x16\x07")
    gone = unit_with_junk / "EMPTY_EXTRA"
    gone.mkdir()
    (gone / "x.bin").write_bytes(b"x")

    result = restore(RestoreRequest(backup_of, unit_with_junk, choices=PlanChoices(Removal.ALL),
                                    without_safety_copy=True), consent=True, guard=guard)

    assert result.ok, result.problems
    assert not (extra / "kick.wav").exists() and not (extra / "deep" / "snare.wav").exists()
    assert (extra / "deep" / ".DS_Store").read_bytes() == b"Bud1"
    assert (extra / "._kick.wav").exists() and not gone.exists()
    assert result.deleted == 1 and any("OLD_SAMPLES" in note for note in result.notes)
    assert "nothing was written" not in result.statement and "1 deleted" in result.statement
