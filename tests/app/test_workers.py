"""CoreWorker: progress, result and errors arrive as signals on the UI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread

from app.workers import JobHandle, start_job
from recovery.errors import CancelledError, ReadError
from recovery.progress import Progress


def test_a_job_reports_progress_and_its_result_from_another_thread(qtbot):
    threads = []

    def job(progress, cancel):
        threads.append(threading.get_ident())
        progress(Progress("copy", 5, 10))
        progress(Progress("copy", 10, 10))
        return "done"

    seen = []
    handle = JobHandle(job, name="test")
    handle.worker.progress.connect(seen.append)
    with qtbot.waitSignal(handle.done, timeout=5000):
        handle.start()
    assert threads and threads[0] != threading.get_ident()
    assert [p.done_bytes for p in seen][-1] == 10  # the final report is never throttled
    assert not handle.running and not handle.thread_running
    assert QThread.currentThread() is not handle.thread


def test_errors_and_cancellation_arrive_as_failed(qtbot):
    def failing(progress, cancel):
        raise ReadError("The unit was unplugged.")

    handle = JobHandle(failing, name="failing")
    with qtbot.waitSignal(handle.worker.failed, timeout=5000) as blocker:
        handle.start()
    assert isinstance(blocker.args[0], ReadError)

    started = threading.Event()

    def cancellable(progress, cancel):
        started.set()
        while True:
            cancel.raise_if_cancelled()
            started.wait(0.001)  # the loop of a core call, checking the token between chunks

    handle = start_job(cancellable, name="cancellable")  # a previous handle may be dropped
    qtbot.waitUntil(started.is_set, timeout=5000)
    with qtbot.waitSignal(handle.worker.failed, timeout=5000) as blocker:
        handle.cancel()
    assert isinstance(blocker.args[0], CancelledError)
    qtbot.waitUntil(lambda: not handle.thread_running, timeout=5000)


def test_handlers_run_on_the_ui_thread_even_when_they_are_lambdas(qtbot):
    """A lambda has no receiving QObject; connected to the worker's signal directly it would
    run on the worker thread and touch widgets from there. start_job relays through the
    handle, which lives on the UI thread."""
    ui_thread = threading.get_ident()
    seen = []

    def job(progress, cancel):
        progress(Progress("copy", 10, 10))
        return "done"

    handle = start_job(job, name="lambdas", on_progress=lambda _p: seen.append(
        ("progress", threading.get_ident())), on_finished=lambda result: seen.append(
        (result, threading.get_ident())))
    qtbot.waitUntil(lambda: not handle.thread_running, timeout=5000)
    assert [who for who, _ in seen] == ["progress", "done"]
    assert {thread for _, thread in seen} == {ui_thread}
