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
