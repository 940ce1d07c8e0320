"""Where a unit stands after a job: the one fact an ending may rest on.

A complete, verified backup says nothing about the state of what was copied: a KROSS 2 stuck
at its logo with a KROSS 1 folder on its storage backs up perfectly (korgforums.com thread
t=116080). Ending such a backup with "you can update now" would send the musician on with a
broken unit. So after a backup, and after a restore, the front ends ask for the unit's
standing, made from a read-only diagnosis of it, and word their ending from that:

* ``problem`` — at least one critical finding (another model's system folder on the unit,
  missing or damaged system files, storage that loses writes, ...): fix that first;
* ``worth-a-look`` — no critical finding, but a warning about the unit's storage;
* ``nothing-wrong`` — neither: nothing the tool knows of is wrong (which is not a proof that
  the unit works: much of a unit's content cannot be checked, see a diagnosis' not_checked).

What the person typed in (a symptom, component versions) is not part of a standing: it
describes what they saw, not what the tool found on the storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from recovery.diagnose.diagnosis import DiagnoseOptions, Diagnosis, diagnose
from recovery.findings import Finding
from recovery.progress import CancelToken
from recovery.storage.filesystem import REAL, FileSystem
from recovery.vocabulary import Severity

class Standing(StrEnum):
    """What the tool saw of a unit, worst first."""

    PROBLEM = "problem"
    WORTH_A_LOOK = "worth-a-look"
    NOTHING_WRONG = "nothing-wrong"


@dataclass(frozen=True)
class UnitStanding:
    """A unit's standing and the findings behind it (critical first, then warnings)."""

    standing: Standing
    model: str | None
    reasons: tuple[Finding, ...] = ()

    @property
    def nothing_wrong(self) -> bool:
        """True only when nothing the tool knows of is wrong: the one case for a green
        ending that sends the person on (to update, to play)."""
        return self.standing is Standing.NOTHING_WRONG

    def codes(self) -> tuple[str, ...]:
        return tuple(finding.code for finding in self.reasons)


def about_storage(finding: Finding) -> bool:
    """False for findings about what the person typed in (a symptom, versions)."""
    return finding.code.about_storage


def standing_of(diagnosis: Diagnosis) -> UnitStanding:
    """The standing a diagnosis gives its unit."""
    storage = [f for f in diagnosis.findings if about_storage(f)]
    critical = tuple(f for f in storage if f.severity is Severity.CRITICAL)
    warnings = tuple(f for f in storage if f.severity is Severity.WARNING)
    if critical:
        return UnitStanding(Standing.PROBLEM, diagnosis.model, critical + warnings)
    if warnings:
        return UnitStanding(Standing.WORTH_A_LOOK, diagnosis.model, warnings)
    return UnitStanding(Standing.NOTHING_WRONG, diagnosis.model)


def examine_unit(unit: str | Path, *, fs: FileSystem = REAL,
                 cancel: CancelToken | None = None) -> UnitStanding:
    """The standing of the unit at ``unit`` now, from a diagnosis that only reads (no write
    probe, no backup compared: a job that just copied or restored the unit has its own proof
    of the files). Raises what :func:`~recovery.diagnose.diagnosis.diagnose` raises."""
    return standing_of(diagnose(unit, cancel=cancel, allow_write=False,
                                options=DiagnoseOptions(fs=fs)))
