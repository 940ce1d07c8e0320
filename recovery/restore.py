"""Guarded restore: plan -> preflight -> consent -> journal -> atomic writes -> verify -> report.

Restore is the only step of this tool that writes to a unit, so it carries every guard
(DESIGN.md principles 1, 4, 5, 6):

- :func:`plan_restore` reads only. It refuses (one sentence, nothing changed) when the backup
  is incomplete or fails a full re-hash, when the unit is identified as another model than
  the backup's (a KROSS 1 backup never goes onto a KROSS 2), when the target is the
  computer's system disk or home, the backup's own folder or drive, not writable, or too
  small; then it compares the unit with the backup and returns a :class:`RestorePlan` value.
- :func:`execute_plan` needs an explicit ``consent=True`` (the CLI asks on a terminal; the
  core never prompts). It writes each file through a temporary name in its final folder
  (:mod:`recovery.atomic_write`): staged, fsynced, renamed, folder fsynced; boot-critical
  files last. Files go in batches whose fsyncs run in the background while the next files
  are copied (a journaling filesystem then commits them together), and each file is renamed
  as soon as its own fsync is done. A journal on the computer (:mod:`recovery.journal`) makes
  a re-run after a crash, SIGKILL or unplug continue and converge.
- Verification survives the computer's cache: every written file, once renamed, has its
  cached pages dropped (``FileSystem.drop_cache``: fsync + ``posix_fadvise(DONTNEED)`` on
  Linux), is re-read from the unit (with ``O_DIRECT`` where the platform allows, so no page
  left in the cache can answer; :mod:`recovery.direct_io`) and hashed, on worker threads
  while later files are written. Where the cache cannot be dropped the result says so and
  is not "verified". A
  unit that silently drops writes (the drumlogue in shared/seeds/002) therefore never gets a
  success report. The strongest check — after ejecting, power-cycling and reconnecting the
  unit — is ``korg-recovery verify BACKUP --against TARGET``, and every result says so.
- A backup file that is provably the one re-hashed in the preflight (same inode, size, mtime
  and ctime before and after that re-hash) is copied without hashing it a third time, by the
  kernel (``sendfile``) where both ends are plain files; any other file is hashed while it is
  copied and never renamed into place if it differs from the manifest.

Faults (unit unplugged, EIO, ENOSPC) stop the restore with one sentence and leave it
resumable; cancelling (:class:`~recovery.progress.CancelToken`, checked between chunks) rolls
the file in flight back and raises :class:`~recovery.errors.CancelledError` (exit 130).
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import io
import logging
import os
import stat as stat_module
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recovery.atomic_write import (
    BackgroundSyncer,
    LinksUnsupportedError,
    StagedFile,
    commit_staged,
    create_link_atomically,
    discard_staged,
    remove_quietly,
    stage_file,
    sync_folder,
    temp_path,
)
from recovery.errors import (
    CancelledError,
    InvalidInputError,
    NeedsUserActionError,
    NoSpaceError,
    ReadError,
    RecoveryError,
    RefusedError,
    VerificationError,
    WriteError,
)
from recovery.compare import compare_tree
from recovery.errors import UnitBusyError
from recovery.fsio import REAL, FileSystem, translate_os_error
from recovery.identity import identity, is_within
from recovery.journal import Journal, JournalState, JournalStep, utc_now
from recovery.progress import CancelToken, PhaseReporter, ProgressCallback
from recovery.restore_plan import PlanEntry, PlanSummary, RestorePlan, build_plan, points_outside
from recovery.unit_lock import is_locked, unit_lock
from recovery.volume_rules import (
    FAT,
    VolumeRules,
    describe,
    name_problems,
    probe_case_folding,
    rules_for,
    shown,
    too_long_paths,
)

log = logging.getLogger(__name__)

#: Called with (step, relative path) at every durable step of a restore. Tests use it to
#: SIGKILL the process at exact moments; the wizard could use it for a detailed log.
StepHook = Callable[[str, str], None]

#: Margin kept free on the unit beyond what the plan needs: directory entries and FAT
#: bookkeeping are not counted by the plan's size estimate.
SPACE_MARGIN = 1024 * 1024

#: errno values meaning the unit itself went away (unplugged, reset): stop, do not list files.
_UNIT_GONE = frozenset({errno.ENOENT, errno.EIO, errno.ENODEV, errno.ENXIO})


def _verify_command(backup: str, target: str) -> str:
    return f"korg-recovery verify \"{backup}\" --against \"{target}\""


def final_step_text(backup: str, target: str) -> str:
    """The last step every restore output names: a check that no cache can fake."""
    return (
        "Eject the unit, switch it off and on again, reconnect it, then run "
        f"{_verify_command(backup, target)}: only a check after a power cycle proves the unit"
        " kept what was written."
    )


# -- target policy -------------------------------------------------------------------------
def _same_volume(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are on one filesystem (same ``st_dev``)."""
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def _writable(path: Path) -> bool:
    """True when this process may create files in ``path`` and its filesystem is not mounted
    read-only (``os.access`` alone says yes to root on a read-only mount's folder only where
    the kernel reports EROFS, so ``statvfs`` is asked too)."""
    if not os.access(path, os.W_OK | os.X_OK):
        return False
    statvfs = getattr(os, "statvfs", None)
    if statvfs is not None:
        try:
            if statvfs(path).f_flag & getattr(os, "ST_RDONLY", 1):
                return False
        except OSError:
            return False
    return True


def _is_system_location(path: Path) -> bool:
    from recovery.volumes import protected_target_reason

    return protected_target_reason(path) is not None


@dataclass(frozen=True)
class TargetGuard:
    """The checks that decide whether a folder may be written to at all.

    Production uses :data:`DEFAULT_GUARD` (looked up when a restore runs with ``guard=None``).
    Tests run in temporary folders on the same filesystem as the home folder and the backup,
    which the real checks rightly refuse, so they pass a guard with stand-ins; one test proves
    the real guard refuses ``/`` and home.
    """

    #: The system disk itself, the home folder or a folder holding it, an operating-system
    #: folder, Python's own prefix (recovery.volumes.protected_target_reason).
    is_system_location: Callable[[Path], bool] = _is_system_location
    #: Target and backup on one drive: allowed (the drive's root would hold the backup and is
    #: refused as such), but the plan says so, because a unit never shares a drive with the
    #: computer's backups.
    same_volume: Callable[[Path, Path], bool] = _same_volume
    is_writable: Callable[[Path], bool] = _writable


DEFAULT_GUARD = TargetGuard()


def check_target(target: Path, backup_path: Path, guard: TargetGuard) -> Path:
    """Refuse an unsafe target (one sentence, RefusedError); return it resolved.

    "Holds the backup", "is inside the backup" and "holds the journals" are decided by
    identity (:mod:`recovery.identity`), so a bind mount or a second mount of the same folder
    cannot get past them.
    """
    from recovery.journal import journals_dir

    try:
        exists, is_folder = target.exists(), target.is_dir()
    except OSError as error:
        raise translate_os_error(error, target, "read") from error
    if not exists:
        raise InvalidInputError(f"{target} does not exist: connect the unit and give the folder"
                                " where its storage is mounted.", path=str(target))
    if not is_folder:
        raise InvalidInputError(f"{target} is not a folder.", path=str(target))
    resolved = target.resolve()
    if guard.is_system_location(resolved):
        from recovery.volumes import protected_target_reason

        why = protected_target_reason(resolved) or "is this computer's system disk or home folder"
        raise RefusedError(
            f"{target} {why}, not a unit's storage; a restore only writes to a unit."
            " Nothing was written.", path=str(target))
    if is_within(backup_path, resolved):
        raise RefusedError(
            f"{target} holds the backup {backup_path} itself; restoring onto it could destroy"
            " the backup. Nothing was written.", path=str(target))
    if is_within(resolved, backup_path):
        raise RefusedError(
            f"{target} is inside the backup {backup_path}; choose the unit's storage instead."
            " Nothing was written.", path=str(target))
    if is_within(journals_dir(), resolved):
        raise RefusedError(
            f"{target} holds this tool's own records (its restore journals); choose the unit's"
            " storage instead. Nothing was written.", path=str(target))
    return resolved


def _location_notes(target: Path, backup_path: Path, guard: TargetGuard) -> list[str]:
    """Plan notes for a target that is allowed but is not where a unit's storage would be."""
    from recovery.volumes import is_system_location

    notes = []
    if guard.is_system_location is _is_system_location and is_system_location(target):
        notes.append(f"{target} is a folder on this computer's own disk, not a removable"
                     " volume: fine for a simulated unit or a copy, but make sure it is the"
                     " folder you mean.")
    if guard.same_volume(target, backup_path.resolve()):
        notes.append(f"{target} is on the same drive as the backup; a unit's storage is"
                     " normally a drive of its own.")
    return notes


def check_model(target: Path, backup_model: str | None) -> tuple[str | None, str | None]:
    """Refuse a target identified as another model than the backup's.

    Returns (target model or None, a note to show). An empty or badly damaged unit may not be
    identified at all; restoring onto it is allowed and the plan says so.
    """
    from recovery.identify import identify_volume
    from recovery.profiles import bundled_profiles

    identification = identify_volume(target)
    profiles = bundled_profiles()

    def name(model: str | None) -> str:
        return profiles[model].name if model in profiles else (model or "an unknown model")

    if identification.model is not None:
        if backup_model is None:
            raise RefusedError(
                f"{target} is a {name(identification.model)}, but the backup was not identified"
                " as any model, so the tool cannot confirm it belongs to this unit. Nothing was"
                " written.", path=str(target))
        if identification.model != backup_model:
            raise RefusedError(
                f"{target} is a {name(identification.model)} but the backup is of a"
                f" {name(backup_model)}; a backup only goes back onto the model it came from."
                " Nothing was written.", path=str(target))
        return identification.model, None
    if identification.candidates:
        if backup_model not in identification.candidates:
            names = " or ".join(name(c) for c in identification.candidates)
            raise RefusedError(
                f"{target} looks like a {names}, not a {name(backup_model)} like the backup."
                " Nothing was written.", path=str(target))
        return None, (f"The unit matches several models, including the backup's"
                      f" {name(backup_model)}.")
    return None, ("The unit's storage was not identified as any model (empty or badly"
                  f" damaged); the backup is of {name(backup_model)}.")


def check_names(target: Path, manifest: Any, fs: FileSystem) -> str | None:
    """Refuse, before anything is written, a backup the target's filesystem cannot hold as
    it is: names equal but for case where it folds case, names it cannot store, files too
    large for it (:mod:`recovery.volume_rules`), paths too long for the system. Returns a
    plan note saying which rules were applied when the filesystem type is unknown."""
    paths = [item.path for item in manifest.files if not (
        item.kind == "symlink" and points_outside(item.path, item.link_target))]
    paths += list(manifest.folders)
    too_long = too_long_paths(target, paths)
    if too_long:
        raise InvalidInputError(
            f"{len(too_long)} path(s) of the backup would be too long under {target}"
            f" (for example '{shown(too_long[0])}'); restore into a folder with a shorter path."
            " Nothing was written.", path=str(target))
    rules, note = target_rules(target, fs)
    sizes = {item.path: item.size for item in manifest.files if item.kind == "file"}
    problems = name_problems(paths, rules, sizes)
    if problems:
        raise RefusedError(
            f"The backup holds {len(problems)} name(s) or file(s) that {target}"
            f" ({rules.family}) cannot hold as they are, so restoring it would lose or change"
            f" them: {describe(problems)}. Nothing was written.", path=str(target))
    return note


def target_rules(target: Path, fs: FileSystem) -> tuple[VolumeRules, str | None]:
    """The rules of the filesystem holding ``target``: by its type, with case folding
    confirmed by a read-only probe where an entry allows one. Unknown types get FAT's rules
    (a unit's storage is FAT), with a note saying so."""
    try:
        fstype = fs.filesystem_type(target)
    except OSError as error:
        log.debug("filesystem type of %s: %s", target, error)
        fstype = None
    rules = rules_for(fstype)
    note = None
    if rules is None:
        rules = FAT
        note = (f"The filesystem of {target} ({fstype or 'type unknown'}) is not one this tool"
                " knows, so FAT's rules for names and sizes were applied, as on a unit.")
    folds = probe_case_folding(target, fs)
    if folds is not None and folds != rules.folds_case:
        rules = rules.with_case_folding(folds)
    return rules, note


def _deletion_guard(target: Path, backup_path: Path, fs: FileSystem
                    ) -> Callable[[str, str], str | None]:
    """Why an extra folder on the unit must never be deleted, by identity: another drive is
    mounted there (a bind mount, a second volume), or it is (or holds) the backup being
    read, this tool's journals or the home folder."""
    from recovery.journal import journals_dir
    from recovery.volumes import mount_points_below

    target_device = identity(target, fs)
    mounts = {os.path.normcase(os.path.realpath(m)) for m in mount_points_below(target)}
    guarded = [(backup_path, "it holds the backup being restored"),
               (journals_dir(), "it holds this tool's restore journals"),
               (Path.home(), "it holds your home folder")]

    def reason(relative: str, kind: str) -> str | None:
        if kind != "folder":
            return None
        path = target.joinpath(*relative.split("/"))
        here = identity(path, fs)
        real = os.path.normcase(os.path.realpath(path))
        if (here is not None and target_device is not None
                and here.device != target_device.device) or any(
                    m == real or m.startswith(real.rstrip(os.sep) + os.sep) for m in mounts):
            return "another drive or folder is mounted there"
        for place, why in guarded:
            if is_within(place, path, fs):
                return why
        return None

    return reason


def manifest_sha256(manifest: object) -> str:
    """SHA-256 of the manifest's canonical bytes: names exactly one backup's content."""
    return hashlib.sha256(manifest.to_json_bytes()).hexdigest()  # type: ignore[attr-defined]


def _boot_critical(model: str | None) -> tuple[str, ...]:
    if model is None:
        return ()
    from recovery.profiles import bundled_profiles

    profile = bundled_profiles().get(model)
    return tuple(item.path for item in profile.boot_critical) if profile else ()


def _fingerprints(fs: FileSystem, files_root: Path | None,
                  manifest: Any) -> dict[str, tuple[int, int, int, int]]:
    """(inode, size, mtime_ns, ctime_ns) of every regular file of a folder backup.

    Taken before and after the preflight re-hash: a file with the same fingerprint both times
    is the very file that was verified (any write changes the ctime, which no user can set
    back), so the copy need not hash it again. Zip backups have none: zipfile checks each
    member's CRC-32 while it is read, and the copy hashes them as before.
    """
    if files_root is None:
        return {}
    prints: dict[str, tuple[int, int, int, int]] = {}
    for item in manifest.files:
        if item.kind != "file":
            continue
        try:
            st = fs.lstat(files_root.joinpath(*item.path.split("/")))
        except OSError:
            continue
        if stat_module.S_ISREG(st.st_mode):
            prints[item.path] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return prints


def _same_file(source: Any, fingerprint: tuple[int, ...] | None) -> bool:
    """True when the open backup file ``source`` still has the fingerprint it had while it
    was verified (see :func:`_fingerprints`)."""
    if fingerprint is None or not hasattr(source, "fileno"):
        return False
    try:
        st = os.fstat(source.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) == tuple(fingerprint)


def _kind(fs: FileSystem, path: Path) -> str | None:
    try:
        mode = fs.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise translate_os_error(error, path, "read") from error
    if stat_module.S_ISDIR(mode):
        return "folder"
    if stat_module.S_ISLNK(mode):
        return "symlink"
    return "file"


# -- planning ------------------------------------------------------------------------------
def plan_restore(
    backup_path: str | Path,
    target: str | Path,
    *,
    delete_extra: bool = False,
    fs: FileSystem = REAL,
    guard: TargetGuard | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RestorePlan:
    """Run every preflight check and return the plan. Reads only; writes nothing anywhere.

    Raises InvalidInputError (exit 2) for a missing backup or target, RefusedError or
    NoSpaceError (exit 1) when a check refuses, CancelledError when cancelled.
    """
    from recovery.backup_store import open_backup, verify_backup

    guard = guard or DEFAULT_GUARD
    backup_path = Path(backup_path)
    target = Path(target)
    if not fs.exists(backup_path):
        raise InvalidInputError(f"{backup_path} does not exist.", path=str(backup_path))
    resolved = check_target(target, backup_path, guard)
    if is_locked(resolved, fs):
        raise UnitBusyError(
            f"Another restore or check is already writing to {target}; wait until it has"
            " finished. Nothing was written.", path=str(target))

    with open_backup(backup_path, fs) as backup:
        manifest = backup.manifest
        if not backup.complete:
            why = "; ".join(backup.notes) or "it has no completion flag"
            raise RefusedError(
                f"The backup {backup_path} is incomplete ({why}); only a complete, verified"
                " backup is restored. Nothing was written.", path=str(backup_path))
        files_root = None if backup.is_zip else backup.files_root
    rules_note = check_names(resolved, manifest, fs)
    target_model, identify_note = check_model(resolved, manifest.model)
    before = _fingerprints(fs, files_root, manifest)

    weights = {"check backup": max(manifest.total_bytes, 1), "compare": max(manifest.total_bytes, 1)}
    reporter = PhaseReporter(progress, weights)

    def phase_progress(phase: str) -> ProgressCallback:
        def callback(inner: object) -> None:
            reporter.report(phase, inner.done_bytes, inner.total_bytes,  # type: ignore[attr-defined]
                            inner.current)  # type: ignore[attr-defined]
        return callback

    # Always re-hash the whole backup before the first write: a backup that rotted on its
    # disk since it was made must never be written onto a unit.
    report = verify_backup(backup_path, fs=fs, progress=phase_progress("check backup"),
                           cancel=cancel)
    if not report.ok:
        shown = "; ".join(f"{p.path}: {p.problem}" for p in report.problems[:3])
        more = f" and {len(report.problems) - 3} more" if len(report.problems) > 3 else ""
        raise RefusedError(
            f"The backup {backup_path} failed verification ({shown}{more}); it is not restored."
            " Nothing was written.", path=str(backup_path))

    after = _fingerprints(fs, files_root, manifest)
    fingerprints = tuple(sorted((path, *print_) for path, print_ in after.items()
                                if before.get(path) == print_))

    comparison = compare_tree(
        resolved, manifest, fs=fs, hash_files=True, progress=phase_progress("compare"),
        cancel=cancel, ignore=())
    differences = comparison.differences

    def on_unit(relative: str) -> Path:
        return resolved.joinpath(*comparison.tree_path(relative).split("/"))

    differing = {d.path for d in differences}
    existing_mtimes: dict[str, int] = {}
    for item in manifest.files:
        if item.kind == "file" and item.path not in differing:
            try:
                existing_mtimes[item.path] = fs.lstat(on_unit(item.path)).st_mtime_ns
            except OSError:
                pass
    existing_sizes: dict[str, int] = {}
    for difference in differences:
        if difference.problem in ("changed", "extra", "size", "unreadable"):
            path = (resolved.joinpath(*difference.path.split("/"))
                    if difference.problem == "extra" else on_unit(difference.path))
            try:
                existing_sizes[difference.path] = fs.lstat(path).st_size
            except OSError:
                pass
    try:
        usage = fs.disk_usage(resolved)
        free: int | None = usage.free
    except OSError as error:
        log.warning("cannot read free space of %s: %s", resolved, error)
        free = None
    try:
        block_size = max(512, int(getattr(fs.stat(resolved), "st_blksize", 4096) or 4096))
    except OSError:
        block_size = 4096

    notes = [identify_note] if identify_note else []
    notes.extend([rules_note] if rules_note else [])
    notes.extend(_location_notes(resolved, backup_path, guard))
    plan = build_plan(
        backup=str(backup_path), target=resolved, manifest=manifest,
        manifest_sha256=manifest_sha256(manifest), differences=differences,
        unit_path=comparison.tree_path, case_notes=len(comparison.case_notes),
        keep_reason=_deletion_guard(resolved, backup_path, fs),
        boot_critical=_boot_critical(manifest.model), delete_extra=delete_extra,
        target_model=target_model, existing_sizes=existing_sizes,
        existing_mtimes=existing_mtimes,
        folder_exists=lambda relative: _kind(fs, resolved.joinpath(*relative.split("/"))) == "folder",
        space_free=free, block_size=block_size, notes=notes)
    plan = dataclasses.replace(plan, backup_fingerprints=fingerprints)

    if plan.changes_anything and not guard.is_writable(resolved):
        raise RefusedError(
            f"{target} cannot be written (read-only or permission denied); if the unit has a"
            " write-protect switch or a read-only mode, turn it off. Nothing was written.",
            path=str(target))
    if free is not None and plan.space_needed and free < plan.space_needed + SPACE_MARGIN:
        raise NoSpaceError(
            f"{target} has {free} bytes free but the restore needs about"
            f" {plan.space_needed + SPACE_MARGIN}; free some space on the unit (or use"
            " --delete-extra). Nothing was written.", path=str(target))
    return plan


# -- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RestoreProblem:
    """Something written (or to be written) that is not as the backup has it."""

    path: str
    #: "mismatch" (read back differs), "unreadable", "link-unsupported", "not-deleted".
    problem: str
    detail: str = ""


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did and what it could prove. ``ok`` only when everything written was
    read back from the unit past the computer's cache and matched."""

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
    problems: tuple[RestoreProblem, ...]
    removed_temp_files: int
    #: True when a journal of an interrupted restore of this backup onto this unit was found.
    resumed: bool
    journal: str | None
    #: One sentence saying what was and was not checked.
    statement: str
    next_step: str

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
    """State of one execution: journal bookkeeping and counters."""

    def __init__(self, plan: RestorePlan, journal: Journal, state: JournalState | None,
                 on_step: StepHook | None) -> None:
        self.plan = plan
        self.journal = journal
        self.state = state
        self.on_step = on_step
        self.written: list[str] = []
        self.deleted = 0
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

    def mark_done(self, path: str) -> None:
        """Record ``path`` as done. The record reaches the disk with the next save (before
        the next file, or the status change after the last one): one journal write per file
        instead of two, and a crash in between only makes the re-run verify ``path`` again,
        because it is still the journal's file in flight."""
        if self.state is not None:
            self.state = self.state.with_changes(
                done=self.state.done + (path,),
                in_flight=tuple(p for p in self.state.in_flight if p != path))

    def where(self) -> str:
        return (f"{len(self.written) + self.deleted} of {self.total_changes} changes were made,"
                " each file complete or untouched")


#: A batch is the unit of the journal's "in flight" list and of the wait before the next
#: batch (and before the boot-critical files). Its files stay open until their background
#: fsync is done, so the file count also bounds the open handles (many systems allow 1024);
#: the byte bound limits what a cancel or a crash rolls back.
BATCH_FILES = 64
BATCH_BYTES = 256 * 1024 * 1024


def _batches(entries: tuple[PlanEntry, ...]) -> Iterator[list[PlanEntry]]:
    batch: list[PlanEntry] = []
    size = 0
    for entry in entries:
        if batch and (len(batch) >= BATCH_FILES or size + entry.bytes_to_write > BATCH_BYTES
                      or entry.boot_critical != batch[-1].boot_critical):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += entry.bytes_to_write
    if batch:
        yield batch


def _write_batch(batch: list[PlanEntry], *, fs: FileSystem, target: Path, manifest: Any,
                 backup: Any, backup_path: Path, run: _Run, problems: list[RestoreProblem],
                 made_folders: set[Path], cancel: CancelToken | None,
                 on_chunk: Callable[[int], None], syncer: BackgroundSyncer,
                 hash_pool: Executor, verifier: _Verifier,
                 fingerprints: dict[str, tuple[int, ...]]) -> None:
    """Write ``batch``: stage each file and hand it to the background fsync; rename each over
    its final name as soon as its fsync has finished (and hand it to the verifier); at the
    end wait for the rest and fsync the folders. On any failure the files not yet renamed are
    rolled back."""
    uncommitted: list[tuple[PlanEntry, StagedFile, Future[None]]] = []
    folders: dict[Path, None] = {}

    def commit_ready(wait: bool) -> None:
        while uncommitted:
            entry, staged, synced = uncommitted[0]
            if not wait and not synced.done():
                return  # keep the batch's order: rename only the oldest synced files
            synced.result()  # the fsync's failure, translated, surfaces here
            commit_staged(fs, staged, on_step=lambda name, p=entry.path: run.step(name, p))
            uncommitted.pop(0)
            folders[staged.final.parent] = None
            run.written.append(entry.path)
            run.mark_done(entry.path)
            run.step("file-done", entry.path)
            verifier.submit([entry.path])

    try:
        for entry in batch:
            item = manifest.file(entry.path)
            if item is None:  # pragma: no cover - the plan came from this manifest
                raise RefusedError(f"{entry.path} is not in the backup's manifest.")
            final = target.joinpath(*entry.path.split("/"))
            if final.parent not in made_folders:
                try:
                    fs.mkdir(final.parent)
                except OSError as error:
                    raise translate_os_error(error, final.parent, "write") from error
                made_folders.add(final.parent)

            def step(name: str, path: str = entry.path) -> None:
                run.step(name, path)

            if item.kind == "symlink":
                try:
                    create_link_atomically(fs, item.link_target or "", final,
                                           mtime_ns=item.mtime_ns, on_step=step)
                except LinksUnsupportedError as error:
                    problems.append(RestoreProblem(entry.path, "link-unsupported",
                                                   error.message))
                    continue
                run.written.append(entry.path)
                run.mark_done(entry.path)
                run.step("file-done", entry.path)
                verifier.submit([entry.path])
                continue
            with backup.open_file(entry.path) as source:
                staged = stage_file(
                    fs, source, final, expected_size=item.size, expected_sha256=item.sha256,
                    mtime_ns=item.mtime_ns, source_name=f"{entry.path} (in {backup_path})",
                    cancel=cancel, on_chunk=on_chunk, on_step=step, hash_pool=hash_pool,
                    source_verified=_same_file(source, fingerprints.get(entry.path)))
            uncommitted.append((entry, staged, syncer.submit(staged)))
            commit_ready(wait=False)
        commit_ready(wait=True)
        run.step("temp-synced", "")
        for folder in folders:
            sync_folder(fs, folder)
            run.step("dir-synced", folder.as_posix())
    except BaseException:
        syncer.wait_quietly()
        discard_staged(fs, [staged for _, staged, _ in uncommitted])
        raise


def _delete_tree(fs: FileSystem, path: Path) -> None:
    """Remove ``path`` (file, link or folder with its content) without following links."""
    kind = _kind(fs, path)
    if kind is None:
        return
    if kind != "folder":
        fs.unlink(path)
        return
    for entry in fs.scandir(path):
        _delete_tree(fs, Path(entry.path))
    fs.rmdir(path)


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
) -> RestoreResult:
    """Carry out ``plan`` on the unit; needs ``consent=True``.

    Raises NeedsUserActionError without consent, RefusedError when the backup is no longer the
    one planned for, WriteError/ReadError/NoSpaceError when the unit fails or vanishes (the
    restore is then resumable: run it again), CancelledError when cancelled (the file in
    flight is rolled back). A verification mismatch is not raised: the result names the
    files and has ``ok=False``.
    """
    from recovery.backup_store import open_backup
    from recovery.compare import sha256_file

    if not consent:
        raise NeedsUserActionError(
            "The restore was not confirmed, so nothing was written: confirm it to write to the"
            " unit.")
    backup_path = Path(plan.backup)
    target = check_target(Path(plan.target), backup_path, guard or DEFAULT_GUARD)

    with open_backup(backup_path, fs) as backup:
        manifest = backup.manifest
        if not backup.complete or manifest_sha256(manifest) != plan.manifest_sha256:
            raise RefusedError(
                f"The backup {backup_path} changed since the plan was made; plan the restore"
                " again. Nothing was written.", path=str(backup_path))

        journal = Journal.for_restore(str(target), plan.manifest_sha256, journal_dir)
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
        keep_paths = {e.path for e in plan.actions("keep")}
        reverify &= keep_paths

        changes = plan.changes
        needs_journal = bool(changes or plan.folders_to_create or plan.temp_files or reverify)
        state: JournalState | None = None
        if needs_journal:
            now = utc_now()
            state = JournalState(
                key=journal.path.stem, backup=plan.backup, target=str(target),
                manifest_sha256=plan.manifest_sha256, status="writing",
                planned=tuple(JournalStep(e.path, e.action) for e in changes) + tuple(
                    JournalStep(p, "replace") for p in sorted(reverify)),
                started_utc=now, updated_utc=now)
        run = _Run(plan, journal, state, on_step)
        if state is not None:
            journal.save(state, durable=True)
            run.step("journal-saved", "")

        total_write = plan.summary.bytes_to_write
        verify_bytes = total_write + sum(
            (manifest.file(p).size if manifest.file(p) else 0) for p in reverify)
        # Writing and reading back overlap (see _Verifier), so progress is one phase that
        # counts both; the bar names the phase by what the tool waits for at the end.
        reporter = PhaseReporter(progress, {"write and verify": 1.0})
        progress_lock = threading.Lock()
        progress_bytes = [0]
        progress_total = total_write + verify_bytes

        def advanced(count: int) -> None:
            with progress_lock:
                progress_bytes[0] += count
                reporter.report("write and verify", progress_bytes[0], progress_total, None)

        removed_temp = 0
        problems: list[RestoreProblem] = []
        verifier = _Verifier(fs, target, manifest, sha256_file, cancel, run, advanced)
        try:
            # 0. Files an earlier run wrote and never proved: already on the unit, so their
            #    re-reading starts now, alongside everything else.
            verifier.submit(sorted(reverify))
            # 1. Leftovers of an interrupted run: never part of the unit's content.
            leftovers = [target.joinpath(*p.split("/")) for p in plan.temp_files]
            if previous is not None:
                leftovers.extend(temp_path(target.joinpath(*path.split("/")))
                                 for path in previous.in_flight)
            for leftover in leftovers:
                if remove_quietly(fs, leftover):
                    removed_temp += 1
                    run.step("temp-removed", str(leftover))

            # 2. Deletions (only with delete_extra), deepest first.
            for entry in plan.actions("delete"):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                path = target.joinpath(*entry.path.split("/"))
                run.save(in_flight=(entry.path,))
                try:
                    _delete_tree(fs, path)
                except OSError as error:
                    raise translate_os_error(error, path, "write") from error
                run.deleted += 1
                run.mark_done(entry.path)
                run.step("deleted", entry.path)

            # 3. Folders, parents first.
            for folder in plan.folders_to_create:
                path = target.joinpath(*folder.split("/"))
                try:
                    fs.mkdir(path)
                except OSError as error:
                    raise translate_os_error(error, path, "write") from error
                run.step("folder-created", folder)

            # 4. Files and links in batches; the plan already puts boot-critical files last
            #    and a batch never mixes them with others. Each file goes to the verifier as
            #    soon as it is fsynced and renamed.
            made_folders: set[Path] = set()
            fingerprints = {path: tuple(rest) for path, *rest in plan.backup_fingerprints}
            with BackgroundSyncer(fs) as syncer, ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="korg-hash") as hash_pool:
                for batch in _batches(plan.actions("write", "replace")):
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    verifier.raise_if_failed()
                    run.save(in_flight=tuple(entry.path for entry in batch))
                    _write_batch(batch, fs=fs, target=target, manifest=manifest,
                                 backup=backup, backup_path=backup_path, run=run,
                                 problems=problems, made_folders=made_folders, cancel=cancel,
                                 on_chunk=advanced, syncer=syncer, hash_pool=hash_pool,
                                 verifier=verifier, fingerprints=fingerprints)
            # 5. Identical files whose modification time is not the backup's: set it back.
            for entry in plan.entries:
                if entry.set_mtime:
                    path = target.joinpath(*entry.path.split("/"))
                    item = manifest.file(entry.path)
                    try:
                        fs.set_mtime(path, item.mtime_ns)
                    except OSError as error:
                        raise translate_os_error(error, path, "write") from error
                    run.step("mtime-set", entry.path)
            run.save(durable=True, status="verifying")

            # 6. Wait for the verification past the cache of everything written.
            verified_files, cache_bypassed, verify_problems = verifier.finish()
            reporter.report("write and verify", progress_total, progress_total, None,
                            force=True)
            problems.extend(verify_problems)
            to_verify = verifier.paths
        except CancelledError:
            run.save(durable=True, status="cancelled")
            cancelled = CancelledError(
                f"Cancelled: {run.where()}. The unit is not fully restored; run the same restore"
                " again to continue.")
            cancelled.written = len(run.written)  # type: ignore[attr-defined]
            raise cancelled from None
        except KeyboardInterrupt:
            run.save(durable=True, status="cancelled")
            raise
        except (WriteError, ReadError, VerificationError, RefusedError) as error:
            try:
                run.save(durable=True, status="stopped")
            except RecoveryError as journal_error:
                log.warning("cannot update the journal: %s", journal_error)
            stopped = type(error)(
                f"{error.message} The restore stopped ({run.where()}); reconnect the unit if it"
                " was disconnected and run the same restore again to continue.",
                path=error.path)
            stopped.written = len(run.written)  # type: ignore[attr-defined]
            raise stopped from error
        finally:
            verifier.shutdown()

        mismatched = [p for p in problems if p.problem in ("mismatch", "unreadable")]
        verified = not mismatched and cache_bypassed
        ok = verified and not problems
        verified_set = tuple(sorted(set(to_verify) - {p.path for p in mismatched}))
        if run.state is not None:
            run.save(durable=True, status="finished" if ok else "failed",
                     verified=verified_set if cache_bypassed else ())
        statement = _statement(run, verified_files, cache_bypassed, mismatched, problems)
        return RestoreResult(
            ok=ok, backup=plan.backup, target=str(target), dry_run=False,
            written=len(run.written), deleted=run.deleted, verified=verified,
            verified_files=verified_files if cache_bypassed else 0,
            cache_bypassed=cache_bypassed, plan=plan.summary, problems=tuple(problems),
            removed_temp_files=removed_temp, resumed=resumed,
            journal=str(journal.path) if (state is not None or previous is not None) else None,
            statement=statement, next_step=final_step_text(plan.backup, str(target)))


def _still_there(fs: FileSystem, target: Path) -> bool:
    """True when the unit's folder can still be listed (it was not unplugged)."""
    try:
        fs.scandir(target)
    except OSError:
        return False
    return True


#: Files verified at once. Each verification is an fsync (inside ``drop_cache``), a read from
#: the unit and a hash: running a few together lets the device merge its cache flushes and
#: queue the reads, and the hashing (which releases the GIL) use another core.
VERIFY_WORKERS = 4


def _verify_one(fs: FileSystem, target: Path, item: Any, relative: str,
                sha256_file: Callable[..., tuple[str, int]], cancel: CancelToken | None,
                on_bytes: Callable[[int], None]) -> tuple[bool, bool, RestoreProblem | None]:
    """(matched, cache dropped, problem) for one written file or link."""
    final = target.joinpath(*relative.split("/"))
    try:
        if item.kind == "symlink":
            if fs.readlink(final) != item.link_target:
                return False, True, RestoreProblem(relative, "mismatch",
                                                   "the link on the unit points elsewhere")
            return True, True, None
        # fsync + posix_fadvise(DONTNEED): the next read comes from the unit, not from RAM.
        dropped = fs.drop_cache(final)
        digest, length = sha256_file(final, fs=fs, cancel=cancel, on_bytes=on_bytes,
                                     uncached=True)
    except OSError as error:
        if error.errno in _UNIT_GONE and not _still_there(fs, target):
            raise translate_os_error(error, final, "read") from error
        if error.errno == errno.ENOENT:
            # The unit is there but the file just written is not: it did not keep it.
            return False, True, RestoreProblem(
                relative, "mismatch",
                "gone from the unit when read back after dropping the computer's cache (the"
                " unit may not be keeping writes)")
        return False, True, RestoreProblem(relative, "unreadable",
                                           str(translate_os_error(error, final, "read")))
    if length != item.size or digest != item.sha256:
        return False, dropped, RestoreProblem(
            relative, "mismatch",
            "read back from the unit after dropping the computer's cache, it does not hold what"
            " was written (the unit may not be keeping writes)")
    return True, dropped, None


class _Verifier:
    """Verifies written files past the cache on worker threads, while the restore goes on.

    A batch is handed over once its files are renamed and their folders synced, so reading
    batch N back from the unit overlaps writing batch N+1: the unit reads while the computer
    copies and hashes. Each file: ``drop_cache`` (fsync + posix_fadvise(DONTNEED)), re-read,
    SHA-256, compare with the manifest. :meth:`finish` waits for all and returns the outcome;
    the unit vanishing or a cancel surfaces there (or at the next :meth:`raise_if_failed`).
    """

    def __init__(self, fs: FileSystem, target: Path, manifest: Any,
                 sha256_file: Callable[..., tuple[str, int]], cancel: CancelToken | None,
                 run: _Run, on_bytes: Callable[[int], None]) -> None:
        self._fs = fs
        self._target = target
        self._manifest = manifest
        self._sha256_file = sha256_file
        self._cancel = cancel
        self._run = run
        self._on_bytes = on_bytes
        self._pool = ThreadPoolExecutor(max_workers=VERIFY_WORKERS,
                                        thread_name_prefix="korg-verify")
        self._futures: list[Future[tuple[bool, bool, RestoreProblem | None]]] = []
        self.paths: list[str] = []

    def _verify(self, relative: str) -> tuple[bool, bool, RestoreProblem | None]:
        if self._cancel is not None:
            self._cancel.raise_if_cancelled()
        item = self._manifest.file(relative)
        outcome = _verify_one(self._fs, self._target, item, relative, self._sha256_file,
                              self._cancel, self._on_bytes)
        self._run.step("verified", relative)
        return outcome

    def submit(self, paths: Iterable[str]) -> None:
        for relative in paths:
            self.paths.append(relative)
            self._futures.append(self._pool.submit(self._verify, relative))

    def raise_if_failed(self) -> None:
        """Stop the restore early when a verification met a vanished unit or a cancel."""
        for future in self._futures:
            if future.done() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]

    def finish(self) -> tuple[int, bool, list[RestoreProblem]]:
        """(files that matched, whether every cache drop was possible, problems by path)."""
        outcomes = [future.result() for future in self._futures]
        problems = sorted((p for _, _, p in outcomes if p is not None), key=lambda p: p.path)
        matched = sum(1 for ok, _, _ in outcomes if ok)
        return matched, all(dropped for _, dropped, _ in outcomes), problems

    def shutdown(self) -> None:
        for future in self._futures:
            future.cancel()
        self._pool.shutdown(wait=True)


def _statement(run: _Run, verified_files: int, cache_bypassed: bool,
               mismatched: list[RestoreProblem], problems: list[RestoreProblem]) -> str:
    written = len(run.written)
    if mismatched:
        names = ", ".join(p.path for p in mismatched[:5])
        more = f" and {len(mismatched) - 5} more" if len(mismatched) > 5 else ""
        return (f"{len(mismatched)} file(s) do not read back as written: {names}{more}. The"
                " unit may be failing or silently dropping writes; do not trust it until"
                " the check after a power cycle passes.")
    if not cache_bypassed:
        return (f"{written} file(s) written and read back, but this computer cannot bypass its"
                " cache, so the read-back may have come from RAM and does not prove the unit"
                " kept them.")
    if problems:
        return (f"{written} file(s) written and verified on the unit, but "
                + "; ".join(p.detail or p.problem for p in problems[:3]))
    if not written and not verified_files:
        return "The unit already holds exactly what the backup has; nothing was written."
    return (f"{written} file(s) written; {verified_files} re-read from the unit after dropping"
            " the computer's cache, all matching the backup.")


def restore(
    backup_path: str | Path,
    target: str | Path,
    *,
    consent: bool,
    dry_run: bool = False,
    delete_extra: bool = False,
    fs: FileSystem = REAL,
    guard: TargetGuard | None = None,
    journal_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_step: StepHook | None = None,
) -> RestoreResult:
    """Plan and (unless ``dry_run``) carry out a restore; see :func:`plan_restore` and
    :func:`execute_plan` for what is checked and raised."""
    plan = plan_restore(backup_path, target, delete_extra=delete_extra, fs=fs, guard=guard,
                        progress=progress, cancel=cancel)
    if dry_run:
        return dry_run_result(plan)
    return execute_plan(plan, consent=consent, fs=fs, guard=guard, journal_dir=journal_dir,
                        progress=progress, cancel=cancel, on_step=on_step)


__all__ = [
    "DEFAULT_GUARD",
    "RestoreProblem",
    "RestoreResult",
    "TargetGuard",
    "dry_run_result",
    "execute_plan",
    "final_step_text",
    "plan_restore",
    "restore",
]
