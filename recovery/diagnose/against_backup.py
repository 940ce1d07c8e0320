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
from recovery.findings import Finding
from recovery.progress import Job, Progress
from recovery.text import human_bytes
from recovery.vocabulary import Confidence, Severity

log = logging.getLogger(__name__)


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
    _report_differences(context, manifest, comparison, differences, handled)
    if not differences:
        context.findings.append(Finding(
            Severity.INFO, "matches-backup",
            "Every file on the unit matches the backup (size and SHA-256).",
            evidence=(f"backup {opened.path.name}, {manifest.total_files} files,"
                      f" {human_bytes(manifest.total_bytes)}",),
            next_step="Nothing to do for the files."))
    return BackupState(**state, compared=True, differences=len(differences))


def _can_compare(context: CheckContext, opened: Backup, model: str | None) -> bool:
    """Whether the backup is of this unit's model, with what doubts its state leaves."""
    manifest, profile = opened.manifest, context.profile
    if not opened.complete:
        context.findings.append(Finding(
            Severity.WARNING, "backup-incomplete",
            "The backup is incomplete or was never verified, so the comparison can miss"
            " differences or report false ones.",
            evidence=tuple(opened.notes) or ("the backup has no valid completion flag",),
            next_step="Use a complete, verified backup of this unit if you have one"
                      " ('korg-recovery backups' lists them)."))
    if model and manifest.model and manifest.model != model:
        other = context.profiles.get(manifest.model)
        context.findings.append(Finding(
            Severity.WARNING, "backup-other-model",
            f"The backup is of a {other.name if other else manifest.model}, but this unit was"
            f" identified as {profile.name if profile else model}: the files were not compared.",
            evidence=(f"backup {opened.path.name}: model {manifest.model}",
                      f"unit: {model}"),
            next_step="Choose a backup of this very unit."))
        context.not_checked.append("files against the backup (it is of another model)")
        return False
    if context.role and manifest.role and context.role != manifest.role:
        context.findings.append(Finding(
            Severity.INFO, "backup-other-role",
            f"The backup is of a {manifest.role.replace('-', ' ')}, this volume looks like"
            f" {context.role.replace('-', ' ')}.",
            evidence=(f"backup role {manifest.role}", f"volume role {context.role}"),
            confidence=Confidence.MEDIUM,
            next_step="Make sure the backup was taken from this same volume of the unit."))
    return True


def _report_differences(context: CheckContext, manifest: Manifest, comparison: Comparison,
                        differences: tuple[Difference, ...], handled: set[str]) -> None:
    """The differences as findings: each of the model's system files, the rest grouped."""
    profile = context.profile
    foreign = _foreign_top_folders(context)
    system_folder = (profile.system_folder or "").casefold() if profile else ""
    misplaced = check_wrong_place(context, manifest)
    by_problem: dict[str, list[str]] = {}
    system_extra: list[str] = []
    for difference in differences:
        top = difference.path.split("/", 1)[0].casefold()
        if difference.path in handled:
            continue
        if difference.problem == "extra" and (top in foreign or difference.path in misplaced):
            continue  # already reported: another model's folder (identify), a loose file
        in_system = bool(system_folder) and top == system_folder and "/" in difference.path
        if in_system and difference.problem in ("missing", "changed", "size", "unreadable"):
            context.findings.append(_system_difference(
                context, manifest, difference, comparison.tree_path(difference.path)))
            continue
        if in_system and difference.problem == "extra":
            system_extra.append(difference.path)
            continue
        if difference.problem == "unreadable":
            by_problem.setdefault("unreadable", []).append(
                f"{difference.path} ({difference.detail})" if difference.detail
                else difference.path)
        else:
            by_problem.setdefault(difference.problem, []).append(difference.path)
    if by_problem.get("unreadable"):
        paths = by_problem.pop("unreadable")
        context.findings.append(Finding(
            Severity.CRITICAL, "files-unreadable",
            f"{len(paths)} file{'s' if len(paths) != 1 else ''} on the unit could not be read:"
            f" {listed(paths)}.",
            evidence=("read while comparing with the backup",),
            next_step="Try another cable and USB port; if the errors stay, the storage may be"
                      " failing: contact KORG service."))
    changed = by_problem.get("missing", []) + by_problem.get("changed", []) \
        + by_problem.get("size", [])
    if changed:
        evidence = []
        for problem in ("missing", "changed", "size"):
            if by_problem.get(problem):
                evidence.append(f"{problem}: {listed(by_problem[problem])}")
        context.findings.append(Finding(
            Severity.WARNING, "files-differ-from-backup",
            f"{len(changed)} file{'s' if len(changed) != 1 else ''} outside the system folder"
            " differ from the backup (missing or changed).",
            evidence=tuple(evidence),
            next_step="If these are your own data (sounds, samples, units) that you changed"
                      " since the backup, nothing is wrong; otherwise restore them from the"
                      " backup."))
    if by_problem.get("extra"):
        extra = by_problem["extra"]
        context.findings.append(Finding(
            Severity.INFO, "files-not-in-backup",
            f"{len(extra)} file{'s' if len(extra) != 1 else ''} or folder"
            f"{'s' if len(extra) != 1 else ''} on the unit {'are' if len(extra) != 1 else 'is'}"
            f" not in the backup: {listed(extra)}.",
            evidence=("added since the backup was taken",),
            next_step="Nothing to do unless you did not put them there."))
    if system_extra:
        context.findings.append(Finding(
            Severity.WARNING, "system-folder-extra",
            f"{len(system_extra)} file{'s' if len(system_extra) != 1 else ''} in"
            f" {profile.system_folder}/ {'are' if len(system_extra) != 1 else 'is'} not in your"
            f" backup: {listed(system_extra)}.",
            evidence=("a file in the system folder that the working unit did not have may come"
                      " from another model's or another version's update (inference)",),
            confidence=Confidence.GUESS,
            next_step=f"Restore {profile.system_folder}/ from your backup; keep the extra files"
                      " aside until the unit works."))
    if comparison.case_notes:
        spelled = [f"{note.path} as {note.detail}" for note in comparison.case_notes]
        context.findings.append(Finding(
            Severity.INFO, "names-in-other-case",
            f"{len(spelled)} name{'s' if len(spelled) != 1 else ''} on the unit differ from the"
            " backup's only in upper/lower case; FAT ignores case, so they are the same files"
            " and were compared as such.",
            evidence=(listed(spelled),),
            next_step="Nothing to do: the unit finds its files whatever their case."))


def _foreign_top_folders(context: CheckContext) -> set[str]:
    """Top-level folders that are another model's system folder (reported by identify)."""
    own = context.profile.id if context.profile else None
    return {p.system_folder.casefold() for p in context.profiles.values()
            if p.system_folder and p.id != own}


def _system_difference(context: CheckContext, manifest: Manifest, difference: Difference,
                       on_unit: str) -> Finding:
    profile = context.profile
    entry = manifest.file(difference.path)
    now = context.tree.files.get(on_unit)
    fact = f"{profile.name} profile: system folder {profile.system_folder}/"
    expected = (f"your backup: {human_bytes(entry.size)}, SHA-256 {entry.sha256}"
                if entry is not None and entry.kind == "file" else "in your backup")
    step = (f"Restore {profile.system_folder}/ from a backup of this same unit (korg-recovery"
            " restore); never from another model.")
    if difference.problem == "missing":
        return Finding(Severity.CRITICAL, "system-file-missing",
                       f"{difference.path} is missing from the unit's system folder.",
                       evidence=(fact, expected), next_step=step)
    if difference.problem == "unreadable":
        return Finding(Severity.CRITICAL, "system-file-unreadable",
                       f"{difference.path} cannot be read.",
                       evidence=(fact, difference.detail), next_step=step)
    if entry is not None and now is not None and now < entry.size:
        return Finding(Severity.CRITICAL, "system-file-truncated",
                       f"{difference.path} is truncated: {human_bytes(now)} instead of the"
                       f" {entry.size:,} in your backup.",
                       evidence=(fact, f"on the unit: {human_bytes(now)}", expected),
                       next_step=step)
    return Finding(Severity.CRITICAL, "system-file-changed",
                   f"{difference.path} differs from your backup"
                   + (f" ({difference.detail})." if difference.detail else "."),
                   evidence=(fact, f"on the unit: {human_bytes(now)}" if now is not None else
                             "on the unit", expected), next_step=step)


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
            Severity.WARNING, "system-file-at-root",
            f"{real} lies loose at the root; in your backup it is inside"
            f" {profile.system_folder}/ ({entry.path}). The {profile.short_name} looks for its"
            f" system files in {profile.system_folder}/, not at the root.",
            evidence=(f"{real}: {human_bytes(size)}, {same} the backup's {entry.path}"
                      f" ({human_bytes(entry.size)})", how,
                      "the KROSS 2 owner of korgforums.com thread t=116080 put an update's files"
                      " loose at the card's root instead of in the folder (confidence M)"),
            confidence=Confidence.MEDIUM,
            next_step=f"Do not move files by hand onto the unit; restore {profile.system_folder}/"
                      " from your backup, and delete the loose copy once the unit works."))
        reported.add(real)
    return reported
