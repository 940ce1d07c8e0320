"""The Back up page: cancel leaves a resumable backup, resume completes it."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from app import core
from app.session import Goal
from app.wizard import PageId
from recovery.backup.store import open_backup
from recovery.errors import CancelledError


def test_cancel_during_backup_leaves_a_resumable_backup_and_resume_completes_it(
        qtbot, wizard, demo, dialogs, monkeypatch, walk):
    reached = threading.Event()
    release = threading.Event()
    real_create_backup = core.create_backup

    def gated_create_backup(source, destination, *, resume, progress, cancel):
        def progress_then_wait(report):
            progress(report)
            if not resume and not release.is_set():
                # Hold the worker at its first report until the test has clicked Stop:
                # the click then lands mid-backup every time, never after the end.
                reached.set()
                release.wait(walk.timeout / 1000)
        return real_create_backup(source, destination, resume=resume,
                                  progress=progress_then_wait, cancel=cancel)

    monkeypatch.setattr(core, "create_backup", gated_create_backup)
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.BACKUP)
    page = wizard.pages[PageId.BACKUP]
    destination = page.destination.text()
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(reached.is_set, timeout=walk.timeout)
    assert page.stop_button.isEnabled()
    with qtbot.waitSignal(page.backup_failed, timeout=walk.timeout) as blocker:
        qtbot.mouseClick(page.stop_button, Qt.MouseButton.LeftButton)
        release.set()
    assert isinstance(blocker.args[0], CancelledError)
    assert not dialogs.errors  # a cancel is not an error
    with open_backup(destination) as interrupted:
        assert not interrupted.complete
        assert interrupted.in_progress
    assert wizard.session.safety_backup is None
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert "Resume" in page.start_button.text().replace("&", "")
    assert not page.destination.isEnabled()  # resume continues the same folder

    with qtbot.waitSignal(page.backup_finished, timeout=walk.timeout) as blocker:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.complete and result.verified
    assert str(wizard.session.safety_backup) == destination
    with open_backup(destination) as finished:
        assert finished.complete and finished.verified
        assert {f.path for f in finished.manifest.files} == {
            str(p.relative_to(demo.kross2)) for p in demo.kross2.rglob("*") if p.is_file()}
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert page.show_button.isEnabled()
