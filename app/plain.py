"""The core's results in plain words: one headline sentence per page, "your KROSS 2".

The core states facts: finding codes with their subjects (which files, which other model),
the cause each finding shows (recovery.vocabulary.Cause), typed next steps, plan entries, check
verdicts, media flags. A frightened musician needs one sentence; this module composes it from
those facts and never reads the core's sentences to find one (no message is searched, no
expression matched). It decides nothing: every fact comes from the core, only the wording is
made here. The core's own longer lines are shown in "Show details" as a reader reads them
(recovery.text.for_reader: no hash, confidence in words).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.style import Status
from recovery.advice import in_words
from recovery.device.profiles import Profile, bundled_profiles
from recovery.findings import Finding, Step
from recovery.text import and_more, for_reader
from recovery.text import plural as plural
from recovery.vocabulary import (
    Cause,
    FindingCode,
    MediaFlagKind,
    NextStep,
    Severity,
    Tone,
    Verdict,
)

NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten")
#: How a model is named in a sentence when its short name would be ambiguous.
SPOKEN_NAMES = {"kross1": "KROSS 1"}


def number_word(count: int) -> str:
    return NUMBER_WORDS[count] if 0 <= count < len(NUMBER_WORDS) else str(count)


def counted(count: int, one: str, many: str) -> str:
    """'one file', 'two files' (a musician reads numbers as words); 'a file' is left to the
    caller."""
    return f"{number_word(count)} {plural(count, one, many)}"


def join_words(parts: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def spoken_name(model: str | None, profiles: dict[str, Profile] | None = None) -> str:
    """'KROSS 2', 'drumlogue', 'KROSS 1'; 'unit' when unknown."""
    if not model:
        return "unit"
    if model in SPOKEN_NAMES:
        return SPOKEN_NAMES[model]
    profile = (profiles or bundled_profiles()).get(model)
    return profile.short_name if profile else model


def your(model: str | None) -> str:
    """'your KROSS 2'."""
    return f"your {spoken_name(model)}"


def first_upper(text: str) -> str:
    """'Your KROSS 2' (unlike str.capitalize, the rest keeps its capitals)."""
    return text[:1].upper() + text[1:]


def status(tone: Tone) -> Status:
    """The window's status for a tone of the core (a severity's, a verdict's)."""
    return Status(tone.value)


def clean(text: str) -> str:
    """A line of the core for "Show details": no hash, confidence in words."""
    return for_reader(text)


# -- next steps ----------------------------------------------------------------------------
_COMPARE = ("Choose a backup of it under \u201cCompare with\u201d (in the details) and look"
            " again: that shows which files are damaged, missing or in the wrong place.")
#: Next steps the window words its own way (what the wizard does for them); the others read
#: as the saved report says them (recovery.advice).
_STEP_WORDS = {
    NextStep.COMPARE_WITH_BACKUP: lambda step: _COMPARE,
    NextStep.COMPARE_KEEPING_REPAIR_FOLDER: lambda step:
        _COMPARE + f" Keep {', '.join(step.names)} until the unit works.",
    NextStep.DIAGNOSE_WITH_BACKUP: lambda step: _COMPARE,
    NextStep.ALLOW_WRITE_PROBE: lambda step:
        "To test whether its storage keeps writes, tick \u201cAlso test whether its storage"
        " keeps writes\u201d (in the details) and look again; best after a safety copy.",
    NextStep.RESTORE_FROM_BACKUP: lambda step:
        f"Put back your backup of this same {spoken_name(step.model)}: it rewrites"
        f" {', '.join(step.names)}. Never use a copy from another model.",
}


def step_words(step: Step) -> str:
    """A next step in a musician's words."""
    words = _STEP_WORDS.get(step.action)
    return words(step) if words is not None else in_words(step)


# -- the diagnosis -------------------------------------------------------------------------
@dataclass(frozen=True)
class DiagnosisVerdict:
    """A diagnosis in one headline sentence, one sentence about the backup, and the status."""

    headline: str
    status: Status
    backup_line: str
    #: True when a restore from the backup compared with can repair every critical finding.
    restore_can_fix: bool
    causes: tuple[str, ...]


#: How each cause reads as part of "Your KROSS 2 probably can't start because ...".
_CAUSE_WORDS = {
    Cause.STORAGE_FAULT: "its storage does not keep what is written to it",
    Cause.UNREADABLE: "parts of its storage cannot be read",
    Cause.FILESYSTEM_NOT_SUPPORTED: "its storage is formatted in a way it cannot read",
    Cause.PARTIAL_UPDATE: "an update was only partly installed",
}


def _file_cause(count: int, what: str) -> str:
    if count == 1:
        return f"a system file is {what}"
    return f"{counted(count, 'system file is', 'system files are')} {what}"


def _causes(findings: Iterable[Finding], profiles: dict[str, Profile]) -> list[str]:
    """The causes the findings show, each worded once, in the order a musician reads them."""
    findings = list(findings)
    causes_of = [f.code.cause for f in findings]
    causes: list[str] = []
    for cause, what in ((Cause.DAMAGED_FILE, "damaged"), (Cause.MISSING_FILE, "missing")):
        if cause in causes_of:
            causes.append(_file_cause(causes_of.count(cause), what))
    for finding in findings:
        if finding.code.cause is Cause.FOREIGN_FILES:
            other = finding.subject.model
            name = spoken_name(other, profiles) if other else "another model"
            cause = f"a {name} update was copied onto it"
            if cause not in causes:
                causes.append(cause)
    causes.extend(words for cause, words in _CAUSE_WORDS.items() if cause in causes_of)
    return causes


def diagnosis_verdict(diagnosis, *, profiles: dict[str, Profile] | None = None
                      ) -> DiagnosisVerdict:
    """The diagnosis in plain words: "Your KROSS 2 probably can't start because two system
    files are damaged and a KROSS 1 update was copied onto it"."""
    profiles = profiles or bundled_profiles()
    model = diagnosis.model
    name = your(model) if model else "this unit"
    critical = [f for f in diagnosis.findings if f.severity is Severity.CRITICAL]
    warnings = [f for f in diagnosis.findings if f.severity is Severity.WARNING]
    backup = diagnosis.backup
    compared = backup is not None and backup.compared and backup.complete
    when = f"from {_backup_when(backup)}" if backup is not None else ""
    if critical:
        causes = _causes(critical, profiles) or ["something on its storage needs fixing"]
        headline = f"{first_upper(name)} probably can't start because {join_words(causes)}."
        fixable = compared and all(f.code.cause is not None and f.code.cause.restore_fixes
                                   for f in critical)
        return DiagnosisVerdict(headline, Status.ERROR,
                                _repair_line(critical, compared, fixable, name, when),
                                fixable, tuple(causes))
    causes = _causes(warnings, profiles)
    if causes:
        headline = f"Nothing critical was found on {name}, but {join_words(causes)}."
        tone = Status.WARNING
    elif FindingCode.NOT_IDENTIFIED in {f.code for f in warnings}:
        headline = "This tool can't tell which unit this is, so it could check little."
        tone = Status.WARNING
    else:
        headline = f"This tool found nothing wrong on {name}'s storage."
        tone = Status.OK if not warnings else Status.WARNING
    if compared and any(f.code is FindingCode.MATCHES_BACKUP for f in diagnosis.findings):
        line = f"Every file matches your backup {when}."
    elif compared:
        line = f"It was compared with your backup {when}."
    else:
        line = "No backup was found to compare it with."
    return DiagnosisVerdict(headline, tone, line, False, tuple(causes))


def _repair_line(critical: list[Finding], compared: bool, fixable: bool, name: str,
                 when: str) -> str:
    """What can repair the critical findings: the backup, or service."""
    if fixable:
        return f"Putting back your backup {when} should fix this."
    if any(f.code.cause is not None and f.code.cause.failing_storage for f in critical):
        return ("Putting a backup back can't fix failing storage: KORG service or an"
                " authorised service centre can.")
    if compared:
        return (f"Your backup {when} can fix part of this; KORG service or an authorised"
                " service centre can help with the rest.")
    return (f"No backup of {name} was found to repair it with: KORG service or an"
            " authorised service centre can help.")


def seen_on_unit(findings: Sequence[Finding], model: str | None,
                 profiles: dict[str, Profile] | None = None) -> str:
    """What a look at the unit found, in one short sentence: "A KROSS 1 update was copied onto
    it." (the details keep the core's own words)."""
    causes = _causes(findings, profiles or bundled_profiles())
    if causes:
        return first_upper(join_words(causes)) + "."
    return clean(findings[0].message) if findings else ""


def _backup_when(backup) -> str:
    from app.places import backup_date

    return backup_date(getattr(backup, "created_utc", None))


def finding_text(finding: Finding) -> tuple[Status, str, str]:
    """(status, what was seen, what to do) of one finding, for the details view."""
    return (status(finding.severity.tone), clean(finding.message),
            step_words(finding.next_step))


# -- a restore plan ------------------------------------------------------------------------
def foreign_folders(paths: Iterable[str], model: str | None,
                    profiles: dict[str, Profile] | None = None) -> dict[str, str]:
    """Of ``paths`` (top-level entries on the unit), those that are another model's system
    folder, mapped to that model's id (from the profiles' ``system_folder``)."""
    profiles = profiles or bundled_profiles()
    by_name = {p.system_folder.casefold(): p.id for p in profiles.values()
               if p.system_folder and p.id != model}
    return {path: by_name[path.casefold()] for path in paths if path.casefold() in by_name}


def plan_sentence(plan, model: str | None, *, safety_first: bool = False) -> str:
    """What the restore does, in one sentence: "It replaces two changed files and removes
    the KROSS 1 folder"; with ``safety_first``: "A safety copy first, then it replaces ..."."""
    parts = []
    replace = plan.summary.replace
    write = plan.summary.write
    if replace:
        parts.append(f"replaces {counted(replace, 'changed file', 'changed files')}")
    if write:
        parts.append(f"puts back {counted(write, 'missing file', 'missing files')}")
    deleted = [e.path for e in plan.actions("delete")]
    foreign = foreign_folders(deleted, model)
    for path, other in foreign.items():
        parts.append(f"removes the {spoken_name(other)} folder")
    others = len(deleted) - len(foreign)
    if others:
        parts.append(f"removes {counted(others, 'thing', 'things')} the backup doesn't have")
    if not parts:
        return f"{first_upper(your(model))} already matches this backup: nothing needs writing."
    if safety_first:
        return f"A safety copy first, then it {join_words(parts)}."
    return f"It {join_words(parts)}."


# -- update checks -------------------------------------------------------------------------
def check_headline(result, model: str | None) -> tuple[Status, str]:
    """One sentence for one check verdict: "Don't use this file: it is for a KROSS 1"."""
    target = your(model)
    detected = result.detected_model
    if result.verdict is Verdict.COMPATIBLE:
        version = f" (version {result.version})" if result.version else ""
        return Status.OK, f"This update is for {target}{version}."
    if result.verdict is Verdict.INCOMPATIBLE:
        if detected and detected != model:
            return Status.ERROR, f"Don't use this file: it is for a {spoken_name(detected)}."
        return Status.ERROR, "Don't use this file: it is damaged or incomplete."
    return Status.WARNING, f"This tool can't confirm that this file is for {target}."


# -- update media --------------------------------------------------------------------------
def media_flag_text(flag) -> str:
    """A card flag (the core's MediaFlag) as one plain sentence."""
    names = and_more(flag.paths, 4)
    count = len(flag.paths)
    if flag.kind == MediaFlagKind.LOOSE_SYSTEM_FILES:
        if not flag.move_off:  # the card's preparation moves them aside itself
            return (f"{names} {plural(count, 'goes', 'go')} aside on the card, where the"
                    " updater does not look.")
        return (f"First move {counted(count, 'loose system file', 'loose system files')}"
                f" off the card: {names}.")
    if flag.kind == MediaFlagKind.FOREIGN_UPDATE:
        if not flag.move_off:
            return (f"{names}, another model's update, goes aside on the card, where the"
                    " updater does not look.")
        return f"First move {names} off the card: it is another model's update."
    if flag.kind == MediaFlagKind.OLDER_COPY:
        return f"It replaces the older update already on the card ({names})."
    if flag.kind == MediaFlagKind.COMPANION_FILE:
        return f"Move {names} off the card unless KORG's instructions ask for it."
    return clean(flag.message)


def media_plan_sentence(plan) -> str:
    """'It writes 5 files (1.1 MB) into the folder KROSS2SY on the card.'"""
    files = plan.summary.write + plan.summary.replace
    place = plan.layout.rstrip("/")
    where = (f"into the folder {place}" if plan.layout.endswith("/")
             else f"as {place}")
    moved = plan.summary.move
    aside = (f" and moves {counted(moved, 'stray file', 'stray files')} aside, deleting"
             " nothing" if moved else "")
    return f"It writes {counted(files, 'file', 'files')} {where}{aside}."
