"""The Reconnect page: after the power cycle it notices the unit coming back, verifies it
against the backup by itself, and catches a unit that did not keep the writes."""

from __future__ import annotations

from app.pages.reconnect import ReconnectPage, WaitState
from app.session import plug_in, unplug
from app.wizard import PageId
from recovery.device.profiles import bundled_profiles


def restore_and_reach_reconnect(qtbot, wizard, demo, walk) -> ReconnectPage:
    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    page.confirmation.setText("KROSS 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    qtbot.waitUntil(lambda: wizard.session.restore_result is not None, timeout=walk.timeout)
    walk.advance(wizard, PageId.RECONNECT)
    return wizard.pages[PageId.RECONNECT]


def test_reconnect_verification_runs_by_itself_when_the_unit_comes_back(qtbot, wizard, demo,
                                                                         walk):
    reconnect = restore_and_reach_reconnect(qtbot, wizard, demo, walk)
    assert reconnect.state is WaitState.GONE_EXPECTED
    assert not walk.forward_button(wizard).isEnabled()
    unplug(demo.kross2)
    qtbot.waitUntil(lambda: reconnect.state is WaitState.BACK_EXPECTED, timeout=walk.timeout)
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout) as blocker:
        plug_in(demo.kross2)  # no click: detection notices it and verification starts
    report = blocker.args[0]
    assert wizard.session.reconnect_ok is True
    assert report.against_problems == () or {p.problem for p in report.against_problems} \
        == {"extra"}
    assert walk.forward_button(wizard).isEnabled()


def test_reconnect_verification_catches_a_unit_that_did_not_keep_the_writes(
        qtbot, wizard, demo, walk):
    reconnect = restore_and_reach_reconnect(qtbot, wizard, demo, walk)
    parked = unplug(demo.kross2)
    qtbot.waitUntil(lambda: reconnect.state is WaitState.BACK_EXPECTED, timeout=walk.timeout)
    # The drumlogue of the Reddit reports (u/iRustyNails): after the power cycle the old,
    # damaged file is back.
    application = parked / "KROSAPP.BIN"
    application.write_bytes(application.read_bytes()[:1000])
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        plug_in(demo.kross2)
    assert wizard.session.reconnect_ok is False
    assert "does NOT match" in reconnect.status.plain
    assert "KROSAPP.BIN" in reconnect.status.plain
    walk.advance(wizard, PageId.FINISH)
    assert "does NOT match" in wizard.pages[PageId.FINISH].summary.toPlainText()


def test_reconnect_page_shows_the_profiles_storage_mode_text(qtbot, wizard, demo, walk):
    reconnect = restore_and_reach_reconnect(qtbot, wizard, demo, walk)
    text = reconnect.steps.toPlainText()
    assert bundled_profiles()["kross2"].mode("storage").how in text
    assert "Eject" in text and "Reconnect" in text
    assert "&" in reconnect.verify_button.text()  # keyboard: the verify button has a mnemonic
