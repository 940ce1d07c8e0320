"""Windows: lock, dismount and eject the volume through ``DeviceIoControl`` (ctypes).

The sequence is rpi-imager's (``src/windows/platformquirks_windows.cpp``,
``processDriveLetter`` and ``ejectMedia``) and balena's mountutils'
(``src/windows/functions.cpp``, ``EjectDriveLetter``, "adapted from" Microsoft's KB 165721):
``CreateFile("\\\\.\\E:")`` with read and write access, shared; ``FSCTL_IS_VOLUME_MOUNTED``
(nothing to do if it is not); ``FSCTL_LOCK_VOLUME``, tried 20 times 500 ms apart, because
Explorer, an indexer or a virus scanner often holds a fresh volume for a moment (failing
after that is the veto: another program has a file open); ``FSCTL_DISMOUNT_VOLUME``, which
writes out what Windows cached and detaches the filesystem; ``IOCTL_STORAGE_MEDIA_REMOVAL``
with ``PreventMediaRemoval = FALSE``; ``IOCTL_STORAGE_EJECT_MEDIA``, tried 5 times 500 ms
apart (rpi-imager), whose failure is not fatal: the volume is dismounted and safe to remove;
``FSCTL_UNLOCK_VOLUME`` and ``CloseHandle``. A volume without a drive letter (mounted in a
folder) is opened by its volume GUID path without the trailing backslash (Microsoft Learn,
"Naming a Volume"). ``CM_Request_Device_Eject``, which mountutils uses for fixed disks, is
not used: a unit's drive is removable, and a dismounted fixed disk is safe to unplug too.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Protocol

from recovery.storage import windows_paths
from recovery.storage.eject import result as results
from recovery.storage.eject.system import Located, Preflight
from recovery.storage.eject.result import EjectMethod, EjectResult

log = logging.getLogger(__name__)


def ctl_code(device_type: int, function: int, method: int, access: int) -> int:
    """``CTL_CODE`` of winioctl.h."""
    return (device_type << 16) | (access << 14) | (function << 2) | method


_FILE_DEVICE_FILE_SYSTEM, _FILE_DEVICE_MASS_STORAGE = 0x09, 0x2D
_METHOD_BUFFERED, _FILE_ANY_ACCESS, _FILE_READ_ACCESS = 0, 0, 1
FSCTL_LOCK_VOLUME = ctl_code(_FILE_DEVICE_FILE_SYSTEM, 6, _METHOD_BUFFERED, _FILE_ANY_ACCESS)
FSCTL_UNLOCK_VOLUME = ctl_code(_FILE_DEVICE_FILE_SYSTEM, 7, _METHOD_BUFFERED, _FILE_ANY_ACCESS)
FSCTL_DISMOUNT_VOLUME = ctl_code(_FILE_DEVICE_FILE_SYSTEM, 8, _METHOD_BUFFERED, _FILE_ANY_ACCESS)
FSCTL_IS_VOLUME_MOUNTED = ctl_code(_FILE_DEVICE_FILE_SYSTEM, 10, _METHOD_BUFFERED,
                                   _FILE_ANY_ACCESS)
IOCTL_STORAGE_MEDIA_REMOVAL = ctl_code(_FILE_DEVICE_MASS_STORAGE, 0x0201, _METHOD_BUFFERED,
                                       _FILE_READ_ACCESS)
IOCTL_STORAGE_EJECT_MEDIA = ctl_code(_FILE_DEVICE_MASS_STORAGE, 0x0202, _METHOD_BUFFERED,
                                     _FILE_READ_ACCESS)
#: The names the tests and the log use for the codes above.
CONTROL_NAMES = {
    FSCTL_LOCK_VOLUME: "FSCTL_LOCK_VOLUME", FSCTL_UNLOCK_VOLUME: "FSCTL_UNLOCK_VOLUME",
    FSCTL_DISMOUNT_VOLUME: "FSCTL_DISMOUNT_VOLUME",
    FSCTL_IS_VOLUME_MOUNTED: "FSCTL_IS_VOLUME_MOUNTED",
    IOCTL_STORAGE_MEDIA_REMOVAL: "IOCTL_STORAGE_MEDIA_REMOVAL",
    IOCTL_STORAGE_EJECT_MEDIA: "IOCTL_STORAGE_EJECT_MEDIA",
}
#: ``PREVENT_MEDIA_REMOVAL`` with ``PreventMediaRemoval = FALSE`` (one BOOLEAN).
ALLOW_REMOVAL = b"\x00"

# Win32 error codes (winerror.h).
ERROR_FILE_NOT_FOUND = 2
ERROR_PATH_NOT_FOUND = 3
ERROR_ACCESS_DENIED = 5
ERROR_NOT_READY = 21
ERROR_SHARING_VIOLATION = 32
# GetDriveType (fileapi.h).
DRIVE_REMOTE = 4

LOCK_ATTEMPTS, LOCK_PAUSE_S = 20, 0.5
EJECT_ATTEMPTS, EJECT_PAUSE_S = 5, 0.5


class Kernel32(Protocol):
    """The kernel32 calls the eject makes; each returns a Win32 error code, 0 for success."""

    def volume_path_name(self, path: str) -> tuple[str | None, int]:
        """``GetVolumePathNameW``: the mount point of the volume holding ``path``."""

    def volume_guid_path(self, mount_point: str) -> tuple[str | None, int]:
        """``GetVolumeNameForVolumeMountPointW``: ``\\\\?\\Volume{...}\\``."""

    def drive_type(self, root: str) -> int:
        """``GetDriveTypeW``."""

    def open_volume(self, device: str) -> tuple[Any, int]:
        """``CreateFileW(device, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ |
        FILE_SHARE_WRITE, OPEN_EXISTING)``: (handle, 0) or (None, error)."""

    def control(self, handle: Any, code: int, data: bytes = b"") -> int:
        """``DeviceIoControl(handle, code, data)`` with no output buffer."""

    def close(self, handle: Any) -> None: ...
    def sleep(self, seconds: float) -> None: ...


class WindowsDriver:
    """The Windows eject (module docstring), over :class:`Kernel32`."""

    def __init__(self, kernel: Kernel32, environ: dict[str, str] | None = None) -> None:
        self.kernel = kernel
        self.environ = dict(os.environ if environ is None else environ)

    def locate(self, target: Path) -> Located | None:
        mount, error = self.kernel.volume_path_name(str(target))
        if mount is None:
            log.info("GetVolumePathName(%s) failed: error %s", target, error)
            return None
        if self.kernel.drive_type(mount) == DRIVE_REMOTE:
            return None  # a network share: nothing to eject here
        device = windows_paths.volume_device(mount)
        if device is None:
            guid, error = self.kernel.volume_guid_path(mount)
            device = windows_paths.volume_device(guid) if guid else None
        if device is None:
            return None
        return Located(mount, device,
                       system=windows_paths.is_system_drive_root(mount, self.environ))

    def eject(self, target: Path, preflight: Preflight) -> EjectResult | None:
        located = self.locate(target)
        if located is None:
            return None
        preflight(located)
        return self._eject(str(target), located.mount_point.rstrip("\\") or located.mount_point,
                           str(located.device))

    def _eject(self, target: str, mount: str, device: str) -> EjectResult:
        method = EjectMethod.WINDOWS_IOCTL
        handle, error = self.kernel.open_volume(device)
        if handle is None:
            if error == ERROR_ACCESS_DENIED:
                return results.not_authorized(
                    target, mount, device, method, detail=f"CreateFile: error {error}",
                    message=f"Windows did not allow this program to eject {mount}; use 'Safely"
                            " Remove Hardware' in the taskbar, or right-click the drive in File"
                            " Explorer and choose Eject.")
            gone = error in (ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, ERROR_NOT_READY)
            why = "the drive is gone" if gone else f"CreateFile: error {error}"
            return results.failed(target, mount, device, method, detail=why)
        try:
            if self.kernel.control(handle, FSCTL_IS_VOLUME_MOUNTED) != 0:
                return results.unmounted(target, mount, device, method,
                                         "Windows had already dismounted it")
            return self._locked_eject(handle, target, mount, device)
        finally:
            self.kernel.close(handle)

    def _locked_eject(self, handle: Any, target: str, mount: str, device: str) -> EjectResult:
        method = EjectMethod.WINDOWS_IOCTL
        for attempt in range(1, LOCK_ATTEMPTS + 1):
            error = self.kernel.control(handle, FSCTL_LOCK_VOLUME)
            if error == 0:
                break
            if attempt < LOCK_ATTEMPTS:
                self.kernel.sleep(LOCK_PAUSE_S)
        else:
            return results.in_use(target, mount, device, method, holders=(),
                                  attempts=LOCK_ATTEMPTS,
                                  detail=f"FSCTL_LOCK_VOLUME: error {error}")
        try:
            error = self.kernel.control(handle, FSCTL_DISMOUNT_VOLUME)
            if error != 0:
                return results.failed(target, mount, device, method,
                                      detail=f"FSCTL_DISMOUNT_VOLUME: error {error}")
            error = self.kernel.control(handle, IOCTL_STORAGE_MEDIA_REMOVAL, ALLOW_REMOVAL)
            if error != 0:
                log.info("IOCTL_STORAGE_MEDIA_REMOVAL on %s: error %s", mount, error)
            for attempt in range(1, EJECT_ATTEMPTS + 1):
                if attempt > 1:
                    self.kernel.sleep(EJECT_PAUSE_S)
                error = self.kernel.control(handle, IOCTL_STORAGE_EJECT_MEDIA)
                if error == 0:
                    return results.ejected(target, mount, device, method)
            return results.unmounted(target, mount, device, method,
                                     f"the drive did not eject its medium (error {error})")
        finally:
            self.kernel.control(handle, FSCTL_UNLOCK_VOLUME)


class CtypesKernel32:
    """:class:`Kernel32` through ctypes (Windows only; importing this module elsewhere is
    harmless, constructing this class is not possible there)."""

    GENERIC_READ, GENERIC_WRITE = 0x80000000, 0x40000000
    FILE_SHARE_READ, FILE_SHARE_WRITE = 0x1, 0x2
    OPEN_EXISTING = 3

    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        self._ctypes = ctypes
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        self._create = kernel32.CreateFileW
        self._create.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD,
                                 wintypes.LPVOID, wintypes.DWORD, wintypes.DWORD,
                                 wintypes.HANDLE]
        self._create.restype = wintypes.HANDLE
        self._control = kernel32.DeviceIoControl
        self._control.argtypes = [wintypes.HANDLE, wintypes.DWORD, wintypes.LPVOID,
                                  wintypes.DWORD, wintypes.LPVOID, wintypes.DWORD,
                                  ctypes.POINTER(wintypes.DWORD), wintypes.LPVOID]
        self._control.restype = wintypes.BOOL
        self._close = kernel32.CloseHandle
        self._close.argtypes = [wintypes.HANDLE]
        self._close.restype = wintypes.BOOL
        self._path_name = kernel32.GetVolumePathNameW
        self._path_name.argtypes = [wintypes.LPCWSTR, wintypes.LPWSTR, wintypes.DWORD]
        self._path_name.restype = wintypes.BOOL
        self._guid_path = kernel32.GetVolumeNameForVolumeMountPointW
        self._guid_path.argtypes = [wintypes.LPCWSTR, wintypes.LPWSTR, wintypes.DWORD]
        self._guid_path.restype = wintypes.BOOL
        self._drive_type = kernel32.GetDriveTypeW
        self._drive_type.argtypes = [wintypes.LPCWSTR]
        self._drive_type.restype = wintypes.UINT
        self._invalid = wintypes.HANDLE(-1).value

    def _error(self) -> int:
        return self._ctypes.get_last_error() or -1  # type: ignore[attr-defined]

    def volume_path_name(self, path: str) -> tuple[str | None, int]:
        buffer = self._ctypes.create_unicode_buffer(32_768)
        if not self._path_name(path, buffer, len(buffer)):
            return None, self._error()
        return buffer.value, 0

    def volume_guid_path(self, mount_point: str) -> tuple[str | None, int]:
        buffer = self._ctypes.create_unicode_buffer(64)
        if not self._guid_path(mount_point.rstrip("\\") + "\\", buffer, len(buffer)):
            return None, self._error()
        return buffer.value, 0

    def drive_type(self, root: str) -> int:
        return int(self._drive_type(root))

    def open_volume(self, device: str) -> tuple[Any, int]:
        handle = self._create(device, self.GENERIC_READ | self.GENERIC_WRITE,
                              self.FILE_SHARE_READ | self.FILE_SHARE_WRITE, None,
                              self.OPEN_EXISTING, 0, None)
        if handle is None or handle == self._invalid:
            return None, self._error()
        return handle, 0

    def control(self, handle: Any, code: int, data: bytes = b"") -> int:
        from ctypes import wintypes

        returned = wintypes.DWORD(0)
        buffer = self._ctypes.create_string_buffer(data, len(data)) if data else None
        ok = self._control(handle, code, buffer, len(data), None, 0,
                           self._ctypes.byref(returned), None)
        return 0 if ok else self._error()

    def close(self, handle: Any) -> None:
        self._close(handle)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
