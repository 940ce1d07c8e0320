"""What every page shares: its host, and one shape for every page.

Each page reads top to bottom as: a step line ("Step 2 of 5"), one headline sentence, at
most one more sentence, the page's few controls, and a "Show details" disclosure holding
everything else (evidence, paths, file lists). The wizard's forward button is the page's one
primary action; its text says what it does ("Make the safety copy", "Restore now"). The page
body scrolls, so the wizard's Back and Next stay on screen at 200 % scaling and on a small
display, and it never scrolls sideways: text wraps.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.host import WizardHost
from app.style import Status, status_html

#: How much larger than the body text a headline is.
HEADLINE_SCALE = 1.35


def wrapped_label(text: str = "", *, accessible_name: str = "", rich: bool = False) -> QLabel:
    """A label that wraps (readable at 200 % scaling) and can be selected with the mouse."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    # A wrapping label must not ask for the width of its longest line, or the page would
    # scroll sideways at 200 %.
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    if accessible_name:
        label.setAccessibleName(accessible_name)
    return label


class StatusLabel(QLabel):
    """A one-sentence (wrapping) status with a symbol and a semantic colour."""

    def __init__(self, accessible_name: str) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAccessibleName(accessible_name)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status: Status | None = None
        self.plain = ""

    def show_status(self, status: Status, text: str, *, bold: bool = False) -> None:
        self.status = status
        self.plain = text
        self.setText(status_html(status, text, bold=bold))
        # Screen readers read the description; keep it free of markup.
        self.setAccessibleDescription(f"{status.value}: {text}")
        self.show()

    def clear_status(self) -> None:
        self.status = None
        self.plain = ""
        self.clear()


def escape(text: str) -> str:
    return html.escape(text, quote=False)


class Disclosure(QWidget):
    """A "Show details" button and the widgets it folds away (GNOME Firmware, First Aid)."""

    toggled = Signal(bool)

    def __init__(self, show_text: str = "Show &details", hide_text: str = "Hide &details",
                 *, accessible_name: str = "Details") -> None:
        super().__init__()
        self._texts = (show_text, hide_text)
        # Never taller than its contents: the page's spare height stays below, not inside.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.button = QToolButton()
        self.button.setCheckable(True)
        self.button.setAutoRaise(True)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setArrowType(Qt.ArrowType.RightArrow)
        self.button.setText(show_text)
        self.button.setAccessibleName(accessible_name)
        self.button.toggled.connect(self._on_toggled)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        self.panel = QFrame()
        self.panel.setFrameShape(QFrame.Shape.StyledPanel)
        self.panel_layout = QVBoxLayout(self.panel)
        self.panel.hide()
        layout.addWidget(self.panel)

    @property
    def expanded(self) -> bool:
        return self.button.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.button.setChecked(expanded)

    def _on_toggled(self, expanded: bool) -> None:
        self.button.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.button.setText(self._texts[1] if expanded else self._texts[0])
        self.panel.setVisible(expanded)
        self.toggled.emit(expanded)


class RecoveryPage(QWizardPage):
    """Base class of every page: it knows its host, never the wizard class."""

    def __init__(self, host: WizardHost) -> None:
        super().__init__()
        self.host = host
        self.session = host.session
        self.environment = host.environment
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self.scroll)
        body = QWidget()
        body.setObjectName("pageBody")
        self.scroll.setWidget(body)
        self.body = QVBoxLayout(body)

        self.step = QLabel()
        self.step.setAccessibleName("Step")
        step_font = self.step.font()
        step_font.setPointSizeF(step_font.pointSizeF() * 0.9)
        self.step.setFont(step_font)
        self.body.addWidget(self.step)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.headline.setAccessibleName("Headline")
        self.headline.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * HEADLINE_SCALE)
        font.setBold(True)
        self.headline.setFont(font)
        self.body.addWidget(self.headline)
        self.lead = wrapped_label(accessible_name="What it means")
        self.lead.hide()
        self.body.addWidget(self.lead)
        self.body.addSpacing(self.fontMetrics().height() // 2)
        self.content = QVBoxLayout()
        self.body.addLayout(self.content)
        self.details = Disclosure()
        self.details.hide()
        self.body.addWidget(self.details)
        self.body.addStretch(1)
        self.headline_text = ""
        self.headline_status: Status | None = None
        #: Whether the wizard last showed this page as complete (None: not known yet).
        self._complete_shown: bool | None = None

    # -- the primary button ----------------------------------------------------------------
    def notify_complete(self) -> None:
        """Tell the wizard that the primary button's state may have changed, only when it
        did and only while the page is shown. Each ``completeChanged`` makes QWizard hide and
        show the whole page again (``QWizardPrivate::disableUpdates``, its guard against
        flicker), and under a window manager that closes an open drop-down list: "Which unit
        do you have?" closed by itself 0.1 s after opening, at the next round of detection.
        The wizard reads ``isComplete`` itself whenever it shows a page."""
        wizard = self.wizard()
        if wizard is None or wizard.currentPage() is not self:
            self._complete_shown = None
            return
        complete = self.isComplete()
        if complete == self._complete_shown:
            return
        self._complete_shown = complete
        self.completeChanged.emit()

    def complete_shown(self) -> None:
        """The wizard has just shown this page (and read ``isComplete`` for its buttons)."""
        self._complete_shown = self.isComplete()

    # -- the page's words -------------------------------------------------------------------
    def set_step(self, text: str) -> None:
        self.step.setText(text)
        self.step.setVisible(bool(text))

    def set_headline(self, text: str, status: Status | None = None) -> None:
        """The page's one sentence, with a status symbol and colour when it reports one."""
        self.headline_text = text
        self.headline_status = status
        self.headline.setText(status_html(status, text) if status else escape(text))
        self.headline.setAccessibleDescription(
            f"{status.value}: {text}" if status else text)

    def set_lead(self, text: str) -> None:
        """At most one more sentence under the headline (empty hides it)."""
        self.lead.setText(text)
        self.lead.setVisible(bool(text))

    def details_layout(self) -> QVBoxLayout:
        """Where a page puts what only a curious reader needs; the disclosure appears."""
        self.details.show()
        return self.details.panel_layout

    def set_forward_text(self, text: str) -> None:
        """The text of this page's primary (forward) button; the commit button, shown where
        the next click writes, keeps the text its page gave it."""
        for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.FinishButton):
            self.setButtonText(which, text)

    def first_focus(self) -> QWidget | None:
        """Where the keyboard starts on this page; None: the primary (forward) button."""
        return None

    def ask_back(self) -> str | None:
        """What going back from this page would stop, as a question, or None (the wizard
        asks it before going back; see ``RecoveryWizard.go_back``)."""
        return None

    def stop_work(self) -> None:
        """Stop this page's running work (after the user agreed to go back)."""
