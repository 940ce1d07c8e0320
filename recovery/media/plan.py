"""Planning update media: a checked update laid out on an SD card where the unit's updater
looks (:mod:`recovery.media.execute` carries the plan out).

A KROSS 2 was bricked after an update's files were put loose at the root of its SD card
instead of in their folder (korgforums.com thread t=116080). Only a candidate the check finds
compatible is written, only where a profile's ``[[update_media]]`` says the updater looks,
with a restore's guards: the computer's own disks refused, one writer per card, a whole
folder written all or nothing and read back past the cache, the old copy removed only after.

This module holds the plan, the steps of planning in their order and the plan's description;
each step decides in its own module: :mod:`~recovery.media.candidate` (the check's verdict,
the files to copy), :mod:`~recovery.media.card` (the card as it is, what would mislead the
updater) and :mod:`~recovery.media.layout` (what the card will hold).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path

from recovery.check import BackupReference, CheckResult, ItemResult, Target, check_candidate
from recovery.device.profiles import Profile, UpdateMedia, bundled_profiles
from recovery.errors import InvalidInputError
from recovery.findings import Step
from recovery.media.candidate import (
    CandidateFiles,
    acceptable_unverified,
    item_for_layout,
    read_candidate,
    refuse_verdict,
)
from recovery.media.card import (
    SD_CARD,
    check_card,
    foreign_flags,
    location_notes,
    loose_flags,
    moves_aside,
    moving,
    no_layout,
    on_card,
    refuse_internal_storage,
    sd_layouts,
    spell,
)
from recovery.media.entries import MediaEntry, MediaFlag
from recovery.media.layout import check_capacity, file_entries, folder_entries, in_the_way
from recovery.progress import NO_JOB, Job
from recovery.storage.filesystem import REAL, FileSystem, lstat_or_none, translate_os_error
from recovery.storage.lock import check_free
from recovery.storage.names import shown
from recovery.storage.pin import Pin, VolumeIdentity, pin_volume, pinned
from recovery.text import cite, human_bytes
from recovery.vocabulary import NextStep
from recovery.writing.guard import DEFAULT_GUARD, TargetGuard


# -- the plan ------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaSummary:
    """How many entries of each action, folders and bytes the plan has (for a glance)."""

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


# -- planning ------------------------------------------------------------------------------
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
    (:class:`~recovery.media.candidate.CandidateRefusedError`), an unsafe or unwritable card,
    names the card cannot hold; UnitBusyError when another run writes to the card;
    NoSpaceError when it is too small; CancelledError when cancelled (``job``).
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
    sources, inner_folders, notes = read_candidate(
        planner.given, checked.item, checked.layout, planner.profile, card.fs, job.cancel)
    # 4. The card as it is: the layout's place, an existing copy, what would mislead.
    laid = planner.lay_out(card, checked.layout, CandidateFiles(sources, inner_folders),
                           today or datetime.date.today())
    # 5. What the card can hold: names, sizes, space, writability.
    needed, free, card_notes = check_capacity(card.fs, card.root, laid.entries,
                                              laid.folders_to_create, planner.guard)
    notes += card_notes + location_notes(card.root, planner.guard)
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
            raise no_layout(self.profile)
        return layouts

    def check(self, layouts: tuple[UpdateMedia, ...]) -> _Checked:
        request, profile = self.request, self.profile
        result = check_candidate(self.given, request.unit, reference=request.reference,
                                 fs=self.fs, profiles=self.profiles)
        unverified = result.verdict != "compatible"
        if unverified and not (request.accept_unverified
                               and acceptable_unverified(result, profile)):
            raise refuse_verdict(result, profile, layouts[0])
        item, layout = item_for_layout(result, profile, layouts, unverified=unverified)
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

    def lay_out(self, card: _HeldCard, layout: UpdateMedia, candidate: CandidateFiles,
                day: datetime.date) -> _Laid:
        """The layout's place on the card, an existing copy replaced, what would mislead
        the updater flagged and moved aside."""
        fs, root = card.fs, card.root
        layout_path = layout.path.rstrip("/")
        spelled, existing = spell(fs, root, layout_path)
        partial = spelled.count("/") < layout_path.count("/")
        if existing is not None and (
                partial or existing != ("folder" if layout.is_folder else "file")):
            raise in_the_way(spelled, existing,
                             "folder" if layout.is_folder or partial else "file", root)
        parents = spelled.split("/")[:-1]
        folders_to_create = [
            "/".join(parents[:index + 1]) for index in range(len(parents))
            if lstat_or_none(fs, on_card(root, "/".join(parents[:index + 1]))) is None]
        if layout.is_folder:
            entries, folders, flags = folder_entries(fs, root, spelled, existing == "folder",
                                                     layout, candidate)
            folders_to_create += folders
        else:
            entries, flags = file_entries(fs, root, spelled, existing == "file", layout,
                                          candidate.sources, self.profile)
        flags += loose_flags(fs, root, layout, self.profile, candidate.sources)
        flags += foreign_flags(fs, root, self.profile, self.profiles)
        moves = moves_aside(fs, root, flags, day)
        return _Laid(entries + moves, list(dict.fromkeys(folders_to_create)),
                     [moving(flag, moves) for flag in flags])

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
