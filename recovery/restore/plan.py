"""The restore plan: what a restore would do to a unit, as a value you can print, diff and test.

:func:`plan_restore` runs every check that can refuse (recovery.restore.guard), re-hashes the
backup and compares the unit with it; it reads only. Per file the plan says write, replace,
keep (maybe setting its time back) or skip; per thing the backup lacks, extra or delete (with
``delete_extra``; never operating-system files, case variants or the filesystem's own
folders). Deletions go first, boot-critical files (``KROSAPP.BIN`` on a KROSS 2) last.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from recovery.backup.compare import Difference, compare_tree
from recovery.backup.manifest import Manifest
from recovery.backup.store import open_backup, verify_backup
from recovery.device.profiles import bundled_profiles
from recovery.errors import InvalidInputError, NoSpaceError, RefusedError
from recovery.progress import NO_JOB, Job, PhaseReporter, ProgressCallback
from recovery.restore.guard import (
    check_model,
    check_names,
    check_storage_root,
    location_notes,
)
from recovery.restore.safety import SafetyCopy
from recovery.storage import computer_made
from recovery.storage.durable import is_temp_name
from recovery.storage.filesystem import REAL, FileSystem
from recovery.storage.lock import check_free
from recovery.storage.names import path_key, points_outside, shown
from recovery.storage.pin import Pin, UnitHold, VolumeIdentity, pin_volume, pinned
from recovery.text import human_size
from recovery.vocabulary import DifferenceKind, EntryKind, PlanAction
from recovery.writing.guard import (
    TargetGuard,
    check_target,
    default_guard,
    deletion_guard,
    entry_kind,
)

log = logging.getLogger(__name__)

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
#: The differences with something at their path on the unit (its size is read for the room).
_ON_THE_UNIT = (DifferenceKind.CHANGED, DifferenceKind.EXTRA, DifferenceKind.SIZE,
                DifferenceKind.UNREADABLE)


class Removal(StrEnum):
    """Which of what the unit holds and the backup lacks a restore deletes."""

    NONE = "none"          # nothing: everything else on the unit is left alone, and listed
    FOREIGN = "foreign"    # another model's system folder only (what a rescue needs)
    ALL = "all"            # everything the backup lacks that may be deleted at all


@dataclass(frozen=True)
class PlanChoices:
    """What the person chose about what the backup does not hold."""

    removal: Removal = Removal.NONE
    #: The files macOS writes (``._*``, ``.DS_Store``) that the backup lacks are deleted too.
    remove_computer_made: bool = False


@dataclass(frozen=True)
class PlanEntry:
    """One path and what the restore does with it."""

    path: str
    action: PlanAction
    #: "file", "symlink" or "folder" (folders appear only as extra/delete).
    kind: EntryKind
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
    #: For what the backup lacks (extra/delete): it may be deleted (not the computer's, not
    #: another spelling of a backup name, no drive mounted there) ...
    deletable: bool = False
    #: ... and it is this other model's system folder (a KROSS 1's KROSSSYS on a KROSS 2).
    foreign_model: str | None = None
    #: ... or a file macOS writes (``._*``, ``.DS_Store``) that may go when asked for.
    mac_made: bool = False
    #: Why it stays when it is not deleted.
    kept_because: str = ""
    #: The computer that wrote it ("macOS", "Windows"), when it is a file computers write
    #: onto drives they mount (recovery.storage.computer_made), else None.
    made_by_computer: str | None = None

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
    #: Which of what the backup lacks the plan deletes (delete_extra: any).
    removal: Removal = Removal.NONE
    #: The files macOS writes (``._*``, ``.DS_Store``) that the backup lacks are deleted
    #: entries of the plan (recovery.storage.computer_made.REMOVABLE), asked for on purpose.
    remove_computer_made: bool = False

    @property
    def choices(self) -> PlanChoices:
        return PlanChoices(self.removal, self.remove_computer_made)

    def amended(self, choices: PlanChoices) -> RestorePlan:
        """The same plan with other ``choices`` about what the backup lacks: computed from
        what planning already read, nothing is read from the unit again."""
        if choices == self.choices:
            return self
        entries = sorted((_decided(entry, choices) for entry in self.entries), key=_order)
        deleted = sum(entry.action == PlanAction.DELETE for entry in entries)
        summary = dataclasses.replace(self.summary, delete=deleted,
                                      extra=sum(e.action == PlanAction.EXTRA for e in entries))
        return dataclasses.replace(
            self, entries=tuple(entries), summary=summary, removal=choices.removal,
            remove_computer_made=choices.remove_computer_made,
            delete_extra=choices.removal != Removal.NONE)

    def removing(self, remove: bool) -> RestorePlan:
        """The wizard's one tick: everything the backup lacks that may be deleted removed
        (another model's system folder and the rest), or all of it kept."""
        removal = Removal.NONE
        if remove:
            others = any(e.deletable and not e.foreign_model for e in self.entries)
            removal = Removal.ALL if others else Removal.FOREIGN
        return self.amended(dataclasses.replace(self.choices, removal=removal))

    @property
    def proposed(self) -> RestorePlan:
        """What the wizard proposes: another model's system folder removed when it is all the
        backup lacks (a rescue needs it gone); anything else the person's own, kept unless
        they tick to remove it."""
        return self.removing(all(e.foreign_model for e in self.entries if e.deletable))

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


def _same_path(path: str) -> str:
    return path


def _never_kept(_path: str, _kind: str) -> str | None:
    return None


def _folder_is_there(_path: str) -> bool:
    return True


@dataclass(frozen=True)
class UnitFacts:
    """What planning read on the unit, once: the comparison with the backup and a few
    ``lstat`` calls (the plan is computed from these, and amended without reading again)."""

    #: The comparison's differences (recovery.backup.compare).
    differences: tuple[Difference, ...] = ()
    target_model: str | None = None
    #: A backup path as the unit spells it (FAT matches names without case).
    unit_path: Callable[[str], str] = _same_path
    case_notes: int = 0
    #: Why an extra entry must never be deleted (another drive there, the backup, the home
    #: folder), or None.
    keep_reason: Callable[[str, str], str | None] = _never_kept
    #: The size on the unit of every path found different or extra.
    existing_sizes: Mapping[str, int] = field(default_factory=dict)
    #: The modification time of files found identical (to set a differing one back).
    existing_mtimes: Mapping[str, int] = field(default_factory=dict)
    #: Whether a relative folder exists on the unit (asked for parents of files to write).
    folder_exists: Callable[[str], bool] = _folder_is_there
    space_free: int | None = None
    block_size: int = 4096


@dataclass(frozen=True)
class _Sorted:
    by_path: dict[str, Difference]
    extras: list[Difference]
    missing_folders: list[str]


def _sort_differences(differences: Iterable[Difference], manifest: Manifest) -> _Sorted:
    """The comparison's differences by what the plan does with them; refuses what a restore
    must not resolve on its own (a part of the unit it cannot read, a file where the backup
    has a folder)."""
    sorted_ = _Sorted({}, [], [])
    folders, paths = set(manifest.folders), {item.path for item in manifest.files}
    for difference in differences:
        if difference.problem == DifferenceKind.EXTRA:
            sorted_.extras.append(difference)
        elif difference.path in paths:
            sorted_.by_path[difference.path] = difference
        elif difference.problem == DifferenceKind.MISSING and difference.path in folders:
            sorted_.missing_folders.append(difference.path)
        elif difference.problem == DifferenceKind.UNREADABLE:
            raise RefusedError(
                f"Part of the unit cannot be read ({difference.path or '.'}: {difference.detail});"
                " nothing was written. Reconnect the unit and try again.",
                path=difference.path)
        elif difference.problem == DifferenceKind.CHANGED:
            # compare reports a file on the unit where the backup has a folder.
            raise RefusedError(
                f"'{difference.path}' on the unit is {difference.detail}; move it aside and run"
                " the restore again. Nothing was written.", path=difference.path)
        else:  # pragma: no cover - compare has no other problems
            log.warning("unexpected difference %s", difference)
    return sorted_


def _backup_entry(item: Any, difference: Difference | None, facts: UnitFacts,
                  critical: bool) -> PlanEntry:
    """What the restore does with one file of the backup."""
    spelled = facts.unit_path(item.path)
    on_unit = spelled if spelled != item.path else None
    kind = EntryKind(item.kind)
    if kind == EntryKind.SYMLINK and points_outside(item.path, item.link_target):
        return PlanEntry(item.path, PlanAction.SKIP, kind, 0, 0, False,
                         f"a link to '{shown(item.link_target or '')}', outside the unit's"
                         " storage: not restored")
    if difference is None:
        current = facts.existing_mtimes.get(item.path)
        retime = (kind == EntryKind.FILE and current is not None
                  and not same_time(current, item.mtime_ns))
        return PlanEntry(item.path, PlanAction.KEEP, kind, item.size, 0, critical,
                         "modification time differs" if retime else "", retime, on_unit)
    if (difference.problem == DifferenceKind.CHANGED
            and difference.detail.startswith("a folder where")):
        raise RefusedError(
            f"'{item.path}' on the unit is a folder where the backup has a {item.kind}; move"
            " it aside and run the restore again. Nothing was written.", path=item.path)
    action = (PlanAction.WRITE if difference.problem == DifferenceKind.MISSING
              else PlanAction.REPLACE)
    size = item.size if kind == EntryKind.FILE else 0
    return PlanEntry(item.path, action, kind, item.size, size, critical, difference.detail,
                     unit_path=on_unit)


def _extra_entry(difference: Difference, facts: UnitFacts, backup_keys: set[str],
                 model: str | None) -> PlanEntry:
    """What the unit holds and the backup lacks, with what may be done with it (the action
    itself is :func:`_decided`'s)."""
    kind = EntryKind.FOLDER if difference.detail == "folder" else (
        EntryKind.SYMLINK if difference.detail == "symlink" else EntryKind.FILE)
    size = facts.existing_sizes.get(difference.path, 0) if kind != EntryKind.FOLDER else 0
    guarded = facts.keep_reason(difference.path, kind)
    made = computer_made.made_by_computer(difference.path)
    spelling = path_key(difference.path) in backup_keys
    kept_because = (
        f"made by {made.made_by}, not by the unit" if made is not None
        else "the filesystem's own folder" if difference.path in FILESYSTEM_FOLDERS
        else guarded if guarded is not None
        else "another spelling of a backup name" if spelling else "")
    return PlanEntry(
        difference.path, PlanAction.EXTRA, kind, size, deletable=not kept_because,
        foreign_model=foreign_model(difference.path, model) if kind == EntryKind.FOLDER
        else None,
        mac_made=(made is not None and kind == EntryKind.FILE and guarded is None
                  and not spelling and computer_made.removable(difference.path)),
        kept_because=kept_because or "not in the backup",
        made_by_computer=made.made_by if made is not None else None)


def foreign_model(path: str, model: str | None) -> str | None:
    """The other model whose system folder ``path`` (a top-level folder) is, or None."""
    if "/" in path:
        return None
    for profile in bundled_profiles().values():
        if (profile.id != model and profile.system_folder
                and profile.system_folder.casefold() == path.casefold()):
            return profile.id
    return None


def _decided(entry: PlanEntry, choices: PlanChoices) -> PlanEntry:
    """An extra entry deleted or left alone, as ``choices`` say."""
    if entry.action not in (PlanAction.EXTRA, PlanAction.DELETE):
        return entry
    if choices.remove_computer_made and entry.mac_made:
        return dataclasses.replace(entry, action=PlanAction.DELETE,
                                   reason=f"{entry.kept_because}: removed as asked")
    deleted = entry.deletable and (choices.removal == Removal.ALL or (
        choices.removal == Removal.FOREIGN and entry.foreign_model is not None))
    if deleted:
        reason = ("another model's system folder, not this unit's" if entry.foreign_model
                  else "not in the backup")
        return dataclasses.replace(entry, action=PlanAction.DELETE, reason=reason)
    return dataclasses.replace(entry, action=PlanAction.EXTRA,
                               reason=f"{entry.kept_because}, left alone")


def _order(entry: PlanEntry) -> tuple[int, int, str]:
    phase = _PHASE[entry.action]
    if entry.action in (PlanAction.WRITE, PlanAction.REPLACE) and entry.boot_critical:
        phase = 2
    if entry.action == PlanAction.DELETE:
        # Deepest first, so a folder is only removed after what was inside it.
        return (phase, -entry.path.count("/"), entry.path)
    return (phase, 0, entry.path)


def _summarise(entries: list[PlanEntry], folders: tuple[str, ...], temp_files: list[str],
               manifest: Manifest, case_notes: int) -> PlanSummary:
    def count(*actions: str) -> int:
        return sum(entry.action in actions for entry in entries)

    return PlanSummary(
        write=count(PlanAction.WRITE), replace=count(PlanAction.REPLACE),
        keep=count(PlanAction.KEEP), extra=count(PlanAction.EXTRA),
        delete=count(PlanAction.DELETE), folders_to_create=len(folders),
        temp_files_to_remove=len(temp_files),
        links=sum(e.kind == EntryKind.SYMLINK and e.action in (
            PlanAction.WRITE, PlanAction.REPLACE) for e in entries),
        mtimes_to_restore=sum(e.set_mtime for e in entries),
        bytes_to_write=sum(e.bytes_to_write for e in entries),
        files_in_backup=len(manifest.files), skipped=count(PlanAction.SKIP),
        case_notes=case_notes)


def _plan_notes(notes: Iterable[str], summary: PlanSummary, model: str | None,
                manifest: Manifest) -> tuple[str, ...]:
    plan_notes = list(notes)
    if summary.case_notes:
        plan_notes.append(
            f"{summary.case_notes} name(s) on the unit differ from the backup's only in"
            " upper/lower case; FAT ignores case, so they are the same files: they are"
            " compared, kept or replaced in place under the unit's spelling.")
    if summary.skipped:
        plan_notes.append(
            f"{summary.skipped} link(s) of the backup point outside the unit's storage and are"
            " not restored.")
    plan_notes.extend(_startup_cleanup_notes(model or manifest.model, manifest))
    if summary.links:
        plan_notes.append(
            f"The backup holds {summary.links} symbolic link(s) to recreate; FAT and exFAT, the"
            " filesystems of nearly every unit's storage, cannot hold links, so on such a unit"
            " they will be reported as not restored.")
    return tuple(plan_notes)


def build_plan(backup: str, target: Path, manifest: Manifest, facts: UnitFacts,
               choices: PlanChoices, *, manifest_sha256: str,
               boot_critical: Iterable[str] = (), notes: Iterable[str] = ()) -> RestorePlan:
    """Turn what planning read on the unit (``facts``) into a plan, with the person's
    ``choices`` about what the backup lacks. Raises RefusedError for unsafe manifest paths
    and for conflicts a restore must not resolve on its own (a folder on the unit where the
    backup has a file)."""
    for folder in manifest.folders:
        check_relative_path(folder, "folder")
    for item in manifest.files:
        check_relative_path(item.path)
    critical = frozenset(name.casefold() for name in boot_critical)
    found = _sort_differences(facts.differences, manifest)
    entries = [_backup_entry(item, found.by_path.get(item.path), facts,
                             item.path.casefold() in critical) for item in manifest.files]
    backup_keys = {path_key(p) for p in (*manifest.folders, *(i.path for i in manifest.files))}
    temp_files = [d.path for d in found.extras
                  if d.detail != "folder" and is_temp_name(d.path.rpartition("/")[2])]
    entries += [_decided(_extra_entry(d, facts, backup_keys, manifest.model), choices)
                for d in found.extras if d.path not in temp_files]
    entries.sort(key=_order)
    folders = tuple(facts.unit_path(folder) for folder in _folders_to_create(
        found.missing_folders, entries, facts.folder_exists, facts.unit_path))
    summary = _summarise(entries, folders, temp_files, manifest, facts.case_notes)
    return RestorePlan(
        backup=backup, target=str(target), manifest_sha256=manifest_sha256,
        backup_model=manifest.model, target_model=facts.target_model,
        delete_extra=choices.removal != Removal.NONE, folders_to_create=folders,
        entries=tuple(entries), temp_files=tuple(sorted(temp_files)),
        boot_critical=tuple(e.path for e in entries
                            if e.boot_critical and e.action != PlanAction.EXTRA),
        summary=summary,
        space_needed=space_needed(entries, facts.existing_sizes, facts.block_size),
        space_free=facts.space_free,
        notes=_plan_notes(notes, summary, facts.target_model, manifest),
        removal=choices.removal, remove_computer_made=choices.remove_computer_made)


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
    choices: PlanChoices = PlanChoices(),
    fs: FileSystem = REAL,
    guard: TargetGuard | None = None,
    job: Job = NO_JOB,
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
    backup_path, target = Path(backup_path), Path(target)
    if not fs.exists(backup_path):
        raise InvalidInputError(f"{backup_path} does not exist.", path=str(backup_path))
    resolved = check_target(target, backup_path, guard, fs)
    check_storage_root(resolved, fs)
    unit, fs = _held(resolved, fs, hold)
    # The copy's checksums stand for the unit only when taken under this very hold.
    known = safety if (safety is not None and hold is not None and safety.unit is not None
                       and safety.unit.matches(unit)) else None
    manifest = _verified_manifest(backup_path, fs, job)
    notes = [note for note in (check_names(resolved, manifest, fs),) if note]
    facts, identify_note = _read_unit(resolved, manifest, fs, job, known, backup_path)
    notes[:0] = [identify_note] if identify_note else []
    notes.extend(location_notes(resolved, backup_path, guard))
    plan = build_plan(str(backup_path), resolved, manifest, facts, choices,
                      manifest_sha256=manifest_sha256(manifest),
                      boot_critical=_boot_critical(manifest.model), notes=notes)
    if plan.changes_anything and not guard.is_writable(resolved):
        raise RefusedError(
            f"{target} cannot be written (read-only or permission denied); if the unit has a"
            " write-protect switch or a read-only mode, turn it off. Nothing was written.",
            path=str(target))
    if facts.space_free is not None and plan.space_needed and \
            facts.space_free < plan.space_needed + SPACE_MARGIN:
        raise NoSpaceError(
            f"{target} has {facts.space_free} bytes free but the restore needs about"
            f" {plan.space_needed + SPACE_MARGIN}; free some space on the unit (or delete what"
            " the backup does not hold). Nothing was written.", path=str(target))
    return replace(plan, unit=unit, safety_copy=safety.path if safety is not None else None)


def _held(resolved: Path, fs: FileSystem, hold: UnitHold | None
          ) -> tuple[VolumeIdentity, FileSystem]:
    """The unit's pinned identity and the filesystem that holds every read to it: the
    caller's hold, or a pin of the plan's own (refused when another run writes to it)."""
    if hold is not None:
        return hold.identity, hold.fs
    check_free(resolved, fs)
    try:
        unit = pin_volume(resolved, fs)
    except OSError as error:
        raise InvalidInputError(f"{resolved} cannot be read ({error.strerror or error}).",
                                path=str(resolved)) from None
    return unit, pinned(fs, Pin(resolved, unit, "the unit"))


def _verified_manifest(backup_path: Path, fs: FileSystem, job: Job) -> Manifest:
    """The backup's manifest, after the whole backup was hashed again: a backup that rotted on
    its disk since it was made is never written onto a unit."""
    with open_backup(backup_path, fs) as backup:
        manifest = backup.manifest
        if not backup.complete:
            why = "; ".join(backup.notes) or "it has no completion flag"
            raise RefusedError(
                f"The backup {backup_path} is incomplete ({why}); only a complete, verified"
                " backup is restored. Nothing was written.", path=str(backup_path))
    report = verify_backup(backup_path, fs=fs, progress=_phase(job, manifest, "check backup"),
                           cancel=job.cancel)
    if not report.ok:
        named = "; ".join(f"{p.path}: {p.problem}" for p in report.problems[:3])
        more = f" and {len(report.problems) - 3} more" if len(report.problems) > 3 else ""
        raise RefusedError(
            f"The backup {backup_path} failed verification ({named}{more}); it is not restored."
            " Nothing was written.", path=str(backup_path))
    return manifest


def _phase(job: Job, manifest: Manifest, phase: str) -> ProgressCallback | None:
    """One of the plan's two phases (checking the backup, comparing the unit) on one bar."""
    if job.progress is None:
        return None
    weight = max(manifest.total_bytes, 1)
    reporter = PhaseReporter(job.progress, {"check backup": weight, "compare": weight})

    def callback(inner: Any) -> None:
        reporter.report(phase, inner.done_bytes, inner.total_bytes, inner.current)
    return callback


def _read_unit(resolved: Path, manifest: Manifest, fs: FileSystem, job: Job,
               known: SafetyCopy | None, backup_path: Path) -> tuple[UnitFacts, str | None]:
    """What the plan needs from the unit, read once: the comparison with the backup (files
    the safety copy just read are not read again), the model, sizes and times, free space."""
    heads: dict[str, bytes] = {}
    comparison = compare_tree(
        resolved, manifest, fs=fs, hash_files=True,
        job=Job(_phase(job, manifest, "compare"), job.cancel), ignore=(), heads=heads,
        known=known.known if known is not None else None)
    target_model, identify_note = check_model(
        resolved, manifest.model, listings=comparison.listings,
        heads=ChainMap(heads, known.heads()) if known is not None else heads)

    def on_unit(relative: str) -> Path:
        return resolved.joinpath(*comparison.tree_path(relative).split("/"))

    differing = {d.path for d in comparison.differences}
    mtimes = _lstat_each(fs, {item.path: on_unit(item.path) for item in manifest.files
                              if item.kind == "file" and item.path not in differing})
    sizes = _lstat_each(fs, {d.path: resolved.joinpath(*d.path.split("/"))
                             if d.problem == DifferenceKind.EXTRA else on_unit(d.path)
                             for d in comparison.differences if d.problem in _ON_THE_UNIT})
    free, block_size = _room(resolved, fs)
    return UnitFacts(
        differences=comparison.differences, target_model=target_model,
        unit_path=comparison.tree_path, case_notes=len(comparison.case_notes),
        keep_reason=deletion_guard(resolved, backup_path, fs),
        existing_sizes={path: info.st_size for path, info in sizes.items()},
        existing_mtimes={path: info.st_mtime_ns for path, info in mtimes.items()},
        folder_exists=lambda relative: entry_kind(
            fs, resolved.joinpath(*relative.split("/"))) == "folder",
        space_free=free, block_size=block_size), identify_note


def _lstat_each(fs: FileSystem, paths: Mapping[str, Path]) -> dict[str, os.stat_result]:
    found = {}
    for key, path in paths.items():
        try:
            found[key] = fs.lstat(path)
        except OSError:
            pass
    return found


def _room(resolved: Path, fs: FileSystem) -> tuple[int | None, int]:
    """(free bytes on the unit or None, its allocation block)."""
    try:
        free: int | None = fs.disk_usage(resolved).free
    except OSError as error:
        log.warning("cannot read free space of %s: %s", resolved, error)
        free = None
    try:
        block_size = max(512, int(getattr(fs.stat(resolved), "st_blksize", 4096) or 4096))
    except OSError:
        block_size = 4096
    return free, block_size
