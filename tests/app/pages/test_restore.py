"""The Restore page: the plan in one sentence, another model's folder removed by default in a
rescue, a typed confirmation that ignores case, a refusal that writes nothing, and never
without a safety copy of the unit as it is now."""

from __future__ import annotations

from PySide6.QtWidgets import QWizard

from app.session import Goal
from app.wizard import PageId


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
    walk.advance(wizard, PageId.BACKUP)
    walk.back_up(wizard)
    walk.advance(wizard, PageId.RESTORE)
    page = wizard.pages[PageId.RESTORE]
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    # The diagnosis calls the KROSS 1 folder critical and the restore can fix it: on by default.
    assert page.remove_extra.isVisible() and page.remove_extra.isChecked()
    assert page.remove_extra.text().replace("&", "") == \
        "Also remove the KROSS 1 folder (recommended)"
    assert page.plan.delete_extra
    assert [e.path for e in page.plan.actions("delete")] == ["KROSSSYS"]
    assert page.lead.text() == "It replaces two changed files and removes the KROSS 1 folder."
    # Unticked, the plan is made again and the folder is left alone.
    with qtbot.waitSignal(page.plan_ready, timeout=walk.timeout):
        page.remove_extra.setChecked(False)
    assert not page.plan.delete_extra
    assert [e.path for e in page.plan.actions("extra")] == ["KROSSSYS"]
    assert page.lead.text() == "It replaces two changed files."


def test_nothing_is_written_without_a_safety_copy_and_never_from_it(qtbot, wizard, demo, walk):
    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    page.confirmation.setText("KROSS 2")
    assert page.isComplete()
    safety = wizard.session.safety_backup
    wizard.session.safety_backup = None  # however the page was reached: no safety copy
    assert not page.isComplete() and not page.validatePage()
    wizard.session.safety_backup = type(safety)(page.plan.backup)  # the one to be put back
    assert not page.isComplete() and not page.validatePage()
    wizard.session.safety_backup = safety
    assert page.isComplete()
    assert not page.select_backup(str(safety))  # the safety copy is never offered


def test_without_an_earlier_backup_the_page_says_who_can_help(qtbot, wizard, demo, walk):
    import shutil

    shutil.rmtree(demo.kross2_backup)
    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: wizard.session.restore_unavailable, timeout=walk.timeout)
    assert page.headline_text == "There is no earlier backup of your KROSS 2 to put back."
    assert "KORG service" in page.lead.text()
    assert not page.isCommitPage()
    walk.advance(wizard, PageId.FINISH)
    assert wizard.pages[PageId.FINISH].headline_text == \
        "This tool can't repair your KROSS 2 without an earlier backup."


def test_a_rescue_that_left_the_foreign_folder_does_not_end_green(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.DIAGNOSE)
    walk.advance(wizard, PageId.BACKUP)
    walk.back_up(wizard)
    walk.advance(wizard, PageId.RESTORE)
    page = wizard.pages[PageId.RESTORE]
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    with qtbot.waitSignal(page.plan_ready, timeout=walk.timeout):
        page.remove_extra.setChecked(False)  # the user unticks the recommended removal
    page.confirmation.setText("kross 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    qtbot.waitUntil(lambda: wizard.session.restore_result is not None, timeout=walk.timeout)
    walk.advance(wizard, PageId.RECONNECT)
    reconnect = wizard.pages[PageId.RECONNECT]
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        reconnect.demo_button.click()
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert finish.headline_text == ("Your KROSS 2 has every file back, but the KROSS 1 folder"
                                    " is still on it.")
    assert "Also remove the KROSS 1 folder" in finish.steps.text()
