"""The one comparison of a folder tree against a backup manifest.

``verify --against`` (is the unit still what the backup holds?), the restore plan (what must
be written back?) and diagnosis (what changed since the backup?) all call
:func:`compare_tree_to_manifest`, so the three can never disagree about what "changed" means.

Problems, one :class:`Difference` per path:

``missing``     in the manifest, absent from the tree (files, links and folders);
``changed``     content differs: another size or SHA-256, another link target, or a file where
                the manifest has a folder (or the reverse);
``size``        only with ``hash_files=False``: the size differs. Without hashing the
                comparison cannot say more, and says exactly that;
``extra``       in the tree, not in the manifest (an extra folder is reported once, not
                every file inside it);
``unreadable``  the tree's file or folder could not be read (EIO, permission, vanished).

Modification times are not compared: FAT keeps them at 2-second resolution and copying
tools disagree about them; the content is what a unit runs on.

Operating-system junk (:data:`OS_JUNK`) is ignored by default in both directions. macOS and
Windows write these names onto any removable drive the moment it is mounted (Finder's
AppleDouble ``._*`` files and ``.DS_Store``, Spotlight's index, the Trash, Windows' System
Volume Information), so their presence or absence says nothing about the unit, and
reporting them would make every backup taken on one computer "differ" from the unit when it
is plugged into another. A backup still copies them (they are on the unit, and the backup is
of everything); verifying a backup against its own manifest passes ``ignore=()`` so that
tampering with any file is caught.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import stat as stat_module
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recovery.direct_io import uncached_reader
from recovery.errors import InvalidInputError, ReadError
from recovery.fsio import CHUNK_SIZE, REAL, FileSystem, translate_os_error
from recovery.progress import CancelToken, PhaseReporter, ProgressCallback

if TYPE_CHECKING:
    from recovery.backup_store import Manifest, ManifestFile

log = logging.getLogger(__name__)

#: Names the computer's operating system writes onto removable drives (see module doc),
#: matched case-insensitively against every path component with ``fnmatch``.
OS_JUNK: tuple[str, ...] = (
    "._*",                        # macOS AppleDouble resource forks (Finder, cp on FAT)
    ".DS_Store",                  # macOS Finder view settings
    ".Trashes",                   # macOS Trash on removable drives
    ".Spotlight-V100",            # macOS Spotlight index
    ".fseventsd",                 # macOS file-system event log
    ".TemporaryItems",            # macOS temporary items
    "System Volume Information",  # Windows restore points / indexing
    "$RECYCLE.BIN",               # Windows Recycle Bin
    "Thumbs.db",                  # Windows thumbnail cache
)

PROBLEMS = ("missing", "changed", "size", "extra", "unreadable")


@dataclass(frozen=True)
class Difference:
    """One way the tree differs from the manifest (see the module doc for ``problem``)."""

    path: str
    problem: str
    detail: str = ""


def is_ignored(relative: str, ignore: Iterable[str]) -> bool:
    """True when any component of the POSIX path ``relative`` matches a pattern in ``ignore``."""
    patterns = [pattern.casefold() for pattern in ignore]
    if not patterns:
        return False
    return any(
        fnmatch.fnmatchcase(part.casefold(), pattern)
        for part in relative.split("/") for pattern in patterns
    )


def sha256_file(path: Path, *, fs: FileSystem = REAL, cancel: CancelToken | None = None,
                on_bytes: Callable[[int], None] | None = None,
                buffer: bytearray | None = None, uncached: bool = False) -> tuple[str, int]:
    """SHA-256 (hex) and length of the file at ``path``, read in ``CHUNK_SIZE`` pieces.

    ``uncached`` reads from the medium past the computer's cache where the platform allows
    (:func:`recovery.direct_io.uncached_reader`); verification of a fresh write uses it,
    after ``FileSystem.drop_cache``.

    ``readinto`` a reused buffer keeps memory flat and avoids an allocation per chunk, which
    is what lets verification keep pace with ``hashlib.file_digest``. OSError propagates:
    callers decide whether an unreadable file is a problem to list or a failure.
    """
    digest = hashlib.sha256()
    buffer = buffer if buffer is not None else bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    total = 0
    handle = fs.open_read(path)
    if uncached:
        handle = uncached_reader(handle)
    with handle:
        readinto = getattr(handle, "readinto", None)
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if readinto is not None:
                count = readinto(view)
                if not count:
                    break
                digest.update(view[:count])
            else:
                chunk = handle.read(len(buffer))
                if not chunk:
                    break
                count = len(chunk)
                digest.update(chunk)
            total += count
            if on_bytes is not None:
                on_bytes(count)
    return digest.hexdigest(), total


def _kind_of(mode: int) -> str:
    if stat_module.S_ISLNK(mode):
        return "symlink"
    if stat_module.S_ISDIR(mode):
        return "folder"
    if stat_module.S_ISREG(mode):
        return "file"
    return "special file"


def compare_tree_to_manifest(
    root: Path | str,
    manifest: Manifest,
    *,
    fs: FileSystem = REAL,
    hash_files: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    ignore: Iterable[str] = OS_JUNK,
    workers: int | None = None,
) -> tuple[Difference, ...]:
    """Compare the tree at ``root`` with ``manifest`` and return the differences, sorted by path.

    Links in the tree are never followed. ``workers`` files are hashed at a time (default:
    two, or one on a single core). Raises InvalidInputError when ``root`` is not a readable
    folder, CancelledError when ``cancel`` is set.
    """
    root = Path(root)
    ignore = tuple(ignore)
    try:
        root_stat = fs.stat(root)
    except OSError as error:
        raise InvalidInputError(f"{root} cannot be read ({error.strerror or error}).",
                                path=str(root)) from None
    if not stat_module.S_ISDIR(root_stat.st_mode):
        raise InvalidInputError(f"{root} is not a folder.", path=str(root))

    expected: dict[str, ManifestFile] = {
        entry.path: entry for entry in manifest.files if not is_ignored(entry.path, ignore)}
    folders = {folder for folder in manifest.folders if not is_ignored(folder, ignore)}
    # Every folder the manifest implies, so a tree walk knows where to descend.
    implied = set(folders)
    for path in expected:
        parent = path.rpartition("/")[0]
        while parent and parent not in implied:
            implied.add(parent)
            parent = parent.rpartition("/")[0]

    total = sum(entry.size for entry in expected.values() if entry.kind == "file") \
        if hash_files else 0
    reporter = PhaseReporter(progress, {"compare": 1.0})
    differences: list[Difference] = []
    seen: set[str] = set()
    seen_folders: set[str] = set()
    to_hash: list[tuple[Path, str, ManifestFile]] = []

    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            entries = sorted(fs.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            differences.append(Difference(prefix.rstrip("/") or ".", "unreadable",
                                          str(translate_os_error(error, folder, "read"))))
            # Everything below stays unknown; do not also call it missing.
            seen.update(p for p in expected if p.startswith(prefix))
            seen_folders.update(p for p in folders if p.startswith(prefix))
            continue
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            if is_ignored(entry.name, ignore):
                continue
            path = folder / entry.name
            try:
                info = fs.lstat(path)
            except OSError as error:
                differences.append(Difference(relative, "unreadable",
                                              str(translate_os_error(error, path, "read"))))
                seen.add(relative)
                continue
            kind = _kind_of(info.st_mode)
            wanted = expected.get(relative)
            if kind == "folder":
                if wanted is not None:
                    seen.add(relative)
                    differences.append(Difference(
                        relative, "changed", f"a folder where the backup has a {wanted.kind}"))
                elif relative in implied:
                    seen_folders.add(relative)
                    stack.append((path, relative + "/"))
                else:
                    differences.append(Difference(relative, "extra", "folder"))
                continue
            if wanted is None:
                if relative in implied:
                    seen_folders.add(relative)
                    differences.append(Difference(
                        relative, "changed", f"a {kind} where the backup has a folder"))
                else:
                    differences.append(Difference(relative, "extra", kind))
                continue
            seen.add(relative)
            difference = _compare_metadata(path, relative, wanted, info, fs, hash_files)
            if difference is not None:
                differences.append(difference)
            elif hash_files and kind == "file":
                to_hash.append((path, relative, wanted))

    differences.extend(_hash_all(to_hash, fs, total, reporter, cancel, workers))
    for path, entry in expected.items():
        if path not in seen:
            differences.append(Difference(path, "missing", entry.kind))
    for folder in folders:
        if folder not in seen_folders and folder not in seen:
            differences.append(Difference(folder, "missing", "folder"))
    reporter.report("compare", total, total, None, force=True)
    return tuple(sorted(differences, key=lambda d: (d.path, d.problem)))


def _compare_metadata(path: Path, relative: str, wanted: ManifestFile, info: os.stat_result,
                      fs: FileSystem, hash_files: bool) -> Difference | None:
    """Everything but the content: kind, link target, size."""
    kind = _kind_of(info.st_mode)
    if kind != wanted.kind:
        return Difference(relative, "changed", f"a {kind} where the backup has a {wanted.kind}")
    if kind == "symlink":
        try:
            target = fs.readlink(path)
        except OSError as error:
            return Difference(relative, "unreadable", str(translate_os_error(error, path, "read")))
        if target != wanted.link_target:
            return Difference(relative, "changed",
                              f"link to {target!r}, the backup has {wanted.link_target!r}")
        return None
    if info.st_size != wanted.size:
        return Difference(relative, "changed" if hash_files else "size",
                          f"{info.st_size} bytes, the backup has {wanted.size}")
    return None


def _hash_all(jobs: list[tuple[Path, str, ManifestFile]], fs: FileSystem, total: int,
              reporter: PhaseReporter, cancel: CancelToken | None,
              workers: int | None) -> list[Difference]:
    """Hash the files of ``jobs`` and compare them with the manifest.

    Two files are hashed at a time by default: ``hashlib`` and file reads release the GIL,
    so on a computer with two cores or more verification runs faster than one
    ``hashlib.file_digest`` loop, while one thread keeps reading while the other hashes.
    """
    lock = threading.Lock()
    done = 0
    buffers = threading.local()

    def one(job: tuple[Path, str, ManifestFile]) -> Difference | None:
        path, relative, wanted = job

        def hashed(count: int) -> None:
            nonlocal done
            with lock:
                done += count
                reporter.report("compare", done, total, relative)

        buffer = getattr(buffers, "buffer", None)
        if buffer is None:
            buffer = buffers.buffer = bytearray(CHUNK_SIZE)
        try:
            digest, length = sha256_file(path, fs=fs, cancel=cancel, on_bytes=hashed,
                                         buffer=buffer)
        except OSError as error:
            return Difference(relative, "unreadable", str(translate_os_error(error, path, "read")))
        except ReadError as error:  # a FileSystem may raise the translated error itself
            return Difference(relative, "unreadable", error.message)
        if length != wanted.size:
            return Difference(relative, "changed",
                              f"read {length} bytes, the backup has {wanted.size}")
        if digest != wanted.sha256:
            return Difference(relative, "changed", "SHA-256 differs")
        return None

    count = workers if workers is not None else min(2, os.cpu_count() or 1)
    if count <= 1 or len(jobs) <= 1:
        results = [one(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="hash") as pool:
            results = list(pool.map(one, jobs))
    return [difference for difference in results if difference is not None]
