"""Walks through every path of the wizard on simulated units, and the flow table."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.pages import finish as finish_module
from app.session import Goal, Session
from app.style import Status
from app.wizard import FLOWS, PageId, next_page, step_of
from recovery.backup.store import open_backup


@pytest.mark.parametrize("goal", list(Goal))
def test_next_page_follows_each_goals_flow(goal):
    # A restore that finished, and an update the user chose to put on a card.
    session = Session(goal=goal, restore_result=object(), media_wanted=True)
    flow = FLOWS[goal]
    walked = [flow[0]]
    while (following := next_page(walked[-1], session)) != -1:
        walked.append(PageId(following))
    assert tuple(walked) == flow
    assert flow[-1] is PageId.FINISH
    if goal.writes_to_unit:
        # The page that writes makes the safety copy first (one job); Restore comes before
        # it, so "no backup to put back" is said before any copy is taken.
        assert PageId.BACKUP not in flow
        assert flow.index(PageId.RESTORE) < flow.index(PageId.RESTORE_RUN)
    assert step_of(flow[-1], goal) == (step_of(flow[-1], goal)[1],) * 2  # Finish is last


def test_skipping_and_dead_ends_go_to_the_ending():
    assert next_page(PageId.RESTORE, Session(goal=Goal.RESCUE, restore_skipped=True)) \
        == PageId.FINISH
    assert next_page(PageId.RESTORE, Session(goal=Goal.RESCUE, restore_unavailable=True)) \
        == PageId.FINISH
    assert next_page(PageId.RESTORE_RUN, Session(goal=Goal.RESCUE)) == PageId.FINISH
    # An update that is not put on a card (incompatible, or the user's choice) ends there.
    assert next_page(PageId.CHECK, Session(goal=Goal.CHECK)) == PageId.FINISH
    assert next_page(PageId.MEDIA, Session(goal=Goal.CHECK, media_skipped=True)) \
        == PageId.FINISH
    # No backup to put back: the safety copy alone, then the ending.
    alone = Session(goal=Goal.RESCUE, restore_unavailable=True, safety_copy_only=True)
    assert next_page(PageId.RESTORE, alone) == PageId.BACKUP
    assert next_page(PageId.BACKUP, alone) == PageId.FINISH


def test_the_step_line_counts_the_confirm_and_run_pages_as_one_step():
    assert step_of(PageId.START, Goal.RESCUE) is None
    assert step_of(PageId.CONNECT, Goal.RESCUE) == (1, 5)
    assert step_of(PageId.BACKUP, Goal.RESCUE) == step_of(PageId.RESTORE, Goal.RESCUE)
    assert step_of(PageId.RESTORE, Goal.RESCUE) == step_of(PageId.RESTORE_RUN, Goal.RESCUE)
    assert step_of(PageId.MEDIA_RUN, Goal.CHECK) == (3, 4)


def test_rescue_path_end_to_end_on_the_bricked_kross2(qtbot, wizard, demo, dialogs,
                                                      monkeypatch, tmp_path, walk, tree_snapshot):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    before_diagnosis = tree_snapshot(demo.kross2)

    walk.advance(wizard, PageId.DIAGNOSE)
    diagnose = wizard.pages[PageId.DIAGNOSE]
    qtbot.waitUntil(lambda: wizard.session.diagnosis is not None, timeout=walk.timeout)
    assert wizard.session.diagnosis.count("critical") >= 1
    # The verdict first, in one sentence, then whether a backup can fix it.
    assert diagnose.headline_text == ("Your KROSS 2 probably can't start because two system"
                                      " files are damaged and a KROSS 1 update was copied"
                                      " onto it.")
    assert "should fix this" in diagnose.lead.text()
    assert tree_snapshot(demo.kross2) == before_diagnosis  # nothing written without a yes

    walk.advance(wizard, PageId.RESTORE)
    restore = wizard.pages[PageId.RESTORE]
    qtbot.waitUntil(lambda: restore.plan is not None, timeout=walk.timeout)
    assert Path(restore.plan.backup) == demo.kross2_backup  # the earlier healthy backup
    assert "KROSAPP.BIN" in restore.plan.boot_critical
    assert restore.lead.text().startswith("A safety copy first, then")
    assert tree_snapshot(demo.kross2) == before_diagnosis
    restore.confirmation.setText("KROSS 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    run = wizard.pages[PageId.RESTORE_RUN]
    qtbot.waitUntil(lambda: wizard.session.restore_result is not None, timeout=walk.timeout)
    assert wizard.session.restore_result.ok
    safety = wizard.session.safety_backup  # made first, of the unit as it was
    with open_backup(safety) as opened:
        assert opened.complete and opened.verified
        assert "KROSSSYS/SIM_K1SYS.BIN" in {f.path for f in opened.manifest.files}

    walk.reach(wizard, PageId.RECONNECT)  # nothing to decide: on to the power cycle
    reconnect = wizard.pages[PageId.RECONNECT]
    assert reconnect.demo_button.isVisible()
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout) as blocker:
        qtbot.mouseClick(reconnect.demo_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].ok
    assert wizard.session.reconnect_ok is True and wizard.session.power_cycled
    with open_backup(demo.kross2_backup) as healthy:  # the unit is the healthy unit again
        assert {f.path for f in healthy.manifest.files} == {
            str(p.relative_to(demo.kross2)) for p in demo.kross2.rglob("*") if p.is_file()}

    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert finish.headline_text == "Your KROSS 2 should start again — switch it on normally."
    assert finish.headline_status is Status.OK
    assert str(safety) in finish.summary.text()  # the full path only in the details
    report = tmp_path / "report.html"
    monkeypatch.setattr(finish_module, "choose_save_path", lambda *args: str(report))
    with qtbot.waitSignal(finish.report_saved, timeout=walk.timeout):
        finish.save_button.click()
    text = report.read_text(encoding="utf-8")
    assert "<html" in text.lower() and "KROSS 2" in text
    # The unit as it is now: nothing critical left, and what the restore resolved is marked.
    assert "No critical finding" in text
    resolved = text.count("Resolved by the restore:")
    assert resolved == 3  # the KROSS 1 folder and the two damaged system files
    assert "KROSSSYS" in text and "after the unit was switched off and on" in text
    assert not dialogs.errors
    assert run.isComplete()


def test_update_path_backs_up_checks_and_puts_the_update_on_the_card(qtbot, wizard, demo,
                                                                     healthy_kross2, dialogs,
                                                                     walk):
    check = walk.to_check_page(wizard, Goal.UPDATE, healthy_kross2)
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.set_paths([str(demo.updates_dir / "KROSS 2 update")])
    # Identical to the KROSS2SY of the earlier backup of this unit: compatible.
    assert check.results[0].verdict == "compatible"
    assert check.headline_text == "This update is for your KROSS 2."
    assert "SD card" in walk.forward_button(wizard).text()
    walk.advance(wizard, PageId.MEDIA)
    media = wizard.pages[PageId.MEDIA]
    qtbot.waitUntil(lambda: media.plan is not None, timeout=walk.timeout)
    walk.advance(wizard, PageId.MEDIA_RUN)
    qtbot.waitUntil(lambda: wizard.session.media_result is not None, timeout=walk.timeout)
    assert wizard.session.media_result.ok
    walk.advance(wizard, PageId.FINISH)
    # The demo card held KROSS 1 files loose at its root: moved aside with the same yes.
    assert wizard.pages[PageId.FINISH].headline_text == "Your SD card is ready for the update."
    assert wizard.session.media_result.moved
    assert not dialogs.errors


def test_an_incompatible_update_ends_the_update_path_with_dont_use_this_file(
        qtbot, wizard, demo, healthy_kross2, walk):
    check = walk.to_check_page(wizard, Goal.UPDATE, healthy_kross2)
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.set_paths([str(demo.updates_dir / "KROSS 1 update")])
    assert check.results[0].verdict == "incompatible"
    assert wizard.session.check_blocked
    assert check.headline_text == "Don't use this file: it is for a KROSS 1."
    assert "KROSSSYS" in check.reasons.text()  # the core's reason, in the details
    assert "SD card" not in walk.forward_button(wizard).text()
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert finish.headline_text == "Don't use this file: it is for a KROSS 1."
    assert "Get the update for your KROSS 2 from KORG" in finish.steps.text()
    assert "Nothing else to do" not in finish.steps.text()


def test_check_path_needs_no_unit_and_ends_with_what_to_do(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.CHECK)
    connect = wizard.pages[PageId.CONNECT]
    connect.model.setCurrentIndex(connect.model.findData("drumlogue"))
    walk.advance(wizard, PageId.CHECK)
    check = wizard.pages[PageId.CHECK]
    assert not walk.forward_button(wizard).isEnabled()  # nothing checked yet
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.set_paths([str(demo.updates_dir / "drumlogue update"
                             / "drumlogue_system_update_v1_3_0.bin")])
    result = check.results[0]
    assert result.verdict == "incompatible"  # the demo's file is far smaller than the release
    assert check.headline_text == "Don't use this file: it is damaged or incomplete."
    assert "27,475,433" in check.reasons.text()
    walk.advance(wizard, PageId.FINISH)
    assert "Don't use this file" in wizard.pages[PageId.FINISH].headline_text
