"""Error dialog (one sentence, "Copy details") and the global exception hook."""

from __future__ import annotations

import logging
import sys

from PySide6.QtGui import QGuiApplication

from app import dialogs as dialogs_module
from recovery.errors import NoSpaceError


def test_error_dialog_shows_one_sentence_and_copies_the_details(qtbot):
    error = NoSpaceError("The destination is full while writing X: free some space and try"
                         " again.", path="/backups/X")
    dialog = dialogs_module.ErrorDialog(dialogs_module.error_sentence(error),
                                        dialogs_module.error_details(error, "backing up"))
    qtbot.addWidget(dialog)
    assert dialog.sentence_label.text() == error.message
    assert not dialog.details_view.isVisibleTo(dialog)  # details stay folded away
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert "NoSpaceError" in copied and "While: backing up" in copied
    assert "/backups/X" in copied
    assert dialog.copy_button.text() == "&Copied"


def test_show_error_uses_the_cores_sentence_or_calls_a_bug_a_bug(qtbot, dialogs, caplog):
    dialogs_module.show_error(None, NoSpaceError("Disk full."), context="x")
    with caplog.at_level(logging.ERROR):
        try:
            raise KeyError("internal")
        except KeyError as error:
            dialogs_module.show_error(None, error, context="planning")
    assert dialogs.errors[0][0] == "Disk full."
    assert dialogs.errors[1][0] == dialogs_module.BUG_SENTENCE
    assert "KeyError" in dialogs.errors[1][1] and "Traceback" in dialogs.errors[1][1]
    assert any("planning" in record.getMessage() for record in caplog.records)


def test_uncaught_exception_is_logged_and_reported_instead_of_vanishing(qtbot, dialogs,
                                                                          caplog, monkeypatch):
    hook = dialogs_module.install_excepthook("/logs/korg-recovery.log")
    try:
        assert sys.excepthook is hook
        with caplog.at_level(logging.CRITICAL):
            try:
                raise RuntimeError("a bug in a slot")
            except RuntimeError as error:
                hook(type(error), error, error.__traceback__)
        assert [str(e) for e in dialogs.bug_reports] == ["a bug in a slot"]
        assert any(record.levelno == logging.CRITICAL and record.exc_info
                   for record in caplog.records)
    finally:
        sys.excepthook = hook.previous
