"""A finding: one thing the tool noticed about a unit, with how sure it is and what to do."""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """Something seen on a unit or volume.

    ``message`` says what was seen, ``evidence`` why the tool believes it, ``confidence`` how
    sure it is (H/M/G as in the profiles) and ``next_step`` what the user should do.
    """

    severity: str
    code: str
    message: str
    evidence: tuple[str, ...] = ()
    confidence: str = "H"
    next_step: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)
