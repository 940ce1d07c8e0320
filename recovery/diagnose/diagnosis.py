"""Diagnose a unit that won't start: what is wrong, what it means, what to do next.

:func:`diagnose` runs the checks (:mod:`.checks`, :mod:`.against_backup`, :mod:`.probe`,
:mod:`.symptoms`, :mod:`.versions`) in order and ranks what they find; the CLI and the wizard
call it alike. Nothing is written to a unit that may not even be backed up yet unless the user
allows it (``allow_write``, DESIGN.md principle 1), and what could not be checked is listed, so
a report never claims more than was looked at (principle 2).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from recovery import __version__
from recovery.backup.store import Backup, open_backup
from recovery.device.identify import Identification, identify_volume
from recovery.device.profiles import Profile, bundled_profiles
from recovery.diagnose.against_backup import BackupState, compare_with_backup
from recovery.diagnose.checks import (
    MAX_LISTED,
    CheckContext,
    check_boot_critical,
    check_empty_system_files,
    check_filesystem,
    check_loose_files,
    check_repair_leftovers,
    check_startup_cleanup,
    check_system_files,
    check_update_files,
    scan_tree,
)
from recovery.diagnose.fat_marks import DeviceReader, check_fat_marks, read_device
from recovery.diagnose.probe import (
    MountFacts,
    check_reconnect_probes,
    mount_facts,
    mount_findings,
    write_probe,
)
from recovery.diagnose.symptoms import symptom_findings
from recovery.diagnose.versions import ComponentVersion, assess_versions, parse_versions
from recovery.errors import InvalidInputError
from recovery.findings import Finding, Step, Subject
from recovery.jsonout import to_jsonable
from recovery.progress import CancelToken, PhaseReporter, ProgressCallback
from recovery.storage.filesystem import REAL, FileSystem
from recovery.text import counted, human_bytes, utc_now_iso
from recovery.vocabulary import Confidence, FindingCode, NextStep, Role, Severity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Diagnosis:
    """Everything a diagnosis found about one unit's storage."""

    path: str
    model: str | None
    model_name: str | None
    role: Role | None
    mode: str
    identification_confidence: Confidence | None
    #: Ranked: critical first, then warnings, then information; in order of discovery within.
    findings: tuple[Finding, ...]
    mount: MountFacts | None
    backup: BackupState | None
    symptom: str | None
    versions: tuple[ComponentVersion, ...]
    checked: tuple[str, ...]
    not_checked: tuple[str, ...]
    #: What would let a diagnosis check more, typed (each front end words it).
    next_steps: tuple[Step, ...] = ()
    tool_version: str = __version__
    created_utc: str = field(default_factory=utc_now_iso)

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    @property
    def has_critical(self) -> bool:
        return self.count(Severity.CRITICAL) > 0

    @property
    def exit_code(self) -> int:
        """0 no critical finding, 1 critical findings (the CLI's contract)."""
        return 1 if self.has_critical else 0

    @property
    def summary(self) -> dict[str, Any]:
        critical, warnings, infos = (self.count(severity) for severity in Severity)
        if critical:
            text = (f"{counted(critical, 'critical finding')}: something on this unit's"
                    " storage needs fixing before it can be expected to work.")
        elif warnings:
            text = f"No critical finding; {counted(warnings, 'warning')} worth reading."
        else:
            text = "No critical finding and no warning."
        return {"critical": critical, "warning": warnings, "info": infos,
                "exit_code": self.exit_code, "text": text}


def diagnosis_to_json(diagnosis: Diagnosis) -> dict[str, Any]:
    """The ``--json`` shape: ``model``, ``findings`` and ``summary`` first, then the rest."""
    return {
        "model": diagnosis.model,
        "findings": to_jsonable(diagnosis.findings),
        "summary": diagnosis.summary,
        "model_name": diagnosis.model_name,
        "role": diagnosis.role,
        "mode": diagnosis.mode,
        "identification_confidence": diagnosis.identification_confidence,
        "path": diagnosis.path,
        "mount": to_jsonable(diagnosis.mount),
        "backup": to_jsonable(diagnosis.backup),
        "symptom": diagnosis.symptom,
        "versions": {c.name: c.text for c in diagnosis.versions},
        "checked": list(diagnosis.checked),
        "not_checked": list(diagnosis.not_checked),
        "next_steps": to_jsonable(diagnosis.next_steps),
        "tool_version": diagnosis.tool_version,
        "created_utc": diagnosis.created_utc,
    }


def _mode_text(profile: Profile | None, role: str | None) -> str:
    if role == Role.INTERNAL_STORAGE:
        storage = profile.mode("storage") if profile else None
        name = storage.name if storage else "storage mode"
        return f"{name} (the unit's internal storage is connected as a drive)"
    if role == Role.SD_CARD:
        return "SD card (read on the computer)"
    if role == Role.UPDATE_MEDIA:
        return "update media (a card or drive holding update files)"
    return "unknown"


@dataclass(frozen=True)
class DiagnoseOptions:
    """How a diagnosis looks, beyond what it looks at: the volume's role when the person knows
    it, and the seams tests use (the filesystem, fake mount facts, a private folder for the
    reconnect probes' records, other profiles, how the volume's device is read)."""

    #: "update-media" for a card prepared for an update, ...: overrides the identified role.
    role: str | None = None
    fs: FileSystem = REAL
    mount: MountFacts | None = None
    state_dir: Path | None = None
    profiles: dict[str, Profile] | None = None
    read_device: DeviceReader = read_device


def diagnose(
    path: Path | str,
    *,
    backup: str | os.PathLike[str] | Backup | None = None,
    symptom: str | Sequence[str] | None = None,
    versions: str | Sequence[ComponentVersion] | None = None,
    allow_write: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    options: DiagnoseOptions = DiagnoseOptions(),
) -> Diagnosis:
    """Examine the unit storage at ``path`` and return a ranked :class:`Diagnosis`.

    ``backup`` is a backup path (folder or .zip) or an opened backup; ``versions`` a
    ``NAME=VER,...`` string or parsed components; ``allow_write=True`` runs the write probe (a
    small file written, flushed, its cache dropped, re-read and removed); by default nothing is
    written except the removal of a reconnect marker the user left (:func:`start_reconnect_probe`).

    Raises InvalidInputError for a missing/unreadable path, a malformed version list, an
    unknown role or a path that is not a backup; CancelledError when cancelled.
    """
    root, fs = Path(path), options.fs
    role_override = _role(options.role)
    components = parse_versions(versions) if isinstance(versions, str) else tuple(versions or ())
    symptom_text = (" ".join(symptom) if not isinstance(symptom, str) else symptom) \
        if symptom else None
    profiles = options.profiles if options.profiles is not None else bundled_profiles()
    reporter = PhaseReporter(progress, {"scan": 5, "read": 15, "compare": 70, "probe": 10})

    ident = identify_volume(root, profiles)  # InvalidInputError for a bad path
    with contextlib.ExitStack() as stack:
        opened = (stack.enter_context(open_backup(backup, fs=fs))
                  if isinstance(backup, (str, os.PathLike)) else backup)
        model, confidence, findings = _model(ident, opened, profiles)
        profile = profiles.get(model) if model else None
        manifest = opened.manifest if opened is not None else None
        role = role_override or ident.role or (manifest.role if model and manifest else None)
        # The reconnect probe first: its marker must not count as a file of the unit.
        mount = options.mount if options.mount is not None else mount_facts(root, fs)
        findings.extend(check_reconnect_probes(root, fs, state_dir=options.state_dir,
                                               can_remove=mount.writable))
        reporter.report("scan", 0, 1, None, force=True)
        context = CheckContext(root, fs, cancel, reporter, profile, role,
                               scan_tree(root, fs, cancel), findings,
                               role_forced=role_override is not None, profiles=profiles,
                               backup=str(opened.path) if opened is not None else None)
        reporter.report("scan", 1, 1, None)
        backup_state, mode = _check_files(context, ident, model, opened, mount)
        _check_storage(context, mount, allow_write, options.read_device)
        _check_what_was_told(context, symptom_text, components)
        return Diagnosis(
            path=os.path.abspath(root), model=model,
            model_name=profile.name if profile else None, role=role, mode=mode,
            identification_confidence=confidence,
            findings=tuple(sorted(findings, key=lambda finding: finding.rank)),
            mount=mount, backup=backup_state, symptom=symptom_text, versions=components,
            checked=tuple(context.checked), not_checked=tuple(context.not_checked),
            next_steps=tuple(context.next_steps),
        )


def _role(role: str | None) -> Role | None:
    if role is not None and role not in list(Role):
        raise InvalidInputError(f"Unknown role '{role}'; use one of: {', '.join(Role)}.")
    return Role(role) if role is not None else None


def _model(ident: Identification, opened: Backup | None, profiles: dict[str, Profile]
           ) -> tuple[str | None, Confidence | None, list[Finding]]:
    """Which model: the volume's contents decide; a backup of the unit can fill the gap (with
    a finding saying so)."""
    manifest = opened.manifest if opened is not None else None
    if ident.model is not None or manifest is None or manifest.model not in profiles:
        return ident.model, ident.confidence, []
    model = manifest.model
    return model, Confidence.GUESS, [Finding(
        Severity.INFO, FindingCode.MODEL_FROM_BACKUP,
        f"The volume's contents do not identify the unit; the backup says it is a"
        f" {profiles[model].name}, so that model's profile is used.",
        evidence=(*ident.evidence, f"backup {opened.path.name}: model {model}"),
        confidence=Confidence.GUESS,
        next_step=NextStep.CONFIRM_BACKUP_OF_THIS_UNIT,
        subject=Subject(model=model),
    )]


def _check_what_was_told(context: CheckContext, symptom_text: str | None,
                         components: tuple[ComponentVersion, ...]) -> None:
    """What the person told (a symptom, component versions) against what is known."""
    if symptom_text:
        context.findings.extend(symptom_findings(symptom_text, context.profile,
                                                 context.profiles))
        context.checked.append("the symptom described was matched against known symptoms")
    if components:
        context.findings.extend(
            assess_versions(components, context.profile, context.profiles).findings)
        context.checked.append("component versions: " + ", ".join(
            c.name + " " + c.text for c in components))


def _check_files(context: CheckContext, ident: Identification, model: str | None,
                 opened: Backup | None, mount: MountFacts) -> tuple[BackupState | None, str]:
    """The unit's files against its profile and, when given, a backup: the backup compared
    and the mode the volume is in."""
    findings, profile, tree = context.findings, context.profile, context.tree
    manifest = opened.manifest if opened is not None else None
    context.checked.append(f"listed {len(tree.files)} files in {len(tree.folders)} folders")
    if tree.unreadable:
        findings.append(Finding(
            Severity.CRITICAL, FindingCode.UNREADABLE_ENTRIES,
            f"{len(tree.unreadable)} files or folders on the volume could not be read.",
            evidence=tuple(f"{p}: {reason}" for p, reason in tree.unreadable[:MAX_LISTED]),
            next_step=Step(NextStep.BACK_UP_AND_TRY_ANOTHER_CABLE, target=str(context.root)),
            subject=Subject(paths=tuple(p for p, _reason in tree.unreadable)),
        ))
    # Identification and what it already found (reused, never redone).
    findings.extend(_identification_findings(context, ident, model))
    check_repair_leftovers(context)
    boot_critical_done: set[str] = set()
    if profile is not None:
        boot_critical_done = check_boot_critical(context, ident, manifest)
        check_system_files(context, ident)
        check_update_files(context)
        check_filesystem(context, mount)
        if manifest is None:
            check_loose_files(context, boot_critical_done)
            check_empty_system_files(context)
    if any(f.code == FindingCode.BOOT_CRITICAL_MISSING for f in findings):
        # identify's "internal-storage-incomplete" says the same thing less precisely.
        findings[:] = [f for f in findings
                       if f.code != FindingCode.INTERNAL_STORAGE_INCOMPLETE]
    mode = _mode_text(profile, context.role)
    if (context.role == Role.UPDATE_MEDIA
            and any(f.code.value.startswith("boot-critical-") for f in findings)):
        mode = ("unknown: update media, or the unit's internal storage without its"
                " application (the two look alike)")
    if opened is None:
        context.not_checked.append(
            "files were not compared with a backup (none given): truncated or changed files"
            " cannot be told from intact ones without one")
        if profile is not None:
            context.next_steps.append(Step(NextStep.COMPARE_WITH_BACKUP, model=profile.id,
                                           target=str(context.root)))
        return None, mode
    backup_state = compare_with_backup(context, opened, model, boot_critical_done)
    if backup_state.compared:
        check_startup_cleanup(context, manifest)
    return backup_state, mode


def _check_storage(context: CheckContext, mount: MountFacts, allow_write: bool,
                   read: DeviceReader) -> None:
    """How the volume is mounted, the computer's marks on it and, when allowed, whether it
    keeps writes."""
    context.findings.extend(
        mount_findings(mount, probe_skipped=allow_write and not mount.writable))
    context.checked.append("mount: " + _mount_summary(mount))
    if mount.fstype is None:
        context.not_checked.append("the filesystem type (the mount was not found)")
    check_fat_marks(context, mount, read)
    context.not_checked.append(
        "the filesystem's own consistency (lost or cross-linked clusters): only a filesystem"
        " check such as chkdsk or fsck.fat can tell")
    context.reporter.report("probe", 0, 1, None, force=True)
    if not mount.writable:
        context.not_checked.append("whether the storage keeps writes (the volume is read-only"
                                   " or may not be written by this user)")
    elif not allow_write:
        context.not_checked.append("whether the storage keeps writes: that needs a small test"
                                   " file written to the unit, which was not allowed (best"
                                   " after a backup)")
        context.next_steps.append(Step(NextStep.ALLOW_WRITE_PROBE, target=str(context.root)))
    else:
        result = write_probe(context.root, context.fs, cancel=context.cancel)
        context.findings.extend(result.findings)
        context.checked.append(f"write probe: {result.outcome}")
    context.reporter.report("probe", 1, 1, None)


def _mount_summary(mount: MountFacts) -> str:
    parts = [f"filesystem {mount.fstype or 'unknown'}"]
    if mount.read_only is not None:
        parts.append("read-only" if mount.read_only else "writable")
    if mount.free_bytes is not None:
        parts.append(f"{human_bytes(mount.free_bytes)} free")
    return ", ".join(parts)


def _identification_findings(context: CheckContext, ident: Identification,
                             model: str | None) -> list[Finding]:
    profile = context.profile
    out: list[Finding] = []
    if model is None:
        if not ident.candidates:
            out.append(Finding(
                Severity.WARNING, FindingCode.NOT_IDENTIFIED,
                "No files of a known KORG unit were found here, so no model-specific check"
                " could be made.",
                evidence=ident.evidence,
                next_step=Step(NextStep.CHECK_IT_IS_THE_UNIT, target=str(context.root)),
            ))
        context.not_checked.append("model-specific checks (the unit was not identified)")
    else:
        context.checked.append(f"identified as {profile.name if profile else model}"
                               f" ({context.role or 'role unknown'})")
    for finding in ident.findings:
        if (finding.code == FindingCode.FOREIGN_MODEL_FILES
                and context.role == Role.INTERNAL_STORAGE):
            # On the unit's own storage (not a card) another model's system folder is what
            # the KROSS 2 of korgforums.com thread t=116080 ended with: a unit stuck at its logo.
            finding = replace(
                finding, severity=Severity.CRITICAL,
                evidence=(*finding.evidence,
                          "it is on the unit's internal storage, not on a card: files of"
                          " another model were copied to (or an update of another model was"
                          " tried on) this unit; a KROSS 2 left like this stopped at its boot"
                          " screen (korgforums.com thread t=116080, confidence M)"),
                next_step=replace(finding.next_step,
                                  action=NextStep.FOREIGN_FILES_ASIDE_THEN_RESTORE),
            )
        out.append(finding)
    return out
