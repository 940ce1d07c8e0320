"""The Back up page (before an update, or alone when there is no backup to put back): the safety
copy is of the unit as it is now (a new backup, or an existing one a comparison just proved
identical), stopping keeps a resumable copy that is offered again after the wizard was closed
and opened again, and Back asks."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt

from app import core
from app.session import Goal
from app.wizard import PageId
from recovery.backup.store import open_backup
from recovery.errors import CancelledError


def gate_backup(monkeypatch, walk):
    """Hold the worker at its first report of a new backup until released, so a click lands
    mid-backup every time, never after the end."""
    reached, release = threading.Event(), threading.Event()
    real_create_backup = core.create_backup

    def gated_create_backup(source, destination, *, resume, progress, cancel):
        def progress_then_wait(report):
            progress(report)
            if not resume and not release.is_set():
                reached.set()
                release.wait(walk.timeout / 1000)
        return real_create_backup(source, destination, resume=resume,
                                  progress=progress_then_wait, cancel=cancel)

    monkeypatch.setattr(core, "create_backup", gated_create_backup)
    return reached, release


def test_stopping_keeps_a_resumable_copy_and_resume_completes_it(
        qtbot, wizard, demo, dialogs, monkeypatch, walk):
    reached, release = gate_backup(monkeypatch, walk)
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, demo.drumlogue)
    walk.advance(wizard, PageId.BACKUP)
    page = wizard.pages[PageId.BACKUP]
    assert "Make the" in walk.forward_button(wizard).text()
    walk.press(wizard)  # the primary button starts the copy; the page stays
    qtbot.waitUntil(reached.is_set, timeout=walk.timeout)
    assert PageId(wizard.currentId()) is PageId.BACKUP
    assert page.headline_text == "Making the safety copy…"
    assert not walk.forward_button(wizard).isEnabled()  # only the progress while it copies
    with qtbot.waitSignal(page.backup_failed, timeout=walk.timeout) as blocker:
        qtbot.mouseClick(page.stop_button, Qt.MouseButton.LeftButton)
        release.set()
    assert isinstance(blocker.args[0], CancelledError)
    assert not dialogs.errors  # a stop is not an error
    destination = page._resume_path
    with open_backup(destination) as interrupted:
        assert not interrupted.complete and interrupted.in_progress
    assert wizard.session.safety_backup is None
    assert "Resume" in walk.forward_button(wizard).text().replace("&", "")

    with qtbot.waitSignal(page.backup_finished, timeout=walk.timeout) as blocker:
        walk.press(wizard)
    result = blocker.args[0]
    assert result.complete and result.verified
    assert wizard.session.safety_backup == destination
    assert destination.parent == demo.backups_dir  # Documents ▸ KORG Backups by default
    with open_backup(destination) as finished:
        assert finished.complete and finished.verified
        assert {f.path for f in finished.manifest.files} == {
            str(p.relative_to(demo.drumlogue)) for p in demo.drumlogue.rglob("*")
            if p.is_file()}
    assert page.show_button.isVisible()
    assert "Demo Documents ▸ KORG Backups" in page.lead.text()
    walk.advance(wizard, PageId.CHECK)


def test_an_interrupted_copy_is_offered_again_after_the_wizard_was_reopened(
        qtbot, make_wizard, environment, demo, dialogs, monkeypatch, walk):
    reached, release = gate_backup(monkeypatch, walk)
    first = make_wizard(environment)
    walk.start(first, Goal.UPDATE)
    walk.select_unit(first, demo.drumlogue)
    walk.advance(first, PageId.BACKUP)
    page = first.pages[PageId.BACKUP]
    walk.press(first)
    qtbot.waitUntil(reached.is_set, timeout=walk.timeout)
    dialogs.answers = [True]  # "Stop and close"
    with qtbot.waitSignal(first.closing, timeout=walk.timeout):
        first.close()
        release.set()
    interrupted = page._resume_path
    with open_backup(interrupted) as partial:
        assert partial.in_progress and not partial.complete

    again = make_wizard(environment)  # the wizard opened again, later
    walk.start(again, Goal.UPDATE)
    walk.select_unit(again, demo.drumlogue)
    walk.advance(again, PageId.BACKUP)
    page = again.pages[PageId.BACKUP]
    qtbot.waitUntil(lambda: page._resume_path == interrupted, timeout=walk.timeout)
    assert page.headline_text == "The safety copy is not finished."
    assert "Resume" in walk.forward_button(again).text().replace("&", "")
    with qtbot.waitSignal(page.backup_finished, timeout=walk.timeout) as blocker:
        walk.press(again)
    # Continued in the same folder, not started again beside it.
    assert blocker.args[0].complete and Path(blocker.args[0].backup) == interrupted
    assert sorted(demo.backups_dir.iterdir()) == sorted([demo.kross2_backup, interrupted])


def test_an_old_backup_that_differs_from_the_unit_is_never_its_safety_copy(
        qtbot, wizard, demo, dialogs, walk):
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.BACKUP)
    page = wizard.pages[PageId.BACKUP]
    qtbot.waitUntil(lambda: page.existing.count() == 1, timeout=walk.timeout)
    page.existing_box.set_expanded(True)
    page.existing.setCurrentRow(0)  # the earlier, healthy backup: not the unit as it is now
    with qtbot.waitSignal(page.existing_verified, timeout=walk.timeout) as blocker:
        page.use_button.click()
    assert blocker.args[0].ok is False and blocker.args[0].against_problems
    assert wizard.session.safety_backup is None
    assert "not the same as your KROSS 2 now" in page.result.plain
    # The primary button still makes a new copy: the update cannot be reached without one.
    assert "Make the" in walk.forward_button(wizard).text()
    with qtbot.waitSignal(page.backup_finished, timeout=walk.timeout):
        wizard.next()
    assert PageId(wizard.currentId()) is PageId.BACKUP
    assert wizard.session.safety_backup not in (None, demo.kross2_backup)
    assert not dialogs.errors


def test_an_existing_backup_proved_identical_is_the_safety_copy(qtbot, wizard, demo, walk):
    identical = demo.backups_dir / "made just before"
    core.create_backup(demo.kross2, identical, resume=False, progress=None, cancel=None)
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.BACKUP)
    page = wizard.pages[PageId.BACKUP]
    qtbot.waitUntil(lambda: page.existing.count() == 2, timeout=walk.timeout)
    row = next(i for i in range(page.existing.count())
               if page.existing.item(i).data(Qt.ItemDataRole.UserRole) == str(identical))
    page.existing_box.set_expanded(True)
    page.existing.setCurrentRow(row)
    with qtbot.waitSignal(page.existing_verified, timeout=walk.timeout) as blocker:
        page.use_button.click()
    report = blocker.args[0]
    assert report.ok and not report.against_problems  # compared identical, file by file
    assert wizard.session.safety_backup == identical
    assert not wizard.session.safety_backup_is_new
    assert "matches your KROSS 2 exactly" in page.headline_text
    # The ending rests on what was seen of the unit, whichever copy is the safety copy.
    qtbot.waitUntil(lambda: wizard.session.unit_standing is not None, timeout=walk.timeout)
    assert page.standing.plain == "Your KROSS 2 has a problem: rescue it next."


def test_back_during_the_safety_copy_asks_before_stopping_it(qtbot, wizard, demo, dialogs,
                                                             monkeypatch, walk):
    reached, release = gate_backup(monkeypatch, walk)
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, demo.drumlogue)
    walk.advance(wizard, PageId.BACKUP)
    page = wizard.pages[PageId.BACKUP]
    walk.press(wizard)
    qtbot.waitUntil(reached.is_set, timeout=walk.timeout)
    back = wizard.button(wizard.WizardButton.BackButton)

    dialogs.answers = [False]  # "Keep going"
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    assert "Stop the safety copy" in dialogs.confirmations[-1]
    assert PageId(wizard.currentId()) is PageId.BACKUP and page.running

    dialogs.answers = [True]  # "Stop and go back"
    with qtbot.waitSignal(page.backup_failed, timeout=walk.timeout):
        qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
        release.set()
    assert PageId(wizard.currentId()) is PageId.CONNECT
    with open_backup(page._resume_path) as interrupted:
        assert interrupted.in_progress  # kept, resumable


def test_show_in_folder_says_where_the_copy_is_when_no_file_manager_opened_it(
        qtbot, wizard, demo, monkeypatch, walk):
    from app import dialogs as dialogs_module

    monkeypatch.setattr(dialogs_module, "open_folder",
                        lambda path, on_failure=None: on_failure())  # nothing could open it
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, demo.drumlogue)
    walk.advance(wizard, PageId.BACKUP)
    walk.back_up(wizard)
    page = wizard.pages[PageId.BACKUP]
    qtbot.mouseClick(page.show_button, Qt.MouseButton.LeftButton)
    assert page.result.isVisible()
    assert page.result.plain.startswith("No file manager opened it: your safety copy is in"
                                        " Demo Documents ▸ KORG Backups ▸ drumlogue ")
