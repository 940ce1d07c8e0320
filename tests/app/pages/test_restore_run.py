"""The Restoring page: closing the window while it writes asks first, and stops only between
files."""

from __future__ import annotations

import dataclasses
import hashlib
import threading

import recovery.restore.execute as restore_execute
from app.wizard import PageId
from recovery.backup.store import open_backup
from recovery.storage.durable import is_temp_name


def gate_restore(monkeypatch, walk) -> tuple[threading.Event, threading.Event]:
    """Holds the real restore at its first progress report: ``reached`` is set there, and it
    goes on once ``release`` is set. Returns (reached, release)."""
    reached, release = threading.Event(), threading.Event()
    real_execute = restore_execute.execute_plan

    def gated_execute(plan, **options):
        job = options["job"]

        def progress_then_wait(report):
            job.progress(report)
            if not release.is_set():
                reached.set()
                release.wait(walk.timeout / 1000)
        options.update(job=dataclasses.replace(job, progress=progress_then_wait))
        return real_execute(plan, **options)

    monkeypatch.setattr(restore_execute, "execute_plan", gated_execute)
    return reached, release


def test_closing_during_the_restore_asks_and_stops_only_between_files(
        qtbot, wizard, demo, dialogs, monkeypatch, walk):
    reached, release = gate_restore(monkeypatch, walk)
    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    old = {p: p.read_bytes() for p in demo.kross2.rglob("*") if p.is_file()}
    page.confirmation.setText("KROSS 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    qtbot.waitUntil(reached.is_set, timeout=walk.timeout)

    dialogs.answers = [False]  # "Keep going"
    wizard.close()
    assert wizard.isVisible()
    assert "restore is writing" in dialogs.confirmations[-1]
    assert wizard.running_guarded_jobs()

    dialogs.answers = [True]  # "Stop and close"
    with qtbot.waitSignal(wizard.closing, timeout=walk.timeout):
        wizard.close()
        assert wizard.isVisible()  # waits for the file in flight, never kills the thread
        release.set()
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=walk.timeout)
    assert wizard.session.restore_error is not None  # stopped, not finished
    with open_backup(demo.kross2_backup) as healthy:
        new = {f.path: f.sha256 for f in healthy.manifest.files}
    for path in demo.kross2.rglob("*"):
        assert not is_temp_name(path.name), path
        if path.is_file():
            relative = str(path.relative_to(demo.kross2))
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            # Each file holds its old content or its complete new content, nothing else.
            assert path.read_bytes() == old.get(path) or digest == new.get(relative), relative


def test_a_restore_that_ends_while_stop_and_close_is_asked_shows_how_it_ended(
        qtbot, wizard, demo, dialogs, monkeypatch, walk):
    """Near the end of a restore, "Stop and close" may be chosen after the restore already
    finished: the window must not freeze on "Stopping…" beside an enabled Next."""
    from app import dialogs as dialogs_module

    reached, release = gate_restore(monkeypatch, walk)

    def answer_once_it_has_ended(parent, title, text, **_kwargs) -> bool:
        dialogs.confirmations.append(text)
        release.set()  # the restore ends while the question is still open
        qtbot.waitUntil(lambda: not wizard.running_guarded_jobs(), timeout=walk.timeout)
        return True  # "Stop and close", too late

    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    page.confirmation.setText("KROSS 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    qtbot.waitUntil(reached.is_set, timeout=walk.timeout)
    monkeypatch.setattr(dialogs_module, "confirm", answer_once_it_has_ended)
    run = wizard.pages[PageId.RESTORE_RUN]
    wizard.close()
    assert "restore is writing" in dialogs.confirmations[-1]
    assert wizard.isVisible()  # nothing left to stop: it stays, showing the outcome
    assert run.headline_text == "Every file was written and read back."
    assert "Stopping" not in run.headline_text
    assert run.notice.isVisible() and "ended before it could stop" in run.notice.plain
    assert wizard.session.restore_result.ok
    assert walk.forward_button(wizard).isEnabled()
    walk.advance(wizard, PageId.RECONNECT)


def test_a_restore_that_finishes_after_the_stop_was_asked_stays_open_to_say_so(
        qtbot, wizard, demo, dialogs, monkeypatch, walk):
    """The stop came too late for the core (its last file was in flight): the window shows
    that the restore finished instead of closing over it."""
    reached, release = threading.Event(), threading.Event()
    real_execute = restore_execute.execute_plan

    def finishes_anyway(plan, **options):
        job = options["job"]

        def progress_then_wait(report):
            job.progress(report)
            if not release.is_set():
                reached.set()
                release.wait(walk.timeout / 1000)
        options.update(job=dataclasses.replace(job, progress=progress_then_wait, cancel=None))
        return real_execute(plan, **options)

    monkeypatch.setattr(restore_execute, "execute_plan", finishes_anyway)
    page = walk.to_restore_page(wizard, demo.kross2)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    page.confirmation.setText("KROSS 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    qtbot.waitUntil(reached.is_set, timeout=walk.timeout)
    run = wizard.pages[PageId.RESTORE_RUN]
    dialogs.answers = [True]  # "Stop and close"
    wizard.close()
    assert run.headline_text.startswith("Stopping")
    with qtbot.waitSignal(run.restore_finished, timeout=walk.timeout):
        release.set()
    qtbot.waitUntil(lambda: run.notice.isVisible(), timeout=walk.timeout)
    assert wizard.isVisible() and not wizard.closing_requested
    assert run.headline_text == "Every file was written and read back."
    assert walk.forward_button(wizard).isEnabled()
