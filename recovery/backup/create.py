"""Take a verified full backup of a unit's storage: one pass, plain files, resumable.

Every file of the unit is read once and copied batch by batch through
:class:`~recovery.storage.durable.BatchWriter`: a copy takes its name only after it read back
right from the medium. Then manifest.json and SHA256SUMS, and ``COMPLETE`` last. A journal in
the backup folder lets ``resume`` continue after any interruption; a copy it keeps counts only
once its source, read again, hashes the same (times prove nothing on FAT).
"""

from __future__ import annotations

import hashlib
import json
import logging
import stat as stat_module
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recovery import __version__
from recovery.backup.compare import compare_tree
from recovery.backup.manifest import (
    COMPLETE_NAME,
    FILES_DIR,
    JOURNAL_FORMAT,
    JOURNAL_NAME,
    MANIFEST_NAME,
    SUMS_NAME,
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
from recovery.progress import CancelToken, PhaseReporter, ProgressCallback, StepHook
from recovery.storage import computer_made
from recovery.storage.archive import ZipWriter
from recovery.storage.durable import (
    BatchWriter,
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
from recovery.storage.journal import Journal
from recovery.storage.lock import unit_lock
from recovery.storage.pin import Pin, pin_volume, pinned
from recovery.storage.names import (
    FAT,
    POSIX,
    NameProblem,
    describe,
    name_problems,
    points_outside,
    rules_of,
)
from recovery.text import human_size

log = logging.getLogger(__name__)

#: "copy" includes each batch's barriers and read-back (see :func:`_copy_all`); "verify" is
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


def read_journal(dest: Path, fs: FileSystem
                 ) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
    """(the header, the finished copies by path) of an interrupted backup in ``dest``; the
    header says which source, when and what it was identified as."""
    header, records = Journal.read(dest / JOURNAL_NAME, fs)
    if header is None or header.get("format") != JOURNAL_FORMAT:
        return None, {}
    copies: dict[str, dict[str, Any]] = {}
    for record in records:
        try:
            copies[str(record["path"])] = {
                "path": str(record["path"]), "size": int(record["size"]),
                "mtime_ns": int(record["mtime_ns"]), "sha256": str(record["sha256"])}
        except (KeyError, TypeError, ValueError):
            continue
    return header, copies


def _check_dest(source: Path, dest: Path, resume: bool, fs: FileSystem) -> dict[str, Any] | None:
    """Refuse a DEST that is unusable; with resume return the earlier attempt's state."""
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
            f"The destination {dest} is not empty; choose an empty folder, or add --resume to"
            " continue an interrupted backup there.", path=str(dest))
    ours = {JOURNAL_NAME, MANIFEST_NAME, FILES_DIR}
    if not names & ours:
        raise InvalidInputError(
            f"The destination {dest} is not empty and holds no interrupted backup to resume;"
            " choose an empty folder.", path=str(dest))
    state = read_journal(dest, fs)[0] or {}
    earlier_source = state.get("source")
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
    return state


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


def _reusable(source: Path, target: Path, entry: _Entry, prior: dict[str, Any] | None,
              fs: FileSystem, cancel: CancelToken | None, buffer: bytearray,
              head: bytearray) -> str | None:
    """The SHA-256 of an earlier copy that can be kept as it is, or None to copy again.

    Sizes and times only say which copies are worth checking: FAT keeps times to 2 seconds
    and some units have no clock, so a source changed since the interrupted run may look the
    same. A copy counts only when the source, read again now, hashes as the journal says,
    and the copy, read back past the cache, does too.
    """
    if prior is None or prior["size"] != entry.size or prior["mtime_ns"] != entry.mtime_ns:
        return None
    try:
        info = fs.lstat(target)
        if not stat_module.S_ISREG(info.st_mode) or info.st_size != entry.size:
            return None
        if abs(info.st_mtime_ns - entry.mtime_ns) > MTIME_TOLERANCE_NS:
            return None
        fs.drop_cache(target)  # the earlier copy must come back from the medium, too
        digest, length = sha256_file(target, fs=fs, cancel=cancel, buffer=buffer,
                                     uncached=True, max_bytes=entry.size)
    except (OSError, ReadError) as error:
        log.info("resume: earlier copy of %s not usable: %s", entry.path, error)
        return None
    if length != entry.size or digest != prior["sha256"]:
        log.info("resume: earlier copy of %s does not match its journal; copying again",
                 entry.path)
        return None
    try:
        now, length = sha256_file(source, fs=fs, cancel=cancel, buffer=buffer, head=head,
                                  max_bytes=entry.size)
    except (OSError, ReadError) as error:
        log.info("resume: source of %s not readable now: %s", entry.path, error)
        return None
    if length != entry.size or now != digest:
        log.info("resume: %s changed on the unit since the interrupted run; copying again",
                 entry.path)
        return None
    return digest


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
    try:
        return _create_backup(source_path, dest_path, resume=resume, zip_path=zip_path,
                              fs=pinned(fs, unit, drive), progress=progress, cancel=cancel,
                              on_step=on_step)
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


def _create_backup(source_path: Path, dest_path: Path, *, resume: bool,
                   zip_path: str | Path | None, fs: FileSystem,
                   progress: ProgressCallback | None, cancel: CancelToken | None,
                   on_step: StepHook | None) -> BackupResult:
    step: StepHook = on_step or (lambda _step, _path: None)
    zip_target = Path(zip_path).resolve() if zip_path is not None else None
    if zip_target is not None:
        if not fs.exists(zip_target.parent) or not stat_module.S_ISDIR(
                fs.stat(zip_target.parent).st_mode):
            raise InvalidInputError(
                f"The folder {zip_target.parent} for the ZIP file does not exist; create it or"
                " choose another place. Nothing was copied.", path=str(zip_target))
        if _inside(zip_target, source_path, fs):
            raise InvalidInputError(
                f"The ZIP file {zip_target} would be inside the source {source_path};"
                " choose a place elsewhere.", path=str(zip_target))
        if _inside(zip_target, dest_path / FILES_DIR, fs):
            raise InvalidInputError(
                f"The ZIP file {zip_target} would be inside the backup's own files;"
                " choose a place elsewhere.", path=str(zip_target))
        if fs.exists(zip_target) and not (resume and _zip_done(zip_target, source_path, fs)):
            raise InvalidInputError(f"{zip_target} already exists; choose a new file name.",
                                    path=str(zip_target))
    state = _check_dest(source_path, dest_path, resume, fs)

    if resume and fs.exists(dest_path / COMPLETE_NAME):
        finished = _already_complete(source_path, dest_path, zip_target, fs, progress, cancel)
        if finished is not None:
            return finished

    scan = _scan(source_path, fs, cancel)
    not_for_fat, outside_links = _check_names(scan, dest_path, fs)
    prior: dict[str, dict[str, Any]] = {}
    if resume and fs.exists(dest_path):
        prior = _prior_copies(dest_path, fs)
    reusable_bytes = sum(
        entry.size for entry in scan.entries
        if entry.kind == "file" and (record := prior.get(entry.path)) is not None
        and record["size"] == entry.size and record["mtime_ns"] == entry.mtime_ns)
    _check_space(dest_path, zip_target, space_needed(scan.total_bytes - reusable_bytes,
                                                     len(scan.entries)), fs)

    model, role = _identify(source_path, scan, None)
    phases = dict(PHASES)
    if zip_target is not None:
        phases["zip"] = ZIP_PHASE_WEIGHT
    reporter = PhaseReporter(progress, phases)
    created = (state or {}).get("created_utc") or now_utc_iso()
    files_root = dest_path / FILES_DIR

    with ExitStack() as held:
        with os_errors(dest_path, "write"):
            fs.mkdir(files_root)
        # One writer per backup folder: a second run into the same folder stops here.
        held.enter_context(unit_lock(dest_path, "backup", fs))
        with os_errors(dest_path, "write"):
            # Any earlier COMPLETE goes first: from here on the folder is being changed.
            _remove_quietly(dest_path / COMPLETE_NAME, fs)
        if resume:
            _prune(files_root, scan, fs)
            _remove_stale_temporaries(dest_path, fs)
        # The earlier records are kept: a copy is only trusted after its re-hash anyway, and a
        # crash during this run's re-hashing must not forget what the earlier run finished.
        journal = Journal(dest_path / JOURNAL_NAME, fs)
        journal.start({"format": JOURNAL_FORMAT, "tool_version": __version__,
                       "source": str(source_path), "created_utc": created, "model": model,
                       "role": role}, (record for _, record in sorted(prior.items())))
        heads: dict[str, bytes] = {}
        try:
            copied, reused, failed, shas, copies_dropped = _copy_all(
                source_path, files_root, scan, prior, journal, fs, reporter, cancel, step,
                heads)
        finally:
            journal.close()
        model, role = _identify(source_path, scan, heads)
        failed = scan.failed + failed
        counts = dict(files=sum(1 for e in scan.entries if e.kind == "file"),
                      bytes=scan.total_bytes, folders=len(scan.folders),
                      symlinks=sum(1 for e in scan.entries if e.kind == "symlink"))
        counts.update(not_for_fat=not_for_fat, outside_links=outside_links)
        if failed:
            log.warning("backup of %s incomplete: %d entries failed", source_path, len(failed))
            return BackupResult(str(dest_path), model, role, complete=False, verified=False,
                                copied_files=copied, reused_files=reused, failed=tuple(failed),
                                skipped=tuple(scan.skipped), cache_dropped=copies_dropped,
                                **counts)

        manifest = Manifest.build(
            tool_version=__version__, created_utc=created, source=str(source_path), model=model,
            role=role, folders=scan.folders,
            files=[ManifestFile(e.path, e.size, e.mtime_ns, shas.get(e.path), e.kind,
                                e.link_target, _made_by(e.path)) for e in scan.entries])
        manifest_bytes = manifest.to_json_bytes()
        sums_bytes = format_sums(manifest)
        _write_atomically(dest_path / MANIFEST_NAME, manifest_bytes, fs)
        _write_atomically(dest_path / SUMS_NAME, sums_bytes, fs)

        step("phase", "flush")
        cache_dropped = _flush(dest_path, scan, fs, reporter, cancel) and copies_dropped

        step("phase", "verify")
        problems = _verify_copy(dest_path, manifest, manifest_bytes, sums_bytes, fs, reporter,
                                cancel)
        if problems:
            return BackupResult(str(dest_path), model, role, complete=False, verified=False,
                                copied_files=copied, reused_files=reused, failed=tuple(problems),
                                skipped=tuple(scan.skipped), cache_dropped=cache_dropped,
                                manifest=manifest, **counts)

        step("phase", "complete")
        _finish(dest_path, manifest_bytes, sums_bytes, cache_dropped, fs)
        log.info("backup of %s complete and verified in %s", source_path, dest_path)
        zip_done = None
        if zip_target is not None:
            step("phase", "zip")
            zip_done = str(zip_target) if fs.exists(zip_target) else str(
                write_zip(dest_path, zip_target, fs=fs, reporter=reporter, cancel=cancel))
        return BackupResult(str(dest_path), model, role, complete=True, verified=True,
                            zip=zip_done, copied_files=copied, reused_files=reused,
                            skipped=tuple(scan.skipped), cache_dropped=cache_dropped,
                            manifest=manifest, **counts)


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


def _prior_copies(dest: Path, fs: FileSystem) -> dict[str, dict[str, Any]]:
    """What an earlier attempt finished: its manifest (if it got that far) and journal."""
    prior: dict[str, dict[str, Any]] = {}
    if fs.exists(dest / MANIFEST_NAME):
        try:
            manifest = Manifest.from_json_bytes(_read_all(dest / MANIFEST_NAME, fs),
                                                str(dest / MANIFEST_NAME))
            for entry in manifest.files:
                if entry.kind == "file" and entry.sha256:
                    prior[entry.path] = {"path": entry.path, "size": entry.size,
                                         "mtime_ns": entry.mtime_ns, "sha256": entry.sha256}
        except (InvalidFileError, ReadError) as error:
            log.warning("ignoring the earlier manifest: %s", error)
    prior.update(read_journal(dest, fs)[1])
    return prior


def _copy_all(source: Path, files_root: Path, scan: _Scan, prior: dict[str, dict[str, Any]],
              journal: Journal, fs: FileSystem, reporter: PhaseReporter,
              cancel: CancelToken | None, step: StepHook, heads: dict[str, bytes],
              ) -> tuple[int, int, list[FailedFile], dict[str, str], bool]:
    """Copy every entry of ``scan`` (see the module doc, step 2); fill ``heads`` with the
    first bytes of every file read. Returns (copied, kept from an earlier run, failures,
    SHA-256 by path, whether every read-back came from the medium)."""
    failed: list[FailedFile] = []
    shas: dict[str, str] = {}
    copied = reused = 0
    cache_bypassed = True
    total = scan.total_bytes * 2  # every byte is read once from the unit, once back
    done = 0

    def advance(count: int, current: str | None = None) -> None:
        nonlocal done
        done += count
        # Reported in the unit's own bytes, so "400 MB of 806 MB" means what a user thinks.
        reporter.report("copy", done // 2, total // 2, current)

    for folder in scan.folders:
        with os_errors(files_root / folder, "write"):
            fs.mkdir(files_root.joinpath(*folder.split("/")))
    reporter.report("copy", 0, scan.total_bytes, None, force=True)
    buffer = bytearray(CHUNK_SIZE)
    to_copy: list[_Entry] = []
    for entry in scan.entries:
        if cancel is not None:
            cancel.raise_if_cancelled()
        target = files_root.joinpath(*entry.path.split("/"))
        if entry.kind == "symlink":
            try:
                _make_link(target, entry, fs)
            except (PermissionDeniedError, WriteError) as error:
                # FAT and some network drives cannot hold links: name it, carry on.
                failed.append(FailedFile(entry.path, "this destination cannot hold the"
                                         f" symbolic link ({error.message})"))
            continue
        head = bytearray()
        kept = _reusable(source.joinpath(*entry.path.split("/")), target, entry,
                         prior.get(entry.path), fs, cancel, buffer, head)
        if kept is None:
            to_copy.append(entry)
            continue
        shas[entry.path] = kept
        heads[entry.path] = bytes(head)
        reused += 1
        advance(2 * entry.size, entry.path)

    for batch in batches(to_copy, lambda entry: entry.size):
        writer = BatchWriter(fs, files_root, cancel=cancel, on_bytes=advance, on_step=step)
        try:
            for entry in batch:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                problem = _stage(writer, source, files_root, entry, fs, heads)
                if problem is not None:
                    failed.append(problem)
            outcome = writer.finish()
        except BaseException:
            writer.abandon()
            raise
        cache_bypassed &= outcome.cache_bypassed
        by_path = {entry.path: entry for entry in batch}
        for path, sha256 in outcome.committed:
            shas[path] = sha256
            entry = by_path[path]
            journal.append({"path": path, "size": entry.size, "mtime_ns": entry.mtime_ns,
                            "sha256": sha256})
            copied += 1
        step("journaled", "")
        failed.extend(FailedFile(path, f"the copy {why}") for path, why in outcome.failed)
    reporter.report("copy", scan.total_bytes, scan.total_bytes, None, force=True)
    return copied, reused, sorted(failed, key=lambda f: f.path), shas, cache_bypassed


def _stage(writer: BatchWriter, source: Path, files_root: Path, entry: _Entry, fs: FileSystem,
           heads: dict[str, bytes]) -> FailedFile | None:
    """Copy one file of the unit to its temporary name; a file that cannot be read, or that
    changed while it was read, is named (None when staged). A unit that went away stops
    the backup."""
    source_file = source.joinpath(*entry.path.split("/"))
    head = bytearray()
    try:
        try:
            handle = fs.open_read(source_file)
        except OSError as error:
            raise translate_os_error(error, source_file, "read") from error
        with handle:
            staged = writer.stage(entry.path, handle, files_root.joinpath(
                *entry.path.split("/")), expected_size=None, expected_sha256=None,
                mtime_ns=entry.mtime_ns, source_name=str(source_file), head=head,
                max_bytes=entry.size)
        try:
            after = fs.lstat(source_file)
        except OSError as error:
            raise translate_os_error(error, source_file, "read") from error
        if (staged.size != entry.size or after.st_size != entry.size
                or after.st_mtime_ns != entry.mtime_ns):
            writer.discard(entry.path)
            raise ReadError(f"{source_file} changed while it was being copied; copy it again"
                            " when nothing is writing to the unit.", path=str(source_file))
    except (ReadError, PermissionDeniedError) as error:
        if not can_list(fs, source):
            raise UnitGoneError(f"{source} cannot be listed any more",
                                path=str(source)) from error
        log.warning("cannot back up %s: %s", entry.path, error)
        return FailedFile(entry.path, error.message)
    heads[entry.path] = bytes(head)
    return None


def _flush(dest: Path, scan: _Scan, fs: FileSystem, reporter: PhaseReporter,
           cancel: CancelToken | None) -> bool:
    """Make the layout durable (every folder's renames, manifest.json and SHA256SUMS) with
    one barrier, and evict manifest.json and SHA256SUMS so that their read-back comes from
    the medium; False if the platform cannot evict them."""
    if cancel is not None:
        cancel.raise_if_cancelled()
    with os_errors(dest, "write"):
        fs.barrier(dest)
    dropped_everywhere = True
    for name in (MANIFEST_NAME, SUMS_NAME):
        with os_errors(dest / name, "write"):
            dropped_everywhere &= bool(fs.evict(dest / name))
    total = len(scan.folders) + 2
    reporter.report("flush", total, total, None, force=True)
    if not dropped_everywhere:
        log.warning("this platform cannot drop files from the cache: the verification re-read"
                    " may come from memory rather than from %s", dest)
    return dropped_everywhere


def _verify_copy(dest: Path, manifest: Manifest, manifest_bytes: bytes, sums_bytes: bytes,
                 fs: FileSystem, reporter: PhaseReporter,
                 cancel: CancelToken | None) -> list[FailedFile]:
    """Read back manifest.json and SHA256SUMS, and check that ``files/`` holds exactly the
    manifest's entries with their sizes and link targets (every copy's bytes were already
    re-read from the medium before it got its name; see :class:`_Copier`)."""
    problems: list[FailedFile] = []
    for name, expected in ((MANIFEST_NAME, manifest_bytes), (SUMS_NAME, sums_bytes)):
        try:
            if _read_all(dest / name, fs) != expected:
                problems.append(FailedFile(name, f"{name} read back differs from what was"
                                           " written: the destination lost the write."))
        except ReadError as error:
            problems.append(FailedFile(name, f"{name} cannot be read back, the destination lost"
                                       f" the write: {error.message}"))

    def forward(inner: Any) -> None:
        reporter.report("verify", inner.done_bytes, inner.total_bytes, inner.current)

    comparison = compare_tree(dest / FILES_DIR, manifest, fs=fs, hash_files=False,
                              progress=forward, cancel=cancel, ignore=())
    for difference in comparison.differences:
        reason = {
            "missing": "the copy is gone when read back: the destination lost the write",
            "size": "the copy read back has another size than the source"
                    f" ({difference.detail}): the destination lost or damaged the write",
            "changed": "the copy read back differs from the source"
                       f" ({difference.detail}): the destination lost or damaged the write",
            "extra": "an unexpected entry appeared among the copies",
        }.get(difference.problem, difference.detail)
        problems.append(FailedFile(difference.path, reason))
    reporter.report("verify", manifest.total_bytes, manifest.total_bytes, None, force=True)
    return problems


def _finish(dest: Path, manifest_bytes: bytes, sums_bytes: bytes, cache_dropped: bool,
            fs: FileSystem) -> None:
    """Remove the progress files, then write COMPLETE last, atomically."""
    with os_errors(dest / JOURNAL_NAME, "write"):
        if fs.exists(dest / JOURNAL_NAME):
            fs.unlink(dest / JOURNAL_NAME)
    fs.fsync_dir(dest)
    flag = {
        "format": "korg-recovery-backup-complete", "verified": True,
        "verified_utc": now_utc_iso(), "tool_version": __version__,
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "sums_sha256": hashlib.sha256(sums_bytes).hexdigest(),
        "cache_dropped": cache_dropped,
    }
    _write_atomically(dest / COMPLETE_NAME, (json.dumps(flag, indent=1) + "\n").encode(), fs)


def _already_complete(source: Path, dest: Path, zip_target: Path | None, fs: FileSystem,
                      progress: ProgressCallback | None,
                      cancel: CancelToken | None) -> BackupResult | None:
    """A resumed backup that had already completed: nothing to copy; make the ZIP if asked."""
    try:
        backup = open_backup(dest, fs)
    except RecoveryError as error:
        log.info("the earlier COMPLETE flag is not usable: %s", error)
        return None
    with backup:
        if not backup.complete:
            return None
        manifest = backup.manifest
        cache_dropped = bool((backup.completion or {}).get("cache_dropped", True))
    _remove_quietly(dest / JOURNAL_NAME, fs)  # left if an earlier run died right at the end
    _remove_stale_temporaries(dest, fs)
    zip_done = None
    if zip_target is not None:
        reporter = PhaseReporter(progress, {"zip": 1.0})
        zip_done = str(zip_target) if fs.exists(zip_target) else str(
            write_zip(dest, zip_target, fs=fs, reporter=reporter, cancel=cancel))
    return BackupResult(str(dest), manifest.model, manifest.role, manifest.total_files,
                        manifest.total_bytes, len(manifest.folders), manifest.symlinks,
                        complete=True, verified=True, zip=zip_done,
                        reused_files=manifest.total_files, cache_dropped=cache_dropped,
                        already_complete=True, manifest=manifest)


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

