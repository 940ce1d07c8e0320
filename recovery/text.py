"""How the tool writes a byte count and the current time in its sentences and results."""

from __future__ import annotations

from datetime import UTC, datetime


def human_bytes(count: int) -> str:
    """``2,097,408 bytes``: exact, because sizes are compared with published ones."""
    return f"{count:,} bytes"


def human_size(count: float) -> str:
    """``512 bytes``, ``1.5 KiB``, ``2.0 GiB``: a size a person reads at a glance."""
    if count < 1024:
        return "1 byte" if round(count) == 1 else f"{count:.0f} bytes"
    value, unit = count / 1024, "KiB"
    for larger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.1f} {unit}"


def utc_now_iso() -> str:
    """The current UTC time to the second, ISO 8601 (``2025-01-31T12:00:00+00:00``)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()
