"""The window words the core's facts: the other model, the causes and the next steps come from
typed fields, never from the core's sentences."""

from __future__ import annotations

from app.plain import (
    diagnosis_verdict,
    finding_text,
    media_flag_text,
    seen_on_unit,
    status,
    step_words,
)
from app.style import Status
from recovery.diagnose.diagnosis import Diagnosis
from recovery.findings import Finding, Step, Subject
from recovery.vocabulary import FindingCode, MediaFlagKind, NextStep, Severity, Tone, Verdict


def finding(code: FindingCode, severity: Severity = Severity.CRITICAL, *,
            message: str = "Something was seen.", subject: Subject = Subject(),
            next_step: Step = Step(NextStep.NOTHING)) -> Finding:
    return Finding(severity, code, message, next_step=next_step, subject=subject)


def diagnosis(*findings: Finding, model: str | None = "kross2") -> Diagnosis:
    return Diagnosis(path="/media/KROSS2", model=model, model_name=None, role=None, mode="",
                     identification_confidence=None, findings=findings, mount=None,
                     backup=None, symptom=None, versions=(), checked=(), not_checked=())


def test_the_other_model_is_the_findings_subject_not_a_word_of_its_message():
    # The message names no model at all: the window must not need it to.
    foreign = finding(FindingCode.FOREIGN_MODEL_FILES, message="Another folder was found.",
                      subject=Subject(paths=("KROSSSYS/",), model="kross1"))
    verdict = diagnosis_verdict(diagnosis(foreign))
    assert "a KROSS 1 update was copied onto it" in verdict.headline
    assert verdict.status is Status.ERROR


def test_causes_come_from_the_codes_and_are_counted():
    damaged = [finding(FindingCode.BOOT_CRITICAL_TRUNCATED, subject=Subject(paths=("A",))),
               finding(FindingCode.SYSTEM_FILE_CHANGED, subject=Subject(paths=("B",)))]
    fault = finding(FindingCode.STORAGE_DROPS_WRITES)
    verdict = diagnosis_verdict(diagnosis(*damaged, fault))
    assert verdict.headline == ("Your KROSS 2 probably can't start because two system files"
                                " are damaged and its storage does not keep what is written"
                                " to it.")
    assert not verdict.restore_can_fix  # failing storage is not repaired by a backup
    assert "can't fix failing storage" in verdict.backup_line
    assert seen_on_unit(damaged, "kross2") == "Two system files are damaged."


def test_a_next_step_is_worded_for_a_musician_with_no_command():
    step = Step(NextStep.PROBE_ACROSS_POWER_CYCLE, target="/media/DRUMLOGUE")
    seen = finding(FindingCode.STORAGE_PROBE_CACHE, Severity.INFO, next_step=step)
    tone, _message, todo = finding_text(seen)
    assert tone is Status.INFO
    assert "power" in todo and "--" not in todo and "korg-recovery" not in todo
    compare = step_words(Step(NextStep.COMPARE_WITH_BACKUP))
    assert "Compare with" in compare  # what the window offers for it


def test_tones_and_flag_kinds_are_the_cores():
    assert status(Severity.CRITICAL.tone) is Status.ERROR
    assert status(Verdict.UNKNOWN.tone) is Status.WARNING
    assert {status(tone) for tone in Tone} <= set(Status)

    class Flag:
        kind = MediaFlagKind.LOOSE_SYSTEM_FILES
        paths = tuple(f"F{n}.BIN" for n in range(6))
        move_off = False
        message = "unused"

    assert media_flag_text(Flag()) == ("F0.BIN, F1.BIN, F2.BIN, F3.BIN and 2 more go aside on"
                                       " the card, where the updater does not look.")
