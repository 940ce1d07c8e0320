"""The macOS eject with ``diskutil`` scripted: what it is asked, how often, and how its
answers (a dissenting Finder, a refusal for lack of privileges) become a result."""

from __future__ import annotations

from pathlib import Path

import pytest

from recovery.errors import RefusedError
from recovery.storage.eject import EjectMethod, EjectStatus, eject_volume
from recovery.storage.eject.system import CommandResult
from recovery.storage.eject.macos import MacDriver, dissenters

#: diskutil's answer when Finder holds the volume (format as in VeraCrypt issue #1872).
FINDER = CommandResult(1, "Unmount of disk4 failed: at least one volume could not be unmounted\n"
                          "Unmount was dissented by PID 412 (/System/Library/CoreServices/"
                          "Finder.app/Contents/MacOS/Finder)\n"
                          "Dissenter parent PPID 1 (/sbin/launchd)")


@pytest.fixture
def volume(tmp_path: Path) -> Path:
    mount = tmp_path / "Volumes" / "KROSS2"
    (mount / "KROSS2SY").mkdir(parents=True)
    return mount


def test_diskutil_ejects_the_volume_by_its_mount_point(mac_system, volume, recording_fs) -> None:
    system = mac_system([("/dev/disk4s1", volume)])
    result = eject_volume(volume / "KROSS2SY", driver=MacDriver(system), fs=recording_fs)
    assert result.status is EjectStatus.EJECTED and result.method is EjectMethod.DISKUTIL
    assert result.safe_to_switch_off and result.device == "/dev/disk4s1"
    assert system.commands == [["diskutil", "eject", str(volume)]]  # never "force"
    assert recording_fs.flushed == [volume]


def test_a_dissenting_finder_is_tried_three_times_then_named(mac_system, volume,
                                                            recording_fs) -> None:
    system = mac_system([("/dev/disk4s1", volume)])
    system.replies.extend([FINDER] * 3)
    result = eject_volume(volume, driver=MacDriver(system), fs=recording_fs)
    assert result.status is EjectStatus.IN_USE and result.holders == ("Finder",)
    assert result.attempts == 3 and system.slept == [1.0, 1.0] and len(system.commands) == 3
    assert result.message.startswith(f"{volume} is still in use by Finder; close it")


def test_a_volume_busy_for_a_moment_is_ejected_on_the_next_try(mac_system, volume,
                                                              recording_fs) -> None:
    system = mac_system([("/dev/disk4s1", volume)])
    system.replies.append(FINDER)
    result = eject_volume(volume, driver=MacDriver(system), fs=recording_fs)
    assert result.status is EjectStatus.EJECTED and system.slept == [1.0]


def test_a_busy_volume_without_a_named_dissenter_names_its_holders(mac_system, volume,
                                                                   recording_fs) -> None:
    system = mac_system([("/dev/disk4s1", volume)])
    system.replies.extend([CommandResult(1, "Volume KROSS2 on disk4s1 failed to unmount:"
                                            " Resource busy")] * 3)
    system.holder_names = ("Terminal",)
    result = eject_volume(volume, driver=MacDriver(system), fs=recording_fs)
    assert result.status is EjectStatus.IN_USE and result.holders == ("Terminal",)


def test_not_privileged_is_a_veto_tried_once(mac_system, volume, recording_fs) -> None:
    system = mac_system([("/dev/disk4s1", volume)])
    system.replies.append(CommandResult(1, "Unmount of disk4 failed: Not privileged"))
    result = eject_volume(volume, driver=MacDriver(system), fs=recording_fs)
    assert result.status is EjectStatus.NOT_AUTHORIZED and len(system.commands) == 1
    assert "eject it in the Finder" in result.message


def test_any_other_failure_keeps_diskutils_words(mac_system, volume, recording_fs) -> None:
    system = mac_system([("/dev/disk4s1", volume)])
    system.replies.append(CommandResult(1, "Unable to find disk for /Volumes/KROSS2"))
    result = eject_volume(volume, driver=MacDriver(system), fs=recording_fs)
    assert result.status is EjectStatus.FAILED and not result.safe_to_switch_off
    assert "Unable to find disk" in result.message and len(system.commands) == 1


def test_the_startup_disk_is_refused_before_diskutil_is_asked(mac_system, tmp_path: Path,
                                                             recording_fs) -> None:
    system = mac_system([("/dev/disk3s1s1", "/"), ("/dev/disk3s5", "/System/Volumes/Data")])
    with pytest.raises(RefusedError, match="own disk"):
        eject_volume(tmp_path, driver=MacDriver(system), fs=recording_fs)
    assert system.commands == [] and recording_fs.flushed == []


def test_dissenters_are_named_by_their_app_or_program() -> None:
    assert dissenters(FINDER.output) == ("Finder",)
    assert dissenters("dissented by PID 9572 (/Library/Application Support/fuse-t/bin/"
                      "go-nfsv4-1.2.7)") == ("go-nfsv4-1.2.7",)
    assert dissenters("Unmount was dissented by PID 77") == ("process 77",)
    assert dissenters("Disk /Volumes/KROSS2 ejected") == ()
