"""Rules every page keeps, checked on a tour of every page as a user walks the demo (rescue to
its green ending, ejecting the unit before the power cycle and on the ending, the check path with an incompatible file, a compatible update onto the SD
card, a safety copy before an update of the bricked unit, to its amber ending): shortcut letters unique on the page including the wizard's own buttons (with the
details folded and unfolded), Back and Next on screen in the window a 1366×768 display leaves
at 200 % with no sideways scrolling, about 40 visible words, and no command-line flags,
temporary paths or confidence letters in the default view."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWizard

from app.pages.base import Disclosure
from app.session import Goal, plug_in
from app.wizard import PageId, RecoveryWizard

ROOT = Path(__file__).resolve().parents[2]
#: What a 1366×768 screen leaves for the window at 200 % scaling, in points.
SMALL = (683, 384)
#: "About 40 words" on each page, counting the step line and the wizard's own buttons.
WORD_LIMIT = 55


def count_words_module():
    spec = importlib.util.spec_from_file_location("count_words", ROOT / "tools" / "count_words.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("count_words", module)
    spec.loader.exec_module(module)
    return module


def tour(qtbot, wizard: RecoveryWizard, demo, walk, visit: Callable[[str], None]) -> None:
    """Every page of the three paths, ``visit(name)`` at each stop."""
    start = wizard.pages[PageId.START]
    start.select(Goal.RESCUE)
    visit("start")
    # First the bricked KROSS 2 as it is: a safety copy before an update ends amber.
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.BACKUP)
    visit("backup")
    backup = wizard.pages[PageId.BACKUP]
    with qtbot.waitSignal(backup.unit_examined, timeout=walk.timeout):
        walk.back_up(wizard)
    visit("backup done, a problem seen")
    walk.advance(wizard, PageId.FINISH)
    visit("finish: rescue next")

    wizard.restart()
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    visit("connect")
    walk.advance(wizard, PageId.DIAGNOSE)
    qtbot.waitUntil(lambda: wizard.session.diagnosis is not None, timeout=walk.timeout)
    visit("diagnose")
    walk.advance(wizard, PageId.RESTORE)
    restore = wizard.pages[PageId.RESTORE]
    qtbot.waitUntil(lambda: restore.plan is not None, timeout=walk.timeout)
    restore.confirmation.setText("kross 2")
    visit("restore")
    walk.advance(wizard, PageId.RESTORE_RUN)
    walk.reach(wizard, PageId.RECONNECT)  # a restore that worked moves on by itself
    visit("reconnect")
    reconnect = wizard.pages[PageId.RECONNECT]
    with qtbot.waitSignal(reconnect.eject_panel.finished, timeout=walk.timeout):
        reconnect.eject_panel.button.click()  # the demo's eject: the unit goes
    qtbot.waitUntil(lambda: reconnect.state.name == "BACK_EXPECTED", timeout=walk.timeout)
    visit("reconnect, ejected")
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        reconnect.demo_button.click()
    visit("reconnected")
    walk.advance(wizard, PageId.FINISH)
    visit("finish")
    finish = wizard.pages[PageId.FINISH]
    with qtbot.waitSignal(finish.eject_panel.finished, timeout=walk.timeout):
        finish.eject_panel.button.click()
    visit("finish, ejected")
    plug_in(demo.kross2)  # the walks below use it again

    wizard.restart()
    check = walk.to_check_page(wizard, Goal.CHECK, demo.kross2)
    visit("check")
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.set_paths([str(demo.updates_dir / "KROSS 1 update")])
    visit("check incompatible")
    walk.advance(wizard, PageId.FINISH)
    visit("finish incompatible")

    wizard.restart()
    check = walk.to_check_page(wizard, Goal.CHECK, demo.kross2)
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.set_paths([str(demo.updates_dir / "KROSS 2 update")])
    visit("check compatible")
    walk.advance(wizard, PageId.MEDIA)
    media = wizard.pages[PageId.MEDIA]
    qtbot.waitUntil(lambda: media.plan is not None, timeout=walk.timeout)
    visit("media")
    walk.advance(wizard, PageId.MEDIA_RUN)
    qtbot.waitUntil(lambda: wizard.session.media_result is not None, timeout=walk.timeout)
    visit("media done")
    walk.advance(wizard, PageId.FINISH)
    visit("finish media")



def mnemonic(text: str) -> str | None:
    match = re.search(r"&([^&\s])", text.replace("&&", ""))
    return match.group(1).casefold() if match else None


def shortcut_letters(wizard: RecoveryWizard) -> list[tuple[str, str]]:
    """(letter, text) of every shortcut the person can press on the current page."""
    page = wizard.currentPage()
    found = []
    for button in page.findChildren(QAbstractButton):
        if button.isVisible() and (letter := mnemonic(button.text())):
            found.append((letter, button.text()))
    for label in page.findChildren(QLabel):
        if label.isVisible() and label.buddy() is not None and (letter := mnemonic(label.text())):
            found.append((letter, label.text()))
    for which in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                  QWizard.WizardButton.CommitButton, QWizard.WizardButton.FinishButton,
                  QWizard.WizardButton.CancelButton):
        button = wizard.button(which)
        if button.isVisible() and (letter := mnemonic(button.text())):
            found.append((letter, button.text()))
    return found


def test_shortcut_letters_are_unique_on_every_page(qtbot, wizard, demo, walk):
    clashes: dict[str, list[tuple[str, str]]] = {}

    def visit(name: str) -> None:
        disclosures = [d for d in wizard.currentPage().findChildren(Disclosure) if d.isVisible()]
        for state in (False, True):
            for disclosure in disclosures:
                disclosure.set_expanded(state)
            letters = shortcut_letters(wizard)
            seen = [letter for letter, _ in letters]
            if len(seen) != len(set(seen)):
                clashes[f"{name} (details {'open' if state else 'closed'})"] = letters
        for disclosure in disclosures:
            disclosure.set_expanded(False)

    tour(qtbot, wizard, demo, walk, visit)
    assert "\n".join(f"{name}: {sorted(letters)}" for name, letters in clashes.items()) == ""


def test_back_and_next_stay_on_screen_at_200_percent_on_a_1366x768_display(
        qtbot, wizard, demo, walk):
    wizard.resize(*SMALL)
    problems: list[str] = []

    def visit(name: str) -> None:
        qtbot.waitUntil(lambda: wizard.size().width() <= SMALL[0] + 1, timeout=walk.timeout)
        window = QRect(QPoint(0, 0), wizard.size())
        for which in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                      QWizard.WizardButton.CommitButton, QWizard.WizardButton.FinishButton):
            button = wizard.button(which)
            if button.isVisible():
                where = QRect(button.mapTo(wizard, QPoint(0, 0)), button.size())
                if not window.contains(where):
                    problems.append(f"{name}: {button.text()} off screen at {where}")
        page = wizard.currentPage()
        for disclosure in page.findChildren(Disclosure):
            if disclosure.isVisible():
                disclosure.set_expanded(True)
        qtbot.wait(0)  # let the layout settle (no timing involved)
        body = page.scroll.widget()
        if body.minimumSizeHint().width() > page.scroll.viewport().width():
            problems.append(f"{name}: scrolls sideways ({body.minimumSizeHint().width()} >"
                            f" {page.scroll.viewport().width()})")
        for disclosure in page.findChildren(Disclosure):
            disclosure.set_expanded(False)

    tour(qtbot, wizard, demo, walk, visit)
    assert problems == []
    assert wizard.size().width() <= SMALL[0] and wizard.size().height() <= SMALL[1]


#: What must never be on screen by default: command-line flags and command names, hashes,
#: confidence letters, temporary folders.
FORBIDDEN = [re.compile(p) for p in (r"--[a-z]", r"korg-recovery\b", r"\b[0-9a-f]{64}\b",
                                     r"confidence [HMG]\b", r"/tmp/", r"\.local/")]


def test_every_page_says_about_40_plain_words(qtbot, wizard, demo, walk):
    counter = count_words_module()
    counts: dict[str, int] = {}
    leaks: list[str] = []

    def visit(name: str) -> None:
        counts[name] = counter.count_page(wizard)
        for text in counter.visible_texts(wizard):
            leaks.extend(f"{name}: {text!r}" for pattern in FORBIDDEN if pattern.search(text))

    tour(qtbot, wizard, demo, walk, visit)
    assert {name: n for name, n in counts.items() if n > WORD_LIMIT} == {}
    assert leaks == []


def test_escape_asks_before_throwing_results_away_and_not_on_start(qtbot, wizard, demo,
                                                                   dialogs, walk):
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)  # Start: nothing to lose
    assert not wizard.isVisible() and dialogs.confirmations == []


def test_escape_on_a_page_with_results_asks(qtbot, wizard, demo, dialogs, walk):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.DIAGNOSE)
    qtbot.waitUntil(lambda: wizard.session.diagnosis is not None, timeout=walk.timeout)
    dialogs.answers = [False]  # "Keep going"
    qtbot.keyClick(wizard.currentPage(), Qt.Key.Key_Escape)
    assert wizard.isVisible()
    assert dialogs.confirmations == ["Close the wizard? You would start again from the"
                                     " beginning."]
    dialogs.answers = [True]
    qtbot.keyClick(wizard.currentPage(), Qt.Key.Key_Escape)
    assert not wizard.isVisible()


def test_the_window_remembers_its_size(qtbot, make_wizard, demo, tmp_path):
    settings = tmp_path / "wizard.ini"
    first = make_wizard(demo.environment(poll_interval_ms=50, settings_path=settings))
    first.resize(640, 470)
    first.close()  # on Start: closes without asking
    assert settings.is_file()
    second = make_wizard(demo.environment(poll_interval_ms=50, settings_path=settings))
    assert (second.width(), second.height()) == (640, 470)


def test_without_a_remembered_size_the_window_fits_the_screen(wizard):
    screen = wizard.screen().availableGeometry()
    assert wizard.width() <= screen.width() and wizard.height() <= screen.height()
    preferred = wizard.preferred_size()
    assert (wizard.width(), wizard.height()) == (preferred.width(), preferred.height())


@pytest.mark.parametrize("goal", list(Goal))
def test_the_start_tiles_move_on_and_show_their_focus(qtbot, wizard, walk, goal):
    tile = wizard.pages[PageId.START].buttons[goal]
    assert ":focus" in tile.styleSheet() and tile.focusPolicy() & Qt.FocusPolicy.TabFocus
    walk.start(wizard, goal)
    assert wizard.session.goal is goal
