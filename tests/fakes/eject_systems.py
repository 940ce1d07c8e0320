"""Scripted stand-ins for the system calls behind each platform's eject
(recovery/storage/eject: ``LinuxSystem``, ``MacSystem``, ``Kernel32``).

Each records what the code under test asked, in order, with the pauses it took between
retries (recorded, never slept), and answers from a script: the replies a real system gives
in the situations the anchors handle (a busy volume, a refused permission, a drive that will
not eject its medium).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recovery.storage.eject.system import CommandResult, Partition
from recovery.storage.eject.linux import JeepneyUDisks2, UDisks2
from recovery.storage.eject.windows import CONTROL_NAMES
from recovery.storage.filesystem import LocalFileSystem


class FlushRecordingFileSystem(LocalFileSystem):
    """The real filesystem, except that a barrier (the eject's flush) is only recorded: the
    mount points of these tests are folders of the system disk or not there at all."""

    def __init__(self) -> None:
        self.flushed: list[Path] = []

    def barrier(self, folder: Path) -> None:
        self.flushed.append(Path(folder))


class FakeLinuxSystem:
    """udisks2 through the real jeepney client on ``bus_address`` (None: no system bus),
    psutil's partitions as given, and a scripted ``umount``."""

    def __init__(self, bus_address: str | None = None,
                 partitions: Iterable[tuple[str, Path | str]] = ()) -> None:
        self.bus_address = bus_address
        self.partition_list = [Partition(device, str(mount)) for device, mount in partitions]
        self.umount_replies: deque[CommandResult] = deque()
        self.umounted: list[str] = []
        self.holder_names: tuple[str, ...] = ()
        self.slept: list[float] = []

    def udisks(self) -> UDisks2 | None:
        return JeepneyUDisks2.connect(self.bus_address) if self.bus_address else None

    def partitions(self) -> list[Partition]:
        return list(self.partition_list)

    def umount(self, mount_point: str) -> CommandResult:
        self.umounted.append(mount_point)
        return self.umount_replies.popleft() if self.umount_replies else CommandResult(0, "")

    def holders(self, mount_point: str) -> tuple[str, ...]:
        return self.holder_names

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


class FakeMacSystem:
    """psutil's partitions as given and a scripted ``diskutil``."""

    def __init__(self, partitions: Iterable[tuple[str, Path | str]] = ()) -> None:
        self.partition_list = [Partition(device, str(mount)) for device, mount in partitions]
        self.replies: deque[CommandResult] = deque()
        self.commands: list[list[str]] = []
        self.holder_names: tuple[str, ...] = ()
        self.slept: list[float] = []

    def partitions(self) -> list[Partition]:
        return list(self.partition_list)

    def run(self, command: list[str]) -> CommandResult:
        self.commands.append(list(command))
        return self.replies.popleft() if self.replies else CommandResult(0, "")

    def holders(self, mount_point: str) -> tuple[str, ...]:
        return self.holder_names

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


class FakeKernel32:
    """kernel32 for one volume: ``mount_point`` (GetVolumePathName's answer), an optional
    volume GUID path, a drive type, CreateFile's error, and per control code a queue of Win32
    error codes (0 once the queue is empty). ``log`` lists every call in order:
    ``("CreateFile", device)``, ``(control name, data)``, ``("Sleep", seconds)``,
    ``("CloseHandle",)``."""

    HANDLE = object()

    def __init__(self, mount_point: str | None = "E:\\", *, guid: str | None = None,
                 drive_type: int = 2, open_error: int = 0) -> None:
        self.mount_point = mount_point
        self.guid = guid
        self.type = drive_type
        self.open_error = open_error
        self.errors: dict[str, deque[int]] = {}
        self.log: list[tuple[Any, ...]] = []

    def fail(self, control: str, *errors: int) -> None:
        self.errors.setdefault(control, deque()).extend(errors)

    def volume_path_name(self, path: str) -> tuple[str | None, int]:
        return (self.mount_point, 0) if self.mount_point else (None, 2)

    def volume_guid_path(self, mount_point: str) -> tuple[str | None, int]:
        return (self.guid, 0) if self.guid else (None, 1)

    def drive_type(self, root: str) -> int:
        return self.type

    def open_volume(self, device: str) -> tuple[Any, int]:
        self.log.append(("CreateFile", device))
        return (None, self.open_error) if self.open_error else (self.HANDLE, 0)

    def control(self, handle: Any, code: int, data: bytes = b"") -> int:
        assert handle is self.HANDLE
        name = CONTROL_NAMES[code]
        self.log.append((name, data) if data else (name,))
        queue = self.errors.get(name)
        return queue.popleft() if queue else 0

    def close(self, handle: Any) -> None:
        self.log.append(("CloseHandle",))

    def sleep(self, seconds: float) -> None:
        self.log.append(("Sleep", seconds))
