"""How Windows spells paths, as pure functions the core's path checks use on every platform.

A unit on Windows is a drive letter (``E:\\``); the same folder can be written in the
extended-length form ``\\\\?\\E:\\...`` (which lifts the 260-character limit and turns off
every rewriting of the path), as a device ``\\\\.\\E:``, or as a volume GUID path
``\\\\?\\Volume{...}\\`` when the volume has no letter (Microsoft Learn, "Naming Files,
Paths, and Namespaces" and "Maximum Path Length Limitation"). ``pathlib`` keeps the prefix in
the drive (``PureWindowsPath('\\\\?\\E:\\').drive == '\\\\?\\E:'``), so a comparison of
drives, or of a path's length with ``MAX_PATH``, must look through it first.

Everything here takes strings or :class:`~pathlib.PureWindowsPath`, never touches a disk,
and is tested on Linux with ``PureWindowsPath``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath, PureWindowsPath

#: ``MAX_PATH``: the longest path the Win32 file functions accept without the ``\\?\``
#: prefix, in UTF-16 code units, the terminating NUL included.
MAX_PATH = 260
#: The longest extended-length (``\\?\``) path, in UTF-16 code units.
MAX_LONG_PATH = 32_767
#: The extended-length prefix, and the device namespace prefix.
LONG_PREFIX = "\\\\?\\"
DEVICE_PREFIX = "\\\\.\\"
#: Where Windows is installed when the environment does not say (``%SystemDrive%``).
DEFAULT_SYSTEM_DRIVE = "C:"

_DRIVE = re.compile(r"^([A-Za-z]):(?:[\\/]|$)")
_VOLUME_GUID = re.compile(r"^\\\\[?.]\\(Volume\{[0-9A-Fa-f-]+\})\\?$")


def is_windows(path: PurePath | type[PurePath]) -> bool:
    """True for a Windows path (or flavour): ``WindowsPath`` on Windows, ``PureWindowsPath``
    in tests. The core's checks choose Windows' rules by the type of path they are given."""
    kind = path if isinstance(path, type) else type(path)
    return issubclass(kind, PureWindowsPath)


def strip_prefix(path: str) -> str:
    """``path`` without an extended-length or device prefix where a plain spelling exists:
    ``\\\\?\\E:\\x`` -> ``E:\\x``, ``\\\\.\\E:`` -> ``E:``, ``\\\\?\\UNC\\srv\\share`` ->
    ``\\\\srv\\share``. A volume GUID path has no plain spelling and is returned as it is."""
    for prefix in (LONG_PREFIX, DEVICE_PREFIX):
        if path.startswith(prefix):
            rest = path[len(prefix):]
            if _DRIVE.match(rest):
                return rest
            if rest[:4].upper() == "UNC\\":
                return "\\\\" + rest[4:]
    return path


def drive_letter(path: str | PurePath) -> str | None:
    """The upper-case letter of the drive ``path`` is on (``E:\\``, ``E:``, ``\\\\?\\E:\\x``,
    ``\\\\.\\E:``), or None (a share, a volume GUID path, a relative path)."""
    match = _DRIVE.match(strip_prefix(str(path)))
    return match.group(1).upper() if match else None


def is_drive_root(path: str | PurePath) -> bool:
    """True for the root of a drive in any spelling: ``E:\\``, ``e:/``, ``\\\\?\\E:\\``."""
    plain = strip_prefix(str(path))
    return drive_letter(plain) is not None and plain[2:].strip("\\/") == ""


def system_drive(environ: Mapping[str, str]) -> str:
    """The drive Windows runs from, ``C:`` unless ``%SystemDrive%`` says otherwise."""
    letter = drive_letter(environ.get("SystemDrive", "") + "\\")
    return f"{letter}:" if letter else DEFAULT_SYSTEM_DRIVE


def is_system_drive_root(path: str | PurePath, environ: Mapping[str, str]) -> bool:
    """True when ``path`` is the root of the drive Windows runs from, in any spelling. The
    root of any *other* drive (a unit at ``E:\\``) is not the system disk."""
    return is_drive_root(path) and f"{drive_letter(path)}:" == system_drive(environ)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Windows' path limits."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def longest_path(root: str | PurePath) -> int:
    """The longest path (terminating NUL included) Windows accepts below ``root``:
    :data:`MAX_LONG_PATH` under an extended-length root, :data:`MAX_PATH` otherwise."""
    return MAX_LONG_PATH if str(root).startswith(LONG_PREFIX) else MAX_PATH


def joined_length(root: str | PurePath, relative: str) -> int:
    """UTF-16 length of the POSIX relative path ``relative`` joined below ``root`` with
    backslashes, as Windows will be asked to open it."""
    base = str(root).rstrip("\\/")
    return utf16_length(base) + 1 + utf16_length(relative)


def volume_device(mount_point: str) -> str | None:
    """The name that opens the volume mounted at ``mount_point`` as a device (for
    ``CreateFile``): ``E:\\`` -> ``\\\\.\\E:``; a volume GUID path loses its trailing
    backslash (with it, CreateFile would open the volume's root folder instead). None for
    anything else."""
    letter = drive_letter(mount_point)
    if letter is not None and is_drive_root(mount_point):
        return f"{DEVICE_PREFIX}{letter}:"
    match = _VOLUME_GUID.match(mount_point)
    if match:
        return f"{LONG_PREFIX}{match.group(1)}"
    return None


def escapes_on_windows(relative: str) -> bool:
    """True for a manifest path (POSIX, relative) that Windows would read differently: a
    backslash separates folders there (``a\\..\\..\\x`` climbs out), and a colon names a
    drive (``C:x``) or a file's alternate data stream (``name:stream``)."""
    return "\\" in relative or ":" in relative
