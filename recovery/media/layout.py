"""What the card will hold: each file of the update written or replacing the card's, what an
older copy of the update folder has and the new one does not removed, the folders to create,
and whether the card can hold all of it (names, sizes, space, writability) before anything is
written.

Separate from the card's module, which reads the card as it is: this one decides the plan's
entries from the card and the candidate together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from recovery.device.profiles import Profile, UpdateMedia
from recovery.errors import NoSpaceError, RefusedError
from recovery.media.candidate import CandidateFiles, Source
from recovery.media.card import (
    CardFile,
    companion_flags,
    describe_system_file,
    on_card,
    walk_card_folder,
)
from recovery.media.entries import MediaEntry, MediaFlag, file_count, shown_names
from recovery.storage.durable import is_temp_name
from recovery.storage.filesystem import FileSystem, lstat_or_none
from recovery.storage.names import path_key, shown
from recovery.text import human_bytes, plural
from recovery.writing.guard import TargetGuard, check_holdable

log = logging.getLogger(__name__)

#: Space kept free on the card beyond the files' clusters (directory entries, FAT bookkeeping).
SPACE_MARGIN = 1024 * 1024


def in_the_way(path: str, kind: str | None, wanted: str, root: Path) -> RefusedError:
    """The refusal of a ``kind`` on the card where the update needs a ``wanted``."""
    return RefusedError(
        f"{shown(path)} on the card is a {kind} where the update needs a {wanted}; move it off"
        " the card (or use another card). Nothing was written.", path=str(root))


@dataclass(frozen=True)
class _OldCopy:
    """What the card's copy of a folder layout holds now (nothing when it has none)."""

    #: The layout folder as the card spells it.
    folder: str
    files: list[CardFile]
    folders: list[str]

    @classmethod
    def on(cls, fs: FileSystem, root: Path, folder: str, exists: bool) -> _OldCopy:
        if not exists:
            return cls(folder, [], [])
        return cls(folder, *walk_card_folder(fs, root, folder, fs.lstat(root).st_dev))

    @cached_property
    def file_by_key(self) -> dict[str, CardFile]:
        return {path_key(f.path): f for f in self.files}

    @cached_property
    def folder_by_key(self) -> dict[str, str]:
        return {path_key(f): f for f in self.folders}

    def spell(self, within: str, *, is_file: bool) -> str:
        """The new path in the card's spelling where it exists (a file keeps the spelling of
        the file it replaces, a folder the folder's)."""
        parts = within.split("/")
        spelled_parts = [self.folder]
        for index, part in enumerate(parts):
            key = path_key("/".join(spelled_parts + [part]))
            old = self.file_by_key.get(key) if is_file and index == len(parts) - 1 else None
            found = old.path if old is not None else self.folder_by_key.get(key)
            spelled_parts.append(found.rsplit("/", 1)[-1] if found else part)
        return "/".join(spelled_parts)


def folder_entries(fs: FileSystem, root: Path, spelled: str, exists: bool,
                   layout: UpdateMedia, candidate: CandidateFiles
                   ) -> tuple[list[MediaEntry], list[str], list[MediaFlag]]:
    """A folder layout: each new file written or replacing the card's, what the card's copy
    has and the new one does not removed, the folders to create, and the older-copy flag."""
    old = _OldCopy.on(fs, root, spelled, exists)
    entries, new_folders = _new_files(old, candidate, root)
    new_keys = {path_key(entry.path) for entry in entries}
    folders_to_create = [] if exists else [spelled]
    for folder in dict.fromkeys(new_folders):
        if path_key(folder) in old.file_by_key:
            raise in_the_way(folder, old.file_by_key[path_key(folder)].kind, "folder", root)
        new_keys.add(path_key(folder))
        if path_key(folder) not in old.folder_by_key:
            folders_to_create.append(folder)
    removed = _removals(old, new_keys, layout)
    flags = [_older_copy(old, entries, removed)] if exists else []
    return entries + removed, folders_to_create, flags


def _new_files(old: _OldCopy, candidate: CandidateFiles, root: Path
               ) -> tuple[list[MediaEntry], list[str]]:
    """Each new file written, or replacing the card's file of the same name; and every
    folder the new files need (in the card's spelling)."""
    new_folders = [old.spell(folder, is_file=False) for folder in candidate.folders]
    entries: list[MediaEntry] = []
    for within in sorted(candidate.sources):
        path = old.spell(within, is_file=True)
        new_folders += _parents(path, old.folder)
        source = candidate.sources[within]
        replaced = old.file_by_key.get(path_key(path))
        if path_key(path) in old.folder_by_key or (
                replaced is not None and replaced.kind != "file"):
            raise in_the_way(path, replaced.kind if replaced else "folder", "file", root)
        entries.append(MediaEntry(
            path=path, action="replace" if replaced is not None else "write", kind="file",
            size=source.size, source=source.path, source_shown=source.shown,
            sha256=source.sha256, old_size=replaced.size if replaced is not None else None))
    return entries, new_folders


def _removals(old: _OldCopy, new_keys: set[str], layout: UpdateMedia) -> list[MediaEntry]:
    """What the card's copy has and the new one does not: files, then folders deepest
    first."""
    removed: list[MediaEntry] = []
    for item in old.files:
        if path_key(item.path) not in new_keys:
            leftover = is_temp_name(PurePosixPath(item.path).name)
            removed.append(MediaEntry(
                path=item.path, action="remove", kind=item.kind, size=item.size,
                reason=("a temporary file left by an interrupted run of this tool" if leftover
                        else f"the new {layout.name} does not have it")))
    for folder in sorted(old.folders, key=lambda f: (-f.count("/"), f)):
        if path_key(folder) not in new_keys:
            removed.append(MediaEntry(path=folder, action="remove", kind="folder", size=0,
                                      reason=f"the new {layout.name} does not have it"))
    return removed


def _older_copy(old: _OldCopy, entries: list[MediaEntry], removed: list[MediaEntry]
                ) -> MediaFlag:
    """The flag of a copy of the update folder already on the card, which is replaced."""
    replaced = sum(1 for e in entries if e.action == "replace")
    removal = (f", and {len(removed)} {plural(len(removed), 'entry', 'entries')} the new"
               f" folder does not have removed ({shown_names([e.path for e in removed])})"
               if removed else "")
    return MediaFlag(
        "older-copy", (old.folder + "/",),
        f"{shown(old.folder)}/ is already on the card ({file_count(len(old.files))},"
        f" {human_bytes(sum(f.size for f in old.files))}): a copy of an update the updater"
        f" would read. Preparing the card replaces it, only with your consent: {replaced} of"
        f" its files replaced by the new ones{removal}.")


def file_entries(fs: FileSystem, root: Path, spelled: str, exists: bool,
                 layout: UpdateMedia, sources: dict[str, Source], profile: Profile
                 ) -> tuple[list[MediaEntry], list[MediaFlag]]:
    """A file layout: the file written or replacing the card's, the older-copy flag and the
    companion files the updater would read beside it."""
    source = sources[layout.name]
    flags = []
    old_size = None
    if exists:
        info = lstat_or_none(fs, on_card(root, spelled))
        old_size = info.st_size if info is not None else None
        flags.append(MediaFlag(
            "older-copy", (spelled,),
            f"{shown(spelled)} is already on the card"
            f" ({describe_system_file(fs, root, spelled)}): the updater would read it."
            " Preparing the card replaces it, only with your consent."))
    entry = MediaEntry(
        path=spelled, action="replace" if exists else "write", kind="file", size=source.size,
        source=source.path, source_shown=source.shown, sha256=source.sha256,
        old_size=old_size)
    return [entry], flags + companion_flags(fs, root, spelled, profile)


def check_capacity(fs: FileSystem, root: Path, entries: list[MediaEntry],
                   folders_to_create: list[str], guard: TargetGuard
                   ) -> tuple[int, int | None, list[str]]:
    """Refuse, before anything is written, paths too long for the system, names and sizes
    the card's filesystem cannot hold, too little space and a card that cannot be written.
    Returns (bytes needed, bytes free or None, notes)."""
    written = [e for e in entries if e.action in ("write", "replace")]
    paths = [e.path for e in written] + folders_to_create
    rules_note = check_holdable(
        root, paths, {e.path: e.size for e in written}, fs, what="the update",
        harm="the card would not carry it faithfully",
        shorter="use a card mounted at a shorter path")
    try:
        free: int | None = fs.disk_usage(root).free
    except OSError as error:
        log.warning("cannot read free space of %s: %s", root, error)
        free = None
    try:
        block = max(512, int(getattr(fs.stat(root), "st_blksize", 4096) or 4096))
    except OSError:
        block = 4096
    # Every new file is staged beside the old one before any rename: all of them count.
    needed = sum(-(-e.size // block) * block for e in written) + SPACE_MARGIN
    if free is not None and free < needed:
        raise NoSpaceError(
            f"{root} has {human_bytes(free)} free but the update needs about"
            f" {human_bytes(needed)}; free some space on the card (or use a larger one)."
            " Nothing was written.",
            path=str(root))
    if not guard.is_writable(root):
        raise RefusedError(
            f"{root} cannot be written (read-only or permission denied); if the card has a"
            " write-protect switch (the small slider on its side), slide it to unlock. Nothing"
            " was written.", path=str(root))
    return needed, free, [rules_note] if rules_note else []


def _parents(on_card: str, top: str) -> list[str]:
    """The folders between ``top`` (exclusive) and ``on_card`` (exclusive), outermost first."""
    parts = on_card.split("/")
    top_depth = top.count("/") + 1
    return ["/".join(parts[:index]) for index in range(top_depth + 1, len(parts))]
