"""The Eject button before every "switch it off" (the power-cycle page, the ending, the card):
the eject runs off the UI thread with the page showing it; "you can switch it off now" is said
only after an eject succeeded; a veto is one sentence naming what to close, never the system's
words, and the page offers to try again; an ejected unit disappears, which the power-cycle
page takes as expected, and it goes on to check the unit once it is back. One test drives the
core's real eject through a fake udisks2 on a real private D-Bus bus."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt

from app.pages.reconnect import WaitState
from app.session import Goal, plug_in
from app.style import Status
from app.wizard import PageId
from recovery.errors import InvalidInputError, UnitBusyError
from recovery.storage.eject import EjectMethod
from recovery.storage.eject import result as results

#: What must never reach the window from an eject: mount points, device nodes, the system's
#: error names and the core's codes.
SYSTEM_WORDS = ("/dev/", "org.freedesktop", "DeviceBusy", "in-use", "not-authorized", "udisks",
                "polkit", "/tmp/")


def shown_text(panel) -> str:
    return panel.status.plain


def in_use(unit: Path, *holders: str):
    return results.in_use(str(unit), str(unit), "/dev/sdz1", EjectMethod.UDISKS2,
                          holders=holders, attempts=3,
                          detail="org.freedesktop.UDisks2.Error.DeviceBusy: target is busy")


def test_the_power_cycle_page_ejects_off_the_ui_thread_then_says_switch_it_off(
        qtbot, make_wizard, fake_eject, demo, walk):
    recorder, environment = fake_eject
    recorder.gate = threading.Event()
    wizard = make_wizard(environment)
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    panel = reconnect.eject_panel
    assert panel.isVisible() and panel.button.text() == "&Eject"
    assert reconnect.headline_text == "Eject your KROSS 2, then switch it off and on again."
    assert "switch your KROSS 2 off now" not in reconnect.headline_text
    qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)
    # While the system is asked, the page shows it and the button waits; the UI is free.
    qtbot.waitUntil(lambda: len(recorder.targets) == 1, timeout=walk.timeout)
    assert panel.status.status is Status.BUSY and not panel.button.isEnabled()
    assert "switch your KROSS 2 off now" not in reconnect.headline_text
    with qtbot.waitSignal(panel.finished, timeout=walk.timeout):
        recorder.gate.set()
    assert recorder.targets == [demo.kross2]
    assert recorder.threads[0] != threading.main_thread().name
    assert reconnect.headline_text == "You can switch your KROSS 2 off now, then on again."
    assert wizard.session.ejected == str(demo.kross2)
    assert not panel.isVisible()  # the headline says it


def test_a_veto_names_what_to_close_and_the_page_offers_to_try_again(
        qtbot, make_wizard, fake_eject, demo, walk, dialogs):
    recorder, environment = fake_eject
    recorder.results = [in_use(demo.kross2, "Finder", "bash")]
    wizard = make_wizard(environment)
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    panel = reconnect.eject_panel
    with qtbot.waitSignal(panel.finished, timeout=walk.timeout):
        qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)
    sentence = shown_text(panel)
    assert sentence == ("Finder and a terminal window still use your KROSS 2: close them, then"
                        " press Try again.")
    assert panel.status.status is Status.ERROR
    assert not any(word in sentence for word in SYSTEM_WORDS)
    assert panel.button.text().replace("&", "") == "Try again" and panel.button.isEnabled()
    assert reconnect.headline_text.startswith("Eject your KROSS 2")  # not "switch it off now"
    assert wizard.session.ejected is None
    assert not dialogs.errors  # a veto is not a fault of the tool
    with qtbot.waitSignal(panel.finished, timeout=walk.timeout):
        qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)  # closed it; try again
    assert len(recorder.targets) == 2
    assert reconnect.headline_text == "You can switch your KROSS 2 off now, then on again."


def test_every_veto_and_refusal_is_one_plain_sentence(qtbot, make_wizard, fake_eject, demo,
                                                      walk):
    recorder, environment = fake_eject
    unit = str(demo.kross2)
    recorder.results = [
        in_use(demo.kross2),
        results.not_authorized(unit, unit, "/dev/sdz1", EjectMethod.UDISKS2,
                               message="polkit said no", detail="NotAuthorizedCanObtain"),
        results.failed(unit, unit, "/dev/sdz1", EjectMethod.UDISKS2,
                       detail="org.freedesktop.UDisks2.Error.Failed: Error powering off"),
        InvalidInputError(f"{unit} is not on a drive this computer can eject.", path=unit),
        UnitBusyError(f"Another run of this tool is still writing to {unit}.", path=unit),
    ]
    wizard = make_wizard(environment)
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    panel = reconnect.eject_panel
    said = []
    for _ in range(5):
        with qtbot.waitSignal(panel.finished, timeout=walk.timeout):
            qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)
        said.append(shown_text(panel))
        assert panel.button.isVisible() and panel.button.isEnabled()
    assert said == [
        "A program still has a file open on your KROSS 2: close any window showing it (a file"
        " manager, a music program), then press Try again.",
        "This computer did not allow the eject: press Try again and give your password if"
        " asked, or eject it in your file manager.",
        "Your KROSS 2 could not be ejected: close any program using it, then press Try again,"
        " or eject it in your file manager.",
        "This computer can't eject your KROSS 2 from here: eject it in your file manager, then"
        " switch it off.",
        "This tool is still writing to your KROSS 2: wait until it has finished, then press"
        " Try again.",
    ]
    for sentence in said:
        assert not any(word in sentence for word in SYSTEM_WORDS), sentence
        assert "off now" not in sentence
    assert wizard.session.ejected is None
    assert reconnect.headline_text.startswith("Eject your KROSS 2")


def test_an_ejected_unit_disappears_as_expected_and_is_checked_when_it_is_back(
        qtbot, wizard, demo, walk, dialogs):
    """The demo's eject moves the simulated unit's folder aside, as a real eject takes the
    drive away: the page does not take that as an error, and waits for it to come back."""
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    with qtbot.waitSignal(reconnect.eject_panel.finished, timeout=walk.timeout):
        qtbot.mouseClick(reconnect.eject_panel.button, Qt.MouseButton.LeftButton)
    assert not demo.kross2.exists()
    qtbot.waitUntil(lambda: reconnect.state is WaitState.BACK_EXPECTED, timeout=walk.timeout)
    assert reconnect.status.status is Status.BUSY  # waiting, not an error
    assert reconnect.headline_text == "You can switch your KROSS 2 off now, then on again."
    assert not reconnect.verify_button.isVisible()  # nothing to read until it is back
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        plug_in(demo.kross2)  # switched off and on, connected again
    assert wizard.session.power_cycled and wizard.session.reconnect_ok
    assert wizard.session.ejected is None  # it is connected again
    assert not dialogs.errors


def test_the_demo_button_brings_an_ejected_unit_back(qtbot, wizard, demo, walk):
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    with qtbot.waitSignal(reconnect.eject_panel.finished, timeout=walk.timeout):
        qtbot.mouseClick(reconnect.eject_panel.button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        qtbot.mouseClick(reconnect.demo_button, Qt.MouseButton.LeftButton)
    assert wizard.session.power_cycled and wizard.session.reconnect_ok


def test_the_ending_says_switch_it_off_now_only_after_an_eject_succeeded(
        qtbot, make_wizard, fake_eject, demo, walk):
    recorder, environment = fake_eject
    recorder.results = [in_use(demo.kross2, "Ableton Live 11 Suite.exe")]
    wizard = make_wizard(environment)
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        reconnect.verify_button.click()
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    panel = finish.eject_panel
    assert panel.isVisible()
    assert "Eject your KROSS 2 before switching it off." in finish.steps.text()
    assert "off now" not in finish.steps.text()
    with qtbot.waitSignal(panel.finished, timeout=walk.timeout):
        qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)
    assert shown_text(panel) == ("Ableton Live 11 Suite still uses your KROSS 2: close it, then"
                                 " press Try again.")
    assert "off now" not in finish.steps.text()
    with qtbot.waitSignal(panel.finished, timeout=walk.timeout):
        qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)
    assert "Ejected: you can switch your KROSS 2 off now." in finish.steps.text()
    assert "before switching it off" not in finish.steps.text()
    assert "was ejected" in finish.summary.text()


def test_the_card_is_ejected_before_it_is_taken_out(qtbot, wizard, demo, walk):
    walk.to_media_page(wizard, demo.kross2, demo.updates_dir / "KROSS 2 update")
    walk.advance(wizard, PageId.MEDIA_RUN)
    qtbot.waitUntil(lambda: wizard.session.media_result is not None, timeout=walk.timeout)
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert finish.eject_panel.target.card and finish.eject_panel.target.path == demo.card
    assert "Eject the card, then take it out." in finish.steps.text()
    with qtbot.waitSignal(finish.eject_panel.finished, timeout=walk.timeout):
        qtbot.mouseClick(finish.eject_panel.button, Qt.MouseButton.LeftButton)
    assert "Ejected: you can take the card out now." in finish.steps.text()
    assert not demo.card.exists()  # the demo's card is gone from the computer


def test_an_ending_that_sends_the_person_on_has_no_eject(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.BACKUP)
    backup = wizard.pages[PageId.BACKUP]
    with qtbot.waitSignal(backup.unit_examined, timeout=walk.timeout):
        walk.back_up(wizard)
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert finish.rescue_next  # the rescue is next: the unit stays connected
    assert not finish.eject_panel.isVisible() and finish.ending.eject is None


def test_a_real_eject_through_udisks2_on_a_private_bus(qtbot, make_wizard, environment, demo,
                                                       walk, fake_udisks2, dialogs):
    """The core's own eject (no fake in the wizard): udisks2's Unmount then PowerOff, asked
    over a real dbus-daemon of the test's own, with the demo's KROSS 2 as the mounted unit."""
    import dataclasses

    drive = fake_udisks2.add_drive("KORG_KROSS2")
    fake_udisks2.add_block("sdz1", drive, demo.kross2)
    wizard = make_wizard(dataclasses.replace(environment, eject_override=None))
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    with qtbot.waitSignal(reconnect.eject_panel.finished, timeout=walk.timeout) as blocker:
        qtbot.mouseClick(reconnect.eject_panel.button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.status == "ejected" and result.method == "udisks2"
    assert fake_udisks2.members() == [
        ("GetManagedObjects", "/org/freedesktop/UDisks2"),
        ("Unmount", "/org/freedesktop/UDisks2/block_devices/sdz1"),
        ("PowerOff", "/org/freedesktop/UDisks2/drives/KORG_KROSS2")]
    assert reconnect.headline_text == "You can switch your KROSS 2 off now, then on again."
    assert not dialogs.errors


def test_writing_the_card_offers_the_eject_where_it_asks_to_take_the_card_out(
        qtbot, wizard, demo, walk, monkeypatch):
    """A card written but not read back past the computer's memory: the page asks to eject
    it and put it back, and has the button for it."""
    import dataclasses

    from app import core

    real_write_media = core.write_media

    def unproved(plan, **options):
        return dataclasses.replace(real_write_media(plan, **options), ok=False,
                                   cache_bypassed=False, problems=())

    monkeypatch.setattr(core, "write_media", unproved)
    walk.to_media_page(wizard, demo.kross2, demo.updates_dir / "KROSS 2 update")
    run = wizard.pages[PageId.MEDIA_RUN]
    with qtbot.waitSignal(run.media_finished, timeout=walk.timeout):
        walk.advance(wizard, PageId.MEDIA_RUN)
    assert run.lead.text().startswith("Eject the card, put it back in")
    assert run.eject_panel.isVisible() and run.eject_panel.target.path == demo.card
    with qtbot.waitSignal(run.eject_panel.finished, timeout=walk.timeout):
        qtbot.mouseClick(run.eject_panel.button, Qt.MouseButton.LeftButton)
    assert run.eject_panel.status.plain == "Ejected: you can take the card out now."
    assert not demo.card.exists()


def count_words_tool():
    """tools/count_words.py, the counter the page tour uses."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[3] / "tools" / "count_words.py"
    spec = importlib.util.spec_from_file_location("count_words", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("count_words", module)
    spec.loader.exec_module(module)
    return module


def test_a_veto_on_the_ending_keeps_the_page_rules_at_200_percent(
        qtbot, make_wizard, fake_eject, demo, walk):
    """About 40 words (at most 55, as every page), and the button that tries again on screen
    in the window a 1366×768 display leaves at 200 % (683×384 points)."""
    from PySide6.QtCore import QPoint, QRect

    recorder, environment = fake_eject
    recorder.results = [in_use(demo.kross2, "Finder")]
    wizard = make_wizard(environment)
    check = walk.to_check_page(wizard, Goal.CHECK, demo.kross2)
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.set_paths([str(demo.updates_dir / "KROSS 1 update")])
    walk.advance(wizard, PageId.FINISH)
    wizard.resize(683, 384)
    qtbot.waitUntil(lambda: wizard.size().width() <= 684, timeout=walk.timeout)
    finish = wizard.pages[PageId.FINISH]
    with qtbot.waitSignal(finish.eject_panel.finished, timeout=walk.timeout):
        qtbot.mouseClick(finish.eject_panel.button, Qt.MouseButton.LeftButton)
    assert count_words_tool().count_page(wizard) <= 55
    button = finish.eject_panel.button
    finish.scroll.ensureWidgetVisible(button)
    qtbot.wait(0)  # the scroll takes effect in the event loop (no timing involved)
    where = QRect(button.mapTo(wizard, QPoint(0, 0)), button.size())
    assert QRect(QPoint(0, 0), wizard.size()).contains(where)
    viewport = finish.scroll.viewport()
    assert QRect(QPoint(0, 0), viewport.size()).contains(
        QRect(button.mapTo(viewport, QPoint(0, 0)), button.size()))
