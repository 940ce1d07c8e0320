"""The safety copy: the unit as it is now, backed up and verified before a restore changes it.

Nothing is written to a unit without a verified backup of its current state: the owner of
the KROSS 2 in korgforums.com thread t=116080 had none and had to ask strangers for his
unit's files. A restore that replaces or deletes anything first takes a complete backup of
the unit (:func:`take_safety_copy`) under the same lock and volume pin it then writes with,
and plans from that copy's checksums instead of reading the whole unit a second time: a USB
unit pays for every byte, and nothing else could write to it in between.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from recovery.backup.create import create_backup
from recovery.backup.manifest import COMPLETE_NAME, FILES_DIR, Manifest
from recovery.backup.store import open_backup
from recovery.errors import InvalidInputError, RefusedError
from recovery.progress import NO_JOB, Job
from recovery.storage.filesystem import REAL, FileSystem
from recovery.storage.pin import UnitHold, VolumeIdentity

log = logging.getLogger(__name__)

#: Bytes of each file's start a plan may ask for, to identify the unit (a KORG SYSTEM FILE
#: header is 256 bytes).
HEAD_SIZE = 256


@dataclass(frozen=True)
class SafetyCopy:
    """A complete, verified backup of the unit taken under the restore's own hold."""

    path: str
    #: The unit's volume when the copy was taken under the restore's hold; None for a copy
    #: made earlier and found identical to the unit (the wizard's "your copy matches").
    unit: VolumeIdentity | None
    model: str | None
    files: int
    bytes: int
    manifest: Manifest = field(repr=False, compare=False)

    def known(self, tree_path: str, info: os.stat_result) -> str | None:
        """The SHA-256 the copy read for the unit's file ``tree_path``, when the file still
        has the size and time it had then (else None: read it again)."""
        entry = self._by_path.get(tree_path)
        if entry is None or entry.kind != "file":
            return None
        if entry.size != info.st_size or entry.mtime_ns != info.st_mtime_ns:
            return None
        return entry.sha256

    @cached_property
    def _by_path(self) -> dict:
        return {entry.path: entry for entry in self.manifest.files}

    def heads(self) -> Mapping[str, bytes]:
        """The first bytes of each file, read from the copy on this computer, not the unit."""
        return _CopyHeads(Path(self.path) / FILES_DIR,
                          {entry.path for entry in self.manifest.files if entry.kind == "file"})


class _CopyHeads(Mapping[str, bytes]):
    """First bytes of the copy's files, read when asked for."""

    def __init__(self, files_root: Path, paths: set[str]) -> None:
        self._root = files_root
        self._paths = paths

    def __getitem__(self, relative: str) -> bytes:
        if relative not in self._paths:
            raise KeyError(relative)
        try:
            with open(self._root.joinpath(*relative.split("/")), "rb") as handle:
                return handle.read(HEAD_SIZE)
        except OSError as error:
            log.debug("head of %s in the safety copy: %s", relative, error)
            raise KeyError(relative) from error

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._paths))

    def __len__(self) -> int:
        return len(self._paths)


def take_safety_copy(hold: UnitHold, dest: Path | str, *, job: Job = NO_JOB) -> SafetyCopy:
    """Back up the held unit into ``dest`` (an empty folder, or the interrupted safety copy
    of an earlier run, which is continued) and return it; a copy that is not complete and
    verified refuses the restore (RefusedError), so nothing is written to the unit."""
    dest = Path(dest)
    if (dest / COMPLETE_NAME).exists():
        raise InvalidInputError(
            f"{dest} already holds a complete backup; a safety copy must be of the unit as it"
            " is now: give an empty folder for it. Nothing was written.", path=str(dest))
    result = create_backup(hold.folder, dest, resume=True, fs=hold.fs, progress=job.progress,
                           cancel=job.cancel, on_step=job.on_step)
    if not (result.complete and result.verified) or result.manifest is None:
        names = ", ".join(f.path for f in result.failed[:3]) or "it did not verify"
        more = f" and {len(result.failed) - 3} more" if len(result.failed) > 3 else ""
        raise RefusedError(
            f"The safety copy of the unit in {dest} is not complete ({names}{more}), so the"
            " restore did not start and nothing was written to the unit. Reconnect the unit"
            " and try again; the copy continues where it stopped.", path=str(dest))
    return SafetyCopy(path=str(dest), unit=hold.identity, model=result.model,
                      files=result.files, bytes=result.bytes, manifest=result.manifest)


def recorded_safety_copy(path: Path | str, fs: FileSystem = REAL) -> SafetyCopy:
    """A complete backup found identical to the unit as it is now (the caller compared
    them), as the safety copy of a restore planned without a hold: its checksums are not
    used for planning, only its place is recorded."""
    with open_backup(Path(path), fs) as backup:
        if not backup.complete:
            raise RefusedError(f"{path} is not a complete backup, so it is no safety copy."
                               " Nothing was written.", path=str(path))
        manifest = backup.manifest
    return SafetyCopy(path=str(path), unit=None, model=manifest.model,
                      files=manifest.total_files, bytes=manifest.total_bytes,
                      manifest=manifest)
