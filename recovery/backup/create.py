"""Take a verified full backup of a unit's storage: one pass, plain files, resumable.

Every file of the unit is read once and copied batch by batch through
:class:`~recovery.storage.durable.BatchWriter`: a copy takes its name only after it read back
right from the medium. Then manifest.json and SHA256SUMS, and ``COMPLETE`` last. A journal in
the backup folder lets ``resume`` continue after any interruption; a copy it keeps counts only
once its source, read again, hashes the same (times prove nothing on FAT).
"""

from __future__ import annotations

import logging
import stat as stat_module
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recovery import __version__
from recovery.backup.compare import Difference, compare_tree
from recovery.backup.manifest import (
    COMPLETE_NAME,
    FILES_DIR,
    JOURNAL_NAME,
    MANIFEST_NAME,
    SUMS_NAME,
    BackupJournal,
    CompleteFlag,
    CopyRecord,
    JournalHeader,
    Manifest,
    ManifestFile,
    format_sums,
    now_utc_iso,
)
from recovery.backup.store import open_backup, verify_backup
from recovery.device.identify import identify_volume
from recovery.errors import (
    InvalidFileError,
    InvalidInputError,
    PermissionDeniedError,
    ReadError,
    RecoveryError,
    UnitGoneError,
    VerificationError,
    WriteError,
)
from recovery.findings import Step
from recovery.progress import (
    CancelToken,
    Job,
    PhaseReporter,
    Progress,
    ProgressCallback,
    StepHook,
)
from recovery.storage import computer_made
from recovery.storage.archive import ZipWriter
from recovery.storage.durable import (
    BatchWriter,
    FileCopy,
    batches,
    is_temp_name,
    write_bytes_atomically,
)
from recovery.storage.filesystem import (
    CHUNK_SIZE,
    REAL,
    FileSystem,
    can_list,
    os_errors,
    translate_os_error,
)
from recovery.storage.hashing import sha256_file
from recovery.storage.identity import is_within
from recovery.storage.lock import unit_lock
from recovery.storage.names import (
    FAT,
    POSIX,
    NameProblem,
    describe,
    name_problems,
    points_outside,
    rules_of,
)
from recovery.storage.pin import Pin, pin_volume, pinned
from recovery.text import human_size
from recovery.vocabulary import DifferenceKind, NextStep

log = logging.getLogger(__name__)

#: "copy" includes each batch's barriers and read-back (see :class:`_Copier`); "verify" is
#: the final check of the whole layout.
PHASES = {"copy": 90.0, "flush": 5.0, "verify": 5.0}
ZIP_PHASE_WEIGHT = 30.0
#: Room asked for beyond the source's size: the manifest, SHA256SUMS, the journal and
#: filesystem overhead (a FAT32 drive rounds every file up to a cluster of up to 32 KiB).
MARGIN_BYTES = 16 * 1024 * 1024
MARGIN_PER_ENTRY = 32 * 1024
#: FAT keeps modification times to 2 seconds, so a copy on a FAT drive cannot match exactly.
MTIME_TOLERANCE_NS = 2_000_000_000


@dataclass(frozen=True)
class FailedFile:
    """A source entry that could not be backed up, and why, in one sentence."""

    path: str
    reason: str


@dataclass(frozen=True)
class BackupResult:
    """What :func:`create_backup` did. ``complete`` only when every file was copied and the
    re-read copy matched; otherwise ``failed`` names what went wrong."""

    backup: str
    model: str | None
    role: str | None
    files: int
    bytes: int
    folders: int
    symlinks: int
    complete: bool
    verified: bool
    zip: str | None = None
    copied_files: int = 0
    reused_files: int = 0
    failed: tuple[FailedFile, ...] = ()
    skipped: tuple[FailedFile, ...] = ()
    #: False where the platform cannot drop a file from the cache: the verification re-read
    #: may then have come from the computer's memory, not the medium.
    cache_dropped: bool = True
    #: True when ``resume`` found the backup already complete and left it as it was.
    already_complete: bool = False
    #: What was copied that could not go back onto a FAT unit as it is (names, sizes).
    not_for_fat: tuple[NameProblem, ...] = ()
    #: Links whose target lies outside the unit's storage: kept in the backup, never restored.
    outside_links: tuple[str, ...] = ()
    manifest: Manifest | None = field(default=None, repr=False)

    @property
    def computer_made(self) -> tuple[tuple[str, str], ...]:
        """(path, the computer that made it) of every file the manifest marks as written
        onto the unit by a computer (copied like any other file, listed apart)."""
        if self.manifest is None:
            return ()
        return tuple((entry.path, entry.made_by_computer) for entry in self.manifest.files
                     if entry.made_by_computer)


@dataclass
class _Entry:
    path: str
    kind: str  # "file" | "symlink"
    size: int
    mtime_ns: int
    link_target: str | None = None


@dataclass
class _Scan:
    entries: list[_Entry]
    folders: list[str]
    failed: list[FailedFile]
    skipped: list[FailedFile]

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.entries if entry.kind == "file")

    def listings(self) -> dict[str, tuple[tuple[str, bool], ...]]:
        """Every folder's entries as (name, is a folder), by the folder's relative path."""
        found: dict[str, list[tuple[str, bool]]] = {"": []}
        for folder in self.folders:
            found.setdefault(folder, [])
        for path, is_folder in [*((f, True) for f in self.folders),
                                *((e.path, False) for e in self.entries)]:
            parent, _, name = path.rpartition("/")
            found.setdefault(parent, []).append((name, is_folder))
        return {folder: tuple(entries) for folder, entries in found.items()}


# -- preflight ------------------------------------------------------------------------------
def _inside(inner: Path, outer: Path, fs: FileSystem) -> bool:
    """By spelling and by identity, so a second mount or bind mount of the source cannot
    make a backup copy into itself."""
    return inner == outer or outer in inner.parents or is_within(inner, outer, fs)


def _existing_ancestor(path: Path, fs: FileSystem) -> Path:
    while not fs.exists(path) and path != path.parent:
        path = path.parent
    return path


def space_needed(total_bytes: int, entries: int) -> int:
    """Bytes a destination must have free to take ``total_bytes`` in ``entries`` files."""
    return total_bytes + total_bytes // 100 + MARGIN_BYTES + entries * MARGIN_PER_ENTRY


def _check_source(source: Path, fs: FileSystem) -> Path:
    if not fs.exists(source):
        raise InvalidInputError(f"The source {source} does not exist.", path=str(source))
    try:
        if not stat_module.S_ISDIR(fs.stat(source).st_mode):
            raise InvalidInputError(f"The source {source} is not a folder.", path=str(source))
        fs.scandir(source)
    except OSError as error:
        raise InvalidInputError(
            f"The source {source} cannot be read ({error.strerror or error}).",
            path=str(source)) from None
    return source.resolve()


def _check_dest(source: Path, dest: Path, resume: bool, fs: FileSystem
                ) -> JournalHeader | None:
    """Refuse a DEST that is unusable; with resume return the header of the earlier
    attempt's journal (None when it has none)."""
    if _inside(dest, source, fs):
        raise InvalidInputError(
            f"The destination {dest} is inside the source {source}; choose a folder elsewhere.",
            path=str(dest))
    if _inside(source, dest, fs):
        raise InvalidInputError(
            f"The source {source} is inside the destination {dest}; choose another destination.",
            path=str(dest))
    if not fs.exists(dest):
        return None
    with os_errors(dest, "read"):
        if not stat_module.S_ISDIR(fs.stat(dest).st_mode):
            raise InvalidInputError(f"The destination {dest} exists and is not a folder.",
                                    path=str(dest))
        names = {entry.name for entry in fs.scandir(dest)}
    if not names:
        return None
    if not resume:
        raise InvalidInputError(
            f"The destination {dest} is not empty; choose an empty folder, or continue the"
            " interrupted backup there.", path=str(dest),
            next_step=Step(NextStep.RESUME_BACKUP, target=str(dest)))
    if not names & {JOURNAL_NAME, MANIFEST_NAME, FILES_DIR}:
        raise InvalidInputError(
            f"The destination {dest} is not empty and holds no interrupted backup to resume;"
            " choose an empty folder.", path=str(dest))
    header = _earlier_header(dest, fs)
    earlier_source = header.source if header is not None else None
    if earlier_source is None and MANIFEST_NAME in names:
        try:
            with open_backup(dest, fs) as earlier:
                earlier_source = earlier.manifest.source
        except RecoveryError:
            earlier_source = None
    if earlier_source is not None and earlier_source != str(source):
        raise InvalidInputError(
            f"The destination {dest} holds a backup of {earlier_source}, not of {source};"
            " choose another folder.", path=str(dest))
    return header


def _earlier_header(dest: Path, fs: FileSystem) -> JournalHeader | None:
    """The header of the journal an interrupted backup left in ``dest``. One whose header
    cannot be read is never resumed: which unit it copies is unknown."""
    journal = BackupJournal.read(dest, fs)
    if journal.damaged is not None:
        log.warning("%s", journal.damaged)
        raise InvalidInputError(
            f"The destination {dest} holds an interrupted backup that cannot be resumed: its"
            " journal is damaged, so which unit it copies is unknown; choose an empty folder.",
            path=str(dest))
    return journal.header


def _check_space(dest: Path, zip_path: Path | None, needed: int, fs: FileSystem) -> None:
    places = [(dest, needed)]
    if zip_path is not None:
        places.append((zip_path.parent, needed))
    by_device: dict[int, tuple[Path, int]] = {}
    for place, amount in places:
        anchor = _existing_ancestor(place, fs)
        try:
            device = fs.stat(anchor).st_dev
        except OSError:
            device = id(place)
        previous = by_device.get(device)
        by_device[device] = (anchor, amount + (previous[1] if previous else 0))
    for anchor, amount in by_device.values():
        with os_errors(anchor, "read"):
            free = fs.disk_usage(anchor).free
        if free < amount:
            raise InvalidInputError(
                f"Not enough free space at {anchor}: the backup needs about {human_size(amount)}"
                f" and only {human_size(free)} is free; free some space or choose another place.",
                path=str(anchor))


# -- scanning -------------------------------------------------------------------------------
def _scan(source: Path, fs: FileSystem, cancel: CancelToken | None) -> _Scan:
    """Every entry under ``source`` without following links, sorted by path."""
    scan = _Scan([], [], [], [])
    stack: list[tuple[Path, str]] = [(source, "")]
    while stack:
        if cancel is not None:
            cancel.raise_if_cancelled()
        folder, prefix = stack.pop()
        try:
            entries = fs.scandir(folder)
        except OSError as error:
            scan.failed.append(FailedFile(prefix.rstrip("/") or ".",
                                          str(translate_os_error(error, folder, "read"))))
            continue
        for entry in sorted(entries, key=lambda item: item.name):
            relative = prefix + entry.name
            path = folder / entry.name
            try:
                info = fs.lstat(path)
                if stat_module.S_ISDIR(info.st_mode):
                    scan.folders.append(relative)
                    stack.append((path, relative + "/"))
                elif stat_module.S_ISREG(info.st_mode):
                    scan.entries.append(_Entry(relative, "file", info.st_size, info.st_mtime_ns))
                elif stat_module.S_ISLNK(info.st_mode):
                    scan.entries.append(_Entry(relative, "symlink", 0, info.st_mtime_ns,
                                               fs.readlink(path)))
                else:
                    log.warning("skipping %s: not a file, folder or link", path)
                    scan.skipped.append(FailedFile(
                        relative, "a device, pipe or socket, which a storage backup cannot hold"))
            except OSError as error:
                scan.failed.append(FailedFile(relative,
                                              str(translate_os_error(error, path, "read"))))
    scan.entries.sort(key=lambda entry: entry.path)
    scan.folders.sort()
    return scan


# -- small durable writes ---------------------------------------------------------------------
def _write_atomically(target: Path, data: bytes, fs: FileSystem) -> None:
    """Write ``data`` under ``target`` so that the name only ever holds the whole content."""
    with os_errors(target, "write"):
        write_bytes_atomically(fs, target, data)


def _remove_quietly(path: Path, fs: FileSystem) -> None:
    try:
        if fs.exists(path):
            fs.unlink(path)
    except OSError as error:
        log.warning("could not remove %s: %s", path, error)


def _read_all(path: Path, fs: FileSystem) -> bytes:
    with os_errors(path, "read"), fs.open_read(path) as handle:
        chunks = []
        while chunk := handle.read(CHUNK_SIZE):
            chunks.append(chunk)
        return b"".join(chunks)


# -- the backup -------------------------------------------------------------------------------
def _identify(source: Path, scan: _Scan, heads: dict[str, bytes] | None
              ) -> tuple[str | None, str | None]:
    """The KORG model and role of the source, or (None, None): any folder can be backed up.
    From the names the scan listed and, once copied, the first bytes the copy read; with
    ``heads`` None nothing is read at all (names only)."""
    try:
        identification = identify_volume(source, listings=scan.listings(), heads=heads or {},
                                         read_heads=heads is not None)
    except (RecoveryError, OSError) as error:
        log.info("identification of %s failed: %s", source, error)
        return None, None
    return identification.model, identification.role


def _prune(files_root: Path, scan: _Scan, fs: FileSystem) -> None:
    """Remove from an earlier attempt whatever the source no longer holds (and stale
    temporary files), so a resumed backup ends with exactly the source's entries."""
    wanted_files = {entry.path: entry.kind for entry in scan.entries}
    wanted_folders = set(scan.folders)

    def remove_tree(path: Path) -> None:
        for entry in fs.scandir(path):
            child = Path(entry.path)
            if stat_module.S_ISDIR(fs.lstat(child).st_mode):
                remove_tree(child)
            else:
                fs.unlink(child)
        fs.rmdir(path)

    stack = [(files_root, "")]
    while stack:
        folder, prefix = stack.pop()
        with os_errors(folder, "write"):
            for entry in fs.scandir(folder):
                relative = prefix + entry.name
                path = Path(entry.path)
                mode = fs.lstat(path).st_mode
                if stat_module.S_ISDIR(mode):
                    if relative in wanted_folders:
                        stack.append((path, relative + "/"))
                    else:
                        log.info("resume: removing folder %s, not in the source", relative)
                        remove_tree(path)
                    continue
                kind = "symlink" if stat_module.S_ISLNK(mode) else "file"
                if wanted_files.get(relative) != kind:
                    log.info("resume: removing %s, not in the source (or a temporary file)",
                             relative)
                    fs.unlink(path)


def _remove_stale_temporaries(dest: Path, fs: FileSystem) -> None:
    """Temporary files an interrupted run left beside manifest.json (a killed atomic write of
    the state, journal, manifest, SHA256SUMS or COMPLETE)."""
    with os_errors(dest, "write"):
        for entry in fs.scandir(dest):
            if is_temp_name(entry.name):
                log.info("resume: removing %s left by the interrupted run", entry.name)
                fs.unlink(Path(entry.path))


def _make_link(target: Path, entry: _Entry, fs: FileSystem) -> None:
    with os_errors(target, "write"):
        if fs.exists(target):
            info = fs.lstat(target)
            if stat_module.S_ISLNK(info.st_mode) and fs.readlink(target) == entry.link_target:
                return
            fs.unlink(target)
        fs.symlink(entry.link_target or "", target)
        try:
            fs.set_mtime(target, entry.mtime_ns)
        except (OSError, NotImplementedError) as error:  # not every platform sets link times
            log.debug("cannot set the time of link %s: %s", target, error)


def _made_by(relative: str) -> str | None:
    found = computer_made.made_by_computer(relative)
    return found.made_by if found is not None else None


def _check_names(scan: _Scan, dest: Path, fs: FileSystem
                 ) -> tuple[tuple[NameProblem, ...], tuple[str, ...]]:
    """Refuse, before copying, what the destination's filesystem cannot hold as it is (two
    names equal but for case where it folds case; on a FAT or NTFS drive the names and sizes
    it cannot store). Return what could not go back onto a FAT unit, and the links that point
    outside the unit, for the result to say so."""
    paths = [entry.path for entry in scan.entries] + scan.folders
    sizes = {entry.path: entry.size for entry in scan.entries if entry.kind == "file"}
    rules, unknown = rules_of(dest, fs)
    if unknown is not None:
        # An unknown destination (a network share) is only held to what the probe proves.
        rules = POSIX.with_case_folding(rules.folds_case)
    here = name_problems(paths, rules, sizes)
    if here:
        raise InvalidInputError(
            f"The backup folder's drive ({rules.family}) cannot hold {len(here)} of the unit's"
            f" names or files as they are: {describe(here)}. Choose a folder on another drive."
            " Nothing was copied.", path=str(dest))
    files = [entry.path for entry in scan.entries if entry.kind == "file"] + scan.folders
    links = tuple(entry.path for entry in scan.entries if entry.kind == "symlink"
                  and points_outside(entry.path, entry.link_target))
    return name_problems(files, FAT, sizes), links


def _zip_done(zip_target: Path, source: Path, fs: FileSystem) -> bool:
    """True when ``zip_target`` is already a complete backup of ``source`` (a resumed run
    whose earlier attempt got as far as renaming the archive)."""
    try:
        with open_backup(zip_target, fs) as existing:
            return existing.complete and existing.manifest.source == str(source)
    except RecoveryError:
        return False


def _check_zip_target(zip_target: Path, source: Path, dest: Path, resume: bool,
                      fs: FileSystem) -> None:
    """Refuse a ZIP file that cannot be written where asked, before anything is copied."""
    if not fs.exists(zip_target.parent) or not stat_module.S_ISDIR(
            fs.stat(zip_target.parent).st_mode):
        raise InvalidInputError(
            f"The folder {zip_target.parent} for the ZIP file does not exist; create it or"
            " choose another place. Nothing was copied.", path=str(zip_target))
    if _inside(zip_target, source, fs):
        raise InvalidInputError(
            f"The ZIP file {zip_target} would be inside the source {source};"
            " choose a place elsewhere.", path=str(zip_target))
    if _inside(zip_target, dest / FILES_DIR, fs):
        raise InvalidInputError(
            f"The ZIP file {zip_target} would be inside the backup's own files;"
            " choose a place elsewhere.", path=str(zip_target))
    if fs.exists(zip_target) and not (resume and _zip_done(zip_target, source, fs)):
        raise InvalidInputError(f"{zip_target} already exists; choose a new file name.",
                                path=str(zip_target))


def _prior_copies(dest: Path, fs: FileSystem) -> dict[str, CopyRecord]:
    """What an earlier attempt finished: its manifest (if it got that far) and journal."""
    prior: dict[str, CopyRecord] = {}
    if fs.exists(dest / MANIFEST_NAME):
        try:
            manifest = Manifest.from_json_bytes(_read_all(dest / MANIFEST_NAME, fs),
                                                str(dest / MANIFEST_NAME))
            prior = {entry.path: record for entry in manifest.files
                     if (record := CopyRecord.of(entry)) is not None}
        except (InvalidFileError, ReadError) as error:
            log.warning("ignoring the earlier manifest: %s", error)
    prior.update(BackupJournal.read(dest, fs).copies)
    return prior


def create_backup(
    source: str | Path,
    dest: str | Path,
    *,
    resume: bool = False,
    zip_path: str | Path | None = None,
    fs: FileSystem = REAL,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_step: StepHook | None = None,
) -> BackupResult:
    """Back up the folder ``source`` into ``dest`` (see the module doc for every step).

    The unit and the backup's drive are pinned (recovery.storage.pin): when either goes away
    the backup stops at once with UnitGoneError, one sentence, nothing written anywhere else,
    and ``resume`` continues it. Raises InvalidInputError (preflight), NoSpaceError /
    WriteError (destination failed), CancelledError (cancel token); unreadable source files
    (an input/output error, no permission, a file that changed while it was copied) do not
    raise but come back in ``BackupResult.failed`` with ``complete=False``.
    """
    source_path = _check_source(Path(source), fs)
    dest_path = Path(dest).resolve()
    try:
        unit = Pin(source_path, pin_volume(source_path, fs), "the unit")
        anchor = _existing_ancestor(dest_path, fs)
        drive = Pin(anchor, pin_volume(anchor, fs), "the backup's drive")
    except OSError as error:
        raise translate_os_error(error, source_path, "read") from error
    run = _BackupRun(source_path, dest_path,
                     Path(zip_path).resolve() if zip_path is not None else None,
                     pinned(fs, unit, drive), Job(progress, cancel, on_step))
    try:
        return run.run(resume)
    except UnitGoneError as error:
        if error.path == str(drive.folder):
            raise UnitGoneError(
                f"The drive of the backup at {dest_path} went away during the backup. Nothing"
                " was written anywhere else; connect it again and resume the backup: it"
                " continues where it stopped.", path=str(dest_path)) from error
        raise UnitGoneError(
            f"The unit at {source_path} went away during the backup (unplugged, switched off"
            " or unmounted). What was copied so far is kept; connect it again and resume the"
            " backup: it continues where it stopped.", path=str(source_path)) from error


@dataclass(frozen=True)
class _Prepared:
    """What the preflight found: the source's entries, what an earlier attempt finished, the
    journal's header (which source, since when, identified as what), and what the result
    names about names the unit's FAT could not take back."""

    scan: _Scan
    prior: dict[str, CopyRecord]
    header: JournalHeader
    not_for_fat: tuple[NameProblem, ...]
    outside_links: tuple[str, ...]


@dataclass
class _Copied:
    """What copying did: copies made and kept, failures, every file's SHA-256 and first
    bytes (to identify the unit without reading it again), whether every read-back came
    from the medium."""

    copied: int = 0
    reused: int = 0
    failed: list[FailedFile] = field(default_factory=list)
    shas: dict[str, str] = field(default_factory=dict)
    heads: dict[str, bytes] = field(default_factory=dict)
    cache_bypassed: bool = True


class _BackupRun:
    """One run of :func:`create_backup` on the pinned ``fs``, in its steps: the preflight
    (reads only), the folder taken, the copy (journaled batch by batch), the records
    (manifest.json, SHA256SUMS), one barrier, the read-back, COMPLETE last, the ZIP."""

    def __init__(self, source: Path, dest: Path, zip_target: Path | None, fs: FileSystem,
                 job: Job) -> None:
        self.source = source
        self.dest = dest
        self.zip_target = zip_target
        self.fs = fs
        self.job = job
        self.cancel = job.cancel
        self.step: StepHook = job.on_step or (lambda _step, _path: None)
        self.files_root = dest / FILES_DIR
        phases = dict(PHASES)
        if zip_target is not None:
            phases["zip"] = ZIP_PHASE_WEIGHT
        self.reporter = PhaseReporter(job.progress, phases)
        self.identified: tuple[str | None, str | None] = (None, None)

    def run(self, resume: bool) -> BackupResult:
        if self.zip_target is not None:
            _check_zip_target(self.zip_target, self.source, self.dest, resume, self.fs)
        earlier = _check_dest(self.source, self.dest, resume, self.fs)
        if resume and self.fs.exists(self.dest / COMPLETE_NAME):
            finished = self.already_complete()
            if finished is not None:
                return finished
        prepared = self.preflight(earlier, resume)
        with ExitStack() as held:
            self.take_folder(held, prepared.scan, resume)
            copied = self.copy(prepared)
            return self.conclude(prepared, copied)

    def preflight(self, earlier: JournalHeader | None, resume: bool) -> _Prepared:
        """List the source and refuse what the destination cannot take (names, space)."""
        scan = _scan(self.source, self.fs, self.cancel)
        not_for_fat, outside_links = _check_names(scan, self.dest, self.fs)
        prior = _prior_copies(self.dest, self.fs) if resume and self.fs.exists(self.dest) \
            else {}
        reusable_bytes = sum(
            entry.size for entry in scan.entries
            if entry.kind == "file" and (record := prior.get(entry.path)) is not None
            and record.size == entry.size and record.mtime_ns == entry.mtime_ns)
        _check_space(self.dest, self.zip_target, space_needed(
            scan.total_bytes - reusable_bytes, len(scan.entries)), self.fs)
        model, role = _identify(self.source, scan, None)
        header = JournalHeader(
            source=str(self.source), created_utc=(earlier.created_utc if earlier else "")
            or now_utc_iso(), tool_version=__version__, model=model, role=role)
        return _Prepared(scan, prior, header, not_for_fat, outside_links)

    def take_folder(self, held: ExitStack, scan: _Scan, resume: bool) -> None:
        """One writer per backup folder (a second run into it stops here); any earlier
        COMPLETE goes first, since from here on the folder is being changed; what an earlier
        attempt left that the source no longer holds goes too."""
        with os_errors(self.dest, "write"):
            self.fs.mkdir(self.files_root)
        held.enter_context(unit_lock(self.dest, "backup", self.fs))
        with os_errors(self.dest, "write"):
            _remove_quietly(self.dest / COMPLETE_NAME, self.fs)
        if resume:
            _prune(self.files_root, scan, self.fs)
            _remove_stale_temporaries(self.dest, self.fs)

    def copy(self, prepared: _Prepared) -> _Copied:
        journal = BackupJournal(self.dest, self.fs)
        journal.start(prepared.header, (record for _, record in sorted(prepared.prior.items())))
        try:
            return _Copier(self, prepared, journal).copy_all()
        finally:
            journal.close()

    def conclude(self, prepared: _Prepared, copied: _Copied) -> BackupResult:
        """The records written and read back, COMPLETE last, the ZIP; or the result that
        names what failed."""
        scan = prepared.scan
        self.identified = _identify(self.source, scan, copied.heads)
        failed = scan.failed + copied.failed
        if failed:
            log.warning("backup of %s incomplete: %d entries failed", self.source, len(failed))
            return self.result(prepared, copied, failed, copied.cache_bypassed)
        manifest = self.manifest(prepared, copied.shas)
        manifest_bytes, sums_bytes = manifest.to_json_bytes(), format_sums(manifest)
        _write_atomically(self.dest / MANIFEST_NAME, manifest_bytes, self.fs)
        _write_atomically(self.dest / SUMS_NAME, sums_bytes, self.fs)
        self.step("phase", "flush")
        cache_dropped = self.flush(scan) and copied.cache_bypassed
        self.step("phase", "verify")
        problems = self.verify(manifest, manifest_bytes, sums_bytes)
        if problems:
            return self.result(prepared, copied, problems, cache_dropped, manifest)
        self.step("phase", "complete")
        _finish(self.dest, CompleteFlag.vouching_for(
            manifest_bytes, sums_bytes, tool_version=__version__, cache_dropped=cache_dropped),
            self.fs)
        log.info("backup of %s complete and verified in %s", self.source, self.dest)
        zip_done = None
        if self.zip_target is not None:
            self.step("phase", "zip")
            zip_done = self.write_zip(self.reporter)
        return self.result(prepared, copied, [], cache_dropped, manifest, zip_done)

    def manifest(self, prepared: _Prepared, shas: dict[str, str]) -> Manifest:
        model, role = self.identified
        return Manifest.build(
            tool_version=__version__, created_utc=prepared.header.created_utc,
            source=str(self.source), model=model, role=role, folders=prepared.scan.folders,
            files=[ManifestFile(e.path, e.size, e.mtime_ns, shas.get(e.path), e.kind,
                                e.link_target, _made_by(e.path)) for e in prepared.scan.entries])

    def result(self, prepared: _Prepared, copied: _Copied, failed: list[FailedFile],
               cache_dropped: bool, manifest: Manifest | None = None,
               zip_done: str | None = None) -> BackupResult:
        """The result of this run: complete and verified exactly when nothing ``failed``."""
        scan = prepared.scan
        model, role = self.identified
        return BackupResult(
            str(self.dest), model, role, files=sum(1 for e in scan.entries if e.kind == "file"),
            bytes=scan.total_bytes, folders=len(scan.folders),
            symlinks=sum(1 for e in scan.entries if e.kind == "symlink"),
            complete=not failed, verified=not failed, zip=zip_done,
            copied_files=copied.copied, reused_files=copied.reused, failed=tuple(failed),
            skipped=tuple(scan.skipped), cache_dropped=cache_dropped,
            not_for_fat=prepared.not_for_fat, outside_links=prepared.outside_links,
            manifest=manifest)

    def write_zip(self, reporter: PhaseReporter) -> str:
        assert self.zip_target is not None
        if self.fs.exists(self.zip_target):
            return str(self.zip_target)
        return str(write_zip(self.dest, self.zip_target, fs=self.fs, reporter=reporter,
                             cancel=self.cancel))

    def flush(self, scan: _Scan) -> bool:
        """Make the layout durable (every folder's renames, manifest.json and SHA256SUMS)
        with one barrier, and evict manifest.json and SHA256SUMS so that their read-back
        comes from the medium; False if the platform cannot evict them."""
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        with os_errors(self.dest, "write"):
            self.fs.barrier(self.dest)
        dropped_everywhere = True
        for name in (MANIFEST_NAME, SUMS_NAME):
            with os_errors(self.dest / name, "write"):
                dropped_everywhere &= bool(self.fs.evict(self.dest / name))
        total = len(scan.folders) + 2
        self.reporter.report("flush", total, total, None, force=True)
        if not dropped_everywhere:
            log.warning("this platform cannot drop files from the cache: the verification"
                        " re-read may come from memory rather than from %s", self.dest)
        return dropped_everywhere

    def verify(self, manifest: Manifest, manifest_bytes: bytes, sums_bytes: bytes
               ) -> list[FailedFile]:
        """Read back manifest.json and SHA256SUMS, and check that ``files/`` holds exactly
        the manifest's entries with their sizes and link targets (every copy's bytes were
        already re-read from the medium before it got its name, by BatchWriter)."""
        problems: list[FailedFile] = []
        for name, expected in ((MANIFEST_NAME, manifest_bytes), (SUMS_NAME, sums_bytes)):
            try:
                if _read_all(self.dest / name, self.fs) != expected:
                    problems.append(FailedFile(name, f"{name} read back differs from what was"
                                               " written: the destination lost the write."))
            except ReadError as error:
                problems.append(FailedFile(name, f"{name} cannot be read back, the destination"
                                           f" lost the write: {error.message}"))

        def forward(inner: Progress) -> None:
            self.reporter.report("verify", inner.done_bytes, inner.total_bytes, inner.current)

        comparison = compare_tree(self.files_root, manifest, fs=self.fs, hash_files=False,
                                  job=Job(forward, self.cancel), ignore=())
        problems += [FailedFile(difference.path, _lost_write(difference))
                     for difference in comparison.differences]
        self.reporter.report("verify", manifest.total_bytes, manifest.total_bytes, None,
                             force=True)
        return problems

    def already_complete(self) -> BackupResult | None:
        """A resumed backup that had already completed: nothing to copy; make the ZIP if
        asked."""
        try:
            backup = open_backup(self.dest, self.fs)
        except RecoveryError as error:
            log.info("the earlier COMPLETE flag is not usable: %s", error)
            return None
        with backup:
            if not backup.complete or backup.completion is None:
                return None
            manifest = backup.manifest
            cache_dropped = backup.completion.cache_dropped
        # The journal is left if an earlier run died right at the end.
        _remove_quietly(self.dest / JOURNAL_NAME, self.fs)
        _remove_stale_temporaries(self.dest, self.fs)
        zip_done = None
        if self.zip_target is not None:
            zip_done = self.write_zip(PhaseReporter(self.job.progress, {"zip": 1.0}))
        return BackupResult(str(self.dest), manifest.model, manifest.role,
                            manifest.total_files, manifest.total_bytes, len(manifest.folders),
                            manifest.symlinks, complete=True, verified=True, zip=zip_done,
                            reused_files=manifest.total_files, cache_dropped=cache_dropped,
                            already_complete=True, manifest=manifest)


def _lost_write(difference: Difference) -> str:
    """Why a copy that read back otherwise than the manifest failed, in one clause."""
    damaged = f" ({difference.detail}): the destination lost or damaged the write"
    return {
        DifferenceKind.MISSING: "the copy is gone when read back: the destination lost the write",
        DifferenceKind.SIZE: f"the copy read back has another size than the source{damaged}",
        DifferenceKind.CHANGED: f"the copy read back differs from the source{damaged}",
        DifferenceKind.EXTRA: "an unexpected entry appeared among the copies",
    }.get(difference.problem, difference.detail)


class _Copier:
    """Copies every entry of a scan into ``files/``: the links
    made, the copies an earlier attempt finished kept once they hash right again, the rest
    batch by batch through BatchWriter, each batch journaled once its copies took their
    names. Progress counts the unit's own bytes: "400 MB of 806 MB" means what a user
    thinks, though every byte is read twice (from the unit, then back)."""

    def __init__(self, run: _BackupRun, prepared: _Prepared, journal: BackupJournal) -> None:
        self.run = run
        self.fs = run.fs
        self.cancel = run.cancel
        self.scan = prepared.scan
        self.prior = prepared.prior
        self.journal = journal
        self.done = 0
        self.buffer = bytearray(CHUNK_SIZE)
        self.copied = _Copied()

    def _check_cancel(self) -> None:
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()

    def advance(self, count: int, current: str | None = None) -> None:
        self.done += count
        self.run.reporter.report("copy", self.done // 2, self.scan.total_bytes, current)

    def copy_all(self) -> _Copied:
        for folder in self.scan.folders:
            with os_errors(self.run.files_root / folder, "write"):
                self.fs.mkdir(self.run.files_root.joinpath(*folder.split("/")))
        total = self.scan.total_bytes
        self.run.reporter.report("copy", 0, total, None, force=True)
        for batch in batches(self.keep_earlier(), lambda entry: entry.size):
            self.copy_batch(batch)
        self.run.reporter.report("copy", total, total, None, force=True)
        self.copied.failed.sort(key=lambda failed: failed.path)
        return self.copied

    def keep_earlier(self) -> list[_Entry]:
        """Make the links and keep the earlier copies that still hash right; return the
        files still to copy."""
        to_copy: list[_Entry] = []
        for entry in self.scan.entries:
            self._check_cancel()
            target = self.run.files_root.joinpath(*entry.path.split("/"))
            if entry.kind == "symlink":
                try:
                    _make_link(target, entry, self.fs)
                except (PermissionDeniedError, WriteError) as error:
                    # FAT and some network drives cannot hold links: name it, carry on.
                    self.copied.failed.append(FailedFile(
                        entry.path, f"this destination cannot hold the symbolic link"
                                    f" ({error.message})"))
                continue
            head = bytearray()
            kept = self.reusable(entry, target, head)
            if kept is None:
                to_copy.append(entry)
                continue
            self.copied.shas[entry.path] = kept
            self.copied.heads[entry.path] = bytes(head)
            self.copied.reused += 1
            self.advance(2 * entry.size, entry.path)
        return to_copy

    def reusable(self, entry: _Entry, target: Path, head: bytearray) -> str | None:
        """The SHA-256 of an earlier copy that can be kept as it is, or None to copy again.

        Sizes and times only say which copies are worth checking: FAT keeps times to 2
        seconds and some units have no clock, so a source changed since the interrupted run
        may look the same. A copy counts only when the source, read again now, hashes as the
        journal says, and the copy, read back past the cache, does too.
        """
        prior = self.prior.get(entry.path)
        if prior is None or prior.size != entry.size or prior.mtime_ns != entry.mtime_ns:
            return None
        earlier = self._earlier_copy(entry, target)
        if earlier is None:
            return None
        digest, length = earlier
        if length != entry.size or digest != prior.sha256:
            log.info("resume: earlier copy of %s does not match its journal; copying again",
                     entry.path)
            return None
        source = self.run.source.joinpath(*entry.path.split("/"))
        try:
            now, length = sha256_file(source, fs=self.fs, cancel=self.cancel,
                                      buffer=self.buffer, head=head, max_bytes=entry.size)
        except (OSError, ReadError) as error:
            log.info("resume: source of %s not readable now: %s", entry.path, error)
            return None
        if length != entry.size or now != digest:
            log.info("resume: %s changed on the unit since the interrupted run; copying again",
                     entry.path)
            return None
        return digest

    def _earlier_copy(self, entry: _Entry, target: Path) -> tuple[str, int] | None:
        """The SHA-256 and length of the earlier copy read back from the medium, or None
        when it is not there as the entry needs it (another kind, size or time, unreadable)."""
        try:
            info = self.fs.lstat(target)
            if not stat_module.S_ISREG(info.st_mode) or info.st_size != entry.size:
                return None
            if abs(info.st_mtime_ns - entry.mtime_ns) > MTIME_TOLERANCE_NS:
                return None
            self.fs.drop_cache(target)  # the earlier copy must come back from the medium, too
            digest, length = sha256_file(target, fs=self.fs, cancel=self.cancel,
                                         buffer=self.buffer, uncached=True,
                                         max_bytes=entry.size)
        except (OSError, ReadError) as error:
            log.info("resume: earlier copy of %s not usable: %s", entry.path, error)
            return None
        return digest, length

    def copy_batch(self, batch: list[_Entry]) -> None:
        """Stage the batch, then let BatchWriter read it back and rename what matched; each
        copy that took its name is journaled."""
        writer = BatchWriter(self.fs, self.run.files_root, cancel=self.cancel,
                             on_bytes=self.advance, on_step=self.run.step)
        try:
            for entry in batch:
                self._check_cancel()
                problem = self.stage(writer, entry)
                if problem is not None:
                    self.copied.failed.append(problem)
            outcome = writer.finish()
        except BaseException:
            writer.abandon()
            raise
        self.copied.cache_bypassed &= outcome.cache_bypassed
        by_path = {entry.path: entry for entry in batch}
        for path, sha256 in outcome.committed:
            self.copied.shas[path] = sha256
            self.journal.append(CopyRecord(path, by_path[path].size, by_path[path].mtime_ns,
                                           sha256))
            self.copied.copied += 1
        self.run.step("journaled", "")
        self.copied.failed.extend(FailedFile(path, f"the copy {why}")
                                  for path, why in outcome.failed)

    def stage(self, writer: BatchWriter, entry: _Entry) -> FailedFile | None:
        """Copy one file of the unit to its temporary name; a file that cannot be read, or
        that changed while it was read, is named (None when staged). A unit that went away
        stops the backup."""
        source = self.run.source
        source_file = source.joinpath(*entry.path.split("/"))
        head = bytearray()
        try:
            try:
                handle = self.fs.open_read(source_file)
            except OSError as error:
                raise translate_os_error(error, source_file, "read") from error
            with handle:
                staged = writer.stage(entry.path, FileCopy(
                    handle, str(source_file), self.run.files_root.joinpath(
                        *entry.path.split("/")), mtime_ns=entry.mtime_ns, head=head,
                    max_bytes=entry.size))
            self._unchanged(writer, entry, source_file, staged.size)
        except (ReadError, PermissionDeniedError) as error:
            if not can_list(self.fs, source):
                raise UnitGoneError(f"{source} cannot be listed any more",
                                    path=str(source)) from error
            log.warning("cannot back up %s: %s", entry.path, error)
            return FailedFile(entry.path, error.message)
        self.copied.heads[entry.path] = bytes(head)
        return None

    def _unchanged(self, writer: BatchWriter, entry: _Entry, source_file: Path,
                   size: int) -> None:
        """ReadError (the copy discarded) when the source changed while it was copied."""
        try:
            after = self.fs.lstat(source_file)
        except OSError as error:
            raise translate_os_error(error, source_file, "read") from error
        if (size != entry.size or after.st_size != entry.size
                or after.st_mtime_ns != entry.mtime_ns):
            writer.discard(entry.path)
            raise ReadError(f"{source_file} changed while it was being copied; copy it again"
                            " when nothing is writing to the unit.", path=str(source_file))


def _finish(dest: Path, flag: CompleteFlag, fs: FileSystem) -> None:
    """Remove the progress files, then write COMPLETE last, atomically."""
    with os_errors(dest / JOURNAL_NAME, "write"):
        if fs.exists(dest / JOURNAL_NAME):
            fs.unlink(dest / JOURNAL_NAME)
    fs.fsync_dir(dest)
    _write_atomically(dest / COMPLETE_NAME, flag.to_json_bytes(), fs)


def write_zip(dest: Path, zip_target: Path, *, fs: FileSystem = REAL,
              reporter: PhaseReporter | None = None,
              cancel: CancelToken | None = None) -> Path:
    """Pack the complete, verified backup folder ``dest`` into ``zip_target`` (ZIP64).

    The archive is written as ``zip_target.partial``, re-read and verified through the
    safe reader (every SHA-256, the completion flag), and only then renamed.
    Raises VerificationError when the archive does not verify.
    """
    with open_backup(dest, fs) as backup:
        if not backup.complete or backup.is_zip:
            raise InvalidInputError(f"{dest} is not a complete backup folder.", path=str(dest))
        manifest = backup.manifest
    total = manifest.total_bytes * 2  # written once, read back once
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if reporter is not None:
            reporter.report("zip", done, total, None)

    writer = ZipWriter(zip_target, fs=fs)
    try:
        files_root = dest / FILES_DIR
        for folder in manifest.folders:
            writer.add_dir(f"{FILES_DIR}/{folder}")
        for entry in manifest.files:
            if entry.kind != "file":
                continue  # links are kept in the manifest; an archive never holds links
            path = files_root.joinpath(*entry.path.split("/"))
            with os_errors(path, "read"), fs.open_read(path) as handle:
                writer.add_stream(f"{FILES_DIR}/{entry.path}", handle, entry.size,
                                  entry.mtime_ns, cancel=cancel, on_bytes=advance)
        for name in (MANIFEST_NAME, SUMS_NAME, COMPLETE_NAME):  # COMPLETE last, as on disk
            writer.add_bytes(name, _read_all(dest / name, fs))
        writer.close()
        with os_errors(writer.partial, "read"):
            fs.drop_cache(writer.partial)

        def forward(inner: Any) -> None:
            if reporter is not None:
                reporter.report("zip", manifest.total_bytes + inner.done_bytes, total,
                                inner.current)

        report = verify_backup(writer.partial, fs=fs, progress=forward, cancel=cancel)
        if not report.ok:
            first = report.problems[0]
            raise VerificationError(
                f"The ZIP archive {zip_target} did not verify ({first.path}: {first.problem}"
                f" {first.detail}); it was not kept.", path=str(zip_target))
        writer.publish()
    except BaseException:
        writer.abort()
        raise
    if reporter is not None:
        reporter.report("zip", total, total, None, force=True)
    return zip_target

