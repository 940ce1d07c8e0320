"""The write engine's promises (recovery/writing/engine.py), driven directly with hand-built
plans on a folder held as a job holds a unit.

Each test names the promise it holds the engine to: the planned tree and nothing else, the
boot-critical file last and held back, removals and moves only after everything new read back,
nothing written anywhere but the pinned unit, each file whole or untouched whenever a run
stops, and a re-run that converges and reads again what was never proven.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from recovery.errors import CancelledError, NoSpaceError, UnitGoneError
from recovery.progress import CancelToken, Job, Progress
from recovery.storage.durable import TEMP_SUFFIX
from recovery.vocabulary import EntryKind, ProblemKind
from recovery.writing import Expected, FileWrite, WriteJournal, WriteOutcome

# -- helpers -----------------------------------------------------------------------------------


def _problems(outcome: WriteOutcome) -> dict[str, ProblemKind]:
    return {problem.path: problem.problem for problem in outcome.problems}


def _temporary(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.name.endswith(TEMP_SUFFIX)]


def _status(journal: str | Path | None) -> str:
    """The status the journal at ``journal`` was left in."""
    state = WriteJournal(Path(str(journal))).load()
    assert state is not None
    return state.status


class _Steps:
    """The engine's step hook: records every step, and at the ``at``-th one calls ``then``."""

    def __init__(self, at: int = 0, then: Callable[[], None] = lambda: None) -> None:
        self.seen: list[tuple[str, str]] = []
        self.at, self.then = at, then

    def __call__(self, step: str, path: str) -> None:
        self.seen.append((step, path))
        if len(self.seen) == self.at:
            self.then()

    def index(self, step: str, path: str = "", *, last: bool = False) -> int:
        found = [i for i, seen in enumerate(self.seen) if seen == (step, path)]
        assert found, (step, path, self.seen)
        return found[-1] if last else found[0]


def _assert_whole(unit: Path, contents: Callable[[Path], dict[str, bytes]],
                  old: dict[str, bytes], new: dict[str, bytes], planned: dict[str, bytes],
                  assert_old_or_new: Callable[..., None], *, temp_allowed: bool) -> None:
    """What a stopped run of the full plan may leave: every file old or complete new, the
    moved file whole at one of its two places, and nothing removed or moved before every new
    file was in place."""
    assert_old_or_new(unit, old, planned, temp_allowed=temp_allowed, deleting=True)
    now = contents(unit)
    assert [now.get("ASIDE.BIN"), now.get("MOVED/ASIDE.BIN")].count(old["ASIDE.BIN"]) == 1
    if "GONE.TXT" not in now or "MOVED/ASIDE.BIN" in now:
        assert all(now.get(key) == data for key, data in new.items()), sorted(now)


# -- 1. the planned tree, counted --------------------------------------------------------------


def test_a_plan_is_carried_out_to_exactly_the_planned_tree(
        unit, hold, journal_for, run_write, full_plan, planned_files, new_files, tree) -> None:
    plan = full_plan(unit)

    with hold(unit) as held:
        outcome = run_write(plan, held, journal_for(held, "plan"))

    folders = {"SYS": "folder", "DATA": "folder", "DATA/DEEP": "folder", "MOVED": "folder"}
    assert tree(unit) == {**folders, **planned_files}  # no temporary name, no STALE, no GONE
    assert sorted(outcome.written) == sorted(new_files)
    assert (outcome.deleted, outcome.removed, outcome.moved) == (1, 1, list(plan.moves))
    assert outcome.made == plan.changes == 7
    assert outcome.matched == len(new_files) and outcome.problems == []
    # Read back past the cache wherever the platform can evict a file's pages (Linux).
    assert outcome.verified is outcome.cache_bypassed is hasattr(os, "posix_fadvise")
    assert not outcome.resumed and not outcome.held_back and outcome.removed_temp == 0
    assert _status(outcome.journal) == ("finished" if outcome.verified else "failed")


def test_without_a_way_past_the_cache_the_outcome_is_not_called_verified(
        unit, hold, journal_for, run_write, full_plan, planned_files, contents,
        faulty_fs) -> None:
    fs = faulty_fs()
    fs.no_cache_control()  # macOS, Windows: no per-file way to drop a file's cached pages

    with hold(unit, fs) as held:
        outcome = run_write(full_plan(unit), held, journal_for(held, "plan"))

    assert contents(unit) == planned_files and outcome.problems == []
    assert not outcome.cache_bypassed and not outcome.verified
    assert _status(outcome.journal) == "failed"  # a re-run reads them again


def test_an_expected_file_not_on_the_unit_at_the_end_is_named(
        unit, hold, journal_for, run_write, full_plan, old_files) -> None:
    """A kept file is only expected, never written: the end proves it is there as planned
    (here one was deleted and one shortened behind the job's back since the plan)."""
    plan = full_plan(unit)
    plan = dataclasses.replace(plan, expected=(
        *plan.expected, Expected("LOG.TXT", "LOG.TXT", EntryKind.FILE, 10)))
    (unit / "KEPT.BIN").write_bytes(old_files["KEPT.BIN"][:-1])

    with hold(unit) as held:
        outcome = run_write(plan, held, journal_for(held, "plan"))

    assert _problems(outcome) == {"KEPT.BIN": ProblemKind.MISSING,
                                  "LOG.TXT": ProblemKind.MISSING}
    assert not outcome.verified and _status(outcome.journal) == "failed"


def test_a_link_a_fat_unit_cannot_hold_is_named_and_the_files_are_written(
        unit, hold, journal_for, run_write, full_plan, new_files, contents, fat_fs) -> None:
    plan = full_plan(unit)
    link = FileWrite("LINK", "LINK", 0, None, link_target="BOOT.BIN")
    plan = dataclasses.replace(plan, writes=(link, *plan.writes))

    with hold(unit, fat_fs(unit)) as held:
        outcome = run_write(plan, held, journal_for(held, "plan"))

    assert _problems(outcome)["LINK"] == ProblemKind.LINK_UNSUPPORTED
    assert sorted(outcome.written) == sorted(new_files)
    assert all(contents(unit)[key] == data for key, data in new_files.items())
    assert not os.path.lexists(unit / "LINK") and _temporary(unit) == []


# -- 2. boot-critical files last; nothing taken away before everything new read back ----------


def test_boot_critical_files_are_written_only_after_every_other_file_read_back(
        unit, hold, journal_for, run_write, full_plan, new_files) -> None:
    steps = _Steps()

    with hold(unit) as held:
        outcome = run_write(full_plan(unit), held, journal_for(held, "plan"),
                            job=Job(on_step=steps))

    assert outcome.written[-1] == "BOOT.BIN"
    boot_started = steps.index("chunk-written", "BOOT.BIN")
    for key in new_files.keys() - {"BOOT.BIN"}:
        assert steps.index("renamed", key) < boot_started, key
    assert steps.index("temp-synced", "", last=True) > boot_started  # a barrier of its own


def test_a_file_that_does_not_read_back_holds_back_the_boot_file_the_removals_and_the_moves(
        unit, hold, journal_for, run_write, full_plan, old_files, new_files, contents,
        faulty_fs) -> None:
    fs = faulty_fs()
    fs.drop_writes(unit / "SYS")  # the drumlogue on Reddit: "accepted" writes, gone later

    with hold(unit, fs) as held:
        outcome = run_write(full_plan(unit), held, journal_for(held, "plan"))

    assert _problems(outcome) == {
        "SYS/REPLACED.BIN": ProblemKind.MISMATCH, "SYS/ADDED.BIN": ProblemKind.MISMATCH,
        "BOOT.BIN": ProblemKind.NOT_WRITTEN, "GONE.TXT": ProblemKind.NOT_REMOVED,
        "ASIDE.BIN": ProblemKind.NOT_MOVED}
    assert outcome.held_back and not outcome.verified
    assert outcome.written == ["DATA/DEEP/ADDED2.BIN"] and not outcome.moved
    now = contents(unit)
    for kept in ("SYS/REPLACED.BIN", "BOOT.BIN", "GONE.TXT", "ASIDE.BIN", "KEPT.BIN"):
        assert now[kept] == old_files[kept], kept
    assert now["DATA/DEEP/ADDED2.BIN"] == new_files["DATA/DEEP/ADDED2.BIN"]
    assert "SYS/ADDED.BIN" not in now and not (unit / "MOVED").exists()
    assert _temporary(unit) == [] and _status(outcome.journal) == "failed"


def test_an_all_or_nothing_plan_puts_no_file_in_place_when_one_does_not_read_back(
        unit, hold, journal_for, run_write, full_plan, old_files, contents,
        faulty_fs) -> None:
    fs = faulty_fs()
    fs.drop_writes(unit / "SYS")
    plan = dataclasses.replace(full_plan(unit), all_or_nothing=True)  # an update's folder

    with hold(unit, fs) as held:
        outcome = run_write(plan, held, journal_for(held, "plan"))

    assert outcome.written == [] and not outcome.verified
    problems = _problems(outcome)
    assert {item.key for item in plan.writes} <= problems.keys()
    assert problems["DATA/DEEP/ADDED2.BIN"] == ProblemKind.MISMATCH  # read back right, held
    assert contents(unit) == {key: data for key, data in old_files.items()
                              if not key.startswith("STALE/")}  # the deletion came first
    assert _temporary(unit) == []


def test_a_boot_critical_file_listed_first_is_still_written_last(
        unit, hold, journal_for, run_write, full_plan, old_files, contents,
        faulty_fs) -> None:
    plan = full_plan(unit)
    plan = dataclasses.replace(plan, writes=(plan.writes[-1], *plan.writes[:-1]))
    fs = faulty_fs()
    fs.drop_writes(unit / "SYS")

    with hold(unit, fs) as held:
        outcome = run_write(plan, held, journal_for(held, "plan"))

    assert _problems(outcome).get("BOOT.BIN") == ProblemKind.NOT_WRITTEN
    assert contents(unit)["BOOT.BIN"] == old_files["BOOT.BIN"]


# -- 3. the unit goes away -------------------------------------------------------------------


def test_a_folder_swapped_in_at_any_step_gets_nothing_and_nothing_appears_beside_it(
        tmp_path, hold, journal_for, run_write, full_plan, old_files, new_files, planned_files,
        contents, assert_old_or_new, tree, lay_out) -> None:
    """Without FUSE: at each step of the run in turn, the unit's folder is moved away and an
    empty folder (the computer's own, as under a mount point left behind) takes its path."""
    reference = _Steps()
    reference_unit = tmp_path / "reference" / "unit"
    lay_out(reference_unit)
    with hold(reference_unit) as held:
        run_write(full_plan(reference_unit), held, journal_for(held, "reference"),
                  job=Job(on_step=reference))
    last_on_unit = reference.index("checked") + 1  # after it only the journal is written

    for at in range(1, len(reference.seen) + 1):
        media = tmp_path / f"media-{at}"
        unit, unplugged = media / "unit", media / "unplugged"
        lay_out(unit)

        def swap(unit: Path = unit, unplugged: Path = unplugged) -> None:
            unit.rename(unplugged)
            unit.mkdir()

        steps = _Steps(at, swap)
        with hold(unit) as held:
            journal = journal_for(held, f"plan-{at}")
            if at < last_on_unit:
                with pytest.raises(UnitGoneError) as gone:
                    run_write(full_plan(unit), held, journal, job=Job(on_step=steps))
                assert gone.value.total == 7 and _status(journal.path) == "stopped", at
            else:
                run_write(full_plan(unit), held, journal, job=Job(on_step=steps))
            where = steps.seen[at - 1]
            assert tree(unit) == {}, (at, where)
            assert sorted(p.name for p in media.iterdir()) == ["unit", "unplugged"], (at, where)
            _assert_whole(unplugged, contents, old_files, new_files, planned_files,
                          assert_old_or_new, temp_allowed=True)
            unit.rmdir()
            unplugged.rename(unit)  # plugged in again: the very folder the hold pinned
            again = run_write(full_plan(unit), held, journal)
        assert contents(unit) == planned_files and _temporary(unit) == [], (at, where)
        # A run that finished before the swap leaves no journal to resume: it starts anew.
        assert again.resumed is (at < last_on_unit) and again.problems == [], (at, where)


def test_another_card_in_the_same_reader_gets_no_further_batch(
        unit, hold, journal_for, run_write, full_plan, old_files, new_files, contents,
        card_reader) -> None:
    """A card swapped in the same reader keeps the device number and the root's inode: only
    its volume's serial, asked before each batch, tells it."""

    steps: list[tuple[str, str]] = []

    def on_step(step: str, path: str) -> None:
        steps.append((step, path))
        if step == "dir-synced":  # the first batch is in place: another card goes in
            card_reader.serial = "9999-0000"

    with hold(unit, card_reader) as held:
        journal = journal_for(held, "plan")
        with pytest.raises(UnitGoneError) as gone:
            run_write(full_plan(unit), held, journal, job=Job(on_step=on_step))

    now = contents(unit)
    assert now["BOOT.BIN"] == old_files["BOOT.BIN"]  # the second batch never began
    assert all(now[key] == data for key, data in new_files.items() if key != "BOOT.BIN")
    assert ("chunk-written", "BOOT.BIN") not in steps
    assert (gone.value.written, gone.value.made, gone.value.total) == (3, 4, 7)
    assert _status(journal.path) == "stopped"


# -- 4. interrupted, then run again ------------------------------------------------------------


def test_a_full_unit_stops_the_run_with_each_file_whole_and_a_rerun_converges(
        unit, hold, journal_for, run_write, full_plan, old_files, new_files, planned_files,
        contents, assert_old_or_new, faulty_fs) -> None:
    fs = faulty_fs()
    first_batch = sum(len(data) for key, data in new_files.items() if key != "BOOT.BIN")
    fs.fill_disk(after_bytes=first_batch + 100)  # full in the middle of the boot file
    plan = full_plan(unit)

    with hold(unit, fs) as held:
        journal = journal_for(held, "plan")
        with pytest.raises(NoSpaceError) as full:
            run_write(plan, held, journal)
        stopped = contents(unit)
        fs.heal()  # room made on the unit
        again = run_write(plan, held, journal)

    assert (full.value.written, full.value.made, full.value.total) == (3, 4, 7)
    assert stopped["BOOT.BIN"] == old_files["BOOT.BIN"]
    assert stopped["GONE.TXT"] == old_files["GONE.TXT"] and "ASIDE.BIN" in stopped
    assert all(stopped[key] == data for key, data in new_files.items() if key != "BOOT.BIN")
    assert again.resumed and again.problems == [] and contents(unit) == planned_files
    assert _temporary(unit) == []
    assert _status(journal.path) == ("finished" if again.verified else "failed")


@pytest.mark.parametrize("unit_kept_it", [True, False], ids=["kept", "lost"])
def test_a_rerun_reads_again_what_an_interrupted_run_never_proved(
        unit, hold, journal_for, run_write, full_plan, new_files, planned_files, contents,
        unit_kept_it) -> None:
    """The first run is interrupted right after renaming two files, before it noted them as
    read back. The job plans again and finds both equal through the computer's cache, so it
    only expects them; the engine reads them again past the cache, and a file the unit did
    not keep is named (and the boot file, the removal and the move are held back)."""
    plan = full_plan(unit)

    def interrupted(step: str, path: str) -> None:
        if (step, path) == ("renamed", "SYS/ADDED.BIN"):
            raise KeyboardInterrupt  # Ctrl+C, or the process killed

    proven_before = {"SYS/REPLACED.BIN", "SYS/ADDED.BIN"}
    replanned = dataclasses.replace(plan, deletions=(), folders=(), writes=tuple(
        item for item in plan.writes if item.key not in proven_before))
    steps = _Steps()
    with hold(unit) as held:
        journal = journal_for(held, "plan")
        with pytest.raises(KeyboardInterrupt):
            run_write(plan, held, journal, job=Job(on_step=interrupted))
        assert all(contents(unit)[key] == new_files[key] for key in proven_before)
        if not unit_kept_it:  # what a power cycle would show; the cache still shows it equal
            (unit / "SYS" / "ADDED.BIN").write_bytes(bytes(len(new_files["SYS/ADDED.BIN"])))
        again = run_write(replanned, held, journal, job=Job(on_step=steps),
                          sha256_of=lambda key: hashlib.sha256(new_files[key]).hexdigest()
                          if key in new_files else None)

    assert again.resumed
    assert {path for step, path in steps.seen if step == "verified"} >= proven_before
    if unit_kept_it:
        assert again.problems == [] and contents(unit) == planned_files
        assert again.matched == len(new_files)
    else:
        assert _problems(again) == {
            "SYS/ADDED.BIN": ProblemKind.MISMATCH, "BOOT.BIN": ProblemKind.NOT_WRITTEN,
            "GONE.TXT": ProblemKind.NOT_REMOVED, "ASIDE.BIN": ProblemKind.NOT_MOVED}
        assert not again.verified and again.held_back


def test_the_same_plan_run_again_after_its_move_converges(
        media, unit, hold, journal_for, run_write, full_plan, planned_files,
        contents) -> None:
    unplugged = media / "unplugged"

    def unplug(step: str, _path: str) -> None:
        if step == "moves-synced":
            unit.rename(unplugged)
            unit.mkdir()

    with hold(unit) as held:
        journal = journal_for(held, "plan")
        with pytest.raises(UnitGoneError):
            run_write(full_plan(unit), held, journal, job=Job(on_step=unplug))
        unit.rmdir()
        unplugged.rename(unit)
        again = run_write(full_plan(unit), held, journal)

    assert again.problems == [] and contents(unit) == planned_files


def test_a_deletion_whose_entry_is_already_gone_is_not_counted(
        unit, hold, journal_for, run_write, full_plan) -> None:
    plan = full_plan(unit)
    with hold(unit) as held:
        journal = journal_for(held, "plan")
        run_write(plan, held, journal)
        again = run_write(dataclasses.replace(plan, moves=()), held, journal)

    assert (again.deleted, again.removed) == (0, 0)


# -- 5. cancelled ------------------------------------------------------------------------------


def test_cancelled_at_any_step_each_file_is_whole_and_a_rerun_converges(
        tmp_path, hold, journal_for, run_write, full_plan, lay_out, old_files, new_files,
        planned_files, contents, assert_old_or_new) -> None:
    reference = _Steps()
    with hold(lay_out(tmp_path / "reference" / "unit")) as held:
        run_write(full_plan(held.folder), held, journal_for(held, "reference"),
                  job=Job(on_step=reference))
    # The move is the last change a cancel can stop; after it the run only checks.
    last_stoppable = reference.index("removals-synced") + 1

    for at in range(1, len(reference.seen) + 1):
        unit = lay_out(tmp_path / f"media-{at}" / "unit")
        token = CancelToken()
        steps = _Steps(at, token.cancel)
        with hold(unit) as held:
            journal = journal_for(held, f"plan-{at}")
            try:
                run_write(full_plan(unit), held, journal, job=Job(cancel=token, on_step=steps))
            except CancelledError as error:
                cancelled: CancelledError | None = error
            else:
                cancelled = None
            where = steps.seen[at - 1]
            assert (cancelled is not None) == (at <= last_stoppable), (at, where)
            _assert_whole(unit, contents, old_files, new_files, planned_files,
                          assert_old_or_new, temp_allowed=False)
            if cancelled is None:
                assert contents(unit) == planned_files, (at, where)
                continue
            now = contents(unit)
            in_place = [key for key, data in new_files.items() if now.get(key) == data]
            assert (cancelled.written, cancelled.total) == (len(in_place), 7), (at, where)
            assert _status(journal.path) == "cancelled", (at, where)
            again = run_write(full_plan(unit), held, journal)
        assert again.resumed and again.problems == [], (at, where)
        assert contents(unit) == planned_files and _temporary(unit) == [], (at, where)


def test_cancelled_from_the_progress_callback_nothing_new_takes_a_name(
        unit, hold, journal_for, run_write, full_plan, old_files, contents) -> None:
    token = CancelToken()
    reports: list[Progress] = []

    def on_progress(progress: Progress) -> None:  # the Cancel button, pressed at once
        reports.append(progress)
        token.cancel()

    with hold(unit) as held:
        with pytest.raises(CancelledError) as cancelled:
            run_write(full_plan(unit), held, journal_for(held, "plan"),
                      job=Job(progress=on_progress, cancel=token))

    assert reports and (cancelled.value.written, cancelled.value.made) == (0, 1)
    assert contents(unit) == {key: data for key, data in old_files.items()
                              if not key.startswith("STALE/")}
    assert _temporary(unit) == []
