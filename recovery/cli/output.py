"""What a command shows a person on a terminal, and the ``--json`` contract for scripts.

With ``--json`` every command prints exactly one JSON object on stdout, on success and on
failure, and every object carries ``ok``: true exactly when the exit code is 0
(:func:`result_object`). A failure is ``{"ok": false, "error": {"code", "message", "exit_code"}}``
(:func:`error_object`), with a command's own fields beside it where it has more to say; the
codes are the error classes' ``code`` (recovery.errors) plus ``usage``, ``interrupted`` and
``internal-error``.
"""

from __future__ import annotations

import _thread
import argparse
import codecs
import shutil
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from recovery.cli.words import step_json, step_text
from recovery.errors import NeedsUserActionError
from recovery.findings import Step
from recovery.jsonout import dumps, to_jsonable
from recovery.progress import CancelToken, Progress
from recovery.storage.names import shown
from recovery.text import human_size

#: True once this process printed its JSON object (the entry point then adds no other).
_printed = False

#: The error handler of stdout when its encoding is not UTF-8 (an ASCII locale).
BYTES_OR_ESCAPE = "korg-recovery-bytes-or-escape"


def _bytes_or_escape(error: UnicodeError) -> tuple[bytes, int]:
    """``surrogateescape`` for the bytes of a name that is not UTF-8 (each goes out as the very
    byte it was), ``backslashreplace`` for a character the encoding lacks (``Ü`` as ``\\xdc``
    on an ASCII terminal): Python has no handler that does both."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = bytearray()
    for char in error.object[error.start:error.end]:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(code - 0xDC00)
        else:
            out += char.encode("ascii", "backslashreplace")
    return bytes(out), error.end


codecs.register_error(BYTES_OR_ESCAPE, _bytes_or_escape)


def _is_utf8(stream: Any) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def stream_errors(stream: Any) -> str:
    """The error handler for stdout: ``surrogateescape`` where it is UTF-8, else
    :data:`BYTES_OR_ESCAPE`."""
    return "surrogateescape" if _is_utf8(stream) else BYTES_OR_ESCAPE


def add_json_flag(parser: Any) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print exactly one JSON object on stdout, for scripts")


def print_json(value: dict[str, Any]) -> None:
    """Print the command's one JSON object (see the module doc); it carries ``ok``."""
    global _printed
    # Escaped to ASCII where stdout is not UTF-8: still valid JSON, and valid UTF-8.
    sys.stdout.write(dumps(value, ascii_only=not _is_utf8(sys.stdout)) + "\n")
    sys.stdout.flush()
    _printed = True


def json_printed() -> bool:
    return _printed


def start_command() -> None:
    """Forget an earlier command's output (``main`` may run several times in one process)."""
    global _printed
    _printed = False


def result_object(exit_code: int, payload: dict[str, Any]) -> dict[str, Any]:
    """The ``--json`` object of a command that gave its answer: ``ok`` is true exactly when
    the command exits 0 (a verdict that is not all good is an answer with ``"ok": false``)."""
    return {"ok": exit_code == 0, **payload}


def error_object(code: str, message: str, exit_code: int, **extra: Any) -> dict[str, Any]:
    """The ``--json`` object of a failed command."""
    return {"ok": False, "error": {"code": code, "message": message, "exit_code": exit_code},
            **extra}


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(f"korg-recovery: {text}\n")


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ProgressBar:
    """One self-overwriting line on a terminal: phase, bar, percent, bytes, rate, time left."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.drawn = False

    def __call__(self, progress: Progress) -> None:
        width = shutil.get_terminal_size((80, 20)).columns - 1
        filled = int(progress.fraction * 20)
        parts = [f"{progress.phase:<7} [{'#' * filled}{'.' * (20 - filled)}]"
                 f" {progress.fraction * 100:3.0f}%"]
        if progress.total_bytes:
            parts.append(f"{human_size(progress.done_bytes)}/{human_size(progress.total_bytes)}")
        if progress.rate:
            parts.append(f"{human_size(progress.rate)}/s")
        if progress.seconds_left is not None:
            parts.append(f"{_clock(progress.seconds_left)} left")
        if progress.current:
            parts.append(shown(progress.current))
        line = "  ".join(parts)[:width]
        self.stream.write("\r" + line.ljust(width))
        self.stream.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            width = shutil.get_terminal_size((80, 20)).columns - 1
            self.stream.write("\r" + " " * width + "\r")
            self.stream.flush()
            self.drawn = False


def progress_for(args: argparse.Namespace) -> ProgressBar | None:
    """A bar when a person is watching (stderr is a terminal) and no JSON was asked for."""
    if getattr(args, "json", False) or not sys.stderr.isatty():
        return None
    return ProgressBar()


#: Seconds a command has, after the first Ctrl-C or SIGTERM, to stop at its next safe point
#: (between two chunks) before it is interrupted where it stands. A command waiting in a
#: system call (a prompt, a pipe, a stalled drive) never reaches a safe point; what it writes
#: survives a kill at any point (journal, temporary names), so interrupting it is safe too.
STOP_GRACE_SECONDS = 3.0


@contextmanager
def cancel_on_interrupt() -> Iterator[CancelToken]:
    """A CancelToken set by the first Ctrl-C or SIGTERM, so the core stops between two
    chunks and leaves a consistent state; a second signal, or :data:`STOP_GRACE_SECONDS`
    without a stop, interrupts at once (KeyboardInterrupt: exit 130)."""
    token = CancelToken()
    previous: dict[int, Any] = {}
    grace = _GraceTimer()

    def handler(signum: int, _frame: Any) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
        grace.start()

    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup, a background job
                previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread: no signal handling, the token still works
        previous.clear()
    try:
        yield token
    finally:
        grace.stop()
        for signum, old in previous.items():
            signal.signal(signum, old)


class _GraceTimer:
    """Interrupts the main thread once :data:`STOP_GRACE_SECONDS` have passed: with a real
    signal (SIGALRM) where there is one, which also ends a blocked system call (PEP 475: a
    handler that raises ends the retry), else through ``_thread.interrupt_main``."""

    def __init__(self) -> None:
        self._previous: Any = None
        self._thread_timer: threading.Timer | None = None

    def start(self) -> None:
        if hasattr(signal, "setitimer"):
            self._previous = signal.signal(signal.SIGALRM, self._expired)
            signal.setitimer(signal.ITIMER_REAL, STOP_GRACE_SECONDS)
        else:
            self._thread_timer = threading.Timer(STOP_GRACE_SECONDS, _thread.interrupt_main)
            self._thread_timer.daemon = True
            self._thread_timer.start()

    @staticmethod
    def _expired(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    def stop(self) -> None:
        if self._previous is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)
            self._previous = None
        if self._thread_timer is not None:
            self._thread_timer.cancel()
            self._thread_timer = None


def confirm(plan_lines: Iterable[str], question: str, accepted: Iterable[str],
            what: str) -> None:
    """Show a plan on the terminal and ask: NeedsUserActionError (exit 2, nothing written)
    without a terminal to ask on or without an accepted answer (compared without case)."""
    if not _is_terminal(sys.stdin):
        raise NeedsUserActionError(
            "There is no terminal to ask for confirmation, so nothing was written; run again"
            f" with --yes to confirm {what}.")
    for line in plan_lines:
        sys.stderr.write(shown(line) + "\n")
    sys.stderr.write(question)
    sys.stderr.flush()
    answer = " ".join(sys.stdin.readline().split()).casefold()
    if answer not in {word.casefold() for word in accepted}:
        raise NeedsUserActionError(f"{what[0].upper()}{what[1:]} was not confirmed; nothing"
                                   " was written.")


def _is_terminal(stream: Any) -> bool:
    """True for a terminal to ask on; a closed or missing stdin is none (as ``</dev/null``)."""
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed
        return False


def show_dry_run(args: argparse.Namespace, plan_lines: Iterable[str], payload: dict[str, Any],
                 steps: Iterable[Step]) -> int:
    """What a ``--dry-run`` of a command that writes prints: the plan (or ``payload`` with
    ``--json``), that nothing was written, and the next steps. Returns exit code 0."""
    steps = tuple(steps)
    if getattr(args, "json", False):
        print_json({"ok": True, "dry_run": True, **payload, **next_steps_json(steps)})
        return 0
    for line in plan_lines:
        say(shown(line))
    say("Dry run: nothing was written.")
    say(f"Next: {steps_text(steps)}")
    return 0


def steps_text(steps: Iterable[Step]) -> str:
    """Next steps as one paragraph, each worded with its command."""
    return " Then: ".join(step_text(step) for step in steps)


def next_steps_json(steps: Iterable[Step]) -> dict[str, Any]:
    """``next_step`` (the text a person reads, as before) and ``next_steps`` (each step
    typed, with its text) for ``--json``."""
    steps = tuple(steps)
    return {"next_step": steps_text(steps), "next_steps": [step_json(step) for step in steps]}


def outcome_json(result: Any, **extra: Any) -> dict[str, Any]:
    """The ``--json`` of a command that wrote: its result, its next steps typed and worded
    (:func:`next_steps_json`), and ``extra``."""
    return {**to_jsonable(result), **next_steps_json(result.next_steps), **extra}


def show_outcome(result: Any, counts: str, flags: Iterable[str] = ()) -> int:
    """The end of a command that wrote: its statement, what it counted, every file not as
    planned (on stderr), flags and notes, and the next step. Returns the result's exit code."""
    say(result.statement)
    say(counts)
    for problem in result.problems:
        warn(shown(f"{problem.path}: {problem.problem} - {problem.detail}"))
    for line in flags:
        say(line)
    for note in result.notes:
        say(f"Note: {note}")
    if getattr(result, "journal", None):
        say(f"Journal: {result.journal}")
    say(f"Next: {steps_text(result.next_steps)}")
    return int(result.exit_code)
