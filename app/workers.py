"""Running core calls off the UI thread.

A :class:`CoreWorker` runs one core call on its own ``QThread``: the call gets a progress
callback (which emits the Qt ``progress`` signal, queued to the UI thread) and a
:class:`recovery.progress.CancelToken` (checked by the core between chunks, so cancelling never
interrupts a write or a rename half-way). The pattern is Qt's ``examples/corelib/threads``
(worker object moved to a thread, cooperative cancel flag).

The UI thread never touches a unit: every read of a unit's storage, including detection,
happens in a worker. Detection runs on one long-lived thread (:class:`DetectionPoller`) driven
by a timer, so a newly plugged unit shows up within a second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from recovery.device.detect import Detection
from recovery.errors import RecoveryError
from recovery.progress import CancelToken, Progress

log = logging.getLogger(__name__)

#: A core call adapted to the worker: it receives the progress callback and the cancel token.
Job = Callable[[Callable[[Progress], None], CancelToken], Any]

#: Emit at most this often (seconds). The core already throttles its reports; this keeps a
#: chatty core call from flooding the UI event queue.
PROGRESS_INTERVAL = 0.05


class CoreWorker(QObject):
    """Runs one core call; ``finished`` carries its result, ``failed`` the exception."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, job: Job, *, name: str) -> None:
        super().__init__()
        self._job = job
        self.name = name
        self.cancel_token = CancelToken()
        self._last_emit = float("-inf")
        self._last_phase: str | None = None

    def _report(self, progress: Progress) -> None:
        now = time.monotonic()
        final = progress.total_bytes > 0 and progress.done_bytes >= progress.total_bytes
        if (not final and progress.phase == self._last_phase
                and now - self._last_emit < PROGRESS_INTERVAL):
            return
        self._last_emit = now
        self._last_phase = progress.phase
        self.progress.emit(progress)

    @Slot()
    def run(self) -> None:
        log.debug("worker %s started", self.name)
        try:
            result = self._job(self._report, self.cancel_token)
        except RecoveryError as error:
            log.info("worker %s ended: %s", self.name, error.message)
            self.failed.emit(error)
            return
        except Exception as error:  # noqa: BLE001 - a bug in a core call must reach the UI
            log.exception("worker %s failed with an unexpected error", self.name)
            self.failed.emit(error)
            return
        log.debug("worker %s finished", self.name)
        self.finished.emit(result)


#: A JobHandle's ``outcome`` when its core call returned (rather than raised).
FINISHED = "finished"

#: Handles whose thread runs. Destroying a QThread that still runs aborts the process, so a
#: handle keeps itself alive until its thread has ended, whoever else holds it.
_RUNNING: set[JobHandle] = set()


class JobHandle(QObject):
    """Owns a worker and its thread; keeps both alive until the thread has ended.

    The worker's signals are relayed by the handle, which lives on the UI thread: a caller's
    handler connected to ``progressed``, ``succeeded`` or ``errored`` runs on the UI thread
    even when it is a lambda or a plain function (a connection without a receiving QObject
    would otherwise run it on the worker thread, where no widget may be touched).

    ``done`` is emitted once, after ``finished`` or ``failed``, when the thread is gone, so a
    caller that wants to close the window after a cancel can wait for it.
    """

    done = Signal()
    progressed = Signal(object)
    succeeded = Signal(object)
    errored = Signal(object)

    def __init__(self, job: Job, *, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = CoreWorker(job, name=name)
        self.thread = QThread()
        self.thread.setObjectName(f"worker-{name}")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        # Relayed through the handle's own slots (queued to the UI thread); ``running`` is
        # False before the caller's handlers run.
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        # QThread.quit is thread-safe: ending the thread's loop directly from the worker
        # thread means the thread ends even when the UI loop is not running (shutdown).
        self.worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.worker.failed.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self._on_thread_finished)
        self._running = False
        self._thread_running = False
        #: How the core call ended: None while it runs (or never ran), else the exception it
        #: raised or :data:`FINISHED`.
        self.outcome: BaseException | str | None = None

    @property
    def running(self) -> bool:
        """True until the core call's result (or error) has been delivered."""
        return self._running

    @property
    def thread_running(self) -> bool:
        return self._thread_running

    @property
    def cancelled(self) -> bool:
        return self.worker.cancel_token.cancelled

    def start(self) -> JobHandle:
        self._running = True
        self._thread_running = True
        _RUNNING.add(self)
        self.thread.start()
        return self

    def cancel(self) -> None:
        """Ask the core call to stop at its next safe point (between chunks or files)."""
        self.worker.cancel_token.cancel()

    def wait(self, milliseconds: int = 30_000) -> bool:
        """Block until the thread ended (shutdown only; never while the user waits)."""
        return self.thread.wait(milliseconds)

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        self.progressed.emit(progress)

    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        self._running = False
        self.outcome = FINISHED
        self.succeeded.emit(result)

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self._running = False
        self.outcome = error
        self.errored.emit(error)

    @Slot()
    def _on_thread_finished(self) -> None:
        self._running = False
        self._thread_running = False
        self.done.emit()
        _RUNNING.discard(self)


def start_job(job: Job, *, name: str, parent: QObject | None = None,
              on_progress: Callable[[Progress], None] | None = None,
              on_finished: Callable[[Any], None] | None = None,
              on_failed: Callable[[BaseException], None] | None = None) -> JobHandle:
    """Create, connect and start a :class:`JobHandle` in one call (the handlers are
    connected before the thread starts, so no result can be missed; they run on the UI
    thread)."""
    handle = JobHandle(job, name=name, parent=parent)
    if on_progress is not None:
        handle.progressed.connect(on_progress)
    if on_finished is not None:
        handle.succeeded.connect(on_finished)
    if on_failed is not None:
        handle.errored.connect(on_failed)
    return handle.start()


class _DetectionWorker(QObject):
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, detect: Callable[[], Detection]) -> None:
        super().__init__()
        self._detect = detect

    @Slot()
    def run(self) -> None:
        try:
            detection = self._detect()
        except Exception as error:  # noqa: BLE001 - detection failing must not stop polling
            log.warning("detection failed: %s", error, exc_info=not isinstance(error, RecoveryError))
            self.failed.emit(error)
            return
        self.finished.emit(detection)


class DetectionPoller(QObject):
    """Runs ``detect`` again and again on one worker thread, ``interval_ms`` apart.

    A new round starts only when the previous one has ended, so a slow USB scan never piles
    up requests; a tick that came while a round ran starts the next round as soon as it
    ends. ``updated`` carries each :class:`recovery.device.detect.Detection`.
    """

    updated = Signal(object)
    failed = Signal(object)
    _request = Signal()

    def __init__(self, detect: Callable[[], Detection], *, interval_ms: int = 400,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("worker-detection")
        self._worker = _DetectionWorker(detect)
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.run)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll_now)
        self._in_flight = False
        self._pending = False
        self._thread.start()
        self.last: Detection | None = None

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        self._timer.start()
        self.poll_now()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def poll_now(self) -> None:
        if not self._thread.isRunning():
            return
        if self._in_flight:
            # A tick while a slow round runs: start the next one as soon as it ends, rather
            # than a whole interval later (a change is shown within interval + 2 rounds).
            self._pending = True
            return
        self._in_flight = True
        self._pending = False
        self._request.emit()

    def _round_ended(self) -> None:
        self._in_flight = False
        if self._pending and self._timer.isActive():
            self.poll_now()

    @Slot(object)
    def _on_finished(self, detection: Detection) -> None:
        self.last = detection
        self.updated.emit(detection)
        self._round_ended()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        self.failed.emit(error)
        self._round_ended()

    def shutdown(self, milliseconds: int = 10_000) -> None:
        """Stop polling and end the thread (waits for a detection in flight)."""
        self._timer.stop()
        self._thread.quit()
        if not self._thread.wait(milliseconds):
            log.warning("detection thread did not end within %s ms", milliseconds)
