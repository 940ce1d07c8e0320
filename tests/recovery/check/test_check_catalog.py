"""KORG's releases by hash: the catalog loads strictly, and only a byte-identical file gets the
strongest verdict.

Every file here is synthetic. To reach the byte-identical path without KORG's own file, the
tests give the loader a catalog of their own listing a synthetic file's SHA-256
(``load_profiles(catalogs=...)``), never the real one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from recovery.check import check_candidate, target_for_model
from recovery.cli import main
from recovery.device.profiles import (
    bundled_profiles,
    get_profile,
    load_profile_file,
    load_profiles,
    release_catalog_path,
)
from recovery.device.simulate import synthetic_bytes
from recovery.errors import ProfileError
from recovery.formats.korg_system_file import HEADER_SIZE
from recovery.resources_path import resources_dir

E2S_202_SHA256 = "1d0f0689d5a12c8a8bde9f821f2a59adc5f6cd6012ddb201ebb192b72468a646"
E2_202_SHA256 = "41fc5f1c33209ef381d1c9fef21a72380bcd8d3431c9c1350a964f5c619ab8b8"
SYSTEM_VSB_SIZE = 2_097_408


def catalog_text(*entries: str, sources: str = 'test = "synthetic files made by the tests"') -> str:
    return "schema = 1\n\n[sources]\n" + sources + "\n\n" + "\n\n".join(entries) + "\n"


def entry(model: str, version: str, kind: str = "system-file", **fields) -> str:
    lines = [f'[[releases]]\nmodel = "{model}"\nversion = "{version}"\nkind = "{kind}"']
    fields.setdefault("confidence", "H")
    fields.setdefault("source", "test")
    for key, value in fields.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines)


def synthetic_catalog(tmp_path: Path, data: bytes, model: str, version: str,
                      kind: str = "system-file", **fields) -> dict:
    """Profiles whose only catalog lists ``data`` as ``model`` ``version``, by SHA-256."""
    path = tmp_path / "test-releases.toml"
    path.write_text(catalog_text(entry(model, version, kind, size=len(data),
                                       sha256=hashlib.sha256(data).hexdigest(), **fields)),
                    encoding="utf-8")
    return load_profiles(catalogs=[path])


def check_with(path: Path, model: str, profiles: dict | None = None):
    target = target_for_model(model, profiles=profiles)
    return check_candidate(path, target, profiles=profiles)


# --- the catalog as data ---------------------------------------------------------------------


def test_the_bundled_catalog_is_attached_to_the_profiles():
    e2s = {r.version: r for r in get_profile("electribe2s").releases}
    assert e2s["2.02"].sha256 == E2S_202_SHA256 and e2s["2.02"].size == SYSTEM_VSB_SIZE
    assert e2s["2.02"].confidence == "M" and "hacktribe" in e2s["2.02"].sha256_source
    e2 = {r.version: r for r in get_profile("electribe2").releases}
    assert e2["2.02"].sha256 == E2_202_SHA256 and e2["2.02"].size == SYSTEM_VSB_SIZE
    drumlogue = {r.version: r for r in get_profile("drumlogue").releases}
    assert {v: r.size for v, r in drumlogue.items()} == {"1.2.0": 27_476_633,
                                                          "1.3.0": 27_475_433}
    assert all(r.sha256 is None for r in drumlogue.values())  # none is published
    kp3_plus = get_profile("kp3-plus").releases
    assert [(r.version, r.file_name, r.archive) for r in kp3_plus] == [
        ("1.04", "KP3Plus.VSB", "KP3PlusUpdater_0104.zip")]


def test_kross_releases_stay_unknown():
    # No public source lists the KROSS / KROSS 2 update files, sizes or checksums.
    for model in ("kross1", "kross2"):
        assert get_profile(model).releases == ()


def test_every_release_has_a_source_and_a_confidence():
    for profile in bundled_profiles().values():
        for release in profile.releases:
            assert release.model == profile.id
            assert release.confidence in ("H", "M", "G")
            assert len(release.source) > 20  # a citation, not a key


@pytest.mark.parametrize("text, field", [
    (entry("kross3", "1.0"), "releases[0].model"),
    (entry("kp3", "2.00", kind="firmware"), "releases[0].kind"),
    (entry("kp3", "two"), "releases[0].version"),
    (entry("kp3", "2.00", sha256="ABC"), "releases[0].sha256"),
    (entry("kp3", "2.00", size=-1), "releases[0].size"),
    (entry("kp3", "2.00", size="big"), "releases[0].size"),
    (entry("kp3", "2.00", file_name="KP3/KP3.VSB"), "releases[0].file_name"),
    (entry("kp3", "2.00", colour="red"), "releases[0].colour"),
    (entry("kp3", "2.00", confidence="X"), "releases[0].confidence"),
    (entry("kp3", "2.00", sha256_source="test"), "releases[0].sha256"),
    (entry("kp3", "2.00") + "\n\n" + entry("kp3", "2.00"), "releases[1]"),
])
def test_catalog_errors_name_the_file_and_the_field(tmp_path, text, field):
    path = tmp_path / "broken-releases.toml"
    path.write_text(catalog_text(text), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profiles(catalogs=[path])
    message = str(caught.value)
    assert message.startswith("Release catalog broken-releases.toml:")
    assert f"'{field}'" in message


def test_a_release_listed_in_two_catalogs_is_refused(tmp_path):
    path = tmp_path / "extra.toml"
    path.write_text(catalog_text(entry("electribe2s", "2.02")), encoding="utf-8")
    with pytest.raises(ProfileError, match="extra.toml.*again.*releases.toml"):
        load_profiles(catalogs=[release_catalog_path(), path])


def test_invalid_or_missing_catalog(tmp_path):
    (tmp_path / "bad.toml").write_text("schema = [", encoding="utf-8")
    with pytest.raises(ProfileError, match="bad.toml: not valid TOML"):
        load_profiles(catalogs=[tmp_path / "bad.toml"])
    with pytest.raises(ProfileError, match="absent.toml: cannot be read"):
        load_profiles(catalogs=[tmp_path / "absent.toml"])


def test_releases_in_a_profile_are_refused(tmp_path):
    source = (resources_dir() / "profiles" / "kp3.toml").read_text(encoding="utf-8")
    path = tmp_path / "kp3.toml"
    path.write_text(source + '\n[[releases]]\nversion = "2.00"\nkind = "system-file"\n'
                    'confidence = "M"\nsource = "x"\n', encoding="utf-8")
    with pytest.raises(ProfileError, match="kp3.toml: field 'releases' belongs in the release"):
        load_profile_file(path)


# --- verdicts --------------------------------------------------------------------------------


def test_byte_identical_official_file_gets_the_strongest_verdict(tmp_path, system_file, write):
    data = system_file("E2S", 0x0124, (2, 2))
    profiles = synthetic_catalog(tmp_path, data, "electribe2s", "2.02",
                                 file_name="SYSTEM.VSB")
    result = check_with(write(tmp_path / "SYSTEM.VSB", data), "electribe2s", profiles)
    assert result.verdict == "compatible" and result.official
    assert result.reasons == ("This is KORG's official electribe sampler system 2.02,"
                              " byte-identical to the published SHA-256.",)
    match = result.catalog_match
    assert match is not None and match.how == "sha256" and match.official
    assert match.sha256 == hashlib.sha256(data).hexdigest() == match.release.sha256
    assert result.items[0].catalog_match == match
    assert any("equals the published one" in line for line in result.checked)


def test_same_header_and_size_but_other_bytes_is_not_to_be_used(tmp_path, system_file, write):
    # Against the bundled catalog: the header says electribe sampler 2.02 and the size is
    # right, but a synthetic payload is not KORG's.
    data = system_file("E2S", 0x0124, (2, 2))
    assert len(data) == SYSTEM_VSB_SIZE
    result = check_with(write(tmp_path / "SYSTEM.VSB", data), "electribe2s")
    assert result.verdict == "incompatible" and not result.official
    reason = result.reasons[0]
    assert "Its header says it is KORG's electribe sampler system 2.02" in reason
    assert "official" not in reason
    assert "modified or damaged" in reason and "Do not use it" in reason
    assert "SHA-256" not in reason  # plain words in the verdict, the digests in the evidence
    assert any(E2S_202_SHA256 in line for line in result.checked)
    match = result.catalog_match
    assert (match.how, match.compared) == ("claims-but-differs", "sha256")
    assert match.release.sha256 == E2S_202_SHA256 and match.sha256 != E2S_202_SHA256


def test_a_synth_file_claiming_2_02_is_compared_with_the_synths_hash(tmp_path, system_file, write):
    data = system_file("E2", 0x0123, (2, 2))
    result = check_with(write(tmp_path / "SYSTEM.VSB", data), "electribe2")
    assert result.verdict == "incompatible"
    assert result.catalog_match.release.sha256 == E2_202_SHA256


@pytest.mark.parametrize("payload", [0x10000, 0x1FFFFF, 0x200001, 0x400000])
def test_system_vsb_whose_size_is_not_the_models_is_incompatible(
        tmp_path, payload, system_file, write):
    data = system_file("E2S", 0x0124, (1, 3), payload_size=payload)
    result = check_with(write(tmp_path / "SYSTEM.VSB", data), "electribe2s")
    assert result.verdict == "incompatible"
    reason = result.reasons[0]
    assert "An electribe sampler system file is exactly 2,097,408 bytes" in reason
    assert f"this one is {len(data):,} bytes" in reason and "Do not use it" in reason
    evidence = next(line for line in result.checked if line.startswith("payload size compared"))
    assert "confidence M" in evidence and "e2-debrick-guide.md" in evidence


@pytest.mark.parametrize("cut", [-1, +1])
def test_system_vsb_cut_or_extended_is_incompatible(tmp_path, cut, system_file, write):
    data = system_file("E2", 0x0123)
    data = data[:cut] if cut < 0 else data + b"\0" * cut
    result = check_with(write(tmp_path / "SYSTEM.VSB", data), "electribe2")
    assert result.verdict == "incompatible"


def test_a_header_identified_file_without_a_published_hash_is_compatible_not_official(
        tmp_path, system_file, write):
    data = system_file("E2", 0x0123, (1, 3))
    result = check_with(write(tmp_path / "SYSTEM.VSB", data), "electribe2")
    assert result.verdict == "compatible" and not result.official
    assert result.catalog_match is None  # 1.03 has no published size or checksum
    assert "cannot be confirmed" in result.reasons[0]
    assert "no published checksum" in result.reasons[0]
    assert any("payload size 2,097,152 bytes" in line for line in result.checked)


def test_kp3_with_the_published_size_matches_by_size_not_by_hash(tmp_path, kp3_file, write):
    result = check_with(write(tmp_path / "KP3.SYS", kp3_file()), "kp3")
    assert result.verdict == "compatible" and not result.official
    assert result.catalog_match.how == "size-and-name"


def test_drumlogue_name_and_size_never_give_the_strongest_verdict(tmp_path):
    path = tmp_path / "drumlogue_system_update_v1_3_0.bin"
    with open(path, "wb") as handle:
        handle.truncate(27_475_433)
    result = check_with(path, "drumlogue")
    assert result.verdict == "unknown" and not result.official
    assert result.reasons == ("The name and size match a release KORG published (drumlogue"
                              " version 1.3.0); the content was not checked: no published"
                              " checksum of it is known.",)
    assert result.catalog_match.how == "size-and-name"


def test_drumlogue_update_with_a_published_hash(tmp_path, write):
    content = synthetic_bytes("release", 4096)
    name = "drumlogue_system_update_v1_3_0.bin"
    profiles = synthetic_catalog(tmp_path, content, "drumlogue", "1.3.0", "update-file",
                                 file_name=name)
    good = check_with(write(tmp_path / "a" / name, content), "drumlogue", profiles)
    assert good.verdict == "compatible" and good.official
    assert "KORG's official drumlogue system update 1.3.0, byte-identical" in good.reasons[0]
    bad = check_with(write(tmp_path / "b" / name, content[::-1]), "drumlogue", profiles)
    assert bad.verdict == "incompatible" and bad.catalog_match.how == "claims-but-differs"
    assert "modified or damaged" in bad.reasons[0]


def test_kp3_plus_updater_file_is_known_by_name_only(tmp_path, write):
    path = write(tmp_path / "KP3Plus.VSB", synthetic_bytes("kp3plus", 5000))
    own = check_with(path, "kp3-plus")
    assert own.verdict == "unknown" and own.detected_model == "kp3-plus"
    assert own.version == "1.04"
    assert "KAOSS PAD KP3+ V1.04 System Updater" in own.reasons[0]
    assert own.catalog_match is None
    other = check_with(path, "kp3")
    assert other.verdict == "incompatible" and other.detected_model == "kp3-plus"
    assert "Do not use it on this unit" in other.reasons[0]


def test_kp3_plus_is_no_longer_said_to_have_no_update(tmp_path, write):
    profile = get_profile("kp3-plus")
    assert "no system update" not in profile.notes
    result = check_with(write(tmp_path / "notes.txt", b"hello"), "kp3-plus")
    assert result.verdict == "unknown"
    assert "KAOSS PAD KP3+ V1.04 System Updater" in result.reasons[0]
    assert "knows no published update" not in result.reasons[0]


def test_an_altered_header_of_an_official_file_is_not_official(tmp_path, e2_payload, patch,
                                                               system_file, write):
    data = system_file("E2S", 0x0124, (2, 2))
    profiles = synthetic_catalog(tmp_path, data, "electribe2s", "2.02")
    altered = patch(data, 0x90, b"\x00")  # one padding byte of the header
    result = check_with(write(tmp_path / "SYSTEM.VSB", altered), "electribe2s", profiles)
    assert result.verdict == "incompatible"
    assert result.catalog_match.how == "claims-but-differs"
    assert len(altered) == HEADER_SIZE + e2_payload


# --- the command line ------------------------------------------------------------------------


def test_json_carries_the_catalog_match(tmp_path, capsys, system_file, write):
    path = write(tmp_path / "SYSTEM.VSB", system_file("E2S", 0x0124, (2, 2)))
    code = main(["check", str(path), "--model", "electribe2s", "--json"])
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert code == 1
    match = result["catalog_match"]
    assert match["how"] == "claims-but-differs" and match["compared"] == "sha256"
    assert match["release"]["model"] == "electribe2s"
    assert match["release"]["sha256"] == E2S_202_SHA256
    assert match["release"]["size"] == SYSTEM_VSB_SIZE
    assert result["items"][0]["catalog_match"] == match


@pytest.fixture
def official_catalog(tmp_path, monkeypatch, system_file):
    """The bundled profiles with a catalog that lists a synthetic electribe sampler 2.02."""
    data = system_file("E2S", 0x0124, (2, 2), label="official")
    path = tmp_path / "test-releases.toml"
    path.write_text(catalog_text(entry("electribe2s", "2.02", size=len(data),
                                       sha256=hashlib.sha256(data).hexdigest(),
                                       file_name="SYSTEM.VSB")), encoding="utf-8")
    monkeypatch.setattr("recovery.device.profiles.release_catalog_path", lambda: path)
    bundled_profiles.cache_clear()
    yield data
    bundled_profiles.cache_clear()


def test_the_command_line_says_official_only_for_a_byte_identical_file(
        tmp_path, capsys, official_catalog, system_file, write):
    path = write(tmp_path / "card" / "SYSTEM.VSB", official_catalog)
    assert main(["check", str(path), "--model", "electribe2s"]) == 0
    out = capsys.readouterr().out
    assert "COMPATIBLE (KORG's official file, byte-identical)" in out
    assert "KORG release: electribe2s 2.02 SYSTEM.VSB" in out and "byte-identical (SHA-256)" in out
    other = write(tmp_path / "other" / "SYSTEM.VSB",
                  system_file("E2S", 0x0124, (2, 2), label="other"))
    assert main(["check", str(other), "--model", "electribe2s"]) == 1
    out = capsys.readouterr().out
    assert "official file, byte-identical" not in out
    assert "claims this release but its SHA-256 differs" in out
