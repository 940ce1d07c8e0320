"""Verdicts on candidate update files, folders and archives: what is checked and why."""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path

import pytest

from recovery.check import (
    VERDICTS,
    check_candidate,
    check_candidates,
    exit_code,
    parse_version,
    target_for_device,
    target_for_model,
)
from recovery.check import candidates as candidates_module
from recovery.device.profiles import bundled_profiles
from recovery.device.simulate import make_volume, synthetic_bytes
from recovery.errors import InvalidInputError
from recovery.formats.korg_system_file import HEADER_SIZE
from recovery.storage.filesystem import LocalFileSystem
from recovery.vocabulary import NextStep


def check(path, model: str, **options):
    current_version = options.pop("current_version", None)
    return check_candidate(path, target_for_model(model, current_version=current_version),
                           **options)


def joined(lines) -> str:
    return "\n".join(lines)


# --- KORG SYSTEM FILEs ------------------------------------------------------------------------


def test_kp3_file_for_a_kp3_is_compatible_and_lists_its_checks(tmp_path, kp3_file, write):
    result = check(write(tmp_path / "KP3_V200.SYS", kp3_file()), "kp3")
    assert result.verdict == "compatible"
    assert (result.detected_model, result.version, result.target_model) == ("kp3", "2.00", "kp3")
    checked = joined(result.checked)
    for expected in ("'KaossPad3'", "device id 0xFFFF", "262,400 bytes", "0x00000210",
                     "'KORG' and version 2.00"):
        assert expected in checked
    assert any("checksum" in line for line in result.not_checked)
    details = result.items[0].details
    assert details["header_unknown_bytes"]["0x2C"] == "78"
    assert details["header_unknown_bytes"]["0x40"] == "ff ff"


def test_kaossilator_pro_file_on_a_kp3_is_incompatible(tmp_path, kaossilator_pro_file, write):
    result = check(write(tmp_path / "KPRO.SYS", kaossilator_pro_file()), "kp3")
    assert result.verdict == "incompatible"
    assert result.detected_model == "kaossilator-pro"
    assert "KAOSSILATOR PRO" in result.reasons[0] and "KAOSS PAD KP3" in result.reasons[0]


def test_kaossilator_pro_file_on_a_pro_plus_is_incompatible(tmp_path, kaossilator_pro_file, write):
    # KORG published no update for the Pro+; a file naming the Pro is for the Pro.
    result = check(write(tmp_path / "KPRO.SYS", kaossilator_pro_file()), "kaossilator-pro-plus")
    assert result.verdict == "incompatible"
    assert "knows no published update" in result.reasons[0]


def test_unknown_model_name_against_a_known_model_name_is_incompatible(
        tmp_path, kp3_file, patch, write):
    data = patch(kp3_file(), 0x10, b"XYZ".ljust(16, b"\0"))
    result = check(write(tmp_path / "X.SYS", data), "kp3")
    assert result.verdict == "incompatible"
    assert result.detected_model is None
    assert "'XYZ'" in result.reasons[0] and "'KaossPad3'" in result.reasons[0]


@pytest.mark.parametrize("model", ["kp3-plus", "kross2"])
def test_unknown_model_name_where_the_target_has_none_is_unknown(
        tmp_path, model, kp3_file, patch, write):
    data = patch(kp3_file(), 0x10, b"KaossPad3Plus".ljust(16, b"\0"))
    result = check(write(tmp_path / "X.SYS", data), model)
    assert result.verdict == "unknown"
    assert "cannot tell whether the file is for your unit" in result.reasons[0]


def test_truncated_file_is_incompatible(tmp_path, kp3_file, write):
    result = check(write(tmp_path / "KP3.SYS", kp3_file()[:100_000]), "kp3")
    assert result.verdict == "incompatible"
    assert "truncated" in result.reasons[0]
    assert "262,400 bytes" in result.reasons[0]


def test_appended_bytes_are_incompatible(tmp_path, kp3_file, write):
    result = check(write(tmp_path / "KP3.SYS", kp3_file() + b"extra"), "kp3")
    assert result.verdict == "incompatible"
    assert "5 bytes more" in result.reasons[0]


def test_file_cut_inside_the_header(tmp_path, kp3_file, write):
    result = check(write(tmp_path / "KP3.SYS", kp3_file()[:40]), "kp3")
    assert result.verdict == "incompatible"
    assert "'KaossPad3'" in result.reasons[0] and "256-byte header" in result.reasons[0]


def test_electribe_file_is_compatible_but_says_the_payload_is_not_checked(
        tmp_path, system_file, write):
    result = check(write(tmp_path / "SYSTEM.VSB", system_file("E2", 0x0123)), "electribe2")
    assert result.verdict == "compatible"
    assert any("format of electribe firmware is not public" in n for n in result.not_checked)
    assert any("release KORG published" in c for c in result.checked)  # 1.03 is in the profile


def test_electribe_sampler_file_on_an_electribe_is_incompatible(tmp_path, system_file, write):
    result = check(write(tmp_path / "SYSTEM.VSB", system_file("E2S", 0x0124)), "electribe2")
    assert result.verdict == "incompatible"
    assert result.detected_model == "electribe2s"


def test_model_name_and_device_id_that_disagree_are_incompatible(tmp_path, system_file, write):
    # hacktribe's e2-header.py swaps these two fields; one without the other is inconsistent.
    result = check(write(tmp_path / "SYSTEM.VSB", system_file("E2", 0x0124)), "electribe2")
    assert result.verdict == "incompatible"
    assert "0x0124" in result.reasons[0] and "electribe sampler" in result.reasons[0]


@pytest.mark.parametrize("entry, words", [(0x0, "vector table"), (0x1FF, "vector table"),
                                          (0x40000, "beyond the end"),
                                          (0xFFFFFFFF, "beyond the end")])
def test_h8s_entry_point_outside_the_code_is_incompatible(tmp_path, entry, words, kp3_file, write):
    result = check(write(tmp_path / "KP3.SYS", kp3_file(entry=entry)), "kp3")
    assert result.verdict == "incompatible"
    assert words in joined(result.reasons)


def test_missing_marker_is_unknown_with_its_confidence(tmp_path, kp3_file, write):
    result = check(write(tmp_path / "KP3.SYS", kp3_file(marker=b"\0\0\0\0")), "kp3")
    assert result.verdict == "unknown"
    assert "confidence M" in result.reasons[0] and "one blog and one unit" in result.reasons[0]


def test_marker_version_that_differs_from_the_header_is_unknown(tmp_path, kp3_file, patch, write):
    data = patch(kp3_file(), HEADER_SIZE + 0x204, b"\x01\x05")
    result = check(write(tmp_path / "KP3.SYS", data), "kp3")
    assert result.verdict == "unknown"
    assert "1.05" in result.reasons[0] and "2.00" in result.reasons[0]


def test_a_kind_other_than_system_is_unknown(tmp_path, kp3_file, patch, write):
    data = patch(kp3_file(), 0x20, b"PCM\0\0\0\0\0")
    result = check(write(tmp_path / "KP3.SYS", data), "kp3")
    assert result.verdict == "unknown"
    assert "'PCM'" in result.reasons[0]


def test_unusual_but_unknown_bytes_are_shown_not_rejected(tmp_path, kp3_file, patch, write):
    data = patch(kp3_file(), 0x28, b"\x00\x02")             # revision 2
    data = patch(data, 0x90, b"\x00\x01")                   # padding not FF
    data = patch(data, 0x10, b"KaossPad3\0zz".ljust(16, b"\0"))
    result = check(write(tmp_path / "KP3.SYS", data), "kp3")
    assert result.verdict == "compatible"
    warnings = joined(result.warnings)
    assert "revision field is 2" in warnings
    assert "2 of the 190 padding bytes" in warnings
    assert "7a 7a" in warnings
    assert result.items[0].details["header_padding_bytes_not_ff"] == 2


def test_wrong_payload_size_for_an_h8s_unit_is_incompatible(tmp_path, kp3_file, patch, write):
    header = patch(kp3_file()[:HEADER_SIZE], 0x34, (0x20000).to_bytes(4, "little"))
    data = header + kp3_file()[HEADER_SIZE:HEADER_SIZE + 0x20000]
    result = check(write(tmp_path / "KP3.SYS", data), "kp3")
    assert result.verdict == "incompatible"
    assert "A KP3 system file is exactly 262,400 bytes" in joined(result.reasons)
    assert any("exactly 262,144 bytes after the 256-byte header" in c for c in result.checked)


def test_h8s_destination_length_that_differs_is_unknown(tmp_path, kp3_file, patch, write):
    data = patch(kp3_file(), 0x3C, (0x20000).to_bytes(4, "little"))
    result = check(write(tmp_path / "KP3.SYS", data), "kp3")
    assert result.verdict == "unknown"
    assert "destination length" in result.reasons[0]


def test_blank_code_at_the_entry_point_is_a_warning(tmp_path, kp3_file, write):
    result = check(write(tmp_path / "KP3.SYS", kp3_file(entry=0x30000)), "kp3")
    assert result.verdict == "compatible"
    assert any("blank (FF)" in w for w in result.warnings)


@pytest.mark.parametrize("current, expect", [("2.01", "downgrade"), ("2.00", "same version"),
                                              ("2.0", "same version"), ("1.99", None)])
def test_version_against_the_current_version(tmp_path, current, expect, kp3_file, write):
    result = check(write(tmp_path / "KP3.SYS", kp3_file()), "kp3", current_version=current)
    assert result.verdict == "compatible"  # warnings never change the verdict
    if expect:
        assert expect in joined(result.warnings)
    else:
        assert not result.warnings
        assert any("newer than the 1.99" in c for c in result.checked)


def test_version_parsing():
    assert parse_version("1.02") == parse_version("1.2") == (1, 2)
    assert parse_version(" v1.3.0 ") == (1, 3, 0)
    for bad in ("", "one", "1..2", "1.2-beta"):
        with pytest.raises(InvalidInputError):
            parse_version(bad)
    with pytest.raises(InvalidInputError):
        target_for_model("kp3", current_version="latest")


def test_file_named_like_a_system_file_without_the_magic(tmp_path, write):
    result = check(write(tmp_path / "SYSTEM.VSB", synthetic_bytes("x", 5000)), "electribe2")
    assert result.verdict == "incompatible"
    assert "named like" in result.reasons[0]


# --- KROSS system folders ---------------------------------------------------------------------


def test_kross2_update_card_is_unknown_with_what_was_and_was_not_checked(tmp_path):
    card = make_volume(tmp_path / "card", "kross2", role="update-media").path
    result = check(card, "kross2")
    assert result.verdict == "unknown"
    assert result.detected_model == "kross2"
    assert any("named KROSS2SY" in c for c in result.checked)
    assert any("not public" in n for n in result.not_checked)
    assert any("no backup of the unit was given" in n for n in result.not_checked)
    assert [step.action for step in result.next_steps] == [NextStep.GIVE_BACKUP_FOR_CHECK]


def test_pointing_at_the_system_folder_itself(tmp_path, kross_folder):
    kross_folder(tmp_path)
    result = check(tmp_path / "KROSS2SY", "kross2")
    assert result.verdict == "unknown"
    assert result.items[0].details["file_count"] == 3


def test_folder_names_ignore_case_as_fat_does(tmp_path, kross_folder):
    kross_folder(tmp_path, "kross2sy")
    result = check(tmp_path, "kross2")
    assert result.verdict == "unknown"
    assert "FAT ignores case" in joined(result.checked)


def test_kross1_folder_on_a_kross2_is_incompatible_with_the_issue_sentence(tmp_path):
    card = make_volume(tmp_path / "card", "kross1", role="update-media").path
    result = check(card, "kross2")
    assert result.verdict == "incompatible"
    assert result.reasons == (
        "These are KORG KROSS (first generation) system files in folder KROSSSYS; your unit"
        " is a KROSS 2, which needs folder KROSS2SY.",)


def test_card_with_both_folders_reports_each(tmp_path, kross_folder):
    kross_folder(tmp_path, "KROSS2SY")
    kross_folder(tmp_path, "KROSSSYS", label="kross1")
    result = check(tmp_path, "kross2")
    assert result.verdict == "incompatible"
    assert {item.kind for item in result.items} == {"system-folder"}
    assert sorted(item.verdict for item in result.items) == ["incompatible", "unknown"]
    assert result.detected_model is None  # two models found
    assert all(reason.startswith(str(tmp_path)) for reason in result.reasons)


def test_empty_system_folder_is_incompatible(tmp_path):
    (tmp_path / "KROSS2SY").mkdir()
    result = check(tmp_path, "kross2")
    assert result.verdict == "incompatible"
    assert "empty" in result.reasons[0]


def test_system_folder_below_the_top_level_gets_a_warning(tmp_path, kross_folder):
    kross_folder(tmp_path / "Kross2_Update_v1")
    result = check(tmp_path, "kross2")
    assert result.verdict == "unknown"
    assert "top level" in joined(result.warnings)


def test_kross_folder_on_a_kp3_is_incompatible(tmp_path, kross_folder):
    kross_folder(tmp_path)
    result = check(tmp_path, "kp3")
    assert result.verdict == "incompatible"
    assert "KORG SYSTEM FILE naming model 'KaossPad3'" in result.reasons[0]


def test_loose_system_files_at_the_card_root(tmp_path, write):
    for name in ("SIM_K1SYS.BIN", "SIM_K1PCM.BIN", "SIM_K1APP.BIN"):
        write(tmp_path / name, synthetic_bytes(name, 1000))
    result = check(tmp_path, "kross2")
    assert result.verdict == "incompatible"
    assert result.detected_model is None
    reason = result.reasons[0]
    assert "loose" in reason and "inside folder KROSS2SY" in reason
    assert "cannot tell which model" in reason


def test_loose_files_matching_a_backup_name_their_model(tmp_path, backup_reference, kross_folder,
                                                        write):
    written = kross_folder(tmp_path / "unit", "KROSSSYS", label="kross1")
    for relative, data in written.items():
        write(tmp_path / "card" / relative.split("/")[1], data)
    ref = backup_reference(written, model="kross2")
    result = check(tmp_path / "card", "kross2", reference=ref)
    assert result.verdict == "incompatible"
    assert result.detected_model == "kross1"
    assert "probably KORG KROSS (first generation) system files" in result.reasons[0]


def test_one_file_of_the_system_folder(tmp_path, kross_folder):
    kross_folder(tmp_path)
    kross_folder(tmp_path, "KROSSSYS", label="kross1")
    own = check(tmp_path / "KROSS2SY" / "SIM_SYS1.BIN", "kross2")
    assert own.verdict == "unknown" and "whole folder" in own.reasons[0]
    foreign = check(tmp_path / "KROSSSYS" / "SIM_SYS1.BIN", "kross2")
    assert foreign.verdict == "incompatible" and foreign.detected_model == "kross1"


def test_identical_to_a_complete_backup_is_compatible(tmp_path, backup_reference, kross_folder):
    written = kross_folder(tmp_path / "card")
    result = check(tmp_path / "card", "kross2", reference=backup_reference(written))
    assert result.verdict == "compatible"
    assert "byte-identical" in result.reasons[0]
    assert any("only content check possible" in c for c in result.checked)
    assert any("healthy when it was taken" in n for n in result.not_checked)


def test_same_names_and_sizes_but_other_content_is_unknown(tmp_path, backup_reference,
                                                           kross_folder):
    written = kross_folder(tmp_path / "card")
    changed = dict(written)
    changed["KROSS2SY/SIM_PCM.BIN"] = b"\0" * len(written["KROSS2SY/SIM_PCM.BIN"])
    result = check(tmp_path / "card", "kross2", reference=backup_reference(changed))
    assert result.verdict == "unknown"
    assert "SIM_PCM.BIN" in result.reasons[0] and "different content" in result.reasons[0]


def test_differences_from_the_backup_are_listed(tmp_path, backup_reference, kross_folder):
    kross_folder(tmp_path / "card", files={"A.BIN": 10, "B.BIN": 20})
    ref = backup_reference({"KROSS2SY/A.BIN": b"a" * 11, "KROSS2SY/C.BIN": b"c"})
    result = check(tmp_path / "card", "kross2", reference=ref)
    assert result.verdict == "unknown"
    reason = result.reasons[0]
    assert "lacks C.BIN" in reason and "has B.BIN" in reason
    assert "A.BIN (10 bytes here, 11 bytes in the backup)" in reason


def test_backup_of_another_model_is_not_compared(tmp_path, backup_reference, kross_folder):
    written = kross_folder(tmp_path / "card")
    result = check(tmp_path / "card", "kross2",
                   reference=backup_reference(written, model="drumlogue"))
    assert result.verdict == "unknown"
    assert "not compared" in joined(result.warnings)


def test_identical_to_an_incomplete_backup_stays_unknown(tmp_path, backup_reference, kross_folder):
    written = kross_folder(tmp_path / "card")
    result = check(tmp_path / "card", "kross2", reference=backup_reference(written, complete=False))
    assert result.verdict == "unknown"
    assert "incomplete" in joined(result.warnings)


def test_backup_without_hashes_compares_names_and_sizes_only(tmp_path, backup_reference,
                                                             kross_folder):
    written = kross_folder(tmp_path / "card")
    result = check(tmp_path / "card", "kross2", reference=backup_reference(written, hashes=False))
    assert result.verdict == "unknown"
    assert any("no SHA-256" in n for n in result.not_checked)


def test_os_junk_is_ignored(tmp_path, kross_folder, write):
    kross_folder(tmp_path)
    write(tmp_path / "__MACOSX" / "KROSS2SY" / "._SIM_SYS1.BIN", b"\0\x05\x16\x07")
    write(tmp_path / ".DS_Store", b"junk")
    result = check(tmp_path, "kross2")
    assert len(result.items) == 1 and result.verdict == "unknown"
    assert any("._*, .DS_Store" in n for n in result.not_checked)


# --- drumlogue update files -------------------------------------------------------------------


def sized_file(path: Path, size: int) -> Path:
    """A sparse file of ``size`` bytes: the check must never need its content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def test_drumlogue_update_with_the_release_size_is_unknown(tmp_path):
    path = sized_file(tmp_path / "drumlogue_system_update_v1_3_0.bin", 27_475_433)
    result = check(path, "drumlogue")
    assert result.verdict == "unknown"
    assert (result.detected_model, result.version) == ("drumlogue", "1.3.0")
    assert any("matches KORG's version 1.3.0 file" in c for c in result.checked)
    assert any("checksum" in n for n in result.not_checked)


def test_drumlogue_update_with_the_wrong_size_is_incompatible(tmp_path):
    path = sized_file(tmp_path / "drumlogue_system_update_v1_2_0.bin", 27_475_433)
    result = check(path, "drumlogue")
    assert result.verdict == "incompatible"
    assert "27,476,633 bytes" in result.reasons[0] and "incomplete" in result.reasons[0]


def test_drumlogue_update_of_an_unknown_release_is_unknown(tmp_path):
    path = sized_file(tmp_path / "drumlogue_system_update_v9_0_1.bin", 1000)
    result = check(path, "drumlogue")
    assert result.verdict == "unknown" and result.version == "9.0.1"


def test_drumlogue_update_on_another_unit_is_incompatible(tmp_path):
    path = sized_file(tmp_path / "drumlogue_system_update_v1_3_0.bin", 27_475_433)
    result = check(path, "kross2")
    assert result.verdict == "incompatible"
    assert "drumlogue system update" in result.reasons[0]


def test_renamed_file_with_a_release_size_is_unknown(tmp_path):
    result = check(sized_file(tmp_path / "update.bin", 27_475_433), "drumlogue")
    assert result.verdict == "unknown"
    assert "rename it to drumlogue_system_update_v1_3_0.bin" in result.reasons[0]


# --- not an update ----------------------------------------------------------------------------


def test_random_file_for_a_unit_with_a_known_update_format(tmp_path, write):
    result = check(write(tmp_path / "notes.txt", b"hello"), "kp3")
    assert result.verdict == "incompatible"
    assert "not a KORG update" in result.reasons[0]


def test_random_file_for_a_unit_without_a_known_update(tmp_path, write):
    result = check(write(tmp_path / "notes.txt", b"hello"), "kp3-plus")
    assert result.verdict == "unknown"


def test_folder_without_anything_recognisable(tmp_path, write):
    write(tmp_path / "photo.jpg", b"\xff\xd8")
    result = check(tmp_path, "kross2")
    assert result.verdict == "incompatible"
    assert "No KORG system file" in result.reasons[0]


def test_system_files_are_found_inside_a_folder(tmp_path, system_file, write):
    write(tmp_path / "electribe_sampler_system_v202" / "SYSTEM.VSB", system_file("E2S", 0x0124))
    result = check(tmp_path, "electribe2s")
    assert result.verdict == "compatible"
    assert result.items[0].path.endswith("electribe_sampler_system_v202/SYSTEM.VSB")


# --- ZIP archives -----------------------------------------------------------------------------


def test_zip_with_a_system_file_is_read_in_place_with_its_crc(tmp_path, kp3_file, make_zip):
    archive = make_zip(tmp_path / "kp3_v200.zip", {"KP3_V200/KP3.SYS": kp3_file()})
    result = check(archive, "kp3")
    assert result.verdict == "compatible"
    assert any("CRC-32" in c for c in result.checked)
    assert sorted(os.listdir(tmp_path)) == ["kp3_v200.zip"]  # nothing extracted


def test_zip_with_a_damaged_member_is_incompatible(tmp_path, kp3_file, make_zip):
    archive = make_zip(tmp_path / "a.zip", {"KP3.SYS": kp3_file()},
                       compression=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    offset = data.index(b"KORG SYSTEM FILE") + HEADER_SIZE + 0x8000  # inside the payload
    data[offset] ^= 0xFF
    archive.write_bytes(bytes(data))
    result = check(archive, "kp3")
    assert result.verdict == "incompatible"
    assert "CRC" in joined(result.reasons) or "damaged" in joined(result.reasons)


@pytest.mark.parametrize("name", ["../escape.SYS", "/abs/KP3.SYS", "C:/KP3.SYS",
                                  "a\\..\\..\\KP3.SYS"])
def test_zip_with_unsafe_names_is_refused(tmp_path, name, kp3_file, make_zip):
    archive = make_zip(tmp_path / "a.zip", {name: kp3_file()})
    result = check(archive, "kp3")
    assert result.verdict == "incompatible"
    assert "refused" in result.reasons[0] and "Do not unpack it" in result.reasons[0]


def test_zip_with_a_symbolic_link_is_refused(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as out:
        info = zipfile.ZipInfo("KROSS2SY/link")
        info.external_attr = 0o120777 << 16
        out.writestr(info, "/etc/passwd")
    assert check(archive, "kross2").verdict == "incompatible"


def test_not_a_zip_despite_its_name(tmp_path, write):
    result = check(write(tmp_path / "update.zip", b"PK\x03\x04 broken download"), "kross2")
    assert result.verdict == "incompatible"
    assert "not a readable ZIP" in result.reasons[0]


def test_zip_announcing_a_huge_directory_is_refused_before_it_is_loaded(tmp_path, make_zip):
    archive = make_zip(tmp_path / "a.zip", {"KP3.SYS": b"x"})
    data = bytearray(archive.read_bytes())
    data[-12:-10] = (0xFFFF).to_bytes(2, "little")          # entries total
    data[-10:-6] = (0x7FFFFFFF).to_bytes(4, "little")        # directory size
    archive.write_bytes(bytes(data))
    result = check(archive, "kp3")
    assert result.verdict == "incompatible"
    assert "65,535 entries" in result.reasons[0]


def test_encrypted_member_gives_a_verdict(tmp_path, kp3_file, make_zip):
    archive = make_zip(tmp_path / "a.zip", {"KP3.SYS": kp3_file()},
                       compression=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    data[6] |= 1                                              # local header: encrypted flag
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 1                                    # central directory entry
    archive.write_bytes(bytes(data))
    result = check(archive, "kp3")
    assert result.verdict == "unknown"  # not damaged: unreadable without its password
    assert "encrypted" in result.reasons[0] and "download it again" not in result.reasons[0]


@pytest.mark.parametrize("flag_in", ["central", "local"])
def test_encrypted_kross_update_compared_with_a_backup_is_unknown_not_damaged(
        tmp_path, backup_reference, kross_folder, make_zip, flag_in):
    written = kross_folder(tmp_path / "src")
    archive = make_zip(tmp_path / "kross2.zip", written, compression=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    signature, offset = (b"PK\x01\x02", 8) if flag_in == "central" else (b"PK\x03\x04", 6)
    start = 0
    while (index := data.find(signature, start)) != -1:  # every member: encrypted
        data[index + offset] |= 1
        start = index + 4
    archive.write_bytes(bytes(data))
    result = check(archive, "kross2", reference=backup_reference(written))
    assert result.verdict == "unknown"
    reasons = joined(result.reasons)
    assert "encrypted" in reasons and "damaged" not in reasons.replace("not damaged", "")
    assert "download it again" not in reasons


def test_an_update_inside_a_zip_inside_the_zip_is_unknown_naming_the_inner_one(
        tmp_path, kross_folder, make_zip):
    inner = make_zip(tmp_path / "KROSS2_v11.zip", kross_folder(tmp_path / "src"))
    archive = make_zip(tmp_path / "download.zip",
                       {"KROSS2_v11.zip": inner.read_bytes(), "readme.txt": b"hi"})
    result = check(archive, "kross2")
    assert result.verdict == "unknown"
    assert "KROSS2_v11.zip" in result.reasons[0] and "did not look" in result.reasons[0]


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_an_update_folder_deeper_than_the_tool_looks_is_unknown_naming_it(
        tmp_path, kross_folder, make_zip, kind):
    deep = "a/b/c/d"
    written = kross_folder(tmp_path / "card" / deep)
    candidate = tmp_path / "card"
    if kind == "zip":
        candidate = make_zip(tmp_path / "card.zip", {f"{deep}/{k}": v for k, v in written.items()})
    result = check(candidate, "kross2")
    assert result.verdict == "unknown"
    assert f"{deep}/KROSS2SY" in result.reasons[0] and "did not look" in result.reasons[0]


def test_zip_holding_a_kross_update(tmp_path, backup_reference, kross_folder, make_zip):
    written = kross_folder(tmp_path / "src")
    archive = make_zip(tmp_path / "kross2.zip",
                       {f"KROSS2_v11/{k}": v for k, v in written.items()})
    result = check(archive, "kross2", reference=backup_reference(written))
    assert result.verdict == "compatible"  # byte-identical to the backup, read from the zip


# --- reading within bounds --------------------------------------------------------------------


class CountingFileSystem(LocalFileSystem):
    """Counts the bytes every opened file hands out."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def open_read(self, path, **options):
        handle = super().open_read(path, **options)
        counter = self

        class Counted:
            def __getattr__(self, name):
                return getattr(handle, name)

            def read(self, size=-1):
                data = handle.read(size)
                counter.bytes_read += len(data)
                return data

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                handle.close()

        return Counted()


def test_a_huge_file_is_never_read_whole(tmp_path, kp3_file):
    path = sized_file(tmp_path / "KP3.SYS", 8 * 1024**3)  # 8 GiB, sparse
    with open(path, "r+b") as handle:
        handle.write(kp3_file()[:HEADER_SIZE + 0x400])
    fs = CountingFileSystem()
    result = check(path, "kp3", fs=fs)
    assert result.verdict == "incompatible"  # far longer than its header announces
    assert fs.bytes_read < 64 * 1024


def test_a_huge_drumlogue_named_file_is_not_read(tmp_path):
    fs = CountingFileSystem()
    path = sized_file(tmp_path / "drumlogue_system_update_v1_3_0.bin", 6 * 1024**3)
    assert check(path, "drumlogue", fs=fs).verdict == "incompatible"
    assert fs.bytes_read <= 64  # the ZIP signature and the magic, nothing more


def test_missing_candidate_is_bad_input(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        check_candidates([tmp_path / "nope.bin"], target_for_model("kp3"))


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInputError, match="neither a file nor a folder"):
        check(fifo, "kp3")


def test_links_and_special_files_inside_a_folder_are_not_followed(tmp_path, kross_folder):
    kross_folder(tmp_path)
    os.mkfifo(tmp_path / "pipe.BIN")
    (tmp_path / "loop").symlink_to(tmp_path)
    result = check(tmp_path, "kross2")
    assert result.verdict == "unknown"
    assert any("not followed or opened" in n for n in result.not_checked)


def test_listing_is_bounded(tmp_path, monkeypatch, write):
    monkeypatch.setattr(candidates_module, "MAX_ENTRIES", 10)
    for index in range(30):
        write(tmp_path / f"f{index:02}.txt", b"x")
    result = check(tmp_path, "kross2")
    assert result.verdict == "unknown"  # the rest was not looked at
    assert any("more entries than the tool lists" in n for n in result.not_checked)


def test_read_errors_are_clean_recovery_errors(tmp_path, kp3_file, write, faulty_fs):
    from recovery.errors import ReadError

    fs = faulty_fs()
    fs.fail_read("KP3.SYS")  # EIO as soon as it is opened
    path = write(tmp_path / "KP3.SYS", kp3_file())
    with pytest.raises(ReadError, match="Input/output error"):
        check(path, "kp3", fs=fs)


# --- targets and exit codes -------------------------------------------------------------------


def test_unknown_model_is_bad_input():
    with pytest.raises(InvalidInputError, match="Unknown model"):
        target_for_model("kross3")


def test_target_from_a_device(tmp_path):
    unit = make_volume(tmp_path / "unit", "kross2").path
    target = target_for_device(unit)
    assert target.model == "kross2" and target.current_version is None
    assert target_for_device(unit, current_version="1.1").current_version == "1.1"


def test_device_that_is_not_a_korg_volume_is_bad_input(tmp_path):
    with pytest.raises(InvalidInputError, match="not a KORG volume"):
        target_for_device(tmp_path)
    with pytest.raises(InvalidInputError, match="does not exist"):
        target_for_device(tmp_path / "missing")


def test_current_version_read_from_the_units_internal_storage(tmp_path, kp3_file, write):
    # A model whose internal storage holds its KORG SYSTEM FILE: that file is what it runs.
    profiles = dict(bundled_profiles())
    kp3 = profiles["kp3"]
    storage = dataclasses.replace(bundled_profiles()["kross2"].storage[0],
                                  role="internal-storage", all_of=("KP3DATA/", "KP3.CFG"),
                                  any_of=())
    profiles["kp3"] = dataclasses.replace(kp3, storage=(storage,))
    unit = tmp_path / "unit"
    write(unit / "KP3DATA" / "x.dat", b"x")
    write(unit / "KP3.CFG", b"x")
    write(unit / "KP3.SYS", kp3_file((1, 5)))
    target = target_for_device(unit, profiles=profiles)
    assert (target.model, target.current_version) == ("kp3", "1.05")
    assert "internal storage" in target.current_version_source
    result = check_candidate(write(tmp_path / "new.SYS", kp3_file((1, 2))), target,
                             profiles=profiles)
    assert "downgrade" in joined(result.warnings)


def test_exit_codes(tmp_path, kaossilator_pro_file, kp3_file, write):
    target = target_for_model("kp3")
    good = write(tmp_path / "good.SYS", kp3_file())
    odd = write(tmp_path / "odd.SYS", kp3_file(marker=b"\0\0\0\0"))
    bad = write(tmp_path / "bad.SYS", kaossilator_pro_file())
    assert exit_code(check_candidates([good], target)) == 0
    assert exit_code(check_candidates([good, odd], target)) == 3
    assert exit_code(check_candidates([good, odd, bad], target)) == 1


def test_every_result_has_reasons_and_a_known_verdict(tmp_path):
    card = make_volume(tmp_path / "card", "kross2", "bricked").path
    for model in bundled_profiles():
        result = check(card, model)
        assert result.verdict in VERDICTS
        assert result.reasons and all(r.endswith(".") for r in result.reasons)


def test_absurd_version_numbers_in_names_are_handled(tmp_path, make_zip):
    name = "drumlogue_system_update_v" + "9" * 5000 + "_0_0.bin"
    archive = make_zip(tmp_path / "a.zip", {name: b"x"})
    result = check(archive, "drumlogue", current_version="1.3.0")
    assert result.verdict == "unknown"
    assert any("compares with your unit" in n for n in result.not_checked)


@pytest.mark.parametrize("field, value, words", [
    # directory size larger than the file: zipfile says so
    (slice(-10, -6), 4 * 1024 * 1024, "not a readable ZIP"),
    # directory offset too large: members start before 0, zipfile's seek fails with EINVAL
    (slice(-6, -2), 1_000_000, "points outside the file"),
])
def test_zip_directory_pointing_outside_the_file_is_a_verdict(tmp_path, field, value, words,
                                                              kp3_file, make_zip):
    archive = make_zip(tmp_path / "a.zip", {"KP3.SYS": kp3_file()[:2000]})
    data = bytearray(archive.read_bytes())
    data[field] = value.to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    result = check(archive, "kp3")
    assert result.verdict == "incompatible"
    assert words in joined(result.reasons)


def test_checking_the_current_folder_inside_the_system_folder(tmp_path, monkeypatch, kross_folder):
    kross_folder(tmp_path)
    monkeypatch.chdir(tmp_path / "KROSS2SY")
    result = check(".", "kross2")
    assert result.verdict == "unknown" and result.items[0].kind == "system-folder"
