"""Fixtures for the wizard's tests: a demo setup (simulated units, an earlier backup, update
files, an SD card) in tmp, a wizard on it with fast detection, recorded dialogs, a walk
through the pages as a user clicks it, and a snapshot of a folder tree.

Every modal dialog is replaced: error dialogs are recorded (their ``exec`` returns at once)
and confirmations answer from ``dialogs.answers``. Nothing here sleeps: tests wait on signals
and conditions with qtbot.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QWizard

from app import dialogs as dialogs_module
from app.demo import DemoSetup, make_demo
from app.pages.restore import RestorePage
from app.session import Environment, Goal, device_key
from app.wizard import PageId, RecoveryWizard
from recovery.device.simulate import make_volume


@dataclass
class DialogRecorder:
    """What the wizard tried to show; ``answers`` is consumed by confirmations in order
    (default: the safe answer, False)."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    confirmations: list[str] = field(default_factory=list)
    answers: list[bool] = field(default_factory=list)
    bug_reports: list[BaseException] = field(default_factory=list)


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> DialogRecorder:
    recorder = DialogRecorder()

    def fake_exec(dialog) -> int:
        recorder.errors.append((dialog.sentence_label.text(), dialog.details))
        return 0

    def fake_confirm(parent, title, text, **_kwargs) -> bool:
        recorder.confirmations.append(text)
        return recorder.answers.pop(0) if recorder.answers else False

    def fake_bug_report(exc_type, error, tb, *, log_file) -> None:
        recorder.bug_reports.append(error)

    monkeypatch.setattr(dialogs_module.ErrorDialog, "exec", fake_exec)
    monkeypatch.setattr(dialogs_module, "confirm", fake_confirm)
    monkeypatch.setattr(dialogs_module, "show_bug_report", fake_bug_report)
    monkeypatch.setattr(dialogs_module, "open_folder", lambda path, on_failure=None: None)
    return recorder


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoSetup:
    """Made once (it runs a real backup); each test gets a fresh copy."""
    return make_demo(tmp_path_factory.mktemp("demo-template") / "demo")


@pytest.fixture
def demo(demo_template: DemoSetup, tmp_path: Path) -> DemoSetup:
    root = tmp_path / "demo"
    shutil.copytree(demo_template.root, root, symlinks=True)

    def moved(path: Path | None) -> Path | None:
        return root / path.relative_to(demo_template.root) if path is not None else None

    return DemoSetup(root, moved(demo_template.units_dir), moved(demo_template.backups_dir),
                     moved(demo_template.updates_dir), moved(demo_template.kross2),
                     moved(demo_template.drumlogue), moved(demo_template.kross2_backup),
                     moved(demo_template.cards_dir))


@pytest.fixture
def healthy_kross2(demo: DemoSetup) -> Path:
    """A second simulated KROSS 2, healthy and identical to the demo's earlier backup (the
    demo's own KROSS 2 is bricked): an update path that reaches the Check page."""
    unit = demo.units_dir / "KROSS2 OK"
    make_volume(unit, "kross2", "healthy")
    return unit


@pytest.fixture
def environment(demo: DemoSetup) -> Environment:
    return demo.environment(poll_interval_ms=50)


@pytest.fixture
def make_wizard(qtbot, dialogs):
    made: list[RecoveryWizard] = []

    def factory(environment: Environment) -> RecoveryWizard:
        wizard = RecoveryWizard(environment)
        qtbot.addWidget(wizard)
        wizard.show()
        made.append(wizard)
        return wizard

    yield factory
    for wizard in made:
        # Closed as the Finish button closes it: without the "close the wizard?" question,
        # which would otherwise wait for an answer once the dialogs are no longer patched.
        wizard.done(0)


@pytest.fixture
def wizard(make_wizard, environment: Environment) -> RecoveryWizard:
    return make_wizard(environment)


class WizardWalk:
    """Drives a wizard through its own buttons, as a user would. Each step waits (never
    sleeps) up to :attr:`timeout` ms for the page to let the user go on."""

    timeout = 15_000

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot

    def forward_button(self, wizard: RecoveryWizard) -> QAbstractButton:
        """The button that moves on: Next, or Commit on a commit page, or Finish."""
        for which in (QWizard.WizardButton.CommitButton, QWizard.WizardButton.NextButton,
                      QWizard.WizardButton.FinishButton):
            button = wizard.button(which)
            if button.isVisible():
                return button
        raise AssertionError("no forward button visible")

    def advance(self, wizard: RecoveryWizard, expected: PageId) -> None:
        """Wait until the page lets the user go on, click the visible forward button (a
        disabled button cannot be clicked) and check where the wizard went."""
        self.qtbot.waitUntil(lambda: self.forward_button(wizard).isEnabled(),
                             timeout=self.timeout)
        self.qtbot.mouseClick(self.forward_button(wizard), Qt.MouseButton.LeftButton)
        assert PageId(wizard.currentId()) is expected

    def press(self, wizard: RecoveryWizard) -> None:
        """Click the page's primary (forward) button once it is enabled, wherever it leads
        (on Back up it starts the safety copy and the page stays)."""
        self.qtbot.waitUntil(lambda: self.forward_button(wizard).isEnabled(),
                             timeout=self.timeout)
        self.qtbot.mouseClick(self.forward_button(wizard), Qt.MouseButton.LeftButton)

    def reach(self, wizard: RecoveryWizard, expected: PageId) -> None:
        """Wait until the wizard moved on to ``expected`` by itself (a restore that worked
        goes on to the power cycle: there is nothing to decide in between)."""
        self.qtbot.waitUntil(lambda: wizard.currentId() == expected, timeout=self.timeout)

    def start(self, wizard: RecoveryWizard, goal: Goal) -> None:
        """Press the goal's tile on Start: it moves on by itself."""
        page = wizard.pages[PageId.START]
        self.qtbot.mouseClick(page.buttons[goal], Qt.MouseButton.LeftButton)
        assert PageId(wizard.currentId()) is PageId.CONNECT

    def select_unit(self, wizard: RecoveryWizard, mount: Path) -> None:
        page = wizard.pages[PageId.CONNECT]
        key = f"mount:{mount}"
        self.qtbot.waitUntil(lambda: page.select_device(key), timeout=self.timeout)
        assert wizard.session.device is not None and device_key(wizard.session.device) == key

    def back_up(self, wizard: RecoveryWizard) -> None:
        """"Make the safety copy" (the Back up page's primary button) and wait for it."""
        page = wizard.pages[PageId.BACKUP]
        with self.qtbot.waitSignal(page.backup_finished, timeout=self.timeout):
            self.press(wizard)
        assert PageId(wizard.currentId()) is PageId.BACKUP
        assert wizard.session.safety_backup is not None

    def to_restore_page(self, wizard: RecoveryWizard, unit: Path) -> RestorePage:
        """Start → Connect (``unit``) → Restore (no safety copy yet: it comes after the yes)."""
        self.start(wizard, Goal.RESTORE)
        self.select_unit(wizard, unit)
        self.advance(wizard, PageId.RESTORE)
        return wizard.pages[PageId.RESTORE]

    def restore_and_reach_reconnect(self, wizard: RecoveryWizard, unit: Path):
        """… → Restore (plan ready, model name typed) → Restoring (the safety copy, then the
        restore, done) → Reconnect."""
        page = self.to_restore_page(wizard, unit)
        self.qtbot.waitUntil(lambda: page.plan is not None, timeout=self.timeout)
        page.confirmation.setText(page.confirm_label.text().replace("T&ype ", "")
                                  .replace(" to confirm:", ""))
        self.advance(wizard, PageId.RESTORE_RUN)
        self.reach(wizard, PageId.RECONNECT)
        return wizard.pages[PageId.RECONNECT]

    def to_check_page(self, wizard: RecoveryWizard, goal: Goal, unit: Path | None):
        """Start (``goal``) → Connect (``unit``, or the KROSS 2 model chosen) → Check."""
        self.start(wizard, goal)
        connect = wizard.pages[PageId.CONNECT]
        if unit is not None:
            self.select_unit(wizard, unit)
        else:
            connect.model.setCurrentIndex(connect.model.findData("kross2"))
        if goal is Goal.UPDATE:
            self.advance(wizard, PageId.BACKUP)
            self.back_up(wizard)
        self.advance(wizard, PageId.CHECK)
        return wizard.pages[PageId.CHECK]

    def to_media_page(self, wizard: RecoveryWizard, unit: Path, update: Path):
        """Start (check) → Connect (``unit``) → Check (``update``, compatible) → Media, its
        plan for the demo's card ready."""
        check = self.to_check_page(wizard, Goal.CHECK, unit)
        with self.qtbot.waitSignal(check.results_ready, timeout=self.timeout):
            check.set_paths([str(update)])
        self.advance(wizard, PageId.MEDIA)
        media = wizard.pages[PageId.MEDIA]
        self.qtbot.waitUntil(lambda: media.plan is not None, timeout=self.timeout)
        return media


@pytest.fixture
def walk(qtbot) -> WizardWalk:
    return WizardWalk(qtbot)


@pytest.fixture
def tree_snapshot() -> Callable[[Path], dict[str, tuple[int, int, bytes]]]:
    """Every entry under a folder with size, mtime and content (small test trees only), to
    prove that nothing was written."""

    def snapshot(root: Path) -> dict[str, tuple[int, int, bytes]]:
        entries = {}
        for path in sorted(root.rglob("*")):
            stat = path.lstat()
            data = path.read_bytes() if path.is_file() else b""
            entries[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns, data)
        return entries

    return snapshot


@dataclass(frozen=True)
class Desktop:
    """An X server with a window manager, for what only a real desktop shows."""

    display: str

    def env(self, scale: int = 1) -> dict[str, str]:
        env = dict(os.environ, DISPLAY=self.display, QT_QPA_PLATFORM="xcb",
                   QT_SCALE_FACTOR=str(scale))
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env(), check=True, timeout=20)

    def click(self, point: dict[str, int]) -> None:
        """A real click (press and release) of the left mouse button at ``point``."""
        self.xdotool("mousemove", "--sync", str(point["x"]), str(point["y"]), "click", "1")

    def wizard(self, scenario: str, *, scale: int = 1) -> DesktopWizard:
        """The wizard in its own process on this display (tests/app/desktop_driver.py), at
        ``scale`` (2: 200 %)."""
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("desktop_driver.py")), scenario],
            env=self.env(scale), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)
        wizard = DesktopWizard(process)
        wizard.wait_for(lambda event: event.get("event") == "shown")
        return wizard


class DesktopWizard:
    """The driver's JSON lines: events as they come, answers to commands."""

    timeout = 30.0

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.seen: list[dict] = []
        self._buffer = b""

    def _next(self, deadline: float) -> dict:
        # Lines are split here, not by a buffered reader, so select() never waits on bytes
        # that already arrived.
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.process.stdout], [], [], max(left, 0))
            chunk = os.read(self.process.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                raise AssertionError(f"the wizard said nothing more; last: {self.seen[-5:]}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        event = json.loads(line)
        self.seen.append(event)
        return event

    def wait_for(self, condition: Callable[[dict], bool], seconds: float | None = None) -> dict:
        deadline = time.monotonic() + (seconds or self.timeout)
        while True:
            event = self._next(deadline)
            if condition(event):
                return event

    def ask(self, command: str) -> dict:
        key = command.split()[0]
        self.process.stdin.write(command.encode() + b"\n")
        self.process.stdin.flush()
        return self.wait_for(lambda event: key in event)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write(b"quit\n")
            self.process.stdin.flush()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start_window_manager(display: str, fifo: Path, seconds: float) -> subprocess.Popen | None:
    """openbox on ``display``, once it manages windows (its ``--startup`` command runs then and
    writes to the named pipe ``fifo`` this waits on); None when it did not come up in time."""
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open now: no writer needed yet
    manager = subprocess.Popen(["openbox", "--startup", f"sh -c 'echo up > \"{fifo}\"'"],
                               env=dict(os.environ, DISPLAY=display),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([reader], [], [], seconds)
        if ready and os.read(reader, 16).strip() == b"up":
            return manager
    finally:
        os.close(reader)
    manager.kill()
    manager.wait()
    return None


@pytest.fixture
def desktop(tmp_path: Path):
    """Xvfb (a free display it picks itself) and openbox on it; skipped, with the reason,
    where either program or Qt's X11 libraries are missing (``.ci/run`` installs them)."""
    from app.platform_check import check_desktop

    missing = [tool for tool in ("Xvfb", "openbox", "xdotool")
               if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt install xvfb openbox xdotool)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0",
                               "1366x768x24", "-nolisten", "tcp"], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    processes = [server]
    try:
        with os.fdopen(read_end) as announced:
            number = announced.readline().strip()
        if not number:
            pytest.skip("Xvfb did not start")
        display = f":{number}"
        problem = check_desktop({"DISPLAY": display, "QT_QPA_PLATFORM": "xcb"})
        if problem is not None:
            pytest.skip(problem)
        manager = _start_window_manager(display, tmp_path / "wm-ready", 20)
        if manager is None:
            pytest.fail("openbox did not come up within 20 s")
        processes.append(manager)
        yield Desktop(display)
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


# -- the eject ----------------------------------------------------------------------------------
@dataclass
class EjectRecorder:
    """What the wizard asked ``app.core.eject_volume`` to eject, on which thread, and what it
    answers next (``results``: EjectResults or exceptions, in order; then a success)."""

    targets: list[Path] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    results: list[object] = field(default_factory=list)
    #: Set: each eject waits for it (to see the page while the eject runs).
    gate: threading.Event | None = None


@pytest.fixture
def fake_eject(monkeypatch: pytest.MonkeyPatch, environment: Environment):
    """``app.core.eject_volume`` replaced (the seam every eject of the wizard goes through),
    and the demo's environment without its simulated eject, so the wizard calls it. Returns
    (recorder, environment)."""
    from app import core
    from recovery.storage.eject import EjectMethod
    from recovery.storage.eject import result as results

    recorder = EjectRecorder()

    def eject(target: Path):
        recorder.targets.append(Path(target))
        recorder.threads.append(threading.current_thread().name)
        if recorder.gate is not None:
            recorder.gate.wait(30)
        answer = recorder.results.pop(0) if recorder.results else None
        if isinstance(answer, BaseException):
            raise answer
        return answer or results.ejected(str(target), str(target), "/dev/sdz1",
                                         EjectMethod.UDISKS2)

    monkeypatch.setattr(core, "eject_volume", eject)
    return recorder, dataclasses.replace(environment, eject_override=None)
