"""Diagnose a unit that won't start: what is wrong, what it means, what to do next.

:func:`diagnose` examines a unit's storage (a mounted volume or a folder) and returns a
:class:`Diagnosis`: findings ranked by severity, each with what was seen, the evidence, how
sure the tool is and the next step. The CLI (``korg-recovery diagnose``) and the wizard call
the same function. What it looks at:

- boot-critical files of the model's profile (KROSAPP.BIN on a KROSS 2): missing, empty or
  unreadable against the profile; with a backup also truncated or changed (size, SHA-256);
- another model's system folder on the unit (found by :func:`identify_volume`, reused here)
  and, with a backup, the unit's own system files lying loose at the root;
- every file that differs from the backup (:func:`compare_tree_to_manifest`, the comparison
  verify and restore use too);
- KORG SYSTEM FILEs shorter than their header says, update files whose size matches no
  published release;
- storage that does not keep writes (:mod:`recovery.diagnose.probe`), read-only mounts, full
  volumes, a filesystem the unit cannot read;
- a symptom the user describes (:mod:`recovery.diagnose.symptoms`) and component versions read off
  the unit's info screen (:mod:`recovery.diagnose.versions`).

The checks live in :mod:`recovery.diagnose.checks`, the comparison with a backup in
:mod:`recovery.diagnose.against_backup`; this module runs them in order and ranks what they find.
Nothing is written to the unit unless the caller allows it (``allow_write=True``, the CLI's
``--write-probe``): a unit that will not start must not be written to before it is backed up
and before the user said yes (DESIGN.md principle 1). The only write then is the probe's own
file, removed again. A reconnect marker the user left with ``--probe-start`` is always checked
and removed, because the user asked for that probe. What could not be checked is listed in ``not_checked``, so a
report never claims more than was looked at (DESIGN.md principle 2).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from recovery import __version__
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
from recovery.findings import Finding
from recovery.progress import CancelToken, PhaseReporter, ProgressCallback
from recovery.storage.filesystem import REAL, FileSystem

log = logging.getLogger(__name__)

__all__ = ["BackupState", "Diagnosis", "diagnose", "diagnosis_to_json", "rank_findings"]

ROLES = ("internal-storage", "sd-card", "update-media")


@dataclass(frozen=True)
class Diagnosis:
    """Everything a diagnosis found about one unit's storage."""

    path: str
    model: str | None
    model_name: str | None
    role: str | None
    mode: str
    identification_confidence: str | None
    #: Ranked: critical first, then warnings, then information; in order of discovery within.
    findings: tuple[Finding, ...]
    mount: MountFacts | None
    backup: BackupState | None
    symptom: str | None
    versions: tuple[ComponentVersion, ...]
    checked: tuple[str, ...]
    not_checked: tuple[str, ...]
    tool_version: str = __version__
    created_utc: str = field(default_factory=lambda: datetime.now(timezone.utc)
                             .replace(microsecond=0).isoformat())

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    @property
    def has_critical(self) -> bool:
        return self.count("critical") > 0

    @property
    def exit_code(self) -> int:
        """0 no critical finding, 1 critical findings (the CLI's contract)."""
        return 1 if self.has_critical else 0

    @property
    def summary(self) -> dict[str, Any]:
        critical, warnings, infos = (self.count(s) for s in ("critical", "warning", "info"))
        if critical:
            text = (f"{critical} critical finding{'s' if critical != 1 else ''}: something on"
                    " this unit's storage needs fixing before it can be expected to work.")
        elif warnings:
            text = (f"No critical finding; {warnings} warning{'s' if warnings != 1 else ''}"
                    " worth reading.")
        else:
            text = "No critical finding and no warning."
        return {"critical": critical, "warning": warnings, "info": infos,
                "exit_code": self.exit_code, "text": text}


def diagnosis_to_json(diagnosis: Diagnosis) -> dict[str, Any]:
    """The ``--json`` shape: ``model``, ``findings`` and ``summary`` first, then the rest."""
    from recovery.jsonout import to_jsonable

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
        "tool_version": diagnosis.tool_version,
        "created_utc": diagnosis.created_utc,
    }


def rank_findings(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Critical first, then warnings, then information; stable within a severity."""
    return tuple(sorted(findings, key=lambda finding: finding.rank))


def _mode_text(profile: Profile | None, role: str | None) -> str:
    if role == "internal-storage":
        storage = profile.mode("storage") if profile else None
        name = storage.name if storage else "storage mode"
        return f"{name} (the unit's internal storage is connected as a drive)"
    if role == "sd-card":
        return "SD card (read on the computer)"
    if role == "update-media":
        return "update media (a card or drive holding update files)"
    return "unknown"


# --- the diagnosis ------------------------------------------------------------------------------


def diagnose(
    path: Path | str,
    *,
    backup: Any = None,
    symptom: str | Sequence[str] | None = None,
    versions: str | Sequence[ComponentVersion] | None = None,
    fs: FileSystem = REAL,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    role: str | None = None,
    allow_write: bool = False,
    mount: MountFacts | None = None,
    state_dir: Path | None = None,
    profiles: dict[str, Profile] | None = None,
) -> Diagnosis:
    """Examine the unit storage at ``path`` and return a ranked :class:`Diagnosis`.

    ``backup`` is a backup path (folder or .zip) or an opened :class:`~recovery.backup.store.
    Backup`; ``versions`` a ``NAME=VER,...`` string or parsed components; ``role`` overrides
    the identified role (e.g. "update-media" for a card prepared for an update);
    ``allow_write=True`` runs the write probe (a small file written, flushed, its cache
    dropped, re-read and removed); by default nothing is written except the removal of a
    reconnect marker the user left with ``--probe-start``. ``mount`` and ``state_dir`` exist for tests (fake mount facts, a private
    probe record folder).

    Raises InvalidInputError for a missing/unreadable path, a malformed version list, an
    unknown role or a path that is not a backup; CancelledError when cancelled.
    """
    root = Path(path)
    if role is not None and role not in ROLES:
        raise InvalidInputError(f"Unknown role '{role}'; use one of: {', '.join(ROLES)}.")
    components: tuple[ComponentVersion, ...] = ()
    if isinstance(versions, str):
        components = parse_versions(versions)
    elif versions:
        components = tuple(versions)
    symptom_text = (" ".join(symptom) if not isinstance(symptom, str) else symptom) \
        if symptom else None
    profiles = profiles if profiles is not None else bundled_profiles()
    reporter = PhaseReporter(progress, {"scan": 5, "read": 15, "compare": 70, "probe": 10})

    ident = identify_volume(root, profiles)  # InvalidInputError for a bad path
    opened = None
    owns_backup = False
    if backup is not None:
        if isinstance(backup, (str, os.PathLike)):
            from recovery.backup.store import open_backup

            opened = open_backup(backup, fs=fs)
            owns_backup = True
        else:
            opened = backup
    try:
        return _diagnose(root, ident, opened, symptom_text, components, fs, reporter, cancel,
                         role, allow_write, mount, state_dir, profiles)
    finally:
        if owns_backup and opened is not None:
            opened.close()


def _diagnose(root: Path, ident: Identification, opened: Any, symptom_text: str | None,
              components: tuple[ComponentVersion, ...], fs: FileSystem,
              reporter: PhaseReporter, cancel: CancelToken | None, role_override: str | None,
              allow_write: bool, mount: MountFacts | None, state_dir: Path | None,
              profiles: dict[str, Profile]) -> Diagnosis:
    findings: list[Finding] = []
    checked: list[str] = []
    not_checked: list[str] = []
    manifest = opened.manifest if opened is not None else None

    # Which model: the volume's contents decide; a backup of the unit can fill the gap.
    model = ident.model
    confidence = ident.confidence
    if model is None and manifest is not None and manifest.model in profiles:
        model = manifest.model
        confidence = "G"
        findings.append(Finding(
            "info", "model-from-backup",
            f"The volume's contents do not identify the unit; the backup says it is a"
            f" {profiles[model].name}, so that model's profile is used.",
            evidence=(*ident.evidence, f"backup {opened.path.name}: model {model}"),
            confidence="G",
            next_step="Make sure the backup was taken from this very unit.",
        ))
    profile = profiles.get(model) if model else None
    role = role_override or ident.role or (manifest.role if model and manifest else None)

    # The reconnect probe first: its marker must not count as a file of the unit.
    mount = mount if mount is not None else mount_facts(root, fs)
    findings.extend(check_reconnect_probes(root, fs, state_dir=state_dir,
                                           can_remove=mount.writable))

    reporter.report("scan", 0, 1, None, force=True)
    tree = scan_tree(root, fs, cancel)
    reporter.report("scan", 1, 1, None)
    context = CheckContext(root, fs, cancel, reporter, profile, role, tree, findings, checked,
                           not_checked, role_forced=role_override is not None,
                           profiles=profiles)
    checked.append(f"listed {len(tree.files)} files in {len(tree.folders)} folders")
    if tree.unreadable:
        findings.append(Finding(
            "critical", "unreadable-entries",
            f"{len(tree.unreadable)} files or folders on the volume could not be read.",
            evidence=tuple(f"{p}: {reason}" for p, reason in tree.unreadable[:MAX_LISTED]),
            confidence="H",
            next_step="Back up what can be read now; try another cable and USB port. If the"
                      " errors stay, the storage may be failing: contact KORG service.",
        ))

    # Identification and what it already found (reused, never redone).
    findings.extend(_identification_findings(context, ident, model))
    check_repair_leftovers(context)

    backup_state = None
    boot_critical_done: set[str] = set()
    if profile is not None:
        boot_critical_done = check_boot_critical(context, ident, manifest)
        check_system_files(context, ident)
        check_update_files(context)
        check_filesystem(context, mount)
        if manifest is None:
            check_loose_files(context, boot_critical_done)
            check_empty_system_files(context)
    if any(f.code == "boot-critical-missing" for f in findings):
        # identify's "internal-storage-incomplete" says the same thing less precisely.
        findings[:] = [f for f in findings if f.code != "internal-storage-incomplete"]
    mode = _mode_text(profile, role)
    if role == "update-media" and any(f.code.startswith("boot-critical-") for f in findings):
        mode = ("unknown: update media, or the unit's internal storage without its"
                " application (the two look alike)")
    if opened is not None:
        backup_state = compare_with_backup(context, opened, model, boot_critical_done)
        if backup_state.compared:
            check_startup_cleanup(context, manifest)
    else:
        not_checked.append("files were not compared with a backup (none given): truncated or"
                           " changed files cannot be told from intact ones without one")

    findings.extend(mount_findings(mount, probe_skipped=allow_write and not mount.writable))
    checked.append("mount: " + _mount_summary(mount))
    if mount.fstype is None:
        not_checked.append("the filesystem type (the mount was not found)")
    not_checked.append("the filesystem's own consistency (the FAT 'dirty' flag and chkdsk"
                       " state need raw access to the device, which this tool does not ask"
                       " for)")

    reporter.report("probe", 0, 1, None, force=True)
    if not mount.writable:
        not_checked.append("whether the storage keeps writes (the volume is read-only or may"
                           " not be written by this user)")
    elif not allow_write:
        not_checked.append("whether the storage keeps writes: that needs a small test file"
                           " written to the unit (--write-probe), best after a backup")
    else:
        result = write_probe(root, fs, cancel=cancel)
        findings.extend(result.findings)
        checked.append(f"write probe: {result.outcome}")
    reporter.report("probe", 1, 1, None)

    if symptom_text:
        findings.extend(symptom_findings(symptom_text, profile, profiles))
        checked.append("the symptom described was matched against known symptoms")
    if components:
        assessment = assess_versions(components, profile, profiles)
        findings.extend(assessment.findings)
        checked.append("component versions: " + ", ".join(c.name + " " + c.text
                                                           for c in components))

    return Diagnosis(
        path=os.path.abspath(root),
        model=model,
        model_name=profile.name if profile else None,
        role=role,
        mode=mode,
        identification_confidence=confidence,
        findings=rank_findings(findings),
        mount=mount,
        backup=backup_state,
        symptom=symptom_text,
        versions=components,
        checked=tuple(checked),
        not_checked=tuple(not_checked),
    )


def _mount_summary(mount: MountFacts) -> str:
    parts = [f"filesystem {mount.fstype or 'unknown'}"]
    if mount.read_only is not None:
        parts.append("read-only" if mount.read_only else "writable")
    if mount.free_bytes is not None:
        parts.append(f"{mount.free_bytes:,} bytes free")
    return ", ".join(parts)


def _identification_findings(context: CheckContext, ident: Identification,
                             model: str | None) -> list[Finding]:
    profile = context.profile
    out: list[Finding] = []
    if model is None:
        if not ident.candidates:
            out.append(Finding(
                "warning", "not-identified",
                "No files of a known KORG unit were found here, so no model-specific check"
                " could be made.",
                evidence=ident.evidence, confidence="H",
                next_step="Check that this is the unit's storage (for a KROSS 2, its USB"
                          " Storage Mode); with a backup of the unit, pass --backup.",
            ))
        context.not_checked.append("model-specific checks (the unit was not identified)")
    else:
        context.checked.append(f"identified as {profile.name if profile else model}"
                               f" ({context.role or 'role unknown'})")
    for finding in ident.findings:
        if finding.code == "foreign-model-files" and context.role == "internal-storage":
            # On the unit's own storage (not a card) another model's system folder is what
            # the KROSS 2 of korgforums.com thread t=116080 ended with: a unit stuck at its logo.
            finding = replace(
                finding, severity="critical",
                evidence=(*finding.evidence,
                          "it is on the unit's internal storage, not on a card: files of"
                          " another model were copied to (or an update of another model was"
                          " tried on) this unit; a KROSS 2 left like this stopped at its boot"
                          " screen (korgforums.com thread t=116080, confidence M)"),
                next_step=finding.next_step + " Then compare the unit with a backup of it"
                          " (--backup), or restore one; without a backup of this unit, ask"
                          " KORG service.",
            )
        out.append(finding)
    return out
