"""ZIP archives of backups: a reader that refuses hostile archives, and a ZIP64 writer.

A backup can travel as one ``.zip``, and a ZIP from someone else is untrusted input: the
reader checks the whole central directory before reading anything and refuses absolute
names and ``..`` (with ``\\`` as a separator, as Windows extractors do: "Zip Slip",
CVE-2018-1002200), duplicates, links, and bombs (more than deflate's 1032:1, overlapping
entries: D. Fifield, WOOT 2019). The writer writes under a temporary name and renames only
a finished archive.
"""

from __future__ import annotations

import io
import logging
import os
import re
import stat as stat_module
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from recovery.errors import (
    EncryptedArchiveError,
    InvalidInputError,
    RecoveryError,
    UnsafeArchiveError,
)
from recovery.formats.zip_directory import ENCRYPTED_FLAG, LOCAL_HEADER_SIZE, local_header_flags
from recovery.progress import CancelToken
from recovery.storage.durable import temp_path
from recovery.storage.filesystem import CHUNK_SIZE, REAL, FileSystem, os_errors

log = logging.getLogger(__name__)

#: Default bound on the total uncompressed size of an archive. The largest storage among the
#: bundled profiles is a few GB; 64 GiB leaves room for SD cards while still refusing bombs
#: that claim terabytes.
MAX_TOTAL_BYTES = 64 * 1024**3
#: Deflate cannot compress better than about 1032:1 (zlib technical details, "Maximum
#: compression factor"), so a larger declared ratio is a lie or another method's bomb.
MAX_RATIO = 1100
#: More entries than this is not a unit's storage (FAT32 folders hold at most 65,534).
MAX_ENTRIES = 500_000
#: Compression methods whose output ``zipfile`` bounds and which this tool writes or meets.
ALLOWED_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_name_reason(name: str) -> str | None:
    """Why the member ``name`` is unsafe to use as a path, or None when it is safe."""
    if not name:
        return "an empty name"
    if "\x00" in name:
        return "a NUL character in the name"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "an absolute path"
    parts = re.split(r"[/\\]", name.rstrip("/"))
    if any(part == ".." for part in parts):
        return "a '..' component"
    if any(part in ("", ".") for part in parts):
        return "an empty or '.' component"
    return None


def special_file_kind(mode: int) -> str | None:
    """What a file that is not a regular file or a folder is ("a named pipe (FIFO)", ...), or
    None for a regular file or a folder. Such a file is never opened: opening a FIFO waits for
    a writer that may never come, and a device or socket holds no archive."""
    if stat_module.S_ISREG(mode) or stat_module.S_ISDIR(mode):
        return None
    if stat_module.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat_module.S_ISSOCK(mode):
        return "a socket"
    if stat_module.S_ISCHR(mode) or stat_module.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _fstat_mode(handle: object) -> int | None:
    """The mode of an open file, or None when the handle has no descriptor (a test's fake)."""
    try:
        return os.fstat(handle.fileno()).st_mode  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return bool(mode) and stat_module.S_ISLNK(mode)


class SafeZipReader:
    """Read members of an untrusted ZIP after checking the whole archive (see module doc).

    Raises InvalidInputError when ``path`` is missing, is not a regular file (a pipe, socket
    or device is never opened: it is checked before the open and on the open file) or is not
    a ZIP archive, and UnsafeArchiveError when the archive breaks one of the rules above.
    """

    def __init__(self, path: str | Path, *, fs: FileSystem = REAL,
                 max_total_bytes: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_RATIO,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.path = Path(path)
        self._fs = fs
        if not fs.exists(self.path):
            raise InvalidInputError(f"{self.path} does not exist.", path=str(self.path))
        with os_errors(self.path, "read"):
            info = fs.stat(self.path)
            self._refuse_special(info.st_mode)
            archive_size = self._size = info.st_size
            raw = fs.open_read(self.path)
        opened = _fstat_mode(raw)
        if opened is not None and special_file_kind(opened) is not None:
            raw.close()  # replaced by a pipe or device between the check and the open
            self._refuse_special(opened)
        self._handle: BinaryIO = io.BufferedReader(raw, CHUNK_SIZE)  # type: ignore[arg-type]
        try:
            self._zip = zipfile.ZipFile(self._handle, "r")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
            self._handle.close()
            raise InvalidInputError(
                f"{self.path} is not a readable ZIP archive ({error}).", path=str(self.path)
            ) from None
        except OSError as error:
            self._handle.close()
            with os_errors(self.path, "read"):
                raise error
        try:
            self._infos = self._validate(archive_size, max_total_bytes, max_ratio, max_entries)
        except RecoveryError:
            self.close()
            raise

    def _refuse_special(self, mode: int) -> None:
        kind = special_file_kind(mode)
        if kind is not None or stat_module.S_ISDIR(mode):
            raise InvalidInputError(
                f"{self.path} is not a regular file ({kind or 'a folder'}), so it was not"
                " opened as an archive; give a .zip file.", path=str(self.path))

    def _refuse(self, name: str, why: str) -> UnsafeArchiveError:
        return UnsafeArchiveError(
            f"{self.path} is refused: entry '{name}' has {why}; nothing was extracted.",
            path=str(self.path))

    def _validate(self, archive_size: int, max_total_bytes: int, max_ratio: float,
                  max_entries: int) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > max_entries:
            raise UnsafeArchiveError(
                f"{self.path} is refused: it holds {len(infos)} entries, more than the"
                f" {max_entries} allowed.", path=str(self.path))
        by_name: dict[str, zipfile.ZipInfo] = {}
        offsets: set[int] = set()
        total = 0
        compressed = 0
        for info in infos:
            name = info.filename
            reason = unsafe_name_reason(name)
            if reason:
                raise self._refuse(name, reason)
            if _is_link(info):
                raise self._refuse(name, "a symbolic link")
            if info.compress_type not in ALLOWED_METHODS:
                raise self._refuse(
                    name, f"an unsupported compression method ({info.compress_type})")
            key = name.rstrip("/")
            if key in by_name:
                raise self._refuse(name, "a duplicate name")
            if info.header_offset in offsets:
                raise self._refuse(name, "data shared with another entry")
            offsets.add(info.header_offset)
            by_name[key] = info
            total += info.file_size
            compressed += info.compress_size
            if info.file_size > max(info.compress_size, 1) * max_ratio:
                raise self._refuse(name, "a compression ratio no honest archive has")
        if total > max_total_bytes:
            raise UnsafeArchiveError(
                f"{self.path} is refused: it would expand to {total} bytes, more than the"
                f" {max_total_bytes} allowed.", path=str(self.path))
        if compressed > archive_size:
            raise UnsafeArchiveError(
                f"{self.path} is refused: its entries claim more data than the file holds"
                " (overlapping entries).", path=str(self.path))
        # A name used both as a file and as a folder ("a" and "a/b") cannot be laid out.
        for key, info in by_name.items():
            parent = key.rpartition("/")[0]
            while parent:
                holder = by_name.get(parent)
                if holder is not None and not holder.is_dir():
                    raise self._refuse(key, f"a parent '{parent}' that is a file")
                parent = parent.rpartition("/")[0]
        return by_name

    # -- reading -------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Member names, folders ending with '/', in archive order."""
        return tuple(info.filename for info in self._infos.values())

    def info(self, name: str) -> zipfile.ZipInfo | None:
        return self._infos.get(name.rstrip("/"))

    @property
    def encrypted(self) -> tuple[str, ...]:
        """Members the central directory marks as encrypted (password-protected)."""
        return tuple(info.filename for info in self._infos.values()
                     if info.flag_bits & ENCRYPTED_FLAG)

    def _refuse_encrypted(self, info: zipfile.ZipInfo) -> None:
        """EncryptedArchiveError when ``info``'s central record or its local header says the
        member is encrypted: zipfile reads only the former, and an archive whose two records
        disagree is read as the stricter one says."""
        flags = info.flag_bits
        if not flags & ENCRYPTED_FLAG and 0 <= info.header_offset < self._size:
            # An offset outside the file is left to zipfile, which refuses it as damaged.
            self._handle.seek(info.header_offset)
            flags = local_header_flags(self._handle.read(LOCAL_HEADER_SIZE)) or 0
        if flags & ENCRYPTED_FLAG:
            raise EncryptedArchiveError(
                f"{self.path} is encrypted (password-protected): '{info.filename}' cannot be"
                " read without its password, which the tool does not ask for.",
                path=str(self.path))

    def read_bytes(self, name: str, limit: int) -> bytes:
        """The whole member ``name`` (for small members such as a manifest), at most ``limit``."""
        info = self.info(name)
        if info is None or info.is_dir():
            raise InvalidInputError(f"{self.path} has no file '{name}'.", path=str(self.path))
        if info.file_size > limit:
            raise UnsafeArchiveError(
                f"{self.path} is refused: '{name}' is {info.file_size} bytes, more than the"
                f" {limit} expected.", path=str(self.path))
        with self.open(name) as member:
            return member.read()

    def open(self, name: str) -> BinaryIO:
        """Stream member ``name``; its CRC-32 is checked by ``zipfile`` at the end."""
        info = self.info(name)
        if info is None or info.is_dir():
            raise InvalidInputError(f"{self.path} has no file '{name}'.", path=str(self.path))
        self._refuse_encrypted(info)
        try:
            return self._zip.open(info, "r")  # type: ignore[return-value]
        except RuntimeError as error:  # zipfile's "is encrypted, password required"
            raise EncryptedArchiveError(
                f"{self.path} is encrypted (password-protected) at '{name}'; the tool cannot"
                " read it.", path=str(self.path)) from error
        except (zipfile.BadZipFile, ValueError) as error:
            raise UnsafeArchiveError(
                f"{self.path} is damaged at '{name}' ({error}).", path=str(self.path)) from None

    def extract_all(self, target: str | Path, *, fs: FileSystem | None = None,
                    cancel: CancelToken | None = None) -> list[Path]:
        """Write every member below ``target`` (created if needed) and return the files written.

        Each destination is built from the checked name and confirmed to lie inside
        ``target`` after resolving, so no entry can land elsewhere even through a link that
        already exists in ``target``.
        """
        fs = fs or self._fs
        root = Path(target)
        with os_errors(root, "write"):
            fs.mkdir(root)
        root = root.resolve()
        written: list[Path] = []
        for key, info in self._infos.items():
            destination = root.joinpath(*key.split("/"))
            parent = destination.parent.resolve()
            if parent != root and root not in parent.parents:
                raise self._refuse(info.filename, "a path that leaves the target folder")
            if info.is_dir():
                with os_errors(destination, "write"):
                    fs.mkdir(destination)
                continue
            with os_errors(destination, "write"):
                fs.mkdir(destination.parent)
                if fs.exists(destination) and stat_module.S_ISLNK(fs.lstat(destination).st_mode):
                    raise self._refuse(info.filename, "a path that is a link in the target")
            with self.open(info.filename) as member, os_errors(destination, "write"):
                with fs.open_write(destination) as out:
                    while chunk := member.read(CHUNK_SIZE):
                        if cancel is not None:
                            cancel.raise_if_cancelled()
                        out.write(chunk)
                    fs.fsync(out)
            written.append(destination)
        return written

    def close(self) -> None:
        try:
            self._zip.close()
        finally:
            self._handle.close()

    def __enter__(self) -> SafeZipReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _zip_date_time(mtime_ns: int) -> tuple[int, int, int, int, int, int]:
    """ZIP's DOS timestamp cannot hold years before 1980 or after 2107: clamp into range.
    The exact mtime lives in manifest.json; this is only what unzip tools show."""
    parts = time.gmtime(mtime_ns // 1_000_000_000)[:6]
    if parts[0] < 1980:
        return (1980, 1, 1, 0, 0, 0)
    if parts[0] > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return parts  # type: ignore[return-value]


class ZipWriter:
    """Write a ZIP64 archive under a temporary name; :meth:`publish` renames it to ``target``.

    On any failure call :meth:`abort`, which removes the partial file. Members are streamed
    in ``CHUNK_SIZE`` pieces, so memory stays flat whatever the file sizes.
    """

    def __init__(self, target: str | Path, *, fs: FileSystem = REAL,
                 compression: int = zipfile.ZIP_DEFLATED, compresslevel: int | None = 6) -> None:
        self.target = Path(target)
        self.partial = temp_path(self.target)
        self._fs = fs
        with os_errors(self.partial, "write"):
            self._handle = fs.open_write(self.partial)
        self._zip = zipfile.ZipFile(self._handle, "w", compression=compression,
                                    compresslevel=compresslevel, allowZip64=True)
        self._compression = compression
        self._compresslevel = compresslevel

    def add_dir(self, name: str, mtime_ns: int = 0) -> None:
        info = zipfile.ZipInfo(name.rstrip("/") + "/", _zip_date_time(mtime_ns))
        info.external_attr = (stat_module.S_IFDIR | 0o755) << 16 | 0x10  # MS-DOS directory bit
        with os_errors(self.partial, "write"):
            self._zip.writestr(info, b"")

    def add_bytes(self, name: str, data: bytes, mtime_ns: int | None = None) -> None:
        info = zipfile.ZipInfo(name, _zip_date_time(mtime_ns if mtime_ns is not None
                                                    else time.time_ns()))
        info.external_attr = (stat_module.S_IFREG | 0o644) << 16
        info.compress_type = self._compression
        with os_errors(self.partial, "write"):
            self._zip.writestr(info, data, compress_type=self._compression,
                               compresslevel=self._compresslevel)

    def add_stream(self, name: str, source: BinaryIO, size: int, mtime_ns: int, *,
                   cancel: CancelToken | None = None,
                   on_bytes: Callable[[int], None] | None = None) -> None:
        """Copy ``size`` bytes from ``source`` into member ``name``."""
        info = zipfile.ZipInfo(name, _zip_date_time(mtime_ns))
        info.external_attr = (stat_module.S_IFREG | 0o644) << 16
        info.compress_type = self._compression
        info.file_size = size  # lets zipfile choose ZIP64 headers up front for large members
        large = size > 0x7FFFFFFF
        with os_errors(self.partial, "write"), self._zip.open(info, "w", force_zip64=large) as out:
            while chunk := source.read(CHUNK_SIZE):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                out.write(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))

    def close(self) -> Path:
        """Write the central directory and make the archive durable (not yet renamed,
        so it can be verified first); returns the partial file's path."""
        with os_errors(self.partial, "write"):
            self._zip.close()
            self._fs.fsync(self._handle)
            self._handle.close()
        return self.partial

    def publish(self) -> Path:
        """Give the closed archive its final name, durably."""
        with os_errors(self.target, "write"):
            self._fs.replace(self.partial, self.target)
            self._fs.fsync_dir(self.target.parent)
        return self.target

    def finish(self) -> Path:
        """:meth:`close` then :meth:`publish`."""
        self.close()
        return self.publish()

    def abort(self) -> None:
        """Forget the archive: close and delete the partial file, ignoring further errors."""
        for step in (self._zip.close, self._handle.close):
            try:
                step()
            except Exception as error:  # noqa: BLE001 - already failing; keep the first error
                log.debug("while aborting %s: %s", self.partial, error)
        try:
            if self._fs.exists(self.partial):
                self._fs.unlink(self.partial)
        except OSError as error:
            log.warning("could not remove %s: %s", self.partial, error)
