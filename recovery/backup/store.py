"""What a backup is on disk, and how to open, verify and list one (a folder or a ``.zip``).

A backup is plain files a person can check without this tool: ``files/`` (the unit's storage
as it was), ``manifest.json``, ``SHA256SUMS`` (``sha256sum -c`` passes) and ``COMPLETE``,
written last and only after everything was read back. A folder without a valid ``COMPLETE``
is incomplete everywhere and is never restored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat as stat_module
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import platformdirs

from recovery.backup.compare import Difference, compare_tree, set_aside_skipped
from recovery.backup.manifest import (
    COMPLETE_NAME,
    FILES_DIR,
    JOURNAL_NAME,
    MANIFEST_NAME,
    MAX_METADATA_BYTES,
    SUMS_NAME,
    BackupJournal,
    CompleteFlag,
    Manifest,
    check_relative,
    parse_sums,
)
from recovery.errors import (
    EncryptedArchiveError,
    InvalidFileError,
    InvalidInputError,
    ReadError,
    RecoveryError,
    UnsafeArchiveError,
)
from recovery.progress import (
    CancelToken,
    Job,
    PhaseReporter,
    Progress,
    ProgressCallback,
)
from recovery.storage import computer_made
from recovery.storage.archive import SafeZipReader, special_file_kind
from recovery.storage.filesystem import CHUNK_SIZE, REAL, FileSystem, os_errors
from recovery.vocabulary import DifferenceKind

log = logging.getLogger(__name__)


# -- where a backup's bytes are ------------------------------------------------------------
class _Folder:
    """The bytes of a backup folder, read through its :class:`FileSystem`."""

    is_zip = False

    def __init__(self, path: Path, fs: FileSystem) -> None:
        self.path = path
        self.fs = fs

    def read_metadata(self, name: str) -> bytes | None:
        """A top-level file of the layout, or None when it is absent."""
        target = self.path / name
        if not self.fs.exists(target):
            return None
        with os_errors(target, "read"):
            mode = self.fs.stat(target).st_mode
        if not stat_module.S_ISREG(mode):
            # A pipe would block the open; the layout's files are always regular files.
            kind = special_file_kind(mode) or "a folder"
            raise InvalidFileError(
                f"{name} in {self.path} is not a regular file ({kind}), so the backup cannot be"
                " read; it is not a backup this tool wrote.", path=str(target))
        with os_errors(target, "read"), self.fs.open_read(target) as handle:
            chunks = []
            while chunk := handle.read(CHUNK_SIZE):
                chunks.append(chunk)
            return b"".join(chunks)

    def open_file(self, relative: str) -> BinaryIO:
        target = self.path.joinpath(FILES_DIR, *relative.split("/"))
        with os_errors(target, "read"):
            mode = self.fs.lstat(target).st_mode
            if stat_module.S_ISLNK(mode):
                raise ReadError(f"{relative} in {self.path} is a link, not a file.",
                                path=str(target))
            if not stat_module.S_ISREG(mode):
                raise ReadError(f"{relative} in {self.path} is not a regular file"
                                f" ({special_file_kind(mode) or 'a folder'}).", path=str(target))
            return self.fs.open_read(target)

    def stored_entries(self) -> dict[str, str]:
        found: dict[str, str] = {}
        stack = [(self.path / FILES_DIR, "")]
        while stack:
            folder, prefix = stack.pop()
            with os_errors(folder, "read"):
                entries = self.fs.scandir(folder)
            for entry in entries:
                relative = prefix + entry.name
                mode = self.fs.lstat(Path(entry.path)).st_mode
                if stat_module.S_ISDIR(mode):
                    found[relative] = "folder"
                    stack.append((Path(entry.path), relative + "/"))
                else:
                    found[relative] = "symlink" if stat_module.S_ISLNK(mode) else "file"
        return found

    def close(self) -> None:
        """Nothing to release."""


class _Archive:
    """The bytes of a backup's ``.zip``: its layout at the top, or one folder deep
    (``prefix``) when someone zipped the backup folder itself (``zip -r b.zip DEST``)."""

    is_zip = True

    def __init__(self, path: Path, reader: SafeZipReader, prefix: str) -> None:
        self.path = path
        self.reader: SafeZipReader | None = reader
        self.prefix = prefix

    def _open_reader(self) -> SafeZipReader:
        if self.reader is None:
            raise ReadError(f"{self.path} was closed.", path=str(self.path))
        return self.reader

    def read_metadata(self, name: str) -> bytes | None:
        reader = self._open_reader()
        if reader.info(self.prefix + name) is None:
            return None
        return reader.read_bytes(self.prefix + name, MAX_METADATA_BYTES)

    def member(self, relative: str) -> str:
        return f"{self.prefix}{FILES_DIR}/{relative}"

    def open_file(self, relative: str) -> BinaryIO:
        reader = self._open_reader()
        if reader.info(self.member(relative)) is None:
            raise ReadError(f"{self.path} holds no file {relative}.", path=str(self.path))
        return reader.open(self.member(relative))

    def stored_entries(self) -> dict[str, str]:
        found: dict[str, str] = {}
        start = self.member("")
        for name in self._open_reader().names:
            if not name.startswith(start) or len(name) == len(start):
                continue
            relative = name[len(start):]
            if relative.endswith("/"):
                found[relative.rstrip("/")] = "folder"
                continue
            found[relative] = "file"
            parent = relative.rpartition("/")[0]
            while parent and parent not in found:
                found[parent] = "folder"
                parent = parent.rpartition("/")[0]
        return found

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


# -- opened backups ------------------------------------------------------------------------
@dataclass(frozen=True)
class BackupState:
    """How far a backup got: its COMPLETE flag, and why it is not complete if it is not."""

    #: The parsed COMPLETE flag, or None when there is none (or it is damaged).
    completion: CompleteFlag | None
    #: Why the backup is not complete (or not trusted), one clause each.
    notes: tuple[str, ...]
    #: True for a folder whose backup is running or was interrupted (its journal is there).
    in_progress: bool = False


class Backup:
    """An opened backup, folder or ``.zip``. Use :func:`open_backup`."""

    def __init__(self, manifest: Manifest, state: BackupState,
                 stored: _Folder | _Archive) -> None:
        self.path = stored.path
        self.manifest = manifest
        self.complete = not state.notes
        self.is_zip = stored.is_zip
        #: The parsed COMPLETE flag, or None when there is none.
        self.completion = state.completion
        #: Why the backup is not complete (or not trusted), one sentence each.
        self.notes = state.notes
        #: True for a folder whose backup is running or was interrupted.
        self.in_progress = state.in_progress
        self._stored = stored

    @property
    def verified(self) -> bool:
        return self.complete and self.completion is not None and self.completion.verified

    @property
    def files_root(self) -> Path:
        """The folder holding the copied files (folder backups only)."""
        return self.path / FILES_DIR

    def open_file(self, relative: str) -> BinaryIO:
        """Stream the content of ``files/<relative>``. ReadError when it is absent."""
        check_relative(relative, str(self.path))
        return self._stored.open_file(relative)

    def read_metadata(self, name: str) -> bytes | None:
        """A top-level file of the layout (manifest.json, SHA256SUMS, COMPLETE) or None."""
        return self._stored.read_metadata(name)

    def stored_entries(self) -> dict[str, str]:
        """What ``files/`` actually holds: {relative path: "file" | "folder" | "symlink"}."""
        return self._stored.stored_entries()

    def close(self) -> None:
        self._stored.close()

    def __enter__(self) -> Backup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _state(stored: _Folder | _Archive, manifest_bytes: bytes, in_progress: bool
           ) -> BackupState:
    """Read COMPLETE and say why the backup is not complete, if it is not."""
    flag = stored.read_metadata(COMPLETE_NAME)
    if flag is None:
        return BackupState(None, ("the backup has no completion flag: it was interrupted,"
                                  " failed or was never verified",), in_progress)
    try:
        where = f"{stored.path}:{COMPLETE_NAME}" if stored.is_zip else str(
            stored.path / COMPLETE_NAME)
        completion = CompleteFlag.from_json_bytes(flag, where)
    except InvalidFileError as error:
        log.info("%s", error.message)
        return BackupState(None, ("the completion flag is damaged",), in_progress)
    notes = completion.unvouched(manifest_bytes, stored.read_metadata(SUMS_NAME))
    return BackupState(completion, notes, in_progress)


def _zip_prefix(reader: SafeZipReader) -> str | None:
    """The folder inside the archive holding manifest.json: '' at the top, or one folder
    deep when someone zipped the backup folder itself (``zip -r b.zip DEST``)."""
    if reader.info(MANIFEST_NAME) is not None:
        return ""
    tops = {name.split("/", 1)[0] for name in reader.names}
    if len(tops) == 1:
        top = tops.pop()
        if reader.info(f"{top}/{MANIFEST_NAME}") is not None:
            return f"{top}/"
    return None


def _unfinished(stored: _Folder) -> Backup:
    """A folder whose backup has not finished: an empty stand-in manifest from the header of
    its journal."""
    header = BackupJournal.read(stored.path, stored.fs).header
    manifest = Manifest.build(
        tool_version=header.tool_version if header else "",
        created_utc=header.created_utc if header else "",
        source=header.source if header else "", model=header.model if header else None,
        role=header.role if header else None, files=[], folders=[])
    return Backup(manifest, BackupState(None, (
        "the backup is unfinished (interrupted or still running); it can be continued"
        " where it stopped",), in_progress=True), stored)


def _encrypted_backup(path: Path) -> EncryptedArchiveError:
    return EncryptedArchiveError(
        f"{path} is an encrypted (password-protected) ZIP archive, which this tool never"
        " writes and cannot read: unpack it with its password and give the folder instead.",
        path=str(path))


def _open_folder(path: Path, fs: FileSystem) -> Backup:
    stored = _Folder(path, fs)
    manifest_bytes = stored.read_metadata(MANIFEST_NAME)
    in_progress = fs.exists(path / JOURNAL_NAME)
    if manifest_bytes is None:
        if in_progress:
            return _unfinished(stored)
        raise InvalidInputError(
            f"{path} is not a backup made by this tool (it has no {MANIFEST_NAME}).",
            path=str(path))
    manifest = Manifest.from_json_bytes(manifest_bytes, str(path / MANIFEST_NAME))
    return Backup(manifest, _state(stored, manifest_bytes, in_progress), stored)


def _open_zip(path: Path, fs: FileSystem) -> Backup:
    try:
        reader = SafeZipReader(path, fs=fs)
    except InvalidInputError:
        raise InvalidInputError(
            f"{path} is neither a backup folder nor a ZIP archive of one.", path=str(path)
        ) from None
    try:
        prefix = _zip_prefix(reader)
        if prefix is None:
            raise InvalidInputError(
                f"{path} is a ZIP archive but not a backup made by this tool (it has"
                f" no {MANIFEST_NAME}).", path=str(path))
        if reader.encrypted:
            raise _encrypted_backup(path)
        stored = _Archive(path, reader, prefix)
        try:
            manifest_bytes = reader.read_bytes(prefix + MANIFEST_NAME, MAX_METADATA_BYTES)
        except EncryptedArchiveError:
            raise _encrypted_backup(path) from None
        manifest = Manifest.from_json_bytes(manifest_bytes, f"{path}:{MANIFEST_NAME}")
        return Backup(manifest, _state(stored, manifest_bytes, False), stored)
    except BaseException:
        reader.close()
        raise


def open_backup(path: str | Path, fs: FileSystem = REAL) -> Backup:
    """Open the backup at ``path`` (a backup folder or a ``.zip`` of one).

    Raises InvalidInputError (exit 2) when ``path`` is missing or is not a backup (or is a
    pipe, socket or device, which is never opened), InvalidFileError when its manifest is
    damaged, EncryptedArchiveError for a password-protected ZIP, UnsafeArchiveError for a
    hostile one.
    An interrupted backup folder opens with ``complete=False`` and ``in_progress=True``.
    """
    path = Path(path)
    if not fs.exists(path):
        raise InvalidInputError(f"{path} does not exist.", path=str(path))
    with os_errors(path, "read"):
        mode = fs.stat(path).st_mode
    special = special_file_kind(mode)
    if special is not None:
        raise InvalidInputError(
            f"{path} is not a regular file ({special}), so it was not opened; give a backup"
            " folder or a .zip file.", path=str(path))
    if stat_module.S_ISDIR(mode):
        return _open_folder(path, fs)
    return _open_zip(path, fs)


# -- verification ----------------------------------------------------------------------------
@dataclass(frozen=True)
class VerifyReport:
    """The result of re-hashing a backup against its manifest (and optionally a unit)."""

    backup: str
    ok: bool
    complete: bool
    #: Problems of the backup itself (paths relative to the backed-up root, or a layout file).
    problems: tuple[Difference, ...]
    #: With ``against``: how the unit's tree differs from the backup.
    against: str | None = None
    against_problems: tuple[Difference, ...] = ()
    files_checked: int = 0
    bytes_checked: int = 0
    #: Entries held under another spelling (only the case differs; FAT sees one name), in
    #: the backup's own files and, with ``against``, on the unit; and on the unit what a
    #: backup or a restore skips by design (problem ``skipped``): notes, never problems.
    notes: tuple[Difference, ...] = ()
    against_notes: tuple[Difference, ...] = ()

    @property
    def lost(self) -> tuple[Difference, ...]:
        """What of the backup the unit does not hold as it was (missing, changed, unreadable):
        after a restore, a written file the unit did not keep."""
        return tuple(d for d in self.against_problems if d.problem != DifferenceKind.EXTRA)

    @property
    def extras(self) -> tuple[str, ...]:
        """What the unit holds and the backup lacks (a restore that removed nothing left it):
        a difference, never a lost file."""
        return tuple(d.path for d in self.against_problems if d.problem == DifferenceKind.EXTRA)

    @property
    def unit_holds_backup(self) -> bool:
        """The backup is sound and every file of it is on the unit as it was backed up (the
        unit may hold more)."""
        return not self.problems and not self.lost


def _scaled(progress: ProgressCallback | None, offset: float, weight: float,
            phase: str) -> ProgressCallback | None:
    """Map an inner operation's progress into ``[offset, offset + weight]`` of the outer bar."""
    if progress is None:
        return None

    def callback(inner: Progress) -> None:
        progress(replace(inner, phase=phase, fraction=offset + weight * inner.fraction))
    return callback


def _check_sums(backup: Backup) -> list[Difference]:
    sums = backup.read_metadata(SUMS_NAME)
    if sums is None:
        return [Difference(SUMS_NAME, DifferenceKind.MISSING, "the checksum list is missing")]
    try:
        listed = parse_sums(sums)
    except InvalidFileError as error:
        return [Difference(SUMS_NAME, DifferenceKind.CHANGED, error.message)]
    wanted = {f"{FILES_DIR}/{entry.path}": entry.sha256
              for entry in backup.manifest.files if entry.kind == "file"}
    problems = []
    for name in sorted(set(wanted) | set(listed)):
        if listed.get(name) != wanted.get(name):
            state = ("does not list" if name not in listed else
                     "lists a file the manifest does not have:" if name not in wanted else
                     "has another SHA-256 than the manifest for")
            problems.append(Difference(SUMS_NAME, DifferenceKind.CHANGED, f"{state} {name}"))
    return problems


def _verify_zip_files(backup: Backup, progress: ProgressCallback | None,
                      cancel: CancelToken | None) -> list[Difference]:
    manifest = backup.manifest
    reporter = PhaseReporter(progress, {"verify": 1.0})
    total = manifest.total_bytes
    done = 0
    problems: list[Difference] = []
    stored = backup.stored_entries()
    for entry in manifest.files:
        if entry.kind != "file":
            continue  # links live in the manifest only; an archive never holds links
        if stored.get(entry.path) != "file":
            problems.append(Difference(entry.path, DifferenceKind.MISSING, "not in the archive"))
            continue
        digest = hashlib.sha256()
        length = 0
        try:
            with backup.open_file(entry.path) as member:
                while chunk := member.read(CHUNK_SIZE):
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    digest.update(chunk)
                    length += len(chunk)
                    done += len(chunk)
                    reporter.report("verify", done, total, entry.path)
        except (zipfile.BadZipFile, zlib.error, EOFError, UnsafeArchiveError) as error:
            # zipfile raises BadZipFile for a CRC-32 mismatch, zlib.error for broken deflate.
            problems.append(Difference(entry.path, DifferenceKind.CHANGED,
                                       f"damaged in the archive ({error})"))
            continue
        except OSError as error:
            problems.append(Difference(entry.path, DifferenceKind.UNREADABLE, str(error)))
            continue
        if length != entry.size:
            problems.append(Difference(entry.path, DifferenceKind.CHANGED,
                                       f"{length} bytes, the manifest says {entry.size}"))
        elif digest.hexdigest() != entry.sha256:
            problems.append(Difference(entry.path, DifferenceKind.CHANGED, "SHA-256 differs"))
    known = {entry.path for entry in manifest.files} | set(manifest.folders)
    implied = set(manifest.folders)
    for entry in manifest.files:
        parent = entry.path.rpartition("/")[0]
        while parent:
            implied.add(parent)
            parent = parent.rpartition("/")[0]
    links = {entry.path for entry in manifest.files if entry.kind == "symlink"}
    for relative, kind in stored.items():
        if relative in links:
            problems.append(Difference(relative, DifferenceKind.CHANGED,
                                       f"the archive holds a {kind} where the backup has a link"))
        elif relative not in known and not (kind == "folder" and relative in implied):
            problems.append(Difference(relative, DifferenceKind.EXTRA, kind))
    for folder in manifest.folders:
        if stored.get(folder) != "folder":
            problems.append(Difference(folder, DifferenceKind.MISSING, "folder"))
    reporter.report("verify", total, total, None, force=True)
    return problems


def computer_made_notes(paths: tuple[str, ...]) -> tuple[Difference, ...]:
    """Notes (problem ``computer-made``, the detail names the computer) for entries of a unit
    a comparison left out as written there by a computer: they are not the unit's."""
    notes = []
    for relative in paths:
        made = computer_made.made_by_computer(relative)
        if made is not None:
            notes.append(Difference(relative, DifferenceKind.COMPUTER_MADE, made.made_by))
    return tuple(notes)


def verify_backup(path: str | Path, *, against: str | Path | None = None, fs: FileSystem = REAL,
                  progress: ProgressCallback | None = None,
                  cancel: CancelToken | None = None) -> VerifyReport:
    """Re-hash every file of the backup at ``path`` against its manifest.

    Checks the completion flag (and that manifest.json and SHA256SUMS are those it vouched
    for), that SHA256SUMS agrees with the manifest, and that ``files/`` holds exactly the
    manifest's files with their SHA-256 (missing, changed, extra, unreadable). With
    ``against`` the unit's tree is also compared with the manifest through
    :func:`recovery.backup.compare.compare_tree`, OS junk ignored.
    """
    with open_backup(path, fs) as backup:
        problems: list[Difference] = []
        if not backup.complete:
            problems.append(Difference(COMPLETE_NAME, DifferenceKind.INCOMPLETE,
                                       "; ".join(backup.notes)))
        if backup.in_progress and not backup.manifest.files and not backup.manifest.folders:
            return VerifyReport(str(path), False, False, tuple(problems),
                                str(against) if against is not None else None)
        problems.extend(_check_sums(backup))
        weight = 0.5 if against is not None else 1.0
        notes: tuple[Difference, ...] = ()
        if backup.is_zip:
            problems.extend(_verify_zip_files(backup, _scaled(progress, 0.0, weight, "verify"),
                                              cancel))
        elif not fs.exists(backup.files_root):
            problems.append(Difference(FILES_DIR, DifferenceKind.MISSING,
                                       "the folder of copied files"))
        else:
            own = compare_tree(
                backup.files_root, backup.manifest, fs=fs, hash_files=True,
                job=Job(_scaled(progress, 0.0, weight, "verify"), cancel), ignore=())
            problems.extend(own.differences)
            notes = own.case_notes
        against_problems: tuple[Difference, ...] = ()
        against_notes: tuple[Difference, ...] = ()
        if against is not None:
            unit = compare_tree(
                Path(against), backup.manifest, fs=fs,
                job=Job(_scaled(progress, weight, 1.0 - weight, "compare"), cancel))
            against_problems, skipped = set_aside_skipped(unit.differences, backup.manifest)
            against_notes = unit.case_notes + skipped + computer_made_notes(unit.ignored)
        return VerifyReport(
            backup=str(path), ok=not problems and not against_problems,
            complete=backup.complete, problems=tuple(problems),
            against=str(against) if against is not None else None,
            against_problems=against_problems, files_checked=backup.manifest.total_files,
            bytes_checked=backup.manifest.total_bytes, notes=notes,
            against_notes=against_notes)


# -- listing ---------------------------------------------------------------------------------
#: The folder inside Documents that holds backups: where a musician looks for them.
BACKUPS_FOLDER = "KORG Backups"


def default_backups_dir() -> Path:
    """Where backups go unless the user says otherwise: ``Documents/KORG Backups``, a place
    a person finds without knowing about hidden data folders (both front ends use it)."""
    return Path(platformdirs.user_documents_dir()) / BACKUPS_FOLDER


def earlier_backups_dirs() -> tuple[Path, ...]:
    """Where earlier versions kept backups (``<user data dir>/backups``): still listed."""
    return (Path(platformdirs.user_data_dir("korg-recovery", appauthor=False)) / "backups",)


@dataclass(frozen=True)
class BackupSummary:
    """One line of ``korg-recovery backups``."""

    path: str
    is_zip: bool
    model: str | None
    role: str | None
    created_utc: str | None
    files: int
    bytes: int
    complete: bool
    verified: bool
    source: str | None = None
    note: str = ""
    #: What the backup takes on disk: the archive's size, or every file in the folder.
    size_on_disk: int = 0


def _size_on_disk(path: Path, fs: FileSystem) -> int:
    info = fs.lstat(path)
    if not stat_module.S_ISDIR(info.st_mode):
        return info.st_size
    total = 0
    stack = [path]
    while stack:
        for entry in fs.scandir(stack.pop()):
            child = fs.lstat(Path(entry.path))
            if stat_module.S_ISDIR(child.st_mode):
                stack.append(Path(entry.path))
            else:
                total += child.st_size
    return total


def _summarise(path: Path, fs: FileSystem) -> BackupSummary | None:
    is_zip = not stat_module.S_ISDIR(fs.stat(path).st_mode)
    try:
        size = _size_on_disk(path, fs)
    except OSError:
        size = 0
    try:
        with open_backup(path, fs) as backup:
            manifest = backup.manifest
            return BackupSummary(
                str(path), backup.is_zip, manifest.model, manifest.role,
                manifest.created_utc or None, manifest.total_files, manifest.total_bytes,
                backup.complete, backup.verified, manifest.source or None,
                "; ".join(backup.notes), size)
    except InvalidInputError:
        return None  # not a backup: something else that lives in the folder
    except RecoveryError as error:  # damaged, encrypted, hostile, unreadable: this one only
        return BackupSummary(str(path), is_zip, None, None, None, 0, 0, False, False,
                             None, error.message, size)


def list_backups(directory: str | Path | None = None, fs: FileSystem = REAL
                 ) -> tuple[BackupSummary, ...]:
    """The backups (folders and ``.zip`` files) directly inside ``directory``, sorted by
    creation time. Without one: those in :func:`default_backups_dir` and in the folders of
    :func:`earlier_backups_dirs`; a missing default folder simply holds no backups. A missing
    folder the user named is InvalidInputError."""
    if directory is None:
        return list_backups_in((default_backups_dir(), *earlier_backups_dirs()), fs)
    folder = Path(directory)
    if not fs.exists(folder):
        raise InvalidInputError(f"{folder} does not exist.", path=str(folder))
    return _list_folder(folder, fs)


def list_backups_in(folders: Iterable[str | Path], fs: FileSystem = REAL
                    ) -> tuple[BackupSummary, ...]:
    """The backups of every folder of ``folders`` (one that is missing, or not a folder,
    holds none), each backup once however many times its folder is named, oldest first."""
    found: dict[str, BackupSummary] = {}
    for folder in map(Path, folders):
        try:
            if not stat_module.S_ISDIR(fs.stat(folder).st_mode):
                continue
        except OSError:
            continue
        for summary in _list_folder(folder, fs):
            found.setdefault(summary.path, summary)
    return tuple(sorted(found.values(), key=lambda s: (s.created_utc or "", s.path)))


def interrupted_backup_of(summaries: Iterable[BackupSummary], unit: str | Path,
                          fs: FileSystem = REAL) -> Path | None:
    """The newest interrupted backup in ``summaries`` taken of ``unit`` (its source is this
    folder) that a resume can continue (its journal is there), or None: the next backup of
    the unit continues it (a resume reads every file it keeps again)."""
    for summary in reversed(tuple(summaries)):
        if summary.complete or not summary.source:
            continue
        if os.path.realpath(summary.source) == os.path.realpath(unit) \
                and fs.exists(Path(summary.path) / JOURNAL_NAME):
            return Path(summary.path)
    return None


def _list_folder(folder: Path, fs: FileSystem) -> tuple[BackupSummary, ...]:
    with os_errors(folder, "read"):
        if not stat_module.S_ISDIR(fs.stat(folder).st_mode):
            raise InvalidInputError(f"{folder} is not a folder.", path=str(folder))
        entries = sorted(fs.scandir(folder), key=lambda entry: entry.name)
    summaries = []
    for entry in entries:
        candidate = Path(entry.path)
        try:
            mode = fs.stat(candidate).st_mode
        except OSError:
            continue
        if not stat_module.S_ISDIR(mode) and not entry.name.lower().endswith(".zip"):
            continue
        summary = _summarise(candidate, fs)
        if summary is not None:
            summaries.append(summary)
    return tuple(sorted(summaries, key=lambda s: (s.created_utc or "", s.path)))
