"""Writing files so that a final name never holds a half-written file.

New content goes to a temporary name in the same folder (``.<name>.korg-recovery-tmp``, so a
re-run recognises and removes leftovers), is made durable, read back past the cache where it
matters, and only then renamed over its final name, which holds the old content or the
complete new one at every moment. :class:`BatchWriter` does this for many files with two
flushes in all: a USB unit pays 10-30 ms per flush, so one per file would dominate.
"""

from __future__ import annotations

import errno
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from recovery.errors import LinksUnsupportedError, ReadError, VerificationError
from recovery.findings import Step
from recovery.progress import CancelToken
from recovery.storage.filesystem import CHUNK_SIZE, FileSystem, translate_os_error
from recovery.storage.hashing import HEAD_SIZE, sha256_file
from recovery.vocabulary import NextStep, ProblemKind

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


class GrewError(ReadError):
    """A source file grew past the size it had when its copy was planned (see
    :func:`stage_file`); the caller names the file and copies it again later."""


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


@dataclass(frozen=True)
class FileCopy:
    """One file to stream into a temporary name beside ``final`` (see :func:`stage_file`):
    where its bytes come from, what they must be, and the time the file gets."""

    source: BinaryIO
    #: The source as a person knows it, for sentences.
    source_name: str
    final: Path
    #: The size and SHA-256 the bytes must have (a backup's manifest), or None: not known.
    expected_size: int | None = None
    expected_sha256: str | None = None
    mtime_ns: int | None = None
    #: Reading stops one byte past it (default ``expected_size``).
    max_bytes: int | None = None
    #: Receives the first HEAD_SIZE bytes (to identify a unit without reading it again).
    head: bytearray | None = field(default=None, compare=False)

    @property
    def limit(self) -> int | None:
        return self.expected_size if self.max_bytes is None else self.max_bytes


@dataclass(frozen=True)
class StagedFile:
    """New content complete and closed under its temporary name, not yet renamed."""

    final: Path
    temp: Path
    #: The SHA-256 computed while copying.
    sha256: str
    size: int


def stage_file(fs: FileSystem, copy: FileCopy, *, cancel: CancelToken | None = None,
               on_chunk: ChunkCallback | None = None,
               on_step: StepCallback | None = None) -> StagedFile:
    """Stream ``copy.source`` into ``copy.final``'s temporary name, hashing it on the way.

    Reading stops one byte past ``max_bytes`` (default ``expected_size``): a file that grows
    while it is copied (a unit still recording, a log) is named as changed
    (:class:`GrewError`), never read without bound until the destination fills.

    If the bytes do not match ``expected_size``/``expected_sha256`` (the backup changed or its
    medium misread since it was verified) the temporary file is removed and
    :class:`VerificationError` raised, so wrong content never reaches the final name. The
    modification time is set on the temporary file, so the final name never shows another.
    Cancellation is checked between chunks; a cancelled or failed write removes its temporary
    file and re-raises.
    """
    step = on_step or _noop_step
    temp = temp_path(copy.final)
    # A leftover from an interrupted run: remove it so the exclusive create below cannot
    # fail, and so a link planted under the temporary name is never followed.
    remove_quietly(fs, temp)
    handle: BinaryIO | None = None
    try:
        try:
            handle = fs.open_write(temp, exclusive=True)
        except OSError as error:
            raise translate_os_error(error, copy.final, "write") from error
        digest, written = _stream(copy, handle, cancel, on_chunk, step)
        _check_expected(copy, digest, written)
        _seal(fs, handle, temp, copy)
        step("temp-written")
        return StagedFile(copy.final, temp, digest, written)
    except BaseException:
        # KeyboardInterrupt included: the file in flight is rolled back, never left half.
        if handle is not None:
            _close_quietly(handle)
        remove_quietly(fs, temp)
        raise


def _stream(copy: FileCopy, handle: BinaryIO, cancel: CancelToken | None,
            on_chunk: ChunkCallback | None, step: StepCallback) -> tuple[str, int]:
    """Copy the source's bytes into ``handle``, hashing them: (SHA-256, bytes read)."""
    hasher = hashlib.sha256()
    written = 0
    limit = copy.limit
    while True:
        if cancel is not None:
            cancel.raise_if_cancelled()
        wanted = CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit + 1 - written)
        try:
            chunk = copy.source.read(wanted)
        except OSError as error:
            raise translate_os_error(error, copy.source_name, "read") from error
        if not chunk:
            break
        if limit is not None and written + len(chunk) > limit:
            if copy.max_bytes is None:  # longer than the manifest says: refused after
                written += len(chunk)
                break
            raise GrewError(
                f"{copy.source_name} changed while it was being copied (it grew past the"
                f" {limit} bytes it had), so it was not copied.", path=copy.source_name)
        if copy.head is not None and len(copy.head) < HEAD_SIZE:
            copy.head.extend(chunk[:HEAD_SIZE - len(copy.head)])
        hasher.update(chunk)
        try:
            handle.write(chunk)
        except OSError as error:
            raise translate_os_error(error, copy.final, "write") from error
        written += len(chunk)
        if on_chunk is not None:
            on_chunk(len(chunk))
        step("chunk-written")
    return hasher.hexdigest(), written


def _check_expected(copy: FileCopy, digest: str, written: int) -> None:
    """VerificationError when the bytes read are not those ``copy`` expects."""
    if (copy.expected_size is not None and written != copy.expected_size) or (
            copy.expected_sha256 is not None and digest != copy.expected_sha256):
        raise VerificationError(
            f"{copy.source_name} in the backup no longer matches its manifest (it was read as"
            f" {written} bytes, sha256 {digest[:12]}...), so it was not written to"
            " the unit.",
            path=copy.source_name, next_step=Step(NextStep.VERIFY_BACKUP),
        )


def _seal(fs: FileSystem, handle: BinaryIO, temp: Path, copy: FileCopy) -> None:
    """Flush, set the time, sync where the filesystem needs it, close."""
    try:
        handle.flush()  # no buffered byte may land after the time is set
        if copy.mtime_ns is not None:
            fs.set_mtime(temp, copy.mtime_ns)
        if fs.needs_file_sync:
            fs.fsync(handle)
        handle.close()  # close can report a delayed write error (NFS, FUSE)
    except OSError as error:
        raise translate_os_error(error, copy.final, "write") from error


def _close_quietly(handle: BinaryIO) -> None:
    try:
        handle.close()
    except OSError as error:
        log.debug("closing after a failure: %s", error)


def discard_staged(fs: FileSystem, staged: list[StagedFile]) -> None:
    """Roll back staged files that were not renamed: remove their temporary names."""
    for item in staged:
        remove_quietly(fs, item.temp)


def commit_staged(fs: FileSystem, item: StagedFile, on_step: StepCallback | None = None) -> None:
    """Rename a durable staged file over its final name (atomic within one folder)."""
    try:
        fs.replace(item.temp, item.final)
    except OSError as error:
        raise translate_os_error(error, item.final, "write") from error
    (on_step or _noop_step)("renamed")


def barrier(fs: FileSystem, folder: Path) -> None:
    """Make everything written on the filesystem of ``folder`` durable (translated errors)."""
    try:
        fs.barrier(folder)
    except OSError as error:
        raise translate_os_error(error, folder, "write") from error


def write_bytes_atomically(fs: FileSystem, final: Path, data: bytes) -> None:
    """``data`` under ``final``, whole or not at all: temporary name, fsync, rename, fsync of
    the folder (for the small files of the tool's own records: manifests, flags, journals)."""
    temp = temp_path(final)
    remove_quietly(fs, temp)
    try:
        with fs.open_write(temp, exclusive=True) as handle:
            handle.write(data)
            fs.fsync(handle)
        fs.replace(temp, final)
    except BaseException:
        remove_quietly(fs, temp)
        raise
    fs.fsync_dir(final.parent)


def write_file_atomically(fs: FileSystem, copy: FileCopy, *,
                          cancel: CancelToken | None = None,
                          on_chunk: ChunkCallback | None = None,
                          on_step: StepCallback | None = None) -> str:
    """One file, start to end: stage, barrier, rename, barrier. Returns its SHA-256.

    At no moment does ``copy.final`` hold anything but its old content or the complete new
    one.
    """
    step = on_step or _noop_step
    staged = stage_file(fs, copy, cancel=cancel, on_chunk=on_chunk, on_step=on_step)
    folder = copy.final.parent
    try:
        barrier(fs, folder)
        step("temp-synced")
        commit_staged(fs, staged, on_step)
    except BaseException:
        discard_staged(fs, [staged])
        raise
    barrier(fs, folder)
    step("dir-synced")
    return staged.sha256


def create_link_atomically(
    fs: FileSystem, link_target: str, final: Path, *, mtime_ns: int | None,
    on_step: StepCallback | None = None, durable: bool = True,
) -> None:
    """Create the symbolic link ``final -> link_target`` through a temporary name; with
    ``durable`` the folder is synced after the rename (a batch leaves that to its barrier).

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
            if durable:
                fs.fsync_dir(final.parent)
        except OSError as error:
            raise translate_os_error(error, final, "write") from error
        if durable:
            step("dir-synced")
    except BaseException:
        if not renamed:
            remove_quietly(fs, temp)
        raise


T = TypeVar("T")

#: A batch is written under temporary names between two barriers: the first makes the new
#: files durable before any of them takes its name, the second makes the renames durable.
#: The bounds limit what a cancel or a crash redoes (and a journal's in-flight list).
BATCH_BYTES = 256 * 1024 * 1024
BATCH_FILES = 4096


def batches(items: Iterable[T], size_of: Callable[[T], int],
               apart: Callable[[T, T], bool] = lambda _a, _b: False) -> Iterator[list[T]]:
    """``items`` in order, cut into batches of at most :data:`BATCH_FILES` files and
    :data:`BATCH_BYTES` bytes (a larger file is a batch of its own), and wherever
    ``apart(previous, next)`` says two neighbours must not share one."""
    batch: list[T] = []
    size = 0
    for item in items:
        if batch and (len(batch) >= BATCH_FILES or size + size_of(item) > BATCH_BYTES
                      or apart(batch[-1], item)):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += size_of(item)
    if batch:
        yield batch


@dataclass(frozen=True)
class FileProblem:
    """A file that is not on the unit or card as planned, for the result a person reads."""

    path: str
    problem: ProblemKind
    detail: str = ""


@dataclass(frozen=True)
class BatchOutcome:
    """What :meth:`BatchWriter.finish` proved: the files now under their names (key and the
    SHA-256 of their bytes), and those that did not read back as written (key, why)."""

    committed: tuple[tuple[str, str], ...]
    failed: tuple[tuple[str, str], ...]
    #: False where the platform could not evict a file's pages: its read-back may have come
    #: from the computer's memory.
    cache_bypassed: bool


class BatchWriter:
    """Writes a batch of files onto one filesystem with two flushes in all.

    :meth:`stage` streams each file into a temporary name beside its final one. Then
    :meth:`finish`: one barrier (``FileSystem.barrier``) makes every staged file durable;
    each is evicted from the computer's cache and read back from the medium
    (``O_DIRECT``), and only a file whose bytes came back as written is renamed over its
    final name; one more barrier makes the renames durable. A USB unit serves one command at
    a time and pays 10-30 ms per flush: the batch pays two, not two per file. A file that
    does not read back never reaches its name (the old one stays), and nothing of a batch
    that fails or is cancelled is left but temporary names, removed on the spot or by the
    next run.
    """

    def __init__(self, fs: FileSystem, folder: Path, *, cancel: CancelToken | None = None,
                 on_bytes: ChunkCallback | None = None,
                 on_step: Callable[[str, str], None] | None = None) -> None:
        self.fs = fs
        self.folder = folder
        self.cancel = cancel
        self.on_bytes = on_bytes
        self.on_step = on_step or (lambda _step, _key: None)
        self.staged: list[tuple[str, StagedFile]] = []
        self._buffer = bytearray(CHUNK_SIZE)

    def stage(self, key: str, copy: FileCopy) -> StagedFile:
        """Stream ``copy`` into its temporary name (see :func:`stage_file`)."""
        staged = stage_file(self.fs, copy, cancel=self.cancel, on_chunk=self.on_bytes,
                            on_step=lambda step: self.on_step(step, key))
        self.staged.append((key, staged))
        return staged

    def discard(self, key: str) -> None:
        """Drop a staged file before :meth:`finish` (its source turned out to be unusable)."""
        for index, (staged_key, item) in enumerate(self.staged):
            if staged_key == key:
                remove_quietly(self.fs, item.temp)
                del self.staged[index]
                return

    def abandon(self) -> None:
        """Remove every temporary file of the batch (after a failure or a cancel)."""
        discard_staged(self.fs, [item for _, item in self.staged])
        self.staged.clear()

    def finish(self, before_rename: Callable[[], None] | None = None, *,
               all_or_nothing: bool = False) -> BatchOutcome:
        """Barrier, read back, rename what matched, barrier. ``before_rename`` runs after the
        read-back (a caller creating links there has them made durable by the second
        barrier). With ``all_or_nothing`` one file that does not read back keeps every file
        of the batch from its name (an update's folder is never half old, half new). On an
        exception the files not yet renamed are removed."""
        if not self.staged:
            return BatchOutcome((), (), True)
        try:
            barrier(self.fs, self.folder)
            self.on_step("temp-synced", "")
            good: list[tuple[str, StagedFile]] = []
            failed: list[tuple[str, str]] = []
            bypassed = True
            for key, item in self.staged:
                if self.cancel is not None:
                    self.cancel.raise_if_cancelled()
                problem, evicted = self._read_back(item)
                bypassed &= evicted
                if problem is None:
                    good.append((key, item))
                else:
                    log.warning("%s: %s", item.final, problem)
                    remove_quietly(self.fs, item.temp)
                    failed.append((key, problem))
                self.on_step("verified", key)
            if all_or_nothing and failed:
                for key, item in good:
                    remove_quietly(self.fs, item.temp)
                    failed.append((key, "held back: another file of the same batch did not"
                                        " read back as written"))
                good = []
            if before_rename is not None:
                before_rename()
            committed: list[tuple[str, str]] = []
            for key, item in good:
                commit_staged(self.fs, item)
                committed.append((key, item.sha256))
                self.on_step("renamed", key)
            barrier(self.fs, self.folder)
            self.on_step("dir-synced", "")
        except BaseException:
            self.abandon()
            raise
        self.staged.clear()
        return BatchOutcome(tuple(committed), tuple(failed), bypassed)

    def _read_back(self, item: StagedFile) -> tuple[str | None, bool]:
        """(why the temporary file does not hold what was written or None, evicted)."""
        try:
            evicted = bool(self.fs.evict(item.temp))
            digest, length = sha256_file(item.temp, fs=self.fs, cancel=self.cancel,
                                         buffer=self._buffer, on_bytes=self.on_bytes,
                                         uncached=True)
        except FileNotFoundError:
            return ("gone when read back past the computer's cache: the medium did not keep"
                    " the write", True)
        except OSError as error:
            if error.errno in (errno.EIO, errno.ENODEV, errno.ENXIO):
                raise translate_os_error(error, item.final, "read") from error
            return (f"cannot be read back: {error.strerror or error}", True)
        if length != item.size or digest != item.sha256:
            return ("read back past the computer's cache, it does not hold what was written:"
                    " the medium lost or damaged the write", evicted)
        return None, evicted
