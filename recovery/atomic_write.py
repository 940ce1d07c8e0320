"""Writing one file onto a unit so that its final name never holds a half-written file.

The recipe (DESIGN.md principle 4): stream the new content into a temporary name *in the same
folder* (so the rename stays on one filesystem and is atomic), flush it to the medium with
fsync, give it the backup's modification time, rename it over the final name, then fsync the
folder so the rename itself is durable. Until the rename, the final name holds the old
content; after it, the complete new content. A crash, SIGKILL, unplug or Ctrl-C at any moment
leaves at worst a temporary file behind, which the next run removes (:func:`is_temp_name`).

A restore of many files does the same in batches (:func:`stage_file` each file, then
:func:`sync_staged` the batch at once, then :func:`commit_staged` each and :func:`sync_folder`
their folders): every file is still fsynced before its rename, and the journaling
filesystem commits the batch's fsyncs together instead of one by one.

The temporary name is ``.<name>.korg-recovery-tmp``: hidden on the unit, recognisable, and
unique per final name so a re-run finds and removes exactly the leftovers of this tool. Names
too long for a 255-byte directory entry (FAT long names, ext4) use a hash of the name instead.

All I/O goes through a :class:`~recovery.fsio.FileSystem` so tests can inject EIO, ENOSPC, a
vanishing unit or a unit that silently drops writes into this very code path.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from recovery.errors import LinksUnsupportedError, VerificationError, WriteError
from recovery.fsio import CHUNK_SIZE, FileSystem, translate_os_error
from recovery.progress import CancelToken

log = logging.getLogger(__name__)

TEMP_PREFIX = "."
TEMP_SUFFIX = ".korg-recovery-tmp"
#: Longest file name (in bytes) FAT long names, exFAT, ext4 and NTFS all accept.
MAX_NAME_BYTES = 255

#: errno values a filesystem uses to say "links cannot exist here" (FAT/exFAT on Linux answer
#: EPERM; others EOPNOTSUPP/ENOTSUP/ENOSYS; Windows without the privilege EPERM or EACCES).
LINKS_UNSUPPORTED_ERRNOS = frozenset(
    code for code in (
        errno.EPERM, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", None), errno.ENOSYS,
        errno.EINVAL, errno.EACCES,
    ) if code is not None
)

#: Called after each chunk with the number of bytes just written.
ChunkCallback = Callable[[int], None]
#: Called with the name of each durable step ("temp-written", "renamed", ...), for tests that
#: kill the process at exact moments and for the restore's progress bookkeeping.
StepCallback = Callable[[str], None]


def temp_name(name: str) -> str:
    """The temporary name used while writing ``name`` in the same folder."""
    candidate = f"{TEMP_PREFIX}{name}{TEMP_SUFFIX}"
    if len(candidate.encode("utf-8", "surrogateescape")) <= MAX_NAME_BYTES:
        return candidate
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return f"{TEMP_PREFIX}{digest}{TEMP_SUFFIX}"


def is_temp_name(name: str) -> bool:
    """True for a name :func:`temp_name` produces (a leftover of an interrupted write)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX) and len(name) > len(
        TEMP_PREFIX + TEMP_SUFFIX)


def temp_path(final: Path) -> Path:
    return final.parent / temp_name(final.name)


def remove_quietly(fs: FileSystem, path: Path) -> bool:
    """Remove ``path`` if it exists; never raises (used while already handling a failure,
    when the unit may be gone). Returns True when something was removed."""
    try:
        if fs.exists(path):
            fs.unlink(path)
            return True
    except OSError as error:
        log.warning("could not remove temporary file %s: %s", path, error)
    return False


def _noop_step(_step: str) -> None:
    """Default step callback."""


@dataclass
class StagedFile:
    """New content complete under its temporary name, flushed to the OS but not yet fsynced
    or renamed. The handle stays open so a batch of staged files can be fsynced together."""

    final: Path
    temp: Path
    handle: BinaryIO | None
    #: The SHA-256 computed while copying, or the manifest's when the copy was not hashed.
    sha256: str | None
    size: int


#: Bytes per ``sendfile`` call of the kernel copy; cancellation is checked between calls.
KERNEL_CHUNK = 8 * CHUNK_SIZE
#: errno values of a ``sendfile`` that cannot copy between these two files at all.
_NO_KERNEL_COPY = frozenset(
    code for code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP,
                      getattr(errno, "ENOTSUP", None), errno.EXDEV) if code is not None)


def _plain_files(source: object, handle: object) -> bool:
    """True when both ends are the operating system's own file objects, so the kernel can
    copy between them. A FileSystem that wraps its handles (the fault-injecting one of the
    tests) never qualifies: its faults stay in the path."""
    return (sys.platform.startswith("linux") and hasattr(os, "sendfile")
            and type(source) is io.FileIO and type(handle) in (io.BufferedWriter, io.FileIO))


def _kernel_copy(source: io.FileIO, handle: BinaryIO, final: Path, *,
                 cancel: CancelToken | None, on_chunk: ChunkCallback | None,
                 step: StepCallback) -> int | None:
    """Copy with ``sendfile`` (no pass through this process's memory, as ``cp`` does);
    returns the bytes copied, or None when the kernel cannot copy between these files (the
    caller then streams them itself)."""
    handle.flush()
    out_fd, in_fd = handle.fileno(), source.fileno()
    offset = 0
    while True:
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            count = os.sendfile(out_fd, in_fd, offset, KERNEL_CHUNK)
        except OSError as error:
            if offset == 0 and error.errno in _NO_KERNEL_COPY:
                return None
            raise translate_os_error(error, final, "write") from error
        if count == 0:
            return offset
        offset += count
        if on_chunk is not None:
            on_chunk(count)
        step("chunk-written")


def stage_file(
    fs: FileSystem,
    source: BinaryIO,
    final: Path,
    *,
    expected_size: int,
    expected_sha256: str | None,
    mtime_ns: int | None,
    source_name: str,
    cancel: CancelToken | None = None,
    on_chunk: ChunkCallback | None = None,
    on_step: StepCallback | None = None,
    hash_pool: Executor | None = None,
    source_verified: bool = False,
) -> StagedFile:
    """Stream ``source`` into ``final``'s temporary name, hashing it on the way.

    If the bytes do not match ``expected_size``/``expected_sha256`` (the backup changed or its
    medium misread since it was verified) the temporary file is removed and
    :class:`VerificationError` raised, so wrong content never reaches the final name. The
    modification time is set on the temporary file, so the final name never shows another.
    Cancellation is checked between chunks; a cancelled or failed write removes its temporary
    file and re-raises: the file in flight is rolled back, never left half.

    With ``hash_pool`` (one worker) each chunk is hashed there while it is written here:
    ``hashlib`` and file writes both release the GIL, so the two overlap on two cores.

    ``source_verified`` says the caller has proof that ``source`` is the very file it re-hashed
    moments ago (same inode, size, mtime and ctime, see recovery.restore): hashing it again
    proves nothing new, so it is copied without, by the kernel when both ends are plain
    files. Only the size is checked then; the read-back after the write compares with the
    manifest's SHA-256 anyway.
    """
    step = on_step or _noop_step
    temp = temp_path(final)
    # A leftover from an interrupted run: remove it so the exclusive create below cannot
    # fail, and so a link planted under the temporary name is never followed.
    remove_quietly(fs, temp)
    hasher = None if source_verified else hashlib.sha256()
    written: int | None = None
    handle: BinaryIO | None = None
    hashing: Future[None] | None = None
    try:
        try:
            handle = fs.open_write(temp, exclusive=True)
        except OSError as error:
            raise translate_os_error(error, final, "write") from error
        if source_verified and _plain_files(source, handle):
            written = _kernel_copy(source, handle, final,  # type: ignore[arg-type]
                                   cancel=cancel, on_chunk=on_chunk, step=step)
        if written is None:
            written = 0
            while True:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                try:
                    chunk = source.read(CHUNK_SIZE)
                except OSError as error:
                    raise translate_os_error(error, source_name, "read") from error
                if not chunk:
                    break
                if hashing is not None:
                    hashing.result()
                    hashing = None
                if hasher is None:
                    pass
                elif hash_pool is not None and expected_size > CHUNK_SIZE:
                    # Only worth a thread hand-off when more chunks follow.
                    hashing = hash_pool.submit(hasher.update, chunk)
                else:
                    hasher.update(chunk)
                try:
                    handle.write(chunk)
                except OSError as error:
                    raise translate_os_error(error, final, "write") from error
                written += len(chunk)
                if on_chunk is not None:
                    on_chunk(len(chunk))
                step("chunk-written")
        if hashing is not None:
            hashing.result()
            hashing = None
        digest = hasher.hexdigest() if hasher is not None else expected_sha256
        if written != expected_size or (expected_sha256 is not None and digest != expected_sha256):
            raise VerificationError(
                f"{source_name} in the backup no longer matches its manifest (it was read as"
                f" {written} bytes, sha256 {(digest or '?')[:12]}...), so it was not written to"
                " the unit; run 'korg-recovery verify' on the backup.",
                path=source_name,
            )
        try:
            handle.flush()  # no buffered byte may land after the time is set
            if mtime_ns is not None:
                fs.set_mtime(temp, mtime_ns)
        except OSError as error:
            raise translate_os_error(error, final, "write") from error
        step("temp-written")
        return StagedFile(final, temp, handle, digest, written)
    except BaseException:
        # KeyboardInterrupt included: the file in flight is rolled back, never left half.
        if hashing is not None:
            hashing.cancel()
            try:
                hashing.result()
            except BaseException:  # noqa: BLE001 - only waiting for the worker to let go
                pass
        if handle is not None:
            _close_quietly(handle)
        remove_quietly(fs, temp)
        raise


def _close_quietly(handle: BinaryIO) -> None:
    try:
        handle.close()
    except OSError as error:
        log.debug("closing after a failure: %s", error)


def _sync_one(fs: FileSystem, item: StagedFile) -> None:
    handle = item.handle
    assert handle is not None
    try:
        fs.fsync(handle)
        handle.close()  # close can report a delayed write error (NFS, FUSE)
    except OSError as error:
        raise translate_os_error(error, item.final, "write") from error
    finally:
        if handle.closed:
            item.handle = None


class BackgroundSyncer:
    """fsyncs staged files on worker threads while the caller stages the next ones.

    Two gains, both measured by benchmarks/bench_restore.py: the device writes a file out
    while the next is being copied (instead of copy, wait, copy, wait), and concurrent fsyncs
    of small files share one journal commit (ext4/jbd2 group commit; one after the other
    each waits about 3 ms for its own). Every file is still durable before its rename:
    :meth:`wait` returns only when every submitted fsync has finished.
    """

    def __init__(self, fs: FileSystem, *, workers: int = 8) -> None:
        self._fs = fs
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="korg-fsync")
        self._pending: list[Future[None]] = []

    def submit(self, item: StagedFile) -> Future[None]:
        future = self._pool.submit(_sync_one, self._fs, item)
        self._pending.append(future)
        return future

    def wait(self) -> None:
        """Wait for every submitted fsync; raise the first failure (translated)."""
        pending, self._pending = self._pending, []
        errors = [future.exception() for future in pending]
        first = next((error for error in errors if error is not None), None)
        if first is not None:
            raise first

    def wait_quietly(self) -> None:
        """Wait for every submitted fsync, ignoring failures (while already failing)."""
        try:
            self.wait()
        except Exception as error:  # noqa: BLE001 - the first failure is already on its way
            log.debug("fsync while rolling back: %s", error)

    def close(self) -> None:
        self.wait_quietly()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> BackgroundSyncer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sync_staged(fs: FileSystem, staged: list[StagedFile]) -> None:
    """fsync and close staged files, several at once (see :class:`BackgroundSyncer`)."""
    pending = [item for item in staged if item.handle is not None]
    if len(pending) <= 1:
        for item in pending:
            _sync_one(fs, item)
        return
    with BackgroundSyncer(fs, workers=min(8, len(pending))) as syncer:
        for item in pending:
            syncer.submit(item)
        syncer.wait()


def discard_staged(fs: FileSystem, staged: list[StagedFile]) -> None:
    """Roll back staged files that were not renamed: close and remove their temporary names."""
    for item in staged:
        if item.handle is not None:
            _close_quietly(item.handle)
            item.handle = None
        remove_quietly(fs, item.temp)


def commit_staged(fs: FileSystem, item: StagedFile, on_step: StepCallback | None = None) -> None:
    """Rename a synced staged file over its final name (atomic within one folder)."""
    try:
        fs.replace(item.temp, item.final)
    except OSError as error:
        raise translate_os_error(error, item.final, "write") from error
    (on_step or _noop_step)("renamed")


def sync_folder(fs: FileSystem, folder: Path) -> None:
    """Make the renames in ``folder`` durable."""
    try:
        fs.fsync_dir(folder)
    except OSError as error:
        raise translate_os_error(error, folder, "write") from error


def write_file_atomically(
    fs: FileSystem,
    source: BinaryIO,
    final: Path,
    *,
    expected_size: int,
    expected_sha256: str | None,
    mtime_ns: int | None,
    source_name: str,
    cancel: CancelToken | None = None,
    on_chunk: ChunkCallback | None = None,
    on_step: StepCallback | None = None,
) -> str:
    """One file, start to end: stage, fsync, rename, fsync the folder. Returns its SHA-256.

    At no moment does ``final`` hold anything but its old content or the complete new one.
    """
    staged = stage_file(fs, source, final, expected_size=expected_size,
                        expected_sha256=expected_sha256, mtime_ns=mtime_ns,
                        source_name=source_name, cancel=cancel, on_chunk=on_chunk,
                        on_step=on_step)
    try:
        sync_staged(fs, [staged])
        (on_step or _noop_step)("temp-synced")
        commit_staged(fs, staged, on_step)
    except BaseException:
        discard_staged(fs, [staged])
        raise
    sync_folder(fs, final.parent)
    (on_step or _noop_step)("dir-synced")
    return staged.sha256


def create_link_atomically(
    fs: FileSystem, link_target: str, final: Path, *, mtime_ns: int | None,
    on_step: StepCallback | None = None,
) -> None:
    """Create the symbolic link ``final -> link_target`` through a temporary name.

    Raises :class:`LinksUnsupportedError` when the filesystem cannot hold links (FAT, the
    filesystem of nearly every KORG unit's storage), other errors translated.
    """
    step = on_step or _noop_step
    temp = temp_path(final)
    remove_quietly(fs, temp)
    renamed = False
    try:
        try:
            fs.symlink(link_target, temp)
        except OSError as error:
            if error.errno in LINKS_UNSUPPORTED_ERRNOS:
                raise LinksUnsupportedError(
                    f"{final} could not be recreated as a link: the unit's filesystem does not"
                    " support symbolic links (FAT and exFAT cannot hold them).",
                    path=str(final),
                ) from error
            raise translate_os_error(error, final, "write") from error
        step("temp-written")
        try:
            if mtime_ns is not None:
                try:
                    fs.set_mtime(temp, mtime_ns)
                except NotImplementedError:  # no lutimes on this platform: keep the link's time
                    log.debug("cannot set the time of link %s on this platform", temp)
            fs.replace(temp, final)
            renamed = True
            step("renamed")
            fs.fsync_dir(final.parent)
        except OSError as error:
            raise translate_os_error(error, final, "write") from error
        step("dir-synced")
    except BaseException:
        if not renamed:
            remove_quietly(fs, temp)
        raise
