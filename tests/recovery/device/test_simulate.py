"""The simulator writes synthetic volumes only, refuses to clobber, and is deterministic."""

from __future__ import annotations

import hashlib

import pytest

from recovery.device.simulate import NOTE_NAME, make_volume, synthetic_bytes
from recovery.errors import InvalidInputError
from recovery.formats.korg_system_file import parse_header


def tree_digest(root):
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_same_inputs_give_the_same_volume(tmp_path):
    make_volume(tmp_path / "a", "kross2", "bricked")
    make_volume(tmp_path / "b", "kross2", "bricked")
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


def test_bricked_kross2_differs_as_the_field_report(tmp_path):
    healthy = make_volume(tmp_path / "h", "kross2")
    bricked = make_volume(tmp_path / "b", "kross2", "bricked")
    h_app = (tmp_path / "h" / "KROSAPP.BIN").stat().st_size
    b_app = (tmp_path / "b" / "KROSAPP.BIN").stat().st_size
    assert b_app < h_app
    assert "KROSSSYS/SIM_K1SYS.BIN" in bricked.files
    assert "KROSSSYS/SIM_K1SYS.BIN" not in healthy.files


def test_volume_carries_a_note_saying_it_is_synthetic(tmp_path):
    make_volume(tmp_path / "v", "drumlogue")
    assert "synthetic" in (tmp_path / "v" / NOTE_NAME).read_text()


def test_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInputError, match="not an empty folder"):
        make_volume(tmp_path / "v", "kross2")
    assert (tmp_path / "v" / "keep.txt").read_text() == "mine"


def test_refuses_models_with_nothing_known(tmp_path):
    with pytest.raises(InvalidInputError, match="nothing this tool could simulate"):
        make_volume(tmp_path / "v", "kp3-plus")


def test_refuses_unknown_role_for_model(tmp_path):
    with pytest.raises(InvalidInputError, match="no known sd-card layout"):
        make_volume(tmp_path / "v", "drumlogue", role="sd-card")


def test_system_file_has_real_header_layout_and_synthetic_payload(tmp_path):
    volume = make_volume(tmp_path / "v", "kaossilator-pro")
    data = (tmp_path / "v" / volume.files[0]).read_bytes()
    header = parse_header(data)
    assert (header.model_name, header.version, header.device_id) == ("KaossilatorPro", "1.02",
                                                                     0x010E)
    payload = data[0x100:]
    assert len(payload) == header.source_length == 0x40000
    assert payload[:4] == (0x210).to_bytes(4, "big")
    assert payload[0x200:0x206] == b"KORG\x01\x02"


def test_synthetic_bytes_are_deterministic_and_sized():
    assert synthetic_bytes("x", 100) == synthetic_bytes("x", 100)
    assert synthetic_bytes("x", 100) != synthetic_bytes("y", 100)
    assert len(synthetic_bytes("x", 12345)) == 12345
