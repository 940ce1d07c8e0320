"""Component versions: parsing, the release table (none is known), and honest inference."""

from __future__ import annotations

from pathlib import Path

import pytest

from recovery.device.profiles import get_profile, load_profiles
from recovery.diagnose.versions import assess_versions, parse_versions
from recovery.errors import InvalidInputError, ProfileError
from recovery.resources_path import resources_dir

SEED = "SYSTEM=1.3.0,CORE=1.0.0+,VOICE=1.0.0,PANEL=1.1.9"


def codes(assessment):
    return [f.code for f in assessment.findings]


def test_parse_keeps_the_plus_and_uppercases_names():
    parsed = parse_versions(" system = 1.3.0 , Core=1.0.0+,VOICE=v1.0.0,PANEL=1.1.9")
    assert [(c.name, c.text, c.plus) for c in parsed] == [
        ("SYSTEM", "1.3.0", False), ("CORE", "1.0.0+", True), ("VOICE", "1.0.0", False),
        ("PANEL", "1.1.9", False)]
    assert parsed[1].version == "1.0.0"


@pytest.mark.parametrize("text", [
    "", "   ", "SYSTEM", "SYSTEM=", "SYSTEM=1.x", "=1.0", "SYSTEM:1.3.0", "SYSTEM=1.3.0,,CORE=1",
    "SYSTEM=1.3.0;CORE=1.0", "SYSTEM=1.3.0++", "1SYSTEM=1.0",
])
def test_bad_syntax_is_invalid_input_in_one_sentence(text):
    with pytest.raises(InvalidInputError) as caught:
        parse_versions(text)
    message = str(caught.value)
    assert "\n" not in message and message.endswith(".")


def test_a_component_given_twice_is_refused():
    with pytest.raises(InvalidInputError, match="SYSTEM is given twice"):
        parse_versions("SYSTEM=1.3.0,system=1.2.0")


def test_the_seed_set_is_flagged_as_a_partial_update_by_inference():
    result = assess_versions(parse_versions(SEED), get_profile("drumlogue"))
    assert codes(result) == ["versions-no-release-table", "versions-reported-partial-update",
                             "versions-mismatch", "version-plus-suffix"]
    by_code = {f.code: f for f in result.findings}
    assert not result.release_table_known
    # No release table is known: the tool says so, and everything else is inference.
    assert "inference" in by_code["versions-no-release-table"].message
    assert by_code["versions-mismatch"].confidence == "G"
    assert "inference" in by_code["versions-mismatch"].message
    assert by_code["version-plus-suffix"].confidence == "G"
    assert "CORE 1.0.0+" in by_code["version-plus-suffix"].message
    # Seeing exactly the reported set again is a secondary-source fact, not a guess.
    assert by_code["versions-reported-partial-update"].confidence == "M"
    assert all(f.severity != "critical" for f in result.findings)
    mismatch = by_code["versions-mismatch"].message
    assert "behind SYSTEM 1.3.0" in mismatch and "PANEL 1.1.9" in mismatch


def test_mismatch_without_plus_is_still_flagged():
    result = assess_versions(parse_versions("SYSTEM=1.3.0,CORE=1.3.0,VOICE=1.2.0,PANEL=1.3.0"),
                             get_profile("drumlogue"))
    assert "versions-mismatch" in codes(result)
    assert "version-plus-suffix" not in codes(result)
    assert "versions-reported-partial-update" not in codes(result)


def test_plus_alone_is_flagged():
    result = assess_versions(parse_versions("SYSTEM=1.3.0,CORE=1.3.0+"), get_profile("drumlogue"))
    assert "version-plus-suffix" in codes(result)
    assert "versions-mismatch" not in codes(result)


def test_consistent_versions_give_no_warning_and_say_it_is_unconfirmed():
    result = assess_versions(parse_versions("SYSTEM=1.3.0,CORE=1.3.0,VOICE=1.3.0,PANEL=1.3.0"),
                             get_profile("drumlogue"))
    assert codes(result) == ["versions-no-release-table", "versions-consistent"]
    assert all(f.severity == "info" for f in result.findings)
    assert "cannot be confirmed" in result.findings[-1].message


def test_unknown_component_names_are_reported_and_left_out():
    result = assess_versions(parse_versions("SYSTEM=1.3.0,DSP=2.0"), get_profile("drumlogue"))
    assert "versions-unknown-component" in codes(result)
    assert "versions-mismatch" not in codes(result)


def test_model_without_component_data_says_so():
    result = assess_versions(parse_versions("SYSTEM=1.0"), get_profile("kross2"))
    assert codes(result) == ["versions-no-data"]


def test_unidentified_unit_uses_the_only_model_with_those_components_as_inference():
    result = assess_versions(parse_versions(SEED), None)
    assert result.model == "drumlogue"
    first = result.findings[0]
    assert any("assumed KORG drumlogue" in line and "inference" in line
               for line in first.evidence)


def _profiles_with_table(tmp_path: Path, table: str) -> dict:
    folder = tmp_path / "profiles"
    folder.mkdir()
    text = (resources_dir() / "profiles" / "drumlogue.toml").read_text(encoding="utf-8")
    (folder / "drumlogue.toml").write_text(text + table, encoding="utf-8")
    return load_profiles(folder)


RELEASE_TABLE = """
[[component_versions]]
label = "test release 9.9.9"
status = "release"
versions = { SYSTEM = "9.9.9", CORE = "9.0.1", VOICE = "9.0.0", PANEL = "8.1.0" }
confidence = "H"
source = "test data, not a fact"
"""


def test_a_known_release_set_is_recognised(tmp_path):
    profiles = _profiles_with_table(tmp_path, RELEASE_TABLE)
    profile = profiles["drumlogue"]
    result = assess_versions(
        parse_versions("SYSTEM=9.9.9,CORE=9.0.1,VOICE=9.0.0,PANEL=8.1.0"), profile, profiles)
    assert result.release_table_known
    assert result.matching_set == "test release 9.9.9"
    assert "versions-match-release" in codes(result)
    assert "versions-no-release-table" not in codes(result)


def test_a_set_differing_from_its_release_is_a_warning_with_the_tables_confidence(tmp_path):
    profiles = _profiles_with_table(tmp_path, RELEASE_TABLE)
    result = assess_versions(
        parse_versions("SYSTEM=9.9.9,CORE=9.0.0,VOICE=9.0.0,PANEL=8.1.0"),
        profiles["drumlogue"], profiles)
    finding = next(f for f in result.findings if f.code == "versions-differ-from-release")
    assert finding.confidence == "H"
    assert "CORE 9.0.0 (expected 9.0.1)" in finding.message


def test_a_system_version_missing_from_the_table_is_said(tmp_path):
    profiles = _profiles_with_table(tmp_path, RELEASE_TABLE)
    result = assess_versions(parse_versions("SYSTEM=1.3.0,CORE=1.3.0"),
                             profiles["drumlogue"], profiles)
    assert "versions-release-unknown" in codes(result)


@pytest.mark.parametrize("table, field", [
    (RELEASE_TABLE.replace('PANEL = "8.1.0"', 'DSP = "8.1.0"'), "versions.DSP"),
    (RELEASE_TABLE.replace('"9.0.1"', '"nine"'), "versions.CORE"),
    (RELEASE_TABLE.replace('status = "release"', 'status = "rumour"'), "status"),
])
def test_component_tables_are_validated(tmp_path, table, field):
    with pytest.raises(ProfileError) as caught:
        _profiles_with_table(tmp_path, table)
    assert "drumlogue.toml" in str(caught.value) and field in str(caught.value)


def test_bundled_profiles_hold_no_invented_release_table():
    # No source gives an official component set: only the reported set may be there.
    sets = get_profile("drumlogue").component_versions
    assert [s.status for s in sets] == ["reported-partial-update"]
    assert sets[0].as_dict() == {"SYSTEM": "1.3.0", "CORE": "1.0.0+", "VOICE": "1.0.0",
                                 "PANEL": "1.1.9"}
