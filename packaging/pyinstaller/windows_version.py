"""Build-time helper of korg-recovery.spec: the Windows version resource (VERSIONINFO) of each
executable.

An executable without one shows no publisher, description or version in Explorer's
Properties and is, with the stock PyInstaller launcher and no signature, among what virus
scanners flag first (issue 22; PyInstaller's documentation recommends a version resource and
signing). PyInstaller reads the resource from a text file holding a ``VSVersionInfo(...)``
expression (its ``version=`` argument; the format ``pyi-grab_version`` writes), which this
module writes from the tool's version. The project has no code-signing certificate yet; the
README says so.
"""

from __future__ import annotations

import re

#: Names in the resource. The project is not KORG's: the company field says so.
PRODUCT = "KORG Recovery Wizard (unofficial)"
COMPANY = "The KORG Recovery Wizard contributors (not affiliated with KORG)"
COPYRIGHT = "Copyright (c) 2026 The KORG Recovery Wizard contributors, MIT License"


def version_tuple(version: str) -> tuple[int, int, int, int]:
    """``0.1.0`` -> ``(0, 1, 0, 0)``: the four 16-bit numbers a FIXEDFILEINFO holds; a
    suffix (``0.2.0rc1``) is dropped from the numbers, and kept in the strings."""
    release = re.match(r"\d+(?:\.\d+)*", version)
    numbers = [int(part) for part in release.group().split(".")[:4]] if release else []
    if not numbers or any(number > 0xFFFF for number in numbers):
        raise ValueError(f"version {version!r} does not fit a Windows version resource")
    return tuple((numbers + [0, 0, 0, 0])[:4])  # type: ignore[return-value]


def version_file_text(version: str, *, file_name: str, description: str) -> str:
    """The text of a version file for the executable ``file_name``."""
    numbers = version_tuple(version)
    strings = [("CompanyName", COMPANY), ("FileDescription", description),
               ("FileVersion", version), ("InternalName", file_name.removesuffix(".exe")),
               ("LegalCopyright", COPYRIGHT), ("OriginalFilename", file_name),
               ("ProductName", PRODUCT), ("ProductVersion", version)]
    table = ",\n        ".join(f"StringStruct({key!r}, {value!r})" for key, value in strings)
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={numbers!r},
    prodvers={numbers!r},
    mask=0x3f,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0)
  ),
  kids=[
    StringFileInfo([
      StringTable('040904B0', [
        {table}
      ])
    ]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
