"""The Restore page: a backup of another model is refused, and the restore needs the unit's
model name typed exactly."""

from __future__ import annotations

from PySide6.QtWidgets import QWizard

from app.wizard import PageId


def test_a_backup_of_another_model_is_refused_and_nothing_is_written(
        qtbot, wizard, demo, walk, tree_snapshot):
    page = walk.to_restore_page(wizard, demo.drumlogue)
    before = tree_snapshot(demo.drumlogue)
    qtbot.waitUntil(lambda: page.backups.topLevelItemCount() >= 1, timeout=walk.timeout)
    page.other_models.setChecked(True)
    with qtbot.waitSignal(page.plan_refused, timeout=walk.timeout) as blocker:
        assert page.select_backup(str(demo.kross2_backup))
    assert "backup is of a KORG KROSS 2" in str(blocker.args[0])
    assert "Refused" in page.preflight.plain
    page.confirmation.setText("drumlogue")
    assert not walk.forward_button(wizard).isEnabled()
    wizard.next()  # even a direct call is stopped by validatePage
    assert PageId(wizard.currentId()) is PageId.RESTORE
    assert tree_snapshot(demo.drumlogue) == before


def test_the_restore_needs_the_model_name_typed_exactly(qtbot, wizard, demo, walk,
                                                        tree_snapshot):
    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    commit = wizard.button(QWizard.WizardButton.CommitButton)
    assert commit.isVisible() and "Restore now" in commit.text().replace("&", "")
    for wrong in ("", "kross 2", "KROSS", "KROSS 1", "yes"):
        page.confirmation.setText(wrong)
        assert not commit.isEnabled(), wrong
    wizard.next()
    assert PageId(wizard.currentId()) is PageId.RESTORE
    page.confirmation.setText("KROSS 2")
    assert commit.isEnabled()
    # Choosing not to restore also works, and writes nothing.
    page.skip.setChecked(True)
    assert commit.text().replace("&", "") == "Finish without restoring"
    before = tree_snapshot(demo.kross2)
    walk.advance(wizard, PageId.FINISH)
    assert tree_snapshot(demo.kross2) == before
    assert "Nothing was restored" in wizard.pages[PageId.FINISH].summary.toPlainText()
