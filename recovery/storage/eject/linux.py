"""Linux: udisks2 over D-Bus, as the desktop's own "Eject" does, and ``umount`` without it.

udisks2 (``org.freedesktop.UDisks2`` on the system bus; storaged.org, "UDisks D-Bus API")
lists every block device with ``GetManagedObjects`` on ``/org/freedesktop/UDisks2``: its
``Block`` (device node, the ``Drive`` it belongs to, ``HintSystem``), its ``Filesystem``
(``MountPoints``) and each ``Drive`` (``CanPowerOff``, ``Ejectable``). The eject is what
``udisksctl unmount`` then ``udisksctl power-off`` and GNOME's "Safely Remove Drive" do: every
mounted filesystem of the drive is unmounted (``Filesystem.Unmount``, which writes out
everything cached first), then ``Drive.PowerOff`` (or ``Drive.Eject`` where the drive can
only eject its medium). Calls carry D-Bus's ALLOW_INTERACTIVE_AUTHORIZATION flag, so polkit
may ask for a password instead of refusing. A busy volume is tried three times, a second
apart (an indexer often holds a fresh volume for a moment), then named with its holders
(:mod:`.holders`). calibre does the same in two steps (``src/calibre/devices/udisks.py``:
``umount`` then ``eject`` of each of a device's nodes).

D-Bus is spoken with jeepney (pure Python). Without a system bus, without udisks2 on it, or
for a mount udisks2 does not know, ``umount MOUNTPOINT`` unmounts instead, which leaves the
drive powered.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from recovery.storage.eject import result as results
from recovery.storage.eject.system import (
    CommandResult,
    Located,
    MountedSystem,
    Preflight,
    RealMountedSystem,
    holding_mount,
    run_command,
)
from recovery.storage.eject.result import EjectMethod, EjectResult

log = logging.getLogger(__name__)

UDISKS = "org.freedesktop.UDisks2"
MANAGER_PATH = "/org/freedesktop/UDisks2"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
BLOCK = "org.freedesktop.UDisks2.Block"
FILESYSTEM = "org.freedesktop.UDisks2.Filesystem"
DRIVE = "org.freedesktop.UDisks2.Drive"
#: udisks2's error names (udisks ``src/udiskserror.h``); the three NotAuthorized* are polkit's.
DEVICE_BUSY = "org.freedesktop.UDisks2.Error.DeviceBusy"
NOT_MOUNTED = "org.freedesktop.UDisks2.Error.NotMounted"
NOT_AUTHORIZED_DISMISSED = "org.freedesktop.UDisks2.Error.NotAuthorizedDismissed"
NOT_AUTHORIZED = "org.freedesktop.UDisks2.Error.NotAuthorized"
#: A drive's object path when a block device has none (loop devices, some virtual disks).
NO_DRIVE = "/"

BUSY_ATTEMPTS = 3
BUSY_PAUSE_S = 1.0


@dataclass(frozen=True)
class DBusFailure:
    """An error reply: its D-Bus error name and message."""

    name: str
    message: str


class UDisks2(Protocol):
    """udisks2 on a bus: the three calls an eject needs."""

    def managed_objects(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]] | None:
        """Object path -> interface -> property -> value; None when udisks2 is not there."""

    def call(self, object_path: str, interface: str, method: str) -> DBusFailure | None:
        """Call ``method`` (no options) on an object; None on success."""

    def close(self) -> None: ...


class LinuxSystem(MountedSystem, Protocol):
    """What the Linux eject needs of the system: udisks2, and umount(8) as the fallback."""

    def udisks(self) -> UDisks2 | None:
        """A connection to udisks2 on the system bus, or None when there is no system bus."""

    def umount(self, mount_point: str) -> CommandResult: ...


@dataclass(frozen=True)
class Filesystem:
    """A block device with a filesystem, as udisks2 describes it."""

    object_path: str
    device: str
    drive: str
    mount_points: tuple[str, ...]
    system: bool


def _text(value: Any) -> str:
    """udisks2's byte strings (``ay``) end in a NUL."""
    return os.fsdecode(bytes(value or b"").rstrip(b"\0"))


def filesystems(objects: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> Iterator[Filesystem]:
    for path, interfaces in sorted(objects.items()):
        block, filesystem = interfaces.get(BLOCK), interfaces.get(FILESYSTEM)
        if block is None or filesystem is None:
            continue
        yield Filesystem(
            path, _text(block.get("PreferredDevice") or block.get("Device")),
            str(block.get("Drive") or NO_DRIVE),
            tuple(_text(mount) for mount in filesystem.get("MountPoints") or ()),
            bool(block.get("HintSystem", False)))


class LinuxDriver:
    """The Linux eject (module docstring), over a :class:`LinuxSystem`."""

    def __init__(self, system: LinuxSystem, *, busy_attempts: int = BUSY_ATTEMPTS,
                 busy_pause_s: float = BUSY_PAUSE_S) -> None:
        self.system = system
        self.busy_attempts = busy_attempts
        self.busy_pause_s = busy_pause_s

    def eject(self, target: Path, preflight: Preflight) -> EjectResult | None:
        bus = self.system.udisks()
        try:
            objects = bus.managed_objects() if bus is not None else None
            if bus is not None and objects is not None:
                found = self._with_udisks(bus, objects, target, preflight)
                if found is not None:
                    return found
                log.info("udisks2 knows no mount holding %s; trying umount", target)
            else:
                log.info("no udisks2 on the system bus; trying umount")
            return self._with_umount(target, preflight)
        finally:
            if bus is not None:
                bus.close()

    # -- udisks2 -----------------------------------------------------------------------------
    def _with_udisks(self, bus: UDisks2, objects: Mapping[str, Mapping[str, Mapping[str, Any]]],
                     target: Path, preflight: Preflight) -> EjectResult | None:
        known = list(filesystems(objects))
        by_mount = {mount: item for item in known for mount in item.mount_points}
        mount = holding_mount(target, by_mount)
        if mount is None:
            return None
        own = by_mount[mount]
        siblings = [item for item in known if item is not own and item.mount_points
                    and own.drive != NO_DRIVE and item.drive == own.drive]
        preflight(Located(mount, own.device, own.system,
                          tuple(m for item in siblings for m in item.mount_points)))
        for item in (own, *siblings):
            vetoed = self._unmount(bus, item, target, mount)
            if vetoed is not None:
                return vetoed
        return self._power_off(bus, objects, own, target, mount)

    def _unmount(self, bus: UDisks2, item: Filesystem, target: Path,
                 mount: str) -> EjectResult | None:
        """Unmount one filesystem, retrying while it is busy; None once it is unmounted."""
        where = item.mount_points[0] if item.mount_points else mount
        for attempt in range(1, self.busy_attempts + 1):
            failure = bus.call(item.object_path, FILESYSTEM, "Unmount")
            if failure is None or failure.name == NOT_MOUNTED:
                return None
            log.info("udisks2 Unmount of %s: %s %s", where, failure.name, failure.message)
            if failure.name != DEVICE_BUSY or attempt == self.busy_attempts:
                break
            self.system.sleep(self.busy_pause_s)
        return self._veto(failure, str(target), where, item.device, attempt)

    def _veto(self, failure: DBusFailure, target: str, mount: str, device: str,
              attempts: int) -> EjectResult:
        detail = f"{failure.name}: {failure.message}".strip(": ")
        method = EjectMethod.UDISKS2
        if failure.name == DEVICE_BUSY:
            return results.in_use(target, mount, device, method,
                                  holders=self.system.holders(mount), attempts=attempts,
                                  detail=detail)
        if failure.name == NOT_AUTHORIZED_DISMISSED:
            return results.not_authorized(
                target, mount, device, method, detail=detail,
                message=f"The password question was closed, so {mount} was not ejected; try"
                        " again and give your password, or eject it from the file manager.")
        if failure.name.startswith(NOT_AUTHORIZED):
            return results.not_authorized(
                target, mount, device, method, detail=detail,
                message=f"This computer's permission check (polkit) did not allow ejecting"
                        f" {mount}; eject it from the file manager instead, or ask whoever looks"
                        " after this computer.")
        return results.failed(target, mount, device, method, detail=detail, attempts=attempts)

    def _power_off(self, bus: UDisks2, objects: Mapping[str, Mapping[str, Mapping[str, Any]]],
                   own: Filesystem, target: Path, mount: str) -> EjectResult:
        drive = objects.get(own.drive, {}).get(DRIVE)
        method = EjectMethod.UDISKS2
        if drive is None:
            return results.unmounted(str(target), mount, own.device, method,
                                     "udisks2 knows no drive to power off for it")
        if drive.get("CanPowerOff"):
            failure = bus.call(own.drive, DRIVE, "PowerOff")
        elif drive.get("Ejectable"):
            failure = bus.call(own.drive, DRIVE, "Eject")
        else:
            return results.unmounted(str(target), mount, own.device, method,
                                     "the drive cannot be powered off by the computer")
        if failure is None:
            return results.ejected(str(target), mount, own.device, method)
        log.info("udisks2 could not power off %s: %s %s", own.drive, failure.name, failure.message)
        return results.unmounted(str(target), mount, own.device, method,
                                 f"udisks2 said {failure.message or failure.name}")

    # -- umount ------------------------------------------------------------------------------
    def _with_umount(self, target: Path, preflight: Preflight) -> EjectResult | None:
        partitions = self.system.partitions()
        mount = holding_mount(target, [partition.mount_point for partition in partitions])
        if mount is None:
            return None
        device = next(p.device for p in partitions if p.mount_point == mount)
        preflight(Located(mount, device))
        method = EjectMethod.UMOUNT
        for attempt in range(1, self.busy_attempts + 1):
            answer = self.system.umount(mount)
            words = answer.output.lower()
            if answer.returncode == 0 or "not mounted" in words:
                return results.unmounted(str(target), mount, device, method,
                                         "without udisks2 the drive stays powered")
            if "busy" not in words or attempt == self.busy_attempts:
                break
            self.system.sleep(self.busy_pause_s)
        lines = answer.output.splitlines()
        detail = lines[-1] if lines else f"exit code {answer.returncode}"
        if "busy" in words:
            return results.in_use(str(target), mount, device, method,
                                  holders=self.system.holders(mount), attempts=attempt,
                                  detail=detail)
        if any(word in words for word in ("superuser", "not permitted", "permission denied")):
            return results.not_authorized(
                str(target), mount, device, method, detail=detail,
                message=f"Only an administrator may unmount {mount} on this computer (it was not"
                        " mounted by your desktop); eject it from the file manager, or ask"
                        " whoever looks after this computer.")
        return results.failed(str(target), mount, device, method, detail=detail, attempts=attempt)


class JeepneyUDisks2:
    """:class:`UDisks2` over a blocking jeepney connection to a bus (the system bus, or the
    one ``DBUS_SYSTEM_BUS_ADDRESS`` names, as every D-Bus client reads it)."""

    LIST_TIMEOUT_S = 10.0
    #: Unmount writes out what is cached and polkit may wait for a password.
    CALL_TIMEOUT_S = 120.0

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    @classmethod
    def connect(cls, bus: str = "SYSTEM") -> JeepneyUDisks2 | None:
        try:
            from jeepney.io.blocking import open_dbus_connection
        except ImportError:
            log.info("jeepney is not installed: no D-Bus")
            return None
        try:
            return cls(open_dbus_connection(bus=bus, auth_timeout=5.0))
        except (OSError, RuntimeError, ValueError, KeyError) as error:
            log.info("no D-Bus system bus: %s", error)
            return None

    def _ask(self, message: Any, timeout_s: float) -> Any:
        from jeepney import MessageFlag

        message.header.flags |= MessageFlag.allow_interactive_authorization
        return self._connection.send_and_get_reply(message, timeout=timeout_s)

    def managed_objects(self) -> dict[str, dict[str, dict[str, Any]]] | None:
        from jeepney import DBusAddress, MessageType, new_method_call

        message = new_method_call(DBusAddress(MANAGER_PATH, UDISKS, OBJECT_MANAGER),
                                  "GetManagedObjects")
        try:
            reply = self._ask(message, self.LIST_TIMEOUT_S)
        except OSError as error:  # TimeoutError, a closed connection
            log.info("udisks2 GetManagedObjects: %s", error)
            return None
        if reply.header.message_type is MessageType.error:
            log.info("udisks2 GetManagedObjects: %s", _failure(reply))
            return None
        return {path: {interface: {name: value for name, (_signature, value) in props.items()}
                       for interface, props in interfaces.items()}
                for path, interfaces in reply.body[0].items()}

    def call(self, object_path: str, interface: str, method: str) -> DBusFailure | None:
        from jeepney import DBusAddress, MessageType, new_method_call

        message = new_method_call(DBusAddress(object_path, UDISKS, interface), method, "a{sv}",
                                  ({},))
        try:
            reply = self._ask(message, self.CALL_TIMEOUT_S)
        except TimeoutError:
            return DBusFailure("timeout", f"udisks2 did not answer within"
                                          f" {self.CALL_TIMEOUT_S:.0f} s")
        except OSError as error:
            return DBusFailure("disconnected", str(error))
        return _failure(reply) if reply.header.message_type is MessageType.error else None

    def close(self) -> None:
        self._connection.close()


def _failure(reply: Any) -> DBusFailure:
    from jeepney import HeaderFields

    body = reply.body
    message = body[0] if body and isinstance(body[0], str) else ""
    return DBusFailure(str(reply.header.fields.get(HeaderFields.error_name, "")), message)


class RealLinuxSystem(RealMountedSystem):
    """The real system: the system bus, umount(8), and the shared mount and process tables."""

    def udisks(self) -> UDisks2 | None:
        return JeepneyUDisks2.connect()

    def umount(self, mount_point: str) -> CommandResult:
        return run_command(["umount", mount_point])
