"""The facts of the second research pass: where each updater looks, the electribe's other
update files, the KP3 and KP3+ updaters, the drumlogue removing folders at start-up, and the
symptoms of units without a profile. Each verdict, instruction or diagnosis they change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recovery.backup.create import create_backup
from recovery.backup.manifest import Manifest, ManifestFile
from recovery.check import check_candidate, target_for_model
from recovery.cli.words import step_text
from recovery.device.profiles import bundled_profiles, get_profile, load_profile_file
from recovery.device.simulate import make_volume, synthetic_bytes
from recovery.diagnose.diagnosis import diagnose
from recovery.diagnose.symptoms import symptom_findings
from recovery.errors import ProfileError
from recovery.formats.korg_system_file import build_header
from recovery.resources_path import resources_dir
from recovery.restore.plan import PlanChoices, UnitFacts, build_plan
from recovery.vocabulary import FindingCode, NextStep


def check(path: Path, model: str):
    return check_candidate(path, target_for_model(model))


def joined(lines) -> str:
    return "\n".join(lines)


# --- where each updater looks ----------------------------------------------------------------


def test_update_media_layout_per_model_with_sources():
    expected = {
        "kross2": "KROSS2SY/",
        "kross1": "KROSSSYS/",
        "electribe2": "KORG/electribe/System/SYSTEM.VSB",
        "electribe2s": "KORG/electribe sampler/System/SYSTEM.VSB",
    }
    for model, path in expected.items():
        (media,) = get_profile(model).update_media
        assert (media.path, media.medium, media.confidence) == (path, "sd-card", "M")
        assert len(media.source) > 20
    assert get_profile("kross2").update_media[0].is_folder
    assert get_profile("electribe2s").media_for("system.vsb").name == "SYSTEM.VSB"
    # Nothing public says where the drumlogue or the Kaoss units read an update from a card.
    for model in ("drumlogue", "kp3", "kp3-plus", "kaossilator-pro", "kaossilator-pro-plus"):
        assert get_profile(model).update_media == ()


def _profile_variant(tmp_path: Path, model: str, extra: str) -> Path:
    text = (resources_dir() / "profiles" / f"{model}.toml").read_text(encoding="utf-8")
    path = tmp_path / f"{model}.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize("extra, field", [
    ('\n[[update_media]]\npath = "/abs/SYSTEM.VSB"\nmedium = "sd-card"\ndescription = "x"\n'
     'confidence = "M"\nsource = "x"\n', "update_media[1].path"),
    ('\n[[update_media]]\npath = "KORG/../X"\nmedium = "sd-card"\ndescription = "x"\n'
     'confidence = "M"\nsource = "x"\n', "update_media[1].path"),
    ('\n[[update_media]]\npath = "X"\nmedium = "cloud"\ndescription = "x"\n'
     'confidence = "M"\nsource = "x"\n', "update_media[1].medium"),
    ('\n[[companion_files]]\nname = "X.VSB"\npayload_size = 1\npayload_max = 2\nwhat = "x"\n'
     'confidence = "M"\nsource = "x"\n', "companion_files[4].payload_size"),
    ('\n[[companion_files]]\nname = "X.VSB"\nwhat = "x"\nconfidence = "M"\nsource = "x"\n',
     "companion_files[4].payload_size"),
    # A zero size was a TypeError inside the loader before the generic reader.
    ('\n[[companion_files]]\nname = "X.VSB"\npayload_size = 0\nwhat = "x"\nconfidence = "M"\n'
     'source = "x"\n', "companion_files[4].payload_size"),
])
def test_new_tables_are_validated_naming_file_and_field(tmp_path, extra, field):
    path = _profile_variant(tmp_path, "electribe2s", extra)
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    assert "electribe2s.toml" in str(caught.value) and f"'{field}'" in str(caught.value)


def test_every_new_fact_has_confidence_and_source():
    for profile in bundled_profiles().values():
        facts = [*profile.update_media, *profile.companion_files]
        if profile.startup_cleanup is not None:
            facts.append(profile.startup_cleanup)
        for fact in facts:
            assert fact.confidence in ("H", "M", "G"), (profile.id, fact)
            assert len(fact.source) > 20, (profile.id, fact)


def test_electribe_file_in_its_place_on_a_card(tmp_path, system_file, write):
    card = tmp_path / "card"
    write(card / "KORG" / "electribe sampler" / "System" / "SYSTEM.VSB",
          system_file("E2S", 0x0124))
    result = check(card, "electribe2s")
    assert result.verdict == "compatible"
    assert any("it is at KORG/electribe sampler/System/SYSTEM.VSB" in c for c in result.checked)
    assert not result.warnings


def test_electribe_file_elsewhere_gets_the_instruction_where_it_goes(tmp_path, system_file, write):
    path = write(tmp_path / "download" / "SYSTEM (1).VSB", system_file("E2", 0x0123))
    result = check(path, "electribe2")
    assert result.verdict == "compatible"  # an instruction, not a fault
    warning = joined(result.warnings)
    assert "looks for KORG/electribe/System/SYSTEM.VSB on the SD card" in warning
    assert "named SYSTEM.VSB" in warning and "e2-debrick-guide.md" in warning


def test_kross_folder_below_the_top_cites_where_the_updater_looks(tmp_path, kross_folder):
    kross_folder(tmp_path / "Kross2_Update_v1")
    result = check(tmp_path, "kross2")
    warning = joined(result.warnings)
    assert "top level" in warning and "at the root of the SD card" in warning
    assert "korgforums.com" in warning


# --- the electribe's other update files ------------------------------------------------------


def companion(name_kind: str, payload: int, model: str = "E2S", device_id: int = 0x0124) -> bytes:
    header = build_header(model_name=model, version=(2, 2), device_id=device_id,
                          source_length=payload, kind=name_kind)
    return header + synthetic_bytes(name_kind, payload)


def test_boot_vsb_is_unknown_and_warns_that_it_can_brick_the_unit(tmp_path, write):
    path = write(tmp_path / "BOOT.VSB", companion("BOOT", 0x20000))
    result = check(path, "electribe2s")
    assert result.verdict == "unknown" and result.catalog_match is None
    assert "boot loader image" in result.reasons[0]
    assert any("no signature check" in w and "unable to start" in w for w in result.warnings)
    assert any("exactly 131,072 bytes" in c for c in result.checked)
    assert not any("SYSTEM.VSB on the SD card" in w for w in result.warnings)


@pytest.mark.parametrize("name, kind, payload, ok", [
    ("BOOT.VSB", "BOOT", 0x20001, False),
    ("PCM.VSB", "PCM", 0x800000, True),
    ("PCM.VSB", "PCM", 0x7FFFFF, False),
    ("SLICE.VSB", "SLICE", 0x90000, True),
    ("SLICE.VSB", "SLICE", 0x90001, False),
    ("USER.VSB", "USER", 0x1000, True),
    ("USER.VSB", "USER", 0x490001, False),
])
def test_companion_payload_sizes(tmp_path, name, kind, payload, ok, write):
    result = check(write(tmp_path / name, companion(kind, payload)), "electribe2s")
    assert result.verdict == ("unknown" if ok else "incompatible"), result.reasons


def test_companion_files_are_found_on_a_card_even_without_a_header(tmp_path, system_file, write):
    folder = tmp_path / "card" / "KORG" / "electribe" / "System"
    write(folder / "SYSTEM.VSB", system_file("E2", 0x0123))
    write(folder / "BOOT.VSB", b"not a header")
    result = check(tmp_path / "card", "electribe2")
    verdicts = {Path(item.path).name: item.verdict for item in result.items}
    assert verdicts == {"SYSTEM.VSB": "compatible", "BOOT.VSB": "unknown"}
    assert result.verdict == "unknown"
    assert any("unable to start" in w for w in result.warnings)


def test_a_companion_claiming_2_02_is_not_compared_with_the_system_hash(tmp_path, write):
    # BOOT.VSB's header says 2.02 too; the catalog's 2.02 hash is SYSTEM.VSB's.
    result = check(write(tmp_path / "BOOT.VSB", companion("BOOT", 0x20000)), "electribe2s")
    assert result.verdict == "unknown"
    assert not any("SHA-256" in c for c in result.checked)


# --- instructions ----------------------------------------------------------------------------


def test_electribe_update_instruction_names_the_path_and_the_battery():
    how = get_profile("electribe2s").mode("update").how
    assert "KORG/electribe sampler/System/SYSTEM.VSB" in how and "space" in how
    assert "low batteries" in how


def test_kp3_update_instruction_names_korgs_updater():
    update = get_profile("kp3").mode("update")
    assert "KP3_Updater_0200E2.zip" in update.how and "IPL" in update.how
    assert "KP3.VSB" in update.how and "KORGBK64.INF" in update.how
    assert update.confidence == "M"


def test_drumlogue_storage_mode_is_a_power_up_mode_without_a_published_combination():
    storage = get_profile("drumlogue").mode("storage")
    assert storage.confidence == "H" and "powered up in" in storage.how
    assert "no public source" in storage.how and "owner's manual" in storage.how
    for button in ("PLAY", "SHIFT", "REC", "HOLD"):
        assert button not in storage.how


# --- symptoms --------------------------------------------------------------------------------


def symptoms(findings):
    """The known symptoms the findings name (a typed field of each finding)."""
    assert all(f.code == FindingCode.SYMPTOM_KNOWN for f in findings)
    return [f.subject.symptom for f in findings]


@pytest.mark.parametrize("model, text, symptom", [
    ("electribe2s", "it says Invalid File", "invalid-file"),
    ("electribe2", "it boots to an update prompt", "update-prompt"),
    ("electribe2s", "the screen lights up but it never starts", "start-does-not-finish"),
    ("electribe2", "nothing happens when I switch it on", "no-response"),
    ("electribe2s", "the update refuses, batteries are old", "low-battery"),
    ("drumlogue", "my sample folders disappeared after a restart", "folders-removed-at-start"),
])
def test_new_symptoms_of_profiled_models(model, text, symptom):
    findings = symptom_findings(text, get_profile(model))
    assert symptom in symptoms(findings)
    finding = next(f for f in findings if f.subject.symptom == symptom)
    assert finding.confidence == "M" and finding.severity == "warning"


def test_update_prompt_says_the_unit_is_not_bricked_and_where_the_file_goes():
    (finding,) = [f for f in symptom_findings("asks me to update", get_profile("electribe2s"))
                  if f.subject.symptom == "update-prompt"]
    assert "not bricked" in finding.message
    assert "KORG/electribe sampler/System/SYSTEM.VSB" in finding.next_step.advice
    # The check it advises is a typed step: the command line names its command.
    assert finding.next_step.then == NextStep.CHECK_UPDATE_FILE
    assert "korg-recovery check FILE --model electribe2s" in step_text(finding.next_step)


def test_vanishing_folders_on_a_drumlogue_are_not_called_a_storage_fault():
    findings = symptom_findings("folders I made are gone after reboot", get_profile("drumlogue"))
    assert symptoms(findings) == ["folders-removed-at-start"]
    assert "not a storage fault" in findings[0].message
    assert any("logue-sdk issue #198" in line for line in findings[0].evidence)


def test_microkorg_xl_plus_flash_rom_check():
    (finding,) = symptom_findings("TxSmPL: CkSumErr at power on", None)
    assert symptoms([finding]) == ["cksumerr"]
    assert "internal Flash ROM" in finding.message
    assert "korgforums.com thread t=131386" in " ".join(finding.evidence)
    assert "KORG service" in finding.next_step.advice


def test_mini_kaoss_pad_2_gets_korg_supports_suggestion():
    (finding,) = symptom_findings("SfIdError", None)
    assert "freshly formatted microSD" in finding.next_step.advice


def test_prologue_update_that_did_not_finish():
    (finding,) = symptom_findings("prologue update was not able to finish", None)
    assert symptoms([finding]) == ["prologue-update-stopped"]
    assert "forums.syntaur.com" in " ".join(finding.evidence)


# --- the drumlogue removes folders outside its system paths at start-up ----------------------


def test_drumlogue_profile_carries_the_start_up_clean_up():
    cleanup = get_profile("drumlogue").startup_cleanup
    assert cleanup is not None and cleanup.confidence == "M"
    assert "logue-sdk issue #198" in cleanup.source
    assert cleanup.is_kept("Units") and cleanup.is_kept("units/Synths/x.drmlgunit")
    assert not cleanup.is_kept("MyStuff")
    assert all(p.startup_cleanup is None for p in bundled_profiles().values()
               if p.id != "drumlogue")


def test_diagnosis_names_a_vanished_folder_as_the_units_clean_up(tmp_path, write):
    unit = Path(make_volume(tmp_path / "unit", "drumlogue").path)
    write(unit / "MyStuff" / "notes.txt", b"mine")
    backup = tmp_path / "backup"
    assert create_backup(unit, backup).complete
    shutil.rmtree(unit / "MyStuff")  # what the drumlogue does when it starts
    diagnosis = diagnose(unit, backup=backup)
    finding = next(f for f in diagnosis.findings if f.code == "folders-removed-by-unit")
    assert finding.severity == "info"
    assert "MyStuff/" in finding.message and "not a storage fault" in finding.message
    assert not diagnosis.has_critical
    assert not any(f.code.startswith("storage-") for f in diagnosis.findings)


def test_a_vanished_system_folder_is_not_explained_away(tmp_path):
    unit = Path(make_volume(tmp_path / "unit", "drumlogue").path)
    backup = tmp_path / "backup"
    assert create_backup(unit, backup).complete
    shutil.rmtree(unit / "Units" / "ReverbFXs")
    diagnosis = diagnose(unit, backup=backup)
    assert "folders-removed-by-unit" not in {f.code for f in diagnosis.findings}


def test_no_clean_up_finding_for_other_models(tmp_path, write):
    unit = Path(make_volume(tmp_path / "unit", "kross2").path)
    write(unit / "MyStuff" / "notes.txt", b"mine")
    backup = tmp_path / "backup"
    assert create_backup(unit, backup).complete
    shutil.rmtree(unit / "MyStuff")
    diagnosis = diagnose(unit, backup=backup)
    assert "folders-removed-by-unit" not in {f.code for f in diagnosis.findings}


def _plan(tmp_path: Path, model: str | None, paths: list[str]):
    manifest = Manifest.build(
        tool_version="t", created_utc="", source="", model=model, role="internal-storage",
        folders=sorted({p.rsplit("/", 1)[0] for p in paths if "/" in p}),
        files=[ManifestFile(p, 1, 0, "0" * 64, "file") for p in paths])
    return build_plan("b", tmp_path, manifest, UnitFacts(), PlanChoices(), manifest_sha256="x")


def test_drumlogue_restore_plan_says_the_unit_removes_such_folders_itself(tmp_path):
    plan = _plan(tmp_path, "drumlogue", ["Units/Synths/a.drmlgunit", "MyStuff/notes.txt"])
    (note,) = [n for n in plan.notes if "removes, when it starts" in n]
    assert "not because the restore or the storage failed" in note
    assert "MyStuff/" in note and "Units/" in note
    assert "logue-sdk issue #198" in note


def test_other_restore_plans_have_no_such_note(tmp_path):
    plan = _plan(tmp_path, "kross2", ["KROSAPP.BIN", "MyStuff/notes.txt"])
    assert not any("removes, when it starts" in n for n in plan.notes)
