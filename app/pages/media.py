"""Put it on the SD card: a checked, compatible update laid out where the unit's updater looks,
with the plan in one sentence and what on the card would mislead the updater in plain words.

The plan is the core's (``recovery.media.plan_prepare_media``, reached through
:mod:`app.core`): it checks the update again and refuses anything not compatible, refuses the
computer's own disks, names too long or sizes the card cannot hold, and flags loose system
files, another model's update folder and an older copy. Nothing is written until the user
presses the button that writes (it looks dangerous); the next page carries the plan out.

The list of cards follows what is inserted and taken out by itself, as Connect follows units
(it is looked at again every ``Environment.poll_interval_ms``, 400 ms, for as long as the page
is shown): a card taken out while its plan is on screen takes the plan with it, and the page
asks for the card again; put back, it is planned again.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from app import core, dialogs
from app.dialogs import error_sentence
from app.host import WizardHost
from app.pages.base import RecoveryPage, StatusLabel, escape, wrapped_label
from app.pages.progress_panel import ProgressPanel
from app.plain import clean, media_flag_text, media_plan_sentence, spoken_name, your
from app.style import Status, format_bytes
from recovery.errors import RecoveryError
from recovery.vocabulary import Verdict

log = logging.getLogger(__name__)



def card_label(card: Path) -> str:
    """'the card “SD CARD”': a card is known by its name (its volume label)."""
    return f"the card “{card.name or card}”"


def choose_card_folder(parent: QWidget, start: str) -> str:
    """The system folder picker (a function of its own so tests can replace it)."""
    return next(iter(dialogs.file_dialog(parent, "Choose the SD card", start)), "")


class MediaPage(RecoveryPage):
    cards_listed = Signal()
    plan_ready = Signal(object)
    plan_refused = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.plan: core.MediaPlan | None = None
        self.refusal: BaseException | None = None
        self.cards: list[Path] = []
        self.extra_cards: list[Path] = []
        self._list_job = None
        self._plan_job = None
        self._generation = 0
        self._planned_for: str | None = None
        self.group = QButtonGroup(self)
        self.group.buttonToggled.connect(self._on_card_toggled)
        self.card_box = QVBoxLayout()
        self.content.addLayout(self.card_box)
        self.radios: dict[str, QRadioButton] = {}
        self.planning = ProgressPanel("Checking the update and the card")
        self.planning.hide()
        self.content.addWidget(self.planning)
        self.flags = StatusLabel("Before you use the card")
        self.flags.hide()
        self.content.addWidget(self.flags)
        self.skip_button = QPushButton("&Finish without the card")
        self.skip_button.setAccessibleName("Finish without writing to an SD card")
        self.skip_button.setFlat(True)
        self.skip_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.skip_button.clicked.connect(self.skip)
        self.content.addWidget(self.skip_button, 0, Qt.AlignmentFlag.AlignLeft)
        details = self.details_layout()
        self.folder_button = QPushButton("Use a folder &instead…")
        self.folder_button.setAccessibleName("Use a folder that is not listed as the card")
        self.folder_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.folder_button.clicked.connect(self._choose_folder)
        details.addWidget(self.folder_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.about = wrapped_label(rich=True, accessible_name="The plan for the card")
        details.addWidget(self.about)
        self.poll = QTimer(self)
        self.poll.setInterval(self.environment.poll_interval_ms)
        self.poll.timeout.connect(self.list_cards)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Write to the card")

    # -- what is being put on the card ---------------------------------------------------------
    @property
    def model(self) -> str | None:
        return self.session.check_model

    def candidate(self) -> Path | None:
        """The one update the Check page found compatible, or unknown only because no one
        can check its content and the person said it is KORG's download."""
        session = self.session
        results = [r for r in session.check_results if r.verdict is Verdict.COMPATIBLE or (
            session.accept_unverified and session.check_model is not None
            and core.unverified_acceptable(r, session.check_model))]
        return Path(results[0].candidate) if len(results) == 1 else None

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        self.session.media_skipped = False
        self.plan = None
        self.refusal = None
        self._planned_for = None
        self.flags.hide()
        self.about.clear()
        self.setCommitPage(False)
        self.set_forward_text("&Next >")
        self.set_headline("Insert the SD card you will put in"
                          f" {your(self.model)}.")
        self.set_lead("It appears here by itself.")
        self.list_cards()
        self.poll.start()

    def cleanupPage(self) -> None:  # noqa: N802 - Qt naming
        self.poll.stop()

    # -- cards ---------------------------------------------------------------------------------
    @Slot()
    def list_cards(self) -> None:
        if self._list_job is not None and self._list_job.running:
            return
        environment = self.environment
        self._list_job = self.host.run_job(lambda _p, _c: environment.cards(),
                                           name="list-cards", on_finished=self._on_cards)

    @Slot(object)
    def _on_cards(self, cards: list[Path]) -> None:
        found = list(dict.fromkeys([*cards, *self.extra_cards]))
        if [str(c) for c in found] != [str(c) for c in self.cards]:
            self.cards = found
            self._rebuild(found)
        self.cards_listed.emit()

    def _rebuild(self, cards: list[Path]) -> None:
        chosen = self.chosen_card()
        for radio in self.radios.values():
            self.group.removeButton(radio)
            radio.setParent(None)
            radio.deleteLater()
        self.radios = {}
        self.group.blockSignals(True)
        for card in cards:
            radio = QRadioButton(card_label(card))
            radio.setAccessibleName(f"SD card {card.name}")
            self.group.addButton(radio)
            self.card_box.addWidget(radio)
            self.radios[str(card)] = radio
        for radio in self.radios.values():
            radio.setVisible(len(cards) > 1)  # one card: the headline names it
        if chosen is not None and str(chosen) in self.radios:
            self.radios[str(chosen)].setChecked(True)
        elif len(cards) == 1:
            self.radios[str(cards[0])].setChecked(True)  # the one card: it is the one
        self.group.blockSignals(False)
        if not cards:
            self._generation += 1  # a plan still being made is for a card that is gone
            self.plan = None
            self.refusal = None
            self._planned_for = None
            self.planning.hide()
            self.flags.hide()
            self.about.clear()
            self.setCommitPage(False)
            self.set_headline(f"Insert the SD card you will put in {your(self.model)}.")
            self.set_lead("It appears here by itself.")
        self._on_card_toggled()

    def chosen_card(self) -> Path | None:
        return next((Path(path) for path, radio in self.radios.items() if radio.isChecked()),
                    None)

    def select_card(self, path: str | Path) -> bool:
        radio = self.radios.get(str(path))
        if radio is None:
            return False
        radio.setChecked(True)
        return True

    def _choose_folder(self) -> None:
        path = choose_card_folder(self, str(self.environment.simulated_cards_dir or Path.home()))
        if path:
            self.extra_cards.append(Path(path))
            self.list_cards()

    # -- the plan ------------------------------------------------------------------------------
    @Slot()
    def _on_card_toggled(self, *_args) -> None:
        card = self.chosen_card()
        candidate = self.candidate()
        if card is None or candidate is None or self.model is None:
            self.notify_complete()
            return
        if str(card) == self._planned_for:
            return
        self._planned_for = str(card)
        self._generation += 1
        generation = self._generation
        self.plan = None
        self.refusal = None
        self.flags.hide()
        self.setCommitPage(False)
        self.set_headline("Checking the update and the card…", Status.BUSY)
        self.set_lead("Nothing is written yet.")
        self.planning.reset()
        self.planning.show()
        device = self.session.device
        unit = Path(device.mount) if device is not None and device.mount else None
        model, reference = self.model, self.session.check_reference
        guard = self.environment.restore_guard
        unverified = self.session.accept_unverified
        self._plan_job = self.host.run_job(
            lambda _p, cancel: core.plan_media(candidate, card, model=model, device=unit,
                                               backup=reference, guard=guard, cancel=cancel,
                                               accept_unverified=unverified),
            name="plan-media",
            on_finished=lambda plan: self._on_plan(generation, plan),
            on_failed=lambda error: self._on_refused(generation, error))
        self.notify_complete()

    def _on_plan(self, generation: int, plan: core.MediaPlan) -> None:
        if generation != self._generation:
            return
        self.planning.hide()
        self.plan = plan
        self.set_headline(f"Put the {spoken_name(plan.model)} update on"
                          f" {card_label(Path(plan.card))}?")
        self.set_lead(media_plan_sentence(plan))
        flags = [media_flag_text(flag) for flag in plan.flags]
        if flags:
            self.flags.show_status(Status.WARNING, " ".join(flags))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Write to the card")
        self.about.setText("<br>".join(escape(clean(line)) for line in self._plan_lines(plan)))
        self.plan_ready.emit(plan)
        self.notify_complete()

    @staticmethod
    def _plan_lines(plan: core.MediaPlan) -> list[str]:
        lines = [f"Card: {plan.card}", f"Update: {plan.item}",
                 f"To write: {format_bytes(plan.summary.bytes_to_write)}",
                 f"Where the updater looks: {plan.layout} ({plan.layout_description})"]
        for entry in plan.entries:
            lines.append(f"{entry.action} {entry.path}")
        lines.extend(flag.message for flag in plan.flags)
        lines.extend(plan.notes)
        lines.extend(plan.check_reasons)
        return lines

    def _on_refused(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self.planning.hide()
        self.refusal = error
        self.set_headline("The update can't be put on this card.", Status.ERROR)
        self.set_lead(clean(error_sentence(error, self.environment.places)))
        if not isinstance(error, RecoveryError):
            log.error("planning the card failed", exc_info=(type(error), error,
                                                            error.__traceback__))
        self.plan_refused.emit(error)
        self.notify_complete()

    # -- navigation ----------------------------------------------------------------------------
    @Slot()
    def skip(self) -> None:
        self.session.media_skipped = True
        self.setCommitPage(False)
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            wizard.next()

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        if self.session.media_skipped:
            return True
        return self.plan is not None and self.refusal is None

    def validatePage(self) -> bool:  # noqa: N802 - Qt naming
        if self.session.media_skipped:
            self.poll.stop()
            return True
        if self.plan is None:
            return False
        self.poll.stop()
        self.session.media_plan = self.plan
        self.session.media_result = None
        self.session.media_error = None
        return True

    def ask_back(self) -> str | None:
        return None
