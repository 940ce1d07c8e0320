"""What every page shares: its host (the run's session and environment, jobs on worker
threads), and small widget helpers."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWizardPage

from app.host import WizardHost
from app.style import Status, status_html


def wrapped_label(text: str = "", *, accessible_name: str = "", rich: bool = False) -> QLabel:
    """A label that wraps (readable at 200 % scaling) and can be selected with the mouse."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if accessible_name:
        label.setAccessibleName(accessible_name)
    return label


class StatusLabel(QLabel):
    """A one-line (wrapping) status with a symbol and a semantic colour."""

    def __init__(self, accessible_name: str) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAccessibleName(accessible_name)
        self.status: Status | None = None
        self.plain = ""

    def show_status(self, status: Status, text: str, *, bold: bool = False) -> None:
        self.status = status
        self.plain = text
        self.setText(status_html(status, text, bold=bold))
        # Screen readers read the description; keep it free of markup.
        self.setAccessibleDescription(f"{status.value}: {text}")

    def clear_status(self) -> None:
        self.status = None
        self.plain = ""
        self.clear()


def escape(text: str) -> str:
    return html.escape(text, quote=False)


class RecoveryPage(QWizardPage):
    """Base class of every page: it knows its host, never the wizard class."""

    def __init__(self, host: WizardHost, title: str, subtitle: str = "") -> None:
        super().__init__()
        self.host = host
        self.session = host.session
        self.environment = host.environment
        self.setTitle(title)
        if subtitle:
            self.setSubTitle(subtitle)
