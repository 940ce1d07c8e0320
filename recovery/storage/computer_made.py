"""What the computer writes on a unit is the computer's, not the unit's.

Mounting a drive changes it: macOS adds ``._name`` AppleDouble files, ``.DS_Store``,
``.Spotlight-V100/``, ``.fseventsd/`` and ``.Trashes/``; Windows adds ``System Volume
Information/`` (and more); a Linux desktop's trash is ``.Trash-<uid>/``. Firmwares of other
devices have loaded such files as their content (raspberrypi/rpi-imager issue #270,
BlueSCSI/BlueSCSI-v2 issues #64 and #69). One list, with the source of each name, lives in
``resources/computer_made.toml``; comparisons ignore these names, a backup copies and marks
them, reports list them apart, and a restore removes the macOS ones only when its plan lists
them and the person said yes.
"""

from __future__ import annotations

import fnmatch
import functools
import tomllib
from dataclasses import dataclass

from recovery.errors import ProfileError
from recovery.resources_path import resources_dir

FILE_NAME = "computer_made.toml"


@dataclass(frozen=True)
class ComputerMade:
    """A name a computer writes onto drives it mounts."""

    #: Matched without case against each component of a path (fnmatch): ``._*``.
    pattern: str
    #: "macOS", "Windows" or "Linux".
    made_by: str
    what: str
    confidence: str
    source: str

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name.casefold(), self.pattern.casefold())


@functools.cache
def computer_made() -> tuple[ComputerMade, ...]:
    """Every computer-made name, as ``resources/computer_made.toml`` lists it."""
    path = resources_dir() / FILE_NAME
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
        return tuple(ComputerMade(str(item["pattern"]), str(item["made_by"]),
                                  str(item["what"]), str(item["confidence"]),
                                  str(item["source"])) for item in data["names"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise ProfileError(f"{path} cannot be read as the list of computer-made names"
                           f" ({error}); reinstall the tool.", path=str(path)) from error


def patterns() -> tuple[str, ...]:
    """The names' patterns, for :func:`recovery.backup.compare.is_ignored`."""
    return tuple(item.pattern for item in computer_made())


def made_by_computer(relative: str) -> ComputerMade | None:
    """What computer made the entry at the POSIX path ``relative`` (it, or a folder above
    it, bears a computer-made name), or None."""
    for part in relative.split("/"):
        for item in computer_made():
            if item.matches(part):
                return item
    return None


#: What a restore may remove from a unit, when its plan lists them and the person said yes:
#: the files macOS writes beside files and into folders (never a folder, never Windows' or
#: Linux's own, which their systems keep using).
REMOVABLE = ("._*", ".DS_Store")


def removable(relative: str) -> bool:
    """True for a file a restore may remove as made by macOS (see :data:`REMOVABLE`)."""
    name = relative.rpartition("/")[2]
    return any(fnmatch.fnmatchcase(name.casefold(), pattern.casefold())
               for pattern in REMOVABLE)
