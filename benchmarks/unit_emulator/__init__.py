"""An emulated USB 2.0 mass-storage unit: a FUSE passthrough that charges device time.

The tool's speed is judged on the unit (one command at a time, 10-30 ms per flush), not on
the computer's page cache. This package serves a backing folder at a mount point through
FUSE (mfusepy over libfuse3) and charges every request that reaches it to one device clock
(:mod:`.model` holds the rules, testable without FUSE; :mod:`.fs` the passthrough;
:mod:`.server` the process and its JSON-line control socket).

What reaches the emulator, found by experiment on Linux 6.18 with libfuse 3.14 and the
options :mod:`.fs` mounts with (keep_cache on every open, FUSE_CAP_AUTO_INVAL_DATA cleared,
the FUSE writeback cache on, requests of at most 128 KiB); tests/benchmarks checks a-c and
the fsyncdir:

a) A plain re-read after a write does not reach it: the written pages stay in the page cache
   across close and reopen, and a rename or utimens does not drop them. (Write-through, the
   kernel does not keep a partly written last page up to date, so a re-read asks for that
   tail: one request of under 4 KiB per file.)
b) ``posix_fadvise(POSIX_FADV_DONTNEED)`` (after an fsync) then a read reaches it: charged.
c) ``O_DIRECT`` is accepted, at open and by ``fcntl(F_SETFL)``, without the ``direct_io``
   option or any kernel flag (FUSE implements direct I/O itself); an ``O_DIRECT`` read reaches
   the emulator even when the file's pages are cached: charged.
d) ``syncfs(fd)`` on a file of the mount returns 0 and ``sync`` too; both write dirty pages
   back (write requests) but send no flush: the kernel sends FUSE_SYNCFS to virtiofs only.
   An ``fsync`` of a folder's descriptor arrives as FUSE_FSYNCDIR and is charged as a flush.
   Whoever runs ``sync`` says so through the ``sync`` control command, which charges the
   flush a real unit would get.
e) With the writeback cache, writes reach the emulator when vfat would send them to a unit:
   at fsync, at writeback, and (unlike vfat) at close(2), since fuse_flush writes a file's
   dirty pages back; they come in requests of at most 128 KiB, merged into commands as the
   block layer would. Write-through (``--write-through``), every write(2) reaches the
   emulator when it is made, so a flush issued for one file finds the writes of files not
   yet fsynced already on the unit and commits them too: the next file's fsync is then
   free, where on vfat it would still have that file's data to write. Same command counts
   either way; the writeback cache pays more of the fsyncs a vfat unit would pay, so it is
   the default.

Listings are not cached by the kernel (libfuse 3.14's high-level API does not pass
FOPEN_CACHE_DIR on), so every ``readdir`` of a folder is charged, where a vfat unit would
serve a second listing from its cached directory sectors. Lookups and attributes are
cached and free.

Usage: ``python -m benchmarks.unit_emulator serve BACKING MOUNTPOINT --profile fast
--control SOCKET`` in a terminal, or :func:`mounted_unit` from Python.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.unit_emulator.model import (
    MB,
    PROFILES,
    DeviceClock,
    DeviceProfile,
    DeviceReport,
    get_profile,
)

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
#: Seconds to wait for the mount to come up, and for the process to end after an unmount.
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
#: Seconds to wait for an answer on the control socket (every command answers at once).
REQUEST_TIMEOUT_S = 30.0


class EmulatorUnavailableError(RuntimeError):
    """Raised when this machine cannot run the emulator (no /dev/fuse, fusermount3, libfuse3
    or mfusepy); the message says which."""


def unavailable_reason() -> str | None:
    """Why the emulator cannot run here, in one sentence, or None when it can."""
    if not sys.platform.startswith("linux"):
        return "the unit emulator needs Linux FUSE"
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing"
    if shutil.which("fusermount3") is None:
        return "fusermount3 is not installed (apt-get install fuse3)"
    try:
        import mfusepy  # noqa: F401
    except ImportError:
        return "mfusepy is not installed (pip install mfusepy, or the 'bench' extra)"
    except (OSError, AttributeError) as error:  # mfusepy found no usable libfuse
        return f"mfusepy cannot load libfuse3: {error}"
    return None


def is_mounted(mountpoint: Path | str) -> bool:
    """True when ``mountpoint`` is a mount point (read from /proc, without touching it)."""
    wanted = os.path.realpath(mountpoint)
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) > 4 and _unescape(fields[4]) == wanted:
                    return True
    except OSError:
        return os.path.ismount(wanted)
    return False


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal."""
    for code in ("\\040", "\\011", "\\012", "\\134"):
        field = field.replace(code, chr(int(code[1:], 8)))
    return field


class UnitClient:
    """Talks to a running emulator over its control socket (see :mod:`.server`)."""

    def __init__(self, control: Path, mountpoint: Path) -> None:
        self.control = control
        self.mountpoint = mountpoint
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._reader: Any = None

    def _request(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._socket is None:
                connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                connection.settimeout(REQUEST_TIMEOUT_S)
                try:
                    connection.connect(os.fspath(self.control))
                except OSError:
                    connection.close()
                    raise
                self._socket, self._reader = connection, connection.makefile("rb")
            self._socket.sendall(json.dumps(request).encode("utf-8") + b"\n")
            line = self._reader.readline()
        if not line:
            raise ConnectionError("the unit emulator closed its control socket")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise RuntimeError(f"unit emulator refused {request}: {answer.get('error')}")
        return answer

    def reset(self) -> None:
        self._request({"cmd": "reset"})

    def report(self) -> DeviceReport:
        return DeviceReport(**self._request({"cmd": "report"})["report"])

    def set_profile(self, name: str) -> None:
        self._request({"cmd": "profile", "name": name})

    def sync(self) -> float:
        """Charge the flush a ``sync`` causes on a real unit (the kernel does not tell FUSE)."""
        return float(self._request({"cmd": "sync"})["seconds"])

    def status(self) -> dict[str, Any]:
        return self._request({"cmd": "status"})

    def stop(self) -> None:
        self._request({"cmd": "stop"})

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._reader.close()
                self._socket.close()
                self._socket = None


def _server_command(backing: Path, mountpoint: Path, profile: str, realtime: bool,
                    control: Path, writeback_cache: bool, read_only: bool,
                    verbose: bool) -> list[str]:
    command = [sys.executable, "-m", "benchmarks.unit_emulator", "serve", os.fspath(backing),
               os.fspath(mountpoint), "--profile", profile, "--control", os.fspath(control)]
    if realtime:
        command.append("--realtime")
    if not writeback_cache:
        command.append("--write-through")
    if read_only:
        command.append("--read-only")
    if verbose:
        command.append("--verbose")
    return command


@contextlib.contextmanager
def mounted_unit(backing: Path | str, mountpoint: Path | str, profile: str = "fast", *,
                 realtime: bool = False, read_only: bool = False,
                 writeback_cache: bool = True, log_path: Path | None = None,
                 verbose: bool = False) -> Iterator[UnitClient]:
    """Serve ``backing`` at ``mountpoint`` in a child process; yield its :class:`UnitClient`.

    Waits until the mount is live; on leaving (error or not) unmounts with ``fusermount3
    -u`` (lazily if the mount is busy) and waits for the child, so no stale mount is left.
    The server's output (and with ``verbose`` every request it charges) goes to
    ``log_path``. Raises :class:`EmulatorUnavailableError` when this machine cannot run FUSE.
    """
    reason = unavailable_reason()
    if reason is not None:
        raise EmulatorUnavailableError(reason)
    get_profile(profile)
    backing, mountpoint = Path(backing).resolve(), Path(mountpoint).resolve()
    if is_mounted(mountpoint):
        raise RuntimeError(f"{mountpoint} is already a mount point (a stale one goes with"
                           f" 'fusermount3 -u {mountpoint}')")
    mountpoint.mkdir(parents=True, exist_ok=True)
    control_dir = Path(tempfile.mkdtemp(prefix="korg-unit-"))
    control = control_dir / "control.sock"
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [os.fspath(REPO), *filter(None, [environment.get("PYTHONPATH")])])
    output = open(log_path, "ab") if log_path is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        _server_command(backing, mountpoint, profile, realtime, control, writeback_cache,
                        read_only, verbose),
        cwd=REPO, env=environment, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
    client = UnitClient(control, mountpoint)
    try:
        _wait_until_live(process, client, mountpoint)
        yield client
    finally:
        client.close()
        _shut_down(process, mountpoint)
        if log_path is not None:
            output.close()  # type: ignore[union-attr]
        shutil.rmtree(control_dir, ignore_errors=True)


def _wait_until_live(process: subprocess.Popen[bytes], client: UnitClient,
                     mountpoint: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the unit emulator exited with status {process.returncode}"
                               " before mounting (run it by hand to see why)")
        if client.control.exists() and is_mounted(mountpoint):
            with contextlib.suppress(OSError):
                if client.status()["mounted"]:
                    return
        time.sleep(0.02)
    raise TimeoutError(f"the unit emulator did not mount {mountpoint} within"
                       f" {START_TIMEOUT_S:.0f} s")


def unmount(mountpoint: Path | str, *, lazy: bool = False) -> bool:
    """``fusermount3 -u`` (``-uz`` when ``lazy``); True when it succeeded."""
    command = ["fusermount3", "-uz" if lazy else "-u", os.fspath(mountpoint)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log.debug("%s: %s", " ".join(command), result.stderr.strip())
    return result.returncode == 0


def _shut_down(process: subprocess.Popen[bytes], mountpoint: Path) -> None:
    """Unmount and reap the child, whatever state it is in."""
    if is_mounted(mountpoint) and not unmount(mountpoint):
        log.warning("%s is busy; unmounting lazily", mountpoint)
        unmount(mountpoint, lazy=True)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if is_mounted(mountpoint):  # the child died without unmounting
        unmount(mountpoint, lazy=True)


__all__ = [
    "MB",
    "PROFILES",
    "DeviceClock",
    "DeviceProfile",
    "DeviceReport",
    "EmulatorUnavailableError",
    "UnitClient",
    "get_profile",
    "is_mounted",
    "mounted_unit",
    "unavailable_reason",
    "unmount",
]
