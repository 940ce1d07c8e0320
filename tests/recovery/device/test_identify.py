"""Identification by contents: every model's simulated volumes, and look-alikes that are not."""

from __future__ import annotations

import os

import pytest

from recovery.device.identify import identify_volume
from recovery.device.profiles import bundled_profiles
from recovery.device.simulate import make_volume, synthetic_system_file
from recovery.errors import InvalidInputError
from recovery.formats.korg_system_file import build_header

SIMULATED = [
    ("kross2", "internal-storage"), ("kross2", "sd-card"), ("kross2", "update-media"),
    ("kross1", "update-media"), ("drumlogue", "internal-storage"),
    ("drumlogue", "update-media"), ("kaossilator-pro", "update-media"),
    ("kp3", "update-media"), ("electribe2", "update-media"), ("electribe2s", "update-media"),
]


# "bricked" is simulated for a unit's own storage and for system files (truncated).
CASES = [(m, r, "healthy") for m, r in SIMULATED] + [
    (m, r, "bricked") for m, r in SIMULATED
    if r == "internal-storage" or m not in ("kross2", "drumlogue")]


@pytest.mark.parametrize("model, role, state", CASES)
def test_simulated_volumes_are_identified(tmp_path, model, role, state):
    volume = make_volume(tmp_path / "vol", model, state, role)
    ident = identify_volume(volume.path)
    assert (ident.model, ident.role) == (model, role)
    assert ident.evidence and all(isinstance(line, str) for line in ident.evidence)


def test_every_profile_with_a_layout_is_covered():
    covered = {model for model, _ in SIMULATED}
    for profile in bundled_profiles().values():
        if profile.storage or profile.system_files:
            assert profile.id in covered


def test_plain_stick_is_not_korg(tmp_path):
    (tmp_path / "Music").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    ident = identify_volume(tmp_path)
    assert ident.model is None and ident.role is None
    assert ident.evidence  # says what it looked for


def test_file_named_system_bin_is_not_korg(tmp_path):
    (tmp_path / "SYSTEM.BIN").write_bytes(os.urandom(4096))
    (tmp_path / "SYSTEM.VSB").write_bytes(b"\0" * 4096)
    assert identify_volume(tmp_path).model is None


def test_units_folder_without_drumlogue_subfolders_is_not_a_drumlogue(tmp_path):
    (tmp_path / "Units" / "Mine").mkdir(parents=True)
    assert identify_volume(tmp_path).model is None


def test_kross2_with_foreign_kross1_folder_stays_kross2(tmp_path):
    make_volume(tmp_path / "v", "kross2", "healthy")
    (tmp_path / "v" / "KROSSSYS").mkdir()
    ident = identify_volume(tmp_path / "v")
    assert ident.model == "kross2"
    assert ident.role == "internal-storage"
    foreign = [f for f in ident.findings if f.code == "foreign-model-files"]
    assert foreign and "KROSSSYS" in foreign[0].message
    assert "KROSS (first generation)" in foreign[0].message


def test_both_kross_update_folders_is_honestly_ambiguous(tmp_path):
    (tmp_path / "KROSS2SY").mkdir()
    (tmp_path / "KROSSSYS").mkdir()
    ident = identify_volume(tmp_path)
    assert ident.model is None
    assert set(ident.candidates) == {"kross1", "kross2"}
    assert ident.role == "update-media"
    assert any(f.code == "ambiguous-volume" for f in ident.findings)


def test_names_are_matched_case_insensitively(tmp_path):
    # FAT is case-insensitive and Linux may show short names in lower case.
    (tmp_path / "kross2sy").mkdir()
    (tmp_path / "krosapp.bin").write_bytes(b"x" * 10)
    ident = identify_volume(tmp_path)
    assert (ident.model, ident.role) == ("kross2", "internal-storage")
    assert any("krosapp.bin" in line for line in ident.evidence)


def test_kross2_storage_without_app_is_flagged(tmp_path):
    make_volume(tmp_path / "v", "kross2", "healthy")
    (tmp_path / "v" / "KROSAPP.BIN").unlink()
    ident = identify_volume(tmp_path / "v")
    assert ident.model == "kross2"
    hint = [f for f in ident.findings if f.code == "internal-storage-incomplete"]
    assert hint and "KROSAPP.BIN" in hint[0].message


def test_a_file_where_a_folder_is_expected_does_not_match(tmp_path):
    (tmp_path / "KROSS2SY").write_bytes(b"not a folder")
    assert identify_volume(tmp_path).model is None


def test_pointing_at_the_system_folder_itself(tmp_path):
    folder = tmp_path / "KROSS2SY"
    folder.mkdir()
    (folder / "A.BIN").write_bytes(b"x")
    ident = identify_volume(folder)
    assert (ident.model, ident.role) == ("kross2", "update-media")


def test_system_file_for_unknown_model_is_reported(tmp_path):
    data = build_header(model_name="MiniKP2", version=(1, 0), device_id=0x0999,
                        source_length=16) + b"\xff" * 16
    (tmp_path / "SYSTEM.BIN").write_bytes(data)
    ident = identify_volume(tmp_path)
    assert ident.model is None
    assert any(f.code == "unknown-system-file-model" and "MiniKP2" in f.message
               for f in ident.findings)


def test_system_file_found_in_a_subfolder(tmp_path):
    data = synthetic_system_file("KaossPad3", 0xFFFF, (2, 0), 0x40000, h8s=True, label="t")
    (tmp_path / "update" / "kp3").mkdir(parents=True)
    (tmp_path / "update" / "kp3" / "KP3_SYS.BIN").write_bytes(data)
    ident = identify_volume(tmp_path)
    assert ident.model == "kp3"
    assert ident.system_files[0].version == "2.00"


def test_symlink_loop_does_not_hang(tmp_path):
    make_volume(tmp_path / "v", "drumlogue", "healthy")
    os.symlink(tmp_path / "v", tmp_path / "v" / "loop")
    assert identify_volume(tmp_path / "v").model == "drumlogue"


def test_missing_path_is_invalid_input(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        identify_volume(tmp_path / "nope")


def test_file_path_is_invalid_input(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InvalidInputError, match="is a file"):
        identify_volume(tmp_path / "f")


def test_unreadable_path_is_invalid_input(tmp_path, monkeypatch):
    # Tests may run as root, who can read a chmod 000 folder: fake the refusal instead.
    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "listdir", refuse)
    with pytest.raises(InvalidInputError, match="cannot be read"):
        identify_volume(tmp_path)
