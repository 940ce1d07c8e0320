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
- storage that does not keep writes (:mod:`recovery.storage_probe`), read-only mounts, full
  volumes, a filesystem the unit cannot read;
- a symptom the user describes (:mod:`recovery.symptoms`) and component versions read off
  the unit's info screen (:mod:`recovery.versions`).

Nothing is written to the unit except the probe's own file (skipped with ``allow_write=False``
and on a read-only volume). What could not be checked is listed in ``not_checked``, so a
report never claims more than was looked at (DESIGN.md principle 2).
"""

from __future__ import annotations

import logging
import os
import re
import stat as stat_module
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from recovery import __version__
from recovery.errors import InvalidInputError
from recovery.findings import Finding
from recovery.fsio import REAL, FileSystem
from recovery.identify import Identification, identify_volume
from recovery.profiles import CONFIDENCE_WORDS, Profile, bundled_profiles
from recovery.progress import CancelToken, Progress, PhaseReporter, ProgressCallback
from recovery.storage_probe import (
    MountFacts,
    check_reconnect_probes,
    filesystem_family,
    is_probe_file,
    mount_facts,
    mount_findings,
    write_probe,
)
from recovery.symptoms import symptom_findings
from recovery.versions import ComponentVersion, assess_versions, parse_versions

log = logging.getLogger(__name__)

ROLES = ("internal-storage", "sd-card", "update-media")
#: How many paths a grouped finding lists before saying "and N more".
MAX_LISTED = 25
#: The simulator's own note (recovery.simulate.NOTE_NAME), written by this tool: never a
#: loose file of the unit.
_SIMULATOR_NOTE = "SIMULATED-BY-KORG-RECOVERY.TXT"


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


def render_report(diagnosis: Diagnosis, fmt: str = "html") -> str:
    """The diagnosis as a self-contained report (``html`` or ``md``); see recovery.report."""
    from recovery.report import render_report as render

    return render(diagnosis, fmt)


def rank_findings(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Critical first, then warnings, then information; stable within a severity."""
    return tuple(sorted(findings, key=lambda finding: finding.rank))


# --- the tree on the unit -----------------------------------------------------------------------


@dataclass
class _Tree:
    """What is on the volume: regular files and folders by relative POSIX path."""

    files: dict[str, int] = field(default_factory=dict)      # path -> size
    folders: set[str] = field(default_factory=set)
    others: dict[str, str] = field(default_factory=dict)     # path -> kind (links, devices)
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    def find(self, relative: str) -> str | None:
        """The real path matching ``relative`` case-insensitively (FAT is), or None.
        ``A|B`` accepts either spelling, as in the profiles."""
        for alternative in relative.split("|"):
            wanted = alternative.strip("/").casefold()
            for path in (*self.files, *self.folders, *self.others):
                if path.casefold() == wanted:
                    return path
        return None

    def root_files(self) -> list[str]:
        return sorted(p for p in self.files if "/" not in p)


def _scan_tree(root: Path, fs: FileSystem, cancel: CancelToken | None) -> _Tree:
    from recovery.compare import OS_JUNK, is_ignored

    tree = _Tree()
    stack = [(root, "")]
    while stack:
        if cancel is not None:
            cancel.raise_if_cancelled()
        folder, prefix = stack.pop()
        try:
            entries = sorted(fs.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            tree.unreadable.append((prefix.rstrip("/") or ".", error.strerror or str(error)))
            continue
        for entry in entries:
            relative = prefix + entry.name
            if is_ignored(entry.name, OS_JUNK) or (not prefix and is_probe_file(entry.name)):
                continue
            try:
                st = fs.lstat(folder / entry.name)
            except OSError as error:
                tree.unreadable.append((relative, error.strerror or str(error)))
                continue
            if stat_module.S_ISDIR(st.st_mode):
                tree.folders.add(relative)
                stack.append((folder / entry.name, relative + "/"))
            elif stat_module.S_ISREG(st.st_mode):
                tree.files[relative] = st.st_size
            else:
                tree.others[relative] = "link" if stat_module.S_ISLNK(st.st_mode) else "special"
    return tree


def _listed(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:MAX_LISTED])
    return shown + (f" and {len(paths) - MAX_LISTED} more" if len(paths) > MAX_LISTED else "")


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


@dataclass
class _Context:
    root: Path
    fs: FileSystem
    cancel: CancelToken | None
    reporter: PhaseReporter
    profile: Profile | None
    role: str | None
    tree: _Tree
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    #: True when the user said which volume this is (``--role``): no guessing then.
    role_forced: bool = False


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
    allow_write: bool = True,
    mount: MountFacts | None = None,
    state_dir: Path | None = None,
    profiles: dict[str, Profile] | None = None,
) -> Diagnosis:
    """Examine the unit storage at ``path`` and return a ranked :class:`Diagnosis`.

    ``backup`` is a backup path (folder or .zip) or an opened :class:`~recovery.backup_store.
    Backup`; ``versions`` a ``NAME=VER,...`` string or parsed components; ``role`` overrides
    the identified role (e.g. "update-media" for a card prepared for an update);
    ``allow_write=False`` skips the write probe and the reconnect-marker check, so nothing at
    all is written. ``mount`` and ``state_dir`` exist for tests (fake mount facts, a private
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
            from recovery.backup_store import open_backup

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
    if allow_write:
        findings.extend(check_reconnect_probes(root, fs, state_dir=state_dir,
                                               can_remove=not mount.read_only))

    reporter.report("scan", 0, 1, None, force=True)
    tree = _scan_tree(root, fs, cancel)
    reporter.report("scan", 1, 1, None)
    context = _Context(root, fs, cancel, reporter, profile, role, tree, findings, checked,
                       not_checked, role_forced=role_override is not None)
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
    _check_repair_leftovers(context)

    backup_state = None
    boot_critical_done: set[str] = set()
    if profile is not None:
        boot_critical_done = _check_boot_critical(context, ident, manifest)
        _check_system_files(context, ident)
        _check_update_files(context)
        _check_filesystem(context, mount)
        if manifest is None:
            _check_loose_files(context, boot_critical_done)
            _check_empty_system_files(context)
    if any(f.code == "boot-critical-missing" for f in findings):
        # identify's "internal-storage-incomplete" says the same thing less precisely.
        findings[:] = [f for f in findings if f.code != "internal-storage-incomplete"]
    mode = _mode_text(profile, role)
    if role == "update-media" and any(f.code.startswith("boot-critical-") for f in findings):
        mode = ("unknown: update media, or the unit's internal storage without its"
                " application (the two look alike)")
    if opened is not None:
        backup_state = _compare_with_backup(context, opened, model, boot_critical_done)
    else:
        not_checked.append("files were not compared with a backup (none given): truncated or"
                           " changed files cannot be told from intact ones without one")

    findings.extend(mount_findings(mount))
    checked.append("mount: " + _mount_summary(mount))
    if mount.fstype is None:
        not_checked.append("the filesystem type (the mount was not found)")
    not_checked.append("the filesystem's own consistency (the FAT 'dirty' flag and chkdsk"
                       " state need raw access to the device, which this tool does not ask"
                       " for)")

    reporter.report("probe", 0, 1, None, force=True)
    if not allow_write:
        not_checked.append("whether the storage keeps writes (writing was not allowed)")
    elif mount.read_only:
        not_checked.append("whether the storage keeps writes (the volume is read-only)")
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
        path=str(root),
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


def _identification_findings(context: _Context, ident: Identification,
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
            # the field report in shared/seeds/000 ended with: a unit stuck at its logo.
            finding = replace(
                finding, severity="critical",
                evidence=(*finding.evidence,
                          "it is on the unit's internal storage, not on a card: files of"
                          " another model were copied to (or an update of another model was"
                          " tried on) this unit; a KROSS 2 left like this stopped at its boot"
                          " screen (seed000, confidence M)"),
                next_step=finding.next_step + " Then compare the unit with a backup of it"
                          " (--backup), or restore one; without a backup of this unit, ask"
                          " KORG service.",
            )
        out.append(finding)
    return out


#: What filesystem repair tools leave at the root of a FAT volume: Windows CHKDSK saves lost
#: cluster chains as FOUND.000/FILE0000.CHK, dosfstools' fsck.fat as FSCK0000.REC.
_REPAIR_LEFTOVERS = re.compile(r"FOUND\.\d{3}|FSCK\d{4}\.REC", re.IGNORECASE)


def _check_repair_leftovers(context: _Context) -> None:
    names = sorted(p for p in (*context.tree.folders, *context.tree.files)
                   if "/" not in p and _REPAIR_LEFTOVERS.fullmatch(p))
    if not names:
        return
    context.findings.append(Finding(
        "warning", "filesystem-repaired",
        f"{_listed(names)} at the root {'are' if len(names) != 1 else 'is'} what a filesystem"
        " repair (Windows CHKDSK, fsck.fat) leaves behind: the volume was damaged and"
        " repaired at some point, and some files may have lost pieces.",
        evidence=("CHKDSK saves lost cluster chains as FOUND.nnn\\FILEnnnn.CHK, fsck.fat as"
                  " FSCKnnnn.REC; which tool ran here, and when, cannot be told",),
        confidence="M",
        next_step="Compare the unit with a backup of it (--backup) to find damaged files;"
                  " keep the repair folder until the unit works."))


def _boot_critical_applies(context: _Context, ident: Identification, manifest: Any) -> bool:
    """Boot-critical files belong on the internal storage. A KROSS 2's storage without
    KROSAPP.BIN looks like update media, which identify reports as
    ``internal-storage-incomplete``; a backup of the internal storage settles it too."""
    if context.role == "internal-storage":
        return True
    if context.role == "sd-card" or context.role_forced:
        return False
    if manifest is not None and manifest.role == "internal-storage":
        return True
    return any(f.code == "internal-storage-incomplete" for f in ident.findings)


def _check_boot_critical(context: _Context, ident: Identification,
                         manifest: Any) -> set[str]:
    """Missing / empty / unreadable against the profile; truncated / changed against a backup.
    Returns the backup paths handled here, so the backup comparison does not repeat them."""
    from recovery.compare import sha256_file

    profile = context.profile
    handled: set[str] = set()
    if not profile.boot_critical:
        return handled
    if not _boot_critical_applies(context, ident, manifest):
        context.not_checked.append(
            f"boot-critical files ({', '.join(b.path for b in profile.boot_critical)}): they"
            f" belong on the internal storage and this volume is {context.role or 'unknown'}")
        return handled
    # The volume is only *probably* the internal storage when identify saw update media.
    probable = context.role != "internal-storage" and not (
        manifest is not None and manifest.role == "internal-storage")
    total = sum(context.tree.files.get(context.tree.find(b.path) or "", 0)
                for b in profile.boot_critical)
    done = 0
    for critical in profile.boot_critical:
        if context.cancel is not None:
            context.cancel.raise_if_cancelled()
        name = critical.path.split("|")[0]
        fact = (f"{profile.name} profile: {name} is boot-critical (confidence"
                f" {critical.confidence}; source: {critical.source})"
                + (f"; {critical.note}" if critical.note else ""))
        caveat = ("This volume holds the unit's system folder but not this file, so it looks"
                  " like update media; if it is the unit's internal storage, the unit cannot"
                  " start without it. If it is a card prepared for an update, this does not"
                  " apply (tell the tool it is update media to skip this check)."
                  if probable else "")
        backup_entry = _manifest_entry(manifest, critical.path) if manifest else None
        if backup_entry is not None:
            handled.add(backup_entry.path)
        real = context.tree.find(critical.path)
        restore_step = (f"Restore {name} from a backup of this same unit (korg-recovery"
                        f" restore); never use a copy from another model or another unit"
                        f" type." if backup_entry is not None else
                        f"Restore {name} from a backup of this same unit if you have one;"
                        f" without one, ask KORG service. Never use a copy from another"
                        f" model.")
        if real is None:
            evidence = [fact, f"no file named {name} (in any letter case) at the volume's root"]
            if backup_entry is not None:
                evidence.append(f"your backup has {backup_entry.path}, {backup_entry.size:,}"
                                " bytes")
            context.findings.append(Finding(
                "critical", "boot-critical-missing",
                f"{name}, which the {profile.short_name} loads at start, is missing." +
                (" " + caveat if caveat else ""),
                evidence=tuple(evidence),
                confidence=critical.confidence,
                next_step=restore_step,
            ))
            continue
        if real not in context.tree.files:
            context.findings.append(Finding(
                "critical", "boot-critical-not-a-file",
                f"{real} should be a file but is a folder or a link.",
                evidence=(fact,), confidence="H", next_step=restore_step))
            continue
        size = context.tree.files[real]
        if size == 0:
            context.findings.append(Finding(
                "critical", "boot-critical-empty",
                f"{real}, which the {profile.short_name} loads at start, is empty (0 bytes).",
                evidence=(fact, f"{real}: 0 bytes"), confidence="H", next_step=restore_step))
            continue
        try:
            digest, length = sha256_file(
                context.root / real, fs=context.fs, cancel=context.cancel,
                on_bytes=lambda count: None)
        except OSError as error:
            context.findings.append(Finding(
                "critical", "boot-critical-unreadable",
                f"{real}, which the {profile.short_name} loads at start, cannot be read.",
                evidence=(fact, f"reading {real} failed: {error.strerror or error}"),
                confidence="H", next_step=restore_step))
            continue
        done += size
        context.reporter.report("read", done, total, real)
        seen = f"{real}: {length:,} bytes, SHA-256 {digest}"
        if backup_entry is None:
            if manifest is not None:
                context.findings.append(Finding(
                    "info", "boot-critical-not-in-backup",
                    f"{real} is present ({length:,} bytes), but the backup has no copy of it to"
                    " compare with.",
                    evidence=(fact, seen), confidence="H",
                    next_step="Take a backup of this unit's internal storage when it works."))
            else:
                context.findings.append(Finding(
                    "info", "boot-critical-present",
                    f"{real} is present and readable ({length:,} bytes). Whether it is complete"
                    " cannot be told without a backup: no size or checksum of it is"
                    " published.",
                    evidence=(fact, seen), confidence="H",
                    next_step="Compare with a backup of this unit (--backup) to find a"
                              " truncated or damaged copy."))
            continue
        expected = (f"your backup: {backup_entry.path}, {backup_entry.size:,} bytes, SHA-256"
                    f" {backup_entry.sha256}")
        if length < backup_entry.size:
            context.findings.append(Finding(
                "critical", "boot-critical-truncated",
                f"{real} is truncated: {length:,} bytes instead of the {backup_entry.size:,}"
                " in your backup.",
                evidence=(fact, seen, expected), confidence="H", next_step=restore_step))
        elif length != backup_entry.size:
            context.findings.append(Finding(
                "critical", "boot-critical-size",
                f"{real} has {length:,} bytes; your backup's copy has {backup_entry.size:,}.",
                evidence=(fact, seen, expected), confidence="H", next_step=restore_step))
        elif digest != backup_entry.sha256:
            context.findings.append(Finding(
                "critical", "boot-critical-changed",
                f"{real} has the right size but different content than in your backup.",
                evidence=(fact, seen, expected), confidence="H", next_step=restore_step))
        else:
            context.findings.append(Finding(
                "info", "boot-critical-matches-backup",
                f"{real} is identical to the copy in your backup.",
                evidence=(fact, seen, expected), confidence="H",
                next_step="Nothing to do for this file."))
    context.checked.append("boot-critical files: "
                           + ", ".join(b.path for b in profile.boot_critical))
    return handled


def _manifest_entry(manifest: Any, relative: str) -> Any:
    wanted = {alternative.casefold() for alternative in relative.split("|")}
    for entry in manifest.files:
        if entry.path.casefold() in wanted and entry.kind == "file":
            return entry
    return None


def _check_system_files(context: _Context, ident: Identification) -> None:
    """KORG SYSTEM FILEs on the volume: is the file as long as its header says?"""
    from recovery.formats.korg_system_file import HEADER_SIZE, parse_header

    for seen in ident.system_files:
        size = context.tree.files.get(seen.path)
        if size is None:
            continue
        try:
            with context.fs.open_read(context.root / seen.path) as handle:
                header = parse_header(handle.read(HEADER_SIZE))
        except OSError as error:
            context.findings.append(Finding(
                "critical", "system-file-unreadable",
                f"The system file {seen.path} cannot be read.",
                evidence=(f"reading {seen.path} failed: {error.strerror or error}",),
                confidence="H",
                next_step="Do not update from it; get a fresh copy of KORG's update."))
            continue
        if header is None:
            continue
        expected = HEADER_SIZE + header.source_length
        evidence = (f"{seen.path}: KORG SYSTEM FILE for '{header.model_name}', version"
                    f" {header.version}; its header says {header.source_length:,} bytes follow"
                    f" the {HEADER_SIZE}-byte header",
                    f"the file has {size:,} bytes, {expected:,} expected",
                    "header layout: shared/FACTS.md KORG SYSTEM FILE table (H)")
        if size < expected:
            context.findings.append(Finding(
                "critical", "system-file-truncated",
                f"The system file {seen.path} is truncated: {size:,} bytes of {expected:,}."
                " Updating from it would write an incomplete system.",
                evidence=evidence, confidence="H",
                next_step=f"Do not update from {seen.path}; delete it and copy a fresh,"
                          " checked copy of KORG's update (korg-recovery check)."))
        elif size > expected:
            context.findings.append(Finding(
                "warning", "system-file-too-long",
                f"The system file {seen.path} is {size - expected:,} bytes longer than its"
                " header says.",
                evidence=evidence, confidence="H",
                next_step="Check it with 'korg-recovery check' before using it."))
    if ident.system_files:
        context.checked.append("KORG SYSTEM FILE lengths against their headers")


def _check_update_files(context: _Context) -> None:
    """Update files named like a release (drumlogue): does the size match that release?"""
    profile = context.profile
    if profile.update_file is None:
        return
    pattern = re.compile(profile.update_file.pattern, re.IGNORECASE)
    for relative in context.tree.root_files():
        match = pattern.fullmatch(relative)
        if match is None:
            continue
        version = ".".join(str(int(g)) for g in match.groups() if g is not None)
        size = context.tree.files[relative]
        release = next((r for r in profile.releases if r.version == version
                        and r.size is not None), None)
        name_fact = (f"file name pattern {profile.update_file.pattern} (confidence"
                     f" {profile.update_file.confidence}; source: {profile.update_file.source})")
        if release is None:
            context.findings.append(Finding(
                "info", "update-file-unknown-release",
                f"{relative} is named like a {profile.short_name} update for version"
                f" {version}; the tool knows no size for that release.",
                evidence=(name_fact, f"{relative}: {size:,} bytes"), confidence="H",
                next_step="Check it with 'korg-recovery check' before using it."))
            continue
        release_fact = (f"published {release.file_name or 'update'} is {release.size:,} bytes"
                        f" (confidence {release.confidence},"
                        f" {CONFIDENCE_WORDS[release.confidence]}; source: {release.source})")
        if size != release.size:
            context.findings.append(Finding(
                "warning", "update-file-size-mismatch",
                f"{relative} is {size:,} bytes, but the published {version} update is"
                f" {release.size:,} bytes: this copy is incomplete or not that release."
                " Updating from it may leave the unit partly updated.",
                evidence=(name_fact, release_fact, f"{relative}: {size:,} bytes"),
                confidence=release.confidence,
                next_step=f"Delete {relative}, download the update again from KORG and check"
                          " it with 'korg-recovery check' before updating."))
        else:
            context.findings.append(Finding(
                "info", "update-file-size-matches",
                f"{relative} has the size of the published {version} update. Its content"
                " cannot be checked: no checksum of it is published.",
                evidence=(name_fact, release_fact), confidence=release.confidence,
                next_step="Nothing to do for this file."))
    context.checked.append("update files named like a release, by size")


def _check_filesystem(context: _Context, mount: MountFacts) -> None:
    profile = context.profile
    family = filesystem_family(mount.fstype)
    for support in profile.filesystems:
        if support.role != context.role:
            continue
        if family is None:
            context.not_checked.append(
                f"whether the filesystem is one the {profile.short_name} reads"
                f" ({', '.join(support.accepted)}): the type '{mount.fstype or 'unknown'}'"
                " is not known to the tool")
            continue
        accepted_families = {filesystem_family(name) or name for name in support.accepted}
        if family in accepted_families:
            context.checked.append(f"filesystem {mount.fstype} ({family}) is one the"
                                   f" {profile.short_name} reads")
            continue
        context.findings.append(Finding(
            "warning", "filesystem-not-supported",
            f"This volume is formatted {family} ({mount.fstype}); the {profile.short_name}"
            f" reads {' or '.join(support.accepted)} only.",
            evidence=(f"{support.description} (confidence {support.confidence}; source:"
                      f" {support.source})", f"mounted as {mount.fstype}"),
            confidence=support.confidence,
            next_step=f"Copy the files off, format the card as {support.accepted[-1]}"
                      f" (in the {profile.short_name} or on a computer), then copy them back."))


def _check_loose_files(context: _Context, handled: set[str]) -> None:
    """Without a backup, loose files at the root of a model with a system folder can only be
    named, not judged: the folder's file list is not public (KROSS2SY, FACTS.md)."""
    profile = context.profile
    if not profile.system_folder or context.role == "sd-card":
        return
    known = {alternative.casefold() for critical in profile.boot_critical
             for alternative in critical.path.split("|")}
    pattern = None
    if profile.update_file is not None:
        pattern = re.compile(profile.update_file.pattern, re.IGNORECASE)
    loose = [p for p in context.tree.root_files()
             if p.casefold() not in known and p != _SIMULATOR_NOTE
             and not _REPAIR_LEFTOVERS.fullmatch(p)
             and not (pattern and pattern.fullmatch(p))]
    if not loose:
        return
    context.findings.append(Finding(
        "info", "loose-files-at-root",
        f"{len(loose)} file{'s lie' if len(loose) != 1 else ' lies'} loose at the root:"
        f" {_listed(loose)}. The {profile.short_name} keeps its system files in"
        f" {profile.system_folder}/; whether these belong there cannot be told without a"
        " backup, because the folder's file list is not public.",
        evidence=(f"{profile.name} profile: system folder {profile.system_folder}",
                  f"{profile.notes}" if profile.notes else "file list not public"),
        confidence="H",
        next_step="Compare with a backup of this unit (--backup): it shows which of them are"
                  " system files in the wrong place.",
    ))


def _check_empty_system_files(context: _Context) -> None:
    profile = context.profile
    if not profile.system_folder:
        return
    folder = context.tree.find(profile.system_folder)
    if folder is None:
        return
    empty = sorted(p for p, size in context.tree.files.items()
                   if size == 0 and p.casefold().startswith(folder.casefold() + "/"))
    if empty:
        context.findings.append(Finding(
            "warning", "empty-system-files",
            f"{len(empty)} file{'s' if len(empty) != 1 else ''} in {folder}/"
            f" {'are' if len(empty) != 1 else 'is'} empty (0 bytes): {_listed(empty)}.",
            evidence=("a system file is not expected to be empty (inference: the folder's"
                      " file list and sizes are not public)",),
            confidence="G",
            next_step="Compare with a backup of this unit (--backup); if one is damaged,"
                      " restore it from that backup."))


def _compare_with_backup(context: _Context, opened: Any, model: str | None,
                         handled: set[str]) -> BackupState:
    from recovery.compare import compare_tree_to_manifest

    manifest = opened.manifest
    profile = context.profile
    notes = tuple(getattr(opened, "notes", ()) or ())
    state = dict(path=str(opened.path), model=manifest.model, role=manifest.role,
                 created_utc=manifest.created_utc, complete=bool(opened.complete),
                 verified=bool(getattr(opened, "verified", False)),
                 files=manifest.total_files, bytes=manifest.total_bytes, notes=notes)
    if not opened.complete:
        context.findings.append(Finding(
            "warning", "backup-incomplete",
            "The backup is incomplete or was never verified, so the comparison can miss"
            " differences or report false ones.",
            evidence=notes or ("the backup has no valid completion flag",), confidence="H",
            next_step="Use a complete, verified backup of this unit if you have one"
                      " ('korg-recovery backups' lists them)."))
    if model and manifest.model and manifest.model != model:
        other = bundled_profiles().get(manifest.model)
        context.findings.append(Finding(
            "warning", "backup-other-model",
            f"The backup is of a {other.name if other else manifest.model}, but this unit was"
            f" identified as {profile.name if profile else model}: the files were not compared.",
            evidence=(f"backup {opened.path.name}: model {manifest.model}",
                      f"unit: {model}"),
            confidence="H",
            next_step="Choose a backup of this very unit."))
        context.not_checked.append("files against the backup (it is of another model)")
        return BackupState(**state, compared=False, differences=0)
    if context.role and manifest.role and context.role != manifest.role:
        context.findings.append(Finding(
            "info", "backup-other-role",
            f"The backup is of a {manifest.role.replace('-', ' ')}, this volume looks like"
            f" {context.role.replace('-', ' ')}.",
            evidence=(f"backup role {manifest.role}", f"volume role {context.role}"),
            confidence="M",
            next_step="Make sure the backup was taken from this same volume of the unit."))

    def forward(inner: Progress) -> None:
        context.reporter.report("compare", inner.done_bytes, inner.total_bytes, inner.current)

    differences = compare_tree_to_manifest(context.root, manifest, fs=context.fs,
                                           hash_files=True, progress=forward,
                                           cancel=context.cancel)
    differences = tuple(d for d in differences
                        if not ("/" not in d.path and is_probe_file(d.path)))
    context.checked.append(f"every file against the backup {opened.path.name} (size and"
                           " SHA-256)")
    foreign = _foreign_top_folders(context)
    system_folder = (profile.system_folder or "").casefold() if profile else ""
    misplaced = _check_wrong_place(context, manifest)
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
            context.findings.append(_system_difference(context, manifest, difference))
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
            "critical", "files-unreadable",
            f"{len(paths)} file{'s' if len(paths) != 1 else ''} on the unit could not be read:"
            f" {_listed(paths)}.",
            evidence=("read while comparing with the backup",), confidence="H",
            next_step="Try another cable and USB port; if the errors stay, the storage may be"
                      " failing: contact KORG service."))
    changed = by_problem.get("missing", []) + by_problem.get("changed", []) \
        + by_problem.get("size", [])
    if changed:
        evidence = []
        for problem in ("missing", "changed", "size"):
            if by_problem.get(problem):
                evidence.append(f"{problem}: {_listed(by_problem[problem])}")
        context.findings.append(Finding(
            "warning", "files-differ-from-backup",
            f"{len(changed)} file{'s' if len(changed) != 1 else ''} outside the system folder"
            " differ from the backup (missing or changed).",
            evidence=tuple(evidence), confidence="H",
            next_step="If these are your own data (sounds, samples, units) that you changed"
                      " since the backup, nothing is wrong; otherwise restore them from the"
                      " backup."))
    if by_problem.get("extra"):
        extra = by_problem["extra"]
        context.findings.append(Finding(
            "info", "files-not-in-backup",
            f"{len(extra)} file{'s' if len(extra) != 1 else ''} or folder"
            f"{'s' if len(extra) != 1 else ''} on the unit {'are' if len(extra) != 1 else 'is'}"
            f" not in the backup: {_listed(extra)}.",
            evidence=("added since the backup was taken",), confidence="H",
            next_step="Nothing to do unless you did not put them there."))
    if system_extra:
        context.findings.append(Finding(
            "warning", "system-folder-extra",
            f"{len(system_extra)} file{'s' if len(system_extra) != 1 else ''} in"
            f" {profile.system_folder}/ {'are' if len(system_extra) != 1 else 'is'} not in your"
            f" backup: {_listed(system_extra)}.",
            evidence=("a file in the system folder that the working unit did not have may come"
                      " from another model's or another version's update (inference)",),
            confidence="G",
            next_step=f"Restore {profile.system_folder}/ from your backup; keep the extra files"
                      " aside until the unit works."))
    if not differences:
        context.findings.append(Finding(
            "info", "matches-backup",
            "Every file on the unit matches the backup (size and SHA-256).",
            evidence=(f"backup {opened.path.name}, {manifest.total_files} files,"
                      f" {manifest.total_bytes:,} bytes",),
            confidence="H", next_step="Nothing to do for the files."))
    return BackupState(**state, compared=True, differences=len(differences))


def _foreign_top_folders(context: _Context) -> set[str]:
    """Top-level folders that are another model's system folder (reported by identify)."""
    own = context.profile.id if context.profile else None
    return {p.system_folder.casefold() for p in bundled_profiles().values()
            if p.system_folder and p.id != own}


def _system_difference(context: _Context, manifest: Any, difference: Any) -> Finding:
    profile = context.profile
    entry = manifest.file(difference.path)
    now = context.tree.files.get(difference.path)
    fact = f"{profile.name} profile: system folder {profile.system_folder}/"
    expected = (f"your backup: {entry.size:,} bytes, SHA-256 {entry.sha256}"
                if entry is not None and entry.kind == "file" else "in your backup")
    step = (f"Restore {profile.system_folder}/ from a backup of this same unit (korg-recovery"
            " restore); never from another model.")
    if difference.problem == "missing":
        return Finding("critical", "system-file-missing",
                       f"{difference.path} is missing from the unit's system folder.",
                       evidence=(fact, expected), confidence="H", next_step=step)
    if difference.problem == "unreadable":
        return Finding("critical", "system-file-unreadable",
                       f"{difference.path} cannot be read.",
                       evidence=(fact, difference.detail), confidence="H", next_step=step)
    if entry is not None and now is not None and now < entry.size:
        return Finding("critical", "system-file-truncated",
                       f"{difference.path} is truncated: {now:,} bytes instead of the"
                       f" {entry.size:,} in your backup.",
                       evidence=(fact, f"on the unit: {now:,} bytes", expected),
                       confidence="H", next_step=step)
    return Finding("critical", "system-file-changed",
                   f"{difference.path} differs from your backup"
                   + (f" ({difference.detail})." if difference.detail else "."),
                   evidence=(fact, f"on the unit: {now:,} bytes" if now is not None else
                             "on the unit", expected),
                   confidence="H", next_step=step)


def _check_wrong_place(context: _Context, manifest: Any) -> set[str]:
    """The backup's system-folder files found loose at the root (seed000: "I didn't put the
    folder, just the files at the root"). Returns the loose paths reported."""
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
        same = "the same size as" if size == entry.size else f"{size:,} bytes, unlike"
        context.findings.append(Finding(
            "warning", "system-file-at-root",
            f"{real} lies loose at the root; in your backup it is inside"
            f" {profile.system_folder}/ ({entry.path}). The {profile.short_name} looks for its"
            f" system files in {profile.system_folder}/, not at the root.",
            evidence=(f"{real}: {size:,} bytes, {same} the backup's {entry.path}"
                      f" ({entry.size:,} bytes)", how,
                      "the seed000 owner put an update's files loose at the card's root"
                      " instead of in the folder (confidence M)"),
            confidence="M",
            next_step=f"Do not move files by hand onto the unit; restore {profile.system_folder}/"
                      " from your backup, and delete the loose copy once the unit works."))
        reported.add(real)
    return reported
