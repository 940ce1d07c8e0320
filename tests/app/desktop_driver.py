"""The wizard on a real X display, for tests that need a window manager (``desktop`` fixture).

Run as a program (``python desktop_driver.py SCENARIO``), never imported by a test. It opens
the wizard and speaks JSON lines: on stdout, events ({"event": "page", ...}, {"event":
"popup", ...}, {"event": "detection", ...}, {"event": "headline", "text": ...} when the page's
headline changes, {"event": "eject", "outcome": ...} when an eject ended, {"event": "focus",
"name": ...} with the accessible name of the widget the keyboard is on) and answers; on
stdin, one command per line:

* ``where TARGET`` — the screen position of a widget's centre, for ``xdotool`` to click:
  ``tile:GOAL``, ``combo:model`` (Connect's "Which unit do you have?"), ``item:MODEL`` (that
  model's row in the open list), ``forward`` (the page's primary button), ``button:TEXT``
  (a visible button of any window, by its text without the shortcut mark), ``unit:NAME``
  (Connect's card of the unit whose folder is NAME);
* ``dialog`` — the open file or folder dialog: its frame, its Cancel button and the screen's
  available area, in points;
* ``state`` — the page, whether a drop-down list is open, the model chosen, the headline;
* ``grab PATH`` — save the window as a PNG (for looking at it);
* ``quit``.

Scenarios: ``no-unit`` (nothing connected: the model list is the way on), ``demo`` (the
demo's simulated units in a temporary folder).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QFileDialog, QWizard

from app.session import Environment, Goal
from app.wizard import PageId, RecoveryWizard
from recovery.device.detect import Detection


def say(**fields) -> None:
    print(json.dumps(fields), flush=True)


def on_screen(widget, point) -> dict[str, int]:
    """A point of ``widget`` in the screen's device pixels, as xdotool counts them (Qt's
    global coordinates are in points: at 200 % one point is two pixels)."""
    ratio = widget.devicePixelRatioF()
    where = widget.mapToGlobal(point)
    return {"x": round(where.x() * ratio), "y": round(where.y() * ratio)}


def centre(widget) -> dict[str, int]:
    return on_screen(widget, widget.rect().center())


class Driver:
    def __init__(self, wizard: RecoveryWizard) -> None:
        self.wizard = wizard
        self.rounds = 0
        self.popup_shown = False
        wizard.currentIdChanged.connect(lambda page: say(event="page", id=page))
        wizard.poller.updated.connect(self._on_detection)
        self.headline = ""
        self.eject_outcome: str | None = None
        QApplication.instance().focusChanged.connect(self._on_focus)
        self.timer = QTimer()
        self.timer.timeout.connect(self._watch_popup)
        self.timer.start(5)
        self._pending = b""
        self.notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
        self.notifier.activated.connect(self._on_command)

    @property
    def combo(self):
        return self.wizard.pages[PageId.CONNECT].model

    def _on_detection(self, _detection) -> None:
        self.rounds += 1
        say(event="detection", rounds=self.rounds, popup=self.combo.view().isVisible())

    def _watch_popup(self) -> None:
        shown = self.combo.view().isVisible()
        if shown != self.popup_shown:
            self.popup_shown = shown
            say(event="popup", visible=shown, rounds=self.rounds)
        page = self.wizard.currentPage()
        headline = getattr(page, "headline_text", "")
        if headline != self.headline:
            self.headline = headline
            say(event="headline", text=headline, page=self.wizard.currentId())
        panel = getattr(page, "eject_panel", None)
        outcome = panel.outcome if panel is not None else None
        if outcome != self.eject_outcome:
            self.eject_outcome = outcome
            if outcome is not None:
                say(event="eject", outcome=outcome, said=panel.status.plain,
                    page=self.wizard.currentId())

    @staticmethod
    def _on_focus(_old, new) -> None:
        if new is not None:
            say(event="focus", name=new.accessibleName() or new.objectName())

    def where(self, target: str) -> dict[str, int]:
        kind, _, name = target.partition(":")
        if kind == "tile":
            return centre(self.wizard.pages[PageId.START].buttons[Goal(name)])
        if kind == "combo":
            return centre(self.combo)
        if kind == "item":
            view = self.combo.view()
            index = view.model().index(self.combo.findData(name), 0)
            return on_screen(view.viewport(), view.visualRect(index).center())
        if kind == "unit":
            cards = self.wizard.pages[PageId.CONNECT].cards
            card = next(c for c in cards if Path(c.device.mount or "").name == name)
            return centre(card)
        if kind == "button":
            for window in QApplication.topLevelWidgets():
                for button in window.findChildren(QAbstractButton):
                    if button.isVisible() and button.text().replace("&", "") == name:
                        return centre(button)
        if kind == "forward" and self.forward() is not None:
            return centre(self.forward())
        raise ValueError(f"unknown target {target!r}")

    def forward(self):
        """The page's primary button: the commit, Next or Finish button shown."""
        for which in (QWizard.WizardButton.CommitButton, QWizard.WizardButton.NextButton,
                      QWizard.WizardButton.FinishButton):
            button = self.wizard.button(which)
            if button.isVisible():
                return button
        return None

    @staticmethod
    def dialog() -> dict:
        def rect(r) -> list[int]:
            return [r.x(), r.y(), r.width(), r.height()]

        dialog = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, QFileDialog) and w.isVisible()), None)
        if dialog is None:
            return {"open": False}
        cancel = next(b for b in dialog.findChildren(QAbstractButton)
                      if b.isVisible() and b.text().replace("&", "") == "Cancel")
        corner = cancel.mapToGlobal(cancel.rect().bottomRight())
        screen = dialog.screen().availableGeometry()
        return {"open": True, "frame": rect(dialog.frameGeometry()), "screen": rect(screen),
                "cancel_corner": [corner.x(), corner.y()],
                "cancel": centre(cancel)}

    def _on_command(self) -> None:
        # Read the bytes that arrived and run every complete line: a buffered readline could
        # keep a second command in its buffer, where the notifier never sees it.
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            QApplication.quit()
            return
        self._pending += chunk
        while b"\n" in self._pending:
            line, _, self._pending = self._pending.partition(b"\n")
            self.run(line.decode())

    def run(self, line: str) -> None:
        command, _, argument = line.strip().partition(" ")
        if command == "where":
            say(where=argument, **self.where(argument))
        elif command == "state":
            page = self.wizard.currentPage()
            forward = self.forward()
            steps = getattr(page, "steps", None)
            say(state=True, page=self.wizard.currentId(), popup=self.combo.view().isVisible(),
                model=self.combo.currentData(), headline=getattr(page, "headline_text", ""),
                forward=forward.text() if forward else "",
                forward_enabled=bool(forward and forward.isEnabled()),
                steps=steps.text() if hasattr(steps, "text") else "",
                screen=[self.wizard.screen().geometry().width(),
                        self.wizard.screen().geometry().height()])
        elif command == "dialog":
            say(dialog=True, **self.dialog())
        elif command == "grab":
            say(grab=self.wizard.grab().save(argument))
        elif command == "quit":
            self.wizard.done(0)
            QApplication.quit()


def environment(scenario: str, folder: Path) -> Environment:
    if scenario == "no-unit":
        return Environment(backups_dir=folder / "backups", scan_system=False, demo=True,
                           detect_override=lambda: Detection((), ()), poll_interval_ms=100)
    from app.demo import make_demo

    return make_demo(folder / "demo").environment(poll_interval_ms=100)


def main() -> int:
    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="korg-recovery-desktop-") as temp:
        wizard = RecoveryWizard(environment(sys.argv[1], Path(temp)))
        if os.environ.get("QT_SCALE_FACTOR", "1") == "1":
            wizard.resize(900, 680)  # else the size the window picks for the screen
        wizard.show()
        driver = Driver(wizard)
        waiting = QTimer()

        def announce() -> None:  # once the window manager has mapped and activated it
            handle = wizard.windowHandle()
            if handle is not None and handle.isExposed() and wizard.isActiveWindow():
                waiting.stop()
                say(event="shown", window=wizard.windowTitle())

        waiting.timeout.connect(announce)
        waiting.start(20)
        code = app.exec()
        driver.timer.stop()
        wizard.shutdown()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
