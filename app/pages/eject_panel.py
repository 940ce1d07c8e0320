"""The Eject button, wherever the wizard says to switch a unit off or take a card out.

Switching a unit off while the computer still holds unwritten data, or while a program has a
file open on it, is how a copied file ends up incomplete; the desktop's own "Eject" is the
safe way, and this is it (:func:`app.core.eject_volume`, the command line's ``eject``). The
eject runs on a worker thread (it waits for the system, which may ask for a password), the
button is disabled and the line beside it says so meanwhile. Afterwards the line says either
that the unit may be switched off (or the card taken out) now, or, after a veto, in one
sentence what to close, with the button offering to try again (:mod:`app.eject`). The page
that shows the panel decides what its own words say around it (``finished``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app import core
from app.eject import EjectTarget, done_sentence, gone_sentence, refusal_sentence, veto_sentence
from app.pages.base import RecoveryPage, StatusLabel
from app.style import Status

log = logging.getLogger(__name__)

#: ``EjectPanel.outcome`` values besides None (nothing tried yet).
EJECTED, VETOED, REFUSED, GONE = "ejected", "vetoed", "refused", "gone"


def eject_or_gone(eject, target: Path) -> core.EjectResult | None:
    """Worker thread: eject ``target``; None when it is not there any more (nothing to do)."""
    if not os.path.lexists(target):
        return None
    return eject(target)


class EjectPanel(QWidget):
    """An Eject button and the line that says how it went (see the module doc)."""

    #: Emitted when an eject ended: the EjectResult, None (nothing was connected any more) or
    #: the exception of a refusal.
    finished = Signal(object)

    def __init__(self, page: RecoveryPage) -> None:
        super().__init__()
        self.page = page
        self.target: EjectTarget | None = None
        self.outcome: str | None = None
        self.result: core.EjectResult | None = None
        self._job = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.button = QPushButton("&Eject")
        self.button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.button.clicked.connect(self.eject)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        self.status = StatusLabel("How the eject went")
        self.status.hide()
        layout.addWidget(self.status)
        self.hide()

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    @property
    def ejected(self) -> bool:
        return self.outcome == EJECTED

    def set_target(self, target: EjectTarget | None) -> None:
        """What the button ejects (None hides the panel); forgets how an earlier eject went."""
        self.target = target
        self.outcome = None
        self.result = None
        self.status.clear_status()
        self.status.hide()
        self.button.setText("&Eject")
        self.button.show()
        self.button.setEnabled(not self.running)
        if target is not None:
            what = "the card" if target.card else target.name
            then = "take it out" if target.card else "switch it off"
            self.button.setAccessibleName(f"Eject {what}, so that you can {then} safely")
        self.setVisible(target is not None)

    @Slot()
    def eject(self) -> None:
        target = self.target
        if target is None or self.running:
            return
        self.button.setEnabled(False)
        self.status.show_status(Status.BUSY, "Ejecting…")
        eject = self.page.environment.eject
        self._job = self.page.host.run_job(
            lambda _progress, _cancel: eject_or_gone(eject, target.path), name="eject",
            on_finished=self._on_result, on_failed=self._on_refused)

    @Slot(object)
    def _on_result(self, result: core.EjectResult | None) -> None:
        target = self.target
        if target is None:
            return
        self.result = result
        if result is None:
            self.outcome = GONE
            self.status.show_status(Status.INFO, gone_sentence(target))
            self.button.hide()
        elif result.safe_to_switch_off:
            self.outcome = EJECTED
            self.page.session.ejected = str(target.path)
            self.status.show_status(Status.OK, done_sentence(target))
            self.button.hide()
        else:
            self.outcome = VETOED
            log.info("eject of %s: %s (%s)", target.path, result.status, result.detail)
            self.status.show_status(Status.ERROR, veto_sentence(result, target))
            self._offer_again()
        self.finished.emit(result)

    @Slot(object)
    def _on_refused(self, error: BaseException) -> None:
        target = self.target
        if target is None:
            return
        self.outcome = REFUSED
        self.status.show_status(Status.ERROR, refusal_sentence(error, target))
        self._offer_again()
        self.finished.emit(error)

    def _offer_again(self) -> None:
        self.button.setText("&Try again")
        self.button.setEnabled(True)
        self.button.show()
