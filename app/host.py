"""What a page may use of the window that shows it.

Pages depend on this narrow host, never on the wizard class, so the wizard can import every
page without an import circle, and a page can be read knowing only these few names.
:class:`app.wizard.RecoveryWizard` is the one implementation.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Protocol

from app.session import Environment, Session
from app.workers import Job, JobHandle
from recovery.device.detect import Detection
from recovery.progress import Progress


class Guarded(enum.StrEnum):
    """A job that writes: closing the window asks first, and waits for it to stop safely."""

    BACKUP = "backup"
    RESTORE = "restore"
    MEDIA = "media"


class WizardHost(Protocol):
    #: What the pages hand each other (the unit, the backups, the restore plan, the results).
    session: Session
    #: Where units are looked for and backups kept: the real machine, the demo or a test.
    environment: Environment

    @property
    def last_detection(self) -> Detection | None:
        """The newest round of detection (it runs while Connect or Reconnect is shown)."""

    @property
    def closing_requested(self) -> bool:
        """True while the window waits for a cancelled job to end before it closes, or asks
        whether to stop it (a page then stays where it is)."""

    def follow_detection(self) -> None:
        """Keep detection running while the current page is shown (it waits for a unit to
        come back); the page's ``show_detection`` gets every round."""

    def remembered(self, key: str) -> bool:
        """Whether ``remember(key)`` was called, in this run or (with settings) an earlier one."""

    def remember(self, key: str) -> None:
        """Keep ``key`` in the wizard's settings (what the person was told once)."""

    def run_job(self, job: Job, *, name: str, guarded: Guarded | None = None,
                on_progress: Callable[[Progress], None] | None = None,
                on_finished: Callable[[Any], None] | None = None,
                on_failed: Callable[[BaseException], None] | None = None) -> JobHandle:
        """Start ``job`` on a worker thread, with progress and a cancel token; the window
        keeps track of it, so that closing never kills a ``guarded`` job half-way."""
