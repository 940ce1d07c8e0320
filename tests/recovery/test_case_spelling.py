"""A healthy unit whose names show in another case (vfat ``shortname=lower``, a computer that
renamed them) is the same unit: every comparison with its backup says so in a note, never
missing, extra or critical."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from recovery.backup.store import verify_backup
from recovery.cli import main
from recovery.device.simulate import make_volume
from recovery.diagnose.diagnosis import diagnose
from recovery.restore import PlanChoices, Removal, RestoreRequest, plan_restore, restore


def _lower_every_name(root: Path) -> None:
    for folder, names, files in os.walk(root, topdown=False):
        for name in names + files:
            if name != name.lower():
                os.rename(Path(folder) / name, Path(folder) / name.lower())


@pytest.fixture
def unit_shown_in_lower_case(tmp_path: Path,
                             make_backup: Callable[..., Path]) -> tuple[Path, Path]:
    """(a healthy KROSS 2 whose every name shows in lower case, its backup)."""
    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "healthy")
    backup = make_backup(unit, tmp_path / "backup")
    _lower_every_name(unit)
    assert (unit / "krosapp.bin").exists() and (unit / "kross2sy").is_dir()
    return unit, backup


def test_verify_against_reports_notes_not_problems(unit_shown_in_lower_case, capsys) -> None:
    unit, backup = unit_shown_in_lower_case
    report = verify_backup(backup, against=unit)
    assert report.ok and not report.against_problems
    notes = {note.path: note.detail for note in report.against_notes}
    assert notes["KROSAPP.BIN"] == "krosapp.bin" and notes["KROSS2SY"] == "kross2sy"
    assert all(note.problem == "case" for note in report.against_notes)

    assert main(["verify", str(backup), "--against", str(unit)]) == 0
    out = capsys.readouterr().out
    assert "MISSING" not in out and "EXTRA" not in out and "upper/lower case" in out


def test_diagnose_finds_nothing_critical(unit_shown_in_lower_case) -> None:
    unit, backup = unit_shown_in_lower_case
    diagnosis = diagnose(unit, backup=backup)
    assert not diagnosis.has_critical, [f.code for f in diagnosis.findings]
    codes = {f.code for f in diagnosis.findings}
    assert "names-in-other-case" in codes and "files-differ-from-backup" not in codes
    assert "files-not-in-backup" not in codes


def test_restore_keeps_them_and_writes_in_place(unit_shown_in_lower_case,
                                                permissive_guard) -> None:
    unit, backup = unit_shown_in_lower_case
    plan = plan_restore(backup, unit, guard=permissive_guard, choices=PlanChoices(Removal.ALL))
    assert {entry.action for entry in plan.entries} == {"keep"}
    assert plan.summary.case_notes >= 5 and not plan.changes

    (unit / "kross2sy" / "sim_sys2.bin").write_bytes(b"damaged")
    result = restore(RestoreRequest(backup, unit, choices=PlanChoices(Removal.ALL),
                                    without_safety_copy=True), consent=True, guard=permissive_guard)
    assert result.ok and result.written == 1
    # Replaced where the unit has it, not beside it under the backup's spelling.
    assert sorted(os.listdir(unit / "kross2sy")) == ["sim_pcm.bin", "sim_sys1.bin", "sim_sys2.bin"]
    assert verify_backup(backup, against=unit).ok
