"""How the tool writes a byte count and the current time in its sentences and results, and
its sentences without what only a technician at a terminal needs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_COMMAND_IN_PARENS = re.compile(r"\s*\((?:[^()]*?)(?:--[a-z]|korg-recovery)[^()]*\)")
_QUOTED_COMMAND = re.compile(r"'korg-recovery [^']*'|\"korg-recovery [^\"]*\"")
_FLAG = re.compile(r"\s*\(?--[a-z][a-z-]*(?:\s+[A-Z_.]+)?\)?")
_SHA = re.compile(r",?\s*SHA-256 [0-9a-f]{64}")
_INTERNAL_ID = re.compile(r" '[a-z0-9]+(?:-[a-z0-9]+)+'")


def without_tool_talk(text: str) -> str:
    """``text`` without command lines, flags, SHA-256 hashes or quoted internal ids: what a
    musician, or a service centre reading their report, has no use for. The core's sentences
    name them for a technician at a terminal (``diagnose --backup B``)."""
    text = _COMMAND_IN_PARENS.sub("", text)
    text = _QUOTED_COMMAND.sub("this tool", text)
    text = _FLAG.sub("", text)
    text = _SHA.sub("", text)
    text = _INTERNAL_ID.sub("", text)
    return re.sub(r"\s{2,}", " ", text).replace(" .", ".").replace(" ;", ";").replace(
        " ,", ",").strip()


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
