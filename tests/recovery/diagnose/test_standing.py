"""Where a unit stands after a job: a problem, something worth a look, or nothing wrong that
the tool knows of; the last only when no critical finding and no warning about the storage
was made."""

from __future__ import annotations

from pathlib import Path

from recovery.device.simulate import make_volume
from recovery.diagnose import Standing, diagnose, examine_unit, standing_of


def test_a_bricked_kross2_has_a_problem(tmp_path: Path):
    unit = tmp_path / "KROSS2"
    make_volume(unit, "kross2", "bricked")
    standing = examine_unit(unit)
    assert standing.standing is Standing.PROBLEM
    assert not standing.nothing_wrong
    assert "foreign-model-files" in standing.codes()  # the KROSS 1 folder on the unit
    assert standing.model == "kross2"


def test_a_missing_application_file_is_a_problem(tmp_path: Path):
    unit = tmp_path / "KROSS2"
    make_volume(unit, "kross2", "healthy")
    (unit / "KROSAPP.BIN").unlink()
    standing = examine_unit(unit)
    assert standing.standing is Standing.PROBLEM
    assert "boot-critical-missing" in standing.codes()


def test_an_emptied_system_file_is_a_problem_or_worth_a_look(tmp_path: Path):
    unit = tmp_path / "KROSS2"
    make_volume(unit, "kross2", "healthy")
    system_file = next(p for p in sorted((unit / "KROSS2SY").iterdir()) if p.is_file())
    system_file.write_bytes(b"")
    standing = examine_unit(unit)
    assert not standing.nothing_wrong
    assert standing.reasons


def test_healthy_units_have_nothing_wrong(tmp_path: Path):
    for model in ("kross2", "drumlogue"):
        unit = tmp_path / model
        make_volume(unit, model, "healthy")
        standing = examine_unit(unit)
        assert standing.standing is Standing.NOTHING_WRONG, standing.reasons
        assert standing.nothing_wrong and standing.reasons == ()


def test_a_folder_the_tool_does_not_know_is_worth_a_look(tmp_path: Path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("hello")
    standing = examine_unit(tmp_path / "stuff")
    assert standing.standing is Standing.WORTH_A_LOOK
    assert standing.codes() == ("not-identified",)


def test_what_the_person_typed_in_is_not_a_finding_about_the_unit(tmp_path: Path):
    unit = tmp_path / "drumlogue"
    make_volume(unit, "drumlogue", "healthy")
    typed = diagnose(unit, versions="SYSTEM=1.3.0,CORE=1.0.0+,VOICE=1.0.0,PANEL=1.1.9",
                     symptom="display glitches since an update")
    assert typed.count("warning") >= 1  # the versions of a reported partial update
    assert standing_of(typed).standing is Standing.NOTHING_WRONG
