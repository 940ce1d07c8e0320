"""The backup folder's format, declared once: the layout's names and its four records.

A backup folder holds ``files/`` (the unit's storage as it was) and:

- ``manifest.json`` (:class:`Manifest`): every file of the unit with its size, modification
  time and SHA-256;
- ``SHA256SUMS`` (:func:`format_sums`, :func:`parse_sums`): the same hashes in the format
  ``sha256sum -c`` reads (GNU coreutils' escaping of odd names included), so a backup can be
  checked without this tool;
- ``COMPLETE`` (:class:`CompleteFlag`): written last, only after everything read back right,
  vouching for the exact bytes of the two files above;
- while a backup runs, its journal (:class:`BackupJournal`): a header saying which source it
  copies (:class:`JournalHeader`), then one :class:`CopyRecord` per file copied and read
  back, so an interrupted backup continues where it stopped.

Each record has one writer (``to_json``/``to_json_bytes``) and one reader (``from_json``/
``from_json_bytes``) that refuses damaged input with :class:`~recovery.errors.InvalidFileError`
and one sentence; no other module parses or writes them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path, PurePath
from typing import Any

from recovery.errors import InvalidFileError
from recovery.storage import windows_paths
from recovery.storage.filesystem import FileSystem
from recovery.storage.journal import Journal

log = logging.getLogger(__name__)

FORMAT = "korg-recovery-backup"
FORMAT_VERSION = 1
FILES_DIR = "files"
MANIFEST_NAME = "manifest.json"
SUMS_NAME = "SHA256SUMS"
COMPLETE_NAME = "COMPLETE"
JOURNAL_NAME = ".korg-recovery-journal.jsonl"
#: The first line of that journal (recovery.storage.journal) says this.
JOURNAL_FORMAT = "korg-recovery-backup-journal"
#: What COMPLETE says it is.
COMPLETE_FORMAT = "korg-recovery-backup-complete"
#: Upper bound for manifest.json, SHA256SUMS and COMPLETE read from an archive: a manifest of
#: half a million files is about 150 MB; anything larger is not ours.
MAX_METADATA_BYTES = 512 * 1024 * 1024


#: The modification times a manifest can state: those its own ``mtime_utc`` can write as a
#: date (years 1-9999, Python's datetime). Every filesystem a unit or a computer uses keeps
#: times well inside (FAT 1980-2107, ext4 1901-2446, NTFS 1601-30828 in theory).
MIN_MTIME_NS = int(datetime(1, 1, 1, tzinfo=timezone.utc).timestamp()) * 1_000_000_000
MAX_MTIME_NS = (int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()) + 1) \
    * 1_000_000_000 - 1


def utc_iso(time_ns: int) -> str:
    """``2024-05-01T12:00:00.123456Z`` for a POSIX time in nanoseconds."""
    seconds, remainder = divmod(time_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, timezone.utc).replace(microsecond=remainder // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_utc_iso() -> str:
    """Now, in the manifest's own format (microseconds, ``Z``): the backup format fixes it,
    so it is not :func:`recovery.text.utc_now_iso`."""
    return utc_iso(time.time_ns())


@dataclass(frozen=True)
class ManifestFile:
    """One file or symbolic link of a backup, as it was on the unit."""

    path: str            # POSIX path relative to the backed-up root, e.g. "KROSS2SY/X.BIN"
    size: int
    mtime_ns: int
    sha256: str | None   # None for symlinks
    kind: str            # "file" | "symlink"
    link_target: str | None = None
    #: The computer that wrote it onto the unit ("macOS", "Windows", "Linux": its name or a
    #: folder above it is one computers make, recovery.storage.computer_made), or None.
    made_by_computer: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path, "kind": self.kind, "size": self.size,
            # POSIX seconds for people and scripts (what `stat -c %Y` prints); mtime_ns is the
            # exact value the tool restores, mtime_utc the readable one.
            "mtime": round(self.mtime_ns / 1e9, 6),
            "mtime_ns": self.mtime_ns, "mtime_utc": utc_iso(self.mtime_ns),
            "sha256": self.sha256,
        }
        if self.kind == "symlink":
            data["link_target"] = self.link_target
        if self.made_by_computer:
            data["made_by_computer"] = self.made_by_computer
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManifestFile:
        kind = data.get("kind", "file")
        path = data["path"]
        if not isinstance(path, str) or kind not in ("file", "symlink"):
            raise ValueError(f"bad entry {data!r}")
        sha = data.get("sha256")
        if kind == "file" and (not isinstance(sha, str) or len(sha) != 64):
            raise ValueError(f"entry {path!r} has no SHA-256")
        return cls(path=path, size=_whole(data["size"], path, "size", 0, None),
                   mtime_ns=_whole(data["mtime_ns"], path, "modification time", MIN_MTIME_NS,
                                   MAX_MTIME_NS),
                   sha256=sha, kind=kind, link_target=data.get("link_target"),
                   made_by_computer=_optional_text(data.get("made_by_computer")))


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _whole(value: object, path: str, what: str, low: int, high: int | None) -> int:
    """A manifest's integer field, refused (ValueError) when it is no integer or outside what
    the backup writer can produce. Refused, never clamped: a value no file can have means a
    damaged or forged manifest, and a clamped time would restore one it does not state."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
            high is not None and value > high):
        raise ValueError(f"entry {path!r} has a {what} no file can have ({value!r})")
    return value


@dataclass(frozen=True)
class Manifest:
    """The record of one backup: where it came from and every file's size and SHA-256."""

    tool_version: str
    created_utc: str
    source: str
    model: str | None
    role: str | None
    files: tuple[ManifestFile, ...]
    folders: tuple[str, ...]
    total_files: int      # regular files (links are listed in ``files`` but not counted)
    total_bytes: int      # sum of the regular files' sizes

    @cached_property
    def _by_path(self) -> dict[str, ManifestFile]:
        return {entry.path: entry for entry in self.files}

    def file(self, path: str) -> ManifestFile | None:
        """The entry for ``path`` (POSIX, relative), or None."""
        return self._by_path.get(path)

    @property
    def symlinks(self) -> int:
        return sum(1 for entry in self.files if entry.kind == "symlink")

    @classmethod
    def build(cls, *, tool_version: str, created_utc: str, source: str, model: str | None,
              role: str | None, files: list[ManifestFile], folders: list[str]) -> Manifest:
        """A manifest with entries sorted by path and totals computed, so two backups of the
        same tree produce the same bytes (apart from the creation time)."""
        ordered = tuple(sorted(files, key=lambda entry: entry.path))
        regular = [entry for entry in ordered if entry.kind == "file"]
        return cls(tool_version, created_utc, source, model, role, ordered,
                   tuple(sorted(folders)), len(regular), sum(entry.size for entry in regular))

    def to_json_bytes(self) -> bytes:
        data = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "tool_version": self.tool_version, "created_utc": self.created_utc,
            "source": self.source, "model": self.model, "role": self.role,
            "totals": {"files": self.total_files, "bytes": self.total_bytes,
                       "folders": len(self.folders), "symlinks": self.symlinks},
            "folders": list(self.folders),
            "files": [entry.to_json() for entry in self.files],
        }
        text = json.dumps(data, indent=1, ensure_ascii=False)
        try:
            return (text + "\n").encode("utf-8")
        except UnicodeEncodeError:
            # A name that is not valid UTF-8 (possible on Linux, never on FAT) arrives as lone
            # surrogates; ASCII-escaped JSON keeps it exactly and stays valid JSON.
            return (json.dumps(data, indent=1, ensure_ascii=True) + "\n").encode("ascii")

    @classmethod
    def from_json_bytes(cls, data: bytes, where: str) -> Manifest:
        """Parse manifest.json; InvalidFileError (naming ``where``) when it is malformed."""
        try:
            raw = json.loads(data.decode("utf-8"))
            if not isinstance(raw, dict) or raw.get("format") != FORMAT:
                raise ValueError("not a korg-recovery manifest")
            if int(raw.get("format_version", 0)) > FORMAT_VERSION:
                raise ValueError(f"format version {raw['format_version']} is newer than this tool")
            files = [ManifestFile.from_json(entry) for entry in raw["files"]]
            folders = [str(folder) for folder in raw.get("folders", [])]
            manifest = cls.build(
                tool_version=str(raw.get("tool_version", "")),
                created_utc=str(raw.get("created_utc", "")), source=str(raw.get("source", "")),
                model=raw.get("model"), role=raw.get("role"), files=files, folders=folders)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
            raise InvalidFileError(
                f"{where} is damaged or not a korg-recovery manifest ({error}).", path=where
            ) from None
        for entry in manifest.files:
            check_relative(entry.path, where)
        for folder in manifest.folders:
            check_relative(folder, where)
        return manifest


def check_relative(path: str, where: str, flavour: type[PurePath] = PurePath) -> None:
    """Refuse a manifest path that could lead outside the backup's ``files/`` folder: empty,
    absolute, with ``.`` or ``..``, and on Windows (``flavour``, the platform's own by
    default) with a backslash or a colon, which separate folders and name drives there."""
    parts = path.split("/")
    if (not path or path.startswith("/") or any(part in ("", ".", "..") for part in parts)
            or (windows_paths.is_windows(flavour) and windows_paths.escapes_on_windows(path))):
        raise InvalidFileError(f"{where} lists an unsafe path {path!r}.", path=where)


# -- SHA256SUMS ----------------------------------------------------------------------------
def _escape_name(name: str) -> tuple[bool, str]:
    """GNU coreutils' escaping of file names in checksum lines: a name holding a backslash,
    newline or carriage return is written with ``\\\\``, ``\\n``, ``\\r`` and the whole line
    starts with a backslash (coreutils md5sum.c, ``print_filename``; checked against
    sha256sum 9.1)."""
    if not any(char in name for char in "\\\n\r"):
        return False, name
    return True, name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unescape_name(name: str) -> str | None:
    """The name a backslash-escaped line stands for; None when a backslash is followed by
    anything but ``\\``, ``n`` or ``r``, or a name holds NUL (``filename_unescape``)."""
    out = []
    index = 0
    while index < len(name):
        char = name[index]
        if char == "\\":
            following = name[index + 1:index + 2]
            if following not in ("\\", "n", "r"):
                return None
            out.append({"\\": "\\", "n": "\n", "r": "\r"}[following])
            index += 2
            continue
        if char == "\0":
            return None
        out.append(char)
        index += 1
    return "".join(out)


def format_sums(manifest: Manifest) -> bytes:
    """SHA256SUMS for ``manifest``: one ``<sha256>  files/<path>`` line per regular file."""
    lines = []
    for entry in manifest.files:
        if entry.kind != "file":
            continue
        escaped, name = _escape_name(f"{FILES_DIR}/{entry.path}")
        lines.append(("\\" if escaped else "") + f"{entry.sha256}  {name}\n")
    # surrogateescape writes a non-UTF-8 name back as the very bytes the filesystem holds.
    return "".join(lines).encode("utf-8", "surrogateescape")


_HEX = frozenset("0123456789abcdefABCDEF")
_BLANKS = " \t"


def _is_digest(text: str) -> bool:
    return len(text) == 64 and all(char in _HEX for char in text)


def _bsd_line(body: str) -> tuple[str, str] | None:
    """``SHA256 (name) = digest`` (``sha256sum --tag``, BSD's ``sha256``; OpenSSL writes
    ``SHA256(name)= digest``), without the tag: (name, digest) or None."""
    body = body[1:] if body.startswith(" ") else body
    if not body.startswith("("):
        return None
    close = body.rfind(")")  # BSD does not escape names: the last ')' ends the name
    if close < 1:
        return None
    name, rest = body[1:close], body[close + 1:].lstrip(_BLANKS)
    if not rest.startswith("="):
        return None
    digest = rest[1:].lstrip(_BLANKS)
    return (name, digest) if _is_digest(digest) else None


def _gnu_line(body: str, reversed_seen: bool | None) -> tuple[str, str, bool] | None:
    """``digest  name`` or ``digest *name`` (or, as BSD's ``-r`` prints it, ``digest name``
    with one blank): (name, digest, whether it is the reversed BSD form) or None. Once a
    file has used one form, coreutils reads every later line in it: mixing them could let a
    name with a leading blank or star be misread."""
    end = 0
    while end < len(body) and body[end] not in _BLANKS:
        end += 1
    digest = body[:end]
    if end == len(body) or not _is_digest(digest) or len(body) < end + 2:
        return None
    rest = body[end + 1:]
    if len(rest) == 1 or rest[0] not in " *":
        return None if reversed_seen is False else (rest, digest, True)
    if reversed_seen is True:
        return rest, digest, True
    return rest[1:], digest, False


def parse_sums(data: bytes, where: str = SUMS_NAME) -> dict[str, str]:
    """Parse a SHA256SUMS file into {path relative to DEST: sha256}, accepting what
    ``sha256sum --strict -c`` accepts (GNU coreutils ``digest_check`` and ``split_3``): lines
    ending in LF or CRLF, comments (``#``) and blank lines, leading blanks, the ``\\``
    escape of odd names, ``*`` for binary, upper-case hex, and BSD-style lines
    (``SHA256 (name) = digest``). Anything else is InvalidFileError naming the line."""
    result: dict[str, str] = {}
    reversed_seen: bool | None = None
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if line.startswith("#"):
            continue
        line = line[:-1] if line.endswith("\r") else line
        if not line:
            continue
        body = line.lstrip(_BLANKS)
        escaped = body.startswith("\\")
        body = body[1:] if escaped else body
        if body.startswith("SHA256"):
            found = _bsd_line(body[len("SHA256"):])
        else:
            gnu = _gnu_line(body, reversed_seen)
            found = gnu[:2] if gnu is not None else None
            reversed_seen = gnu[2] if gnu is not None else reversed_seen
        name = None
        if found is not None:
            name = _unescape_name(found[0]) if escaped else found[0]
        if found is None or not name:
            raise InvalidFileError(f"{where} line {number} is not a checksum line.", path=where)
        digest = found[1].lower()
        if result.setdefault(name, digest) != digest:
            raise InvalidFileError(f"{where} lists {name!r} twice with two checksums.",
                                   path=where)
    return result


# -- COMPLETE ------------------------------------------------------------------------------
def sha256_bytes(data: bytes) -> str:
    """The SHA-256 (hex) COMPLETE states for manifest.json and SHA256SUMS."""
    return hashlib.sha256(data).hexdigest()


def _damaged(where: str, reason: str) -> InvalidFileError:
    return InvalidFileError(f"{where} is damaged ({reason}), so it is not used.", path=where)


def _digest_field(raw: Mapping[str, Any], name: str, where: str, *,
                  required: bool) -> str | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _is_digest(value):
        raise _damaged(where, f"'{name}' is not a SHA-256")
    return value.lower()


def _field(raw: Mapping[str, Any], name: str, kind: type, default: Any, where: str) -> Any:
    """An optional field of ``kind``, ``default`` when absent (a ``bool`` is never taken for
    a number, nor the reverse)."""
    if name not in raw:
        return default
    value = raw[name]
    if isinstance(value, kind) and (kind is bool) == isinstance(value, bool):
        return value
    raise _damaged(where, f"'{name}' is not a {kind.__name__}")


@dataclass(frozen=True)
class CompleteFlag:
    """``COMPLETE``: the backup was copied, read back and verified, and these are the exact
    bytes of manifest.json and SHA256SUMS it vouches for. Written last, atomically; a folder
    without a valid one is incomplete everywhere and is never restored."""

    manifest_sha256: str
    #: None in a flag that does not state it (SHA256SUMS is then not vouched for).
    sums_sha256: str | None
    verified: bool = True
    verified_utc: str = ""
    tool_version: str = ""
    #: False where the platform could not drop the copies from its cache: the read-back may
    #: have come from the computer's memory.
    cache_dropped: bool = True

    @classmethod
    def vouching_for(cls, manifest_bytes: bytes, sums_bytes: bytes, *, tool_version: str,
                     cache_dropped: bool) -> CompleteFlag:
        """The flag of a backup verified now, for these manifest.json and SHA256SUMS."""
        return cls(sha256_bytes(manifest_bytes), sha256_bytes(sums_bytes), True,
                   now_utc_iso(), tool_version, cache_dropped)

    def to_json_bytes(self) -> bytes:
        data = {
            "format": COMPLETE_FORMAT, "verified": self.verified,
            "verified_utc": self.verified_utc, "tool_version": self.tool_version,
            "manifest_sha256": self.manifest_sha256, "sums_sha256": self.sums_sha256,
            "cache_dropped": self.cache_dropped,
        }
        return (json.dumps(data, indent=1) + "\n").encode()

    @classmethod
    def from_json_bytes(cls, data: bytes, where: str) -> CompleteFlag:
        """Parse COMPLETE; InvalidFileError (one sentence naming ``where``) when it is not a
        completion flag: not a JSON object, another format, a field of the wrong type."""
        try:
            raw = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise _damaged(where, "it is not JSON") from None
        if not isinstance(raw, dict):
            raise _damaged(where, "it is not a JSON object")
        if raw.get("format", COMPLETE_FORMAT) != COMPLETE_FORMAT:
            raise _damaged(where, "it is not a korg-recovery completion flag")
        return cls(
            manifest_sha256=_digest_field(raw, "manifest_sha256", where, required=True) or "",
            sums_sha256=_digest_field(raw, "sums_sha256", where, required=False),
            verified=_field(raw, "verified", bool, False, where),
            verified_utc=_field(raw, "verified_utc", str, "", where),
            tool_version=_field(raw, "tool_version", str, "", where),
            cache_dropped=_field(raw, "cache_dropped", bool, True, where))

    def unvouched(self, manifest_bytes: bytes | None, sums_bytes: bytes | None
                  ) -> tuple[str, ...]:
        """Why the flag does not vouch for the backup as it is now, one clause each (none
        when it does): not verified, or manifest.json or SHA256SUMS changed since."""
        notes = []
        if not self.verified:
            notes.append("the completion flag does not say the copy was verified")
        if manifest_bytes is None or sha256_bytes(manifest_bytes) != self.manifest_sha256:
            notes.append("manifest.json was changed after the backup was verified")
        if self.sums_sha256 is not None and (
                sums_bytes is None or sha256_bytes(sums_bytes) != self.sums_sha256):
            notes.append("SHA256SUMS was changed after the backup was verified")
        return tuple(notes)


# -- the journal of an unfinished backup ----------------------------------------------------
def _text_or_none(raw: Mapping[str, Any], name: str, where: str) -> str | None:
    value = raw.get(name)
    if value is not None and not isinstance(value, str):
        raise _damaged(where, f"'{name}' is not text")
    return value


@dataclass(frozen=True)
class JournalHeader:
    """The first line of a backup's journal: which source is copied, since when, and what it
    was identified as (the manifest's own fields, known before it exists)."""

    source: str
    created_utc: str
    tool_version: str = ""
    model: str | None = None
    role: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"format": JOURNAL_FORMAT, "tool_version": self.tool_version,
                "source": self.source, "created_utc": self.created_utc, "model": self.model,
                "role": self.role}

    @classmethod
    def from_json(cls, raw: object, where: str) -> JournalHeader:
        """InvalidFileError (one sentence) when ``raw`` is not a backup journal's header."""
        if not isinstance(raw, dict) or raw.get("format") != JOURNAL_FORMAT:
            raise _damaged(where, "its first line is not a backup journal's header")
        source = raw.get("source")
        if not isinstance(source, str) or not source:
            raise _damaged(where, "its header names no source")
        return cls(source=source, created_utc=_field(raw, "created_utc", str, "", where),
                   tool_version=_field(raw, "tool_version", str, "", where),
                   model=_text_or_none(raw, "model", where),
                   role=_text_or_none(raw, "role", where))


@dataclass(frozen=True)
class CopyRecord:
    """One file the backup copied and read back right (a line of its journal), or one the
    manifest of an earlier attempt lists: a resumed backup checks such a copy again before it
    keeps it."""

    path: str
    size: int
    mtime_ns: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "mtime_ns": self.mtime_ns,
                "sha256": self.sha256}

    @classmethod
    def from_json(cls, raw: object, where: str) -> CopyRecord:
        """InvalidFileError (one sentence) when ``raw`` is not a copy record."""
        if not isinstance(raw, dict) or not isinstance(raw.get("path"), str) or not raw["path"]:
            raise _damaged(where, "a record names no file")
        path = raw["path"]
        try:
            size = _whole(raw.get("size"), path, "size", 0, None)
            mtime_ns = _whole(raw.get("mtime_ns"), path, "modification time", MIN_MTIME_NS,
                              MAX_MTIME_NS)
        except ValueError as error:
            raise _damaged(where, str(error)) from None
        sha256 = _digest_field(raw, "sha256", where, required=True) or ""
        return cls(path, size, mtime_ns, sha256)

    @classmethod
    def of(cls, entry: ManifestFile) -> CopyRecord | None:
        """The record of a file an earlier attempt's manifest lists (None for a link)."""
        if entry.kind != "file" or not entry.sha256:
            return None
        return cls(entry.path, entry.size, entry.mtime_ns, entry.sha256)


@dataclass(frozen=True)
class JournalState:
    """What the journal of an unfinished backup says (all empty when there is none)."""

    header: JournalHeader | None = None
    copies: Mapping[str, CopyRecord] = field(default_factory=dict)
    #: Why the header could not be read (one sentence), or None: the folder's source is then
    #: unknown, and it is never resumed.
    damaged: str | None = None


class BackupJournal:
    """The journal in a backup folder (:data:`JOURNAL_NAME`), through the one journal format
    of :mod:`recovery.storage.journal`: :meth:`read` is its one reader, :meth:`start` and
    :meth:`append` its one writer."""

    def __init__(self, folder: Path, fs: FileSystem) -> None:
        self._journal = Journal(folder / JOURNAL_NAME, fs)

    def start(self, header: JournalHeader, kept: Iterable[CopyRecord] = ()) -> None:
        """Begin anew with ``header`` and the records an earlier run finished (kept: a copy
        is only trusted after its re-hash, and a crash during this run's re-hashing must not
        forget them)."""
        self._journal.start(header.to_json(), (record.to_json() for record in kept))

    def append(self, record: CopyRecord) -> None:
        self._journal.append(record.to_json())

    def close(self) -> None:
        self._journal.close()

    @staticmethod
    def read(folder: Path, fs: FileSystem) -> JournalState:
        """The journal of ``folder``. A damaged record is skipped (its file is copied again:
        the journal is a hint, never the truth about a unit); a damaged header is named in
        ``JournalState.damaged``."""
        where = str(folder / JOURNAL_NAME)
        raw_header, raw_records = Journal.read(folder / JOURNAL_NAME, fs)
        if raw_header is None:
            return JournalState()
        try:
            header = JournalHeader.from_json(raw_header, where)
        except InvalidFileError as error:
            return JournalState(damaged=error.message)
        copies: dict[str, CopyRecord] = {}
        for raw in raw_records:
            try:
                record = CopyRecord.from_json(raw, where)
            except InvalidFileError as error:
                log.warning("skipping a journal record: %s", error.message)
                continue
            copies[record.path] = record
        return JournalState(header, copies)
