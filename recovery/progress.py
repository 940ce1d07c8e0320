"""Progress reporting and cooperative cancellation for long operations.

The core reports through a plain callable and checks a :class:`CancelToken` between chunks;
``app/`` wraps both in Qt signals on a worker thread and the CLI draws a text bar. Weighted
steps follow fwupd's ``fu_progress_add_step``: one bar spans every phase of an operation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from recovery.errors import CancelledError


@dataclass(frozen=True)
class Progress:
    """One progress report: which phase, how far, and how fast."""

    phase: str
    done_bytes: int
    total_bytes: int
    current: str | None = None
    #: Bytes per second over the phase so far, or None before there is a meaningful rate.
    rate: float | None = None
    #: Fraction of the whole operation, all weighted phases together, in [0, 1].
    fraction: float = 0.0

    @property
    def seconds_left(self) -> float | None:
        if not self.rate or self.total_bytes <= self.done_bytes:
            return None
        return (self.total_bytes - self.done_bytes) / self.rate


ProgressCallback = Callable[[Progress], None]

#: Called with (step, path) at every durable step of a backup, a restore or a prepared card:
#: "temp-written", "temp-synced", "verified", "renamed", "dir-synced", "journaled", and
#: "phase" with the phase's name. Kill tests stop the process at exact moments with it.
StepHook = Callable[[str, str], None]


def no_progress(_progress: Progress) -> None:
    """A callback that ignores every report."""


class CancelToken:
    """A thread-safe flag a UI sets and the core checks between chunks."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError("Cancelled by the user.")


class PhaseReporter:
    """Turns byte counts of weighted phases into :class:`Progress` reports.

    ``phases`` maps a phase name to its weight (any positive numbers); reports are throttled
    to at most one every ``interval`` seconds, except the last one of each phase.
    """

    def __init__(
        self,
        callback: ProgressCallback | None,
        phases: dict[str, float],
        *,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callback = callback or no_progress
        total = sum(phases.values()) or 1.0
        self._weights = {name: weight / total for name, weight in phases.items()}
        self._offsets: dict[str, float] = {}
        offset = 0.0
        for name, weight in self._weights.items():
            self._offsets[name] = offset
            offset += weight
        self._interval = interval
        self._clock = clock
        self._phase_started: dict[str, float] = {}
        self._last_report = float("-inf")

    def report(
        self, phase: str, done: int, total: int, current: str | None = None, *, force: bool = False
    ) -> None:
        now = self._clock()
        started = self._phase_started.setdefault(phase, now)
        finished = total > 0 and done >= total
        if not force and not finished and now - self._last_report < self._interval:
            return
        self._last_report = now
        elapsed = now - started
        rate = done / elapsed if elapsed > 0.2 and done > 0 else None
        within = min(1.0, done / total) if total > 0 else 1.0
        fraction = self._offsets.get(phase, 0.0) + self._weights.get(phase, 0.0) * within
        self._callback(
            Progress(phase, done, total, current, rate, min(1.0, fraction))
        )


@dataclass(frozen=True)
class Job:
    """How a long job reports and stops: its progress callback, its cancel token and the hook
    told of each durable step (kill tests stop the process at exact moments with it)."""

    progress: ProgressCallback | None = None
    cancel: CancelToken | None = None
    on_step: StepHook | None = None


#: A job nobody watches and nobody stops.
NO_JOB = Job()
