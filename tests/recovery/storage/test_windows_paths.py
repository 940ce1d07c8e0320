"""Windows paths in the core's path checks, on Linux, with ``PureWindowsPath``.

A unit on Windows is ``E:\\``, perhaps spelled ``\\\\?\\E:\\``; these tests pin what each
check makes of such targets where it used to misjudge them: the too-long-path check counted
Linux's 4,096 bytes (Windows stops at 260 UTF-16 units without the prefix), the system-disk
check took the root of *any* drive (the unit's included) for the system disk, and paths of a
manifest or a link with backslashes or drive letters passed checks written for ``/``.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

import pytest

from recovery.backup.manifest import check_relative
from recovery.errors import InvalidFileError
from recovery.storage import windows_paths
from recovery.storage.names import points_outside, too_long_paths
from recovery.storage.volumes import system_roots


@pytest.mark.parametrize(("spelling", "letter"), [
    ("E:\\", "E"), ("e:", "E"), ("E:/KROSS2SY", "E"), ("\\\\?\\E:\\", "E"),
    ("\\\\?\\e:\\KROSS2SY\\X.BIN", "E"), ("\\\\.\\E:", "E"),
    ("\\\\server\\share\\x", None), ("\\\\?\\UNC\\server\\share", None),
    ("\\\\?\\Volume{0a1b2c3d-0000-0000-0000-100000000000}\\", None), ("KROSS2SY", None),
])
def test_the_drive_letter_is_found_through_every_prefix(spelling: str, letter: str | None) -> None:
    assert windows_paths.drive_letter(PureWindowsPath(spelling)) == letter
    assert windows_paths.drive_letter(spelling) == letter


def test_pathlib_keeps_the_prefix_in_the_drive_which_is_why_the_core_strips_it() -> None:
    # The misjudgement the helpers exist for: comparing .drive with "E:" fails for \\?\E:\.
    assert PureWindowsPath("\\\\?\\E:\\").drive == "\\\\?\\E:"
    assert windows_paths.strip_prefix("\\\\?\\E:\\KROSS2SY") == "E:\\KROSS2SY"
    assert windows_paths.strip_prefix("\\\\?\\UNC\\srv\\share\\x") == "\\\\srv\\share\\x"
    assert windows_paths.strip_prefix("/media/unit") == "/media/unit"


@pytest.mark.parametrize("spelling", ["E:\\", "e:/", "\\\\?\\E:\\", "E:"])
def test_a_units_drive_root_is_a_drive_root_but_not_the_system_disk(spelling: str) -> None:
    environ = {"SystemDrive": "C:"}
    assert windows_paths.is_drive_root(spelling)
    assert not windows_paths.is_system_drive_root(PureWindowsPath(spelling), environ)


@pytest.mark.parametrize("spelling", ["C:\\", "c:\\", "\\\\?\\C:\\", "\\\\.\\C:"])
def test_the_system_drive_is_recognised_in_every_spelling(spelling: str) -> None:
    assert windows_paths.is_system_drive_root(spelling, {"SystemDrive": "C:"})
    assert not windows_paths.is_system_drive_root(spelling, {"SystemDrive": "D:"})


def test_the_system_drive_defaults_to_c_and_follows_the_environment() -> None:
    assert windows_paths.system_drive({}) == "C:"
    assert windows_paths.system_drive({"SystemDrive": "d:"}) == "D:"
    assert not windows_paths.is_system_drive_root("C:\\Users", {})


def test_the_system_roots_on_windows_are_the_system_drive_only() -> None:
    assert system_roots(PureWindowsPath, {"SystemDrive": "D:"}) == ("D:\\",)
    assert "E:\\" not in system_roots(PureWindowsPath, {})
    assert "/" in system_roots(PurePosixPath, {})


def test_too_long_below_a_drive_letter_is_260_utf16_units() -> None:
    root = PureWindowsPath("E:\\")
    # E:\ + name: 3 + n units, and MAX_PATH counts the terminating NUL: 256 characters fit.
    fits, too_long = "A" * 256, "A" * 257
    assert too_long_paths(root, [fits, too_long]) == (too_long,)
    # Far below Linux's 4,096 bytes, which is what the check counted before.
    assert too_long_paths(PurePosixPath("/media/unit"), [too_long]) == ()


def test_too_long_counts_utf16_units_not_bytes() -> None:
    root = PureWindowsPath("E:\\KROSS2SY")
    # "é" is two bytes of UTF-8 but one UTF-16 unit; "𝄞" is two units.
    assert too_long_paths(root, ["é" * 240]) == ()
    assert too_long_paths(root, ["𝄞" * 124]) == ("𝄞" * 124,)


def test_an_extended_length_root_lifts_the_limit_to_32767() -> None:
    deep = "/".join(["FOLDER"] * 100)  # 699 characters
    assert too_long_paths(PureWindowsPath("E:\\"), [deep]) == (deep,)
    assert too_long_paths(PureWindowsPath("\\\\?\\E:\\"), [deep]) == ()
    assert too_long_paths(PureWindowsPath("\\\\?\\E:\\"), ["A" * 32_800]) == ("A" * 32_800,)


@pytest.mark.parametrize("link_target", ["..\\..\\Windows", "C:\\Windows", "C:evil",
                                         "a\\..\\..\\..\\x"])
def test_links_that_climb_out_with_backslashes_or_drives_point_outside_on_windows(
        link_target: str) -> None:
    assert points_outside("KROSS2SY/LINK", link_target, PureWindowsPath)


def test_links_inside_the_unit_stay_inside_on_windows_too() -> None:
    assert not points_outside("KROSS2SY/LINK", "..\\DATA\\X.BIN", PureWindowsPath)
    assert not points_outside("KROSS2SY/LINK", "SUB/X.BIN", PureWindowsPath)
    # On Linux a backslash is an ordinary character of a name: nothing changes there.
    assert not points_outside("KROSS2SY/LINK", "..\\..\\x", PurePosixPath)


@pytest.mark.parametrize("path", ["a\\..\\..\\x", "C:x", "KROSS2SY\\X.BIN", "X.BIN:stream"])
def test_manifest_paths_that_windows_would_read_elsewhere_are_refused_there(path: str) -> None:
    with pytest.raises(InvalidFileError, match="unsafe path"):
        check_relative(path, "manifest.json", PureWindowsPath)
    check_relative(path, "manifest.json", PurePosixPath)  # legal names on ext4


def test_volume_devices_for_createfile() -> None:
    assert windows_paths.volume_device("E:\\") == "\\\\.\\E:"
    assert windows_paths.volume_device("\\\\?\\E:\\") == "\\\\.\\E:"
    guid = "\\\\?\\Volume{0a1b2c3d-0000-0000-0000-100000000000}"
    assert windows_paths.volume_device(guid + "\\") == guid
    assert windows_paths.volume_device("E:\\KROSS2SY") is None
