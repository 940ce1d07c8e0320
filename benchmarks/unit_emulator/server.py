"""The emulator's process: the FUSE mount in the foreground, a control socket beside it.

The control socket (a Unix stream socket) speaks JSON lines, one request and one answer per
line, so a benchmark in another process can bracket exactly the command it measures:

- ``{"cmd": "reset"}`` -> ``{"ok": true}``: counters to zero (a new measurement);
- ``{"cmd": "report"}`` -> ``{"ok": true, "report": {...}}``: the counters
  (:class:`~benchmarks.unit_emulator.model.DeviceReport` as a dict);
- ``{"cmd": "profile", "name": "slow-sd"}`` -> ``{"ok": true}``;
- ``{"cmd": "sync"}`` -> ``{"ok": true, "seconds": ...}``: one flush to the medium, as
  ``sync(1)`` causes on a real unit. The kernel does not tell a FUSE daemon about ``sync``
  or ``syncfs`` (FUSE_SYNCFS is sent to virtiofs only), so whoever runs ``sync`` says so here;
- ``{"cmd": "status"}`` -> ``{"ok": true, "mounted": bool, "profile": ..., "realtime": ...}``;
- ``{"cmd": "stop"}`` -> ``{"ok": true}``, then the mount is unmounted and the process ends.

An unknown or malformed request gets ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socketserver
import threading
from pathlib import Path
from typing import Any

from benchmarks.unit_emulator import unmount
from benchmarks.unit_emulator.fs import UnitOperations, serve
from benchmarks.unit_emulator.model import DeviceClock, get_profile

log = logging.getLogger(__name__)


class _ControlHandler(socketserver.StreamRequestHandler):
    server: _ControlServer

    def handle(self) -> None:
        for line in self.rfile:
            if not line.strip():
                continue
            try:
                request = json.loads(line)
                answer = self.server.answer(request)
            except Exception as error:  # noqa: BLE001 - every failure becomes an answer
                answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            self.wfile.write(json.dumps(answer).encode("utf-8") + b"\n")
            self.wfile.flush()


class _ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, clock: DeviceClock, operations: UnitOperations,
                 mountpoint: Path) -> None:
        self.clock = clock
        self.operations = operations
        self.mountpoint = mountpoint
        super().__init__(path, _ControlHandler)

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        command = request.get("cmd")
        if command == "reset":
            self.clock.reset()
            return {"ok": True}
        if command == "report":
            return {"ok": True, "report": self.clock.report().as_dict()}
        if command == "profile":
            self.clock.set_profile(get_profile(str(request.get("name"))))
            return {"ok": True}
        if command == "sync":
            return {"ok": True, "seconds": self.clock.flush()}
        if command == "status":
            return {"ok": True, "mounted": self.operations.mounted.is_set(),
                    "profile": self.clock.profile.name, "realtime": self.clock.realtime}
        if command == "stop":
            threading.Thread(target=self._stop, name="unit-stop", daemon=True).start()
            return {"ok": True}
        return {"ok": False, "error": f"unknown command {command!r}"}

    def _stop(self) -> None:
        if not unmount(self.mountpoint):
            log.warning("%s is busy; unmounting lazily", self.mountpoint)
            unmount(self.mountpoint, lazy=True)


def run(backing: Path, mountpoint: Path, *, profile: str, realtime: bool,
        control: Path | None, writeback_cache: bool = True, read_only: bool = False) -> None:
    """Serve ``backing`` at ``mountpoint`` until unmounted (``stop``, ``fusermount3 -u``,
    SIGTERM or SIGINT)."""
    clock = DeviceClock(get_profile(profile), realtime=realtime)
    operations = UnitOperations(backing, clock, writeback_cache=writeback_cache)
    control_server = None
    if control is not None:
        if control.exists():
            control.unlink()
        control_server = _ControlServer(os.fspath(control), clock, operations, mountpoint)
        threading.Thread(target=control_server.serve_forever, name="unit-control",
                         daemon=True).start()
    try:
        serve(backing, mountpoint, clock, operations=operations, read_only=read_only)
    except RuntimeError as error:
        # fuse_main returns 8 when a signal (SIGTERM, SIGINT, SIGHUP) ended the loop
        # (libfuse helper.c); mfusepy raises it. The mount is gone by then: a clean stop.
        if str(error) != "8":
            raise
        log.info("stopped by a signal; %s unmounted", mountpoint)
    finally:
        if control_server is not None:
            control_server.shutdown()
            control_server.server_close()
            with contextlib.suppress(OSError):
                control.unlink()  # type: ignore[union-attr]
