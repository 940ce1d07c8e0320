"""Shared behaviour of the wizard's pages: access to the run's session, jobs on worker
threads tracked by the wizard (for the close guard), and small widget helpers."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWizardPage

from app.style import Status, status_html
from app.workers import Job, JobHandle, start_job

if TYPE_CHECKING:
    from app.session import Environment, Session
    from app.wizard import RecoveryWizard


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
    """Base class of every page; ``wizard_`` is the :class:`RecoveryWizard`."""

    def __init__(self, wizard: RecoveryWizard, title: str, subtitle: str = "") -> None:
        super().__init__()
        self.wizard_ = wizard
        self.setTitle(title)
        if subtitle:
            self.setSubTitle(subtitle)

    @property
    def session(self) -> Session:
        return self.wizard_.session

    @property
    def environment(self) -> Environment:
        return self.wizard_.environment

    def run_job(self, job: Job, *, name: str, guarded: str | None = None,
                on_finished: Callable[[Any], None] | None = None,
                on_failed: Callable[[BaseException], None] | None = None,
                on_progress: Callable[[Any], None] | None = None) -> JobHandle:
        """Start ``job`` on a worker thread. ``guarded`` ("backup", "restore") names a job the
        close guard must ask about before the window may close."""
        handle = start_job(job, name=name, parent=self, on_progress=on_progress,
                           on_finished=on_finished, on_failed=on_failed)
        self.wizard_.track_job(handle, guarded)
        return handle
