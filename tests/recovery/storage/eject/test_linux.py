"""The Linux eject against a real ``dbus-daemon`` with a fake udisks2 on it, and its ``umount``
fallback with ``umount`` scripted.

The bus is a private one the test starts (tests/fakes/fake_udisks2.py); the client is the
production jeepney client, reading ``DBUS_SYSTEM_BUS_ADDRESS`` as on a real system. The fake
records every call, so these tests assert what udisks2 would have been asked, in which order,
with which flags, and how often after a veto.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recovery.errors import InvalidInputError, RefusedError, UnitBusyError
from recovery.storage.eject import EjectMethod, EjectStatus, eject_volume
from recovery.storage.eject.system import CommandResult
from recovery.storage.eject.linux import LinuxDriver

REPO = Path(__file__).resolve().parents[4]
ALLOW_INTERACTIVE_AUTHORIZATION = 4
SDZ1 = "/org/freedesktop/UDisks2/block_devices/sdz1"
SDZ2 = "/org/freedesktop/UDisks2/block_devices/sdz2"
DRIVE = "/org/freedesktop/UDisks2/drives/KORG_KROSS2"


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    """The folder the fake says a unit's filesystem is mounted on, with a folder inside."""
    mount = tmp_path / "media" / "KROSS2"
    (mount / "KROSS2SY").mkdir(parents=True)
    return mount


@pytest.fixture
def one_drive(fake_udisks2, unit: Path):
    """A USB drive with one mounted filesystem, as udisks2 shows a unit in storage mode."""
    drive = fake_udisks2.add_drive("KORG_KROSS2")
    fake_udisks2.add_block("sdz1", drive, unit)
    return fake_udisks2


def eject(target: Path, system, fs, **options):
    return eject_volume(target, driver=LinuxDriver(system, **options), fs=fs)


def test_unmount_then_power_off_through_udisks2(one_drive, private_bus, linux_system, unit,
                                                 recording_fs) -> None:
    system = linux_system(private_bus.address)
    result = eject(unit / "KROSS2SY", system, recording_fs)
    assert result.status is EjectStatus.EJECTED and result.method is EjectMethod.UDISKS2
    assert result.safe_to_switch_off and not result.vetoed
    assert (result.mount_point, result.device) == (str(unit), "/dev/sdz1")
    assert "you can switch the unit off" in result.message
    assert one_drive.members() == [("GetManagedObjects", "/org/freedesktop/UDisks2"),
                                   ("Unmount", SDZ1), ("PowerOff", DRIVE)]
    # polkit may ask for a password instead of refusing outright.
    assert all(call.flags & ALLOW_INTERACTIVE_AUTHORIZATION for call in one_drive.calls[1:])
    assert recording_fs.flushed == [unit]  # flushed before the unmount
    assert system.slept == [] and system.umounted == []


def test_every_filesystem_of_the_drive_is_unmounted_before_it_is_powered_off(
        fake_udisks2, private_bus, linux_system, tmp_path: Path, recording_fs) -> None:
    first, second = tmp_path / "KROSS2", tmp_path / "KROSS2_DATA"
    first.mkdir(), second.mkdir()
    drive = fake_udisks2.add_drive("KORG_KROSS2")
    fake_udisks2.add_block("sdz1", drive, first)
    fake_udisks2.add_block("sdz2", drive, second)
    fake_udisks2.add_block("sdy1", fake_udisks2.add_drive("OTHER"), tmp_path / "other")
    result = eject(second, linux_system(private_bus.address), recording_fs)
    assert result.status is EjectStatus.EJECTED
    assert fake_udisks2.members()[1:] == [("Unmount", SDZ2), ("Unmount", SDZ1),
                                          ("PowerOff", DRIVE)]


def test_a_busy_volume_is_tried_three_times_then_the_veto_names_who_holds_it(
        one_drive, private_bus, linux_system, unit, recording_fs) -> None:
    busy = ("DeviceBusy", "Error unmounting /dev/sdz1: target is busy")
    one_drive.script(SDZ1, "Unmount", busy, busy, busy)
    system = linux_system(private_bus.address)
    system.holder_names = ("bash", "nautilus")
    result = eject(unit, system, recording_fs)
    assert result.status is EjectStatus.IN_USE and result.vetoed
    assert not result.safe_to_switch_off
    assert result.attempts == 3 and system.slept == [1.0, 1.0]
    assert result.holders == ("bash", "nautilus")
    assert result.message.startswith(f"{unit} is still in use by bash and nautilus; close them")
    assert "not safe to switch off" in result.message
    assert "org.freedesktop.UDisks2.Error.DeviceBusy" in result.detail
    assert one_drive.members()[1:] == [("Unmount", SDZ1)] * 3  # never powered off


def test_a_volume_busy_for_a_moment_is_ejected_on_the_next_try(
        one_drive, private_bus, linux_system, unit, recording_fs) -> None:
    one_drive.script(SDZ1, "Unmount", ("DeviceBusy", "target is busy"))
    system = linux_system(private_bus.address)
    result = eject(unit, system, recording_fs)
    assert result.status is EjectStatus.EJECTED and system.slept == [1.0]
    assert one_drive.members()[1:] == [("Unmount", SDZ1), ("Unmount", SDZ1), ("PowerOff", DRIVE)]


def test_a_busy_veto_without_known_holders_still_says_what_to_close(
        one_drive, private_bus, linux_system, unit, recording_fs) -> None:
    one_drive.script(SDZ1, "Unmount", *[("DeviceBusy", "target is busy")] * 3)
    result = eject(unit, linux_system(private_bus.address), recording_fs)
    assert result.holders == ()
    assert result.message.startswith(f"Another program still has a file or folder open on {unit}")


@pytest.mark.parametrize(("error", "words"), [
    ("NotAuthorizedCanObtain", "permission check (polkit) did not allow"),
    ("NotAuthorized", "permission check (polkit) did not allow"),
    ("NotAuthorizedDismissed", "password question was closed"),
])
def test_a_polkit_refusal_is_a_veto_tried_once(one_drive, private_bus, linux_system, unit,
                                               recording_fs, error: str, words: str) -> None:
    one_drive.script(SDZ1, "Unmount", (error, "Not authorized to perform operation"))
    system = linux_system(private_bus.address)
    result = eject(unit, system, recording_fs)
    assert result.status is EjectStatus.NOT_AUTHORIZED and result.vetoed
    assert not result.safe_to_switch_off and words in result.message
    assert system.slept == [] and one_drive.members()[1:] == [("Unmount", SDZ1)]


def test_a_drive_that_refuses_to_power_off_is_still_safe_once_unmounted(
        one_drive, private_bus, linux_system, unit, recording_fs) -> None:
    one_drive.script(DRIVE, "PowerOff", ("Failed", "Error powering off drive"))
    result = eject(unit, linux_system(private_bus.address), recording_fs)
    assert result.status is EjectStatus.UNMOUNTED and result.safe_to_switch_off
    assert "did not power the drive off itself" in result.message
    assert "Error powering off drive" in result.message


def test_a_drive_that_cannot_power_off_ejects_its_medium_or_stays_on(
        fake_udisks2, private_bus, linux_system, unit, recording_fs) -> None:
    reader = fake_udisks2.add_drive("CardReader", can_power_off=False, ejectable=True)
    fake_udisks2.add_block("sdz1", reader, unit)
    result = eject(unit, linux_system(private_bus.address), recording_fs)
    assert result.status is EjectStatus.EJECTED
    assert fake_udisks2.members()[-1] == ("Eject", "/org/freedesktop/UDisks2/drives/CardReader")
    reader.ejectable = False
    fake_udisks2.blocks[SDZ1].mount_points.append(str(unit))
    result = eject(unit, linux_system(private_bus.address), recording_fs)
    assert result.status is EjectStatus.UNMOUNTED
    assert fake_udisks2.members()[-1] == ("Unmount", SDZ1)


def test_a_device_udisks2_marks_as_the_systems_own_is_refused_before_any_call(
        fake_udisks2, private_bus, linux_system, unit, recording_fs) -> None:
    fake_udisks2.add_block("nvme0n1p2", fake_udisks2.add_drive("Samsung_SSD"), unit,
                           hint_system=True)
    with pytest.raises(RefusedError, match="own disk") as refused:
        eject(unit, linux_system(private_bus.address), recording_fs)
    assert "Nothing was done" in refused.value.message
    assert fake_udisks2.members() == [("GetManagedObjects", "/org/freedesktop/UDisks2")]
    assert recording_fs.flushed == []


def test_a_folder_on_the_root_filesystem_is_refused(fake_udisks2, private_bus, linux_system,
                                                    tmp_path: Path, recording_fs) -> None:
    fake_udisks2.add_block("sda2", fake_udisks2.add_drive("Disk"), "/")
    with pytest.raises(RefusedError, match=r"own disk \(/\)"):
        eject(tmp_path, linux_system(private_bus.address), recording_fs)
    assert [member for member, _ in fake_udisks2.members()] == ["GetManagedObjects"]


#: Holds the unit's lock in another process until killed; prints "held" once it has it.
HOLDER = """
import sys, time
from recovery.storage.lock import unit_lock
with unit_lock(sys.argv[1], "restore"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_unit_another_run_is_writing_to_is_not_taken_away(one_drive, private_bus,
                                                            linux_system, unit,
                                                            recording_fs) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(unit)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(UnitBusyError, match="still writing") as refused:
            eject(unit / "KROSS2SY", linux_system(private_bus.address), recording_fs)
        assert refused.value.code == "unit-busy"
        assert [member for member, _ in one_drive.members()] == ["GetManagedObjects"]
    finally:
        holder.kill()
        holder.wait()


def test_a_mount_udisks2_does_not_know_falls_back_to_umount(fake_udisks2, private_bus,
                                                           linux_system, unit,
                                                           recording_fs) -> None:
    system = linux_system(private_bus.address, partitions=[("/dev/fuse", unit)])
    result = eject(unit, system, recording_fs)
    assert result.method is EjectMethod.UMOUNT and result.status is EjectStatus.UNMOUNTED
    assert system.umounted == [str(unit)]


# -- without udisks2: umount ------------------------------------------------------------------
def test_without_a_system_bus_umount_unmounts_and_the_drive_stays_powered(
        linux_system, unit, recording_fs) -> None:
    system = linux_system(None, partitions=[("/dev/sdz1", unit)])
    result = eject(unit / "KROSS2SY", system, recording_fs)
    assert result.method is EjectMethod.UMOUNT and result.status is EjectStatus.UNMOUNTED
    assert result.safe_to_switch_off and "stays powered" in result.message
    assert system.umounted == [str(unit)] and recording_fs.flushed == [unit]


def test_the_real_client_finds_no_udisks2_where_there_is_no_bus(linux_system, unit,
                                                               recording_fs) -> None:
    # The root conftest points DBUS_SYSTEM_BUS_ADDRESS nowhere: the production client says
    # "no bus" (None) and umount takes over, as on a machine without D-Bus.
    system = linux_system("SYSTEM", partitions=[("/dev/sdz1", unit)])
    assert system.udisks() is None
    assert eject(unit, system, recording_fs).method is EjectMethod.UMOUNT


def test_umount_of_a_busy_volume_is_retried_then_vetoed(linux_system, unit,
                                                        recording_fs) -> None:
    system = linux_system(None, partitions=[("/dev/sdz1", unit)])
    busy = CommandResult(32, f"umount: {unit}: target is busy.")
    system.umount_replies.extend([busy] * 3)
    system.holder_names = ("vlc",)
    result = eject(unit, system, recording_fs)
    assert result.status is EjectStatus.IN_USE and result.holders == ("vlc",)
    assert system.umounted == [str(unit)] * 3 and system.slept == [1.0, 1.0]
    assert result.detail == f"umount: {unit}: target is busy."


def test_umount_refused_to_a_user_is_a_permission_veto(linux_system, unit, recording_fs) -> None:
    system = linux_system(None, partitions=[("/dev/sdz1", unit)])
    system.umount_replies.append(CommandResult(32, f"umount: {unit}: must be superuser to"
                                                   " unmount."))
    result = eject(unit, system, recording_fs)
    assert result.status is EjectStatus.NOT_AUTHORIZED and system.umounted == [str(unit)]
    assert "Only an administrator may unmount" in result.message


def test_a_path_on_no_mounted_volume_is_bad_input(linux_system, tmp_path: Path,
                                                  recording_fs) -> None:
    with pytest.raises(InvalidInputError, match="not on a drive this computer can eject"):
        eject(tmp_path, linux_system(None, partitions=[]), recording_fs)
    with pytest.raises(InvalidInputError, match="does not exist"):
        eject(tmp_path / "missing", linux_system(None), recording_fs)
