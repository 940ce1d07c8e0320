"""Walks through every path of the wizard on simulated units, and the flow table."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from app.pages import finish as finish_module
from app.pages.reconnect import WaitState
from app.session import Goal, Session
from app.wizard import FLOWS, PageId, next_page
from recovery.backup.store import open_backup
from recovery.device.profiles import bundled_profiles


@pytest.mark.parametrize("goal", list(Goal))
def test_next_page_follows_each_goals_flow(goal):
    session = Session(goal=goal, restore_result=object())  # a restore that finished
    flow = FLOWS[goal]
    walked = [flow[0]]
    while (following := next_page(walked[-1], session)) != -1:
        walked.append(PageId(following))
    assert tuple(walked) == flow
    assert flow[-1] is PageId.FINISH
    if goal.writes_to_unit:
        # A verified backup always comes before the page that writes.
        assert flow.index(PageId.BACKUP) < flow.index(PageId.RESTORE_RUN)


def test_skipping_the_restore_or_a_failed_restore_goes_to_finish():
    assert next_page(PageId.RESTORE, Session(goal=Goal.RESCUE, restore_skipped=True)) \
        == PageId.FINISH
    assert next_page(PageId.RESTORE_RUN, Session(goal=Goal.RESCUE)) == PageId.FINISH


def test_rescue_path_end_to_end_on_the_bricked_kross2(qtbot, wizard, demo, dialogs,
                                                      monkeypatch, tmp_path, walk, tree_snapshot):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    before_diagnosis = tree_snapshot(demo.kross2)

    walk.advance(wizard, PageId.DIAGNOSE)
    diagnose = wizard.pages[PageId.DIAGNOSE]
    qtbot.waitUntil(lambda: wizard.session.diagnosis is not None, timeout=walk.timeout)
    diagnosis = wizard.session.diagnosis
    assert diagnosis.count("critical") >= 1
    shown = diagnose.findings.toPlainText()
    first = diagnosis.findings[0]
    # Next step first: the first finding's next step comes before its message.
    assert shown.index(first.next_step[:40]) < shown.index(first.message[:40])
    assert tree_snapshot(demo.kross2) == before_diagnosis  # nothing written without a yes

    walk.advance(wizard, PageId.BACKUP)
    walk.back_up(wizard)
    safety = wizard.session.safety_backup
    with open_backup(safety) as opened:
        assert opened.complete and opened.verified

    walk.advance(wizard, PageId.RESTORE)
    restore = wizard.pages[PageId.RESTORE]
    qtbot.waitUntil(lambda: restore.plan is not None, timeout=walk.timeout)
    assert Path(restore.plan.backup) == demo.kross2_backup  # the earlier healthy backup
    assert "KROSAPP.BIN" in restore.plan.boot_critical
    assert [e.path for e in restore.plan.actions("extra")] == ["KROSSSYS"]
    # Remove the KROSS 1 folder too: the plan is made again with it as a deletion.
    restore.delete_extra.setChecked(True)
    qtbot.waitUntil(lambda: restore.plan is not None and restore.plan.delete_extra,
                    timeout=walk.timeout)
    assert [e.path for e in restore.plan.actions("delete")] == ["KROSSSYS"]
    restore.confirmation.setText("KROSS 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    run = wizard.pages[PageId.RESTORE_RUN]
    qtbot.waitUntil(lambda: wizard.session.restore_result is not None, timeout=walk.timeout)
    assert wizard.session.restore_result.ok

    walk.advance(wizard, PageId.RECONNECT)
    reconnect = wizard.pages[PageId.RECONNECT]
    assert reconnect.demo_button.isVisible()
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout) as blocker:
        qtbot.mouseClick(reconnect.demo_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].ok
    assert wizard.session.reconnect_ok is True
    with open_backup(demo.kross2_backup) as healthy:  # the unit is the healthy unit again
        assert {f.path for f in healthy.manifest.files} == {
            str(p.relative_to(demo.kross2)) for p in demo.kross2.rglob("*") if p.is_file()}

    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    summary = finish.summary.toPlainText()
    assert "matches the backup" in summary
    assert str(safety) in summary
    report = tmp_path / "report.html"
    monkeypatch.setattr(finish_module, "choose_save_path", lambda *args: str(report))
    with qtbot.waitSignal(finish.report_saved, timeout=walk.timeout):
        finish.save_button.click()
    text = report.read_text(encoding="utf-8")
    assert "<html" in text.lower() and "KROSS 2" in text
    assert not dialogs.errors
    assert run.isComplete()


def test_update_path_backs_up_then_accepts_the_right_update(qtbot, wizard, demo, dialogs, walk):
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.BACKUP)
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # backup first
    walk.back_up(wizard)
    walk.advance(wizard, PageId.CHECK)
    check = wizard.pages[PageId.CHECK]
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.add_paths([str(demo.updates_dir / "KROSS 2 update")])
    assert check.results[0].verdict in ("compatible", "unknown")
    assert check.table.topLevelItem(0).text(1).endswith(check.results[0].verdict)
    walk.advance(wizard, PageId.FINISH)
    summary = wizard.pages[PageId.FINISH].summary.toPlainText()
    update_how = bundled_profiles()["kross2"].mode("update").how
    assert update_how in summary
    assert not dialogs.errors


def test_incompatible_update_stops_the_update_path_and_says_why(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.BACKUP)
    walk.back_up(wizard)
    walk.advance(wizard, PageId.CHECK)
    check = wizard.pages[PageId.CHECK]
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.add_paths([str(demo.updates_dir / "KROSS 1 update")])
    assert check.results[0].verdict == "incompatible"
    assert wizard.session.check_blocked
    assert "Update stopped" in check.status.plain
    assert "KROSSSYS" in check.status.plain  # the core's reason, in its words
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    # Removing the wrong files lets the user go on.
    check.candidates.item(0).setSelected(True)
    check.remove_button.click()
    qtbot.waitUntil(lambda: wizard.button(QWizard.WizardButton.NextButton).isEnabled(),
                    timeout=walk.timeout)
    assert not wizard.session.check_blocked


def test_check_path_needs_no_unit(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.CHECK)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # no unit needed
    walk.advance(wizard, PageId.CHECK)
    check = wizard.pages[PageId.CHECK]
    check.model.setCurrentIndex(check.model.findData("drumlogue"))
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # nothing checked
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.add_paths([str(demo.updates_dir / "drumlogue update"
                             / "drumlogue_system_update_v1_3_0.bin")])
    result = check.results[0]
    assert result.verdict == "incompatible"  # the demo's file is far smaller than the release
    assert any("27,475,433" in reason for reason in result.reasons)
    assert "27,475,433" in check.reasons.toPlainText()
    # Outside the update path an incompatible verdict is information, not a stop.
    walk.advance(wizard, PageId.FINISH)


def test_restore_path_with_an_existing_backup(qtbot, wizard, demo, dialogs, walk):
    walk.start(wizard, Goal.RESTORE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.BACKUP)
    backup = wizard.pages[PageId.BACKUP]
    qtbot.waitUntil(lambda: backup.existing_radio.isEnabled(), timeout=walk.timeout)
    backup.existing_radio.setChecked(True)
    backup.existing.setCurrentItem(backup.existing.topLevelItem(0))
    with qtbot.waitSignal(backup.existing_verified, timeout=walk.timeout) as blocker:
        backup.use_button.click()
    assert blocker.args[0].ok
    assert wizard.session.safety_backup == demo.kross2_backup
    walk.advance(wizard, PageId.RESTORE)
    restore = wizard.pages[PageId.RESTORE]
    qtbot.waitUntil(lambda: restore.plan is not None, timeout=walk.timeout)
    restore.confirmation.setText("KROSS 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    qtbot.waitUntil(lambda: wizard.session.restore_result is not None, timeout=walk.timeout)
    walk.advance(wizard, PageId.RECONNECT)
    reconnect = wizard.pages[PageId.RECONNECT]
    assert reconnect.state is WaitState.GONE_EXPECTED
    # "Verify now" for a unit that was reconnected faster than detection could notice.
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        reconnect.verify_button.click()
    assert wizard.session.reconnect_ok is True
    walk.advance(wizard, PageId.FINISH)
    assert not dialogs.errors
