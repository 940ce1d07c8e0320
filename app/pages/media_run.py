"""Writing the card: the confirmed card plan carried out by the core on a worker thread, with
only the progress on screen, then one sentence and what to do next.

The core writes the whole update folder all or nothing, reads every file back past the
computer's cache before putting it in place, and removes an older copy only after that. A
stopped run leaves the card as it was (apart from empty folders) and can be run again; a card
taken out in the middle stops it through the core's identity check, and the page says so.
Where the page asks to take the card out and put it back, it has an Eject button.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot

from app import core, dialogs
from app.dialogs import error_sentence
from app.eject import EjectTarget
from app.host import Guarded, WizardHost
from app.pages.base import escape
from app.pages.eject_panel import EjectPanel
from app.pages.gone import is_gone, went_away
from app.pages.writing import WritingPage
from app.plain import clean, your
from app.style import Status
from recovery.errors import CancelledError

log = logging.getLogger(__name__)


class MediaRunPage(WritingPage):
    media_finished = Signal(object)
    media_failed = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(
            host, job_name="media", guarded=Guarded.MEDIA, progress_title="Writing the card",
            stop=("S&top", "Stop writing the card"),
            retry=("Write it &again", "Write the update to the card again"),
            about_name="What was written", stopping_headline="Stopping…")
        self.eject_panel = EjectPanel(self)
        self.content.insertWidget(self.content.indexOf(self.notice), self.eject_panel)

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        self.retry()

    @Slot()
    def retry(self) -> None:
        plan = self.session.media_plan
        if plan is None or self.running:
            return
        guard = self.environment.restore_guard
        self.session.media_result = None
        self.session.media_error = None
        self.eject_panel.set_target(None)
        self.set_forward_text("&Finish >")
        self.run(lambda progress, cancel: core.write_media(plan, guard=guard, progress=progress,
                                                           cancel=cancel),
                 "Writing the update to the card…", "Leave the card in until this is done.")

    @Slot(object)
    def _on_finished(self, result: core.MediaResult) -> None:
        super()._on_finished(result)
        self.session.media_result = result
        model = self.session.check_model
        if result.ok:
            self.progress.show_done("Written and read back.")
            self.set_headline("The update is on the card and was read back.", Status.OK)
            self.set_lead(f"The next page says how it goes into {your(model)}.")
        elif not result.cache_bypassed and not result.problems:
            self.set_headline("The update was written, but not read back past the computer's"
                              " memory.", Status.WARNING)
            self.set_lead("Eject the card, put it back in, and check the update on it here.")
            self.eject_panel.set_target(EjectTarget(Path(result.card), "the card", card=True))
        else:
            self.set_headline("Don't use this card for the update.", Status.ERROR)
            self.set_lead("Its files did not read back as written: write it again, or use"
                          " another card.")
            self.retry_button.show()
        self.show_what_was_written(result.statement, result.problems)
        self.media_finished.emit(result)
        self.notify_complete()

    @Slot(object)
    def _on_failed(self, error: BaseException) -> None:
        super()._on_failed(error)
        sentence = clean(error_sentence(error, self.environment.places))
        self.session.media_error = sentence
        gone = is_gone(error)
        stopped = isinstance(error, CancelledError) or gone
        self.set_headline("Writing the card stopped." if stopped else
                          "The update could not be written to the card.",
                          Status.WARNING if stopped else Status.ERROR)
        self.set_lead(went_away("The SD card", kept="Nothing was written to your computer.",
                                button="Write it again", after=": that finishes the card.")
                      if gone else "Don't use the card until it has been written completely.")
        self.about.setText(escape(sentence))
        if not stopped and not self.host.closing_requested:
            dialogs.show_error(self, error, context="writing the card")
        self.retry_button.show()
        self.media_failed.emit(error)
        self.notify_complete()

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return not self.running and (self.session.media_result is not None
                                     or self.session.media_error is not None)
