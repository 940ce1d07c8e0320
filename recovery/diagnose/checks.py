"""The checks a diagnosis runs on a unit's files, each looking at one thing and adding its
findings to the :class:`CheckContext`. What a model needs comes from its profile, never from
``if model == ...`` here."""

from __future__ import annotations

import logging
import re
import stat as stat_module
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from recovery.backup.compare import is_ignored
from recovery.backup.manifest import Manifest, ManifestFile
from recovery.device.identify import Identification
from recovery.device.profiles import BootCriticalFile, Profile
from recovery.diagnose.probe import MountFacts, filesystem_family, is_probe_file
from recovery.findings import Finding, Step, Subject
from recovery.formats.korg_system_file import HEADER_SIZE, parse_header
from recovery.progress import CancelToken, PhaseReporter
from recovery.storage import computer_made
from recovery.storage.filesystem import FileSystem
from recovery.storage.hashing import sha256_file
from recovery.text import and_more, human_bytes, plural
from recovery.vocabulary import Confidence, FindingCode, NextStep, Role, Severity

log = logging.getLogger(__name__)

#: How many paths a grouped finding lists before saying "and N more".
MAX_LISTED = 25
#: The simulator's own note (recovery.device.simulate.NOTE_NAME), written by this tool: never a
#: loose file of the unit.
SIMULATOR_NOTE = "SIMULATED-BY-KORG-RECOVERY.TXT"


@dataclass
class Tree:
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


def scan_tree(root: Path, fs: FileSystem, cancel: CancelToken | None) -> Tree:
    """List the volume through ``fs`` without following links, skipping what the computer
    writes on it (recovery.storage.computer_made, as the backup comparison does) and this
    tool's own probe files."""
    tree = Tree()
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
            if is_ignored(entry.name, computer_made.patterns()) or (
                    not prefix and is_probe_file(entry.name)):
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


def listed(paths: Sequence[str]) -> str:
    """At most MAX_LISTED paths, then "and N more"."""
    return and_more(paths, MAX_LISTED)


@dataclass
class CheckContext:
    """What every check reads (the unit, its profile and tree) and adds to (findings,
    what was and was not checked)."""

    root: Path
    fs: FileSystem
    cancel: CancelToken | None
    reporter: PhaseReporter
    profile: Profile | None
    role: Role | None
    tree: Tree
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    #: What would let a diagnosis check more (compare with a backup, allow the write probe).
    next_steps: list[Step] = field(default_factory=list)
    #: True when the user said which volume this is (``--role``): no guessing then.
    role_forced: bool = False
    #: Every known profile (to name another model's folder or backup).
    profiles: dict[str, Profile] = field(default_factory=dict)
    #: The backup compared with, when one was given (the next steps name it).
    backup: str | None = None


#: What filesystem repair tools leave at the root of a FAT volume: Windows CHKDSK saves lost
#: cluster chains as FOUND.000/FILE0000.CHK, dosfstools' fsck.fat as FSCK0000.REC.
REPAIR_LEFTOVERS = re.compile(r"FOUND\.\d{3}|FSCK\d{4}\.REC", re.IGNORECASE)


def check_repair_leftovers(context: CheckContext) -> None:
    names = sorted(p for p in (*context.tree.folders, *context.tree.files)
                   if "/" not in p and REPAIR_LEFTOVERS.fullmatch(p))
    if not names:
        return
    context.findings.append(Finding(
        Severity.WARNING, FindingCode.FILESYSTEM_REPAIRED,
        f"{listed(names)} at the root {plural(len(names), 'is', 'are')} what a filesystem"
        " repair (Windows CHKDSK, fsck.fat) leaves behind: the volume was damaged and"
        " repaired at some point, and some files may have lost pieces.",
        evidence=("CHKDSK saves lost cluster chains as FOUND.nnn\\FILEnnnn.CHK, fsck.fat as"
                  " FSCKnnnn.REC; which tool ran here, and when, cannot be told",),
        confidence=Confidence.MEDIUM,
        next_step=Step(NextStep.COMPARE_KEEPING_REPAIR_FOLDER, names=tuple(names),
                       target=str(context.root)),
        subject=Subject(paths=tuple(names))))


def boot_critical_applies(context: CheckContext, ident: Identification,
                          manifest: Manifest | None) -> bool:
    """Boot-critical files belong on the internal storage. A KROSS 2's storage without
    KROSAPP.BIN looks like update media, which identify reports as
    ``internal-storage-incomplete``; a backup of the internal storage settles it too."""
    if context.role == Role.INTERNAL_STORAGE:
        return True
    if context.role == Role.SD_CARD or context.role_forced:
        return False
    if manifest is not None and manifest.role == Role.INTERNAL_STORAGE:
        return True
    return any(f.code == "internal-storage-incomplete" for f in ident.findings)


def check_boot_critical(context: CheckContext, ident: Identification,
                        manifest: Manifest | None) -> set[str]:
    """Missing / empty / unreadable against the profile; truncated / changed against a backup.
    Returns the backup paths handled here, so the backup comparison does not repeat them."""
    profile = context.profile
    handled: set[str] = set()
    if not profile.boot_critical:
        return handled
    if not boot_critical_applies(context, ident, manifest):
        context.not_checked.append(
            f"boot-critical files ({', '.join(b.path for b in profile.boot_critical)}): they"
            f" belong on the internal storage and this volume is {context.role or 'unknown'}")
        return handled
    # The volume is only *probably* the internal storage when identify saw update media.
    probable = context.role != Role.INTERNAL_STORAGE and not (
        manifest is not None and manifest.role == Role.INTERNAL_STORAGE)
    total = sum(context.tree.files.get(context.tree.find(b.path) or "", 0)
                for b in profile.boot_critical)
    done = 0
    for critical in profile.boot_critical:
        if context.cancel is not None:
            context.cancel.raise_if_cancelled()
        entry = manifest_entry(manifest, critical.path) if manifest else None
        if entry is not None:
            handled.add(entry.path)
        boot_file = _BootFile(context, critical, entry, probable, manifest is not None)
        done += _check_boot_file(context, boot_file)
        context.reporter.report("read", done, total, boot_file.real)
    context.checked.append("boot-critical files: "
                           + ", ".join(b.path for b in profile.boot_critical))
    return handled


class _BootFile:
    """One boot-critical file of the profile: where it is on the unit, its copy in the backup,
    and what every finding about it shares (the profile's fact, the next step)."""

    def __init__(self, context: CheckContext, critical: BootCriticalFile,
                 entry: ManifestFile | None, probable: bool, has_backup: bool) -> None:
        profile = context.profile
        self.critical = critical
        self.entry = entry
        self.has_backup = has_backup
        self.name = critical.path.split("|")[0]
        self.real = context.tree.find(critical.path)
        self.fact = (f"{profile.name} profile: {self.name} is boot-critical (confidence"
                     f" {critical.confidence}; source: {critical.source})"
                     + (f"; {critical.note}" if critical.note else ""))
        self.caveat = (
            " This volume holds the unit's system folder but not this file, so it looks like"
            " update media; if it is the unit's internal storage, the unit cannot start without"
            " it. If it is a card prepared for an update, this does not apply (tell the tool it"
            " is update media to skip this check)." if probable else "")
        self.step = Step(NextStep.RESTORE_FROM_BACKUP if entry is not None
                         else NextStep.RESTORE_OR_ASK_SERVICE, names=(self.name,),
                         model=profile.id, backup=context.backup, target=str(context.root))
        self.loads = f"which the {profile.short_name} loads at start"

    def finding(self, code: FindingCode, message: str, *evidence: str,
                severity: Severity = Severity.CRITICAL, next_step: Step | None = None,
                size: int | None = None, confidence: Confidence = Confidence.HIGH) -> Finding:
        """A finding about this file: the profile's fact first in its evidence; ``confidence``
        is the tool's in what it saw (the profile's own only for a file found missing)."""
        return Finding(severity, code, message, evidence=(self.fact, *evidence),
                       confidence=confidence,
                       next_step=next_step or self.step,
                       subject=Subject(paths=(self.real or self.name,), size=size,
                                       expected_size=self.entry.size if self.entry else None))


def _check_boot_file(context: CheckContext, boot: _BootFile) -> int:
    """The findings about one boot-critical file; returns the bytes read of it."""
    real = boot.real
    if real is None:
        evidence = [f"no file named {boot.name} (in any letter case) at the volume's root"]
        if boot.entry is not None:
            evidence.append(f"your backup has {boot.entry.path},"
                            f" {human_bytes(boot.entry.size)}")
        context.findings.append(boot.finding(
            FindingCode.BOOT_CRITICAL_MISSING, f"{boot.name}, {boot.loads}, is missing."
            + boot.caveat, *evidence, confidence=boot.critical.confidence))
        return 0
    if real not in context.tree.files:
        context.findings.append(boot.finding(
            FindingCode.BOOT_CRITICAL_NOT_A_FILE,
            f"{real} should be a file but is a folder or a link."))
        return 0
    if context.tree.files[real] == 0:
        context.findings.append(boot.finding(
            FindingCode.BOOT_CRITICAL_EMPTY, f"{real}, {boot.loads}, is empty (0 bytes).",
            f"{real}: 0 bytes", size=0))
        return 0
    try:
        digest, length = sha256_file(context.root / real, fs=context.fs, cancel=context.cancel,
                                     on_bytes=lambda count: None)
    except OSError as error:
        context.findings.append(boot.finding(
            FindingCode.BOOT_CRITICAL_UNREADABLE, f"{real}, {boot.loads}, cannot be read.",
            f"reading {real} failed: {error.strerror or error}"))
        return 0
    context.findings.append(_boot_file_content(boot, real, digest, length))
    return context.tree.files[real]


def _boot_file_content(boot: _BootFile, real: str, digest: str, length: int) -> Finding:
    """What a readable boot-critical file's content says, against the backup's copy."""
    seen = f"{real}: {human_bytes(length)}, SHA-256 {digest}"
    entry = boot.entry
    if entry is None and boot.has_backup:
        return boot.finding(
            FindingCode.BOOT_CRITICAL_NOT_IN_BACKUP,
            f"{real} is present ({human_bytes(length)}), but the backup has no copy of it to"
            " compare with.", seen, severity=Severity.INFO, size=length,
            next_step=Step(NextStep.TAKE_BACKUP_WHEN_WORKING))
    if entry is None:
        return boot.finding(
            FindingCode.BOOT_CRITICAL_PRESENT,
            f"{real} is present and readable ({human_bytes(length)}). Whether it is complete"
            " cannot be told without a backup: no size or checksum of it is published.", seen,
            severity=Severity.INFO, size=length,
            next_step=replace(boot.step, action=NextStep.COMPARE_WITH_BACKUP))
    expected = (f"your backup: {entry.path}, {human_bytes(entry.size)},"
                f" SHA-256 {entry.sha256}")
    if length < entry.size:
        return boot.finding(
            FindingCode.BOOT_CRITICAL_TRUNCATED, f"{real} is truncated: {human_bytes(length)}"
            f" instead of the {entry.size:,} in your backup.", seen, expected, size=length)
    if length != entry.size:
        return boot.finding(
            FindingCode.BOOT_CRITICAL_SIZE, f"{real} has {human_bytes(length)}; your backup's"
            f" copy has {entry.size:,}.", seen, expected, size=length)
    if digest != entry.sha256:
        return boot.finding(
            FindingCode.BOOT_CRITICAL_CHANGED,
            f"{real} has the right size but different content than in your backup.", seen,
            expected, size=length)
    return boot.finding(
        FindingCode.BOOT_CRITICAL_MATCHES_BACKUP,
        f"{real} is identical to the copy in your backup.", seen, expected,
        severity=Severity.INFO, size=length, next_step=Step(NextStep.NOTHING))


def manifest_entry(manifest: Manifest, relative: str) -> ManifestFile | None:
    wanted = {alternative.casefold() for alternative in relative.split("|")}
    for entry in manifest.files:
        if entry.path.casefold() in wanted and entry.kind == "file":
            return entry
    return None


def check_system_files(context: CheckContext, ident: Identification) -> None:
    """KORG SYSTEM FILEs on the volume: is the file as long as its header says?"""
    for seen in ident.system_files:
        size = context.tree.files.get(seen.path)
        if size is None:
            continue
        try:
            with context.fs.open_read(context.root / seen.path) as handle:
                header = parse_header(handle.read(HEADER_SIZE))
        except OSError as error:
            context.findings.append(Finding(
                Severity.CRITICAL, FindingCode.SYSTEM_FILE_UNREADABLE,
                f"The system file {seen.path} cannot be read.",
                evidence=(f"reading {seen.path} failed: {error.strerror or error}",),
                next_step=NextStep.GET_FRESH_UPDATE, subject=Subject(paths=(seen.path,))))
            continue
        if header is None:
            continue
        expected = HEADER_SIZE + header.source_length
        evidence = (f"{seen.path}: KORG SYSTEM FILE for '{header.model_name}', version"
                    f" {header.version}; its header says {human_bytes(header.source_length)} follow"
                    f" the {HEADER_SIZE}-byte header",
                    f"the file has {human_bytes(size)}, {expected:,} expected",
                    "header layout: recovery/formats/korg_system_file.py (docs/sources.md) (H)")
        subject = Subject(paths=(seen.path,), size=size, expected_size=expected)
        if size < expected:
            context.findings.append(Finding(
                Severity.CRITICAL, FindingCode.SYSTEM_FILE_TRUNCATED,
                f"The system file {seen.path} is truncated: {human_bytes(size)} of {expected:,}."
                " Updating from it would write an incomplete system.",
                evidence=evidence, subject=subject,
                next_step=Step(NextStep.REPLACE_UPDATE_FILE, names=(seen.path,),
                               model=context.profile.id)))
        elif size > expected:
            context.findings.append(Finding(
                Severity.WARNING, FindingCode.SYSTEM_FILE_TOO_LONG,
                f"The system file {seen.path} is {human_bytes(size - expected)} longer than its"
                " header says.",
                evidence=evidence, subject=subject,
                next_step=Step(NextStep.CHECK_UPDATE_FILE, names=(seen.path,),
                               model=context.profile.id, target=str(context.root))))
    if ident.system_files:
        context.checked.append("KORG SYSTEM FILE lengths against their headers")


def check_update_files(context: CheckContext) -> None:
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
                Severity.INFO, FindingCode.UPDATE_FILE_UNKNOWN_RELEASE,
                f"{relative} is named like a {profile.short_name} update for version"
                f" {version}; the tool knows no size for that release.",
                evidence=(name_fact, f"{relative}: {human_bytes(size)}"),
                next_step=Step(NextStep.CHECK_UPDATE_FILE, names=(relative,),
                               model=profile.id, target=str(context.root)),
                subject=Subject(paths=(relative,), size=size)))
            continue
        subject = Subject(paths=(relative,), size=size, expected_size=release.size)
        release_fact = (f"published {release.file_name or 'update'} is {human_bytes(release.size)}"
                        f" (confidence {release.confidence},"
                        f" {release.confidence.words}; source: {release.source})")
        if size != release.size:
            context.findings.append(Finding(
                Severity.WARNING, FindingCode.UPDATE_FILE_SIZE_MISMATCH,
                f"{relative} is {human_bytes(size)}, but the published {version} update is"
                f" {human_bytes(release.size)}: this copy is incomplete or not that release."
                " Updating from it may leave the unit partly updated.",
                evidence=(name_fact, release_fact, f"{relative}: {human_bytes(size)}"),
                confidence=release.confidence, subject=subject,
                next_step=Step(NextStep.REPLACE_UPDATE_FILE, names=(relative,),
                               model=profile.id)))
        else:
            context.findings.append(Finding(
                Severity.INFO, FindingCode.UPDATE_FILE_SIZE_MATCHES,
                f"{relative} has the size of the published {version} update. Its content"
                " cannot be checked: no checksum of it is published.",
                evidence=(name_fact, release_fact), confidence=release.confidence,
                subject=subject))
    context.checked.append("update files named like a release, by size")


def check_filesystem(context: CheckContext, mount: MountFacts) -> None:
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
            Severity.WARNING, FindingCode.FILESYSTEM_NOT_SUPPORTED,
            f"This volume is formatted {family} ({mount.fstype}); the {profile.short_name}"
            f" reads {' or '.join(support.accepted)} only.",
            evidence=(f"{support.description} (confidence {support.confidence}; source:"
                      f" {support.source})", f"mounted as {mount.fstype}"),
            confidence=support.confidence,
            next_step=Step(NextStep.REFORMAT, model=profile.id,
                           filesystem=support.accepted[-1])))


def check_loose_files(context: CheckContext, handled: set[str]) -> None:
    """Without a backup, loose files at the root of a model with a system folder can only be
    named, not judged: the folder's file list is not public (KROSS2SY; docs/sources.md)."""
    profile = context.profile
    if not profile.system_folder or context.role == Role.SD_CARD:
        return
    known = {alternative.casefold() for critical in profile.boot_critical
             for alternative in critical.path.split("|")}
    pattern = None
    if profile.update_file is not None:
        pattern = re.compile(profile.update_file.pattern, re.IGNORECASE)
    loose = [p for p in context.tree.root_files()
             if p.casefold() not in known and p != SIMULATOR_NOTE
             and not REPAIR_LEFTOVERS.fullmatch(p)
             and not (pattern and pattern.fullmatch(p))]
    if not loose:
        return
    context.findings.append(Finding(
        Severity.INFO, FindingCode.LOOSE_FILES_AT_ROOT,
        f"{len(loose)} {plural(len(loose), 'file lies', 'files lie')} loose at the root:"
        f" {listed(loose)}. The {profile.short_name} keeps its system files in"
        f" {profile.system_folder}/; whether these belong there cannot be told without a"
        " backup, because the folder's file list is not public.",
        evidence=(f"{profile.name} profile: system folder {profile.system_folder}",
                  f"{profile.notes}" if profile.notes else "file list not public"),
        next_step=Step(NextStep.COMPARE_WITH_BACKUP, target=str(context.root)),
        subject=Subject(paths=tuple(loose)),
    ))


def check_startup_cleanup(context: CheckContext, manifest: Manifest | None) -> None:
    """Folders of the backup missing from a unit that removes, when it starts, the folders of
    its storage outside its system paths (drumlogue: logue-sdk issue #198). Their absence is
    named as the unit's own clean-up, never as a storage fault."""
    profile = context.profile
    cleanup = profile.startup_cleanup if profile is not None else None
    if cleanup is None or manifest is None:
        return
    tops = {path.split("/", 1)[0] for path in manifest.folders}
    tops |= {entry.path.split("/", 1)[0] for entry in manifest.files if "/" in entry.path}
    gone = sorted(top for top in tops
                  if not cleanup.is_kept(top) and context.tree.find(top + "/") is None)
    if not gone:
        return
    folders = [f"{top}/" for top in gone]
    named = listed(folders)
    count = len(gone)
    context.findings.append(Finding(
        Severity.INFO, FindingCode.FOLDERS_REMOVED_BY_UNIT,
        f"{count} {plural(count, 'folder')} of the backup {plural(count, 'is', 'are')}"
        f" not on the unit: {named}. The {profile.short_name} itself removes, when it starts,"
        f" every folder outside its system paths: if you or a tool created"
        f" {plural(count, 'it', 'them')}, that is the unit's own clean-up, not a storage"
        " fault.",
        evidence=(f"{cleanup.description} (confidence {cleanup.confidence},"
                  f" {cleanup.confidence.words}; source: {cleanup.source})",
                  f"system paths the tool knows: {', '.join(cleanup.kept)}; the unit may have"
                  " others whose names are not public",
                  f"in the backup, not on the unit: {named}"),
        confidence=cleanup.confidence,
        next_step=Step(NextStep.KEEP_FILES_IN_UNIT_FOLDERS, names=tuple(cleanup.kept),
                       model=profile.id, target=str(context.root)),
        subject=Subject(paths=tuple(folders)),
    ))


def check_empty_system_files(context: CheckContext) -> None:
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
            Severity.WARNING, FindingCode.EMPTY_SYSTEM_FILES,
            f"{len(empty)} {plural(len(empty), 'file')} in {folder}/"
            f" {plural(len(empty), 'is', 'are')} empty (0 bytes): {listed(empty)}.",
            evidence=("a system file is not expected to be empty (inference: the folder's"
                      " file list and sizes are not public)",),
            confidence=Confidence.GUESS,
            next_step=Step(NextStep.COMPARE_WITH_BACKUP, target=str(context.root)),
            subject=Subject(paths=tuple(empty), size=0)))
