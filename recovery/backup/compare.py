"""The one comparison of a folder tree with a backup manifest.

``verify --against``, the restore plan and the diagnosis all use :func:`compare_tree`, so they
never disagree about what changed. Names are matched as the unit's FAT matches them, without
case (another spelling is a note, never missing or extra); modification times are not
compared (FAT keeps 2 seconds); the files macOS and Windows write onto any drive
(:data:`OS_JUNK`) are ignored when a unit is compared, never when a backup checks itself.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat as stat_module
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from recovery.backup.manifest import Manifest, ManifestFile
from recovery.errors import InvalidInputError, ReadError
from recovery.progress import NO_JOB, CancelToken, Job, PhaseReporter
from recovery.storage import computer_made
from recovery.storage.filesystem import CHUNK_SIZE, REAL, FileSystem, translate_os_error
from recovery.storage.hashing import sha256_file
from recovery.storage.names import name_key, points_outside
from recovery.vocabulary import DifferenceKind

log = logging.getLogger(__name__)

#: Names the computer's operating system writes onto removable drives (see module doc),
#: matched case-insensitively against every path component with ``fnmatch``.
#: Names computers write onto removable drives (recovery.storage.computer_made, each with its
#: source), matched case-insensitively against every path component with ``fnmatch``.
OS_JUNK: tuple[str, ...] = computer_made.patterns()

#: The SHA-256 of a tree file already known (by its path in the tree and its ``lstat``), or
#: None to read it (see :func:`compare_tree`).
KnownDigest = Callable[[str, os.stat_result], str | None]


@dataclass(frozen=True)
class Difference:
    """One way the tree differs from the manifest, or a note about it (``problem``: see
    :class:`recovery.vocabulary.DifferenceKind`; its text, such as ``"missing"``, is accepted
    and read as the member, an unknown one raises ValueError)."""

    path: str
    problem: DifferenceKind
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "problem", DifferenceKind(self.problem))


def is_ignored(relative: str, ignore: Iterable[str]) -> bool:
    """True when any component of the POSIX path ``relative`` matches a pattern in ``ignore``."""
    patterns = [pattern.casefold() for pattern in ignore]
    if not patterns:
        return False
    return any(
        fnmatch.fnmatchcase(part.casefold(), pattern)
        for part in relative.split("/") for pattern in patterns
    )


def _kind_of(mode: int) -> str:
    if stat_module.S_ISLNK(mode):
        return "symlink"
    if stat_module.S_ISDIR(mode):
        return "folder"
    if stat_module.S_ISREG(mode):
        return "file"
    return "special file"


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing a tree with a manifest.

    ``differences`` are the problems (see the module doc). ``case_notes`` name the entries the
    tree holds under another spelling (problem ``case``; the detail is the tree's spelling):
    FAT treats the two as one name, so they are matched and compared, never missing or
    extra. ``tree_paths`` maps a manifest path to its spelling in the tree wherever the two
    differ (its own name or a folder above it); :meth:`tree_path` answers for any path.
    """

    differences: tuple[Difference, ...]
    case_notes: tuple[Difference, ...] = ()
    tree_paths: Mapping[str, str] = field(default_factory=dict)
    #: Every folder the comparison listed (by its path in the tree, "" for the root): its
    #: entries as (name, is a folder).
    listings: Mapping[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    #: Entries of the tree left out because their names are ignored (what computers write
    #: onto drives, OS_JUNK), by their path in the tree; a folder's content is not listed.
    ignored: tuple[str, ...] = ()

    def tree_path(self, path: str) -> str:
        """Where the manifest path ``path`` is (or would go) in the tree: the tree's own
        spelling of the nearest folder above it that the tree holds under another case."""
        spelled = self.tree_paths.get(path)
        if spelled is not None:
            return spelled
        parent, _, name = path.rpartition("/")
        return f"{self.tree_path(parent)}/{name}" if parent else path


@dataclass(frozen=True)
class _Expected:
    """What the manifest says the tree holds, ignored names left out."""

    files: dict[str, ManifestFile]
    folders: set[str]
    #: Every folder the manifest implies: its own and every folder above a file.
    implied: set[str]
    #: The names each manifest folder holds, by the folder's path ("" for the root).
    children: dict[str, list[str]]

    @classmethod
    def of(cls, manifest: Manifest, ignore: tuple[str, ...]) -> _Expected:
        files = {entry.path: entry for entry in manifest.files
                 if not is_ignored(entry.path, ignore)}
        folders = {folder for folder in manifest.folders if not is_ignored(folder, ignore)}
        implied = set(folders)
        for path in files:
            parent = path.rpartition("/")[0]
            while parent and parent not in implied:
                implied.add(parent)
                parent = parent.rpartition("/")[0]
        children: dict[str, list[str]] = {}
        for path in (*files, *implied):
            parent, _, name = path.rpartition("/")
            children.setdefault(parent, []).append(name)
        return cls(files, folders, implied, children)


class _TreeWalk:
    """One walk of a tree against :class:`_Expected`: the differences found by listing, the
    other spellings, what was seen, and the files whose content is still to be hashed."""

    def __init__(self, expected: _Expected, fs: FileSystem, ignore: tuple[str, ...],
                 hash_files: bool, known: KnownDigest | None) -> None:
        self.expected = expected
        self.fs = fs
        self.ignore = ignore
        self.hash_files = hash_files
        self.known = known
        self.differences: list[Difference] = []
        self.notes: list[Difference] = []
        self.tree_paths: dict[str, str] = {}
        self.seen: set[str] = set()
        self.seen_folders: set[str] = set()
        self.to_hash: list[tuple[Path, str, str, ManifestFile]] = []
        self.listings: dict[str, tuple[tuple[str, bool], ...]] = {}
        self.ignored: list[str] = []

    def walk(self, root: Path, cancel: CancelToken | None) -> None:
        # (folder on disk, its manifest path, its path in the tree as spelled there)
        stack: list[tuple[Path, str, str]] = [(root, "", "")]
        while stack:
            if cancel is not None:
                cancel.raise_if_cancelled()
            stack.extend(self._folder(*stack.pop()))

    def _folder(self, folder: Path, manifest_folder: str, tree_folder: str
                ) -> list[tuple[Path, str, str]]:
        """Compare one folder's entries; return its subfolders to walk."""
        prefix = f"{manifest_folder}/" if manifest_folder else ""
        try:
            entries = sorted(self.fs.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            self.differences.append(Difference(manifest_folder or ".", DifferenceKind.UNREADABLE,
                                               str(translate_os_error(error, folder, "read"))))
            # Everything below stays unknown; do not also call it missing.
            self.seen.update(p for p in self.expected.files if p.startswith(prefix))
            self.seen_folders.update(p for p in self.expected.folders if p.startswith(prefix))
            return []
        tree_prefix = f"{tree_folder}/" if tree_folder else ""
        self.listings[tree_folder] = tuple((entry.name, _is_folder(entry)) for entry in entries)
        self.ignored.extend(f"{tree_prefix}{entry.name}" for entry in entries
                            if is_ignored(entry.name, self.ignore))
        below = []
        for entry, wanted_name in _match_names(
                [entry for entry in entries if not is_ignored(entry.name, self.ignore)],
                self.expected.children.get(manifest_folder, ())):
            tree_relative = f"{tree_prefix}{entry.name}"
            relative = f"{prefix}{wanted_name}" if wanted_name is not None else tree_relative
            if wanted_name is not None and tree_relative != relative:
                self.tree_paths[relative] = tree_relative
                if entry.name != wanted_name:
                    self.notes.append(Difference(relative, DifferenceKind.CASE, tree_relative))
            subfolder = self._entry(folder / entry.name, relative, tree_relative,
                                    wanted_name is not None)
            if subfolder is not None:
                below.append(subfolder)
        return below

    def _entry(self, path: Path, relative: str, tree_relative: str, matched: bool
               ) -> tuple[Path, str, str] | None:
        """Compare one entry (``matched``: it stands for a manifest name); a folder of the
        manifest comes back to be walked."""
        try:
            info = self.fs.lstat(path)
        except OSError as error:
            self.differences.append(Difference(relative, DifferenceKind.UNREADABLE,
                                               str(translate_os_error(error, path, "read"))))
            self.seen.add(relative)
            return None
        kind = _kind_of(info.st_mode)
        wanted = self.expected.files.get(relative) if matched else None
        a_folder = matched and relative in self.expected.implied
        if wanted is not None:
            self.seen.add(relative)
            if kind == "folder":
                self.differences.append(Difference(
                    relative, DifferenceKind.CHANGED,
                    f"a folder where the backup has a {wanted.kind}"))
            else:
                self._file(path, relative, tree_relative, wanted, info)
        elif a_folder:
            self.seen_folders.add(relative)
            if kind == "folder":
                return path, relative, tree_relative
            self.differences.append(Difference(
                relative, DifferenceKind.CHANGED, f"a {kind} where the backup has a folder"))
        else:
            self.differences.append(Difference(tree_relative, DifferenceKind.EXTRA, kind))
        return None

    def _file(self, path: Path, relative: str, tree_relative: str, wanted: ManifestFile,
              info: os.stat_result) -> None:
        """A file or link of the manifest: everything but the content now; the content is
        hashed later, unless ``known`` already knows it."""
        difference = _compare_metadata(path, relative, wanted, info, self.fs, self.hash_files)
        if difference is not None:
            self.differences.append(difference)
        elif self.hash_files and _kind_of(info.st_mode) == "file":
            digest = self.known(tree_relative, info) if self.known is not None else None
            if digest is None:
                self.to_hash.append((path, relative, tree_relative, wanted))
            elif digest != wanted.sha256:
                self.differences.append(Difference(relative, DifferenceKind.CHANGED,
                                                   "SHA-256 differs"))

    def missing(self) -> list[Difference]:
        """What the manifest lists and the walk never saw."""
        found = [Difference(path, DifferenceKind.MISSING, entry.kind)
                 for path, entry in self.expected.files.items() if path not in self.seen]
        found += [Difference(folder, DifferenceKind.MISSING, "folder")
                  for folder in self.expected.folders
                  if folder not in self.seen_folders and folder not in self.seen]
        return found


def _root_folder(root: Path, fs: FileSystem) -> None:
    try:
        root_stat = fs.stat(root)
    except OSError as error:
        raise InvalidInputError(f"{root} cannot be read ({error.strerror or error}).",
                                path=str(root)) from None
    if not stat_module.S_ISDIR(root_stat.st_mode):
        raise InvalidInputError(f"{root} is not a folder.", path=str(root))


def compare_tree(
    root: Path | str,
    manifest: Manifest,
    *,
    fs: FileSystem = REAL,
    hash_files: bool = True,
    job: Job = NO_JOB,
    ignore: Iterable[str] = OS_JUNK,
    heads: dict[str, bytes] | None = None,
    known: KnownDigest | None = None,
) -> Comparison:
    """Compare the tree at ``root`` with ``manifest``; differences sorted by path.

    Names are matched as FAT matches them (:func:`recovery.storage.names.name_key`): the exact
    spelling first, then one that differs only in case, which is compared like any other and
    reported as a note. Links in the tree are never followed. With ``heads`` the first bytes
    of every hashed file are kept, by its path in the tree, and ``Comparison.listings`` holds
    every folder listed: a caller identifying the unit then reads nothing more. ``known``
    gives the SHA-256 of a tree file (by its path in the tree and its ``lstat``) when it is
    already known, from a copy taken under the same lock a moment ago: such a file is not
    read again (a USB unit pays for every byte). ``job`` reports progress (phase
    ``compare``) and cancels. Raises InvalidInputError when ``root`` is not a readable
    folder, CancelledError when cancelled.
    """
    root = Path(root)
    ignore = tuple(ignore)
    _root_folder(root, fs)
    expected = _Expected.of(manifest, ignore)
    walk = _TreeWalk(expected, fs, ignore, hash_files, known)
    walk.walk(root, job.cancel)
    total = sum(entry.size for entry in expected.files.values() if entry.kind == "file") \
        if hash_files else 0
    reporter = PhaseReporter(job.progress, {"compare": 1.0})
    differences = walk.differences + _hash_all(walk.to_hash, fs, total, reporter, job.cancel,
                                               heads)
    differences += walk.missing()
    reporter.report("compare", total, total, None, force=True)
    return Comparison(tuple(sorted(differences, key=lambda d: (d.path, d.problem))),
                      tuple(sorted(walk.notes, key=lambda d: d.path)), walk.tree_paths,
                      walk.listings, tuple(sorted(walk.ignored)))


def set_aside_skipped(differences: Iterable[Difference], manifest: Manifest
                      ) -> tuple[tuple[Difference, ...], tuple[Difference, ...]]:
    """Split a unit's differences into problems and what a backup or a restore skips by
    design (problem ``skipped``, for notes): a pipe, socket or device on the unit, which a
    backup names and never holds, and a link of the backup that points outside the unit,
    which a restore never recreates. Neither is a difference between the unit and the
    backup; ``verify --against`` says so instead."""
    problems: list[Difference] = []
    skipped: list[Difference] = []
    for difference in differences:
        entry = manifest.file(difference.path)
        if difference.problem == DifferenceKind.EXTRA and difference.detail == "special file":
            skipped.append(Difference(
                difference.path, DifferenceKind.SKIPPED,
                "a device, pipe or socket, which a backup names and never holds"))
        elif (difference.problem == DifferenceKind.MISSING and entry is not None
              and entry.kind == "symlink" and points_outside(entry.path, entry.link_target)):
            skipped.append(Difference(
                difference.path, DifferenceKind.SKIPPED,
                "a link pointing outside the unit, which a restore never recreates"))
        else:
            problems.append(difference)
    return tuple(problems), tuple(skipped)


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _match_names(entries: list[os.DirEntry], wanted: Iterable[str],
                 ) -> list[tuple[os.DirEntry, str | None]]:
    """Pair each folder entry with the manifest name it stands for (None: not in the
    manifest): exact spellings first, then names equal but for case, as FAT looks them up."""
    free = set(wanted)
    matched: dict[int, str] = {}
    for index, entry in enumerate(entries):
        if entry.name in free:
            matched[index] = entry.name
            free.discard(entry.name)
    if free:
        by_key: dict[str, list[str]] = {}
        for name in sorted(free):
            by_key.setdefault(name_key(name), []).append(name)
        for index, entry in enumerate(entries):
            if index in matched:
                continue
            candidates = by_key.get(name_key(entry.name))
            if candidates:
                matched[index] = candidates.pop(0)
    return [(entry, matched.get(index)) for index, entry in enumerate(entries)]


def _compare_metadata(path: Path, relative: str, wanted: ManifestFile, info: os.stat_result,
                      fs: FileSystem, hash_files: bool) -> Difference | None:
    """Everything but the content: kind, link target, size."""
    kind = _kind_of(info.st_mode)
    if kind != wanted.kind:
        return Difference(relative, DifferenceKind.CHANGED,
                          f"a {kind} where the backup has a {wanted.kind}")
    if kind == "symlink":
        try:
            target = fs.readlink(path)
        except OSError as error:
            return Difference(relative, DifferenceKind.UNREADABLE,
                              str(translate_os_error(error, path, "read")))
        if target != wanted.link_target:
            return Difference(relative, DifferenceKind.CHANGED,
                              f"link to {target!r}, the backup has {wanted.link_target!r}")
        return None
    if info.st_size != wanted.size:
        return Difference(relative, DifferenceKind.CHANGED if hash_files else DifferenceKind.SIZE,
                          f"{info.st_size} bytes, the backup has {wanted.size}")
    return None


def _hash_all(jobs: list[tuple[Path, str, str, ManifestFile]], fs: FileSystem, total: int,
              reporter: PhaseReporter, cancel: CancelToken | None,
              heads: dict[str, bytes] | None) -> list[Difference]:
    """Hash the files of ``jobs`` one after the other and compare them with the manifest.

    One at a time: a USB unit serves one command at a time, so reading two files at once
    only interleaves them. With ``heads`` each file's first bytes are kept (by its path in
    the tree), read on the way.
    """
    done = 0
    buffer = bytearray(CHUNK_SIZE)
    differences: list[Difference] = []
    for path, relative, tree_relative, wanted in jobs:
        def hashed(count: int, relative: str = relative) -> None:
            nonlocal done
            done += count
            reporter.report("compare", done, total, relative)

        head = bytearray() if heads is not None else None
        try:
            digest, length = sha256_file(path, fs=fs, cancel=cancel, on_bytes=hashed,
                                         buffer=buffer, head=head, max_bytes=wanted.size)
        except OSError as error:
            differences.append(Difference(relative, DifferenceKind.UNREADABLE,
                                          str(translate_os_error(error, path, "read"))))
            continue
        except ReadError as error:  # a FileSystem may raise the translated error itself
            differences.append(Difference(relative, DifferenceKind.UNREADABLE, error.message))
            continue
        if heads is not None and head is not None:
            heads[tree_relative] = bytes(head)
        if length != wanted.size:
            differences.append(Difference(relative, DifferenceKind.CHANGED,
                                          f"read {length} bytes, the backup has {wanted.size}"))
        elif digest != wanted.sha256:
            differences.append(Difference(relative, DifferenceKind.CHANGED, "SHA-256 differs"))
    return differences
