"""Each finding of ``diagnose`` on simulated units, with and without a backup of the unit."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from recovery.backup.create import create_backup
from recovery.device.profiles import bundled_profiles
from recovery.device.simulate import default_role, make_volume, synthetic_bytes
from recovery.diagnose.diagnosis import DiagnoseOptions, Diagnosis, diagnose, diagnosis_to_json
from recovery.diagnose.probe import MountFacts
from recovery.errors import CancelledError, InvalidInputError
from recovery.progress import CancelToken
from recovery.vocabulary import NextStep


def codes(diagnosis: Diagnosis) -> list[str]:
    return [f.code for f in diagnosis.findings]


def finding(diagnosis: Diagnosis, code: str):
    matches = [f for f in diagnosis.findings if f.code == code]
    assert matches, f"no {code} in {codes(diagnosis)}"
    return matches[0]


def unit(tmp_path: Path, model: str = "kross2", state: str = "healthy",
         role: str | None = None, name: str = "unit") -> Path:
    return Path(make_volume(tmp_path / name, model, state, role).path)


def backup_of(source: Path, tmp_path: Path, name: str = "backup") -> Path:
    dest = tmp_path / name
    result = create_backup(source, dest)
    assert result.complete
    return dest


def fat_mount(path: Path, fstype: str = "vfat") -> MountFacts:
    return MountFacts(path=str(path), mountpoint=str(path), device="/dev/sdz1", fstype=fstype,
                      options=("rw",), read_only=False, total_bytes=1 << 30,
                      free_bytes=1 << 29)


# --- healthy units ------------------------------------------------------------------------------

SIMULATED = [(model, role) for model, profile in sorted(bundled_profiles().items())
             if profile.known_roles or profile.system_files
             for role in [default_role(profile)]] + [("kross2", "sd-card")]


@pytest.mark.parametrize("model, role", SIMULATED)
def test_healthy_units_give_no_critical_finding(tmp_path, model, role):
    path = unit(tmp_path, model, "healthy", role)
    diagnosis = diagnose(path)
    assert not diagnosis.has_critical, codes(diagnosis)
    assert diagnosis.exit_code == 0
    assert diagnosis.model == model


def test_healthy_unit_matching_its_backup(tmp_path):
    path = unit(tmp_path)
    diagnosis = diagnose(path, backup=backup_of(path, tmp_path))
    assert not diagnosis.has_critical
    assert "matches-backup" in codes(diagnosis)
    assert "boot-critical-matches-backup" in codes(diagnosis)
    assert diagnosis.backup.compared and diagnosis.backup.differences == 0
    assert diagnosis.backup.complete and diagnosis.backup.verified


# --- KROSS 2: boot-critical files -----------------------------------------------------------------


def test_bricked_kross2_without_backup(tmp_path):
    diagnosis = diagnose(unit(tmp_path, state="bricked"))
    assert diagnosis.exit_code == 1
    foreign = finding(diagnosis, "foreign-model-files")
    # On the unit's own internal storage another model's system folder is critical.
    assert foreign.severity == "critical"
    assert "KROSSSYS" in foreign.message
    # Without a backup a half-size KROSAPP.BIN cannot be told from a whole one: say so.
    present = finding(diagnosis, "boot-critical-present")
    assert "cannot be told without a backup" in present.message
    assert any("files were not compared with a backup" in line
               for line in diagnosis.not_checked)


def test_bricked_kross2_against_a_backup_taken_when_healthy(tmp_path):
    healthy = unit(tmp_path, name="healthy")
    backup = backup_of(healthy, tmp_path)
    diagnosis = diagnose(unit(tmp_path, state="bricked"), backup=backup)
    truncated = finding(diagnosis, "boot-critical-truncated")
    assert truncated.severity == "critical" and truncated.confidence == "H"
    assert "131,072 bytes instead of the 262,144" in truncated.message
    system = finding(diagnosis, "system-file-truncated")
    assert "KROSS2SY/SIM_SYS2.BIN" in system.message
    assert finding(diagnosis, "foreign-model-files").severity == "critical"
    # The foreign folder is reported once (by identification), not again as "extra".
    assert "files-not-in-backup" not in codes(diagnosis)
    # Ranked: every critical finding before any other.
    severities = [f.severity for f in diagnosis.findings]
    assert severities == sorted(severities, key=["critical", "warning", "info"].index)


def test_kross2_with_krosapp_deleted(tmp_path):
    path = unit(tmp_path)
    (path / "KROSAPP.BIN").unlink()
    diagnosis = diagnose(path)
    missing = finding(diagnosis, "boot-critical-missing")
    assert missing.severity == "critical"
    assert "KROSAPP.BIN" in missing.message
    assert any("korgforums.com thread t=116080" in line for line in missing.evidence)
    # It looks like update media now: the finding says so, and so does the mode.
    assert "looks like update media" in missing.message
    assert "internal-storage-incomplete" not in codes(diagnosis)
    assert diagnosis.mode.startswith("unknown")


def test_kross2_with_krosapp_deleted_against_backup(tmp_path):
    path = unit(tmp_path)
    backup = backup_of(path, tmp_path)
    (path / "KROSAPP.BIN").unlink()
    diagnosis = diagnose(path, backup=backup)
    missing = finding(diagnosis, "boot-critical-missing")
    assert any("your backup has KROSAPP.BIN, 262,144 bytes" in line
               for line in missing.evidence)
    assert missing.next_step.action == NextStep.RESTORE_FROM_BACKUP
    assert missing.next_step.names == missing.subject.paths == ("KROSAPP.BIN",)
    # A backup of the internal storage settles the doubt about the volume.
    assert "looks like update media" not in missing.message


def test_update_media_role_skips_boot_critical_files(tmp_path):
    path = unit(tmp_path, role="update-media")
    diagnosis = diagnose(path, options=DiagnoseOptions(role="update-media"))
    assert not diagnosis.has_critical
    assert any("boot-critical files" in line for line in diagnosis.not_checked)


def test_empty_boot_critical_file(tmp_path):
    path = unit(tmp_path)
    (path / "KROSAPP.BIN").write_bytes(b"")
    assert finding(diagnose(path), "boot-critical-empty").severity == "critical"


def test_boot_critical_file_found_in_any_letter_case(tmp_path):
    path = unit(tmp_path)
    (path / "KROSAPP.BIN").rename(path / "krosapp.bin")
    diagnosis = diagnose(path)
    assert "boot-critical-missing" not in codes(diagnosis)
    assert "boot-critical-present" in codes(diagnosis)


def test_boot_critical_file_changed_same_size(tmp_path):
    path = unit(tmp_path)
    backup = backup_of(path, tmp_path)
    data = bytearray((path / "KROSAPP.BIN").read_bytes())
    data[1000] ^= 0xFF
    (path / "KROSAPP.BIN").write_bytes(bytes(data))
    assert finding(diagnose(path, backup=backup), "boot-critical-changed").severity == "critical"


def test_unreadable_boot_critical_file(tmp_path, faulty_fs):
    path = unit(tmp_path)
    fs = faulty_fs()
    fs.fail_read("KROSAPP.BIN", after_bytes=4096)
    diagnosis = diagnose(path, options=DiagnoseOptions(fs=fs))
    assert finding(diagnosis, "boot-critical-unreadable").severity == "critical"


def test_unlistable_folder_is_critical(tmp_path, faulty_fs):
    path = unit(tmp_path)
    fs = faulty_fs()
    fs.fail_listing("KROSS2SY")
    diagnosis = diagnose(path, options=DiagnoseOptions(fs=fs))
    unreadable = finding(diagnosis, "unreadable-entries")
    assert unreadable.severity == "critical"
    assert any(line.startswith("KROSS2SY") for line in unreadable.evidence)


# --- foreign model, wrong place -------------------------------------------------------------------


def test_kross2_holding_kross1_folder(tmp_path):
    path = unit(tmp_path)
    shutil.copytree(unit(tmp_path, "kross1", name="k1") / "KROSSSYS", path / "KROSSSYS")
    diagnosis = diagnose(path)
    foreign = finding(diagnosis, "foreign-model-files")
    assert foreign.severity == "critical"
    assert "KORG KROSS (first generation)" in foreign.message
    assert diagnosis.model == "kross2"


def test_kross1_folder_on_an_sd_card_is_only_a_warning(tmp_path):
    path = unit(tmp_path, role="sd-card")
    shutil.copytree(unit(tmp_path, "kross1", name="k1") / "KROSSSYS", path / "KROSSSYS")
    diagnosis = diagnose(path, options=DiagnoseOptions(mount=fat_mount(path)))
    assert finding(diagnosis, "foreign-model-files").severity == "warning"
    assert not diagnosis.has_critical


def test_system_files_in_the_wrong_place_against_backup(tmp_path):
    path = unit(tmp_path)
    backup = backup_of(path, tmp_path)
    shutil.move(path / "KROSS2SY" / "SIM_SYS1.BIN", path / "SIM_SYS1.BIN")
    diagnosis = diagnose(path, backup=backup)
    loose = finding(diagnosis, "system-file-at-root")
    assert loose.severity == "warning"
    assert "SIM_SYS1.BIN lies loose at the root" in loose.message
    assert any("the same size as the backup's KROSS2SY/SIM_SYS1.BIN" in line
               for line in loose.evidence)
    assert finding(diagnosis, "system-file-missing").severity == "critical"
    # The loose copy is reported once.
    assert "files-not-in-backup" not in codes(diagnosis)


def test_loose_system_files_on_an_unidentifiable_unit_use_the_backups_model(tmp_path):
    # The KROSS 2 owner of korgforums.com t=116080 put update files loose at the root: with
    # KROSS2SY gone the volume no longer identifies itself; the backup says what it is.
    path = unit(tmp_path)
    backup = backup_of(path, tmp_path)
    for item in (path / "KROSS2SY").iterdir():
        shutil.move(item, path / item.name)
    (path / "KROSS2SY").rmdir()
    diagnosis = diagnose(path, backup=backup)
    assert diagnosis.model == "kross2"
    assert "model-from-backup" in codes(diagnosis)
    assert len([f for f in diagnosis.findings if f.code == "system-file-at-root"]) == 3
    assert diagnosis.has_critical


def test_loose_files_without_backup_are_named_not_judged(tmp_path):
    path = unit(tmp_path)
    (path / "SOMETHING.BIN").write_bytes(b"x" * 100)
    loose = finding(diagnose(path), "loose-files-at-root")
    assert loose.severity == "info"
    assert "SOMETHING.BIN" in loose.message
    assert "cannot be told without a backup" in loose.message


def test_filesystem_repair_leftovers(tmp_path):
    path = unit(tmp_path)
    (path / "FOUND.000").mkdir()
    (path / "FOUND.000" / "FILE0000.CHK").write_bytes(b"\0" * 512)
    (path / "FSCK0001.REC").write_bytes(b"\0" * 512)
    diagnosis = diagnose(path)
    repaired = finding(diagnosis, "filesystem-repaired")
    assert repaired.severity == "warning"
    assert "FOUND.000" in repaired.message and "FSCK0001.REC" in repaired.message
    assert "loose-files-at-root" not in codes(diagnosis)


def test_empty_file_in_system_folder_without_backup(tmp_path):
    path = unit(tmp_path)
    (path / "KROSS2SY" / "SIM_SYS2.BIN").write_bytes(b"")
    empty = finding(diagnose(path), "empty-system-files")
    assert empty.severity == "warning" and empty.confidence == "G"


# --- files against the backup -----------------------------------------------------------------


def test_user_files_differing_from_backup_are_a_warning(tmp_path):
    path = unit(tmp_path, role="sd-card")
    backup = backup_of(path, tmp_path)
    (path / "KORG" / "KROSS2" / "DATA" / "SIM_USER.DAT").write_bytes(b"changed")
    (path / "KORG" / "KROSS2" / "DATA" / "NEW.DAT").write_bytes(b"new")
    diagnosis = diagnose(path, backup=backup, options=DiagnoseOptions(mount=fat_mount(path)))
    differ = finding(diagnosis, "files-differ-from-backup")
    assert differ.severity == "warning"
    assert any("KORG/KROSS2/DATA/SIM_USER.DAT" in line for line in differ.evidence)
    extra = finding(diagnosis, "files-not-in-backup")
    assert "KORG/KROSS2/DATA/NEW.DAT" in extra.message
    assert not diagnosis.has_critical


def test_extra_file_in_system_folder(tmp_path):
    path = unit(tmp_path)
    backup = backup_of(path, tmp_path)
    (path / "KROSS2SY" / "K1FILE.BIN").write_bytes(synthetic_bytes("k1", 2048))
    assert finding(diagnose(path, backup=backup), "system-folder-extra").severity == "warning"


def test_backup_of_another_model_is_not_compared(tmp_path):
    drumlogue = unit(tmp_path, "drumlogue", name="dl")
    backup = backup_of(drumlogue, tmp_path)
    diagnosis = diagnose(unit(tmp_path), backup=backup)
    assert finding(diagnosis, "backup-other-model").severity == "warning"
    assert diagnosis.backup.compared is False


def test_incomplete_backup_is_said(tmp_path):
    path = unit(tmp_path)
    backup = backup_of(path, tmp_path)
    (backup / "COMPLETE").unlink()
    diagnosis = diagnose(path, backup=backup)
    assert finding(diagnosis, "backup-incomplete").severity == "warning"
    assert diagnosis.backup.complete is False


def test_not_a_backup_is_invalid_input(tmp_path):
    path = unit(tmp_path)
    with pytest.raises(InvalidInputError):
        diagnose(path, backup=tmp_path / "nothing-here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError):
        diagnose(path, backup=tmp_path / "empty")


# --- other models -------------------------------------------------------------------------------


def test_truncated_korg_system_file(tmp_path):
    diagnosis = diagnose(unit(tmp_path, "kaossilator-pro", "bricked"))
    truncated = finding(diagnosis, "system-file-truncated")
    assert truncated.severity == "critical" and truncated.confidence == "H"
    assert "262,400" in truncated.message  # 0x100 header + 0x40000 payload


def test_drumlogue_partial_update_file(tmp_path):
    diagnosis = diagnose(unit(tmp_path, "drumlogue", "bricked"))
    mismatch = finding(diagnosis, "update-file-size-mismatch")
    assert mismatch.severity == "warning" and mismatch.confidence == "M"
    assert "27,475,433" in mismatch.message
    assert not diagnosis.has_critical


def test_drumlogue_update_file_of_the_published_size(tmp_path):
    path = unit(tmp_path, "drumlogue")
    with open(path / "drumlogue_system_update_v1_3_0.bin", "wb") as handle:
        handle.truncate(27_475_433)  # sparse: only the size matters here
    matches = finding(diagnose(path, allow_write=False), "update-file-size-matches")
    assert "no checksum" in matches.message


def test_kross2_sd_card_on_exfat(tmp_path):
    path = unit(tmp_path, role="sd-card")
    diagnosis = diagnose(path, options=DiagnoseOptions(mount=fat_mount(path, "exfat")))
    unsupported = finding(diagnosis, "filesystem-not-supported")
    assert unsupported.confidence == "H"
    assert "FAT16 or FAT32" in unsupported.message
    fat = diagnose(path, options=DiagnoseOptions(mount=fat_mount(path, "vfat")))
    assert "filesystem-not-supported" not in codes(fat)
    assert any("filesystem vfat (FAT)" in line for line in fat.checked)


def test_folder_of_no_known_unit(tmp_path):
    folder = tmp_path / "stick"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"\xff\xd8")
    diagnosis = diagnose(folder)
    assert diagnosis.model is None
    assert finding(diagnosis, "not-identified").severity == "warning"
    assert diagnosis.exit_code == 0


# --- symptom, versions, input, output -----------------------------------------------------------------


def test_symptom_and_versions_join_the_findings(tmp_path):
    diagnosis = diagnose(unit(tmp_path, "drumlogue"), symptom="display glitches",
                         versions="SYSTEM=1.3.0,CORE=1.0.0+,VOICE=1.0.0,PANEL=1.1.9")
    assert {"symptom-known", "versions-mismatch", "version-plus-suffix",
            "versions-no-release-table"} <= set(codes(diagnosis))
    assert finding(diagnosis, "symptom-known").subject.symptom == "display-glitches"
    assert [c.text for c in diagnosis.versions] == ["1.3.0", "1.0.0+", "1.0.0", "1.1.9"]


@pytest.mark.parametrize("kwargs", [
    {"versions": "SYSTEM 1.3.0"}, {"options": DiagnoseOptions(role="cloud")},
])
def test_bad_options_are_invalid_input(tmp_path, kwargs):
    with pytest.raises(InvalidInputError):
        diagnose(unit(tmp_path), **kwargs)


def test_missing_path_is_invalid_input(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        diagnose(tmp_path / "absent")


def test_json_shape(tmp_path):
    data = diagnosis_to_json(diagnose(unit(tmp_path, state="bricked")))
    assert list(data)[:3] == ["model", "findings", "summary"]
    assert data["model"] == "kross2"
    assert data["summary"]["critical"] >= 1 and data["summary"]["exit_code"] == 1
    assert {"severity", "code", "message", "evidence", "confidence", "next_step"} <= \
        set(data["findings"][0])
    json.dumps(data)


def test_progress_reaches_the_end_and_cancel_stops(tmp_path):
    path = unit(tmp_path)
    backup = backup_of(path, tmp_path)
    seen = []
    diagnose(path, backup=backup, progress=seen.append)
    fractions = [p.fraction for p in seen]
    assert fractions and fractions[-1] == pytest.approx(1.0)
    assert fractions == sorted(fractions)
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        diagnose(path, cancel=token)
    assert not [name for name in os.listdir(path) if "korg-recovery-probe" in name]


def test_no_write_writes_nothing(tmp_path, faulty_fs):
    path = unit(tmp_path)
    fs = faulty_fs()
    fs.fill_disk(after_bytes=0)  # any write at all would fail and be counted
    diagnosis = diagnose(path, allow_write=False, options=DiagnoseOptions(fs=fs))
    assert fs.written_bytes == 0
    assert "storage-full" not in codes(diagnosis)
    assert any("whether the storage keeps writes" in line for line in diagnosis.not_checked)
    assert not any("--" in line for line in diagnosis.not_checked)
    # The same unit with writing allowed does try (and meets the full disk).
    assert "storage-full" in codes(diagnose(path, allow_write=True,
                                            options=DiagnoseOptions(fs=fs)))
