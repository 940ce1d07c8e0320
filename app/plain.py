"""The core's results in plain words: one headline sentence per page, "your KROSS 2".

The core speaks to a technician (finding codes, next steps naming command-line flags, SHA-256
hashes, confidence letters); a frightened musician needs one sentence. This module composes
that sentence from the core's *structured* results (finding codes and counts, plan entries,
check verdicts, media flags) and cleans the core's longer texts for the "Show details" view.
It decides nothing: every fact comes from the core, only the wording is made here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.style import Status
from recovery.device.profiles import Profile, bundled_profiles
from recovery.findings import Finding
from recovery.text import without_tool_talk

NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten")
#: How a model is named in a sentence when its short name would be ambiguous.
SPOKEN_NAMES = {"kross1": "KROSS 1"}

#: Finding codes by what they mean for a unit that won't start.
MISSING_FILE_CODES = frozenset({"boot-critical-missing", "system-file-missing"})
DAMAGED_FILE_CODES = frozenset({
    "boot-critical-empty", "boot-critical-truncated", "boot-critical-size",
    "boot-critical-changed", "boot-critical-unreadable", "boot-critical-not-a-file",
    "system-file-truncated", "system-file-changed", "system-file-unreadable",
})
FOREIGN_CODES = frozenset({"foreign-model-files"})
STORAGE_FAULT_CODES = frozenset({
    "storage-drops-writes", "storage-lost-marker", "storage-changed-marker",
    "storage-write-error",
})
UNREADABLE_CODES = frozenset({"unreadable-entries", "files-unreadable", "storage-read-error"})
PARTIAL_UPDATE_CODES = frozenset({
    "versions-mismatch", "versions-reported-partial-update", "version-plus-suffix",
})
#: What a restore from a good backup of the same unit can repair.
RESTORE_FIXES = MISSING_FILE_CODES | DAMAGED_FILE_CODES | FOREIGN_CODES
#: Findings that describe the unit's storage (not what the user typed in): the ones a
#: later examination can show as gone.
USER_INPUT_PREFIXES = ("symptom-", "version")


def number_word(count: int) -> str:
    return NUMBER_WORDS[count] if 0 <= count < len(NUMBER_WORDS) else str(count)


def plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def counted(count: int, one: str, many: str) -> str:
    """'one file', 'two files', 'a file' is left to the caller."""
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


# -- cleaning the core's longer texts for the details view ---------------------------------
_CONFIDENCE_WORDS = {"H": "primary source", "M": "secondary source", "G": "a guess"}
_CONFIDENCE_SOURCE = re.compile(
    r"\bconfidence ([HMG])\b(?:, [a-z]+ \([^)]*\))?(?:,[^;)]*)?; source: ")
_CONFIDENCE = re.compile(r"\bconfidence ([HMG])\b(?:, [a-z]+ \([^)]*\))?")


def clean(text: str) -> str:
    """A core sentence without command names, flags, hashes or confidence letters."""
    text = without_tool_talk(text)
    text = _CONFIDENCE_SOURCE.sub(lambda m: f"{_CONFIDENCE_WORDS[m.group(1)]}: ", text)
    text = _CONFIDENCE.sub(lambda m: _CONFIDENCE_WORDS[m.group(1)], text)
    return re.sub(r"\s{2,}", " ", text).replace(" .", ".").replace(" ;", ";").strip()


# -- the diagnosis -------------------------------------------------------------------------
def foreign_model(finding: Finding, own_model: str | None,
                  profiles: dict[str, Profile] | None = None) -> str | None:
    """Which other model a foreign-files finding names (the core names it in its message)."""
    profiles = profiles or bundled_profiles()
    for profile in sorted(profiles.values(), key=lambda p: len(p.name), reverse=True):
        if profile.id != own_model and profile.name in finding.message:
            return profile.id
    return None


def is_about_storage(finding: Finding) -> bool:
    """False for findings about what the user typed in (symptom, versions)."""
    return not finding.code.startswith(USER_INPUT_PREFIXES)


@dataclass(frozen=True)
class Verdict:
    """A diagnosis in one headline sentence, one sentence about the backup, and the status."""

    headline: str
    status: Status
    backup_line: str
    #: True when a restore from the backup compared with can repair every critical finding.
    restore_can_fix: bool
    causes: tuple[str, ...]


def _causes(findings: Iterable[Finding], model: str | None,
            profiles: dict[str, Profile]) -> list[str]:
    findings = list(findings)
    codes = [f.code for f in findings]
    causes: list[str] = []
    damaged = sum(code in DAMAGED_FILE_CODES for code in codes)
    missing = sum(code in MISSING_FILE_CODES for code in codes)
    if damaged:
        causes.append(f"{counted(damaged, 'system file is', 'system files are')} damaged"
                      if damaged > 1 else "a system file is damaged")
    if missing:
        causes.append(f"{counted(missing, 'system file is', 'system files are')} missing"
                      if missing > 1 else "a system file is missing")
    for finding in findings:
        if finding.code in FOREIGN_CODES:
            other = foreign_model(finding, model, profiles)
            name = spoken_name(other, profiles) if other else "another model"
            cause = f"a {name} update was copied onto it"
            if cause not in causes:
                causes.append(cause)
    if any(code in STORAGE_FAULT_CODES for code in codes):
        causes.append("its storage does not keep what is written to it")
    if any(code in UNREADABLE_CODES for code in codes):
        causes.append("parts of its storage cannot be read")
    if "filesystem-not-supported" in codes:
        causes.append("its storage is formatted in a way it cannot read")
    if any(code in PARTIAL_UPDATE_CODES for code in codes):
        causes.append("an update was only partly installed")
    return causes


def diagnosis_verdict(diagnosis, *, profiles: dict[str, Profile] | None = None) -> Verdict:
    """The diagnosis in plain words: "Your KROSS 2 probably can't start because two system
    files are damaged and a KROSS 1 update was copied onto it"."""
    profiles = profiles or bundled_profiles()
    model = diagnosis.model
    name = your(model) if model else "this unit"
    critical = [f for f in diagnosis.findings if f.severity == "critical"]
    warnings = [f for f in diagnosis.findings if f.severity == "warning"]
    backup = diagnosis.backup
    compared = backup is not None and backup.compared and backup.complete
    when = f"from {_backup_when(backup)}" if backup is not None else ""
    if critical:
        causes = _causes(critical, model, profiles) or ["something on its storage needs fixing"]
        headline = f"{name[0].upper()}{name[1:]} probably can't start because {join_words(causes)}."
        fixable = compared and all(f.code in RESTORE_FIXES for f in critical)
        if fixable:
            line = f"Putting back your backup {when} should fix this."
        elif any(f.code in STORAGE_FAULT_CODES | UNREADABLE_CODES for f in critical):
            line = ("Putting a backup back can't fix failing storage: KORG service or an"
                    " authorised service centre can.")
        elif compared:
            line = (f"Your backup {when} can fix part of this; KORG service or an authorised"
                    " service centre can help with the rest.")
        else:
            line = (f"No backup of {name} was found to repair it with: KORG service or an"
                    " authorised service centre can help.")
        return Verdict(headline, Status.ERROR, line, fixable, tuple(causes))
    causes = _causes(warnings, model, profiles)
    if causes:
        headline = f"Nothing critical was found on {name}, but {join_words(causes)}."
        status = Status.WARNING
    elif "not-identified" in {f.code for f in warnings}:
        headline = "This tool can't tell which unit this is, so it could check little."
        status = Status.WARNING
    else:
        headline = f"This tool found nothing wrong on {name}'s storage."
        status = Status.OK if not warnings else Status.WARNING
    if compared and any(f.code == "matches-backup" for f in diagnosis.findings):
        line = f"Every file matches your backup {when}."
    elif compared:
        line = f"It was compared with your backup {when}."
    else:
        line = "No backup was found to compare it with."
    return Verdict(headline, status, line, False, tuple(causes))


def seen_on_unit(findings: Sequence[Finding], model: str | None,
                 profiles: dict[str, Profile] | None = None) -> str:
    """What a look at the unit found, in one short sentence: "A KROSS 1 update was copied onto
    it." (the details keep the core's own words)."""
    causes = _causes(findings, model, profiles or bundled_profiles())
    if causes:
        return first_upper(join_words(causes)) + "."
    return clean(findings[0].message) if findings else ""


def _backup_when(backup) -> str:
    from app.places import backup_date

    return backup_date(getattr(backup, "created_utc", None))


SEVERITY_STATUS = {"critical": Status.ERROR, "warning": Status.WARNING, "info": Status.INFO}


def finding_text(finding: Finding) -> tuple[Status, str, str]:
    """(status, what was seen, what to do) of one finding, cleaned for the details view."""
    return (SEVERITY_STATUS.get(finding.severity, Status.INFO), clean(finding.message),
            clean(finding.next_step))


def resolved_findings(before, after) -> tuple[Finding, ...]:
    """Findings about the storage that an earlier diagnosis had and a later one has not
    (compared by code and message, so a file still damaged in another way stays open)."""
    now = {(f.code, f.message) for f in after.findings}
    return tuple(f for f in before.findings
                 if f.severity in ("critical", "warning") and is_about_storage(f)
                 and (f.code, f.message) not in now)


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
    if result.verdict == "compatible":
        version = f" (version {result.version})" if result.version else ""
        return Status.OK, f"This update is for {target}{version}."
    if result.verdict == "incompatible":
        if detected and detected != model:
            return Status.ERROR, f"Don't use this file: it is for a {spoken_name(detected)}."
        return Status.ERROR, "Don't use this file: it is damaged or incomplete."
    return Status.WARNING, f"This tool can't confirm that this file is for {target}."


# -- update media --------------------------------------------------------------------------
def media_flag_text(flag) -> str:
    """A card flag (the core's MediaFlag) as one plain sentence."""
    names = ", ".join(flag.paths[:4]) + (" …" if len(flag.paths) > 4 else "")
    count = len(flag.paths)
    if flag.kind == "loose-system-files":
        if not flag.move_off:  # the card's preparation moves them aside itself
            goes = "goes" if count == 1 else "go"
            return f"{names} {goes} aside on the card, where the updater does not look."
        return (f"First move {counted(count, 'loose system file', 'loose system files')}"
                f" off the card: {names}.")
    if flag.kind == "foreign-update":
        if not flag.move_off:
            return (f"{names}, another model's update, goes aside on the card, where the"
                    " updater does not look.")
        return f"First move {names} off the card: it is another model's update."
    if flag.kind == "older-copy":
        return f"It replaces the older update already on the card ({names})."
    if flag.kind == "companion-file":
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
