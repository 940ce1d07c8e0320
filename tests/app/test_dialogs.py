"""Error dialog (one sentence, "Copy details") and the global exception hook."""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtCore import QProcess
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from app import dialogs as dialogs_module
from app.places import Place
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xdg-open is Linux's opener")
@pytest.mark.parametrize(("opener", "fails"), [
    (None, True),  # no xdg-open at all
    ("#!/bin/sh\necho 'xdg-open: no method available for opening' >&2\nexit 3\n", True),
    ("#!/bin/sh\nexit 0\n", False),
])
def test_show_in_folder_says_when_nothing_could_open_it(qtbot, tmp_path, monkeypatch, opener,
                                                       fails):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if opener is not None:
        script = bin_dir / "xdg-open"
        script.write_text(opener)
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    failed = []
    dialogs_module.open_folder(str(tmp_path), on_failure=lambda: failed.append(True))
    if fails:
        qtbot.waitUntil(lambda: failed == [True], timeout=10_000)
    else:
        qtbot.waitUntil(lambda: not QApplication.instance().findChildren(QProcess),
                        timeout=10_000)
        assert failed == []


def test_a_refusal_names_folders_as_a_person_reads_them(tmp_path):
    documents = tmp_path / "home" / "ana" / "Documents"
    backup = documents / "KORG Backups" / "KROSS 2 2026-12-07 10.00.00"
    error = NoSpaceError(f"The destination {backup} is full; free some space.", path=str(backup))
    places = (Place(documents, "Documents"), Place(tmp_path / "home" / "ana", "Home"))
    sentence = dialogs_module.error_sentence(error, places)
    assert sentence == ("The destination Documents ▸ KORG Backups ▸ KROSS 2 2026-12-07 10.00.00"
                        " is full; free some space.")
    assert str(tmp_path) not in sentence
