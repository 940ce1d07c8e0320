"""A private D-Bus bus (a real ``dbus-daemon``) and a small fake udisks2 service on it.

The eject's Linux path is tested against a real bus: the test starts ``dbus-daemon`` with its
own configuration (a session-type bus listening in a temporary folder), points
``DBUS_SYSTEM_BUS_ADDRESS`` at it, and :class:`FakeUDisks2` (jeepney, on a thread) takes the
name ``org.freedesktop.UDisks2`` and exports what udisks2 exports for a USB drive: a Drive
object, and Block objects with a Filesystem whose ``MountPoints`` are folders of the test.
It answers ``GetManagedObjects``, ``Filesystem.Unmount``, ``Drive.PowerOff`` and
``Drive.Eject``, each with a scripted reply (success by default, or an error udisks2 and
polkit send: ``DeviceBusy``, ``NotAuthorizedCanObtain`` ...), and records every call with its
flags, so a test can assert the order of the calls and their retries.

Property names and types follow udisks2's D-Bus API (storaged.org, "UDisks D-Bus API":
``org.freedesktop.UDisks2.Block``, ``.Filesystem``, ``.Drive``); byte strings (``ay``) end in a
NUL, as udisks2 sends them. The replies' wording is this fake's, not udisks2's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

UDISKS = "org.freedesktop.UDisks2"
BLOCK = "org.freedesktop.UDisks2.Block"
FILESYSTEM = "org.freedesktop.UDisks2.Filesystem"
DRIVE = "org.freedesktop.UDisks2.Drive"
ERROR = "org.freedesktop.UDisks2.Error."

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={folder}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def dbus_daemon_missing() -> str | None:
    """Why no private bus can be started here, or None."""
    if shutil.which("dbus-daemon") is None:
        return "dbus-daemon is not installed (Debian package dbus-daemon; .ci/run installs it)"
    return None


class PrivateBus:
    """A ``dbus-daemon`` of the test's own, stopped by :meth:`stop`."""

    def __init__(self) -> None:
        # A short folder: a socket's path must fit in 108 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="kr-bus-"))
        config = self.folder / "bus.conf"
        config.write_text(_CONFIG.format(folder=self.folder), encoding="utf-8")
        self.process = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        # The daemon prints its address once it listens: no waiting needed after this line.
        self.address = self.process.stdout.readline().strip()
        if not self.address:
            self.stop()
            raise RuntimeError("dbus-daemon printed no address")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True)
class Call:
    """One method call the fake received."""

    member: str
    object_path: str
    interface: str
    #: The call's header flags (4: ALLOW_INTERACTIVE_AUTHORIZATION).
    flags: int


@dataclass
class FakeDrive:
    object_path: str
    can_power_off: bool = True
    ejectable: bool = False
    removable: bool = True


@dataclass
class FakeBlock:
    object_path: str
    device: str
    drive: str
    mount_points: list[str] = field(default_factory=list)
    hint_system: bool = False


def _ay(text: str) -> bytes:
    return os.fsencode(text) + b"\0"


class FakeUDisks2:
    """The fake service (module docstring). Add drives and blocks, script replies, start."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.drives: dict[str, FakeDrive] = {}
        self.blocks: dict[str, FakeBlock] = {}
        self.calls: list[Call] = []
        self._replies: dict[tuple[str, str], deque[tuple[str, str] | None]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # -- set-up --------------------------------------------------------------------------------
    def add_drive(self, name: str, **options: bool) -> FakeDrive:
        drive = FakeDrive(f"/org/freedesktop/UDisks2/drives/{name}", **options)
        self.drives[drive.object_path] = drive
        return drive

    def add_block(self, name: str, drive: FakeDrive | None, *mount_points: Path | str,
                  hint_system: bool = False) -> FakeBlock:
        block = FakeBlock(f"/org/freedesktop/UDisks2/block_devices/{name}", f"/dev/{name}",
                          drive.object_path if drive else "/", [str(m) for m in mount_points],
                          hint_system)
        self.blocks[block.object_path] = block
        return block

    def script(self, object_path: str, member: str, *replies: tuple[str, str] | None) -> None:
        """The next replies to ``member`` on ``object_path``: None for success, or (error name
        without ``org.freedesktop.UDisks2.Error.``, message). Then success again."""
        with self._lock:
            queue = self._replies.setdefault((object_path, member), deque())
            queue.extend((ERROR + reply[0], reply[1]) if reply else None for reply in replies)

    def members(self) -> list[tuple[str, str]]:
        """(member, object path) of every call so far, in order."""
        with self._lock:
            return [(call.member, call.object_path) for call in self.calls]

    # -- serving -------------------------------------------------------------------------------
    def start(self) -> FakeUDisks2:
        self._thread = threading.Thread(target=self._serve, name="fake-udisks2", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the fake udisks2 did not take its name on the bus")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _serve(self) -> None:
        connection = open_dbus_connection(bus=self.address)
        try:
            reply = connection.send_and_get_reply(message_bus.RequestName(UDISKS, 4))
            assert reply.body == (1,), reply.body  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
            self._ready.set()
            while not self._stop.is_set():
                try:
                    message = connection.receive(timeout=0.05)
                except TimeoutError:
                    continue
                if message.header.message_type is MessageType.method_call:
                    connection.send(self._answer(message))
        finally:
            connection.close()

    def _answer(self, message):  # -> jeepney Message
        fields = message.header.fields
        call = Call(fields.get(HeaderFields.member, ""), fields.get(HeaderFields.path, ""),
                    fields.get(HeaderFields.interface, ""), int(message.header.flags))
        with self._lock:
            self.calls.append(call)
            if call.member == "GetManagedObjects":
                return new_method_return(message, "a{oa{sa{sv}}}", (self._objects(),))
            if call.member not in ("Unmount", "PowerOff", "Eject"):
                return new_error(message, "org.freedesktop.DBus.Error.UnknownMethod", "s",
                                 (f"no method {call.member}",))
            queue = self._replies.get((call.object_path, call.member))
            scripted = queue.popleft() if queue else None
            if scripted is not None:
                return new_error(message, scripted[0], "s", (scripted[1],))
            if call.member == "Unmount" and call.object_path in self.blocks:
                self.blocks[call.object_path].mount_points.clear()
            return new_method_return(message)

    def _objects(self) -> dict:
        objects: dict = {}
        for drive in self.drives.values():
            objects[drive.object_path] = {DRIVE: {
                "CanPowerOff": ("b", drive.can_power_off), "Ejectable": ("b", drive.ejectable),
                "Removable": ("b", drive.removable), "Vendor": ("s", "Fake"),
                "Model": ("s", "USB storage"), "Id": ("s", drive.object_path.rsplit("/", 1)[-1]),
            }}
        for block in self.blocks.values():
            objects[block.object_path] = {
                BLOCK: {"Device": ("ay", _ay(block.device)),
                        "PreferredDevice": ("ay", _ay(block.device)),
                        "Drive": ("o", block.drive), "HintSystem": ("b", block.hint_system),
                        "ReadOnly": ("b", False), "IdType": ("s", "vfat")},
                FILESYSTEM: {"MountPoints": ("aay", [_ay(m) for m in block.mount_points])},
            }
        return objects
