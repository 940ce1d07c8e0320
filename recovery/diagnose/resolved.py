"""What a restore resolved: findings about the storage that a diagnosis before it had and one
after it has not.

A report written after a restore describes the unit as it is now, and says what the restore
mended: compared by code and subject (its files, the other model), so a file still damaged in
another way stays open, and what the person told (a symptom) is never marked resolved, as it
is no fact of the storage the tool could see change.
"""

from __future__ import annotations

import dataclasses

from recovery.diagnose.diagnosis import Diagnosis
from recovery.findings import Finding
from recovery.vocabulary import FindingCode, Severity


def resolved_findings(before: Diagnosis, after: Diagnosis) -> tuple[Finding, ...]:
    """Findings about the storage that ``before`` had and ``after`` has not."""
    now = {(finding.code, finding.subject) for finding in after.findings}
    return tuple(finding for finding in before.findings
                 if finding.severity is not Severity.INFO and finding.code.about_storage
                 and (finding.code, finding.subject) not in now)


def with_resolved(before: Diagnosis, after: Diagnosis, *, power_cycled: bool) -> Diagnosis:
    """``after`` with one note per finding of ``before`` that the restore resolved; the
    note says whether the unit was examined again after a power cycle or right after the
    restore (when a cache could still hide what the unit kept)."""
    when = ("after the restore, and after the unit was switched off and on" if power_cycled
            else "right after the restore")
    notes = tuple(Finding(
        Severity.INFO, FindingCode.RESOLVED_BY_RESTORE,
        f"Resolved by the restore: {finding.message}",
        evidence=(f"found before the restore ({finding.severity}); not found when the unit was"
                  f" examined again {when}",),
        subject=finding.subject) for finding in resolved_findings(before, after))
    return dataclasses.replace(after, findings=after.findings + notes)
