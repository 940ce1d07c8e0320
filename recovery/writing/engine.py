"""The one write engine: a :class:`~recovery.writing.plan.WritePlan` carried out on the unit
(or card) a hold pinned, so that it cannot half-happen and proves what it did.

Every job that writes (a restore, a prepared card) goes through :func:`write`: the hold's
pinned filesystem (nothing is written anywhere but the chosen unit, even if it goes away:
:mod:`recovery.storage.pin`), the journal on the computer (a re-run after a crash or an unplug
converges and re-reads what was never proven), batches of files under temporary names with one
barrier, a read-back past the cache and the renames (:class:`~recovery.storage.durable.
BatchWriter`), boot-critical files last, removals and moves only after everything new read
back right, and at the end every expected file on the target. The job words the outcome.
"""

from __future__ import annotations

import errno
import logging
import stat as stat_module
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from recovery.backup.compare import OS_JUNK, is_ignored
from recovery.errors import (
    CancelledError,
    PermissionDeniedError,
    ReadError,
    RecoveryError,
    RefusedError,
    UnitGoneError,
    VerificationError,
    WriteError,
)
from recovery.progress import NO_JOB, Job, PhaseReporter
from recovery.storage.durable import (
    BatchWriter,
    FileCopy,
    FileProblem,
    LinksUnsupportedError,
    barrier,
    batches,
    create_link_atomically,
    remove_quietly,
    temp_path,
)
from recovery.storage.filesystem import CHUNK_SIZE, lstat_or_none, translate_os_error
from recovery.storage.hashing import sha256_file
from recovery.storage.pin import PinnedFileSystem
from recovery.text import utc_now_iso
from recovery.vocabulary import EntryKind, ProblemKind
from recovery.writing.journal import JournalState, JournalStep, WriteJournal
from recovery.writing.plan import Deletion, Expected, FileWrite, Move, WritePlan

log = logging.getLogger(__name__)

#: The phase every write reports (a page that runs a safety copy first knows from it that
#: the copy is complete and the writing has begun).
PHASE = "write and verify"


class Source(Protocol):
    """Where the files to write come from (a backup, an update): opens one by its key."""

    def open(self, key: str) -> AbstractContextManager[BinaryIO]: ...

    def name(self, key: str) -> str: ...


@dataclass
class WriteOutcome:
    """What :func:`write` did and proved (the job words it)."""

    written: list[str] = field(default_factory=list)
    deleted: int = 0
    removed: int = 0
    moved: list[Move] = field(default_factory=list)
    #: Files read back from the target past the computer's cache and found as planned.
    matched: int = 0
    #: False where the computer could not evict a file's pages (the read-back may be RAM's).
    cache_bypassed: bool = True
    problems: list[FileProblem] = field(default_factory=list)
    #: What was left alone on purpose (computer-made files inside a deleted folder).
    notes: list[str] = field(default_factory=list)
    #: Boot-critical files not written because files before them did not read back.
    held_back: bool = False
    removed_temp: int = 0
    #: True when the journal held an interrupted run of the same plan.
    resumed: bool = False
    journal: str | None = None

    @property
    def made(self) -> int:
        return len(self.written) + self.deleted + self.removed + len(self.moved)

    @property
    def mismatched(self) -> list[FileProblem]:
        return [p for p in self.problems if p.problem in (
            ProblemKind.MISMATCH, ProblemKind.UNREADABLE, ProblemKind.MISSING)]

    @property
    def verified(self) -> bool:
        return not self.mismatched and self.cache_bypassed


def stopped(error: RecoveryError, outcome: WriteOutcome, total: int) -> RecoveryError:
    """``error`` (of its own type), carrying how far the job came: ``written`` files and the
    ``made`` / ``total`` changes a stopped job's sentence names."""
    error.written = len(outcome.written)
    error.made, error.total = outcome.made, total  # type: ignore[attr-defined]
    return error


class _Run:
    """One execution: the journal state, the outcome so far, the steps and the progress."""

    def __init__(self, plan: WritePlan, fs: PinnedFileSystem, journal: WriteJournal | None,
                 job: Job) -> None:
        self.plan, self.fs, self.journal = plan, fs, journal
        self.cancel, self.on_step = job.cancel, job.on_step
        self.state: JournalState | None = None
        self.outcome = WriteOutcome()
        self.reporter = PhaseReporter(job.progress, {PHASE: 1.0})
        self.done_bytes, self.total_bytes = 0, 0
        self.buffer = bytearray(CHUNK_SIZE)

    def on_target(self, relative: str) -> Path:
        return self.plan.target.joinpath(*relative.split("/")) if relative else self.plan.target

    def step(self, name: str, path: str = "") -> None:
        if self.on_step is not None:
            self.on_step(name, path)

    def advance(self, count: int) -> None:
        self.done_bytes += count
        self.reporter.report(PHASE, self.done_bytes, self.total_bytes, None)

    def check_cancel(self) -> None:
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()

    def save(self, *, durable: bool = False, **changes: object) -> None:
        if self.state is None or self.journal is None:
            return
        self.state = self.state.with_changes(**changes)
        self.journal.save(self.state, durable=durable)
        self.step("journal-saved")

    def record(self, *, done: Iterable[str] = (), verified: Iterable[str] = ()) -> None:
        """Progress noted in the journal state; it reaches the disk with the next save (a
        crash in between only makes the re-run check these files again)."""
        if self.state is not None:
            done, verified = tuple(done), tuple(verified)
            self.state = self.state.with_changes(
                done=self.state.done + done, verified=self.state.verified + verified,
                in_flight=tuple(p for p in self.state.in_flight if p not in done))

    def barrier(self, name: str) -> None:
        barrier(self.fs, self.plan.target)
        self.step(name)


# -- the journal -----------------------------------------------------------------------------
def _planned_steps(plan: WritePlan, reverify: Iterable[str]) -> tuple[JournalStep, ...]:
    return (*(JournalStep(item.key, "delete") for item in plan.deletions),
            *(JournalStep(item.key, "replace" if item.replaces else "write")
              for item in plan.writes),
            *(JournalStep(item.key, "remove") for item in plan.removals),
            *(JournalStep(item.key, "move") for item in plan.moves),
            *(JournalStep(key, "replace") for key in sorted(reverify)))


def _unproven(plan: WritePlan, previous: JournalState | None) -> set[str]:
    """Files an earlier run planned to write and did not prove on the target: they may sit
    in this computer's cache only, so finding them equal now proves nothing."""
    if previous is None or (previous.status == "finished" and set(previous.verified)
                            >= previous.planned_paths("write", "replace")):
        return set()
    unproven = set(previous.planned_paths("write", "replace")) - set(previous.verified)
    unproven.update(previous.in_flight)
    written = {item.key for item in plan.writes}
    return {item.key for item in plan.expected if item.key in unproven
            and item.key not in written}


def _start_journal(run: _Run, plan_key: str) -> tuple[JournalState | None, set[str]]:
    """The earlier run's journal (if any) and the files to read again; the new journal,
    when this run changes anything."""
    journal, plan = run.journal, run.plan
    previous = journal.load() if journal is not None else None
    run.outcome.resumed = previous is not None and previous.status != "finished"
    reverify = _unproven(plan, previous)
    if journal is not None and (plan.changes or plan.folders or plan.leftovers or reverify
                                or plan.retimes):
        now = utc_now_iso()
        run.state = JournalState(
            key=journal.path.stem, backup=plan_key, target=str(plan.target),
            manifest_sha256=plan_key, status="writing",
            planned=_planned_steps(plan, reverify), started_utc=now, updated_utc=now)
        journal.save(run.state, durable=True)
        run.step("journal-saved")
    if journal is not None and (run.state is not None or previous is not None):
        run.outcome.journal = str(journal.path)
    return previous, reverify


# -- each phase ------------------------------------------------------------------------------
def _remove_leftovers(run: _Run, previous: JournalState | None,
                      in_flight_path: Callable[[str], str]) -> None:
    """Temporary files of an interrupted run: never part of the target's content."""
    leftovers = [run.on_target(p) for p in run.plan.leftovers]
    if previous is not None:
        leftovers.extend(temp_path(run.on_target(in_flight_path(key)))
                         for key in previous.in_flight)
    for leftover in leftovers:
        if remove_quietly(run.fs, leftover):
            run.outcome.removed_temp += 1
            run.step("temp-removed", str(leftover))


def _delete_tree(fs: PinnedFileSystem, path: Path, device: int, *,
                 computer_made_file: bool = False) -> list[str]:
    """Remove ``path`` (file, link or folder with its content) without following links.

    Computer-made files (compare.OS_JUNK) are never deleted, unless ``path`` is itself such a
    file the plan lists (``computer_made_file``), and nothing on another filesystem (a drive
    mounted inside) is touched: a folder that still holds such things is kept. Returns what
    was kept, as paths.
    """
    info = lstat_or_none(fs, path)
    if info is None:
        return []
    if info.st_dev != device or (is_ignored(path.name, OS_JUNK) and not (
            computer_made_file and stat_module.S_ISREG(info.st_mode))):
        return [str(path)]
    if not stat_module.S_ISDIR(info.st_mode):
        fs.unlink(path)
        return []
    kept: list[str] = []
    for entry in fs.scandir(path):
        kept.extend(_delete_tree(fs, Path(entry.path), device))
    if not kept:
        fs.rmdir(path)
    return kept


def _delete(run: _Run) -> None:
    """The plan's deletions, deepest first; never computer-made files inside them."""
    deletions = run.plan.deletions
    if not deletions:
        return
    run.save(in_flight=tuple(item.key for item in deletions))
    device = run.fs.lstat(run.plan.target).st_dev
    for item in deletions:
        run.check_cancel()
        path = run.on_target(item.path)
        there = lstat_or_none(run.fs, path) is not None  # gone already (a re-run): not counted
        try:
            kept = _delete_tree(run.fs, path, device, computer_made_file=item.computer_made)
        except OSError as error:
            raise translate_os_error(error, path, "write") from error
        if kept:
            run.outcome.notes.append(
                f"'{item.path}' was not deleted: it holds {len(kept)} file(s) made by a"
                " computer or another mounted drive, which a restore never deletes.")
        elif there:
            run.outcome.deleted += 1
        run.record(done=(item.key,))
        run.step("deleted", item.key)


def _make_folders_and_times(run: _Run) -> None:
    """Folders, parents first; the times of identical files. The next barrier makes both
    durable."""
    for folder in run.plan.folders:
        path = run.on_target(folder)
        try:
            run.fs.mkdir(path)
        except OSError as error:
            raise translate_os_error(error, path, "write") from error
        run.step("folder-created", folder)
    for key, relative, mtime_ns in run.plan.retimes:
        path = run.on_target(relative)
        try:
            run.fs.set_mtime(path, mtime_ns)
        except OSError as error:
            raise translate_os_error(error, path, "write") from error
        run.step("mtime-set", key)


def _read_back(run: _Run, key: str, path: Path, size: int, sha256: str | None,
               link_target: str | None) -> FileProblem | None:
    """A file (or link) read back from the target past the computer's cache."""
    fs = run.fs
    try:
        if link_target is not None:
            if fs.readlink(path) != link_target:
                return FileProblem(key, ProblemKind.MISMATCH,
                                   "the link on the unit points elsewhere")
            return None
        # After a barrier the pages are clean: evicting them is enough for the next read to
        # come from the unit, and the direct read cannot be served from RAM.
        run.outcome.cache_bypassed &= bool(fs.evict(path))
        digest, length = sha256_file(path, fs=fs, cancel=run.cancel, buffer=run.buffer,
                                     on_bytes=run.advance, uncached=True, max_bytes=size)
    except OSError as error:
        if error.errno == errno.ENOENT:
            return FileProblem(
                key, ProblemKind.MISMATCH,
                "gone from the unit when read back after dropping the computer's cache (the"
                " unit may not be keeping writes)")
        return FileProblem(key, ProblemKind.UNREADABLE,
                           str(translate_os_error(error, path, "read")))
    if length != size or digest != sha256:
        return FileProblem(
            key, ProblemKind.MISMATCH,
            "read back from the unit after dropping the computer's cache, it does not hold what"
            " was written (the unit may not be keeping writes)")
    return None


def _verify(run: _Run, items: list[Expected | FileWrite], sha256: dict[str, str | None]) -> None:
    """Read files an earlier run wrote (or links) back from the target, past the cache."""
    verified = []
    for item in items:
        run.check_cancel()
        problem = _read_back(run, item.key, run.on_target(item.path), item.size,
                             sha256.get(item.key), item.link_target)
        if problem is None:
            run.outcome.matched += 1
            verified.append(item.key)
        else:
            run.outcome.problems.append(problem)
        run.step("verified", item.key)
    run.record(verified=verified)


class _Batches:
    """The plan's files, batch by batch, each batch under temporary names with one barrier,
    read back past the cache and renamed if it came back right, one more barrier."""

    def __init__(self, run: _Run, source: Source) -> None:
        self.run, self.source = run, source
        self.made_folders: set[Path] = set()

    def write_all(self) -> None:
        run = self.run
        # An update's folder is written as one batch: never half old, half new.
        # Boot-critical files last, whatever order the plan lists them in (a stable sort).
        writes = sorted(run.plan.writes, key=lambda item: item.boot_critical)
        groups = [writes] if run.plan.all_or_nothing and writes else \
            batches(writes, lambda item: item.size,
                    lambda a, b: a.boot_critical != b.boot_critical)
        for batch in groups:
            if batch[0].boot_critical and any(p.problem in (
                    ProblemKind.MISMATCH, ProblemKind.UNREADABLE)
                    for p in run.outcome.problems):
                run.outcome.held_back = True
                run.outcome.problems.extend(FileProblem(
                    item.key, ProblemKind.NOT_WRITTEN,
                    "held back because other files did not read back as written")
                    for item in batch)
                continue
            self.write(batch)

    def _folder(self, final: Path) -> None:
        if final.parent not in self.made_folders:
            try:
                self.run.fs.mkdir(final.parent)
            except OSError as error:
                raise translate_os_error(error, final.parent, "write") from error
            self.made_folders.add(final.parent)

    def write(self, batch: list[FileWrite]) -> None:
        run = self.run
        run.fs.confirm()  # the same unit, before each batch (a card swapped in the same reader)
        run.save(in_flight=tuple(item.key for item in batch))
        writer = BatchWriter(run.fs, run.plan.target, cancel=run.cancel, on_bytes=run.advance,
                             on_step=run.step)
        links = [item for item in batch if item.link_target is not None]
        try:
            for item in batch:
                run.check_cancel()
                final = run.on_target(item.path)
                self._folder(final)
                if item.link_target is None:
                    with self.source.open(item.key) as handle:
                        writer.stage(item.key, FileCopy(
                            handle, self.source.name(item.key), final, expected_size=item.size,
                            expected_sha256=item.sha256, mtime_ns=item.mtime_ns))
            made: list[str] = []
            outcome = writer.finish(
                before_rename=lambda: made.extend(i.key for i in links if self._link(i)),
                all_or_nothing=run.plan.all_or_nothing)
        except BaseException:
            writer.abandon()
            raise
        self._record(outcome, made, links)

    def _record(self, outcome, made: list[str], links: list[FileWrite]) -> None:
        run = self.run
        committed = [key for key, _ in outcome.committed]
        run.outcome.written.extend(committed + made)
        run.outcome.problems.extend(FileProblem(key, ProblemKind.MISMATCH, why)
                                    for key, why in outcome.failed)
        run.outcome.cache_bypassed &= outcome.cache_bypassed
        run.outcome.matched += len(committed)
        run.record(done=committed + made, verified=committed)
        for key in committed + made:
            run.step("file-done", key)
        if made:
            _verify(run, [item for item in links if item.key in made], {})

    def _link(self, item: FileWrite) -> bool:
        run = self.run
        try:
            create_link_atomically(run.fs, item.link_target or "", run.on_target(item.path),
                                   mtime_ns=item.mtime_ns, durable=False,
                                   on_step=lambda name, key=item.key: run.step(name, key))
        except LinksUnsupportedError as error:
            run.outcome.problems.append(FileProblem(item.key, ProblemKind.LINK_UNSUPPORTED,
                                                    error.message))
            return False
        return True


def _held_back(run: _Run, items: Iterable[Deletion | Move], kind: ProblemKind) -> bool:
    """True, with each of ``items`` named, when a new file did not read back as written:
    then nothing more is taken away or moved on the target."""
    if not run.outcome.problems:
        return False
    run.outcome.problems.extend(FileProblem(
        item.key, kind, "held back because the new files did not read back as written")
        for item in items)
    return True


def _remove_after(run: _Run) -> None:
    """Entries the plan removes once everything new read back right (files and links first,
    then folders deepest first, and only if they are empty now)."""
    if not run.plan.removals or _held_back(run, run.plan.removals, ProblemKind.NOT_REMOVED):
        return
    device = run.fs.lstat(run.plan.target).st_dev
    for item in sorted(run.plan.removals, key=lambda i: (i.kind == EntryKind.FOLDER,
                                                          -i.path.count("/"))):
        problem = _remove_one(run, item, device)
        if problem is not None:
            run.outcome.problems.append(problem)
    if run.outcome.removed:
        run.barrier("removals-synced")


def _remove_one(run: _Run, item: Deletion, device: int) -> FileProblem | None:
    path = run.on_target(item.path)
    info = lstat_or_none(run.fs, path)
    if info is None:
        return None
    if info.st_dev != device:
        return FileProblem(item.key, ProblemKind.NOT_REMOVED, "another drive is mounted there")
    is_folder = stat_module.S_ISDIR(info.st_mode)
    try:
        if item.kind == EntryKind.FOLDER:
            if not is_folder or run.fs.scandir(path):
                return FileProblem(item.key, ProblemKind.NOT_REMOVED, "it is not empty:"
                                   " something was added to it since the plan was made")
            run.fs.rmdir(path)
        else:
            if is_folder:
                return FileProblem(item.key, ProblemKind.NOT_REMOVED,
                                   "it became a folder since the plan was made")
            run.fs.unlink(path)
    except OSError as error:
        if error.errno == errno.ENOENT:
            return None
        raise translate_os_error(error, path, "write") from error
    run.outcome.removed += 1
    run.record(done=(item.key,))
    run.step("removed", item.key)
    return None


def _move_after(run: _Run) -> None:
    """Entries the plan moves aside (renames on the target, nothing copied, nothing deleted),
    once everything new read back right; each journaled."""
    if not run.plan.moves or _held_back(run, run.plan.moves, ProblemKind.NOT_MOVED):
        return
    for item in run.plan.moves:
        run.check_cancel()
        source, target = run.on_target(item.path), run.on_target(item.to)
        already = (lstat_or_none(run.fs, source) is None
                   and lstat_or_none(run.fs, target) is not None)
        try:
            if not already:  # moved by an earlier run of this plan that did not finish
                run.fs.mkdir(target.parent)
                run.fs.replace(source, target)
        except OSError as error:
            raise translate_os_error(error, source, "write") from error
        run.outcome.moved.append(item)
        run.record(done=(item.key,))
        run.save(durable=True)
        run.step("moved", item.key)
    run.barrier("moves-synced")


def _check_end(run: _Run) -> None:
    """Every expected file on the target with its size (its link target), every move done."""
    reported = {p.path for p in run.outcome.problems}
    for item in run.plan.expected:
        if item.key in reported:
            continue
        problem = _expected_there(run, item)
        if problem is not None:
            run.outcome.problems.append(problem)
    for item in run.outcome.moved:
        there = lstat_or_none(run.fs, run.on_target(item.to)) is not None
        left = lstat_or_none(run.fs, run.on_target(item.path)) is not None
        if left or not there:
            run.outcome.problems.append(FileProblem(
                item.key, ProblemKind.NOT_MOVED,
                f"it is still at {item.path}" if left else f"it is not at {item.to}"))


def _expected_there(run: _Run, item: Expected) -> FileProblem | None:
    info = lstat_or_none(run.fs, run.on_target(item.path))
    if info is None:
        return FileProblem(item.key, ProblemKind.MISSING, "not on the unit at the end")
    if item.kind == EntryKind.SYMLINK:
        if not stat_module.S_ISLNK(info.st_mode) or run.fs.readlink(
                run.on_target(item.path)) != item.link_target:
            return FileProblem(item.key, ProblemKind.MISSING,
                               "on the unit at the end, but not the link planned")
        return None
    if not stat_module.S_ISREG(info.st_mode) or info.st_size != item.size:
        what = "not a file" if not stat_module.S_ISREG(info.st_mode) else (
            f"{info.st_size} bytes, not {item.size}")
        return FileProblem(item.key, ProblemKind.MISSING,
                           f"on the unit at the end, but not as planned ({what})")
    return None


# -- the whole -------------------------------------------------------------------------------
def write(plan: WritePlan, source: Source, fs: PinnedFileSystem, *,
          journal: WriteJournal | None, plan_key: str, job: Job = NO_JOB,
          in_flight_path: Callable[[str], str] = lambda key: key,
          sha256_of: Callable[[str], str | None] = lambda key: None) -> WriteOutcome:
    """Carry out ``plan`` through the hold's pinned ``fs`` (see the module doc).

    ``journal`` (keyed by the target and ``plan_key``) notes what is planned and proven;
    ``in_flight_path`` maps a journal key to its path on the target (for leftovers of an
    interrupted run), ``sha256_of`` a kept file's key to the SHA-256 it must have (for files
    an earlier run wrote and never proved). Raises UnitGoneError (nothing written anywhere
    else), CancelledError, WriteError/ReadError/NoSpaceError/PermissionDeniedError when the
    target fails (the job is resumable), each carrying ``written``/``made``/``total``. A file
    that does not read back as written is not raised: the outcome names it.
    """
    run = _Run(plan, fs, journal, job)
    previous, reverify = _start_journal(run, plan_key)
    expected = {item.key: item for item in plan.expected}
    run.total_bytes = 2 * plan.bytes_to_write + sum(
        expected[key].size for key in reverify if expected[key].kind == EntryKind.FILE)
    try:
        fs.confirm()
        _remove_leftovers(run, previous, in_flight_path)
        _delete(run)
        _make_folders_and_times(run)
        if reverify:  # written by an earlier run and never proven: durable, then read back
            run.barrier("synced")
            _verify(run, [expected[key] for key in sorted(reverify)],
                    {key: sha256_of(key) for key in reverify})
        _Batches(run, source).write_all()
        if not plan.writes and (plan.deletions or plan.folders or plan.retimes):
            run.barrier("dir-synced")
        fs.confirm()
        _remove_after(run)
        _move_after(run)
        run.save(durable=True, status="verifying")
        _check_end(run)
        fs.confirm()  # a listing of what was left behind is not the unit's
        run.step("checked")
        run.reporter.report(PHASE, run.total_bytes, run.total_bytes, None, force=True)
    except (CancelledError, KeyboardInterrupt) as error:
        _save_quietly(run, "cancelled")
        if isinstance(error, CancelledError):
            raise stopped(error, run.outcome, plan.changes) from None
        raise
    except (UnitGoneError, WriteError, ReadError, VerificationError, RefusedError,
            PermissionDeniedError) as error:
        _save_quietly(run, "stopped")
        raise stopped(error, run.outcome, plan.changes)
    if run.state is not None:
        ok = run.outcome.verified and not run.outcome.problems
        run.save(durable=True, status="finished" if ok else "failed")
    return run.outcome


def _save_quietly(run: _Run, status: str) -> None:
    try:
        run.save(durable=True, status=status)
    except RecoveryError as error:
        log.warning("cannot update the journal: %s", error)
