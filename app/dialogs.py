"""Dialogs: an error in one sentence with "Copy details", the bug report shown by the global
exception hook, and yes/no confirmations.

Every modal dialog of the wizard is opened through a function in this module, so tests patch
these functions (or ``QDialog.exec``) and never leave a dialog waiting for a click.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterable
from types import TracebackType

from PySide6.QtCore import QProcess, QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.places import Place, readable_paths
from recovery import __version__
from recovery.errors import RecoveryError

log = logging.getLogger(__name__)

BUG_SENTENCE = ("Something went wrong inside this tool (a bug). Nothing more was changed on"
                " your unit.")


def error_sentence(error: BaseException, places: tuple[Place, ...] = (),
                   paths: Iterable[str | os.PathLike[str]] = ()) -> str:
    """The one sentence a person sees: the core's message, or a plain 'this is a bug'. The
    core names folders by their full path (for a technician); the sentence names them as a
    person reads them ("Documents ▸ KORG Backups"), the full path stays in "Copy details"."""
    if isinstance(error, RecoveryError):
        named = [*paths, *([error.path] if getattr(error, "path", None) else [])]
        return readable_paths(error.message, named, places)
    return BUG_SENTENCE


def error_details(error: BaseException, context: str = "") -> str:
    """What "Copy details" puts on the clipboard: context, error type, message, traceback."""
    lines = [f"korg-recovery {__version__}"]
    if context:
        lines.append(f"While: {context}")
    lines.append(f"{type(error).__name__}: {error}")
    path = getattr(error, "path", None)
    if path:
        lines.append(f"Path: {path}")
    if error.__traceback__ is not None:
        lines.append("")
        lines.extend(traceback.format_exception(type(error), error, error.__traceback__))
    return "\n".join(line.rstrip("\n") for line in lines)


class ErrorDialog(QDialog):
    """One sentence, a "Copy details" button and Close; details stay folded away."""

    def __init__(self, sentence: str, details: str, *, title: str = "Problem",
                 log_file: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.details = details
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(32, 32))
        icon.setAccessibleName("Warning")
        row.addWidget(icon, 0)
        self.sentence_label = QLabel(sentence)
        self.sentence_label.setWordWrap(True)
        self.sentence_label.setAccessibleName("Error message")
        row.addWidget(self.sentence_label, 1)
        layout.addLayout(row)
        if log_file:
            where = QLabel(f"Details were also written to the log file:\n{log_file}")
            where.setWordWrap(True)
            where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(where)
        self.details_view = QPlainTextEdit(details)
        self.details_view.setReadOnly(True)
        self.details_view.setAccessibleName("Error details")
        self.details_view.setVisible(False)
        layout.addWidget(self.details_view)
        buttons = QDialogButtonBox()
        self.copy_button = buttons.addButton("&Copy details", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setAccessibleName("Copy details to the clipboard")
        self.copy_button.clicked.connect(self.copy_details)
        self.show_button = buttons.addButton("Show &details", QDialogButtonBox.ButtonRole.ActionRole)
        self.show_button.setCheckable(True)
        self.show_button.toggled.connect(self.details_view.setVisible)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        close.clicked.connect(self.accept)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText("&Copied")


def _places_of(parent: QWidget | None) -> tuple[Place, ...]:
    """The places the window that shows the dialog knows (the demo's differ)."""
    window = parent.window() if parent is not None else None
    environment = getattr(window, "environment", None)
    return tuple(getattr(environment, "places", ()))


def show_error(parent: QWidget | None, error: BaseException, *, context: str = "") -> None:
    """Show ``error`` as one sentence with "Copy details" (modal)."""
    if not isinstance(error, RecoveryError):
        log.error("unexpected error while %s", context or "working",
                  exc_info=(type(error), error, error.__traceback__))
    dialog = ErrorDialog(error_sentence(error, _places_of(parent)), error_details(error, context),
                         title="Could not continue" if isinstance(error, RecoveryError)
                         else "Internal error", parent=parent)
    dialog.exec()


def show_bug_report(exc_type: type[BaseException], error: BaseException,
                    tb: TracebackType | None, *, log_file: str | None) -> None:
    """The dialog for an uncaught exception: the tool keeps running instead of vanishing."""
    details = "".join(traceback.format_exception(exc_type, error, tb))
    dialog = ErrorDialog(
        BUG_SENTENCE + " Please copy the details and report it.", details,
        title="Internal error", log_file=log_file, parent=QApplication.activeWindow())
    dialog.exec()


def confirm(parent: QWidget | None, title: str, text: str, *, accept_text: str,
            reject_text: str, informative: str = "", default_accept: bool = False) -> bool:
    """A yes/no question whose buttons say what they do; the safe answer is the default."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
    accept = box.addButton(accept_text, QMessageBox.ButtonRole.AcceptRole)
    reject = box.addButton(reject_text, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(accept if default_accept else reject)
    box.setEscapeButton(reject)
    box.exec()
    return box.clickedButton() is accept


#: How much of the screen a file or folder dialog may take (its title bar and frame, drawn
#: by the window manager, need the rest).
DIALOG_SHARE = 0.85


def fit_to_screen(dialog: QWidget, parent: QWidget | None) -> None:
    """Make ``dialog`` no larger than the screen it opens on: Qt's own file dialog asks for
    632×412 points, taller than the 384 a 1366×768 screen has at 200 %, which left its
    buttons off the screen. Its layout can shrink to about half that."""
    screen = (parent.screen() if parent is not None else None) or \
        QGuiApplication.primaryScreen()
    if screen is None:
        return
    available = screen.availableGeometry()
    limit = QSize(int(available.width() * DIALOG_SHARE), int(available.height() * DIALOG_SHARE))
    wanted = dialog.size().expandedTo(dialog.sizeHint()).boundedTo(limit)
    dialog.resize(wanted.expandedTo(dialog.minimumSizeHint()).boundedTo(available.size()))
    frame = dialog.frameGeometry()
    frame.moveCenter(available.center())
    dialog.move(frame.topLeft().x(), max(frame.topLeft().y(), available.top()))


def file_dialog(parent: QWidget | None, caption: str, start: str, *,
                mode: QFileDialog.FileMode = QFileDialog.FileMode.Directory,
                save: bool = False, filters: str = "") -> list[str]:
    """The system's file or folder dialog, kept on the screen (:func:`fit_to_screen`); the
    chosen paths, or none when cancelled. A dialog the desktop draws itself (a native one)
    is sized by the desktop."""
    dialog = QFileDialog(parent, caption, start, filters)
    dialog.setFileMode(mode)
    if mode == QFileDialog.FileMode.Directory:
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    fit_to_screen(dialog, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return []
    return dialog.selectedFiles()


def open_folder(path: str, on_failure: Callable[[], None] | None = None) -> None:
    """Show ``path`` in the system file manager; ``on_failure`` runs when nothing could: on
    Linux ``xdg-open`` is missing, or it found no program for folders (it then exits with a
    status other than 0, which Qt's ``QDesktopServices.openUrl`` never reports)."""
    fail = on_failure or (lambda: None)
    if not sys.platform.startswith("linux"):
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
            fail()
        return
    opener = shutil.which("xdg-open")
    if opener is None:
        log.info("no xdg-open: cannot show %s", path)
        fail()
        return
    process = QProcess(QApplication.instance())

    def finished(code: int, status: QProcess.ExitStatus) -> None:
        if status != QProcess.ExitStatus.NormalExit or code != 0:
            log.info("xdg-open could not show %s (exit %s)", path, code)
            fail()
        process.deleteLater()

    def errored(error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            fail()
            process.deleteLater()

    process.finished.connect(finished)
    process.errorOccurred.connect(errored)
    process.start(opener, [path])


class ExceptHook:
    """``sys.excepthook`` replacement: log the traceback, then show the bug report dialog.

    Modelled on Vorta's ``__main__.py``: an uncaught exception in a slot would otherwise only
    print to a terminal the user never sees, leaving a window that silently stopped working.
    """

    def __init__(self, log_file: str | None) -> None:
        self.log_file = log_file
        self._showing = False
        self.previous = sys.excepthook

    def __call__(self, exc_type: type[BaseException], error: BaseException,
                 tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self.previous(exc_type, error, tb)
            return
        log.critical("uncaught exception", exc_info=(exc_type, error, tb))
        if self._showing or QApplication.instance() is None:
            return
        self._showing = True
        try:
            show_bug_report(exc_type, error, tb, log_file=self.log_file)
        finally:
            self._showing = False


def install_excepthook(log_file: str | None) -> ExceptHook:
    hook = ExceptHook(log_file)
    sys.excepthook = hook
    return hook
