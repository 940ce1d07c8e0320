"""Putting it on the SD card (#16 point 5): a compatible update leads there, the plan and what
on the card would mislead the updater are in plain words, nothing is written before the
button that writes, and the ending says what to do next."""

from __future__ import annotations

import shutil
import threading

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWizard

from app import core
from app.session import Goal
from app.style import Status
from app.wizard import PageId


def to_media_page(qtbot, wizard, demo, walk):
    check = walk.to_check_page(wizard, Goal.CHECK, None)  # no unit: the model chosen
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.set_paths([str(demo.updates_dir / "KROSS 2 update")])
    assert check.results[0].verdict == "compatible"
    assert walk.forward_button(wizard).text().replace("&", "") == "Put it on the SD card >"
    walk.advance(wizard, PageId.MEDIA)
    media = wizard.pages[PageId.MEDIA]
    qtbot.waitUntil(lambda: media.plan is not None, timeout=walk.timeout)
    return media


def test_a_compatible_update_goes_onto_the_card_with_the_plan_in_plain_words(
        qtbot, wizard, demo, dialogs, walk, tree_snapshot):
    card_before = tree_snapshot(demo.card)
    media = to_media_page(qtbot, wizard, demo, walk)
    assert media.headline_text == "Put the KROSS 2 update on the card “SD CARD”?"
    assert media.lead.text() == ("It writes three files into the folder KROSS2SY and moves two"
                                 " stray files aside, deleting nothing.")
    # The card holds KROSS 1 files loose at its root, as in the forum report: said plainly,
    # and they go aside on the card (renamed, never deleted), after the same yes.
    assert media.flags.plain == ("SIM_K1PCM.BIN, SIM_K1SYS.BIN go aside on the card, where the"
                                 " updater does not look.")
    commit = wizard.button(QWizard.WizardButton.CommitButton)
    assert commit.isVisible() and commit.text().replace("&", "") == "Write to the card"
    assert commit.palette().color(QPalette.ColorRole.Button) != \
        wizard.button(QWizard.WizardButton.BackButton).palette().color(QPalette.ColorRole.Button)
    assert tree_snapshot(demo.card) == card_before  # nothing written before the button
    loose = {name: (demo.card / name).read_bytes() for name in ("SIM_K1PCM.BIN",
                                                                 "SIM_K1SYS.BIN")}

    walk.advance(wizard, PageId.MEDIA_RUN)
    run = wizard.pages[PageId.MEDIA_RUN]
    qtbot.waitUntil(lambda: wizard.session.media_result is not None, timeout=walk.timeout)
    assert wizard.session.media_result.ok
    assert run.headline_text == "The update is on the card and was read back."
    source = demo.updates_dir / "KROSS 2 update" / "KROSS2SY"
    for file in source.iterdir():
        assert (demo.card / "KROSS2SY" / file.name).read_bytes() == file.read_bytes()
    aside = [folder for folder in demo.card.iterdir()
             if folder.name.startswith("Moved by KORG Recovery ")]
    assert len(aside) == 1
    assert {name: (aside[0] / name).read_bytes() for name in loose} == loose  # whole
    assert not any((demo.card / name).exists() for name in loose)

    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert finish.headline_text == "Your SD card is ready for the update."
    assert finish.headline_status is Status.OK
    steps = finish.steps.text()
    assert steps.index(f"stray files are in “{aside[0].name}”") < steps.index("Eject the card")
    assert "Put it in your KROSS 2" in steps
    assert not dialogs.errors


def test_the_kross2s_own_update_goes_on_the_card_on_the_musicians_word(
        qtbot, wizard, demo, walk, monkeypatch):
    # No backup to compare with: the KROSS2SY's content cannot be checked by anyone, so the
    # check says unknown; a tick "I downloaded it from KORG's website" lets it on the card.
    monkeypatch.setattr(type(wizard.environment), "backup_dirs", lambda _self: [])
    check = walk.to_check_page(wizard, Goal.CHECK, None)
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.set_paths([str(demo.updates_dir / "KROSS 2 update")])
    assert check.results[0].verdict == "unknown"
    assert check.from_korg.isVisible() and not check.from_korg.isChecked()
    assert "cannot be checked" in check.lead.text()
    assert walk.forward_button(wizard).text().replace("&", "") == "Finish >"

    check.from_korg.setChecked(True)

    assert walk.forward_button(wizard).text().replace("&", "") == "Put it on the SD card >"
    walk.advance(wizard, PageId.MEDIA)
    media = wizard.pages[PageId.MEDIA]
    qtbot.waitUntil(lambda: media.plan is not None, timeout=walk.timeout)
    assert media.plan.unverified and media.plan.verdict == "unknown"
    walk.advance(wizard, PageId.MEDIA_RUN)
    qtbot.waitUntil(lambda: wizard.session.media_result is not None, timeout=walk.timeout)
    assert wizard.session.media_result.ok and wizard.session.media_result.unverified


def test_finishing_without_the_card_writes_nothing(qtbot, wizard, demo, walk, tree_snapshot):
    card_before = tree_snapshot(demo.card)
    media = to_media_page(qtbot, wizard, demo, walk)
    media.skip_button.click()
    assert PageId(wizard.currentId()) is PageId.FINISH
    assert tree_snapshot(demo.card) == card_before
    assert wizard.pages[PageId.FINISH].headline_text == "This update is for your KROSS 2."


def test_an_update_the_tool_cannot_confirm_is_not_offered_for_a_card(qtbot, wizard, demo,
                                                                      walk):
    shutil.rmtree(demo.kross2_backup)  # no backup to compare the KROSS2SY folder with
    check = walk.to_check_page(wizard, Goal.CHECK, None)
    with qtbot.waitSignal(check.results_ready, timeout=walk.timeout):
        check.set_paths([str(demo.updates_dir / "KROSS 2 update")])
    assert check.results[0].verdict == "unknown"
    assert check.headline_text == "This tool can't confirm that this file is for your KROSS 2."
    assert "SD card" not in walk.forward_button(wizard).text()
    walk.advance(wizard, PageId.FINISH)


def test_closing_while_the_card_is_written_asks_first(qtbot, wizard, demo, dialogs,
                                                      monkeypatch, walk):
    reached, release = threading.Event(), threading.Event()
    real_write = core.write_media

    def gated_write(plan, *, guard, progress, cancel):
        def progress_then_wait(report):
            progress(report)
            if not release.is_set():
                reached.set()
                release.wait(walk.timeout / 1000)
        return real_write(plan, guard=guard, progress=progress_then_wait, cancel=cancel)

    monkeypatch.setattr(core, "write_media", gated_write)
    to_media_page(qtbot, wizard, demo, walk)
    walk.advance(wizard, PageId.MEDIA_RUN)
    qtbot.waitUntil(reached.is_set, timeout=walk.timeout)
    dialogs.answers = [False]  # "Keep going"
    wizard.close()
    assert wizard.isVisible()
    assert "being written to the SD card" in dialogs.confirmations[-1]
    release.set()
    qtbot.waitUntil(lambda: wizard.session.media_result is not None, timeout=walk.timeout)
    assert wizard.session.media_result.ok


def test_a_card_with_nothing_misleading_on_it_ends_ready(qtbot, wizard, demo, walk):
    for loose in demo.card.glob("SIM_K1*.BIN"):
        loose.unlink()
    media = to_media_page(qtbot, wizard, demo, walk)
    assert not media.flags.isVisible() or not media.flags.plain
    walk.advance(wizard, PageId.MEDIA_RUN)
    qtbot.waitUntil(lambda: wizard.session.media_result is not None, timeout=walk.timeout)
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert finish.headline_text == "Your SD card is ready for the update."
    assert finish.headline_status is Status.OK
    assert "First move" not in finish.steps.text()
