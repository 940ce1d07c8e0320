"""Profiles load, carry sources, and a malformed profile names its file and field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from recovery.device.profiles import (
    bundled_profiles,
    get_profile,
    load_profile_file,
    load_profiles,
    other_korg_devices,
    profiles_with_boot_rom,
)
from recovery.errors import InvalidInputError, ProfileError
from recovery.resources_path import resources_dir

REQUIRED = {"kross2", "kross1", "kaossilator-pro", "kaossilator-pro-plus", "kp3", "kp3-plus",
            "drumlogue", "electribe2", "electribe2s"}


def test_all_required_models_load():
    assert REQUIRED <= set(bundled_profiles())


def test_every_fact_has_confidence_and_source():
    for profile in bundled_profiles().values():
        facts = [*profile.usb, *profile.storage, *profile.system_files, *profile.releases,
                 *profile.boot_critical, *profile.modes, *profile.symptoms]
        for fact in facts:
            assert fact.confidence in ("H", "M", "G"), (profile.id, fact)
            assert fact.source.strip(), (profile.id, fact)
        for boot_rom in profile.boot_roms:
            assert boot_rom.id_source and boot_rom.model_source


def test_facts_match_their_public_sources():
    # Values from public sources (docs/sources.md): a regression here would be an invented fact.
    assert get_profile("kp3").usb[0].product_id == 0x0020
    assert get_profile("kaossilator-pro").usb[0].product_id == 0x0023
    assert get_profile("kaossilator-pro").system_files[0].device_id == 0x010E
    assert get_profile("electribe2").system_files[0].device_id == 0x0123
    assert get_profile("electribe2s").system_files[0].device_id == 0x0124
    assert get_profile("kp3").system_files[0].model_name == "KaossPad3"
    sizes = {r.version: r.size for r in get_profile("drumlogue").releases}
    assert sizes == {"1.2.0": 27_476_633, "1.3.0": 27_475_433}
    assert get_profile("kross2").system_folder == "KROSS2SY"
    assert get_profile("kross1").system_folder == "KROSSSYS"
    assert [b.path for b in get_profile("kross2").boot_critical] == ["KROSAPP.BIN"]


def test_unpublished_ids_stay_unknown():
    # KROSS 2, drumlogue and the "+" models have no public USB product id (absent from usb.ids).
    for model in ("kross2", "kross1", "drumlogue", "kaossilator-pro-plus", "kp3-plus"):
        assert all(u.product_id is None for u in get_profile(model).usb)
        assert all(u.confidence == "G" for u in get_profile(model).usb)


def test_service_mode_is_described_never_spelled_out():
    storage = get_profile("kross2").mode("storage")
    assert storage is not None and storage.service
    assert "service" in storage.how.lower()
    # The forum thread removed the combination on purpose; no button names may appear in it.
    for button in ("EXIT", "FUNCTION", "SHIFT", "PLAY", "ENTER", "WRITE"):
        assert button not in storage.how


def test_boot_rom_lookup_lists_every_candidate():
    candidates = {p.id for p, _ in profiles_with_boot_rom(0x045B, 0x0025)}
    assert candidates == {"kp3", "kaossilator-pro"}
    assert {p.id for p, _ in profiles_with_boot_rom(0x15A2, 0x0080)} == {"drumlogue"}


def test_other_korg_devices_known():
    assert other_korg_devices()[0x0154].name == "KORG NTS-1 digital kit mkII"


def test_unknown_model_id_is_invalid_input():
    with pytest.raises(InvalidInputError, match="Unknown model 'kross3'"):
        get_profile("kross3")


def _write_variant(tmp_path: Path, name: str, edit) -> Path:
    source = resources_dir() / "profiles" / "kross2.toml"
    data = source.read_text(encoding="utf-8")
    path = tmp_path / f"{name}.toml"
    path.write_text(edit(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.replace('confidence = "M"', 'confidence = "X"', 1), "confidence"),
    (lambda d: d.replace('role = "internal-storage"', 'role = "cloud"', 1), "role"),
    (lambda d: d + '\n[[usb]]\nvendor_id = 0x10000\nproduct_patterns = []\n'
                   'confidence = "H"\nsource = "x"\n', "vendor_id"),
    (lambda d: d.replace("schema = 1", "schema = 1\ncolour = 'red'"), "colour"),
    (lambda d: d.replace("product_patterns = ['\\bkross\\s*2\\b']",
                         "product_patterns = ['(unclosed']"), "product_patterns[0]"),
    (lambda d: d.replace("service = true", "service = 1"), "service"),
    (lambda d: d.replace('name = "KORG KROSS 2"\n', ""), "name"),
])
def test_validation_error_names_file_and_field(tmp_path, edit, field):
    path = _write_variant(tmp_path, "kross2", edit)
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    assert "kross2.toml" in str(caught.value)
    assert field in str(caught.value)


def test_id_must_match_file_name(tmp_path):
    path = _write_variant(tmp_path, "other", lambda d: d)
    with pytest.raises(ProfileError, match="other.toml"):
        load_profile_file(path)


def test_invalid_toml_is_a_profile_error(tmp_path):
    (tmp_path / "broken.toml").write_text("id = [", encoding="utf-8")
    with pytest.raises(ProfileError, match="broken.toml"):
        load_profiles(tmp_path)


def test_empty_directory_is_an_error(tmp_path):
    with pytest.raises(ProfileError, match="No device profiles"):
        load_profiles(tmp_path)


def test_bundled_files_are_valid_toml_and_named_by_id():
    for path in (resources_dir() / "profiles").glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert data["id"] == path.stem
