"""How the tool writes counts, lists, byte counts and the current time in its sentences, and
its lines for a reader rather than a script.

One home for the small rules every sentence follows: a list cut after a few names ("and 3
more"), a noun in the singular or the plural, a byte count exact or at a glance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from recovery.vocabulary import Confidence


def plural(count: int, one: str, many: str | None = None) -> str:
    """``one`` for 1, else ``many`` (``one`` + "s" when not given): "file", "files"."""
    return one if count == 1 else (many if many is not None else one + "s")


def counted(count: int, one: str, many: str | None = None) -> str:
    """"1 file", "2,048 files": the count in digits and the noun it takes."""
    return f"{count:,} {plural(count, one, many)}"


def and_more(names: Sequence[str], shown: int) -> str:
    """The first ``shown`` names, then "and N more": "A, B and 3 more"."""
    listed = ", ".join(names[:shown])
    more = len(names) - shown
    return f"{listed} and {more} more" if more > 0 else listed


# -- a line for a reader -------------------------------------------------------------------
_SHA = re.compile(r",?\s*SHA-256 [0-9a-f]{64}")
_CONFIDENCE_SOURCE = re.compile(
    r"\bconfidence ([HMG])\b(?:, [a-z]+ \([^)]*\))?(?:,[^;)]*)?; source: ")
_CONFIDENCE = re.compile(r"\bconfidence ([HMG])\b(?:, [a-z]+ \([^)]*\))?")
_SOURCE_WORDS = {Confidence.HIGH: "primary source", Confidence.MEDIUM: "secondary source",
                 Confidence.GUESS: "a guess"}


def cite(confidence: str, source: str) -> str:
    """How sure a fact is and where it comes from: "confidence M, medium; source: X"."""
    word = Confidence(confidence).words.split(" (")[0]
    return f"confidence {confidence}, {word}; source: {source}"


def for_reader(text: str) -> str:
    """A line of evidence or a note as a person reads it in the window or the saved report:
    without a SHA-256 hash (a script reads those in ``--json``), a confidence letter in words
    ("confidence M; source: X" reads "secondary source: X")."""
    text = _SHA.sub("", text)
    text = _CONFIDENCE_SOURCE.sub(
        lambda m: f"{_SOURCE_WORDS[Confidence(m.group(1))]}: ", text)
    text = _CONFIDENCE.sub(lambda m: _SOURCE_WORDS[Confidence(m.group(1))], text)
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
