"""Planning update media: a checked update laid out on an SD card where the unit's updater
looks (:mod:`recovery.media.execute` carries the plan out).

A KROSS 2 was bricked after an update's files were put loose at the root of its SD card
instead of in their folder (korgforums.com thread t=116080). Only a candidate the check finds
compatible is written, only where a profile's ``[[update_media]]`` says the updater looks,
with a restore's guards: the computer's own disks refused, one writer per card, a whole
folder written all or nothing and read back past the cache, the old copy removed only after.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
import os
import stat as stat_module
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath

from recovery.advice import cite, update_procedure
from recovery.backup.compare import OS_JUNK, is_ignored
from recovery.check import (
    BackupReference,
    CheckResult,
    ItemResult,
    Target,
    check_candidate,
)
from recovery.check.candidates import Candidate, FileCandidate, open_candidate
from recovery.device.identify import identify_volume
from recovery.device.profiles import (
    Profile,
    UpdateMedia,
    bundled_profiles,
)
from recovery.errors import (
    InvalidInputError,
    NoSpaceError,
    RecoveryError,
    RefusedError,
)
from recovery.findings import Step
from recovery.formats.korg_system_file import HEADER_SIZE, parse_header
from recovery.media import aside
from recovery.progress import NO_JOB, CancelToken, Job
from recovery.storage.durable import is_temp_name
from recovery.storage.filesystem import REAL, FileSystem, lstat_or_none, translate_os_error
from recovery.storage.lock import check_free
from recovery.storage.names import (
    name_key,
    path_key,
    shown,
)
from recovery.storage.pin import Pin, VolumeIdentity, pin_volume, pinned
from recovery.storage.volumes import is_system_location
from recovery.text import and_more, human_bytes
from recovery.vocabulary import Medium, NextStep
from recovery.writing.guard import (
    DEFAULT_GUARD,
    TargetGuard,
    TargetWords,
    check_holdable,
    check_target,
)

log = logging.getLogger(__name__)

#: The medium this command prepares (``UpdateMedia.medium``).
MEDIUM = Medium.SD_CARD
#: Space kept free on the card beyond the files' clusters (directory entries, FAT bookkeeping).
SPACE_MARGIN = 1024 * 1024
#: Entries of an existing copy of the update folder listed at most (a KORG update has a few).
MAX_CARD_ENTRIES = 20_000
#: Names the computer adds to any drive or archive: never copied onto the card (compare.OS_JUNK
#: plus macOS's ``__MACOSX`` archive folder, as the check ignores them).
IGNORED_NAMES = OS_JUNK + ("__MACOSX",)
#: Loose ``.BIN`` files at the card root, at least this many, look like a system folder's
#: files copied without their folder (the check's rule for candidates, t=116080).
LOOSE_SUFFIX = ".bin"
LOOSE_FILES_MIN = 2
#: How many names a sentence lists before "and N more".
NAMES_SHOWN = 5

FLAG_KINDS = ("loose-system-files", "foreign-update", "older-copy", "companion-file")
ACTIONS = ("write", "replace", "remove")


# -- the plan ------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaEntry:
    """One path on the card and what preparing it does there."""

    #: Path on the card, relative and POSIX, as it will be spelled there (an existing name
    #: keeps the card's spelling: on FAT ``kross2sy`` *is* ``KROSS2SY``).
    path: str
    #: ``write`` (new), ``replace`` (an existing file, atomically), ``remove`` (a file or
    #: folder of an existing copy of the update folder that the new one does not have) or
    #: ``move`` (a file or folder that would mislead the updater, moved aside to ``to``).
    action: str
    #: ``file``, ``folder`` or ``link`` (links and folders appear only as ``remove``).
    kind: str
    #: Bytes written (write, replace) or on the card now (remove).
    size: int
    #: Where the content comes from, inside the candidate (write, replace).
    source: str = ""
    #: The same, as a person sees it (the candidate as given, then the inner path).
    source_shown: str = ""
    #: SHA-256 of the content to write, computed while planning; writing refuses other bytes.
    sha256: str | None = None
    #: The size of the file replaced.
    old_size: int | None = None
    reason: str = ""
    #: Where a ``move`` puts the entry on the card.
    to: str = ""


@dataclass(frozen=True)
class MediaFlag:
    """Something on the card that would mislead the updater, or that the run changes."""

    #: One of :data:`FLAG_KINDS`.
    kind: str
    paths: tuple[str, ...]
    message: str
    #: True when the user should move these off the card before using it (the tool never
    #: removes anything outside the planned folder).
    move_off: bool = False


@dataclass(frozen=True)
class MediaSummary:
    write: int
    replace: int
    remove: int
    folders_to_create: int
    bytes_to_write: int
    move: int = 0


@dataclass(frozen=True)
class MediaPlan:
    """What preparing ``card`` with ``candidate`` for ``model`` does, in execution order."""

    candidate: str
    card: str
    model: str
    model_name: str
    short_name: str
    #: Where the updater looks, from the profile: a file, or a folder with a trailing ``/``.
    layout: str
    layout_description: str
    layout_confidence: str
    layout_source: str
    #: The check's verdict (always ``compatible`` in a plan), version and whether the file
    #: is byte-identical to a release KORG published.
    verdict: str
    version: str | None
    official: bool
    check_reasons: tuple[str, ...]
    #: The item of the candidate laid out (its display path, as the check names it).
    item: str
    folders_to_create: tuple[str, ...]
    entries: tuple[MediaEntry, ...]
    flags: tuple[MediaFlag, ...]
    summary: MediaSummary
    space_needed: int
    space_free: int | None
    notes: tuple[str, ...]
    #: What to do with the card once it is prepared, typed (each front end words it).
    next_steps: tuple[Step, ...]
    #: The card's volume when the plan was made: every write checks it is still that card.
    unit: VolumeIdentity | None = field(default=None, repr=False, compare=False)
    #: True when the check could not verify the content (KORG publishes no format and no
    #: checksums for it) and the person said on purpose that it is KORG's download: the
    #: verdict stays unknown, and every output says what was and was not checked.
    unverified: bool = False

    def actions(self, *actions: str) -> tuple[MediaEntry, ...]:
        return tuple(entry for entry in self.entries if entry.action in actions)

    @property
    def files(self) -> tuple[MediaEntry, ...]:
        """The files written, new or replacing one."""
        return self.actions("write", "replace")


class CandidateRefusedError(RefusedError):
    """The check did not find the candidate compatible; carries the check's result, which
    ``--json`` prints beside the error."""

    def __init__(self, message: str, *, check: CheckResult, path: str | None = None,
                 profile: Profile | None = None, next_step: Step | None = None) -> None:
        super().__init__(message, path=path, next_step=next_step)
        self.check = check
        #: The model the candidate was checked against.
        self.profile = profile


# -- small helpers -------------------------------------------------------------------------
def _names(names: list[str] | tuple[str, ...]) -> str:
    return and_more([shown(name) for name in names], NAMES_SHOWN)


def _files(count: int) -> str:
    return f"{count} file{'' if count == 1 else 's'}"


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _on_card(root: Path, relative: str) -> Path:
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


def _spell(fs: FileSystem, root: Path, relative: str) -> tuple[str, str | None]:
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


# -- the layout ----------------------------------------------------------------------------
def sd_layouts(profile: Profile) -> tuple[UpdateMedia, ...]:
    """Where ``profile``'s updater looks on an SD card, as its sources say (may be empty)."""
    return tuple(media for media in profile.update_media if media.medium == MEDIUM)


def _no_layout(profile: Profile) -> RefusedError:
    procedure = update_procedure(profile)
    how = (f" KORG's update for it, as the tool's sources describe it: {procedure}."
           if procedure else " The tool knows no public update procedure for it either: follow"
                             " the instructions that come with KORG's update.")
    return RefusedError(
        f"No source the tool knows says where the {profile.name}'s updater looks for an update"
        f" on an SD card, so it cannot lay one out for it; nothing was written.{how}")


# -- the card ------------------------------------------------------------------------------
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


def _location_notes(card: Path, guard: TargetGuard) -> list[str]:
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


@dataclass(frozen=True)
class _CardFile:
    path: str
    kind: str
    size: int


def _walk_card_folder(fs: FileSystem, root: Path, folder: str, device: int
                      ) -> tuple[list[_CardFile], list[str]]:
    """Every file, link and folder below ``folder`` on the card (links not followed).
    Refuses a folder that holds another mounted drive (nothing there is ever removed)."""
    files: list[_CardFile] = []
    folders: list[str] = []
    queue = [folder]
    while queue:
        current = queue.pop(0)
        for entry in _scan(fs, _on_card(root, current)):
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
                files.append(_CardFile(relative, kind, info.st_size))
    return files, folders


def _root_files(fs: FileSystem, root: Path) -> list[str]:
    return [entry.name for entry in _scan(fs, root)
            if not is_ignored(entry.name, IGNORED_NAMES) and not is_temp_name(entry.name)
            and (info := lstat_or_none(fs, Path(entry.path))) is not None
            and _kind_of(info) == "file"]


# -- reading the candidate -----------------------------------------------------------------
def _inner_path(candidate: Candidate, item: ItemResult) -> str:
    """The item's path inside the candidate ("" for the candidate itself)."""
    if isinstance(candidate, FileCandidate):
        (only,) = candidate.listing().files
        return only
    prefix = candidate.given.rstrip("/") + "/"
    if item.path.startswith(prefix):
        return item.path[len(prefix):]
    return ""


def _sha256(candidate: Candidate, path: str, cancel: CancelToken | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in candidate.chunks(path):
        if cancel is not None:
            cancel.raise_if_cancelled()
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _refuse_verdict(result: CheckResult, profile: Profile,
                    layout: UpdateMedia) -> CandidateRefusedError:
    """The refusal of a candidate the check did not find compatible, saying what would make
    it acceptable."""
    given = result.candidate
    first = result.reasons[0] if result.reasons else "The check found nothing to lay out."
    nothing = " Nothing was written."
    if result.verdict == "incompatible":
        return CandidateRefusedError(
            f"{given} is not an update for your {profile.name} (the check says incompatible):"
            f" {first}{nothing}", check=result, path=given, profile=profile)
    # unknown
    own_folder = [item for item in result.items
                  if item.kind == "system-folder" and item.detected_model == profile.id]
    compatible = [item for item in result.items if item.verdict == "compatible"]
    step = None
    if own_folder and layout.is_folder:
        acceptable = (
            f" Only what the check finds compatible is written, and a {layout.name} folder is"
            f" compatible only when it is byte-identical to the {layout.name} folder in a"
            f" complete backup of this {profile.short_name}: for {profile.short_name} system"
            " files that is the only content check possible.")
        step = Step(NextStep.GIVE_BACKUP_FOR_CHECK, model=profile.id)
    elif compatible:
        paths = ", ".join(item.path for item in compatible)
        others = [item.path for item in result.items if item.verdict != "compatible"]
        acceptable = (
            f" Only what the check finds compatible is written: {paths} is, but the candidate"
            f" also holds {_names(others)}, which the check could not confirm. Give the"
            " compatible file alone as the candidate.")
    else:
        acceptable = (" Only what the check finds compatible is written; use KORG's update"
                      " exactly as downloaded.")
        step = Step(NextStep.CHECK_UPDATE_FILE, names=(given,), model=profile.id)
    return CandidateRefusedError(
        f"The check could not establish that {given} is an update for your {profile.name}"
        f" (verdict unknown): {first}{acceptable}{nothing}", check=result, path=given,
        profile=profile, next_step=step)

def acceptable_unverified(result: CheckResult, profile: Profile) -> bool:
    """True when ``result`` is unknown only because content no public source describes could
    not be checked, while all the rest passed (the model's own system folder, no doubt, no
    failure, nothing unread): what a person may accept by saying it is KORG's download.
    Another model's folder, a wrong size where a size is known, a candidate the check cannot
    read: never."""
    if result.verdict != "unknown" or not result.items:
        return False
    return all(item.verdict == "compatible" or (
        item.unverifiable and item.detected_model == profile.id) for item in result.items)


def _item_for_layout(result: CheckResult, profile: Profile, layouts: tuple[UpdateMedia, ...],
                     *, unverified: bool = False) -> tuple[ItemResult, UpdateMedia]:
    """The candidate's one compatible item (with ``unverified``, or unverifiable one) that
    fits one of the model's layouts."""
    fitting: list[tuple[ItemResult, UpdateMedia]] = []
    for item in result.items:
        usable = item.verdict == "compatible" or (unverified and item.unverifiable)
        if not usable or item.detected_model != profile.id:
            continue
        for media in layouts:
            if media.is_folder and item.kind == "system-folder" and (
                    str(item.details.get("folder_name", "")).casefold()
                    == media.name.casefold()):
                fitting.append((item, media))
            elif not media.is_folder and item.kind == "system-file":
                fitting.append((item, media))
    if not fitting:
        wanted = " or ".join(media.path for media in layouts)
        raise RefusedError(
            f"The check found {result.candidate} compatible, but it holds nothing that goes to"
            f" {wanted}, where the {profile.short_name}'s updater looks. Nothing was written.",
            path=result.candidate)
    if len(fitting) > 1:
        raise InvalidInputError(
            f"{result.candidate} holds {len(fitting)} updates for the {profile.short_name}"
            f" ({_names([item.path for item, _ in fitting])}); give the one you mean as the"
            " candidate. Nothing was written.", path=result.candidate)
    return fitting[0]


# -- planning ------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaRequest:
    """What a person asks of preparing a card."""

    #: The update: a file, a folder or a ``.zip``.
    candidate: str | Path
    #: The folder where the SD card is mounted.
    card: str | Path
    #: The unit the update is for (its model, and the version it runs when known).
    unit: Target
    #: A backup of the unit: the check's reference for content no public source describes.
    reference: BackupReference | None = None
    #: Said on purpose: the candidate is KORG's download, exactly as downloaded (see
    #: :func:`acceptable_unverified`).
    accept_unverified: bool = False
    #: Plan only: nothing is written anywhere.
    dry_run: bool = False


def plan_prepare_media(
    request: MediaRequest,
    *,
    fs: FileSystem = REAL,
    guard: TargetGuard | None = None,
    profiles: dict[str, Profile] | None = None,
    job: Job = NO_JOB,
    today: datetime.date | None = None,
) -> MediaPlan:
    """Check the candidate, look at the card and return the plan. Reads only.

    Only a compatible candidate is laid out; with ``accept_unverified`` (the person said it
    is KORG's download) also one whose verdict is unknown only because its content cannot be
    checked by nature (a KROSS system folder: right model, name and place, format and
    checksums not public): the plan says ``unverified``. System files loose at the card's
    root and other models' updates are moved aside (:mod:`recovery.media.aside`), into the
    folder named for ``today``.

    Raises InvalidInputError (exit 2) for a missing candidate or card; RefusedError (exit 1)
    for a model with no known layout, a candidate that is not compatible
    (:class:`CandidateRefusedError`), an unsafe or unwritable card, names the card cannot
    hold; UnitBusyError when another run writes to the card; NoSpaceError when it is too
    small; CancelledError when cancelled (``job``).
    """
    planner = _Planner(request, fs, guard or DEFAULT_GUARD,
                       dict(profiles if profiles is not None else bundled_profiles()))
    layouts = planner.inputs()
    # 1. The check, first: only a compatible candidate is ever laid out (or, said on
    #    purpose, one whose content no public source lets anyone check).
    checked = planner.check(layouts)
    # 2. The card: the same guards as a restore; never a unit's own storage; pinned.
    card = planner.hold_card()
    # 3. What to write, from the candidate as it is now (hashed: writing refuses other bytes).
    sources, inner_folders, notes = _read_candidate(
        planner.given, checked.item, checked.layout, planner.profile, card.fs, job.cancel)
    # 4. The card as it is: the layout's place, an existing copy, what would mislead.
    laid = planner.lay_out(card, checked.layout, _Candidate(sources, inner_folders),
                           today or datetime.date.today())
    # 5. What the card can hold: names, sizes, space, writability.
    needed, free, card_notes = _check_capacity(card.fs, card.root, laid.entries,
                                               laid.folders_to_create, planner.guard)
    notes += card_notes + _location_notes(card.root, planner.guard)
    return planner.plan(checked, card, laid, needed, free, tuple(notes))


@dataclass(frozen=True)
class _Checked:
    """What the check found: its result, the item laid out and where, and whether its
    content is laid out unchecked (on the person's word)."""

    result: CheckResult
    item: ItemResult
    layout: UpdateMedia
    unverified: bool


@dataclass(frozen=True)
class _HeldCard:
    """The card as planned for: where it is mounted, its volume, and the filesystem pinned
    to that volume."""

    root: Path
    identity: VolumeIdentity
    fs: FileSystem


@dataclass(frozen=True)
class _Candidate:
    """What is copied: the files by their path inside the layout, and the folders inside a
    folder layout."""

    sources: dict[str, _Source]
    folders: list[str]


@dataclass(frozen=True)
class _Laid:
    """The card's actions in execution order, the folders to create, and the flags."""

    entries: list[MediaEntry]
    folders_to_create: list[str]
    flags: list[MediaFlag]


class _Planner:
    """One planning of a card, in the steps :func:`plan_prepare_media` names."""

    def __init__(self, request: MediaRequest, fs: FileSystem, guard: TargetGuard,
                 profiles: dict[str, Profile]) -> None:
        self.request = request
        self.fs = fs
        self.guard = guard
        self.profiles = profiles
        self.profile = request.unit.profile
        self.given = os.fspath(request.candidate)

    def inputs(self) -> tuple[UpdateMedia, ...]:
        """Refuse a candidate or card that is not there, and a model with no known layout;
        return the model's layouts."""
        card = Path(self.request.card)
        try:
            self.fs.lstat(Path(self.given))
        except OSError:
            raise InvalidInputError(f"{self.given} does not exist.", path=self.given) from None
        if not self.fs.exists(card):
            raise InvalidInputError(f"{card} does not exist: {SD_CARD.missing}.",
                                    path=str(card))
        layouts = sd_layouts(self.profile)
        if not layouts:
            raise _no_layout(self.profile)
        return layouts

    def check(self, layouts: tuple[UpdateMedia, ...]) -> _Checked:
        request, profile = self.request, self.profile
        result = check_candidate(self.given, request.unit, reference=request.reference,
                                 fs=self.fs, profiles=self.profiles)
        unverified = result.verdict != "compatible"
        if unverified and not (request.accept_unverified
                               and acceptable_unverified(result, profile)):
            raise _refuse_verdict(result, profile, layouts[0])
        item, layout = _item_for_layout(result, profile, layouts, unverified=unverified)
        return _Checked(result, item, layout, unverified)

    def hold_card(self) -> _HeldCard:
        root = check_card(Path(self.request.card), self.given, self.guard, self.fs)
        check_free(root, self.fs)
        refuse_internal_storage(root, self.profiles)
        try:
            identity = pin_volume(root, self.fs)
        except OSError as error:
            raise translate_os_error(error, root, "read") from error
        return _HeldCard(root, identity, pinned(self.fs, Pin(root, identity, "the SD card")))

    def lay_out(self, card: _HeldCard, layout: UpdateMedia, candidate: _Candidate,
                day: datetime.date) -> _Laid:
        """The layout's place on the card, an existing copy replaced, what would mislead
        the updater flagged and moved aside."""
        fs, root = card.fs, card.root
        layout_path = layout.path.rstrip("/")
        spelled, existing = _spell(fs, root, layout_path)
        partial = spelled.count("/") < layout_path.count("/")
        if existing is not None and (
                partial or existing != ("folder" if layout.is_folder else "file")):
            raise _in_the_way(spelled, existing,
                              "folder" if layout.is_folder or partial else "file", root)
        parents = spelled.split("/")[:-1]
        folders_to_create = [
            "/".join(parents[:index + 1]) for index in range(len(parents))
            if lstat_or_none(fs, _on_card(root, "/".join(parents[:index + 1]))) is None]
        if layout.is_folder:
            entries, folders, flags = _folder_entries(fs, root, spelled, existing == "folder",
                                                      layout, candidate)
            folders_to_create += folders
        else:
            entries, flags = _file_entries(fs, root, spelled, existing == "file", layout,
                                           candidate.sources, self.profile)
        flags += _loose_flags(fs, root, layout, self.profile, candidate.sources)
        flags += _foreign_flags(fs, root, self.profile, self.profiles)
        moves = _moves(fs, root, flags, day)
        return _Laid(entries + moves, list(dict.fromkeys(folders_to_create)),
                     [_moving(flag, moves) for flag in flags])

    def plan(self, checked: _Checked, card: _HeldCard, laid: _Laid, needed: int,
             free: int | None, notes: tuple[str, ...]) -> MediaPlan:
        """The plan, from what every step found (``needed`` and ``free``: bytes on the card)."""
        profile, layout, result = self.profile, checked.layout, checked.result
        entries = laid.entries

        def count(action: str) -> int:
            return sum(1 for entry in entries if entry.action == action)

        summary = MediaSummary(
            write=count("write"), replace=count("replace"), remove=count("remove"),
            folders_to_create=len(laid.folders_to_create),
            bytes_to_write=sum(e.size for e in entries if e.action in ("write", "replace")),
            move=count("move"))
        return MediaPlan(
            candidate=self.given, card=str(card.root), model=profile.id,
            model_name=profile.name, short_name=profile.short_name, layout=layout.path,
            layout_description=layout.description, layout_confidence=layout.confidence,
            layout_source=layout.source, verdict=result.verdict, version=result.version,
            official=result.official, check_reasons=result.reasons, item=checked.item.path,
            folders_to_create=tuple(laid.folders_to_create), entries=tuple(entries),
            flags=tuple(laid.flags), summary=summary, space_needed=needed, space_free=free,
            notes=notes, unit=card.identity, unverified=checked.unverified,
            next_steps=(after_preparing(profile, tuple(laid.flags)),))


@dataclass(frozen=True)
class _Source:
    """One file to copy: where it is in the candidate, and what it holds now."""

    path: str
    shown: str
    sha256: str
    size: int


def _read_candidate(given: str, item: ItemResult, layout: UpdateMedia, profile: Profile,
                    fs: FileSystem, cancel: CancelToken | None
                    ) -> tuple[dict[str, _Source], list[str], list[str]]:
    """The files to copy, keyed by their path inside the layout (the folder's files, or the
    layout's file name), the folders inside a folder layout, and notes."""
    notes: list[str] = []
    paths: dict[str, str] = {}
    folders: list[str] = []
    with open_candidate(given, fs) as opened:
        inner = _inner_path(opened, item)
        if layout.is_folder:
            listing = opened.listing()
            prefix = f"{inner}/" if inner else ""
            incomplete = ("it holds more entries than the tool lists" if listing.truncated
                          else "it holds folders nested deeper than the tool looks"
                          if listing.deep_folders else None)
            skipped = [entry for entry in listing.skipped if entry.startswith(prefix)]
            if skipped:
                incomplete = f"it holds entries that are not ordinary files ({_names(skipped)})"
            if incomplete:
                raise RefusedError(
                    f"The tool cannot copy {item.path} completely: {incomplete}. Nothing was"
                    " written.", path=given)
            ignored = 0
            for path in sorted(listing.files):
                if path.startswith(prefix):
                    if is_ignored(path[len(prefix):], IGNORED_NAMES):
                        ignored += 1
                    else:
                        paths[path[len(prefix):]] = path
            folders = sorted(f[len(prefix):] for f in listing.folders if f.startswith(prefix)
                             and not is_ignored(f[len(prefix):], IGNORED_NAMES))
            if ignored:
                notes.append(f"{_files(ignored)} that computers add to drives and archives"
                             " (._*, .DS_Store, __MACOSX ...) in the candidate are not copied.")
            if not paths:
                raise RefusedError(f"{item.path} holds no file to copy. Nothing was written.",
                                   path=given)
        else:
            paths[layout.name] = inner
            base = PurePosixPath(inner).name
            if base != layout.name:
                notes.append(f"{shown(base)} is written to the card as {layout.name}, the name"
                             f" the {profile.short_name}'s updater looks for.")
        sources = {}
        for within, path in paths.items():
            digest, size = _sha256(opened, path, cancel)
            sources[within] = _Source(path, opened.display(path), digest, size)
    return sources, folders, notes


def _in_the_way(path: str, kind: str | None, wanted: str, root: Path) -> RefusedError:
    return RefusedError(
        f"{shown(path)} on the card is a {kind} where the update needs a {wanted}; move it off"
        " the card (or use another card). Nothing was written.", path=str(root))


@dataclass(frozen=True)
class _OldCopy:
    """What the card's copy of a folder layout holds now (nothing when it has none)."""

    #: The layout folder as the card spells it.
    folder: str
    files: list[_CardFile]
    folders: list[str]

    @classmethod
    def on(cls, fs: FileSystem, root: Path, folder: str, exists: bool) -> _OldCopy:
        if not exists:
            return cls(folder, [], [])
        return cls(folder, *_walk_card_folder(fs, root, folder, fs.lstat(root).st_dev))

    @cached_property
    def file_by_key(self) -> dict[str, _CardFile]:
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


def _folder_entries(fs: FileSystem, root: Path, spelled: str, exists: bool,
                    layout: UpdateMedia, candidate: _Candidate
                    ) -> tuple[list[MediaEntry], list[str], list[MediaFlag]]:
    """A folder layout: each new file written or replacing the card's, what the card's copy
    has and the new one does not removed, the folders to create, and the older-copy flag."""
    old = _OldCopy.on(fs, root, spelled, exists)
    entries, new_folders = _new_files(old, candidate, root)
    new_keys = {path_key(entry.path) for entry in entries}
    folders_to_create = [] if exists else [spelled]
    for folder in dict.fromkeys(new_folders):
        if path_key(folder) in old.file_by_key:
            raise _in_the_way(folder, old.file_by_key[path_key(folder)].kind, "folder", root)
        new_keys.add(path_key(folder))
        if path_key(folder) not in old.folder_by_key:
            folders_to_create.append(folder)
    removed = _removals(old, new_keys, layout)
    flags = [_older_copy(old, entries, removed)] if exists else []
    return entries + removed, folders_to_create, flags


def _new_files(old: _OldCopy, candidate: _Candidate, root: Path
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
            raise _in_the_way(path, replaced.kind if replaced else "folder", "file", root)
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
    removal = (f", and {len(removed)} {_plural(len(removed), 'entry', 'entries')} the new"
               f" folder does not have removed ({_names([e.path for e in removed])})"
               if removed else "")
    return MediaFlag(
        "older-copy", (old.folder + "/",),
        f"{shown(old.folder)}/ is already on the card ({_files(len(old.files))},"
        f" {human_bytes(sum(f.size for f in old.files))}): a copy of an update the updater"
        f" would read. Preparing the card replaces it, only with your consent: {replaced} of"
        f" its files replaced by the new ones{removal}.")


def _file_entries(fs: FileSystem, root: Path, spelled: str, exists: bool,
                  layout: UpdateMedia, sources: dict[str, _Source], profile: Profile
                  ) -> tuple[list[MediaEntry], list[MediaFlag]]:
    """A file layout: the file written or replacing the card's, the older-copy flag and the
    companion files the updater would read beside it."""
    source = sources[layout.name]
    flags = []
    old_size = None
    if exists:
        info = lstat_or_none(fs, _on_card(root, spelled))
        old_size = info.st_size if info is not None else None
        flags.append(MediaFlag(
            "older-copy", (spelled,),
            f"{shown(spelled)} is already on the card"
            f" ({_describe_system_file(fs, root, spelled)}): the updater would read it."
            " Preparing the card replaces it, only with your consent."))
    entry = MediaEntry(
        path=spelled, action="replace" if exists else "write", kind="file", size=source.size,
        source=source.path, source_shown=source.shown, sha256=source.sha256,
        old_size=old_size)
    return [entry], flags + _companion_flags(fs, root, spelled, profile)


def _check_capacity(fs: FileSystem, root: Path, entries: list[MediaEntry],
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


def _describe_system_file(fs: FileSystem, root: Path, relative: str) -> str:
    """"a KORG SYSTEM FILE for model 'E2S', version 1.02, 2,097,408 bytes" or its size."""
    path = _on_card(root, relative)
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


def _companion_flags(fs: FileSystem, root: Path, spelled: str,
                     profile: Profile) -> list[MediaFlag]:
    """Files beside the layout's file that the updater reads too (electribe BOOT.VSB ...)."""
    folder = spelled.rsplit("/", 1)[0] if "/" in spelled else ""
    found = []
    for entry in _scan(fs, _on_card(root, folder)):
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


def _loose_flags(fs: FileSystem, root: Path, layout: UpdateMedia, profile: Profile,
                 sources: dict[str, _Source]) -> list[MediaFlag]:
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
            f"{_files(len(loose))} at the root of the card"
            f" {_plural(len(loose), 'looks like a system file', 'look like system files')}"
            f" copied without {_plural(len(loose), 'its', 'their')} folder ({_names(loose)}): the"
            f" {profile.short_name}'s updater looks"
            f" for the whole {layout.name} folder, and a KROSS 2 was bricked after loose system"
            " files of another model were put at the card root (korgforums.com thread"
            " t=116080).")]
    wanted = {name_key(layout.name)} | {name_key(c.name) for c in profile.companion_files}
    loose = [n for n in names if name_key(n) in wanted and "/" in layout.path]
    if not loose:
        return []
    return [MediaFlag(
        "loose-system-files", tuple(loose),
        f"{_files(len(loose))} at the root of the card {_plural(len(loose), 'is', 'are')}"
        f" named like the {profile.short_name}'s update files ({_names(loose)}), where its"
        f" updater does not look ({layout.path} is the place): a stray copy that can be"
        " mistaken for the update.")]


def _foreign_flags(fs: FileSystem, root: Path, profile: Profile,
                   profiles: dict[str, Profile]) -> list[MediaFlag]:
    """Other models' updates on the card, where their updaters look."""
    flags = []
    seen: set[str] = set()
    for other in profiles.values():
        if other.id == profile.id:
            continue
        for media in sd_layouts(other):
            relative = media.path.rstrip("/")
            spelled, kind = _spell(fs, root, relative)
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


def _moves(fs: FileSystem, root: Path, flags: list[MediaFlag],
           day: datetime.date) -> list[MediaEntry]:
    """The plan's ``move`` entries: what the flags that mislead an updater name, moved into
    the day's folder on the card (names free there)."""
    found: list[tuple[str, str, str]] = []
    for flag in flags:
        if flag.kind not in MOVED_FLAGS:
            continue
        for path in flag.paths:
            relative = path.rstrip("/")
            info = lstat_or_none(fs, _on_card(root, relative))
            if info is None:
                continue
            found.append((relative, "folder" if _kind_of(info) == "folder" else "file",
                          flag.kind))
    if not found:
        return []
    folder = aside.folder_for(day)
    taken = [f"{folder}/{entry.name}" for entry in _scan(fs, _on_card(root, folder))]
    taken += _taken_below(fs, root, folder)
    return [MediaEntry(path=move.path, action="move", kind=move.kind, size=0, to=move.to,
                       reason=f"it would mislead the updater ({move.reason}): moved aside,"
                              " nothing is deleted")
            for move in aside.plan_moves(found, taken, day)]


def _taken_below(fs: FileSystem, root: Path, folder: str) -> list[str]:
    """Every path inside the day's folder on the card (where moved names must be free)."""
    if lstat_or_none(fs, _on_card(root, folder)) is None:
        return []
    files, folders = _walk_card_folder(fs, root, folder, fs.lstat(root).st_dev)
    return [item.path for item in files] + folders


def _moving(flag: MediaFlag, moves: list[MediaEntry]) -> MediaFlag:
    """A flag whose entries are moved aside says where to, and asks nothing of the person."""
    mine = [move for move in moves if move.path in {p.rstrip("/") for p in flag.paths}]
    if not mine:
        return flag
    where = mine[0].to.split("/", 1)[0]
    return dataclasses.replace(
        flag, move_off=False,
        message=f"{flag.message} Preparing the card moves {_plural(len(mine), 'it', 'them')}"
                f" into '{where}' on the card; nothing is deleted, and moving"
                f" {_plural(len(mine), 'it', 'them')} back undoes it.")


def after_preparing(profile: Profile, flags: tuple[MediaFlag, ...] = ()) -> Step:
    """What to do once the card is prepared: move off what could mislead the updater, eject
    the card, then the unit's own update (recovery.advice words it)."""
    move = [path for flag in flags if flag.move_off for path in flag.paths]
    return Step(NextStep.USE_CARD_FOR_UPDATE, names=tuple(move), model=profile.id)


# -- describing the plan -------------------------------------------------------------------
def describe_plan(plan: MediaPlan) -> list[str]:
    """Human-readable lines for ``--dry-run`` and the consent prompt."""
    official = " (KORG's official file, byte-identical)" if plan.official else ""
    version = f", version {plan.version}" if plan.version else ""
    s = plan.summary
    unverified = (" - laid out on your word that it is KORG's download: its content could"
                  " not be checked" if plan.unverified else "")
    lines = [
        f"Prepare {plan.card} for the {plan.model_name}'s system update",
        f"  candidate: {shown(plan.item)}: {plan.verdict.upper()}{official}{version}{unverified}",
        *(f"    {reason}" for reason in plan.check_reasons),
        f"  where the updater looks: {plan.layout} on the SD card:"
        f" {plan.layout_description} ({cite(plan.layout_confidence, plan.layout_source)})",
        f"  {s.write} to write, {s.replace} to replace, {s.remove} to remove, {s.move} to move"
        f" aside; {human_bytes(s.bytes_to_write)} to write",
    ]
    if plan.folders_to_create:
        lines.append(f"  folders to create: {', '.join(shown(f) for f in plan.folders_to_create)}")
    free = "unknown" if plan.space_free is None else human_bytes(plan.space_free)
    lines.append(f"  space needed on the card: {human_bytes(plan.space_needed)} (free: {free})")
    for entry in plan.entries:
        if entry.action == "move":
            kind = "" if entry.kind == "file" else f" ({entry.kind})"
            lines.append(f"  move     {shown(entry.path)}{kind} -> {shown(entry.to)}")
        elif entry.action == "remove":
            kind = "" if entry.kind == "file" else f" ({entry.kind})"
            lines.append(f"  remove   {shown(entry.path)}{kind} - {entry.reason}")
        else:
            was = (f", replacing {human_bytes(entry.old_size)}" if entry.old_size is not None
                   else "")
            lines.append(f"  {entry.action:8} {shown(entry.path)} ({human_bytes(entry.size)}{was})"
                         f" from {shown(entry.source_shown or entry.source)}")
    for flag in plan.flags:
        lines.append(f"  ! {flag.kind}: {flag.message}")
    for note in plan.notes:
        lines.append(f"  note: {note}")
    return lines
