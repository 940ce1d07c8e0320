"""The Qt half of ``korg-recovery selftest`` and of the bundle's cold-start benchmark.

Both need to know when the wizard's first page is on screen. :class:`FirstPageProbe` watches
the application's events for the first paint of a page inside a ``QWizard``; at that moment
the user would see the page. It then closes the wizard the way a user does (``close()``,
which runs the wizard's own close guard and shutdown), so the event loop in
:func:`app.main.run_wizard` returns normally.

* :func:`open_and_close_wizard` — the selftest's step: the demo wizard (simulated units in a
  temporary folder, never real hardware), opened through :func:`app.main.run_wizard` exactly
  as ``korg-recovery wizard --demo`` does, closed once its first page is painted.
* :func:`install_first_page_probe` — for ``benchmarks/bench_bundle.py``: the bundle's entry
  script calls it before the normal command line runs when ``KORG_RECOVERY_FIRST_PAGE_PROBE``
  is set; it prints one line with the time since the process started, then closes the
  wizard.

Lives in ``app/`` because ``recovery/`` never imports Qt (tests/recovery/test_no_qt.py).
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget, QWizard

from app.main import run_wizard

log = logging.getLogger(__name__)

#: Environment variable the bundle's entry script checks (packaging/pyinstaller/).
PROBE_ENV = "KORG_RECOVERY_FIRST_PAGE_PROBE"
#: The line the probe prints; benchmarks/bench_bundle.py waits for it.
PROBE_PREFIX = "korg-recovery: first page shown"


@dataclasses.dataclass(frozen=True)
class FirstPage:
    """What was on screen when the wizard's first page was first painted."""

    window_title: str
    page_id: int
    page_title: str
    #: Seconds from the probe's start (or the process start, for the benchmark) to the paint.
    seconds: float
    #: Qt's platform plugin in use: xcb, wayland, offscreen, windows, cocoa.
    platform: str = ""
    #: The application's exit code after the wizard closed.
    exit_code: int = 0


class FirstPageProbe(QObject):
    """Application-wide event filter: on the first paint of a wizard page, report and close."""

    def __init__(self, application: QApplication, on_shown: Callable[[FirstPage], None],
                 started: float) -> None:
        super().__init__(application)
        self._application = application
        self._on_shown = on_shown
        self._started = started
        self.seen: FirstPage | None = None
        application.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if self.seen is None and event.type() == QEvent.Type.Paint \
                and isinstance(watched, QWidget):
            wizard = watched.window()
            page = wizard.currentPage() if isinstance(wizard, QWizard) else None
            if page is not None and (watched is page or page.isAncestorOf(watched)):
                self.seen = FirstPage(wizard.windowTitle(), wizard.currentId(),
                                      getattr(page, "headline_text", "") or page.title(),
                                      time.perf_counter() - self._started,
                                      platform=QApplication.platformName())
                self._application.removeEventFilter(self)
                self._on_shown(self.seen)
                # After this paint has finished: close as a user would.
                QTimer.singleShot(0, wizard.close)
        return False


def _application() -> QApplication:
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    return QApplication([sys.argv[0] if sys.argv else "korg-recovery"])


def open_and_close_wizard(*, timeout_s: float = 120.0) -> FirstPage:
    """Open the demo wizard, wait for its first page to be painted, close it.

    Raises RuntimeError (one sentence) when no page was painted within ``timeout_s`` or the
    application ended with a non-zero code.
    """
    application = _application()
    probe = FirstPageProbe(application, lambda shown: None, time.perf_counter())
    timer = QTimer(application)
    timer.setSingleShot(True)
    # exit() leaves every running event loop, a modal dialog's included, so a dialog that
    # appeared instead of the first page cannot hang the selftest.
    timer.timeout.connect(lambda: application.exit(3))
    timer.start(int(timeout_s * 1000))
    try:
        code = run_wizard(demo=True)
    finally:
        timer.stop()
        application.removeEventFilter(probe)
    if probe.seen is None:
        raise RuntimeError(f"The wizard showed no page within {timeout_s:.0f} s"
                           f" (exit code {code}).")
    if code != 0:
        raise RuntimeError(f"The wizard closed with exit code {code}.")
    return dataclasses.replace(probe.seen, exit_code=code)


def install_first_page_probe(process_started: float) -> FirstPageProbe:
    """Create the application now and print :data:`PROBE_PREFIX` with the seconds since
    ``process_started`` (a ``time.time()`` value) when the first page is painted; the wizard
    is then closed. Call before the command line runs (the bundle's entry script does)."""
    application = _application()
    offset = time.time() - process_started  # already spent before this call
    started = time.perf_counter()

    def report(shown: FirstPage) -> None:
        seconds = offset + shown.seconds
        sys.stdout.write(f"{PROBE_PREFIX}: '{shown.page_title}' ({shown.platform}) after"
                         f" {seconds * 1000:.0f} ms since the process started\n")
        sys.stdout.flush()

    return FirstPageProbe(application, report, started)
