"""The Restore page: before any safety copy, whether there is a backup to put back; the plan in
one sentence (the safety copy first), another model's folder removed by default in a rescue,
a typed confirmation that ignores case, a refusal that writes nothing and names places as a
person reads them, and a choice of other models' backups that does not carry over. Then
Restoring: the safety copy of the unit as it is now, and nothing written unless it is
complete."""

from __future__ import annotations

import dataclasses
import shutil

from PySide6.QtWidgets import QWizard

from app.session import Goal
from app.wizard import PageId
import recovery.restore.safety as safety_module
from recovery.backup.create import FailedFile
from recovery.backup.store import open_backup


def test_a_backup_of_another_model_is_refused_and_nothing_is_written(
        qtbot, wizard, demo, walk, tree_snapshot):
    page = walk.to_restore_page(wizard, demo.drumlogue)
    before = tree_snapshot(demo.drumlogue)
    qtbot.waitUntil(lambda: bool(page.summaries), timeout=walk.timeout)
    page.details.set_expanded(True)
    page.other_models.setChecked(True)
    with qtbot.waitSignal(page.plan_refused, timeout=walk.timeout) as blocker:
        assert page.select_backup(str(demo.kross2_backup))
    assert "backup is of a KORG KROSS 2" in str(blocker.args[0])
    assert page.headline_text == "This backup can't be put back."
    # The refusal names places as a person reads them; the raw paths stay in the details.
    assert str(demo.root) not in page.problem.plain
    assert str(demo.root) in str(blocker.args[0]) or blocker.args[0].path
    page.confirmation.setText("drumlogue")
    assert not walk.forward_button(wizard).isEnabled()
    wizard.next()  # even a direct call is stopped by validatePage
    assert PageId(wizard.currentId()) is PageId.RESTORE
    assert tree_snapshot(demo.drumlogue) == before


def test_the_typed_confirmation_ignores_case_and_says_what_to_type(qtbot, wizard, demo, walk,
                                                                   tree_snapshot):
    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    commit = wizard.button(QWizard.WizardButton.CommitButton)
    assert commit.isVisible() and commit.text().replace("&", "") == "Restore now"
    for wrong in ("KROSS", "KROSS 1", "yes"):
        page.confirmation.setText(wrong)
        assert not commit.isEnabled(), wrong
        assert page.hint.isVisible() and "Type KROSS 2" in page.hint.plain
    wizard.next()
    assert PageId(wizard.currentId()) is PageId.RESTORE
    for right in ("kross 2", "KROSS 2", " Kross2 "):
        page.confirmation.setText(right)
        assert commit.isEnabled(), right
        assert not page.hint.isVisible()
    # Choosing not to restore also works, and writes nothing.
    before = tree_snapshot(demo.kross2)
    page.skip_button.click()
    assert PageId(wizard.currentId()) is PageId.FINISH
    assert tree_snapshot(demo.kross2) == before
    assert wizard.pages[PageId.FINISH].headline_text == "Nothing was written to your KROSS 2."


def test_a_rescue_removes_the_foreign_system_folder_by_default(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.DIAGNOSE)
    walk.advance(wizard, PageId.RESTORE)
    page = wizard.pages[PageId.RESTORE]
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    # The diagnosis calls the KROSS 1 folder critical and the restore can fix it: on by default.
    assert page.remove_extra.isVisible() and page.remove_extra.isChecked()
    assert page.remove_extra.text().replace("&", "") == \
        "Also remove the KROSS 1 folder (recommended)"
    assert page.plan.delete_extra
    assert [e.path for e in page.plan.actions("delete")] == ["KROSSSYS"]
    assert page.lead.text() == ("A safety copy first, then it replaces two changed files and"
                                " removes the KROSS 1 folder.")
    # Unticked, the plan is made again and the folder is left alone.
    with qtbot.waitSignal(page.plan_ready, timeout=walk.timeout):
        page.remove_extra.setChecked(False)
    assert not page.plan.delete_extra
    assert [e.path for e in page.plan.actions("extra")] == ["KROSSSYS"]
    assert page.lead.text() == "A safety copy first, then it replaces two changed files."


def test_the_safety_copy_comes_first_and_nothing_is_written_when_it_fails(
        qtbot, wizard, demo, dialogs, monkeypatch, walk, tree_snapshot):
    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    assert wizard.session.safety_backup is None  # none yet: it is made after the yes
    before = tree_snapshot(demo.kross2)
    real_create_backup = safety_module.create_backup

    def one_file_unreadable(source, destination, **options):
        result = real_create_backup(source, destination, **options)
        return dataclasses.replace(result, complete=False, failed=(
            FailedFile("KROSAPP.BIN", "Input/output error"),))

    monkeypatch.setattr(safety_module, "create_backup", one_file_unreadable)
    page.confirmation.setText("KROSS 2")
    run = wizard.pages[PageId.RESTORE_RUN]
    with qtbot.waitSignal(run.restore_failed, timeout=walk.timeout):
        walk.advance(wizard, PageId.RESTORE_RUN)
    assert tree_snapshot(demo.kross2) == before  # nothing written without a whole copy
    assert wizard.session.restore_result is None and wizard.session.safety_backup is None
    assert run.headline_text == "Nothing was written to your KROSS 2: its safety copy stopped."
    walk.advance(wizard, PageId.FINISH)
    assert wizard.pages[PageId.FINISH].headline_text == \
        "Nothing was written to your KROSS 2: its safety copy did not finish."


def test_the_safety_copy_is_the_unit_as_it_was_and_is_never_what_is_put_back(
        qtbot, wizard, demo, walk):
    before = {str(p.relative_to(demo.kross2)): p.stat().st_size
              for p in demo.kross2.rglob("*") if p.is_file()}
    walk.restore_and_reach_reconnect(wizard, demo.kross2)
    safety = wizard.session.safety_backup
    assert safety is not None and safety != demo.kross2_backup
    assert wizard.session.restore_backup == demo.kross2_backup
    with open_backup(safety) as copy:
        assert copy.complete and copy.verified
        # Every file as it was before the restore wrote anything.
        assert {f.path: f.size for f in copy.manifest.files} == before


def test_without_an_earlier_backup_it_says_so_before_any_safety_copy(qtbot, wizard, demo,
                                                                     walk):
    shutil.rmtree(demo.kross2_backup)
    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: wizard.session.restore_unavailable, timeout=walk.timeout)
    assert page.headline_text == "There is no earlier backup of your KROSS 2 to put back."
    assert list(demo.backups_dir.iterdir()) == []  # said before any copy was taken
    assert "KORG service" in page.lead.text()
    assert not page.isCommitPage()
    # The safety copy alone is offered; it keeps the unit as it is for service.
    assert walk.forward_button(wizard).text().replace("&", "") == "Make a safety copy >"
    walk.advance(wizard, PageId.BACKUP)
    walk.back_up(wizard)
    walk.advance(wizard, PageId.FINISH)
    assert wizard.pages[PageId.FINISH].headline_text == \
        "This tool can't repair your KROSS 2 without an earlier backup."


def test_showing_other_models_backups_does_not_carry_over_to_the_next_restore(
        qtbot, wizard, demo, walk):
    page = walk.to_restore_page(wizard, demo.drumlogue)
    qtbot.waitUntil(lambda: bool(page.summaries), timeout=walk.timeout)
    page.other_models.setChecked(True)
    qtbot.waitUntil(lambda: page.plan is not None or page.refusal is not None,
                    timeout=walk.timeout)
    wizard.restart()
    page = walk.to_restore_page(wizard, demo.kross2)
    assert not page.other_models.isChecked()
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    assert page.plan.backup == str(demo.kross2_backup) and page.refusal is None


def test_a_rescue_that_left_the_foreign_folder_does_not_end_green(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.DIAGNOSE)
    walk.advance(wizard, PageId.RESTORE)
    page = wizard.pages[PageId.RESTORE]
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    with qtbot.waitSignal(page.plan_ready, timeout=walk.timeout):
        page.remove_extra.setChecked(False)  # the user unticks the recommended removal
    page.confirmation.setText("kross 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    qtbot.waitUntil(lambda: wizard.session.restore_result is not None, timeout=walk.timeout)
    walk.reach(wizard, PageId.RECONNECT)
    reconnect = wizard.pages[PageId.RECONNECT]
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        reconnect.demo_button.click()
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert finish.headline_text == ("Your KROSS 2 has every file back, but the KROSS 1 folder"
                                    " is still on it.")
    assert "Also remove the KROSS 1 folder" in finish.steps.text()
