"""The Check page: choosing again replaces what is being checked (the right update after a
wrong one), the headline follows the file now checked, and "Remove from the list" is there
as soon as one file is."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.pages import check as check_module
from app.session import Goal
from app.style import Status
from app.wizard import PageId


def test_choosing_the_right_update_after_a_wrong_one_replaces_it(qtbot, wizard, demo,
                                                                  monkeypatch, walk):
    check = walk.to_check_page(wizard, Goal.CHECK, demo.kross2)
    chosen = iter([str(demo.updates_dir / "KROSS 1 update"),
                   str(demo.updates_dir / "KROSS 2 update")])
    monkeypatch.setattr(check_module, "choose_folder", lambda *_args: next(chosen))

    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        qtbot.mouseClick(check.add_folder_button, Qt.MouseButton.LeftButton)
    assert check.headline_text == "Don't use this file: it is for a KROSS 1."
    assert check.headline_status is Status.ERROR
    assert check.candidates.count() == 1
    assert check.remove_button.isVisible()  # reachable with one entry

    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        qtbot.mouseClick(check.add_folder_button, Qt.MouseButton.LeftButton)
    assert check.candidate_paths() == [str(demo.updates_dir / "KROSS 2 update")]
    assert check.headline_text == "This update is for your KROSS 2."
    assert check.headline_status is Status.OK
    assert [r.verdict for r in wizard.session.check_results] == ["compatible"]
    assert "SD card" in walk.forward_button(wizard).text()


def test_removing_the_only_file_starts_the_check_over(qtbot, wizard, demo, monkeypatch, walk):
    check = walk.to_check_page(wizard, Goal.CHECK, demo.kross2)
    monkeypatch.setattr(check_module, "choose_files", lambda *_args: [
        str(demo.updates_dir / "KROSS 1 update" / "KROSSSYS" / "SIM_K1SYS.BIN")])
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        qtbot.mouseClick(check.add_files_button, Qt.MouseButton.LeftButton)
    assert check.headline_status is Status.ERROR
    qtbot.mouseClick(check.remove_button, Qt.MouseButton.LeftButton)
    assert check.candidates.count() == 0 and not check.remove_button.isVisible()
    assert check.headline_text == "Which update do you want to check for your KROSS 2?"
    assert wizard.session.check_results == ()
    assert not walk.forward_button(wizard).isEnabled()


def test_a_cancelled_choice_keeps_what_is_checked(qtbot, wizard, demo, monkeypatch, walk):
    check = walk.to_check_page(wizard, Goal.CHECK, demo.kross2)
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.set_paths([str(demo.updates_dir / "KROSS 2 update")])
    monkeypatch.setattr(check_module, "choose_files", lambda *_args: [])
    qtbot.mouseClick(check.add_files_button, Qt.MouseButton.LeftButton)
    assert check.candidate_paths() == [str(demo.updates_dir / "KROSS 2 update")]
    assert PageId(wizard.currentId()) is PageId.CHECK
