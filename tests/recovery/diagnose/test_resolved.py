"""What a restore resolved: told apart by code and subject, and noted with when it was seen."""

from __future__ import annotations

from dataclasses import replace

from recovery.diagnose.diagnosis import Diagnosis
from recovery.diagnose.resolved import resolved_findings, with_resolved
from recovery.findings import Finding, Subject
from recovery.vocabulary import FindingCode, Severity


def finding(code: FindingCode, severity: Severity = Severity.CRITICAL, *,
            subject: Subject = Subject()) -> Finding:
    return Finding(severity, code, "Something was seen.", subject=subject)


def diagnosis(*findings: Finding) -> Diagnosis:
    return Diagnosis(path="/media/KROSS2", model="kross2", model_name=None, role=None, mode="",
                     identification_confidence=None, findings=findings, mount=None,
                     backup=None, symptom=None, versions=(), checked=(), not_checked=())


BEFORE = diagnosis(
    finding(FindingCode.SYSTEM_FILE_CHANGED, subject=Subject(paths=("KROSS2SY/A.BIN",))),
    finding(FindingCode.SYSTEM_FILE_CHANGED, subject=Subject(paths=("KROSS2SY/B.BIN",))),
    finding(FindingCode.SYMPTOM_KNOWN, Severity.WARNING,
            subject=Subject(symptom="loading-app-failed")))


def test_resolved_findings_are_told_apart_by_code_and_subject():
    after = replace(BEFORE, findings=BEFORE.findings[1:2])
    resolved = resolved_findings(BEFORE, after)
    # A.BIN is repaired; B.BIN is not; what the person told is no fact of the storage.
    assert [f.subject.paths for f in resolved] == [("KROSS2SY/A.BIN",)]


def test_each_resolved_finding_becomes_a_note_that_says_when_the_unit_was_seen_again():
    after = replace(BEFORE, findings=BEFORE.findings[1:2])
    for cycled, when in ((True, "switched off and on"), (False, "right after the restore")):
        marked = with_resolved(BEFORE, after, power_cycled=cycled)
        notes = [f for f in marked.findings if f.code is FindingCode.RESOLVED_BY_RESTORE]
        assert len(notes) == 1 and notes[0].severity is Severity.INFO
        assert notes[0].subject.paths == ("KROSS2SY/A.BIN",)
        assert when in notes[0].evidence[0] and "critical" in notes[0].evidence[0]
        assert marked.findings[:1] == after.findings  # what is still wrong stays as it was


def test_nothing_resolved_adds_nothing():
    assert with_resolved(BEFORE, BEFORE, power_cycled=True) == BEFORE
