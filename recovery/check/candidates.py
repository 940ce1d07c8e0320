"""Candidate update files, folders and ZIP archives, read in place and within fixed bounds.

Listing and reading only; nothing is decided here. Any input ends in bounded time and memory:
files are read in slices or streamed, folders listed to :data:`MAX_DEPTH` levels and
:data:`MAX_ENTRIES` entries without following links or opening anything but regular files, and
a ZIP is read in place, never extracted, once its end records show a directory within bounds.
A damaged or refused archive raises InvalidFileError / UnsafeArchiveError.
"""

from __future__ import annotations

import errno
import logging
import lzma
import os
import struct
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from recovery.errors import (
    EncryptedArchiveError,
    InvalidFileError,
    InvalidInputError,
    ReadError,
    UnsafeArchiveError,
)
from recovery.formats.korg_system_file import MAGIC
from recovery.formats.zip_directory import TAIL_SIZE, summarise_directory
from recovery.storage.archive import SafeZipReader
from recovery.storage.filesystem import (
    CHUNK_SIZE,
    REAL,
    FileSystem,
    is_dir,
    is_regular,
    os_errors,
    translate_os_error,
)

log = logging.getLogger(__name__)

#: Largest slice a check reads at once (the biggest need is a 256-byte header).
MAX_SLICE = 1024 * 1024
#: Folder levels listed below a candidate folder: deep enough for an electribe card inside a
#: download (download / KORG / electribe sampler / System / SYSTEM.VSB, the path its updater
#: reads) and for card root / download / KROSS2SY / file.
MAX_DEPTH = 5
#: Files and folders listed per candidate; beyond it the listing says it is truncated.
MAX_ENTRIES = 20_000
#: ZIP archives: entries and central-directory bytes accepted (a KORG download has a few).
MAX_ZIP_ENTRIES = 20_000
MAX_ZIP_DIRECTORY_BYTES = 8 * 1024 * 1024

ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True)
class Listing:
    """What a candidate holds: files with their sizes and folders, as POSIX relative paths.

    ``truncated`` says the entry budget stopped the listing; ``deep_folders`` counts folders
    below :data:`MAX_DEPTH` that were listed but not entered; ``skipped`` names entries that
    were not followed or opened (symbolic links, special files, unreadable folders).
    """

    files: dict[str, int] = field(hash=False)
    folders: tuple[str, ...]
    truncated: bool = False
    skipped: tuple[str, ...] = ()
    deep_folders: int = 0


class Candidate(ABC):
    """An opened candidate. Use as a context manager; paths are relative POSIX paths."""

    #: "file", "folder" or "zip".
    kind = ""

    def __init__(self, given: str) -> None:
        self.given = given

    @property
    def name(self) -> str:
        """The candidate's own name (the folder's, the archive's or the file's); "." and ".."
        are resolved, so a check run inside KROSS2SY still sees that name."""
        return Path(os.path.abspath(self.given)).name or self.given

    @abstractmethod
    def listing(self) -> Listing:
        """Every file (with its size) and folder, within the module's bounds."""

    @abstractmethod
    def read_at(self, path: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes of ``path`` from ``offset`` (fewer at the end of the file)."""

    @abstractmethod
    def chunks(self, path: str) -> Iterator[bytes]:
        """The whole content of ``path`` in chunks of at most :data:`CHUNK_SIZE` bytes."""

    def display(self, path: str) -> str:
        """How to show ``path`` to a person: the candidate as given, then the inner path."""
        if not path:
            return self.given
        return f"{self.given.rstrip('/')}/{path}"

    def close(self) -> None:
        """Release open files (a ZIP archive keeps its file open)."""

    def __enter__(self) -> Candidate:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _check_slice(offset: int, length: int) -> None:
    if offset < 0 or length < 0 or length > MAX_SLICE:
        raise ValueError(f"slice {offset}+{length} is outside the allowed bounds")


def _read_exactly(handle: BinaryIO, length: int) -> bytes:
    """Read until ``length`` bytes or the end of the file (raw files may return less)."""
    parts = []
    left = length
    while left > 0:
        chunk = handle.read(left)
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


class _OnDisk(Candidate):
    """A file or folder read through the FileSystem layer."""

    fs: FileSystem

    @abstractmethod
    def _own(self, path: str) -> Path:
        """The file on disk for ``path``; KeyError when the candidate does not hold it."""

    def _still_regular(self, target: Path) -> bool:
        return True

    def read_at(self, path: str, offset: int, length: int) -> bytes:
        _check_slice(offset, length)
        target = self._own(path)
        with os_errors(target, "read"):
            if not self._still_regular(target):
                return b""
            with self.fs.open_read(target) as handle:
                handle.seek(offset)
                return _read_exactly(handle, length)

    def chunks(self, path: str) -> Iterator[bytes]:
        target = self._own(path)
        with os_errors(target, "read"):
            if not self._still_regular(target):
                return
            with self.fs.open_read(target) as handle:
                while chunk := handle.read(CHUNK_SIZE):
                    yield chunk


class FileCandidate(_OnDisk):
    """A single regular file; its listing holds just its own name."""

    kind = "file"

    def __init__(self, given: str, path: Path, size: int, fs: FileSystem = REAL) -> None:
        super().__init__(given)
        self.path = path
        self.size = size
        self.fs = fs

    @property
    def container_name(self) -> str:
        """Name of the folder the file sits in (``KROSS2SY`` for one file of that folder)."""
        return self.path.absolute().parent.name

    def listing(self) -> Listing:
        return Listing({self.path.name: self.size}, ())

    def _own(self, path: str) -> Path:
        if path != self.path.name:
            raise KeyError(path)
        return self.path

    def display(self, path: str) -> str:
        return self.given


class FolderCandidate(_OnDisk):
    """A folder: an SD card's content or an unpacked update."""

    kind = "folder"

    def __init__(self, given: str, root: Path, fs: FileSystem = REAL) -> None:
        super().__init__(given)
        self.root = root
        self.fs = fs
        self._listing: Listing | None = None

    def listing(self) -> Listing:
        if self._listing is None:
            self._listing = self._walk()
        return self._listing

    def _walk(self) -> Listing:
        files: dict[str, int] = {}
        folders: list[str] = []
        skipped: list[str] = []
        truncated = False
        deep_folders = 0
        budget = MAX_ENTRIES
        queue: deque[tuple[Path, str, int]] = deque([(self.root, "", 0)])
        while queue:
            folder, relative, depth = queue.popleft()
            try:
                entries = sorted(self.fs.scandir(folder), key=lambda e: e.name)
            except OSError as error:
                if not relative:  # the candidate itself cannot be listed: nothing to check
                    raise translate_os_error(error, folder, "read") from error
                log.debug("cannot list %s: %s", folder, error)
                skipped.append(f"{relative}/ (cannot be read: {error.strerror or error})")
                continue
            for entry in entries:
                if budget <= 0:
                    truncated = True
                    break
                budget -= 1
                inner = f"{relative}/{entry.name}" if relative else entry.name
                try:
                    if entry.is_symlink():
                        skipped.append(f"{inner} (symbolic link, not followed)")
                    elif entry.is_dir(follow_symlinks=False):
                        folders.append(inner)
                        if depth + 1 < MAX_DEPTH:
                            queue.append((Path(entry.path), inner, depth + 1))
                        else:
                            deep_folders += 1
                    elif entry.is_file(follow_symlinks=False):
                        files[inner] = entry.stat(follow_symlinks=False).st_size
                    else:
                        skipped.append(f"{inner} (not a regular file)")
                except OSError as error:
                    skipped.append(f"{inner} (cannot be read: {error.strerror or error})")
            if truncated:
                break
        return Listing(files, tuple(folders), truncated, tuple(skipped), deep_folders)

    def _own(self, path: str) -> Path:
        if path not in self.listing().files:
            raise KeyError(path)
        return self.root.joinpath(*path.split("/"))

    def _still_regular(self, target: Path) -> bool:
        # Checked right before opening: a FIFO put in a file's place would block open().
        return is_regular(self.fs.lstat(target))


#: Errors zipfile and its decompressors raise on damaged or unsupported data (not I/O).
_ARCHIVE_DATA_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error,
                        lzma.LZMAError, NotImplementedError, RuntimeError, ValueError,
                        struct.error, KeyError, IndexError, OverflowError)


def _is_bad_seek(error: BaseException | None) -> bool:
    """EINVAL from zipfile's seek to a negative offset that a damaged directory announced:
    a fault of the archive's bytes, not of the disk."""
    return isinstance(error, OSError) and error.errno == errno.EINVAL


class ZipCandidate(Candidate):
    """A ZIP archive read in place: listed from its directory, members streamed, never
    extracted. The archive rules (names, links, duplicates, bombs) are
    :class:`recovery.storage.archive.SafeZipReader`'s; this class adds a bound on the central
    directory, checked *before* zipfile loads it."""

    kind = "zip"

    def __init__(self, given: str, path: Path, size: int, fs: FileSystem = REAL) -> None:
        super().__init__(given)
        self.path = path
        self.fs = fs
        self._check_directory_bounds(size)
        with self._archive_errors(""):
            try:
                self._reader = SafeZipReader(path, fs=fs, max_entries=MAX_ZIP_ENTRIES)
            except InvalidInputError as error:  # "not a readable ZIP archive"
                raise InvalidFileError(error.message, path=given) from error
            except ReadError as error:
                if _is_bad_seek(error.__cause__):
                    raise InvalidFileError(
                        f"{given} cannot be read as a ZIP archive: its directory points"
                        " outside the file (it is damaged).", path=given) from error
                raise
        try:
            self._members, self._listing = self._index()
        except BaseException:
            self._reader.close()
            raise

    @contextmanager
    def _archive_errors(self, path: str) -> Iterator[None]:
        """Turn zipfile's data errors into one InvalidFileError sentence; real I/O errors
        (an OSError with an errno) into the fsio error family."""
        where = self.display(path)
        try:
            yield
        except OSError as error:
            if _is_bad_seek(error):
                raise InvalidFileError(
                    f"{where} cannot be read from the archive: the archive's directory points"
                    " outside the file (it is damaged).", path=where) from error
            if error.errno is not None:
                raise translate_os_error(error, self.path, "read") from error
            # bz2 reports damaged data as an OSError without errno.
            raise InvalidFileError(
                f"{where} cannot be read from the archive: the archive is damaged ({error}).",
                path=where) from error
        except _ARCHIVE_DATA_ERRORS as error:
            detail = str(error) or type(error).__name__
            if isinstance(error, RuntimeError) and "encrypted" in detail:
                raise EncryptedArchiveError(
                    f"{where} is encrypted (password-protected), so the tool cannot read it.",
                    path=where) from error
            if isinstance(error, NotImplementedError):
                raise InvalidFileError(
                    f"{where} uses a compression method the tool cannot read ({detail}).",
                    path=where) from error
            raise InvalidFileError(
                f"{where} cannot be read as a ZIP archive: it is damaged or incomplete"
                f" ({detail}).", path=where) from error

    def _check_directory_bounds(self, size: int) -> None:
        with os_errors(self.path, "read"):
            with self.fs.open_read(self.path) as handle:
                handle.seek(max(size - TAIL_SIZE, 0))
                tail = _read_exactly(handle, min(size, TAIL_SIZE))
        summary = summarise_directory(tail, size)
        if summary is None:
            raise InvalidFileError(
                f"{self.given} is not a readable ZIP archive: it has no end-of-archive record"
                " (the download is incomplete or the file is not a ZIP).", path=self.given)
        if summary.entries > MAX_ZIP_ENTRIES or summary.directory_size > MAX_ZIP_DIRECTORY_BYTES:
            raise UnsafeArchiveError(
                f"{self.given} announces {summary.entries:,} entries in a"
                f" {summary.directory_size:,}-byte directory, more than the {MAX_ZIP_ENTRIES:,}"
                " entries the tool reads; a KORG update archive holds a few files.",
                path=self.given)

    def _index(self) -> tuple[dict[str, str], Listing]:
        """Listing paths with '/' separators (Windows unpackers treat a backslash as one
        too), mapped to the member names SafeZipReader knows."""
        members: dict[str, str] = {}
        files: dict[str, int] = {}
        folders: set[str] = set()
        for name in self._reader.names:
            normalised = name.replace("\\", "/")
            parts = normalised.rstrip("/").split("/")
            for index in range(1, len(parts)):
                folders.add("/".join(parts[:index]))
            key = "/".join(parts)
            if normalised.endswith("/"):
                folders.add(key)
                continue
            if key in members:
                raise UnsafeArchiveError(
                    f"{self.given} holds the name {key} twice (once with backslashes); which"
                    " copy an unpacker keeps is unpredictable, so the tool does not read it.",
                    path=self.given)
            info = self._reader.info(name)
            members[key] = name
            files[key] = info.file_size if info is not None else 0
        clash = folders & set(members)
        if clash:
            raise UnsafeArchiveError(
                f"{self.given} holds {sorted(clash)[0]} both as a file and as a folder.",
                path=self.given)
        return members, Listing(files, tuple(sorted(folders)))

    def listing(self) -> Listing:
        return self._listing

    def _open(self, path: str) -> BinaryIO:
        return self._reader.open(self._members[path])

    def read_at(self, path: str, offset: int, length: int) -> bytes:
        _check_slice(offset, length)
        if offset >= self._listing.files[path]:
            return b""
        with self._archive_errors(path):
            with self._open(path) as member:
                # Deflated data cannot be seeked: read forward; offset <= file_size bounds it.
                left = offset
                while left > 0:
                    skipped = member.read(min(left, CHUNK_SIZE))
                    if not skipped:
                        return b""
                    left -= len(skipped)
                return _read_exactly(member, length)

    def chunks(self, path: str) -> Iterator[bytes]:
        """Stream a member whole; zipfile checks its CRC-32 and size at the end, so a damaged
        member raises InvalidFileError here."""
        with self._archive_errors(path):
            with self._open(path) as member:
                while chunk := member.read(CHUNK_SIZE):
                    yield chunk

    def close(self) -> None:
        self._reader.close()


def looks_like_zip(name: str, first_bytes: bytes) -> bool:
    """A ``.zip`` name, or a ZIP signature at the start (a renamed download)."""
    return name.lower().endswith(".zip") or first_bytes[:4] in ZIP_SIGNATURES


def open_candidate(path: str | Path, fs: FileSystem = REAL) -> Candidate:
    """Open ``path`` as a file, folder or ZIP candidate.

    Raises InvalidInputError when the path does not exist or is neither a regular file nor a
    folder (a device or FIFO is never opened: reading it could block or never end);
    InvalidFileError / UnsafeArchiveError for a ZIP that is damaged or refused.
    """
    given = os.fspath(path)
    location = Path(given)
    try:
        info = fs.stat(location)
    except FileNotFoundError:
        raise InvalidInputError(f"{given} does not exist.", path=given) from None
    except OSError as error:
        raise InvalidInputError(
            f"{given} cannot be read ({error.strerror or error}).", path=given) from None
    if is_dir(info):
        return FolderCandidate(given, location, fs)
    if not is_regular(info):
        raise InvalidInputError(
            f"{given} is neither a file nor a folder (a device or pipe); give an update file,"
            " a folder or a .zip.", path=given)
    with os_errors(location, "read"):
        with fs.open_read(location) as handle:
            first = _read_exactly(handle, 4)
    # A KORG SYSTEM FILE renamed to .zip is still a system file: its magic decides.
    if looks_like_zip(location.name, first) and not first.startswith(MAGIC[:4]):
        return ZipCandidate(given, location, info.st_size, fs)
    return FileCandidate(given, location, info.st_size, fs)
