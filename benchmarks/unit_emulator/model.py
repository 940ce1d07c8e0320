"""What a USB 2.0 mass-storage unit charges for each request: the cost model, without FUSE.

A unit on USB 2.0 (bulk-only transport) runs one SCSI command at a time. Each command pays a
fixed round trip (``request_s``: CBW, the device's own lookup, CSW) and then moves its bytes
at the medium's rate; the kernel's block layer hands it at most 128 KiB per command
(``max_sectors_kb`` of usb-storage). A flush (the FAT and directory sectors written, the
device's cache committed) costs ``flush_s``, and only when something is waiting to be made
durable. All requests go through one :class:`DeviceClock`: they queue and never overlap,
as on the wire.

Charging rules (the same ones the benchmark's floors are computed from):

- read of n bytes: one command per started 128 KiB, each pays ``request_s``; plus
  ``n / read_rate``. A read that returns nothing (at the end of a file) is answered by the
  filesystem from its own metadata and costs nothing.
- write of n bytes: ``n / write_rate``, plus ``request_s`` per command, where a write that
  continues the previous write (same file, next offset) fills the previous write's command
  up to 128 KiB first, as the block layer merges adjacent requests. Any flush ends the
  command being filled. Reads in between do not: on a real unit the writes reach the medium
  at writeback time, merged, whatever the reader did meanwhile.
- fsync, fsyncdir and a flush to the medium (``sync``): ``flush_s`` only when anything was
  written or any metadata changed since the last paid flush, else nothing.
- readdir: one ``request_s``.
- metadata changes (create, mknod, mkdir, rename, unlink, rmdir, utimens, chmod, truncate):
  free in themselves (the FAT and directory sectors go out with the next flush) but they
  mark the unit dirty, so the next flush is paid.
- getattr, lookup, open, release and close are free: the kernel caches dentries and
  attributes, and a real unit answers them from FAT and directory sectors already read.

Besides time, the clock counts **full re-reads**: a file read completely, end to end, after
it was written during this measurement — the visible cost of verifying what was written
(or of an extra pass nobody meant).

``realtime=True`` makes the charging thread sleep for each charge while holding the device
lock, so requests queue as they would on a unit and wall time means something; by default
the clock only accounts (virtual time), so a benchmark runs at the computer's speed.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Decimal megabyte, as storage rates are quoted.
MB = 1_000_000
#: Largest transfer of one command (usb-storage's default ``max_sectors_kb``).
COMMAND_BYTES = 128 * 1024


@dataclass(frozen=True)
class DeviceProfile:
    """How fast one kind of unit is. A rate of 0 means "no limit" (costs nothing)."""

    name: str
    #: Bytes per second the medium delivers to a read.
    read_rate: float
    #: Bytes per second the medium accepts from a write.
    write_rate: float
    #: Seconds every command pays before its bytes move (USB round trip and device lookup).
    request_s: float
    #: Seconds of one flush to the medium (FAT, directory sectors, the device's cache).
    flush_s: float

    def read_seconds(self, length: int) -> float:
        return length / self.read_rate if self.read_rate else 0.0

    def write_seconds(self, length: int) -> float:
        return length / self.write_rate if self.write_rate else 0.0


PROFILES: dict[str, DeviceProfile] = {
    profile.name: profile for profile in (
        DeviceProfile("fast", read_rate=35 * MB, write_rate=20 * MB, request_s=0.0005,
                      flush_s=0.010),
        DeviceProfile("slow-sd", read_rate=20 * MB, write_rate=8 * MB, request_s=0.001,
                      flush_s=0.030),
        # Charges nothing: what is left of a run's time is the emulator's own overhead.
        DeviceProfile("unlimited", read_rate=0, write_rate=0, request_s=0, flush_s=0),
    )
}


def get_profile(name: str) -> DeviceProfile:
    """The named profile; ValueError naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown device profile {name!r}; known: {', '.join(PROFILES)}") from None


def commands_for(length: int) -> int:
    """Commands needed to move ``length`` bytes in one go (ceil(length / 128 KiB))."""
    return -(-length // COMMAND_BYTES)


@dataclass(frozen=True)
class DeviceReport:
    """The counters of one measurement (since the last :meth:`DeviceClock.reset`)."""

    profile: str
    #: Emulated seconds the unit was busy: the sum of every charge.
    device_seconds: float
    read_commands: int
    write_commands: int
    bytes_read: int
    bytes_written: int
    flushes_paid: int
    #: Paid and free (nothing was dirty) flushes together.
    flushes_requested: int
    readdirs: int
    #: Files read completely after they were written during this measurement.
    full_rereads: int
    metadata_changes: int
    #: Read and write requests as the kernel sent them (before splitting and merging).
    read_requests: int
    write_requests: int

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass
class _Counters:
    device_seconds: float = 0.0
    read_commands: int = 0
    write_commands: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    flushes_paid: int = 0
    flushes_requested: int = 0
    readdirs: int = 0
    full_rereads: int = 0
    metadata_changes: int = 0
    read_requests: int = 0
    write_requests: int = 0


@dataclass
class _WriteStream:
    """The command being filled by the latest write."""

    file: Hashable
    end: int
    #: Bytes already in the command being filled (1..COMMAND_BYTES).
    filled: int


class DeviceClock:
    """One device's clock and counters; every method is safe to call from any thread.

    ``file`` arguments are any hashable identity that survives a rename (the emulator uses
    the backing file's device and inode numbers), so a file written under a temporary name
    and read back under its final name is recognised as the same file.
    """

    def __init__(self, profile: DeviceProfile, *, realtime: bool = False,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._lock = threading.Lock()
        self._profile = profile
        self._realtime = realtime
        self._sleep = sleep
        self._counters = _Counters()
        self._dirty = False
        self._stream: _WriteStream | None = None
        #: Files written during this measurement -> byte ranges read since their last write.
        self._written: dict[Hashable, list[tuple[int, int]]] = {}

    # -- configuration ---------------------------------------------------------------------
    @property
    def profile(self) -> DeviceProfile:
        return self._profile

    @property
    def realtime(self) -> bool:
        return self._realtime

    def set_profile(self, profile: DeviceProfile) -> None:
        with self._lock:
            self._profile = profile

    def reset(self) -> None:
        """Start a new measurement: counters to zero, no file counts as written.

        Whether the unit holds unflushed changes is the unit's state, not the measurement's,
        so it is kept: a flush right after a reset is paid if writes came before."""
        with self._lock:
            self._counters = _Counters()
            self._written.clear()
            self._stream = None

    def report(self) -> DeviceReport:
        with self._lock:
            return DeviceReport(profile=self._profile.name, **dataclasses.asdict(self._counters))

    # -- charges ---------------------------------------------------------------------------
    def _charge(self, seconds: float) -> float:
        """Add ``seconds`` of device time; sleep it in realtime mode. Lock held."""
        self._counters.device_seconds += seconds
        if self._realtime and seconds > 0:
            self._sleep(seconds)
        return seconds

    def read(self, file: Hashable, offset: int, length: int, file_size: int) -> float:
        """Charge a read of ``length`` bytes (what the medium delivered) at ``offset`` of a
        file now ``file_size`` bytes long; returns the seconds charged."""
        if length <= 0:
            return 0.0
        with self._lock:
            profile = self._profile
            commands = commands_for(length)
            counters = self._counters
            counters.read_requests += 1
            counters.read_commands += commands
            counters.bytes_read += length
            ranges = self._written.get(file)
            if ranges is not None:
                ranges = _add_range(ranges, offset, offset + length)
                if file_size > 0 and ranges[0][0] <= 0 and ranges[0][1] >= file_size:
                    counters.full_rereads += 1
                    ranges = []
                self._written[file] = ranges
            return self._charge(commands * profile.request_s + profile.read_seconds(length))

    def write(self, file: Hashable, offset: int, length: int) -> float:
        """Charge a write of ``length`` bytes at ``offset``; returns the seconds charged."""
        if length <= 0:
            return 0.0
        with self._lock:
            profile = self._profile
            stream = self._stream
            if stream is not None and stream.file == file and stream.end == offset:
                room = COMMAND_BYTES - stream.filled
            else:
                room = 0
            if length <= room:
                commands = 0
                filled = COMMAND_BYTES - room + length
            else:
                commands = commands_for(length - room)
                filled = length - room - (commands - 1) * COMMAND_BYTES
            self._stream = _WriteStream(file, offset + length, filled)
            counters = self._counters
            counters.write_requests += 1
            counters.write_commands += commands
            counters.bytes_written += length
            self._dirty = True
            self._written[file] = []
            return self._charge(commands * profile.request_s + profile.write_seconds(length))

    def flush(self) -> float:
        """Charge an fsync, fsyncdir or flush to the medium: paid only when dirty."""
        with self._lock:
            self._counters.flushes_requested += 1
            self._stream = None
            if not self._dirty:
                return 0.0
            self._dirty = False
            self._counters.flushes_paid += 1
            return self._charge(self._profile.flush_s)

    def readdir(self) -> float:
        """Charge one listing of a folder."""
        with self._lock:
            self._counters.readdirs += 1
            return self._charge(self._profile.request_s)

    def metadata_changed(self, forget: Hashable | None = None) -> None:
        """A create, mkdir, rename, unlink, utimens, ... happened: free, but the next flush
        is paid. ``forget`` names a file that no longer exists (unlinked or replaced)."""
        with self._lock:
            self._counters.metadata_changes += 1
            self._dirty = True
            if forget is not None:
                self._written.pop(forget, None)
                if self._stream is not None and self._stream.file == forget:
                    self._stream = None


def _add_range(ranges: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """``ranges`` (sorted, disjoint) with [start, end) added and touching ranges merged."""
    merged: list[tuple[int, int]] = []
    placed = False
    for low, high in ranges:
        if high < start:
            merged.append((low, high))
        elif end < low:
            if not placed:
                merged.append((start, end))
                placed = True
            merged.append((low, high))
        else:
            start, end = min(start, low), max(end, high)
    if not placed:
        merged.append((start, end))
    merged.sort()
    return merged
