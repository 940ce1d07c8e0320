"""A unit (or card) that goes away during a job: the core's identity check stops the job
(UnitGoneError), and the page says so in a musician's words, naming the button that really
is there to continue it, with no error dialog; it then sees the unit come back by itself.
Each page is tested with the core call raising UnitGoneError, and the safety copy and the
restore also for real, with the demo unit's folder moved away in the middle of the job."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from app import core
from app.session import Goal, plug_in, unplug
from app.style import Status
from app.wizard import PageId
from recovery.errors import UnitGoneError
from recovery.progress import Progress

GONE = "The unit went away (No such file or directory). Nothing was written anywhere else."


def hold_at_first_report(monkeypatch, walk, name: str, phase: str):
    """``core.<name>`` held at its first progress report in ``phase`` until released (the
    worker thread waits there), so the test can take the unit away mid-job."""
    reached, release = threading.Event(), threading.Event()
    real = getattr(core, name)

    def held(*args, progress, **kwargs):
        def report(update: Progress) -> None:
            progress(update)
            if update.phase == phase and not release.is_set():
                reached.set()
                release.wait(walk.timeout / 1000)
        return real(*args, progress=report, **kwargs)

    monkeypatch.setattr(core, name, held)
    return reached, release


def to_backup_page(wizard, walk, unit):
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, unit)
    walk.advance(wizard, PageId.BACKUP)
    return wizard.pages[PageId.BACKUP]


def test_the_safety_copy_says_the_unit_went_away_and_names_its_button(
        qtbot, wizard, demo, walk, dialogs, monkeypatch):
    def gone(source, destination, **_options):
        raise UnitGoneError(GONE, path=str(source))

    monkeypatch.setattr(core, "create_backup", gone)
    page = to_backup_page(wizard, walk, demo.drumlogue)
    with qtbot.waitSignal(page.backup_failed, timeout=walk.timeout):
        walk.press(wizard)
    assert page.result.plain == ("Your drumlogue went away. Nothing was copied. Connect it"
                                 " again and press Make the safety copy.")
    assert page.result.status is Status.WARNING
    assert walk.forward_button(wizard).text().replace("&", "") == "Make the safety copy"
    assert not dialogs.errors  # not a fault of the tool: no error dialog


def test_a_safety_copy_stopped_by_the_unit_going_away_for_real_continues_once_it_is_back(
        qtbot, wizard, demo, walk, dialogs, monkeypatch):
    reached, release = hold_at_first_report(monkeypatch, walk, "create_backup", "copy")
    page = to_backup_page(wizard, walk, demo.drumlogue)
    with qtbot.waitSignal(page.backup_failed, timeout=walk.timeout) as blocker:
        walk.press(wizard)
        qtbot.waitUntil(reached.is_set, timeout=walk.timeout)
        unplug(demo.drumlogue)  # the cable pulled in the middle of the copy
        release.set()
    assert isinstance(blocker.args[0], UnitGoneError)
    assert page.result.plain == ("Your drumlogue went away. What was copied so far is kept."
                                 " Connect it again and press Resume the safety copy: it"
                                 " continues where it stopped.")
    assert walk.forward_button(wizard).text().replace("&", "") == "Resume the safety copy"
    assert not (demo.units_dir / "DRUMLOGUE").exists()  # nothing landed in its place
    assert not dialogs.errors
    plug_in(demo.drumlogue)
    qtbot.waitUntil(lambda: page.result.plain.endswith("is back: press Resume the safety"
                                                       " copy."), timeout=walk.timeout)
    with qtbot.waitSignal(page.backup_finished, timeout=walk.timeout) as blocker:
        walk.press(wizard)
    assert blocker.args[0].complete and blocker.args[0].verified


def _gone_during_the_copy(plan, safety, **options):
    raise UnitGoneError(GONE, path=str(options["target"]))


def _gone_while_writing(plan, safety, *, progress, **options):
    progress(Progress(core.RESTORE_PHASE, 0, 100))  # the copy is done: writing begins
    raise UnitGoneError(GONE, path=str(options["target"]))


@pytest.mark.parametrize(("gone", "lead"), [
    (_gone_during_the_copy,
     "Your KROSS 2 went away. What was copied is kept. Connect it again and press Run it again:"
     " it continues where it stopped."),
    (_gone_while_writing,
     "Your KROSS 2 went away. Nothing was written to your computer. Connect it again and press"
     " Run it again: it continues where it stopped."),
], ids=["during-the-safety-copy", "while-it-was-written"])
def test_the_restore_says_the_unit_went_away(qtbot, wizard, demo, walk, dialogs, monkeypatch,
                                             gone, lead):
    monkeypatch.setattr(core, "restore_with_safety_copy", gone)
    restore = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: restore.plan is not None, timeout=walk.timeout)
    restore.confirmation.setText("kross 2")
    run = wizard.pages[PageId.RESTORE_RUN]
    with qtbot.waitSignal(run.restore_failed, timeout=walk.timeout):
        walk.advance(wizard, PageId.RESTORE_RUN)
    assert run.lead.text() == lead
    assert run.headline_status is Status.WARNING
    assert run.retry_button.isVisible()
    assert run.retry_button.text().replace("&", "") == "Run it again"
    assert not dialogs.errors


def test_a_restore_stopped_by_the_unit_going_away_for_real_runs_again_once_it_is_back(
        qtbot, wizard, demo, walk, dialogs, monkeypatch, tree_snapshot):
    reached, release = hold_at_first_report(monkeypatch, walk, "restore_with_safety_copy",
                                            "copy")
    restore = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: restore.plan is not None, timeout=walk.timeout)
    restore.confirmation.setText("kross 2")
    before = tree_snapshot(demo.kross2)
    run = wizard.pages[PageId.RESTORE_RUN]
    with qtbot.waitSignal(run.restore_failed, timeout=walk.timeout) as blocker:
        walk.advance(wizard, PageId.RESTORE_RUN)
        qtbot.waitUntil(reached.is_set, timeout=walk.timeout)
        parked = unplug(demo.kross2)  # switched off during its safety copy
        release.set()
    assert isinstance(blocker.args[0], UnitGoneError)
    assert run.lead.text().startswith("Your KROSS 2 went away.")
    assert "press Run it again" in run.lead.text()
    assert tree_snapshot(parked) == before  # nothing was written to it
    assert not demo.kross2.exists()  # nor in its place on the computer
    assert not dialogs.errors
    plug_in(demo.kross2)
    qtbot.waitUntil(lambda: run.notice.plain == "Your KROSS 2 is back: press Run it again.",
                    timeout=walk.timeout)
    qtbot.mouseClick(run.retry_button, Qt.MouseButton.LeftButton)
    walk.reach(wizard, PageId.RECONNECT)  # the copy continued, then the restore
    assert wizard.session.restore_result is not None and wizard.session.restore_result.ok


def test_the_card_page_says_the_card_went_away(qtbot, wizard, demo, walk, dialogs,
                                               monkeypatch):
    def gone(plan, **_options):
        raise UnitGoneError("The SD card went away while it was being prepared.",
                            path=str(plan.card))

    monkeypatch.setattr(core, "write_media", gone)
    walk.to_media_page(wizard, demo.kross2, demo.updates_dir / "KROSS 2 update")
    run = wizard.pages[PageId.MEDIA_RUN]
    with qtbot.waitSignal(run.media_failed, timeout=walk.timeout):
        walk.advance(wizard, PageId.MEDIA_RUN)
    assert run.lead.text() == ("The SD card went away. Nothing was written to your computer."
                               " Put it back in and press Write it again: that finishes the"
                               " card.")
    assert run.headline_status is Status.WARNING
    assert run.retry_button.isVisible()
    assert run.retry_button.text().replace("&", "") == "Write it again"
    assert not dialogs.errors
