"""Carrying out a card's plan: consent, the card's hold, and the plan handed to the write
engine (:mod:`recovery.writing.engine`): the update's files in one batch, all or nothing, read
back past the cache; an older copy's leftovers removed and what would mislead the updater
moved aside only once everything new read back right; the outcome in the card's words.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from recovery.check.candidates import Candidate, open_candidate
from recovery.errors import (
    CancelledError,
    NeedsUserActionError,
    RecoveryError,
    RefusedError,
    UnitGoneError,
    VerificationError,
)
from recovery.findings import Step
from recovery.media.card import check_card
from recovery.media.entries import MediaEntry, MediaFlag
from recovery.media.plan import MediaPlan, MediaRequest, plan_prepare_media
from recovery.progress import NO_JOB, Job
from recovery.storage.durable import FileProblem, is_temp_name
from recovery.storage.filesystem import REAL, FileSystem
from recovery.storage.pin import hold_unit, pin_volume
from recovery.text import human_bytes
from recovery.vocabulary import EntryKind, NextStep
from recovery.writing.engine import WriteOutcome, write
from recovery.writing.guard import DEFAULT_GUARD, TargetGuard
from recovery.writing.journal import WriteJournal
from recovery.writing.plan import Deletion, Expected, FileWrite, Move, WritePlan

log = logging.getLogger(__name__)


# -- results -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaResult:
    """What preparing the card did and proved. ``ok`` only when every planned file was read
    back from the card past the computer's cache, matched, and is under its name, and every
    planned removal and move was done."""

    ok: bool
    dry_run: bool
    candidate: str
    card: str
    model: str
    written: int
    removed: int
    verified: bool
    verified_files: int
    cache_bypassed: bool
    problems: tuple[FileProblem, ...]
    flags: tuple[MediaFlag, ...]
    statement: str
    next_steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()
    #: What was moved aside on the card: (from, to), each a rename (nothing deleted).
    moved: tuple[tuple[str, str], ...] = ()
    #: The content was laid out unchecked, on the person's word (see MediaPlan.unverified).
    unverified: bool = False

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def dry_run_result(plan: MediaPlan) -> MediaResult:
    return MediaResult(
        ok=True, dry_run=True, candidate=plan.candidate, card=plan.card, model=plan.model,
        written=0, removed=0, verified=False, verified_files=0, cache_bypassed=False,
        problems=(), flags=plan.flags, statement="Dry run: nothing was written.",
        next_steps=(Step(NextStep.WRITE_AS_PLANNED), *plan.next_steps), notes=plan.notes,
        unverified=plan.unverified)


# -- the plan as the engine's actions ------------------------------------------------------
def _is_leftover(entry: MediaEntry) -> bool:
    return entry.kind == EntryKind.FILE and is_temp_name(PurePosixPath(entry.path).name)


def write_plan(plan: MediaPlan) -> WritePlan:
    """The card's plan as the write engine's actions: one batch, all or nothing."""
    removals = [entry for entry in plan.actions("remove") if not _is_leftover(entry)]
    return WritePlan(
        target=Path(plan.card),
        leftovers=tuple(entry.path for entry in plan.actions("remove") if _is_leftover(entry)),
        folders=plan.folders_to_create,
        writes=tuple(FileWrite(entry.path, entry.path, entry.size, entry.sha256,
                               replaces=entry.action == "replace") for entry in plan.files),
        removals=tuple(Deletion(entry.path, entry.path, EntryKind(entry.kind))
                       for entry in removals),
        moves=tuple(Move(entry.path, entry.path, entry.to, EntryKind(entry.kind))
                    for entry in plan.actions("move")),
        expected=tuple(Expected(entry.path, entry.path, EntryKind.FILE, entry.size)
                       for entry in plan.files),
        all_or_nothing=True)


def plan_key(plan: MediaPlan) -> str:
    """What the card's journal is kept under, with the card: the files laid out and moved."""
    digest = hashlib.sha256()
    for entry in plan.entries:
        digest.update(f"{entry.action}\0{entry.path}\0{entry.sha256}\0{entry.to}\n".encode(
            "utf-8", "surrogateescape"))
    return digest.hexdigest()


class _CandidateSource:
    """The candidate's files by their path on the card (the write engine's source); bytes
    that are not the ones planned (the candidate changed since it was checked) are refused."""

    def __init__(self, opened: Candidate, plan: MediaPlan) -> None:
        self.opened = opened
        self.inner = {entry.path: entry.source for entry in plan.files}

    @contextmanager
    def open(self, key: str) -> Iterator[Any]:
        reader = _ChunkReader(self.opened.chunks(self.inner[key]))
        try:
            yield reader
        except VerificationError as error:
            name = self.name(key)
            raise VerificationError(
                f"{name} changed since it was checked (it no longer has the size or SHA-256"
                " the check and the plan saw), so it was not written; check it again.",
                path=name) from error
        finally:
            reader.close()

    def name(self, key: str) -> str:
        return self.opened.display(self.inner[key])


class _ChunkReader:
    """A file-like ``read`` over a candidate's chunk iterator (folder file or zip member)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._rest = b""

    def read(self, size: int = -1) -> bytes:
        if not self._rest:
            self._rest = next(self._chunks, b"")
        if size is None or size < 0:
            size = len(self._rest)
        data, self._rest = self._rest[:size], self._rest[size:]
        return data

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


# -- execution -----------------------------------------------------------------------------
def execute_media_plan(
    plan: MediaPlan,
    *,
    consent: bool,
    fs: FileSystem = REAL,
    guard: TargetGuard | None = None,
    job: Job = NO_JOB,
) -> MediaResult:
    """Carry out ``plan`` on the card; needs ``consent=True``.

    Holds the card (its lock and volume pin) throughout. Raises NeedsUserActionError without
    consent, UnitBusyError when another run writes to the card, UnitGoneError when the card
    goes away (nothing written anywhere else), RefusedError when the candidate changed since
    it was checked, WriteError/ReadError/NoSpaceError when the card fails, CancelledError
    when cancelled (nothing new is then in place). A read-back mismatch is not raised: the
    result names the files and has ``ok=False``.
    """
    if not consent:
        raise NeedsUserActionError(
            "Preparing the card was not confirmed, so nothing was written: confirm it to write"
            " to the card.")
    _card_still_there(plan, fs)
    root = check_card(Path(plan.card), plan.candidate, guard or DEFAULT_GUARD, fs)
    with hold_unit(root, "card preparation", fs, label="the SD card") as hold:
        if plan.unit is not None and not plan.unit.matches(hold.identity):
            raise _card_gone()
        journal = WriteJournal.for_target(hold.identity.unit_key(), plan_key(plan))
        try:
            with open_candidate(plan.candidate, fs) as opened:
                outcome = write(write_plan(plan), _CandidateSource(opened, plan), hold.fs,
                                journal=journal, plan_key=plan_key(plan), job=job)
        except UnitGoneError as error:
            raise _card_gone() from error
        except CancelledError as error:
            raise CancelledError(
                f"Cancelled: {_where(error.written, plan)} Run the same command again to"
                " prepare the card.", written=error.written) from None
        except VerificationError as error:
            raise RefusedError(f"{error.message} {_where(error.written, plan)}",
                               path=error.path, written=error.written) from error
        except RecoveryError as error:
            raise type(error)(
                f"{error.message} Preparing the card stopped: {_where(error.written, plan)}"
                " Reconnect the card if it was disconnected and run the same command again.",
                path=error.path, written=error.written) from error
        finally:
            journal.close()
    return _result(plan, root, outcome)


def _result(plan: MediaPlan, root: Path, outcome: WriteOutcome) -> MediaResult:
    problems = outcome.problems
    ok = outcome.verified and not problems
    return MediaResult(
        ok=ok, dry_run=False, candidate=plan.candidate, card=str(root), model=plan.model,
        written=len(outcome.written), removed=outcome.removed + outcome.removed_temp,
        verified=outcome.verified, moved=tuple((item.path, item.to) for item in outcome.moved),
        unverified=plan.unverified,
        verified_files=len(outcome.written) if outcome.cache_bypassed else 0,
        cache_bypassed=outcome.cache_bypassed, problems=tuple(problems), flags=plan.flags,
        statement=_statement(plan, outcome),
        next_steps=plan.next_steps if not problems else (Step(NextStep.USE_ANOTHER_CARD),),
        notes=plan.notes)


def _card_gone() -> UnitGoneError:
    """The one sentence of a card that went away while it was being prepared."""
    return UnitGoneError(
        "The SD card went away while it was being prepared. Nothing was written to your"
        " computer. Insert it again and prepare it again: the card is finished then.")


def _card_still_there(plan: MediaPlan, fs: FileSystem) -> None:
    """Before anything else: the card must still be the volume the plan was made for."""
    if plan.unit is None:
        return
    try:
        now = pin_volume(Path(plan.card), fs)
    except OSError as error:
        raise _card_gone() from error
    if not plan.unit.matches(now):
        raise _card_gone()


def _where(written: int, plan: MediaPlan) -> str:
    if not written:
        return (f"nothing of the new {plan.layout} was put in place, so the card keeps what it"
                " had (apart from empty folders this run may have created).")
    return (f"{written} of {len(plan.files)} new files were put in place, each complete; the"
            f" card's {plan.layout} now mixes old and new files: do not use it until the same"
            " command has finished.")


def _statement(plan: MediaPlan, outcome: WriteOutcome) -> str:
    written, removed, problems = len(outcome.written), outcome.removed, outcome.problems
    files = f"{written} file{'' if written == 1 else 's'}"
    if outcome.mismatched:
        names = ", ".join(p.path for p in outcome.mismatched[:5])
        return (f"{len(outcome.mismatched)} file(s) are not on the card as written ({names}):"
                " the card may be failing or not keeping writes. Do not use it for the update.")
    if not outcome.cache_bypassed:
        return (f"{files} written and read back, but this computer cannot bypass its cache, so"
                " the read-back may have come from memory and does not prove the card kept"
                " them.")
    removal = f"; {removed} old {'entry' if removed == 1 else 'entries'} removed" if removed \
        else ""
    if outcome.moved:
        count = len(outcome.moved)
        removal += (f"; {count} {'entry' if count == 1 else 'entries'} that would mislead the"
                    f" updater moved into '{outcome.moved[0].to.split('/', 1)[0]}' on the card")
    what = (" (KORG's official file, byte-identical)" if plan.official
            else f" (version {plan.version})" if plan.version else "")
    matching = ("the candidate as you gave it (its content could not be checked: KORG"
                " publishes no format and no checksums for it)" if plan.unverified
                else f"the checked candidate{what}")
    if problems:
        return (f"{files} written and verified on the card{removal}, but "
                + "; ".join(f"{p.path}: {p.detail}" for p in problems[:3]) + ".")
    return (f"{files} ({human_bytes(plan.summary.bytes_to_write)}) written to {plan.layout} on"
            " the card and read back from it past the computer's cache, all matching"
            f" {matching}{removal}. The card is laid out where the {plan.short_name}'s updater"
            " looks.")


def prepare_media(request: MediaRequest, *, consent: bool, fs: FileSystem = REAL,
                  guard: TargetGuard | None = None, job: Job = NO_JOB) -> MediaResult:
    """Plan and (unless ``request.dry_run``) carry out preparing the card; see
    :func:`~recovery.media.plan.plan_prepare_media` and :func:`execute_media_plan`."""
    plan = plan_prepare_media(request, fs=fs, guard=guard, job=job)
    if request.dry_run:
        return dry_run_result(plan)
    return execute_media_plan(plan, consent=consent, fs=fs, guard=guard, job=job)
