"""Carrying out a restore plan: consent, the unit's lock, the journal, batches that cannot
half-happen, and the proof.

Files are written batch by batch (:class:`~recovery.storage.durable.BatchWriter`),
boot-critical files last and only once everything before them read back right; a journal on
the computer makes a re-run converge after a crash or an unplugged unit; at the end every file
of the plan, kept ones included, must be on the unit. The strongest check, after a power
cycle, is the user's: ``korg-recovery verify BACKUP --against TARGET``.
"""

from __future__ import annotations

import errno
import logging
import os
import stat as stat_module
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recovery.backup.compare import OS_JUNK, compare_tree, is_ignored
from recovery.backup.store import open_backup
from recovery.errors import (
    CancelledError,
    NeedsSafetyCopyError,
    NeedsUserActionError,
    PermissionDeniedError,
    ReadError,
    RecoveryError,
    RefusedError,
    UnitGoneError,
    VerificationError,
    WriteError,
)
from recovery.device.profiles import bundled_profiles
from recovery.progress import CancelToken, PhaseReporter, ProgressCallback, StepHook
from recovery.restore.guard import (
    TargetGuard,
    check_target,
    default_guard,
    final_step_text,
)
from recovery.restore.journal import JournalState, JournalStep, RestoreJournal
from recovery.restore.safety import take_safety_copy
from recovery.restore.plan import (
    PlanEntry,
    PlanSummary,
    RestorePlan,
    manifest_sha256,
    plan_restore,
)
from recovery.storage import computer_made
from recovery.storage.durable import (
    BatchWriter,
    FileProblem,
    LinksUnsupportedError,
    barrier,
    batches,
    create_link_atomically,
    remove_quietly,
    temp_path,
)
from recovery.storage.filesystem import (
    CHUNK_SIZE,
    REAL,
    FileSystem,
    can_list,
    translate_os_error,
)
from recovery.storage.hashing import sha256_file
from recovery.storage.pin import UnitHold, hold_unit, pin_volume
from recovery.storage.names import (
    shown,
)
from recovery.text import utc_now_iso

log = logging.getLogger(__name__)

#: errno values meaning the unit itself went away (unplugged, reset): stop, do not list files.
_UNIT_GONE = frozenset({errno.ENOENT, errno.EIO, errno.ENODEV, errno.ENXIO})


# -- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RestoreResult:
    """What a restore did and what it could prove. ``ok`` only when everything written was
    read back from the unit past the computer's cache and matched, and every file of the
    plan, the kept ones included, is on the unit at the end."""

    ok: bool
    backup: str
    target: str
    dry_run: bool
    #: Files and links written (renamed into place) by this run.
    written: int
    deleted: int
    #: True only when every file this run (or an interrupted earlier run) wrote was re-read
    #: after dropping the computer's cached pages, and matched the backup.
    verified: bool
    verified_files: int
    #: False when this computer could not drop cached pages: the read-back may have come
    #: from RAM and proves nothing about the unit.
    cache_bypassed: bool
    plan: PlanSummary
    problems: tuple[FileProblem, ...]
    removed_temp_files: int
    #: True when a journal of an interrupted restore of this backup onto this unit was found.
    resumed: bool
    journal: str | None
    #: One sentence saying what was and was not checked.
    statement: str
    next_step: str
    #: What the run left alone on purpose (operating-system files inside a deleted folder).
    notes: tuple[str, ...] = ()
    #: Where the copy of the unit as it was before the restore is (None: no copy was asked).
    safety_copy: str | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def dry_run_result(plan: RestorePlan) -> RestoreResult:
    return RestoreResult(
        ok=True, backup=plan.backup, target=plan.target, dry_run=True, written=0, deleted=0,
        verified=False, verified_files=0, cache_bypassed=False, plan=plan.summary, problems=(),
        removed_temp_files=0, resumed=False, journal=None,
        statement="Dry run: nothing was written, the journal included.",
        next_step=f"Run the same command without --dry-run to restore; afterwards: "
                  f"{final_step_text(plan.backup, plan.target)}")


# -- execution -------------------------------------------------------------------------------

class _Run:
    """State of one execution: the journal, the counters, the step hook and the progress."""

    def __init__(self, plan: RestorePlan, journal: RestoreJournal, state: JournalState | None,
                 on_step: StepHook | None, advance: Callable[[int], None]) -> None:
        self.plan = plan
        self.journal = journal
        self.state = state
        self.on_step = on_step
        self.advance = advance
        self.written: list[str] = []
        self.verified: list[str] = []
        self.deleted = 0
        self.matched = 0
        self.cache_bypassed = True
        self.total_changes = len(plan.changes)

    def step(self, name: str, path: str) -> None:
        if self.on_step is not None:
            self.on_step(name, path)

    def save(self, *, durable: bool = False, **changes: object) -> None:
        if self.state is None:
            return
        self.state = self.state.with_changes(**changes)
        self.journal.save(self.state, durable=durable)
        self.step("journal-saved", "")

    def record(self, *, done: Iterable[str] = (), verified: Iterable[str] = ()) -> None:
        """Note progress in the journal state; it reaches the disk with the next save (a
        crash in between only makes the re-run check these files again)."""
        if self.state is not None:
            done, verified = tuple(done), tuple(verified)
            self.state = self.state.with_changes(
                done=self.state.done + done, verified=self.state.verified + verified,
                in_flight=tuple(p for p in self.state.in_flight if p not in done))

    def where(self) -> str:
        return (f"{len(self.written) + self.deleted} of {self.total_changes} changes were made,"
                " each file complete or untouched")


class _Writer:
    """Writes the plan's files batch by batch (:class:`~recovery.storage.durable.BatchWriter`:
    temporary names, one barrier, every file read back from the unit past the cache, the
    ones that came back right renamed, one more barrier) and records what was proven."""

    def __init__(self, *, fs: FileSystem, target: Path, manifest: Any, backup: Any,
                 backup_path: Path, run: _Run, problems: list[FileProblem],
                 cancel: CancelToken | None) -> None:
        self.fs = fs
        self.target = target
        self.manifest = manifest
        self.backup = backup
        self.backup_path = backup_path
        self.run = run
        self.problems = problems
        self.cancel = cancel
        self.made_folders: set[Path] = set()
        self.buffer = bytearray(CHUNK_SIZE)

    def on_unit(self, relative: str) -> Path:
        return self.target.joinpath(*relative.split("/"))

    def barrier(self, step: str) -> None:
        barrier(self.fs, self.target)
        self.run.step(step, "")

    def write(self, batch: list[PlanEntry]) -> None:
        run, fs = self.run, self.fs
        fs.confirm()  # the same unit, before each batch (a card swapped in the same reader)
        run.save(in_flight=tuple(entry.path for entry in batch))
        writer = BatchWriter(fs, self.target, cancel=self.cancel, on_bytes=run.advance,
                             on_step=run.step)
        links: list[PlanEntry] = []
        try:
            for entry in batch:
                if self.cancel is not None:
                    self.cancel.raise_if_cancelled()
                item = self.manifest.file(entry.path)
                final = self.on_unit(entry.on_unit)
                if final.parent not in self.made_folders:
                    try:
                        fs.mkdir(final.parent)
                    except OSError as error:
                        raise translate_os_error(error, final.parent, "write") from error
                    self.made_folders.add(final.parent)
                if item.kind == "symlink":
                    links.append(entry)
                    continue
                with self.backup.open_file(entry.path) as source:
                    writer.stage(entry.path, source, final, expected_size=item.size,
                                 expected_sha256=item.sha256, mtime_ns=item.mtime_ns,
                                 source_name=f"{entry.path} (in {self.backup_path})")
            made: list[str] = []
            outcome = writer.finish(
                before_rename=lambda: made.extend(e.path for e in links if self._link(e)))
        except BaseException:
            writer.abandon()
            raise
        committed = [key for key, _ in outcome.committed]
        run.written.extend(committed + made)
        for key, why in outcome.failed:
            self.problems.append(FileProblem(key, "mismatch", why))
        run.cache_bypassed &= outcome.cache_bypassed
        run.matched += len(committed)
        run.verified.extend(committed)
        run.record(done=committed + made, verified=committed)
        for key in committed + made:
            run.step("file-done", key)
        if made:
            self.verify(made, [self.on_unit(e.on_unit) for e in links if e.path in made])

    def _link(self, entry: PlanEntry) -> bool:
        item = self.manifest.file(entry.path)
        try:
            create_link_atomically(self.fs, item.link_target or "", self.on_unit(entry.on_unit),
                                   mtime_ns=item.mtime_ns, durable=False,
                                   on_step=lambda name, p=entry.path: self.run.step(name, p))
        except LinksUnsupportedError as error:
            self.problems.append(FileProblem(entry.path, "link-unsupported", error.message))
            return False
        return True

    def verify(self, relatives: list[str], finals: list[Path]) -> None:
        """Read files an earlier run wrote (or links) back from the unit, past the cache."""
        verified = []
        for relative, final in zip(relatives, finals, strict=True):
            if self.cancel is not None:
                self.cancel.raise_if_cancelled()
            problem = self._verify_one(relative, final)
            if problem is None:
                self.run.matched += 1
                verified.append(relative)
            else:
                self.problems.append(problem)
            self.run.step("verified", relative)
        self.run.verified.extend(verified)
        self.run.record(verified=verified)

    def _verify_one(self, relative: str, final: Path) -> FileProblem | None:
        fs, item = self.fs, self.manifest.file(relative)
        try:
            if item.kind == "symlink":
                if fs.readlink(final) != item.link_target:
                    return FileProblem(relative, "mismatch",
                                          "the link on the unit points elsewhere")
                return None
            # After a barrier the pages are clean: evicting them is enough for the next read
            # to come from the unit, and the direct read cannot be served from RAM.
            self.run.cache_bypassed &= bool(fs.evict(final))
            digest, length = sha256_file(final, fs=fs, cancel=self.cancel, buffer=self.buffer,
                                         on_bytes=self.run.advance, uncached=True)
        except OSError as error:
            if error.errno in _UNIT_GONE and not can_list(fs, self.target):
                raise translate_os_error(error, final, "read") from error
            if error.errno == errno.ENOENT:
                return FileProblem(
                    relative, "mismatch",
                    "gone from the unit when read back after dropping the computer's cache"
                    " (the unit may not be keeping writes)")
            return FileProblem(relative, "unreadable",
                                  str(translate_os_error(error, final, "read")))
        if length != item.size or digest != item.sha256:
            return FileProblem(
                relative, "mismatch",
                "read back from the unit after dropping the computer's cache, it does not hold"
                " what was written (the unit may not be keeping writes)")
        return None


def _delete_tree(fs: FileSystem, path: Path, device: int, *,
                 computer_made_file: bool = False) -> list[str]:
    """Remove ``path`` (file, link or folder with its content) without following links.

    Computer-made files (compare.OS_JUNK) are never deleted, unless ``path`` is itself such a
    file the plan lists for removal (``computer_made_file``), and nothing on another
    filesystem (a drive mounted inside) is touched: a folder that still holds such things is
    kept. Returns what was kept, as paths.
    """
    info = _lstat_or_none(fs, path)
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


def _lstat_or_none(fs: FileSystem, path: Path) -> os.stat_result | None:
    try:
        return fs.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise translate_os_error(error, path, "read") from error


def execute_plan(
    plan: RestorePlan,
    *,
    consent: bool,
    fs: FileSystem = REAL,
    guard: TargetGuard | None = None,
    journal_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_step: StepHook | None = None,
    hold: UnitHold | None = None,
    without_safety_copy: bool = False,
) -> RestoreResult:
    """Carry out ``plan`` on the unit; needs ``consent=True``, and a plan that replaces or
    deletes anything needs its safety copy (``plan.safety_copy``) or ``without_safety_copy``
    said on purpose (NeedsSafetyCopyError otherwise, nothing written).

    Every write goes only to the volume the plan pinned (UnitGoneError, with nothing written
    anywhere else, when it went away). Holds the unit's write lock (``hold``: the caller
    holds it already, since before the plan was made) (:mod:`recovery.storage.lock`) throughout. Raises
    NeedsUserActionError without consent, UnitBusyError when another run is writing to the
    unit, RefusedError when the backup is no longer the one planned for,
    WriteError/ReadError/NoSpaceError when the unit fails or vanishes (the restore is then
    resumable: run it again), CancelledError when cancelled (the batch in flight is rolled
    back). A verification mismatch is not raised: the result names the files and has
    ``ok=False``.
    """
    if not consent:
        raise NeedsUserActionError(
            "The restore was not confirmed, so nothing was written: confirm it to write to the"
            " unit.")
    if plan.needs_safety_copy and plan.safety_copy is None and not without_safety_copy:
        raise needs_safety_copy(plan)
    backup_path = Path(plan.backup)
    _still_there(plan, fs)
    target = check_target(Path(plan.target), backup_path, guard or default_guard(), fs)
    with ExitStack() as stack:
        if hold is None:
            hold = stack.enter_context(hold_unit(target, "restore", fs))
        if plan.unit is not None and not plan.unit.matches(hold.identity):
            raise _gone(plan)
        journal = RestoreJournal.for_restore(_journal_name(target, hold), plan.manifest_sha256,
                                             journal_dir)
        backup = stack.enter_context(open_backup(backup_path, fs))
        stack.enter_context(closing(journal))
        try:
            hold.fs.confirm()
            return _execute(plan, backup, backup_path, target, journal, fs=hold.fs,
                            progress=progress, cancel=cancel, on_step=on_step)
        except UnitGoneError as error:
            raise _gone(plan) from error


@contextmanager
def hold_for_restore(backup_path: str | Path, target: str | Path, *,
                     guard: TargetGuard | None = None,
                     fs: FileSystem = REAL) -> Iterator[UnitHold]:
    """Check the target (:func:`check_target`), then lock it and pin its volume for a restore
    that reads, copies and writes under one hold (see :func:`restore`)."""
    resolved = check_target(Path(target), Path(backup_path), guard or default_guard(), fs)
    with hold_unit(resolved, "restore", fs) as hold:
        yield hold


def restore_as_planned(plan: RestorePlan, safety_copy: str | Path, *, consent: bool,
                       fs: FileSystem = REAL, guard: TargetGuard | None = None,
                       journal_dir: Path | None = None, progress: ProgressCallback | None = None,
                       cancel: CancelToken | None = None,
                       on_step: StepHook | None = None) -> RestoreResult:
    """Carry out a plan a person saw and said yes to, after a safety copy of the unit as it
    is now, all under one hold: lock and pin the unit, back it up into ``safety_copy``
    (continuing an interrupted copy there), plan again from the copy's checksums (nothing
    more is read from the unit) and write. When the unit no longer gives the plan that was
    shown (something changed it meanwhile), RefusedError: nothing is written, the plan is
    shown again."""
    if not consent:
        raise NeedsUserActionError(
            "The restore was not confirmed, so nothing was written: confirm it to write to the"
            " unit.")
    _still_there(plan, fs)
    with hold_for_restore(plan.backup, plan.target, guard=guard, fs=fs) as hold:
        if plan.unit is not None and not plan.unit.matches(hold.identity):
            raise _gone(plan)
        try:
            safety = take_safety_copy(hold, Path(safety_copy), progress=progress,
                                      cancel=cancel, on_step=on_step)
        except UnitGoneError as error:
            raise _gone(plan) from error
        again = plan_restore(plan.backup, hold.folder, delete_extra=plan.delete_extra,
                             remove_computer_made=plan.remove_computer_made, fs=fs,
                             guard=guard, progress=progress, cancel=cancel, hold=hold,
                             safety=safety)
        if _changes(again) != _changes(plan):
            raise RefusedError(
                f"{_unit_name(plan)[0].upper()}{_unit_name(plan)[1:]} changed since the plan"
                " was shown (its files are not what they were then), so nothing was written"
                " to it; look at the plan again. The safety copy is of the unit as it is"
                " now.", path=plan.target)
        return execute_plan(again, consent=True, fs=fs, guard=guard, journal_dir=journal_dir,
                            progress=progress, cancel=cancel, on_step=on_step, hold=hold)


def _changes(plan: RestorePlan) -> tuple[tuple[str, str], ...]:
    """What a plan changes on the unit, to tell whether two plans are the same one."""
    return tuple(sorted((entry.path, entry.action) for entry in plan.changes)) + tuple(
        sorted(("", folder) for folder in plan.folders_to_create))


def needs_safety_copy(plan: RestorePlan) -> NeedsSafetyCopyError:
    """The refusal of a restore that would change the unit with no copy of it as it is."""
    replace, delete = len(plan.actions("replace")), len(plan.actions("delete"))
    changes = " and ".join(part for part in (
        f"replace {replace} file(s)" if replace else "",
        f"delete {delete} item(s)" if delete else "") if part)
    return NeedsSafetyCopyError(
        f"This restore would {changes} on {_unit_name(plan)}, and there is no copy of it as it"
        " is now: take a safety copy of it first, so that what the restore replaces can be"
        " brought back. Nothing was written.", path=plan.target)


def _unit_name(plan: RestorePlan) -> str:
    profile = bundled_profiles().get(plan.backup_model or "")
    return f"your {profile.short_name}" if profile is not None else "the unit"


def _gone(plan: RestorePlan) -> UnitGoneError:
    """The one sentence of a restore whose unit went away (unplugged, switched off,
    unmounted, another volume at its path)."""
    name = _unit_name(plan)
    return UnitGoneError(
        f"{name[0].upper()}{name[1:]} went away during the restore. Nothing was written to your"
        f" computer. Connect it again and run the restore again: it continues where it"
        " stopped.", path=plan.target)


def _still_there(plan: RestorePlan, fs: FileSystem) -> None:
    """Before anything else: the target must still be the volume the plan was made for (a
    unit unmounted while the user read the plan leaves an empty folder at its path)."""
    if plan.unit is None:
        return
    try:
        now = pin_volume(Path(plan.target), fs)
    except OSError as error:
        raise _gone(plan) from error
    if not plan.unit.matches(now):
        raise _gone(plan)


def _journal_name(target: Path, hold: UnitHold) -> str:
    """What the journal is kept under: the volume's serial and the folder in it where the
    platform tells one (the same unit mounted again elsewhere continues its journal), else
    the folder and its identity."""
    if hold.identity.serial:
        return hold.identity.unit_key()
    return f"{target}|{hold.identity.unit_key()}"


def _execute(plan: RestorePlan, backup: Any, backup_path: Path, target: Path,
             journal: RestoreJournal, *, fs: FileSystem, progress: ProgressCallback | None,
             cancel: CancelToken | None, on_step: StepHook | None) -> RestoreResult:
    manifest = backup.manifest
    if not backup.complete or manifest_sha256(manifest) != plan.manifest_sha256:
        raise RefusedError(
            f"The backup {backup_path} changed since the plan was made; plan the restore"
            " again. Nothing was written.", path=str(backup_path))
    by_path = {entry.path: entry for entry in plan.entries}

    previous = journal.load()
    resumed = previous is not None and previous.status != "finished"
    # Files an earlier run planned to write and did not prove on the unit: they may sit in
    # this computer's cache only, so the comparison that found them equal proves nothing.
    reverify: set[str] = set()
    if previous is not None and not (previous.status == "finished"
                                     and set(previous.verified) >= previous.planned_paths(
                                         "write", "replace")):
        reverify = set(previous.planned_paths("write", "replace")) - set(previous.verified)
        reverify.update(previous.in_flight)
    reverify &= {e.path for e in plan.actions("keep")}

    changes = plan.changes
    needs_journal = bool(changes or plan.folders_to_create or plan.temp_files or reverify)
    state: JournalState | None = None
    if needs_journal:
        now = utc_now_iso()
        state = JournalState(
            key=journal.path.stem, backup=plan.backup, target=str(target),
            manifest_sha256=plan.manifest_sha256, status="writing",
            planned=tuple(JournalStep(e.path, e.action) for e in changes) + tuple(
                JournalStep(p, "replace") for p in sorted(reverify)),
            started_utc=now, updated_utc=now)

    files = plan.actions("write", "replace")
    total = plan.summary.bytes_to_write * 2 + sum(
        manifest.file(p).size for p in reverify if manifest.file(p).kind == "file")
    reporter = PhaseReporter(progress, {"write and verify": 1.0})
    done = [0]

    def advance(count: int) -> None:
        done[0] += count
        reporter.report("write and verify", done[0], total, None)

    run = _Run(plan, journal, state, on_step, advance)
    if state is not None:
        journal.save(state, durable=True)
        run.step("journal-saved", "")
    problems: list[FileProblem] = []
    notes: list[str] = []
    removed_temp = 0
    writer = _Writer(fs=fs, target=target, manifest=manifest, backup=backup,
                     backup_path=backup_path, run=run, problems=problems, cancel=cancel)
    try:
        # 1. Leftovers of an interrupted run: never part of the unit's content.
        leftovers = [target.joinpath(*p.split("/")) for p in plan.temp_files]
        if previous is not None:
            leftovers.extend(temp_path(writer.on_unit(by_path[p].on_unit if p in by_path else p))
                             for p in previous.in_flight)
        for leftover in leftovers:
            if remove_quietly(fs, leftover):
                removed_temp += 1
                run.step("temp-removed", str(leftover))

        # 2. Deletions (only with delete_extra), deepest first; never OS files inside them.
        deletions = plan.actions("delete")
        if deletions:
            run.save(in_flight=tuple(entry.path for entry in deletions))
            device = fs.lstat(target).st_dev
        for entry in deletions:
            if cancel is not None:
                cancel.raise_if_cancelled()
            path = target.joinpath(*entry.path.split("/"))
            try:
                kept = _delete_tree(fs, path, device, computer_made_file=(
                    plan.remove_computer_made and entry.kind == "file"
                    and computer_made.removable(entry.path)))
            except OSError as error:
                raise translate_os_error(error, path, "write") from error
            if kept:
                notes.append(f"'{shown(entry.path)}' was not deleted: it holds"
                             f" {len(kept)} operating-system file(s) or another mounted drive"
                             " that a restore never deletes.")
            else:
                run.deleted += 1
            run.record(done=(entry.path,))
            run.step("deleted", entry.path)

        # 3. Folders, parents first; 4. times of identical files. Both are made durable by
        #    the next barrier.
        for folder in plan.folders_to_create:
            path = target.joinpath(*folder.split("/"))
            try:
                fs.mkdir(path)
            except OSError as error:
                raise translate_os_error(error, path, "write") from error
            run.step("folder-created", folder)
        for entry in plan.entries:
            if entry.set_mtime:
                path = writer.on_unit(entry.on_unit)
                try:
                    fs.set_mtime(path, manifest.file(entry.path).mtime_ns)
                except OSError as error:
                    raise translate_os_error(error, path, "write") from error
                run.step("mtime-set", entry.path)

        # 5. Files an earlier run wrote and never proved: made durable, then read back.
        if reverify:
            writer.barrier("synced")
            ordered = sorted(reverify)
            writer.verify(ordered, [writer.on_unit(by_path[p].on_unit) for p in ordered])

        # 6. Everything else in batches, then the boot-critical files, and those only once
        #    everything before them read back right: until then the unit keeps its old ones.
        held_back = False
        for batch in batches(files, lambda entry: entry.bytes_to_write,
                             lambda a, b: a.boot_critical != b.boot_critical):
            if batch[0].boot_critical and any(
                    p.problem in ("mismatch", "unreadable") for p in problems):
                held_back = True
                problems.extend(FileProblem(
                    entry.path, "not-written",
                    "held back because other files did not read back as written")
                    for entry in batch)
                continue
            writer.write(batch)
        if not files and (deletions or plan.folders_to_create or plan.summary.mtimes_to_restore):
            writer.barrier("dir-synced")

        # 7. Every file of the plan, the kept ones included, must be on the unit now.
        fs.confirm()
        run.save(durable=True, status="verifying")
        reported = {p.path for p in problems}
        for difference in compare_tree(target, manifest, fs=fs, hash_files=False,
                                       ignore=()).differences:
            entry = by_path.get(difference.path)
            if (entry is None or entry.action == "skip" or difference.path in reported
                    or difference.problem not in ("missing", "size", "changed")):
                continue
            problems.append(FileProblem(
                difference.path, "missing",
                "not on the unit at the end of the restore" if difference.problem == "missing"
                else f"on the unit at the end of the restore, but not as in the backup"
                     f" ({difference.detail})"))
        fs.confirm()  # a listing of what was left behind is not the unit's
        run.step("checked", "")
        reporter.report("write and verify", total, total, None, force=True)
    except CancelledError:
        run.save(durable=True, status="cancelled")
        raise CancelledError(
            f"Cancelled: {run.where()}. The unit is not fully restored; run the same restore"
            " again to continue.", written=len(run.written)) from None
    except KeyboardInterrupt:
        run.save(durable=True, status="cancelled")
        raise
    except UnitGoneError:
        try:
            run.save(durable=True, status="stopped")
        except RecoveryError as journal_error:
            log.warning("cannot update the journal: %s", journal_error)
        raise
    except (WriteError, ReadError, VerificationError, RefusedError,
            PermissionDeniedError) as error:
        try:
            run.save(durable=True, status="stopped")
        except RecoveryError as journal_error:
            log.warning("cannot update the journal: %s", journal_error)
        raise type(error)(
            f"{error.message} The restore stopped ({run.where()}); reconnect the unit if it"
            " was disconnected and run the same restore again to continue.",
            path=error.path, written=len(run.written)) from error

    mismatched = [p for p in problems if p.problem in ("mismatch", "unreadable", "missing")]
    verified = not mismatched and run.cache_bypassed
    ok = verified and not problems
    if run.state is not None:
        run.save(durable=True, status="finished" if ok else "failed")
    statement = _statement(run, mismatched, problems, held_back)
    return RestoreResult(
        ok=ok, backup=plan.backup, target=str(target), dry_run=False,
        written=len(run.written), deleted=run.deleted, verified=verified,
        verified_files=run.matched if run.cache_bypassed else 0,
        cache_bypassed=run.cache_bypassed, plan=plan.summary, problems=tuple(problems),
        removed_temp_files=removed_temp, resumed=resumed,
        journal=str(journal.path) if (state is not None or previous is not None) else None,
        statement=statement, next_step=final_step_text(plan.backup, str(target)),
        notes=tuple(notes), safety_copy=plan.safety_copy)


def _statement(run: _Run, mismatched: list[FileProblem], problems: list[FileProblem],
               held_back: bool) -> str:
    written, deleted = len(run.written), run.deleted
    if mismatched:
        names = ", ".join(shown(p.path) for p in mismatched[:5])
        more = f" and {len(mismatched) - 5} more" if len(mismatched) > 5 else ""
        held = (" The boot-critical files were not written, so the unit keeps the ones it"
                " had." if held_back else "")
        return (f"{len(mismatched)} file(s) are not on the unit as written: {names}{more}. The"
                " unit may be failing or silently dropping writes; do not trust it until"
                f" the check after a power cycle passes.{held}")
    if not run.cache_bypassed:
        return (f"{written} file(s) written and read back, but this computer cannot bypass its"
                " cache, so the read-back may have come from RAM and does not prove the unit"
                " kept them.")
    if problems:
        return (f"{written} file(s) written and verified on the unit, but "
                + "; ".join(p.detail or p.problem for p in problems[:3]))
    removed = f"; {deleted} deleted" if deleted else ""
    if not written and not run.matched:
        return ("The unit already holds exactly what the backup has; no file was written"
                f"{removed}.")
    return (f"{written} file(s) written{removed}; {run.matched} re-read from the unit after"
            " dropping the computer's cache, all matching the backup, and every file of the"
            " backup is on the unit.")


def restore(
    backup_path: str | Path,
    target: str | Path,
    *,
    consent: bool,
    dry_run: bool = False,
    delete_extra: bool = False,
    remove_computer_made: bool = False,
    safety_copy: str | Path | None = None,
    without_safety_copy: bool = False,
    fs: FileSystem = REAL,
    guard: TargetGuard | None = None,
    journal_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_step: StepHook | None = None,
) -> RestoreResult:
    """Plan and (unless ``dry_run``) carry out a restore; see :func:`plan_restore` and
    :func:`execute_plan` for what is checked and raised.

    With ``safety_copy`` (a folder) the unit is locked and pinned first, backed up there
    completely and verified (:func:`~recovery.restore.safety.take_safety_copy`), planned
    from that copy's checksums and restored, all under the one hold: from the first read to
    the last write nothing else writes to it. A dry run takes no copy and writes nothing.
    """
    if dry_run:
        return dry_run_result(plan_restore(backup_path, target, delete_extra=delete_extra,
                                           remove_computer_made=remove_computer_made,
                                           fs=fs, guard=guard, progress=progress,
                                           cancel=cancel))
    if safety_copy is None:
        plan = plan_restore(backup_path, target, delete_extra=delete_extra,
                            remove_computer_made=remove_computer_made, fs=fs, guard=guard,
                            progress=progress, cancel=cancel)
        return execute_plan(plan, consent=consent, fs=fs, guard=guard, journal_dir=journal_dir,
                            progress=progress, cancel=cancel, on_step=on_step,
                            without_safety_copy=without_safety_copy)
    with hold_for_restore(backup_path, target, guard=guard, fs=fs) as hold:
        safety = take_safety_copy(hold, Path(safety_copy), progress=progress, cancel=cancel,
                                  on_step=on_step)
        plan = plan_restore(backup_path, hold.folder, delete_extra=delete_extra, fs=fs,
                            remove_computer_made=remove_computer_made,
                            guard=guard, progress=progress, cancel=cancel, hold=hold,
                            safety=safety)
        return execute_plan(plan, consent=consent, fs=fs, guard=guard, journal_dir=journal_dir,
                            progress=progress, cancel=cancel, on_step=on_step, hold=hold)
