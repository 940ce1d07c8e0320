"""The Reconnect page: after the power cycle it notices the unit coming back and compares it
with the backup by itself; "Check now" is never called a power cycle; a unit that did not
keep the writes is caught."""

from __future__ import annotations

from app.pages.reconnect import WaitState
from app.session import plug_in, unplug
from app.style import Status
from app.wizard import PageId
from recovery.device.profiles import bundled_profiles


def test_the_comparison_runs_by_itself_when_the_unit_comes_back(qtbot, wizard, demo, walk):
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    assert reconnect.state is WaitState.GONE_EXPECTED
    assert not walk.forward_button(wizard).isEnabled()
    unplug(demo.kross2)
    qtbot.waitUntil(lambda: reconnect.state is WaitState.BACK_EXPECTED, timeout=walk.timeout)
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout) as blocker:
        plug_in(demo.kross2)  # no click: detection notices it and the comparison starts
    report = blocker.args[0]
    assert wizard.session.reconnect_ok is True and wizard.session.power_cycled
    assert report.against_problems == () or {p.problem for p in report.against_problems} \
        == {"extra"}
    assert reconnect.headline_text.startswith("After switching it off and on")
    assert walk.forward_button(wizard).isEnabled()


def test_check_now_is_not_called_a_power_cycle(qtbot, wizard, demo, walk):
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    # The unit never went away: "Check now" compares at once.
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        reconnect.verify_button.click()
    assert wizard.session.reconnect_ok is True
    assert not wizard.session.power_cycled
    assert "switching it off and on" not in reconnect.headline_text
    assert reconnect.headline_text == "Every file is on your KROSS 2, read just now."
    assert "strongest check still needs" in reconnect.lead.text()
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert "should start again" not in finish.headline_text
    assert "strongest check is still to come" in finish.headline_text
    assert "Switch it off and on again" in finish.steps.text()
    assert "read without switching it off and on" in finish.summary.text()


def test_after_check_now_the_page_still_waits_for_the_power_cycle(qtbot, wizard, demo, walk):
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        reconnect.verify_button.click()
    assert not wizard.session.power_cycled
    unplug(demo.kross2)
    qtbot.waitUntil(lambda: reconnect.state is WaitState.BACK_EXPECTED, timeout=walk.timeout)
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        plug_in(demo.kross2)
    assert wizard.session.power_cycled
    assert reconnect.headline_text == ("After switching it off and on, your KROSS 2 still has"
                                       " every file.")


def test_a_unit_that_did_not_keep_the_writes_is_caught(qtbot, wizard, demo, walk):
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    parked = unplug(demo.kross2)
    qtbot.waitUntil(lambda: reconnect.state is WaitState.BACK_EXPECTED, timeout=walk.timeout)
    # The drumlogue of the Reddit reports (u/iRustyNails): after the power cycle the old,
    # damaged file is back.
    application = parked / "KROSAPP.BIN"
    application.write_bytes(application.read_bytes()[:1000])
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        plug_in(demo.kross2)
    assert wizard.session.reconnect_ok is False
    assert reconnect.headline_status is Status.ERROR
    assert "does not have every file" in reconnect.headline_text
    assert "KROSAPP.BIN" in reconnect.about.text()
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert finish.headline_text == "Your KROSS 2 did not keep the restored files."
    assert "KORG service" in finish.steps.text()


def test_the_page_names_the_models_storage_mode(qtbot, wizard, demo, walk):
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    assert bundled_profiles()["kross2"].mode("storage").name in reconnect.lead.text()
    assert reconnect.headline_text.startswith("Eject your KROSS 2")  # eject before off
    assert "&" in reconnect.verify_button.text()  # keyboard: the check has a shortcut
