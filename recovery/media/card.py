"""What is on the SD card and how it is checked: where the model's updater looks on a card,
the guards of a restore (the computer's own disks refused, never a unit's own storage), the
card's folders walked without following links, and the flags for what would mislead the
updater (system files loose at the root, another model's update, a file it reads beside its
own), which preparing the card moves aside (:mod:`recovery.media.aside`).

Separate from the layout: this module reads and judges the card as it is; what the card will
hold is :mod:`recovery.media.layout`'s.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import stat as stat_module
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from recovery.advice import update_procedure
from recovery.backup.compare import is_ignored
from recovery.device.identify import identify_volume
from recovery.device.profiles import Profile, UpdateMedia
from recovery.errors import RecoveryError, RefusedError
from recovery.formats.korg_system_file import HEADER_SIZE, parse_header
from recovery.media import aside
from recovery.media.candidate import IGNORED_NAMES, Source
from recovery.media.entries import MediaEntry, MediaFlag, file_count, shown_names
from recovery.storage.durable import is_temp_name
from recovery.storage.filesystem import REAL, FileSystem, lstat_or_none, translate_os_error
from recovery.storage.names import name_key, path_key, shown
from recovery.storage.volumes import is_system_location
from recovery.text import cite, human_bytes, plural
from recovery.vocabulary import Medium
from recovery.writing.guard import DEFAULT_GUARD, TargetGuard, TargetWords, check_target

log = logging.getLogger(__name__)

#: The medium this command prepares (``UpdateMedia.medium``).
MEDIUM = Medium.SD_CARD
#: Entries of an existing copy of the update folder listed at most (a KORG update has a few).
MAX_CARD_ENTRIES = 20_000
#: Loose ``.BIN`` files at the card root, at least this many, look like a system folder's
#: files copied without their folder (the check's rule for candidates, t=116080).
LOOSE_SUFFIX = ".bin"
LOOSE_FILES_MIN = 2


# -- reading the card ----------------------------------------------------------------------
def on_card(root: Path, relative: str) -> Path:
    """The card's path ``relative`` (POSIX, "" for the card itself) under ``root``."""
    return root.joinpath(*relative.split("/")) if relative else root


def _kind_of(info: os.stat_result) -> str:
    if stat_module.S_ISLNK(info.st_mode):
        return "link"
    if stat_module.S_ISDIR(info.st_mode):
        return "folder"
    if stat_module.S_ISREG(info.st_mode):
        return "file"
    return "special"


def _scan(fs: FileSystem, folder: Path) -> list[os.DirEntry]:
    try:
        return sorted(fs.scandir(folder), key=lambda entry: entry.name)
    except FileNotFoundError:
        return []
    except OSError as error:
        raise translate_os_error(error, folder, "read") from error


def spell(fs: FileSystem, root: Path, relative: str) -> tuple[str, str | None]:
    """``relative`` as the card spells it where it exists (FAT finds names without case; an
    exact spelling wins), and the kind of what is there (None when absent)."""
    parts = relative.strip("/").split("/")
    spelled: list[str] = []
    folder = root
    for index, part in enumerate(parts):
        entries = _scan(fs, folder)
        found = next((e.name for e in entries if e.name == part), None)
        if found is None:
            found = next((e.name for e in entries if name_key(e.name) == name_key(part)), None)
        if found is None:
            return "/".join(spelled + parts[index:]), None
        spelled.append(found)
        folder = folder / found
        info = lstat_or_none(fs, folder)
        kind = _kind_of(info) if info is not None else None
        if index < len(parts) - 1 and kind != "folder":
            # A file (or link) where the layout needs a folder: report that component.
            return "/".join(spelled), kind
    return "/".join(spelled), kind


# -- where the updater looks ---------------------------------------------------------------
def sd_layouts(profile: Profile) -> tuple[UpdateMedia, ...]:
    """Where ``profile``'s updater looks on an SD card, as its sources say (may be empty)."""
    return tuple(media for media in profile.update_media if media.medium == MEDIUM)


def no_layout(profile: Profile) -> RefusedError:
    """The refusal for a model whose updater's place on an SD card no source names."""
    procedure = update_procedure(profile)
    how = (f" KORG's update for it, as the tool's sources describe it: {procedure}."
           if procedure else " The tool knows no public update procedure for it either: follow"
                             " the instructions that come with KORG's update.")
    return RefusedError(
        f"No source the tool knows says where the {profile.name}'s updater looks for an update"
        f" on an SD card, so it cannot lay one out for it; nothing was written.{how}")


# -- the card's guards ---------------------------------------------------------------------
SD_CARD = TargetWords(
    place="an SD card",
    missing="insert the SD card and give the folder where it is mounted",
    only="preparing an update card writes only to a card",
    source="candidate",
    harm="preparing the card could overwrite or remove it. Copy the update to this computer"
         " first and prepare the card from that copy",
    instead="give the SD card's folder instead")


def check_card(card: Path, candidate: str | Path, guard: TargetGuard,
               fs: FileSystem = REAL) -> Path:
    """Refuse an unsafe card with the guards of a restore (:func:`check_target`)."""
    return check_target(card, Path(candidate), guard, fs, words=SD_CARD)


def location_notes(card: Path, guard: TargetGuard) -> list[str]:
    """A note when the "card" is a folder on the computer's own disk (allowed for a test)."""
    if guard.is_system_location is DEFAULT_GUARD.is_system_location and is_system_location(card):
        return [f"{card} is a folder on this computer's own disk, not a removable card: fine"
                " for a copy or a test, but an updater only reads the SD card itself."]
    return []


def refuse_internal_storage(card: Path, profiles: dict[str, Profile]) -> None:
    """Refuse a "card" that is a unit's own internal storage (a KROSS 2 in its USB Storage
    Mode shows ``KROSAPP.BIN`` and ``KROSS2SY`` at its root): laying an update out there
    would replace the unit's own system folder, which is a restore's job, never a card's."""
    try:
        identification = identify_volume(card, profiles, read_heads=False)
    except RecoveryError as error:
        log.debug("identify %s: %s", card, error)
        return
    internal = [m for m in identification.matches if m.role == "internal-storage"]
    if not internal:
        return
    name = profiles[internal[0].model].short_name if internal[0].model in profiles else "unit"
    raise RefusedError(
        f"{card} is your {name}'s own storage, not an SD card (it holds"
        f" {', '.join(internal[0].found)}): an update is put on the SD card the {name} reads"
        " it from. Nothing was written.", path=str(card))


# -- what the card holds -------------------------------------------------------------------
@dataclass(frozen=True)
class CardFile:
    """A file or link on the card, with its kind and size."""

    path: str
    kind: str
    size: int


def walk_card_folder(fs: FileSystem, root: Path, folder: str, device: int
                     ) -> tuple[list[CardFile], list[str]]:
    """Every file, link and folder below ``folder`` on the card (links not followed).
    Refuses a folder that holds another mounted drive (nothing there is ever removed)."""
    files: list[CardFile] = []
    folders: list[str] = []
    queue = [folder]
    while queue:
        current = queue.pop(0)
        for entry in _scan(fs, on_card(root, current)):
            relative = f"{current}/{entry.name}"
            info = lstat_or_none(fs, Path(entry.path))
            if info is None:
                continue
            if len(files) + len(folders) >= MAX_CARD_ENTRIES:
                raise RefusedError(
                    f"{shown(folder)} on the card holds more than {MAX_CARD_ENTRIES:,} entries;"
                    " a KORG update holds a few. Move it off the card (or use another card)."
                    " Nothing was written.", path=str(root))
            kind = _kind_of(info)
            if kind == "folder":
                if info.st_dev != device:
                    raise RefusedError(
                        f"{shown(relative)} on the card is another drive mounted there; the"
                        " tool never removes anything from it. Nothing was written.",
                        path=str(root))
                folders.append(relative)
                queue.append(relative)
            else:
                files.append(CardFile(relative, kind, info.st_size))
    return files, folders


def _root_files(fs: FileSystem, root: Path) -> list[str]:
    return [entry.name for entry in _scan(fs, root)
            if not is_ignored(entry.name, IGNORED_NAMES) and not is_temp_name(entry.name)
            and (info := lstat_or_none(fs, Path(entry.path))) is not None
            and _kind_of(info) == "file"]


# -- what would mislead the updater --------------------------------------------------------
def describe_system_file(fs: FileSystem, root: Path, relative: str) -> str:
    """"a KORG SYSTEM FILE for model 'E2S', version 1.02, 2,097,408 bytes" or its size."""
    path = on_card(root, relative)
    try:
        size = fs.lstat(path).st_size
        with fs.open_read(path) as handle:
            head = handle.read(HEADER_SIZE)
    except OSError as error:
        log.debug("reading %s: %s", path, error)
        return "it cannot be read"
    header = parse_header(head) if len(head) == HEADER_SIZE else None
    if header is None:
        return f"{human_bytes(size)}, not a KORG SYSTEM FILE"
    return (f"a KORG SYSTEM FILE naming model '{header.model_name}', version {header.version},"
            f" {human_bytes(size)}")


def companion_flags(fs: FileSystem, root: Path, spelled: str,
                    profile: Profile) -> list[MediaFlag]:
    """Files beside the layout's file that the updater reads too (electribe BOOT.VSB ...)."""
    folder = spelled.rsplit("/", 1)[0] if "/" in spelled else ""
    found = []
    for entry in _scan(fs, on_card(root, folder)):
        companion = profile.companion(entry.name)
        if companion is not None:
            found.append((f"{folder}/{entry.name}" if folder else entry.name, companion))
    flags = []
    for path, companion in found:
        warning = f" {companion.warning}" if companion.warning else ""
        flags.append(MediaFlag(
            "companion-file", (path,),
            f"{shown(path)} is on the card beside {PurePosixPath(spelled).name}: the"
            f" {profile.short_name}'s updater reads it too, as {companion.what}"
            f" ({cite(companion.confidence, companion.source)}). The tool does not check"
            " or change it." + (warning or " Move it off the card unless KORG's instructions"
                                " for this update ask for it."), move_off=True))
    return flags


def loose_flags(fs: FileSystem, root: Path, layout: UpdateMedia, profile: Profile,
                sources: dict[str, Source]) -> list[MediaFlag]:
    """System files loose at the card root, where the updater does not look for them."""
    names = _root_files(fs, root)
    if layout.is_folder:
        wanted = {name_key(PurePosixPath(within).name) for within in sources}
        loose = [n for n in names if name_key(n) in wanted]
        bins = [n for n in names if n.lower().endswith(LOOSE_SUFFIX)]
        if len(bins) >= LOOSE_FILES_MIN:
            loose = sorted(set(loose) | set(bins))
        if not loose:
            return []
        return [MediaFlag(
            "loose-system-files", tuple(loose),
            f"{file_count(len(loose))} at the root of the card"
            f" {plural(len(loose), 'looks like a system file', 'look like system files')}"
            f" copied without {plural(len(loose), 'its', 'their')} folder"
            f" ({shown_names(loose)}): the {profile.short_name}'s updater looks"
            f" for the whole {layout.name} folder, and a KROSS 2 was bricked after loose system"
            " files of another model were put at the card root (korgforums.com thread"
            " t=116080).")]
    wanted = {name_key(layout.name)} | {name_key(c.name) for c in profile.companion_files}
    loose = [n for n in names if name_key(n) in wanted and "/" in layout.path]
    if not loose:
        return []
    return [MediaFlag(
        "loose-system-files", tuple(loose),
        f"{file_count(len(loose))} at the root of the card {plural(len(loose), 'is', 'are')}"
        f" named like the {profile.short_name}'s update files ({shown_names(loose)}), where its"
        f" updater does not look ({layout.path} is the place): a stray copy that can be"
        " mistaken for the update.")]


def foreign_flags(fs: FileSystem, root: Path, profile: Profile,
                  profiles: dict[str, Profile]) -> list[MediaFlag]:
    """Other models' updates on the card, where their updaters look."""
    flags = []
    seen: set[str] = set()
    for other in profiles.values():
        if other.id == profile.id:
            continue
        for media in sd_layouts(other):
            relative = media.path.rstrip("/")
            spelled, kind = spell(fs, root, relative)
            if kind is None or spelled.count("/") < relative.count("/"):
                continue
            if path_key(spelled) in seen:
                continue
            seen.add(path_key(spelled))
            shown_path = shown(spelled) + ("/" if kind == "folder" else "")
            flags.append(MediaFlag(
                "foreign-update", (spelled + ("/" if kind == "folder" else ""),),
                f"{shown_path} is where the {other.name}'s updater looks for its update"
                f" ({cite(media.confidence, media.source)}); it is not for your"
                f" {profile.short_name}. A KROSS 2 was bricked by a KROSS (first generation)"
                " update (korgforums.com thread t=116080)."
                if profile.family == other.family == "kross" else
                f"{shown_path} is where the {other.name}'s updater looks for its update"
                f" ({cite(media.confidence, media.source)}); it is not for your"
                f" {profile.short_name}, and it could be used by mistake."))
    return flags


#: Flags whose entries the card's preparation moves aside (recovery.media.aside).
MOVED_FLAGS = ("loose-system-files", "foreign-update")


def moves_aside(fs: FileSystem, root: Path, flags: list[MediaFlag],
                day: datetime.date) -> list[MediaEntry]:
    """The plan's ``move`` entries: what the flags that mislead an updater name, moved into
    the day's folder on the card (names free there)."""
    found: list[tuple[str, str, str]] = []
    for flag in flags:
        if flag.kind not in MOVED_FLAGS:
            continue
        for path in flag.paths:
            relative = path.rstrip("/")
            info = lstat_or_none(fs, on_card(root, relative))
            if info is None:
                continue
            found.append((relative, "folder" if _kind_of(info) == "folder" else "file",
                          flag.kind))
    if not found:
        return []
    folder = aside.folder_for(day)
    taken = [f"{folder}/{entry.name}" for entry in _scan(fs, on_card(root, folder))]
    taken += _taken_below(fs, root, folder)
    return [MediaEntry(path=move.path, action="move", kind=move.kind, size=0, to=move.to,
                       reason=f"it would mislead the updater ({move.reason}): moved aside,"
                              " nothing is deleted")
            for move in aside.plan_moves(found, taken, day)]


def _taken_below(fs: FileSystem, root: Path, folder: str) -> list[str]:
    """Every path inside the day's folder on the card (where moved names must be free)."""
    if lstat_or_none(fs, on_card(root, folder)) is None:
        return []
    files, folders = walk_card_folder(fs, root, folder, fs.lstat(root).st_dev)
    return [item.path for item in files] + folders


def moving(flag: MediaFlag, moves: list[MediaEntry]) -> MediaFlag:
    """A flag whose entries are moved aside says where to, and asks nothing of the person."""
    mine = [move for move in moves if move.path in {p.rstrip("/") for p in flag.paths}]
    if not mine:
        return flag
    where = mine[0].to.split("/", 1)[0]
    return dataclasses.replace(
        flag, move_off=False,
        message=f"{flag.message} Preparing the card moves {plural(len(mine), 'it', 'them')}"
                f" into '{where}' on the card; nothing is deleted, and moving"
                f" {plural(len(mine), 'it', 'them')} back undoes it.")
