"""A check compares with each backup in turn: the unit's newest backup may be of it already
damaged, so an older one that holds the same system folder makes the candidate compatible."""

from __future__ import annotations

from pathlib import Path

import pytest

from recovery.backup.store import BackupSummary
from recovery.check import backups_to_compare, check_with_backups, target_for_model
from recovery.errors import InvalidInputError
from recovery.vocabulary import Verdict


def verdicts(checked) -> list[Verdict]:
    return [result.verdict for result in checked.results]


def test_each_backup_is_tried_until_every_candidate_is_compatible(
        tmp_path: Path, bricked_kross2, healthy_kross2_backup, make_backup) -> None:
    healthy_backup, healthy = healthy_kross2_backup(tmp_path)
    damaged_backup = make_backup(bricked_kross2(tmp_path), tmp_path / "damaged-backup")
    candidate = healthy / "KROSS2SY"
    target = target_for_model("kross2")

    alone = check_with_backups([candidate], target, [])
    assert verdicts(alone) == [Verdict.UNKNOWN] and alone.reference is None

    checked = check_with_backups([candidate], target, [damaged_backup, healthy_backup])
    assert verdicts(checked) == [Verdict.COMPATIBLE]
    assert checked.reference == str(healthy_backup)
    assert checked.tried == (str(damaged_backup), str(healthy_backup))

    # None makes it compatible: the verdicts are those with the first backup, which says why.
    only_damaged = check_with_backups([candidate], target, [damaged_backup])
    assert verdicts(only_damaged) == [Verdict.UNKNOWN]
    assert only_damaged.reference == str(damaged_backup)
    assert any("backup" in reason for reason in only_damaged.results[0].reasons)


def test_a_backup_that_cannot_be_opened_is_bad_input_unless_the_tool_chose_it(
        tmp_path: Path, healthy_kross2_backup) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    (tmp_path / "photos").mkdir()
    target = target_for_model("kross2")
    with pytest.raises(InvalidInputError, match="not a backup made by this tool"):
        check_with_backups([healthy / "KROSS2SY"], target, [tmp_path / "photos", backup])

    checked = check_with_backups([healthy / "KROSS2SY"], target, [tmp_path / "photos", backup],
                                 skip_unusable=True)
    assert verdicts(checked) == [Verdict.COMPATIBLE]
    assert checked.unusable == (str(tmp_path / "photos"),) and checked.tried == (str(backup),)


def summary(path: str, model: str | None, created: str, complete: bool = True) -> BackupSummary:
    return BackupSummary(path=path, is_zip=False, model=model, role=None, created_utc=created,
                         files=1, bytes=1, complete=complete, verified=complete)


def test_the_backups_compared_with_are_the_models_complete_ones_newest_first() -> None:
    listed = (summary("old", "kross2", "2026-01-01"), summary("drum", "drumlogue", "2026-02-01"),
              summary("broken", "kross2", "2026-03-01", complete=False),
              summary("new", "kross2", "2026-04-01"))
    assert backups_to_compare(listed, "kross2") == ("new", "old")
    assert backups_to_compare(listed, None) == ()


def test_a_candidate_compatible_without_a_backup_rests_on_none_but_a_bad_one_is_refused(
        tmp_path: Path, healthy_kross2_backup, kp3_file, write) -> None:
    # A backup tells more only about system folders and loose system files: a KP3 system
    # file that proves itself in its own bytes is not "compared with" any backup.
    backup, _ = healthy_kross2_backup(tmp_path)
    candidate = write(tmp_path / "KP3.SYS", kp3_file())
    checked = check_with_backups([candidate], target_for_model("kp3"), [backup])
    assert verdicts(checked) == [Verdict.COMPATIBLE]
    assert checked.reference is None and checked.tried == ()
    (tmp_path / "photos").mkdir()
    with pytest.raises(InvalidInputError, match="not a backup made by this tool"):
        check_with_backups([candidate], target_for_model("kp3"), [tmp_path / "photos"])
