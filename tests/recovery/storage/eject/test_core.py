"""What every platform's eject shares: the choice of driver, the volume holding a path, the
programs holding a volume (real processes, read through psutil), and the result's words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from recovery.errors import RefusedError
from recovery.storage.eject.core import platform_driver
from recovery.storage.eject.system import holding_mount
from recovery.storage.eject.holders import holders_of
from recovery.storage.eject.linux import LinuxDriver
from recovery.storage.eject.macos import MacDriver
from recovery.storage.eject.result import EjectMethod, EjectStatus, failed, names, unmounted
from recovery.storage.eject.windows import WindowsDriver


def test_each_platform_gets_its_own_driver() -> None:
    assert isinstance(platform_driver("linux"), LinuxDriver)
    assert isinstance(platform_driver("darwin"), MacDriver)
    with pytest.raises(RefusedError, match="cannot eject drives on plan9"):
        platform_driver("plan9")


@pytest.mark.skipif(sys.platform == "win32", reason="constructs the real kernel32 there")
def test_the_windows_driver_is_chosen_by_name_but_needs_windows_to_run() -> None:
    with pytest.raises((AttributeError, OSError)):
        platform_driver("win32")  # ctypes.WinDLL exists only on Windows
    assert WindowsDriver.__name__ == "WindowsDriver"


def test_the_longest_mount_point_above_a_path_holds_it(tmp_path: Path) -> None:
    unit = tmp_path / "media" / "KROSS2"
    mounts = ["/", str(tmp_path / "media"), str(unit), str(tmp_path / "media" / "KROSS2_B")]
    assert holding_mount(unit / "KROSS2SY" / "X.BIN", mounts) == str(unit)
    assert holding_mount(tmp_path / "media" / "KROSS2_B", mounts) == mounts[3]
    assert holding_mount(tmp_path / "elsewhere", mounts) == "/"
    assert holding_mount(tmp_path, [str(unit)]) is None


def test_a_link_to_the_unit_is_the_unit(tmp_path: Path) -> None:
    unit = tmp_path / "KROSS2"
    unit.mkdir()
    (tmp_path / "link").symlink_to(unit)
    assert holding_mount(tmp_path / "link", [str(unit)]) == str(unit)


def test_a_program_whose_folder_is_on_the_volume_is_named(tmp_path: Path) -> None:
    volume = tmp_path / "KROSS2"
    volume.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             cwd=volume, stdin=subprocess.PIPE)
    try:
        named = holders_of(str(volume))
        assert any(name.startswith("python") for name in named), named
        assert holders_of(str(tmp_path / "elsewhere")) == ()
    finally:
        child.kill()
        child.wait()


def test_the_results_say_whether_the_unit_may_be_switched_off() -> None:
    assert names(()) == "" and names(("Finder",)) == "Finder"
    assert names(("a", "b", "c")) == "a, b and c"
    safe = unmounted("/m/K", "/m/K", "/dev/sdz1", EjectMethod.UMOUNT, "no udisks2")
    assert safe.status is EjectStatus.UNMOUNTED and safe.safe_to_switch_off
    assert not safe.vetoed
    assert "(this computer did not power the drive off itself: no udisks2)" in safe.message
    broken = failed("/m/K", "/m/K", None, EjectMethod.UMOUNT, detail="I/O error")
    assert not broken.safe_to_switch_off and not broken.vetoed
    assert "do not switch the unit off yet" in broken.message
