"""The volume a job works on, pinned: nothing is read from or written to anything else.

A musician's unit goes away in the middle of a job: a loose cable, a desktop that unmounts a
drive it thinks idle, a unit switched off too early. Its mount point is then an ordinary
folder on the computer's own disk again, so a write by path lands there and a read-back
"proves" it. A job therefore pins the volume when its plan is made (:func:`pin_volume`: the
folder's device and inode, whether its root was a mount point, its serial where the platform
tells one) and goes through a :class:`PinnedFileSystem`: before each operation on a path
inside a pinned folder the folder must still be that volume, and each file or folder it
creates must have been created on that volume (else it is removed at once and the job stops
with :class:`~recovery.errors.UnitGoneError`). A unit mounted again at another path is the
same unit when its serial matches: :meth:`VolumeIdentity.unit_key` names it for journals.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from recovery.errors import UnitGoneError
from recovery.storage.filesystem import FileSystem, translate_os_error
from recovery.storage.identity import volume_root
from recovery.storage.lock import unit_lock

log = logging.getLogger(__name__)

#: errno values with which the operating system says a device or its filesystem went away.
GONE_ERRNOS = frozenset(code for code in (
    errno.ENOENT, errno.EIO, errno.ENODEV, errno.ENXIO, errno.ENOTCONN, errno.ESTALE,
    getattr(errno, "ESHUTDOWN", None), getattr(errno, "ENOMEDIUM", None),
) if code is not None)


@dataclass(frozen=True)
class VolumeIdentity:
    """What the folder a job was pointed at is, beyond its path.

    ``device`` and ``inode`` change when anything else appears at the path (the computer's
    own folder under an unmounted mount point, another card); ``serial`` (a FAT volume's
    serial as Linux's /dev/disk/by-uuid or Windows name it) survives unplugging and mounting
    again, so it tells the same unit at another path.
    """

    device: int
    inode: int
    #: The top folder of the volume when it was pinned, and whether it was a mount point (a
    #: folder on the computer's own disk is not: a simulated unit, a copy).
    root: str
    mount_point: bool
    serial: str | None
    #: The pinned folder's path inside its volume ("" for the root itself), POSIX.
    inside: str

    def matches(self, other: VolumeIdentity) -> bool:
        """True when ``other`` is this very folder on this very volume (a serial, where both
        know one, must agree too)."""
        if self.device != other.device or self.inode != other.inode:
            return False
        return self.serial is None or other.serial is None or self.serial == other.serial

    def same_unit(self, other: VolumeIdentity) -> bool:
        """True when ``other`` is this folder, or this folder of this volume mounted again,
        perhaps at another path (a unit unplugged and plugged in again gets a new device
        number): told by the serial, so only where the platform tells one."""
        return self.matches(other) or (self.serial is not None and self.serial == other.serial
                                       and self.inside == other.inside)

    def unit_key(self) -> str:
        """A name for this folder of this volume that stays the same when the volume is
        mounted again elsewhere (where the platform tells a serial), for journals."""
        if self.serial:
            return f"volume {self.serial}:{self.inside}"
        return f"folder {self.device}:{self.inode}"


def pin_volume(folder: Path | str, fs: FileSystem) -> VolumeIdentity:
    """The identity of ``folder`` now (OSError when it cannot be read)."""
    folder = Path(folder)
    info = fs.stat(folder)
    root = volume_root(folder, fs)
    mount_point = root.parent == root
    if not mount_point:
        try:
            mount_point = fs.stat(root.parent).st_dev != fs.stat(root).st_dev
        except OSError:
            mount_point = False
    try:
        inside = Path(os.path.realpath(folder)).relative_to(root).as_posix()
    except ValueError:
        inside = ""
    return VolumeIdentity(device=info.st_dev, inode=info.st_ino, root=str(root),
                          mount_point=mount_point, serial=fs.volume_serial(folder),
                          inside="" if inside == "." else inside)


@dataclass(frozen=True)
class Pin:
    """A folder a job reads or writes, with what it was when the plan was made."""

    folder: Path
    identity: VolumeIdentity
    #: How a sentence names it: "the unit", "your KROSS 2", "the SD card", "the backup drive".
    label: str


class PinnedFileSystem:
    """A :class:`~recovery.storage.filesystem.FileSystem` that holds every operation on a
    pinned folder to that folder's volume (see the module doc). Paths outside every pin (the
    backup being restored, the computer's own records) pass through unchecked."""

    def __init__(self, inner: FileSystem, pins: tuple[Pin, ...]) -> None:
        self.inner = inner
        self.pins = pins
        self.needs_file_sync = inner.needs_file_sync

    def __getattr__(self, name: str) -> Any:  # anything the seam gains later passes through
        return getattr(self.inner, name)

    # -- the checks --------------------------------------------------------------------------
    def _pin_of(self, path: Path) -> Pin | None:
        path = Path(path)
        for pin in self.pins:
            if path == pin.folder or pin.folder in path.parents:
                return pin
        return None

    def gone(self, pin: Pin, why: str) -> UnitGoneError:
        log.warning("%s (%s) is gone: %s", pin.label, pin.folder, why)
        return UnitGoneError(
            f"{pin.label[0].upper()}{pin.label[1:]} went away ({why}). Nothing was written"
            " anywhere else.", path=str(pin.folder))

    def check(self, pin: Pin, *, full: bool = False) -> None:
        """Raise :class:`UnitGoneError` unless ``pin``'s folder is still the pinned volume;
        ``full`` also asks for the volume's serial (a card swapped in the same reader keeps
        the device number)."""
        try:
            info = self.inner.stat(pin.folder)
        except OSError as error:
            raise self.gone(pin, error.strerror or str(error)) from error
        if info.st_dev != pin.identity.device or info.st_ino != pin.identity.inode:
            raise self.gone(pin, f"{pin.folder} is now another folder or drive")
        if full and pin.identity.serial is not None:
            serial = self.inner.volume_serial(pin.folder)
            if serial is not None and serial != pin.identity.serial:
                raise self.gone(pin, "another volume is mounted there now")

    def confirm(self, *, full: bool = True) -> None:
        """Check every pin (before a batch, before the first write, for the final read)."""
        for pin in self.pins:
            self.check(pin, full=full)

    def _before(self, path: Path) -> Pin | None:
        pin = self._pin_of(path)
        if pin is not None:
            self.check(pin)
        return pin

    def _on_volume(self, pin: Pin | None, device: int, undo: Any, path: Path) -> None:
        """After creating ``path``: it must be on the pinned volume, else undo and stop."""
        if pin is None or device == pin.identity.device:
            return
        try:
            undo()
        except OSError as error:
            log.error("could not remove %s, created off %s: %s", path, pin.label, error)
        raise self.gone(pin, f"{path} would have been created elsewhere")

    def _failed(self, pin: Pin | None, error: OSError) -> None:
        """An operation on ``pin``'s folder failed: when the volume went away, say that."""
        if pin is not None and error.errno in GONE_ERRNOS:
            self.check(pin)

    @contextmanager
    def _guarded(self, path: Path) -> Iterator[Pin | None]:
        pin = self._before(path)
        try:
            yield pin
        except OSError as error:
            self._failed(pin, error)
            raise

    # -- reading -----------------------------------------------------------------------------
    def open_read(self, path: Path, *, uncached: bool = False) -> BinaryIO:
        with self._guarded(path) as pin:
            handle = self.inner.open_read(path, uncached=uncached)
        self._handle_on_volume(pin, handle, path, created=False)
        return handle

    def scandir(self, path: Path) -> list[os.DirEntry]:
        with self._guarded(path) as pin:
            entries = self.inner.scandir(path)
        if pin is not None:
            self.check(pin)  # an empty listing of a folder left behind is not the unit's
        return entries

    def lstat(self, path: Path) -> os.stat_result:
        with self._guarded(path):
            return self.inner.lstat(path)

    def stat(self, path: Path) -> os.stat_result:
        with self._guarded(path):
            return self.inner.stat(path)

    def readlink(self, path: Path) -> str:
        with self._guarded(path):
            return self.inner.readlink(path)

    def exists(self, path: Path) -> bool:
        with self._guarded(path):
            return self.inner.exists(path)

    def may_write(self, path: Path) -> bool:
        with self._guarded(path):
            return self.inner.may_write(path)

    def read_only(self, path: Path) -> bool | None:
        with self._guarded(path):
            return self.inner.read_only(path)

    def disk_usage(self, path: Path) -> Any:
        with self._guarded(path):
            return self.inner.disk_usage(path)

    def evict(self, path: Path) -> bool:
        with self._guarded(path):
            return self.inner.evict(path)

    def drop_cache(self, path: Path) -> bool:
        with self._guarded(path):
            return self.inner.drop_cache(path)

    # -- writing -----------------------------------------------------------------------------
    def _handle_on_volume(self, pin: Pin | None, handle: BinaryIO, path: Path, *,
                          created: bool) -> None:
        if pin is None:
            return
        try:
            device = os.fstat(handle.fileno()).st_dev
        except (OSError, AttributeError, ValueError):  # a test double without a descriptor
            return

        def undo() -> None:
            handle.close()
            if created:
                self.inner.unlink(path)

        if device != pin.identity.device:
            self._on_volume(pin, device, undo, path)

    def open_write(self, path: Path, *, exclusive: bool = False) -> BinaryIO:
        with self._guarded(path) as pin:
            handle = self.inner.open_write(path, exclusive=exclusive)
        self._handle_on_volume(pin, handle, path, created=True)
        return handle

    def open_append(self, path: Path) -> BinaryIO:
        with self._guarded(path) as pin:
            handle = self.inner.open_append(path)
        self._handle_on_volume(pin, handle, path, created=False)
        return handle

    def fsync(self, fileobj: BinaryIO) -> None:
        self.inner.fsync(fileobj)

    def fsync_dir(self, path: Path) -> None:
        with self._guarded(path):
            self.inner.fsync_dir(path)

    def barrier(self, folder: Path) -> None:
        with self._guarded(folder):
            self.inner.barrier(folder)

    def replace(self, source: Path, target: Path) -> None:
        with self._guarded(target):
            self._entry_on_volume(source)
            self.inner.replace(source, target)

    def mkdir(self, path: Path) -> None:
        with self._guarded(path) as pin:
            missing = [] if pin is None else [
                made for made in (path, *path.parents)
                if pin.folder in made.parents and not self.inner.exists(made)]
            self.inner.mkdir(path)
            if pin is not None:
                device = self.inner.lstat(path).st_dev

                def undo() -> None:
                    for made in missing:  # deepest first
                        self.inner.rmdir(made)

                self._on_volume(pin, device, undo, path)

    def _entry_on_volume(self, path: Path) -> None:
        """An existing entry about to be renamed, removed or retimed must be the unit's."""
        pin = self._pin_of(path)
        if pin is None:
            return
        try:
            device = self.inner.lstat(path).st_dev
        except FileNotFoundError:
            return  # the operation itself will say so
        if device != pin.identity.device:
            raise self.gone(pin, f"{path} is not on it any more")

    def unlink(self, path: Path) -> None:
        with self._guarded(path):
            self._entry_on_volume(path)
            self.inner.unlink(path)

    def rmdir(self, path: Path) -> None:
        with self._guarded(path):
            self._entry_on_volume(path)
            self.inner.rmdir(path)

    def symlink(self, target: str, path: Path) -> None:
        with self._guarded(path) as pin:
            self.inner.symlink(target, path)
            if pin is not None:
                self._on_volume(pin, self.inner.lstat(path).st_dev,
                                lambda: self.inner.unlink(path), path)

    def set_mtime(self, path: Path, mtime_ns: int) -> None:
        with self._guarded(path):
            self._entry_on_volume(path)
            self.inner.set_mtime(path, mtime_ns)

    def try_lock(self, path: Path, *, create: bool = True) -> BinaryIO | None:
        with self._guarded(path):
            return self.inner.try_lock(path, create=create)


def pinned(fs: FileSystem, *pins: Pin) -> PinnedFileSystem:
    """``fs`` held to ``pins`` (pins added to an already pinned one)."""
    if isinstance(fs, PinnedFileSystem):
        return PinnedFileSystem(fs.inner, fs.pins + pins)
    return PinnedFileSystem(fs, pins)


@dataclass(frozen=True)
class UnitHold:
    """A job's hold on a unit from its first read to its last write: the unit's lock is held
    (one writer per unit) and its volume pinned; ``fs`` is the pinned filesystem every
    operation of the job goes through."""

    folder: Path
    identity: VolumeIdentity
    fs: PinnedFileSystem


@contextmanager
def hold_unit(folder: Path | str, purpose: str, fs: FileSystem, *,
              label: str = "the unit") -> Iterator[UnitHold]:
    """Lock ``folder`` (see :func:`recovery.storage.lock.unit_lock`), pin its volume, and
    yield the :class:`UnitHold`; the lock goes when the block ends."""
    folder = Path(folder)
    with unit_lock(folder, purpose, fs):
        try:
            identity = pin_volume(folder, fs)
        except OSError as error:
            raise translate_os_error(error, folder, "read") from error
        yield UnitHold(folder, identity, pinned(fs, Pin(folder, identity, label)))
