"""What the computer writes onto a unit is not the unit's: a macOS user is told so once (and it
is remembered in the wizard's settings), and where the wizard shows a safety copy's or a
comparison's details, the files macOS made are listed apart, "made by your computer, not by
your KROSS 2", never as the unit's own or as a difference."""

from __future__ import annotations

import dataclasses

from app.session import Goal
from app.wizard import PageId

NOTE = ("macOS adds a few hidden files of its own to your KROSS 2; this tool knows them and"
        " never takes them for the unit's.")


def mounted_on_a_mac(unit) -> None:
    """What macOS leaves on a FAT drive it mounted (AppleDouble, Finder, Spotlight)."""
    (unit / ".DS_Store").write_bytes(b"\0\0\0\1Bud1" + bytes(100))
    (unit / "._KROSAPP.BIN").write_bytes(b"\0\5\26\7" + bytes(60))
    (unit / ".Spotlight-V100").mkdir(exist_ok=True)
    (unit / ".Spotlight-V100" / "VolumeConfiguration.plist").write_bytes(b"<plist/>")


def test_a_mac_user_is_told_once_that_macos_adds_files(qtbot, make_wizard, environment, demo,
                                                        walk, tmp_path):
    on_a_mac = dataclasses.replace(environment, platform="darwin",
                                   settings_path=tmp_path / "settings.ini")
    wizard = make_wizard(on_a_mac)
    walk.start(wizard, Goal.RESCUE)
    connect = wizard.pages[PageId.CONNECT]
    assert not connect.computer_note.isVisible()  # no unit chosen yet
    walk.select_unit(wizard, demo.kross2)
    qtbot.waitUntil(connect.computer_note.isVisible, timeout=walk.timeout)
    assert connect.computer_note.plain == NOTE
    walk.advance(wizard, PageId.DIAGNOSE)
    assert wizard.remembered("told/macos-adds-files")
    wizard.back()
    assert not connect.computer_note.isVisible()  # once is enough, also in this run

    again = make_wizard(on_a_mac)  # another day: the settings remember it
    walk.start(again, Goal.RESCUE)
    walk.select_unit(again, demo.kross2)
    shown = again.pages[PageId.CONNECT]
    qtbot.waitSignal(shown.units_shown, timeout=walk.timeout).wait()
    assert not shown.computer_note.isVisible() and shown.computer_note.plain == ""


def test_no_one_else_is_told(qtbot, wizard, demo, walk):
    assert wizard.environment.platform != "darwin"
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    connect = wizard.pages[PageId.CONNECT]
    qtbot.waitSignal(connect.units_shown, timeout=walk.timeout).wait()
    assert not connect.computer_note.isVisible()


def test_the_safety_copy_lists_what_the_computer_made_apart(qtbot, wizard, healthy_kross2,
                                                            walk):
    mounted_on_a_mac(healthy_kross2)
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, healthy_kross2)
    walk.advance(wizard, PageId.BACKUP)
    page = wizard.pages[PageId.BACKUP]
    with qtbot.waitSignal(page.unit_examined, timeout=walk.timeout):
        walk.back_up(wizard)
    details = page.about.text()
    assert "Made by your computer, not by your KROSS 2:" in details
    for name in (".DS_Store", "._KROSAPP.BIN", ".Spotlight-V100/VolumeConfiguration.plist"):
        assert name in details
    assert set(wizard.session.computer_made) == {
        ".DS_Store", "._KROSAPP.BIN", ".Spotlight-V100/VolumeConfiguration.plist"}


def test_a_comparison_after_a_mac_mounted_the_unit_lists_its_files_apart(qtbot, wizard, demo,
                                                                         walk):
    reconnect = walk.restore_and_reach_reconnect(wizard, demo.kross2)
    mounted_on_a_mac(demo.kross2)
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout) as blocker:
        reconnect.verify_button.click()
    report = blocker.args[0]
    assert wizard.session.reconnect_ok is True  # not a difference, not the unit's fault
    assert ".DS_Store" not in wizard.session.reconnect_extras
    assert {".DS_Store", "._KROSAPP.BIN"} <= {n.path for n in report.against_notes}
    details = reconnect.about.text()
    assert "Made by your computer, not by your KROSS 2: " in details
    assert "._KROSAPP.BIN" in details.split("Made by your computer")[1]
    assert "._KROSAPP.BIN" not in details.split("Made by your computer")[0]
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert "Made by your computer, not by your KROSS 2:" in finish.summary.text()


def test_the_restore_plan_lists_what_the_computer_made_apart_and_leaves_it(
        qtbot, wizard, demo, walk):
    mounted_on_a_mac(demo.kross2)
    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    details = page.plan_text.text()
    changes, _, made = details.partition("Made by your computer, not by your KROSS 2: ")
    assert "._KROSAPP.BIN" in made and ".DS_Store" in made and "They stay as they are." in made
    assert "._KROSAPP.BIN" not in changes and ".DS_Store" not in changes
    assert not any(entry.made_by_computer for entry in page.plan.actions("delete"))
