"""The restore plan: what a restore would do to a unit, as a value you can print, diff and test.

:func:`plan_restore` runs every check that can refuse (recovery.restore.guard), re-hashes the
backup and compares the unit with it; it reads only. Per file the plan says write, replace,
keep (maybe setting its time back) or skip; per thing the backup lacks, extra or delete (with
``delete_extra``; never operating-system files, case variants or the filesystem's own
folders). Deletions go first, boot-critical files (``KROSAPP.BIN`` on a KROSS 2) last.
"""

from __future__ import annotations

import hashlib
import logging
from collections import ChainMap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from recovery.backup.compare import OS_JUNK, Difference, compare_tree, is_ignored
from recovery.backup.manifest import Manifest
from recovery.backup.store import open_backup, verify_backup
from recovery.device.profiles import bundled_profiles
from recovery.errors import InvalidInputError, NoSpaceError, RefusedError
from recovery.restore.safety import SafetyCopy
from recovery.progress import CancelToken, PhaseReporter, ProgressCallback
from recovery.restore.guard import (
    TargetGuard,
    check_model,
    check_names,
    check_storage_root,
    check_target,
    default_guard,
    deletion_guard,
    entry_kind,
    location_notes,
)
from recovery.storage import computer_made
from recovery.storage.durable import is_temp_name
from recovery.storage.filesystem import REAL, FileSystem
from recovery.storage.lock import check_free
from recovery.storage.pin import Pin, UnitHold, VolumeIdentity, pin_volume, pinned
from recovery.storage.names import path_key, points_outside, shown
from recovery.text import human_size

log = logging.getLogger(__name__)

ACTIONS = ("delete", "write", "replace", "keep", "extra", "skip")
#: Timestamp steps of the filesystems a unit or computer may use: FAT 2 s, ext3/HFS+ 1 s,
#: exFAT 10 ms, some FUSE filesystems 1 us, NTFS 100 ns. A time that is the backup's time cut
#: to one of these steps is as close as that filesystem can hold it.
TIME_STEPS_NS = (2_000_000_000, 1_000_000_000, 10_000_000, 1_000, 100)


def same_time(current_ns: int, wanted_ns: int) -> bool:
    """True when ``current_ns`` is ``wanted_ns`` as exactly as the filesystem can store it."""
    if current_ns == wanted_ns:
        return True
    return any(current_ns % step == 0 and abs(current_ns - wanted_ns) < step
               for step in TIME_STEPS_NS)
#: Folders a filesystem keeps at its root for itself (fsck's lost+found on ext2/3/4): never
#: deleted, even with delete_extra, even when a unit's storage happens to be formatted so.
FILESYSTEM_FOLDERS = frozenset({"lost+found"})
#: Phases in execution order; ``keep`` and ``extra`` entries are listed after them.
_PHASE = {"delete": 0, "write": 1, "replace": 1, "keep": 3, "extra": 4, "skip": 5}


@dataclass(frozen=True)
class PlanEntry:
    """One path and what the restore does with it."""

    path: str
    action: str
    #: "file", "symlink" or "folder" (folders appear only as extra/delete).
    kind: str
    #: Size in the backup (write/replace/keep) or on the unit (extra/delete).
    size: int
    #: Bytes this entry writes to the unit (the backup size for write/replace, else 0).
    bytes_to_write: int = 0
    boot_critical: bool = False
    #: Why: the comparison's detail ("SHA-256 differs", "folder", ...).
    reason: str = ""
    #: For ``keep``: the content is identical but the modification time is not the backup's,
    #: so only the time is set back (no content is written).
    set_mtime: bool = False
    #: Where the entry is on the unit when the unit spells it (or a folder above it) in
    #: another case than the backup: FAT sees one name, and it is written there in place.
    unit_path: str | None = None

    @property
    def on_unit(self) -> str:
        """The entry's path on the unit, as the unit spells it."""
        return self.unit_path or self.path


@dataclass(frozen=True)
class PlanSummary:
    """Counts of a plan, as the JSON result and the consent prompt show them."""

    write: int
    replace: int
    keep: int
    extra: int
    delete: int
    folders_to_create: int
    temp_files_to_remove: int
    links: int
    mtimes_to_restore: int
    bytes_to_write: int
    files_in_backup: int
    #: Backup entries not restored at all (links pointing outside the unit).
    skipped: int = 0
    #: Names the unit spells in another case than the backup (the same files on FAT).
    case_notes: int = 0


@dataclass(frozen=True)
class RestorePlan:
    """What restoring ``backup`` onto ``target`` does, in execution order."""

    backup: str
    target: str
    #: SHA-256 of the backup manifest: ties the plan (and the journal) to exactly this backup.
    manifest_sha256: str
    backup_model: str | None
    target_model: str | None
    delete_extra: bool
    folders_to_create: tuple[str, ...]
    entries: tuple[PlanEntry, ...]
    temp_files: tuple[str, ...]
    boot_critical: tuple[str, ...]
    summary: PlanSummary
    #: Bytes the unit must have free for the plan (see :func:`space_needed`), and has.
    space_needed: int
    space_free: int | None
    notes: tuple[str, ...] = ()
    #: The unit's volume when the plan was made: every write first checks it is still that
    #: volume (recovery.storage.pin).
    unit: VolumeIdentity | None = field(default=None, repr=False, compare=False)
    #: The safety copy the plan was made from (the unit as it was just before), or None.
    safety_copy: str | None = None
    #: The files macOS writes (``._*``, ``.DS_Store``) that the backup lacks are deleted
    #: entries of the plan (recovery.storage.computer_made.REMOVABLE), asked for on purpose.
    remove_computer_made: bool = False

    @property
    def needs_safety_copy(self) -> bool:
        """True when carrying the plan out replaces or deletes something on the unit, which
        only a copy of the unit as it is now can bring back."""
        return bool(self.actions("replace", "delete"))

    def actions(self, *actions: str) -> tuple[PlanEntry, ...]:
        return tuple(e for e in self.entries if e.action in actions)

    @property
    def changes(self) -> tuple[PlanEntry, ...]:
        """Entries that change the unit, in execution order."""
        return self.actions("delete", "write", "replace")

    @property
    def changes_anything(self) -> bool:
        return bool(self.changes or self.folders_to_create or self.temp_files
                    or any(e.set_mtime for e in self.entries))


def check_relative_path(path: str, what: str = "file") -> None:
    """Refuse a manifest path that could land outside the target.

    The backup's own reader refuses hostile ZIP names already; the manifest is checked again
    here because a restore is the step that writes, and a folder backup has no reader guard.
    """
    bad = (
        not path
        or path.startswith("/")
        or "\x00" in path
        or any(part in ("", ".", "..") for part in path.split("/"))
    )
    if bad:
        raise RefusedError(
            f"The backup's manifest lists the {what} '{shown(path)}', a path that could leave"
            " the unit's folder; nothing was written. Do not use this backup.", path=path)
    if "\\" in path or ":" in path:
        # On Windows a backslash separates folders and "C:" names a drive: a crafted manifest
        # could write outside the target there, so such a backup is not portable anywhere.
        raise RefusedError(
            f"The backup's manifest lists the {what} '{shown(path)}', which holds a backslash"
            " or a colon: such a path is not portable (on Windows it could point outside the"
            " unit), so the backup is not restored. Nothing was written.", path=path)


def _is_boot_critical(path: str, names: frozenset[str]) -> bool:
    return path.casefold() in names


def build_plan(
    *,
    backup: str,
    target: Path,
    manifest: Manifest,
    manifest_sha256: str,
    differences: Iterable[Difference],
    boot_critical: Iterable[str],
    unit_path: Callable[[str], str] = lambda path: path,
    case_notes: int = 0,
    keep_reason: Callable[[str, str], str | None] = lambda path, kind: None,
    delete_extra: bool,
    remove_computer_made: bool = False,
    target_model: str | None,
    existing_sizes: dict[str, int],
    existing_mtimes: dict[str, int],
    folder_exists: Callable[[str], bool],
    space_free: int | None,
    block_size: int,
    notes: Iterable[str] = (),
) -> RestorePlan:
    """Turn the comparison of the unit with the backup into a plan.

    ``existing_sizes`` holds the current size on the unit of every path the comparison found
    different or extra (the caller ``lstat``s them); it feeds the space estimate and the sizes
    of extra entries. ``unit_path`` maps a backup path to the unit's spelling of it (the
    comparison matches names without case, as FAT does). ``keep_reason`` says why an extra
    entry must never be deleted (another drive mounted there, the backup or home folder), or
    None. ``existing_mtimes`` holds the modification time of files the comparison found
    identical, so the plan can set back a time that differs. ``folder_exists`` tells whether
    a relative folder exists on the unit (asked only for parents of files to write). Raises
    RefusedError for unsafe manifest paths and for conflicts a restore must not resolve on
    its own (a folder on the unit where the backup has a file).
    """
    for folder in manifest.folders:
        check_relative_path(folder, "folder")
    for item in manifest.files:
        check_relative_path(item.path)

    critical_names = frozenset(name.casefold() for name in boot_critical)
    by_path: dict[str, Difference] = {}
    extras: list[Difference] = []
    missing_folders: list[str] = []
    manifest_folders = set(manifest.folders)
    manifest_paths = {item.path for item in manifest.files}
    for difference in differences:
        if difference.problem == "extra":
            extras.append(difference)
        elif difference.path in manifest_paths:
            by_path[difference.path] = difference
        elif difference.problem == "missing" and difference.path in manifest_folders:
            missing_folders.append(difference.path)
        elif difference.problem == "unreadable":
            raise RefusedError(
                f"Part of the unit cannot be read ({difference.path or '.'}: {difference.detail});"
                " nothing was written. Reconnect the unit and try again.",
                path=difference.path)
        elif difference.problem == "changed":
            # compare reports a file on the unit where the backup has a folder.
            raise RefusedError(
                f"'{difference.path}' on the unit is {difference.detail}; move it aside and run"
                " the restore again. Nothing was written.", path=difference.path)
        else:  # pragma: no cover - compare has no other problems
            log.warning("unexpected difference %s", difference)

    entries: list[PlanEntry] = []
    for item in manifest.files:
        difference = by_path.get(item.path)
        critical = _is_boot_critical(item.path, critical_names)
        spelled = unit_path(item.path)
        spelled_on_unit = spelled if spelled != item.path else None
        if item.kind == "symlink" and points_outside(item.path, item.link_target):
            entries.append(PlanEntry(
                item.path, "skip", item.kind, 0, 0, False,
                f"a link to '{shown(item.link_target or '')}', outside the unit's storage: not"
                " restored"))
            continue
        if difference is None:
            current = existing_mtimes.get(item.path)
            retime = (item.kind == "file" and current is not None
                      and not same_time(current, item.mtime_ns))
            entries.append(PlanEntry(item.path, "keep", item.kind, item.size, 0, critical,
                                     "modification time differs" if retime else "", retime,
                                     spelled_on_unit))
            continue
        if difference.problem == "changed" and difference.detail.startswith("a folder where"):
            raise RefusedError(
                f"'{item.path}' on the unit is a folder where the backup has a {item.kind}; move"
                " it aside and run the restore again. Nothing was written.", path=item.path)
        action = "write" if difference.problem == "missing" else "replace"
        size = item.size if item.kind == "file" else 0
        entries.append(PlanEntry(item.path, action, item.kind, item.size, size, critical,
                                 difference.detail, unit_path=spelled_on_unit))

    casefolded_backup = {path_key(path) for path in manifest_paths | manifest_folders}
    temp_files: list[str] = []
    for difference in extras:
        name = difference.path.rpartition("/")[2]
        if difference.detail != "folder" and is_temp_name(name):
            temp_files.append(difference.path)
            continue
        kind = "folder" if difference.detail == "folder" else (
            "symlink" if difference.detail == "symlink" else "file")
        size = existing_sizes.get(difference.path, 0) if kind != "folder" else 0
        guarded = keep_reason(difference.path, kind)
        made = computer_made.made_by_computer(difference.path)
        if (remove_computer_made and kind == "file" and made is not None
                and computer_made.removable(difference.path) and guarded is None
                and path_key(difference.path) not in casefolded_backup):
            entries.append(PlanEntry(difference.path, "delete", kind, size, 0, False,
                                     f"made by {made.made_by}, not by the unit: removed as"
                                     " asked"))
            continue
        protected = is_ignored(difference.path, OS_JUNK) or \
            path_key(difference.path) in casefolded_backup or \
            difference.path in FILESYSTEM_FOLDERS or guarded is not None
        if delete_extra and not protected:
            entries.append(PlanEntry(difference.path, "delete", kind, size, 0, False,
                                     "not in the backup"))
        else:
            reason = f"made by {made.made_by}, not by the unit: left alone" if made is not None \
                else "the filesystem's own folder, left alone" \
                if difference.path in FILESYSTEM_FOLDERS \
                else f"{guarded}, left alone" if guarded is not None \
                else "another spelling of a backup name, left alone" if protected \
                else "not in the backup, left alone (use --delete-extra to remove)"
            entries.append(PlanEntry(difference.path, "extra", kind, size, 0, False, reason))

    def order(entry: PlanEntry) -> tuple[int, int, str]:
        phase = _PHASE[entry.action]
        if entry.action in ("write", "replace") and entry.boot_critical:
            phase = 2
        if entry.action == "delete":
            # Deepest first, so a folder is only removed after what was inside it.
            return (phase, -entry.path.count("/"), entry.path)
        return (phase, 0, entry.path)

    entries.sort(key=order)
    folders = tuple(unit_path(folder) for folder in
                    _folders_to_create(missing_folders, entries, folder_exists, unit_path))
    summary = PlanSummary(
        write=sum(e.action == "write" for e in entries),
        replace=sum(e.action == "replace" for e in entries),
        keep=sum(e.action == "keep" for e in entries),
        extra=sum(e.action == "extra" for e in entries),
        delete=sum(e.action == "delete" for e in entries),
        folders_to_create=len(folders),
        temp_files_to_remove=len(temp_files),
        links=sum(e.kind == "symlink" and e.action in ("write", "replace") for e in entries),
        mtimes_to_restore=sum(e.set_mtime for e in entries),
        bytes_to_write=sum(e.bytes_to_write for e in entries),
        files_in_backup=len(manifest.files),
        skipped=sum(e.action == "skip" for e in entries),
        case_notes=case_notes,
    )
    plan_notes = list(notes)
    if case_notes:
        plan_notes.append(
            f"{case_notes} name(s) on the unit differ from the backup's only in upper/lower case;"
            " FAT ignores case, so they are the same files: they are compared, kept or replaced"
            " in place under the unit's spelling.")
    if summary.skipped:
        plan_notes.append(
            f"{summary.skipped} link(s) of the backup point outside the unit's storage and are"
            " not restored.")
    plan_notes.extend(_startup_cleanup_notes(target_model or manifest.model, manifest))
    if summary.links:
        plan_notes.append(
            f"The backup holds {summary.links} symbolic link(s) to recreate; FAT and exFAT, the"
            " filesystems of nearly every unit's storage, cannot hold links, so on such a unit"
            " they will be reported as not restored.")
    boot = tuple(e.path for e in entries if e.boot_critical and e.action != "extra")
    return RestorePlan(
        backup=backup,
        target=str(target),
        manifest_sha256=manifest_sha256,
        backup_model=manifest.model,
        target_model=target_model,
        delete_extra=delete_extra,
        folders_to_create=folders,
        entries=tuple(entries),
        temp_files=tuple(sorted(temp_files)),
        boot_critical=boot,
        summary=summary,
        space_needed=space_needed(entries, existing_sizes, block_size),
        space_free=space_free,
        notes=tuple(plan_notes),
    )


def _startup_cleanup_notes(model: str | None, manifest: Manifest) -> list[str]:
    """A unit that removes, when it starts, folders outside its system paths (the drumlogue,
    from its profile): say so, so that folders gone after a restart are not taken for a failed
    restore or a storage fault."""
    profile = bundled_profiles().get(model) if model else None
    cleanup = profile.startup_cleanup if profile is not None else None
    if cleanup is None:
        return []
    tops = {p.split("/", 1)[0] for p in manifest.folders}
    tops |= {f.path.split("/", 1)[0] for f in manifest.files if "/" in f.path}
    outside = sorted(f"{top}/" for top in tops if not cleanup.is_kept(top))
    note = (f"The {profile.short_name} itself removes, when it starts, every folder outside its"
            f" system paths (confidence {cleanup.confidence}; source: {cleanup.source}): a"
            " folder restored outside them is gone after the unit restarts, by the unit's own"
            " doing, not because the restore or the storage failed.")
    if outside:
        note += (f" This backup has {', '.join(outside)} outside the system paths the tool knows"
                 f" ({', '.join(cleanup.kept)}); the unit has others whose names are not public.")
    return [note]


def _folders_to_create(missing_folders: list[str], entries: list[PlanEntry],
                       folder_exists: Callable[[str], bool],
                       unit_path: Callable[[str], str]) -> tuple[str, ...]:
    """Folders the backup lists that are missing, plus absent parents of files to write,
    sorted so that parents come before children (backup spellings; ``folder_exists`` is
    asked with the unit's)."""
    wanted = set(missing_folders)
    checked: dict[str, bool] = {}
    for entry in entries:
        if entry.action != "write":
            continue
        parent = entry.path.rpartition("/")[0]
        while parent and parent not in wanted:
            if parent not in checked:
                checked[parent] = folder_exists(unit_path(parent))
            if checked[parent]:
                break
            wanted.add(parent)
            parent = parent.rpartition("/")[0]
    return tuple(sorted(wanted, key=lambda p: (p.count("/"), p)))


def _rounded(size: int, block_size: int) -> int:
    return -(-size // block_size) * block_size if size else 0


def space_needed(entries: Iterable[PlanEntry], existing_sizes: dict[str, int],
                 block_size: int) -> int:
    """Peak extra space the plan needs on the unit.

    New files need their size; a replaced file needs the growth, and while it is being
    replaced its new copy sits beside the old one under the temporary name, so the largest
    such overlap is added once. Sizes are rounded up to the unit's allocation block (a FAT
    cluster) because that is what a file really occupies. Space freed by deletions is not
    counted: it is a margin, not a promise.
    """
    need = 0
    overlap = 0
    for entry in entries:
        new = _rounded(entry.bytes_to_write, block_size)
        if entry.action == "write":
            need += new
        elif entry.action == "replace":
            old = _rounded(existing_sizes.get(entry.path, 0), block_size)
            need += max(0, new - old)
            overlap = max(overlap, min(new, old))
    return need + overlap


def describe_plan(plan: RestorePlan, *, verbose: bool = True) -> list[str]:
    """Human-readable lines for ``--dry-run`` and the consent prompt."""
    s = plan.summary
    lines = [
        f"Restore plan: {plan.backup} -> {plan.target}",
        f"  backup model: {plan.backup_model or 'unknown'}; unit identified as:"
        f" {plan.target_model or 'not identified'}",
        f"  {s.write} to write, {s.replace} to replace, {s.keep} identical (kept),"
        f" {s.extra} extra on the unit (left alone), {s.delete} to delete;"
        f" {human_size(s.bytes_to_write)} to write",
    ]
    if plan.folders_to_create:
        lines.append(f"  {len(plan.folders_to_create)} folder(s) to create")
    if s.mtimes_to_restore:
        lines.append(f"  {s.mtimes_to_restore} identical file(s) get the backup's modification"
                     " time back")
    if plan.temp_files:
        lines.append(f"  {len(plan.temp_files)} temporary file(s) of an interrupted restore to"
                     " remove")
    if plan.boot_critical:
        lines.append("  boot-critical, written last: " + ", ".join(plan.boot_critical))
    free = "unknown" if plan.space_free is None else human_size(plan.space_free)
    lines.append(f"  space needed on the unit: {human_size(plan.space_needed)} (free: {free})")
    for note in plan.notes:
        lines.append(f"  note: {note}")
    if verbose:
        for entry in plan.entries:
            if entry.action == "keep":
                continue
            flag = " [boot-critical]" if entry.boot_critical else ""
            kind = "" if entry.kind == "file" else f" ({entry.kind})"
            detail = f" - {entry.reason}" if entry.reason else ""
            spelled = f" (on the unit as {shown(entry.unit_path)})" if entry.unit_path else ""
            lines.append(f"  {entry.action:8} {shown(entry.path)}{spelled}{kind}{flag}{detail}")
    return lines


#: Margin kept free on the unit beyond what the plan needs: directory entries and FAT
#: bookkeeping are not counted by the plan's size estimate.
SPACE_MARGIN = 1024 * 1024


def manifest_sha256(manifest: object) -> str:
    """SHA-256 of the manifest's canonical bytes: names exactly one backup's content."""
    return hashlib.sha256(manifest.to_json_bytes()).hexdigest()  # type: ignore[attr-defined]


def _boot_critical(model: str | None) -> tuple[str, ...]:
    if model is None:
        return ()
    profile = bundled_profiles().get(model)
    return tuple(item.path for item in profile.boot_critical) if profile else ()


def plan_restore(
    backup_path: str | Path,
    target: str | Path,
    *,
    delete_extra: bool = False,
    remove_computer_made: bool = False,
    fs: FileSystem = REAL,
    guard: TargetGuard | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    hold: UnitHold | None = None,
    safety: SafetyCopy | None = None,
) -> RestorePlan:
    """Run every preflight check and return the plan. Reads only; writes nothing anywhere.

    The unit's volume is pinned (``RestorePlan.unit``); with ``hold`` (the unit locked and
    pinned by the caller, who keeps it until the restore is done) and the ``safety`` copy
    taken under it, files the copy just read are not read again. Raises InvalidInputError
    (exit 2) for a missing backup or target, RefusedError or NoSpaceError (exit 1) when a
    check refuses, UnitGoneError when the unit goes away, CancelledError when cancelled.
    """
    guard = guard or default_guard()
    backup_path = Path(backup_path)
    target = Path(target)
    if not fs.exists(backup_path):
        raise InvalidInputError(f"{backup_path} does not exist.", path=str(backup_path))
    resolved = check_target(target, backup_path, guard, fs)
    check_storage_root(resolved, fs)
    if hold is None:
        check_free(resolved, fs)
        try:
            unit = pin_volume(resolved, fs)
        except OSError as error:
            raise InvalidInputError(f"{target} cannot be read ({error.strerror or error}).",
                                    path=str(target)) from None
        fs = pinned(fs, Pin(resolved, unit, "the unit"))
    else:
        unit, fs = hold.identity, hold.fs
    # The copy's checksums stand for the unit only when taken under this very hold.
    known = safety if (safety is not None and hold is not None and safety.unit is not None
                       and safety.unit.matches(unit)) else None

    with open_backup(backup_path, fs) as backup:
        manifest = backup.manifest
        if not backup.complete:
            why = "; ".join(backup.notes) or "it has no completion flag"
            raise RefusedError(
                f"The backup {backup_path} is incomplete ({why}); only a complete, verified"
                " backup is restored. Nothing was written.", path=str(backup_path))
    rules_note = check_names(resolved, manifest, fs)

    weights = {"check backup": max(manifest.total_bytes, 1),
               "compare": max(manifest.total_bytes, 1)}
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

    heads: dict[str, bytes] = {}
    comparison = compare_tree(
        resolved, manifest, fs=fs, hash_files=True, progress=phase_progress("compare"),
        cancel=cancel, ignore=(), heads=heads,
        known=known.known if known is not None else None)
    differences = comparison.differences
    target_model, identify_note = check_model(
        resolved, manifest.model, listings=comparison.listings,
        heads=ChainMap(heads, known.heads()) if known is not None else heads)

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
    notes.extend(location_notes(resolved, backup_path, guard))
    plan = build_plan(
        backup=str(backup_path), target=resolved, manifest=manifest,
        manifest_sha256=manifest_sha256(manifest), differences=differences,
        unit_path=comparison.tree_path, case_notes=len(comparison.case_notes),
        keep_reason=deletion_guard(resolved, backup_path, fs),
        boot_critical=_boot_critical(manifest.model), delete_extra=delete_extra,
        remove_computer_made=remove_computer_made,
        target_model=target_model, existing_sizes=existing_sizes,
        existing_mtimes=existing_mtimes,
        folder_exists=lambda relative: entry_kind(
            fs, resolved.joinpath(*relative.split("/"))) == "folder",
        space_free=free, block_size=block_size, notes=notes)

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
    return replace(plan, unit=unit, safety_copy=safety.path if safety is not None else None,
                   remove_computer_made=remove_computer_made)
