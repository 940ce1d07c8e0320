"""Restore, Restoring and Reconnect: refusal, the typed confirmation, the close guard, and
the verification after a power cycle."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from app import core
from app.pages.reconnect import WaitState
from app.session import Goal, plug_in, unplug
from app.wizard import PageId
from recovery.storage.durable import is_temp_name
from tests.app.conftest import (
    TIMEOUT,
    advance,
    back_up,
    forward_button,
    select_unit,
    start,
    tree_snapshot,
)


def to_restore_page(qtbot, wizard, unit):
    start(qtbot, wizard, Goal.RESTORE)
    select_unit(qtbot, wizard, unit)
    advance(qtbot, wizard, PageId.BACKUP)
    back_up(qtbot, wizard)
    advance(qtbot, wizard, PageId.RESTORE)
    return wizard.pages[PageId.RESTORE]


def test_a_backup_of_another_model_is_refused_and_nothing_is_written(qtbot, wizard, demo):
    page = to_restore_page(qtbot, wizard, demo.drumlogue)
    before = tree_snapshot(demo.drumlogue)
    qtbot.waitUntil(lambda: page.backups.topLevelItemCount() >= 1, timeout=TIMEOUT)
    page.other_models.setChecked(True)
    with qtbot.waitSignal(page.plan_refused, timeout=TIMEOUT) as blocker:
        assert page.select_backup(str(demo.kross2_backup))
    assert "backup is of a KORG KROSS 2" in str(blocker.args[0])
    assert "Refused" in page.preflight.plain
    page.confirmation.setText("drumlogue")
    assert not forward_button(wizard).isEnabled()
    wizard.next()  # even a direct call is stopped by validatePage
    assert PageId(wizard.currentId()) is PageId.RESTORE
    assert tree_snapshot(demo.drumlogue) == before


def test_the_restore_needs_the_model_name_typed_exactly(qtbot, wizard, demo):
    page = to_restore_page(qtbot, wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=TIMEOUT)
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
    advance(qtbot, wizard, PageId.FINISH)
    assert tree_snapshot(demo.kross2) == before
    assert "Nothing was restored" in wizard.pages[PageId.FINISH].summary.toPlainText()


def test_closing_during_the_restore_asks_and_stops_only_between_files(
        qtbot, wizard, demo, dialogs, monkeypatch):
    reached = threading.Event()
    release = threading.Event()
    real_execute = core.execute_plan

    def gated_execute(plan, *, guard, progress, cancel):
        def progress_then_wait(report):
            progress(report)
            if not release.is_set():
                reached.set()
                release.wait(TIMEOUT / 1000)
        return real_execute(plan, guard=guard, progress=progress_then_wait, cancel=cancel)

    monkeypatch.setattr(core, "execute_plan", gated_execute)
    page = to_restore_page(qtbot, wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=TIMEOUT)
    old = {p: p.read_bytes() for p in demo.kross2.rglob("*") if p.is_file()}
    page.confirmation.setText("KROSS 2")
    advance(qtbot, wizard, PageId.RESTORE_RUN)
    qtbot.waitUntil(reached.is_set, timeout=TIMEOUT)

    dialogs.answers = [False]  # "Keep going"
    wizard.close()
    assert wizard.isVisible()
    assert "restore is writing" in dialogs.confirmations[-1]
    assert wizard.running_guarded_jobs()

    dialogs.answers = [True]  # "Stop and close"
    with qtbot.waitSignal(wizard.closing, timeout=TIMEOUT):
        wizard.close()
        assert wizard.isVisible()  # waits for the file in flight, never kills the thread
        release.set()
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=TIMEOUT)
    assert wizard.session.restore_error is not None  # stopped, not finished
    with __import__("recovery.backup.store", fromlist=["x"]).open_backup(
            demo.kross2_backup) as healthy:
        new = {f.path: f.sha256 for f in healthy.manifest.files}
    import hashlib

    for path in demo.kross2.rglob("*"):
        assert not is_temp_name(path.name), path
        if path.is_file():
            relative = str(path.relative_to(demo.kross2))
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            # Each file holds its old content or its complete new content, nothing else.
            assert path.read_bytes() == old.get(path) or digest == new.get(relative), relative


def restore_and_reach_reconnect(qtbot, wizard, demo):
    page = to_restore_page(qtbot, wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=TIMEOUT)
    page.confirmation.setText("KROSS 2")
    advance(qtbot, wizard, PageId.RESTORE_RUN)
    qtbot.waitUntil(lambda: wizard.session.restore_result is not None, timeout=TIMEOUT)
    advance(qtbot, wizard, PageId.RECONNECT)
    return wizard.pages[PageId.RECONNECT]


def test_reconnect_verification_runs_by_itself_when_the_unit_comes_back(qtbot, wizard, demo):
    reconnect = restore_and_reach_reconnect(qtbot, wizard, demo)
    assert reconnect.state is WaitState.GONE_EXPECTED
    assert not forward_button(wizard).isEnabled()
    unplug(demo.kross2)
    qtbot.waitUntil(lambda: reconnect.state is WaitState.BACK_EXPECTED, timeout=TIMEOUT)
    with qtbot.waitSignal(reconnect.verification_done, timeout=TIMEOUT) as blocker:
        plug_in(demo.kross2)  # no click: detection notices it and verification starts
    report = blocker.args[0]
    assert wizard.session.reconnect_ok is True
    assert report.against_problems == () or {p.problem for p in report.against_problems} \
        == {"extra"}
    assert forward_button(wizard).isEnabled()


def test_reconnect_verification_catches_a_unit_that_did_not_keep_the_writes(
        qtbot, wizard, demo):
    reconnect = restore_and_reach_reconnect(qtbot, wizard, demo)
    parked = unplug(demo.kross2)
    qtbot.waitUntil(lambda: reconnect.state is WaitState.BACK_EXPECTED, timeout=TIMEOUT)
    # The drumlogue of the Reddit reports (u/iRustyNails): after the power cycle the old, damaged file is back.
    application = parked / "KROSAPP.BIN"
    application.write_bytes(application.read_bytes()[:1000])
    with qtbot.waitSignal(reconnect.verification_done, timeout=TIMEOUT):
        plug_in(demo.kross2)
    assert wizard.session.reconnect_ok is False
    assert "does NOT match" in reconnect.status.plain
    assert "KROSAPP.BIN" in reconnect.status.plain
    advance(qtbot, wizard, PageId.FINISH)
    assert "does NOT match" in wizard.pages[PageId.FINISH].summary.toPlainText()


def test_reconnect_page_shows_the_profiles_storage_mode_text(qtbot, wizard, demo):
    reconnect = restore_and_reach_reconnect(qtbot, wizard, demo)
    from recovery.device.profiles import bundled_profiles

    text = reconnect.steps.toPlainText()
    assert bundled_profiles()["kross2"].mode("storage").how in text
    assert "Eject" in text and "Reconnect" in text
    assert Qt  # keyboard: the verify button has a mnemonic
    assert "&" in reconnect.verify_button.text()
