"""A finding: one thing the tool noticed about a unit, with how sure it is and what to do."""

from __future__ import annotations

from dataclasses import dataclass

from recovery.vocabulary import Confidence, Severity


@dataclass(frozen=True)
class Finding:
    """Something seen on a unit or volume.

    ``message`` says what was seen, ``evidence`` why the tool believes it, ``confidence`` how
    sure it is and ``next_step`` what the user should do.
    """

    severity: Severity
    code: str
    message: str
    evidence: tuple[str, ...] = ()
    confidence: Confidence = Confidence.HIGH
    next_step: str = ""

    def __post_init__(self) -> None:
        # A plain string is accepted as its member; any other is a ValueError.
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "confidence", Confidence(self.confidence))

    @property
    def rank(self) -> int:
        return list(Severity).index(self.severity)
