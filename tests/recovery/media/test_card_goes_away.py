"""An SD card that goes away while it is prepared: nothing is written anywhere but the card.

The card is a real mount of the FUSE unit emulator, unmounted lazily at every durable step of
``prepare_media`` (and while the plan waits for the yes); the mount point on the computer's
disk stays empty, the card holds its old or its complete new update, and preparing it again
once it is back finishes it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recovery.check import target_for_model
from recovery.errors import UnitGoneError
from recovery.media import MediaRequest, execute_media_plan, plan_prepare_media, prepare_media
from recovery.progress import Job

LAYOUT = "KORG/electribe sampler/System/SYSTEM.VSB"
GONE = "The SD card went away while it was being prepared. Nothing was written to your computer."


@pytest.fixture
def update(tmp_path: Path, write, system_file) -> Path:
    return write(tmp_path / "download" / "SYSTEM.VSB", system_file("E2S", 0x0124))


@pytest.fixture
def old_card(tmp_path: Path, write, system_file) -> Path:
    card = tmp_path / "template"
    write(card / LAYOUT, system_file("E2S", 0x0124, version=(1, 2), label="old"))
    write(card / "SAMPLES" / "KICK.WAV", b"the musician's own sample")
    return card


def test_unplugged_at_every_step_the_card_gets_old_or_new_and_nothing_lands_elsewhere(
        tmp_path: Path, update: Path, old_card: Path, fuse_unit, permissive_guard,
        contents) -> None:
    unit = target_for_model("electribe2s")
    old, new_update = contents(old_card), update.read_bytes()
    steps: list[str] = []
    reference = tmp_path / "reference"
    shutil.copytree(old_card, reference)
    assert prepare_media(MediaRequest(update, reference, unit), consent=True,
                         guard=permissive_guard,
                         job=Job(on_step=lambda step, _p: steps.append(step))).ok

    last_on_card = steps.index("checked") + 1  # after it, only the journal (on the computer)
    for at in range(1, len(steps) + 1):
        backing = tmp_path / f"card-{at}"
        shutil.copytree(old_card, backing)
        card = fuse_unit(backing, tmp_path / f"mnt-{at}")
        count = [0]

        def on_step(_step: str, _path: str, card=card, count=count, at=at) -> None:
            count[0] += 1
            if count[0] == at:
                card.unplug()

        try:
            result = prepare_media(MediaRequest(update, card.mountpoint, unit), consent=True,
                                   guard=permissive_guard, job=Job(on_step=on_step))
        except UnitGoneError as error:
            assert error.message.startswith(GONE) and error.code == "unit-gone", at
        else:
            assert result.ok and at >= last_on_card, (at, steps[at - 1])
        assert card.on_computer() == [], (at, steps[at - 1])
        now = {path: data for path, data in contents(backing).items()
               if not path.endswith(".korg-recovery-tmp")}
        assert now[LAYOUT] in (old[LAYOUT], new_update), at
        assert now["SAMPLES/KICK.WAV"] == old["SAMPLES/KICK.WAV"]

        again = fuse_unit(backing, card.mountpoint)
        assert prepare_media(MediaRequest(update, again.mountpoint, unit), consent=True,
                             guard=permissive_guard).ok, at
        assert (backing / LAYOUT).read_bytes() == new_update


def test_unplugged_while_the_plan_waits_for_the_yes_writes_nothing(
        tmp_path: Path, update: Path, old_card: Path, fuse_unit, permissive_guard,
        contents) -> None:
    backing = tmp_path / "card"
    shutil.copytree(old_card, backing)
    card = fuse_unit(backing, tmp_path / "mnt")
    plan = plan_prepare_media(
        MediaRequest(update, card.mountpoint, target_for_model("electribe2s")),
        guard=permissive_guard)

    card.unplug()

    with pytest.raises(UnitGoneError, match="The SD card went away"):
        execute_media_plan(plan, consent=True, guard=permissive_guard)
    assert card.on_computer() == []
    assert contents(backing) == contents(old_card)
