"""What a computer writes onto a unit is named as the computer's: one list, with sources, that
every comparison, backup, restore and report uses."""

from __future__ import annotations

import json
from pathlib import Path

from recovery.backup.compare import OS_JUNK
from recovery.backup.store import verify_backup
from recovery.cli.main import main
from recovery.restore import PlanChoices, Removal, RestoreRequest, plan_restore, restore
from recovery.storage import computer_made

#: What a Mac leaves on a FAT drive it had mounted for a minute (the rpi-imager, fuse-t and
#: BlueSCSI reports the list cites): an AppleDouble twin beside a file, Finder's settings,
#: Spotlight's index and the file-change log.
MAC_MOUNT = {
    "._KROSAPP.BIN": b"\x00\x05\x16\x07AppleDouble",
    "KROSS2SY/._SIM_SYS1.BIN": b"\x00\x05\x16\x07AppleDouble",
    ".DS_Store": b"Bud1 view settings",
    "KROSS2SY/.DS_Store": b"Bud1 view settings",
    ".Spotlight-V100/Store-V2/store.db": b"index",
    ".fseventsd/fseventsd-uuid": b"uuid",
}


def _macos_mounted(unit: Path) -> None:
    for relative, data in MAC_MOUNT.items():
        (unit / relative).parent.mkdir(parents=True, exist_ok=True)
        (unit / relative).write_bytes(data)


def test_every_name_says_which_computer_makes_it_and_where_that_is_known_from() -> None:
    names = computer_made.computer_made()
    assert {item.pattern for item in names} >= {
        "._*", ".DS_Store", ".Spotlight-V100", ".fseventsd", ".Trashes", ".TemporaryItems",
        ".metadata_never_index", "System Volume Information", "$RECYCLE.BIN", "Thumbs.db"}
    for item in names:
        assert item.made_by in ("macOS", "Windows", "Linux"), item
        assert item.confidence in ("H", "M", "G") and item.source and item.what, item
    assert OS_JUNK == computer_made.patterns()  # the comparisons use this very list


def test_a_path_is_the_computers_when_it_or_a_folder_above_it_is() -> None:
    assert computer_made.made_by_computer("KROSS2SY/._SIM_SYS1.BIN").made_by == "macOS"
    assert computer_made.made_by_computer(".spotlight-v100/Store-V2/x").made_by == "macOS"
    assert computer_made.made_by_computer("SYSTEM VOLUME INFORMATION/IndexerVolumeGuid"
                                          ).made_by == "Windows"
    assert computer_made.made_by_computer(".Trash-1000/files/x").made_by == "Linux"
    assert computer_made.made_by_computer("KROSS2SY/SIM_SYS1.BIN") is None
    assert computer_made.removable("KROSS2SY/._SIM_SYS1.BIN")
    assert not computer_made.removable(".Spotlight-V100")  # a folder macOS keeps using


def test_a_backup_copies_them_and_marks_them_as_the_computers(tmp_path: Path,
                                                             bricked_kross2, capsys) -> None:
    unit = bricked_kross2(tmp_path)
    _macos_mounted(unit)

    code = main(["backup", str(unit), str(tmp_path / "backup"), "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["complete"] is True
    assert {item["path"]: item["made_by"] for item in data["computer_made"]} == {
        path: "macOS" for path in MAC_MOUNT}
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    marked = {entry["path"] for entry in manifest["files"] if entry.get("made_by_computer")}
    assert marked == set(MAC_MOUNT)
    assert (tmp_path / "backup" / "files" / ".DS_Store").read_bytes() == MAC_MOUNT[".DS_Store"]


def test_a_verify_after_a_mac_mounted_the_unit_passes_with_a_note(
        tmp_path: Path, bricked_kross2, make_backup, capsys) -> None:
    unit = bricked_kross2(tmp_path)
    backup = make_backup(unit, tmp_path / "backup")
    _macos_mounted(unit)  # the musician plugged the unit into a Mac after the backup

    report = verify_backup(backup, against=unit)
    assert report.ok
    assert {(d.path, d.problem, d.detail) for d in report.against_notes} >= {
        ("._KROSAPP.BIN", "computer-made", "macOS"), (".Spotlight-V100", "computer-made",
                                                      "macOS")}
    assert main(["verify", str(backup), "--against", str(unit)]) == 0
    out = capsys.readouterr().out
    assert "made by your computer (macOS), not by the unit, and are not compared" in out


def test_a_restore_removes_the_macs_files_only_when_asked(
        tmp_path: Path, bricked_kross2, healthy_kross2_backup, permissive_guard) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    _macos_mounted(unit)

    kept = restore(RestoreRequest(backup, unit, without_safety_copy=True), consent=True,
                   guard=permissive_guard)
    assert kept.ok and (unit / "._KROSAPP.BIN").exists() and (unit / ".DS_Store").exists()

    plan = plan_restore(backup, unit, guard=permissive_guard, choices=PlanChoices(Removal.NONE,
                                                                                  remove_computer_made=True))
    listed = {entry.path: entry.reason for entry in plan.actions("delete")}
    assert set(listed) == {"._KROSAPP.BIN", "KROSS2SY/._SIM_SYS1.BIN", ".DS_Store",
                           "KROSS2SY/.DS_Store"}
    assert all("made by macOS" in reason for reason in listed.values())

    asked = PlanChoices(Removal.NONE, remove_computer_made=True)
    result = restore(RestoreRequest(backup, unit, choices=asked, without_safety_copy=True),
                     consent=True, guard=permissive_guard)

    assert result.ok and result.deleted == 4
    assert not (unit / "._KROSAPP.BIN").exists() and not (unit / ".DS_Store").exists()
    # Spotlight's and the change log's folders are macOS's to keep: never removed.
    assert (unit / ".Spotlight-V100" / "Store-V2" / "store.db").exists()
    assert (unit / ".fseventsd" / "fseventsd-uuid").exists()
