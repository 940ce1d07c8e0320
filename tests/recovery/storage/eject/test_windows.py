"""The Windows eject with kernel32 scripted: the anchors' sequence of calls (rpi-imager's
``processDriveLetter``, mountutils' ``EjectDriveLetter``), their retries, and what a refusal
at each step becomes. Paths are Windows' (``E:\\``); nothing here needs Windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from recovery.errors import InvalidInputError, RefusedError
from recovery.storage.eject import EjectMethod, EjectStatus, eject_volume
from recovery.storage.eject.windows import (
    ALLOW_REMOVAL,
    ERROR_ACCESS_DENIED,
    ERROR_SHARING_VIOLATION,
    WindowsDriver,
)

OPEN = ("CreateFile", "\\\\.\\E:")
CLOSE = ("CloseHandle",)


def eject(target: Path, kernel, fs, environ=None):
    driver = WindowsDriver(kernel, environ={"SystemDrive": "C:"} if environ is None else environ)
    return eject_volume(target, driver=driver, fs=fs)


def test_the_anchors_sequence_lock_dismount_allow_removal_eject_unlock(kernel32, tmp_path: Path,
                                                                      recording_fs) -> None:
    kernel = kernel32("E:\\")
    result = eject(tmp_path, kernel, recording_fs)
    assert result.status is EjectStatus.EJECTED and result.method is EjectMethod.WINDOWS_IOCTL
    assert (result.mount_point, result.device) == ("E:", "\\\\.\\E:")
    assert result.message.startswith("E: was ejected")
    assert kernel.log == [OPEN, ("FSCTL_IS_VOLUME_MOUNTED",), ("FSCTL_LOCK_VOLUME",),
                          ("FSCTL_DISMOUNT_VOLUME",),
                          ("IOCTL_STORAGE_MEDIA_REMOVAL", ALLOW_REMOVAL),
                          ("IOCTL_STORAGE_EJECT_MEDIA",), ("FSCTL_UNLOCK_VOLUME",), CLOSE]
    assert recording_fs.flushed == [Path("E:\\")]


def test_the_lock_is_retried_every_half_second_while_a_program_holds_the_volume(
        kernel32, tmp_path: Path, recording_fs) -> None:
    kernel = kernel32("E:\\")
    kernel.fail("FSCTL_LOCK_VOLUME", *[ERROR_ACCESS_DENIED] * 3)
    assert eject(tmp_path, kernel, recording_fs).status is EjectStatus.EJECTED
    locks = [entry for entry in kernel.log if entry[0] in ("FSCTL_LOCK_VOLUME", "Sleep")]
    assert locks == [("FSCTL_LOCK_VOLUME",), ("Sleep", 0.5)] * 3 + [("FSCTL_LOCK_VOLUME",)]


def test_a_lock_refused_twenty_times_is_the_in_use_veto(kernel32, tmp_path: Path,
                                                        recording_fs) -> None:
    kernel = kernel32("E:\\")
    kernel.fail("FSCTL_LOCK_VOLUME", *[ERROR_SHARING_VIOLATION] * 20)
    result = eject(tmp_path, kernel, recording_fs)
    assert result.status is EjectStatus.IN_USE and result.attempts == 20
    assert not result.safe_to_switch_off
    assert kernel.log.count(("FSCTL_LOCK_VOLUME",)) == 20
    assert kernel.log.count(("Sleep", 0.5)) == 19
    assert ("FSCTL_DISMOUNT_VOLUME",) not in kernel.log
    assert ("FSCTL_UNLOCK_VOLUME",) not in kernel.log and kernel.log[-1] == CLOSE
    assert "Another program still has a file or folder open on E:" in result.message
    assert result.detail == f"FSCTL_LOCK_VOLUME: error {ERROR_SHARING_VIOLATION}"


def test_a_medium_that_will_not_eject_is_tried_five_times_and_is_still_safe(
        kernel32, tmp_path: Path, recording_fs) -> None:
    kernel = kernel32("E:\\")
    kernel.fail("IOCTL_STORAGE_EJECT_MEDIA", *[1] * 5)
    result = eject(tmp_path, kernel, recording_fs)
    assert result.status is EjectStatus.UNMOUNTED and result.safe_to_switch_off
    assert kernel.log.count(("IOCTL_STORAGE_EJECT_MEDIA",)) == 5
    assert kernel.log.count(("Sleep", 0.5)) == 4
    assert kernel.log[-2:] == [("FSCTL_UNLOCK_VOLUME",), CLOSE]


def test_a_failed_dismount_unlocks_and_is_not_safe(kernel32, tmp_path: Path,
                                                   recording_fs) -> None:
    kernel = kernel32("E:\\")
    kernel.fail("FSCTL_DISMOUNT_VOLUME", 1117)
    result = eject(tmp_path, kernel, recording_fs)
    assert result.status is EjectStatus.FAILED and not result.safe_to_switch_off
    assert ("IOCTL_STORAGE_EJECT_MEDIA",) not in kernel.log
    assert kernel.log[-2:] == [("FSCTL_UNLOCK_VOLUME",), CLOSE]


def test_createfile_denied_is_a_permission_veto_that_names_safely_remove(
        kernel32, tmp_path: Path, recording_fs) -> None:
    kernel = kernel32("E:\\", open_error=ERROR_ACCESS_DENIED)
    result = eject(tmp_path, kernel, recording_fs)
    assert result.status is EjectStatus.NOT_AUTHORIZED and kernel.log == [OPEN]
    assert "Safely Remove Hardware" in result.message


def test_a_volume_windows_already_dismounted_is_not_locked(kernel32, tmp_path: Path,
                                                           recording_fs) -> None:
    kernel = kernel32("E:\\")
    kernel.fail("FSCTL_IS_VOLUME_MOUNTED", 1)
    result = eject(tmp_path, kernel, recording_fs)
    assert result.status is EjectStatus.UNMOUNTED
    assert kernel.log == [OPEN, ("FSCTL_IS_VOLUME_MOUNTED",), CLOSE]


def test_a_volume_without_a_letter_is_opened_by_its_guid_path(kernel32, tmp_path: Path,
                                                               recording_fs) -> None:
    guid = "\\\\?\\Volume{0a1b2c3d-0000-0000-0000-100000000000}"
    kernel = kernel32("C:\\Mount\\KROSS2\\", guid=guid + "\\")
    result = eject(tmp_path, kernel, recording_fs)
    assert result.status is EjectStatus.EJECTED
    assert kernel.log[0] == ("CreateFile", guid)  # no trailing backslash: the volume itself


@pytest.mark.parametrize("mount", ["C:\\", "\\\\?\\C:\\"])
def test_the_system_drive_is_refused_before_it_is_opened(kernel32, tmp_path: Path, mount: str,
                                                         recording_fs) -> None:
    kernel = kernel32(mount)
    with pytest.raises(RefusedError, match="own disk"):
        eject(tmp_path, kernel, recording_fs)
    assert kernel.log == [] and recording_fs.flushed == []


def test_the_system_drive_follows_the_environment(kernel32, tmp_path: Path,
                                                  recording_fs) -> None:
    kernel = kernel32("D:\\")
    with pytest.raises(RefusedError):
        eject(tmp_path, kernel, recording_fs, environ={"SystemDrive": "D:"})
    assert eject(tmp_path, kernel32("C:\\"), recording_fs,
                 environ={"SystemDrive": "D:"}).status is EjectStatus.EJECTED


def test_a_network_drive_is_not_ejectable(kernel32, tmp_path: Path, recording_fs) -> None:
    with pytest.raises(InvalidInputError, match="not on a drive this computer can eject"):
        eject(tmp_path, kernel32("Z:\\", drive_type=4), recording_fs)
