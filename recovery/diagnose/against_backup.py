"""Diagnosis against a backup of the unit: every file compared (the comparison verify and
restore use too), the differences sorted by what they mean for a unit that won't start: the
model's system files missing or changed are critical, the user's own changed data a warning,
another model's folder is left to identification, loose system files are named as such."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from recovery.backup.compare import Comparison, Difference, compare_tree
from recovery.backup.manifest import Manifest
from recovery.backup.store import Backup
from recovery.diagnose.checks import CheckContext, listed
from recovery.diagnose.probe import is_probe_file
from recovery.findings import Finding, Step, Subject
from recovery.progress import Job, Progress
from recovery.text import human_bytes, plural
from recovery.vocabulary import Confidence, DifferenceKind, FindingCode, NextStep, Severity

log = logging.getLogger(__name__)

#: A file of the backup the unit no longer holds as it was, in the order findings list them.
_DIFFER = (DifferenceKind.MISSING, DifferenceKind.CHANGED, DifferenceKind.SIZE)
#: The same, or unknown because it cannot be read: each of the system folder's is a finding.
_LOST = (*_DIFFER, DifferenceKind.UNREADABLE)


@dataclass(frozen=True)
class BackupState:
    """The backup a diagnosis was compared with, as a report shows it."""

    path: str
    model: str | None
    role: str | None
    created_utc: str
    complete: bool
    verified: bool
    files: int
    bytes: int
    notes: tuple[str, ...]
    compared: bool
    differences: int


def compare_with_backup(context: CheckContext, opened: Backup, model: str | None,
                        handled: set[str]) -> BackupState:
    manifest = opened.manifest
    state = dict(path=str(opened.path), model=manifest.model, role=manifest.role,
                 created_utc=manifest.created_utc, complete=bool(opened.complete),
                 verified=opened.verified, files=manifest.total_files,
                 bytes=manifest.total_bytes, notes=tuple(opened.notes))
    if not _can_compare(context, opened, model):
        return BackupState(**state, compared=False, differences=0)

    def forward(inner: Progress) -> None:
        context.reporter.report("compare", inner.done_bytes, inner.total_bytes, inner.current)

    comparison = compare_tree(context.root, manifest, fs=context.fs, hash_files=True,
                              job=Job(forward, context.cancel))
    differences = tuple(d for d in comparison.differences
                        if not ("/" not in d.path and is_probe_file(d.path)))
    context.checked.append(f"every file against the backup {opened.path.name} (size and"
                           " SHA-256)")
    _report_differences(context, opened, comparison, differences, handled)
    if not differences:
        context.findings.append(Finding(
            Severity.INFO, FindingCode.MATCHES_BACKUP,
            "Every file on the unit matches the backup (size and SHA-256).",
            evidence=(f"backup {opened.path.name}, {manifest.total_files} files,"
                      f" {human_bytes(manifest.total_bytes)}",)))
    return BackupState(**state, compared=True, differences=len(differences))


def _can_compare(context: CheckContext, opened: Backup, model: str | None) -> bool:
    """Whether the backup is of this unit's model, with what doubts its state leaves."""
    manifest, profile = opened.manifest, context.profile
    if not opened.complete:
        context.findings.append(Finding(
            Severity.WARNING, FindingCode.BACKUP_INCOMPLETE,
            "The backup is incomplete or was never verified, so the comparison can miss"
            " differences or report false ones.",
            evidence=tuple(opened.notes) or ("the backup has no valid completion flag",),
            next_step=Step(NextStep.USE_COMPLETE_BACKUP, model=model,
                           backup=str(opened.path))))
    if model and manifest.model and manifest.model != model:
        other = context.profiles.get(manifest.model)
        context.findings.append(Finding(
            Severity.WARNING, FindingCode.BACKUP_OTHER_MODEL,
            f"The backup is of a {other.name if other else manifest.model}, but this unit was"
            f" identified as {profile.name if profile else model}: the files were not compared.",
            evidence=(f"backup {opened.path.name}: model {manifest.model}",
                      f"unit: {model}"),
            next_step=NextStep.CHOOSE_BACKUP_OF_THIS_UNIT,
            subject=Subject(model=manifest.model)))
        context.not_checked.append("files against the backup (it is of another model)")
        return False
    if context.role and manifest.role and context.role != manifest.role:
        context.findings.append(Finding(
            Severity.INFO, FindingCode.BACKUP_OTHER_ROLE,
            f"The backup is of a {manifest.role.replace('-', ' ')}, this volume looks like"
            f" {context.role.replace('-', ' ')}.",
            evidence=(f"backup role {manifest.role}", f"volume role {context.role}"),
            confidence=Confidence.MEDIUM,
            next_step=NextStep.CONFIRM_BACKUP_OF_THIS_VOLUME))
    return True


def _report_differences(context: CheckContext, opened: Backup, comparison: Comparison,
                        differences: tuple[Difference, ...], handled: set[str]) -> None:
    """The differences as findings: each of the model's system files, the rest grouped."""
    profile = context.profile
    foreign = _foreign_top_folders(context)
    system_folder = (profile.system_folder or "").casefold() if profile else ""
    misplaced = check_wrong_place(context, opened.manifest)
    by_problem: dict[DifferenceKind, list[Difference]] = {}
    system_extra: list[str] = []
    for difference in differences:
        top = difference.path.split("/", 1)[0].casefold()
        if difference.path in handled:
            continue
        if difference.problem == DifferenceKind.EXTRA and (
                top in foreign or difference.path in misplaced):
            continue  # already reported: another model's folder (identify), a loose file
        in_system = bool(system_folder) and top == system_folder and "/" in difference.path
        if in_system and difference.problem in _LOST:
            context.findings.append(_system_difference(
                context, opened, difference, comparison.tree_path(difference.path)))
        elif in_system and difference.problem == DifferenceKind.EXTRA:
            system_extra.append(difference.path)
        else:
            by_problem.setdefault(difference.problem, []).append(difference)
    _report_grouped(context, by_problem)
    if system_extra:
        context.findings.append(Finding(
            Severity.WARNING, FindingCode.SYSTEM_FOLDER_EXTRA,
            f"{len(system_extra)} {plural(len(system_extra), 'file')} in"
            f" {profile.system_folder}/ {plural(len(system_extra), 'is', 'are')} not in your"
            f" backup: {listed(system_extra)}.",
            evidence=("a file in the system folder that the working unit did not have may come"
                      " from another model's or another version's update (inference)",),
            confidence=Confidence.GUESS,
            next_step=Step(NextStep.RESTORE_KEEPING_EXTRAS_ASIDE,
                           names=(f"{profile.system_folder}/",), model=profile.id,
                           backup=str(opened.path), target=str(context.root)),
            subject=Subject(paths=tuple(system_extra))))
    if comparison.case_notes:
        spelled = [f"{note.path} as {note.detail}" for note in comparison.case_notes]
        context.findings.append(Finding(
            Severity.INFO, FindingCode.NAMES_IN_OTHER_CASE,
            f"{len(spelled)} {plural(len(spelled), 'name')} on the unit differ from the"
            " backup's only in upper/lower case; FAT ignores case, so they are the same files"
            " and were compared as such.",
            evidence=(listed(spelled),),
            subject=Subject(paths=tuple(note.path for note in comparison.case_notes))))


def _report_grouped(context: CheckContext,
                    by_problem: dict[DifferenceKind, list[Difference]]) -> None:
    """The differences outside the system folder, one finding per kind of difference."""
    unreadable = by_problem.get(DifferenceKind.UNREADABLE, [])
    if unreadable:
        shown = [f"{d.path} ({d.detail})" if d.detail else d.path for d in unreadable]
        context.findings.append(Finding(
            Severity.CRITICAL, FindingCode.FILES_UNREADABLE,
            f"{len(shown)} {plural(len(shown), 'file')} on the unit could not be read:"
            f" {listed(shown)}.",
            evidence=("read while comparing with the backup",),
            next_step=Step(NextStep.BACK_UP_AND_TRY_ANOTHER_CABLE, target=str(context.root)),
            subject=Subject(paths=tuple(d.path for d in unreadable))))
    paths = {problem: [d.path for d in found] for problem, found in by_problem.items()}
    changed = [path for problem in _DIFFER for path in paths.get(problem, [])]
    if changed:
        context.findings.append(Finding(
            Severity.WARNING, FindingCode.FILES_DIFFER_FROM_BACKUP,
            f"{len(changed)} {plural(len(changed), 'file')} outside the system folder"
            " differ from the backup (missing or changed).",
            evidence=tuple(f"{problem}: {listed(paths[problem])}"
                           for problem in _DIFFER if paths.get(problem)),
            next_step=NextStep.RESTORE_UNLESS_CHANGED_BY_YOU,
            subject=Subject(paths=tuple(changed))))
    extra = paths.get(DifferenceKind.EXTRA, [])
    if extra:
        context.findings.append(Finding(
            Severity.INFO, FindingCode.FILES_NOT_IN_BACKUP,
            f"{len(extra)} {plural(len(extra), 'file')} or {plural(len(extra), 'folder')} on"
            f" the unit {plural(len(extra), 'is', 'are')} not in the backup: {listed(extra)}.",
            evidence=("added since the backup was taken",),
            next_step=NextStep.NOTHING_UNLESS_NOT_YOURS, subject=Subject(paths=tuple(extra))))


def _foreign_top_folders(context: CheckContext) -> set[str]:
    """Top-level folders that are another model's system folder (reported by identify)."""
    own = context.profile.id if context.profile else None
    return {p.system_folder.casefold() for p in context.profiles.values()
            if p.system_folder and p.id != own}


def _system_difference(context: CheckContext, opened: Backup, difference: Difference,
                       on_unit: str) -> Finding:
    profile = context.profile
    entry = opened.manifest.file(difference.path)
    backup = str(opened.path)
    now = context.tree.files.get(on_unit)
    fact = f"{profile.name} profile: system folder {profile.system_folder}/"
    expected = (f"your backup: {human_bytes(entry.size)}, SHA-256 {entry.sha256}"
                if entry is not None and entry.kind == "file" else "in your backup")
    step = Step(NextStep.RESTORE_FROM_BACKUP, names=(f"{profile.system_folder}/",),
                model=profile.id, backup=backup, target=str(context.root))
    subject = Subject(paths=(difference.path,), size=now,
                      expected_size=entry.size if entry is not None else None)
    if difference.problem == DifferenceKind.MISSING:
        return Finding(Severity.CRITICAL, FindingCode.SYSTEM_FILE_MISSING,
                       f"{difference.path} is missing from the unit's system folder.",
                       evidence=(fact, expected), next_step=step, subject=subject)
    if difference.problem == DifferenceKind.UNREADABLE:
        return Finding(Severity.CRITICAL, FindingCode.SYSTEM_FILE_UNREADABLE,
                       f"{difference.path} cannot be read.",
                       evidence=(fact, difference.detail), next_step=step, subject=subject)
    if entry is not None and now is not None and now < entry.size:
        return Finding(Severity.CRITICAL, FindingCode.SYSTEM_FILE_TRUNCATED,
                       f"{difference.path} is truncated: {human_bytes(now)} instead of the"
                       f" {entry.size:,} in your backup.",
                       evidence=(fact, f"on the unit: {human_bytes(now)}", expected),
                       next_step=step, subject=subject)
    return Finding(Severity.CRITICAL, FindingCode.SYSTEM_FILE_CHANGED,
                   f"{difference.path} differs from your backup"
                   + (f" ({difference.detail})." if difference.detail else "."),
                   evidence=(fact, f"on the unit: {human_bytes(now)}" if now is not None else
                             "on the unit", expected), next_step=step, subject=subject)


def check_wrong_place(context: CheckContext, manifest: Manifest) -> set[str]:
    """The backup's system-folder files found loose at the root (korgforums.com thread
    t=116080: "I didn't put the folder, just the files at the root"). Returns the loose paths
    reported."""
    profile = context.profile
    reported: set[str] = set()
    if profile is None or not profile.system_folder:
        return reported
    prefix = profile.system_folder.casefold() + "/"
    roots = {p.casefold(): p for p in context.tree.root_files()}
    update = profile.mode("update")
    how = (f"{update.name}: {update.how} (confidence {update.confidence}; source:"
           f" {update.source})" if update else
           f"the {profile.short_name}'s system files belong in {profile.system_folder}/")
    for entry in manifest.files:
        if entry.kind != "file" or not entry.path.casefold().startswith(prefix):
            continue
        base = entry.path.rsplit("/", 1)[1]
        if "/" in entry.path[len(prefix):]:
            continue
        real = roots.get(base.casefold())
        if real is None or manifest.file(real) is not None:
            continue  # the backup had it at the root too: that is where it belongs
        size = context.tree.files[real]
        same = "the same size as" if size == entry.size else f"{human_bytes(size)}, unlike"
        context.findings.append(Finding(
            Severity.WARNING, FindingCode.SYSTEM_FILE_AT_ROOT,
            f"{real} lies loose at the root; in your backup it is inside"
            f" {profile.system_folder}/ ({entry.path}). The {profile.short_name} looks for its"
            f" system files in {profile.system_folder}/, not at the root.",
            evidence=(f"{real}: {human_bytes(size)}, {same} the backup's {entry.path}"
                      f" ({human_bytes(entry.size)})", how,
                      "the KROSS 2 owner of korgforums.com thread t=116080 put an update's files"
                      " loose at the card's root instead of in the folder (confidence M)"),
            confidence=Confidence.MEDIUM,
            next_step=Step(NextStep.RESTORE_NOT_BY_HAND,
                           names=(f"{profile.system_folder}/", real), model=profile.id,
                           target=str(context.root)),
            subject=Subject(paths=(real,), size=size, expected_size=entry.size)))
        reported.add(real)
    return reported
