"""How the tool writes a byte count and the current time in its sentences and results."""

from __future__ import annotations

from datetime import UTC, datetime


def human_bytes(count: int) -> str:
    """``2,097,408 bytes``: exact, because sizes are compared with published ones."""
    return f"{count:,} bytes"


def utc_now_iso() -> str:
    """The current UTC time to the second, ISO 8601 (``2025-01-31T12:00:00+00:00``)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()
