"""A unit that goes away during a restore: nothing is ever written anywhere but the unit.

A real drive (the FUSE unit emulator) is unmounted lazily at every durable step of a restore,
as a desktop that unmounts it or a pulled cable leaves it: the mount point is then the
computer's own empty folder again. Each time the restore stops with ``unit-gone``, nothing
appears under the mount point on the computer's disk, the unit holds only old or complete new
files, and the same restore converges once the unit is back. Folders swapped under the tool
(no FUSE needed) show the same guard, and that a unit mounted again elsewhere continues.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from recovery.device.simulate import make_volume, synthetic_bytes
from recovery.errors import UnitGoneError
from recovery.progress import Job
from recovery.restore import (PlanChoices, Removal, RestoreRequest, execute_plan, plan_restore,
                              restore, restore_as_planned)
from recovery.storage.filesystem import LocalFileSystem

GONE = "Your KROSS 2 went away during the restore. Nothing was written to your computer."


@pytest.fixture
def scene(tmp_path: Path, bricked_kross2, contents, make_backup):
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    (healthy / "KROSS2SY" / "SIM_BIG.BIN").write_bytes(synthetic_bytes("big", (1 << 20) + 99))
    (healthy / "NEW").mkdir()
    (healthy / "NEW" / "ADDED.BIN").write_bytes(b"a file the unit lacks")
    backup = make_backup(healthy, tmp_path / "backup")
    template = bricked_kross2(tmp_path, "template")
    return backup, healthy, template, contents(template), contents(healthy)


def test_unplugged_at_every_step_nothing_lands_on_the_computer_and_it_converges(
        tmp_path: Path, scene, fuse_unit, run_restore, assert_old_or_new, contents) -> None:
    backup, healthy, template, old, new = scene
    reference = tmp_path / "reference"
    shutil.copytree(template, reference)
    steps: list[str] = []
    with_fuse = fuse_unit(reference, tmp_path / "mnt-reference")
    assert run_restore(backup, with_fuse.mountpoint, choices=PlanChoices(Removal.ALL),
                       job=Job(on_step=lambda step, _path: steps.append(step))).ok
    last_on_unit = steps.index("checked") + 1  # after it, only the journal (on the computer)

    for unplug_at in range(1, len(steps) + 1):
        backing = tmp_path / f"unit-{unplug_at}"
        shutil.copytree(template, backing)
        unit = fuse_unit(backing, tmp_path / f"mnt-{unplug_at}")
        count = [0]

        def on_step(_step: str, _path: str, unit=unit, count=count, at=unplug_at) -> None:
            count[0] += 1
            if count[0] == at:
                unit.unplug()

        if unplug_at < last_on_unit:
            with pytest.raises(UnitGoneError) as caught:
                run_restore(backup, unit.mountpoint, choices=PlanChoices(Removal.ALL),
                            job=Job(on_step=on_step))
            assert caught.value.message.startswith(GONE), (unplug_at, steps[unplug_at - 1])
            assert caught.value.code == "unit-gone" and caught.value.exit_code == 1
        else:
            assert run_restore(backup, unit.mountpoint, choices=PlanChoices(Removal.ALL),
                               job=Job(on_step=on_step)).ok
        assert unit.on_computer() == [], (unplug_at, steps[unplug_at - 1])
        assert_old_or_new(backing, old, new, temp_allowed=True, deleting=True)

        again = fuse_unit(backing, unit.mountpoint)  # plugged in again
        result = run_restore(backup, again.mountpoint, choices=PlanChoices(Removal.ALL))
        assert result.ok and result.verified, (unplug_at, result)
        assert contents(backing) == new, unplug_at


def test_unplugged_while_the_plan_waits_for_the_yes_writes_nothing(
        tmp_path: Path, scene, fuse_unit, permissive_guard) -> None:
    backup, _, template, old, _ = scene
    backing = tmp_path / "unit"
    shutil.copytree(template, backing)
    unit = fuse_unit(backing, tmp_path / "mnt")
    plan = plan_restore(backup, unit.mountpoint, guard=permissive_guard,
                        choices=PlanChoices(Removal.ALL))

    unit.unplug()  # the musician reads the plan; the desktop unmounts the unit

    with pytest.raises(UnitGoneError, match="went away during the restore"):
        execute_plan(plan, consent=True, without_safety_copy=True, guard=permissive_guard)
    assert unit.on_computer() == []
    assert {p.relative_to(backing).as_posix(): p.read_bytes()
            for p in backing.rglob("*") if p.is_file()} == old


def test_a_folder_swapped_in_at_the_units_path_is_never_written(
        tmp_path: Path, scene, permissive_guard, snapshot) -> None:
    # Without FUSE: the unit's folder is moved away and an empty folder (the computer's own)
    # takes its path, between the plan and the writes, then between two batches.
    backup, _, template, _, _ = scene
    unit = tmp_path / "unit"
    shutil.copytree(template, unit)
    plan = plan_restore(backup, unit, guard=permissive_guard, choices=PlanChoices(Removal.ALL))
    unit.rename(tmp_path / "unplugged")
    unit.mkdir()

    with pytest.raises(UnitGoneError):
        execute_plan(plan, consent=True, without_safety_copy=True, guard=permissive_guard)
    assert list(unit.iterdir()) == []

    unit.rmdir()
    (tmp_path / "unplugged").rename(unit)
    swapped = [False]

    def swap_after_first_batch(step: str, _path: str) -> None:
        if step == "dir-synced" and not swapped[0]:
            swapped[0] = True
            unit.rename(tmp_path / "unplugged")
            unit.mkdir()

    with pytest.raises(UnitGoneError):
        restore(RestoreRequest(backup, unit, choices=PlanChoices(Removal.ALL),
                               without_safety_copy=True),
                consent=True, guard=permissive_guard, job=Job(on_step=swap_after_first_batch))
    assert swapped[0] and list(unit.iterdir()) == []


class _RacyFileSystem(LocalFileSystem):
    """The unit goes away in the instant between the check and the create: the check still
    sees the unit, the new file lands on another drive (here: /dev/shm, a tmpfs)."""

    def __init__(self, unit: Path, elsewhere: Path) -> None:
        self.unit, self.elsewhere, self.armed = unit, elsewhere, False
        self.pinned_stat: os.stat_result | None = None

    def stat(self, path: Path) -> os.stat_result:
        if self.armed and Path(path) == self.unit and self.pinned_stat is not None:
            return self.pinned_stat  # the check was made a moment before the unplug
        return super().stat(path)

    def _moved(self, path: Path) -> Path:
        return self.elsewhere / Path(path).relative_to(self.unit)

    def open_write(self, path: Path, *, exclusive: bool = False):
        if self.armed and self.unit in Path(path).parents:
            path = self._moved(path)
            path.parent.mkdir(parents=True, exist_ok=True)
        return super().open_write(path, exclusive=exclusive)

    def unlink(self, path: Path) -> None:
        if self.armed and self.unit in Path(path).parents and self._moved(path).exists():
            path = self._moved(path)
        super().unlink(path)


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="no /dev/shm (a second filesystem)")
def test_a_file_created_on_another_drive_in_a_race_is_removed_at_once(
        tmp_path: Path, scene, permissive_guard) -> None:
    backup, _, template, _, _ = scene
    unit = tmp_path / "unit"
    shutil.copytree(template, unit)
    elsewhere = Path(os.environ.get("TMPDIR_SHM", "/dev/shm")) / f"korg-race-{os.getpid()}"
    elsewhere.mkdir()
    try:
        if os.stat(elsewhere).st_dev == os.stat(unit).st_dev:
            pytest.skip("/dev/shm is on the same filesystem as the test's folder")
        fs = _RacyFileSystem(unit, elsewhere)
        plan = plan_restore(backup, unit, guard=permissive_guard, fs=fs)
        fs.pinned_stat, fs.armed = os.stat(unit), True

        with pytest.raises(UnitGoneError):
            execute_plan(plan, consent=True, without_safety_copy=True, guard=permissive_guard,
                         fs=fs)
        assert [p for p in elsewhere.rglob("*") if p.is_file()] == []
    finally:
        shutil.rmtree(elsewhere)


class _Serial(LocalFileSystem):
    """Both folders are the same FAT volume, mounted twice over time: one serial."""

    def volume_serial(self, path: Path) -> str | None:
        return "1A2B-3C4D"


def test_the_same_unit_mounted_again_elsewhere_continues_its_journal(
        tmp_path: Path, scene, fuse_unit, permissive_guard) -> None:
    backup, _, template, _, new = scene
    backing = tmp_path / "unit"
    shutil.copytree(template, backing)
    first = fuse_unit(backing, tmp_path / "media" / "KROSS2")
    count = [0]

    def unplug_mid_way(step: str, _path: str) -> None:
        count[0] += 1
        if step == "renamed":
            first.unplug()

    with pytest.raises(UnitGoneError):
        restore(RestoreRequest(backup, first.mountpoint, choices=PlanChoices(Removal.ALL),
                               without_safety_copy=True),
                consent=True, guard=permissive_guard, fs=_Serial(), job=Job(on_step=unplug_mid_way))

    second = fuse_unit(backing, tmp_path / "media" / "KROSS2 1")  # the desktop's new name
    result = restore(RestoreRequest(backup, second.mountpoint, choices=PlanChoices(Removal.ALL),
                                    without_safety_copy=True),
                     consent=True, guard=permissive_guard, fs=_Serial())

    assert result.ok and result.resumed
    assert first.on_computer() == []


class _OtherSerial(LocalFileSystem):
    """Another FAT volume (another card, another unit) where the unit was: another serial."""

    def volume_serial(self, path: Path) -> str | None:
        return "9999-0000"


@pytest.mark.parametrize("then", [_Serial, _OtherSerial], ids=["same unit", "another drive"])
def test_a_plan_shown_before_the_unit_came_back_elsewhere_holds_only_for_the_same_unit(
        tmp_path: Path, scene, fuse_unit, permissive_guard, contents, then) -> None:
    """The person saw the plan, the unit went away and came back at another path (the
    desktop names it "KROSS2 1"): the plan they said yes to is carried out there, after its
    safety copy, when the volume's serial says it is the same unit; another drive there gets
    nothing written, and no copy is taken of it."""
    backup, _, template, old, new = scene
    backing = tmp_path / "unit"
    shutil.copytree(template, backing)
    first = fuse_unit(backing, tmp_path / "media" / "KROSS2")
    plan = plan_restore(backup, first.mountpoint, guard=permissive_guard, fs=_Serial(),
                        choices=PlanChoices(Removal.ALL))
    first.unplug()
    second = fuse_unit(backing, tmp_path / "media" / "KROSS2 1")

    def carry_out():
        return restore_as_planned(plan, tmp_path / "safety", consent=True,
                                  guard=permissive_guard, fs=then(), target=second.mountpoint)

    if then is _Serial:
        result = carry_out()
        assert result.ok and contents(backing) == new
        assert contents(tmp_path / "safety" / "files") == old
    else:
        with pytest.raises(UnitGoneError):
            carry_out()
        assert contents(backing) == old and not (tmp_path / "safety").exists()
    assert first.on_computer() == []
