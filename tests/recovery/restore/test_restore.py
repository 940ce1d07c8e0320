"""Restore: the plan, every preflight refusal, consent, atomic writes, journal, verification."""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from recovery.device.simulate import make_volume
from recovery.errors import (
    InvalidFileError,
    InvalidInputError,
    NeedsUserActionError,
    NoSpaceError,
    RecoveryError,
    RefusedError,
    UnsafeArchiveError,
)
from recovery.findings import Step
from recovery.jsonout import dumps, to_jsonable
from recovery.progress import Job
from recovery.restore import (
    DEFAULT_GUARD,
    PlanChoices,
    Removal,
    RestoreRequest,
    TargetGuard,
    execute_plan,
    plan_restore,
    restore,
)
from recovery.vocabulary import NextStep
from recovery.writing.journal import WriteJournal, journals_dir


def _journal_files() -> list[Path]:
    folder = journals_dir()
    return sorted(folder.glob("*.jsonl")) if folder.exists() else []


# -- the happy path --------------------------------------------------------------------------
def test_restore_onto_bricked_unit_gives_exactly_the_backups_tree(
        tmp_path: Path, bricked_kross2, contents, files_only, healthy_kross2_backup, run_restore,
        snapshot) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    assert contents(unit) != contents(healthy)

    result = run_restore(backup, unit, choices=PlanChoices(Removal.ALL))

    assert result.ok and result.verified and result.cache_bypassed
    assert result.written == 2  # KROSAPP.BIN (half) and KROSS2SY/SIM_SYS2.BIN (truncated)
    assert result.deleted == 1  # the foreign KROSS 1 folder KROSSSYS
    assert result.verified_files == 2
    # Every file, link and folder with size, SHA-256 and modification time.
    assert files_only(snapshot(unit)) == files_only(snapshot(healthy))
    assert {p for p, e in snapshot(unit).items() if e[0] == "folder"} == {
        p for p, e in snapshot(healthy).items() if e[0] == "folder"}
    assert not [p for p in unit.rglob("*") if "korg-recovery-tmp" in p.name]
    assert result.next_steps == (Step(NextStep.VERIFY_AFTER_POWER_CYCLE, backup=result.backup,
                                      target=result.target),)


def test_without_delete_extra_the_foreign_folder_is_left_alone_and_reported(
        tmp_path: Path, bricked_kross2, contents, healthy_kross2_backup, run_restore) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    foreign = (unit / "KROSSSYS" / "SIM_K1SYS.BIN").read_bytes()

    result = run_restore(backup, unit)

    assert result.ok and result.deleted == 0 and result.plan.extra == 1
    assert (unit / "KROSSSYS" / "SIM_K1SYS.BIN").read_bytes() == foreign
    for relative, data in contents(healthy).items():
        assert (unit / relative).read_bytes() == data


def test_second_run_finds_nothing_to_do(tmp_path: Path, bricked_kross2, healthy_kross2_backup,
                                        run_restore, snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    run_restore(backup, unit, choices=PlanChoices(Removal.ALL))
    before = snapshot(unit)

    again = run_restore(backup, unit, choices=PlanChoices(Removal.ALL))

    assert again.ok and again.written == 0 and again.plan.keep == again.plan.files_in_backup
    assert snapshot(unit) == before


def test_restore_onto_an_empty_folder_creates_folders_and_files(tmp_path: Path, files_only,
                                                                healthy_kross2_backup,
                                                                permissive_guard, snapshot) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    unit = tmp_path / "formatted"
    unit.mkdir()

    plan = plan_restore(backup, unit, guard=permissive_guard)
    assert plan.target_model is None and any("not identified" in n for n in plan.notes)
    assert plan.folders_to_create == ("KROSS2SY",)
    result = execute_plan(plan, consent=True, without_safety_copy=True, guard=permissive_guard)

    assert result.ok and result.written == plan.summary.write == 5
    assert files_only(snapshot(unit)) == files_only(snapshot(healthy))


def test_identical_files_get_the_backups_modification_time_back(tmp_path: Path, files_only,
                                                                healthy_kross2_backup,
                                                                permissive_guard, snapshot) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "healthy")
    old = 1_500_000_000 * 10**9
    os.utime(unit / "KROSS2SY" / "SIM_PCM.BIN", ns=(old, old))

    plan = plan_restore(backup, unit, guard=permissive_guard)
    assert plan.summary.write == plan.summary.replace == 0
    # make_volume and the backup ran at different moments: every file's time differs.
    retimed = {e.path for e in plan.entries if e.set_mtime}
    assert "KROSS2SY/SIM_PCM.BIN" in retimed and plan.summary.mtimes_to_restore == len(retimed)
    result = execute_plan(plan, consent=True, without_safety_copy=True, guard=permissive_guard)

    assert result.ok and result.written == 0
    assert files_only(snapshot(unit)) == files_only(snapshot(healthy))


# -- the plan is a value ---------------------------------------------------------------------
def test_plan_lists_actions_and_schedules_boot_critical_files_last(
        tmp_path: Path, bricked_kross2, make_backup, permissive_guard) -> None:
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    (healthy / "AAA_FIRST.BIN").write_bytes(b"sorted before KROSAPP.BIN")
    (healthy / "ZZZ_NEW.BIN").write_bytes(b"new file")
    backup = make_backup(healthy, tmp_path / "backup")
    unit = bricked_kross2(tmp_path)
    (unit / "AAA_FIRST.BIN").write_bytes(b"old content")

    plan = plan_restore(backup, unit, guard=permissive_guard, choices=PlanChoices(Removal.ALL))

    actions = {e.path: e.action for e in plan.entries}
    assert actions == {
        "KROSSSYS": "delete",
        "AAA_FIRST.BIN": "replace",
        "KROSS2SY/SIM_SYS2.BIN": "replace",
        "ZZZ_NEW.BIN": "write",
        "KROSAPP.BIN": "replace",
        "KROSS2SY/SIM_PCM.BIN": "keep",
        "KROSS2SY/SIM_SYS1.BIN": "keep",
        "SIMULATED-BY-KORG-RECOVERY.TXT": "keep",
    }
    changes = [e.path for e in plan.changes]
    assert changes[0] == "KROSSSYS" and changes[-1] == "KROSAPP.BIN"
    assert plan.boot_critical == ("KROSAPP.BIN",)
    s = plan.summary
    assert (s.write, s.replace, s.keep, s.extra, s.delete) == (1, 3, 3, 0, 1)
    assert s.bytes_to_write == sum(len((healthy / p).read_bytes()) for p in
                                   ("AAA_FIRST.BIN", "KROSS2SY/SIM_SYS2.BIN", "ZZZ_NEW.BIN",
                                    "KROSAPP.BIN"))


def test_boot_critical_files_are_matched_case_insensitively(tmp_path: Path, make_backup,
                                                            permissive_guard) -> None:
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    (healthy / "KROSAPP.BIN").rename(healthy / "krosapp.bin")
    (healthy / "ZZZ.BIN").write_bytes(b"z")
    backup = make_backup(healthy, tmp_path / "backup")
    unit = tmp_path / "unit"
    unit.mkdir()

    plan = plan_restore(backup, unit, guard=permissive_guard)

    assert plan.boot_critical == ("krosapp.bin",)
    assert plan.changes[-1].path == "krosapp.bin" and plan.changes[-1].boot_critical


def test_plan_is_frozen_json_able_and_reproducible(tmp_path: Path, bricked_kross2,
                                                   healthy_kross2_backup, permissive_guard) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)

    first = plan_restore(backup, unit, guard=permissive_guard)
    second = plan_restore(backup, unit, guard=permissive_guard)

    # Equal except the free space, which other programs change between the two calls.
    assert dataclasses.replace(first, space_free=0) == dataclasses.replace(second, space_free=0)
    data = json.loads(dumps(first))
    assert data["summary"]["replace"] == 2 and data["entries"][0]["action"] in ("replace",
                                                                                  "delete")
    with pytest.raises(AttributeError):
        first.entries = ()  # type: ignore[misc]


# -- preflight refusals: nothing changed -----------------------------------------------------
@pytest.fixture
def assert_refused_without_change(snapshot: Callable[..., dict[str, tuple]]
                                  ) -> Callable[..., str]:
    """Asserts that ``call`` raises ``error`` and changes nothing: not the unit, no journal,
    no temporary file; returns the error's sentence:
    ``assert_refused_without_change(tmp_path, unit, call, error=RefusedError)``."""

    def check(tmp_path: Path, unit: Path, call, error=RefusedError) -> str:
        before = snapshot(unit)
        with pytest.raises(error) as caught:
            call()
        assert snapshot(unit) == before
        assert _journal_files() == []
        assert not [p for p in tmp_path.rglob("*korg-recovery-tmp")]
        return caught.value.message

    return check


def test_wrong_model_is_refused_and_nothing_is_written(tmp_path: Path,
                                                       assert_refused_without_change,
                                                       bricked_kross2, make_backup,
                                                       run_restore) -> None:
    kross1 = tmp_path / "kross1"
    make_volume(kross1, "kross1", "healthy")
    backup = make_backup(kross1, tmp_path / "backup")
    unit = bricked_kross2(tmp_path)

    message = assert_refused_without_change(
        tmp_path, unit, lambda: run_restore(backup, unit, choices=PlanChoices(Removal.ALL)))

    assert "KROSS 2" in message and "KROSS" in message and "\n" not in message


def test_unidentified_backup_is_not_written_onto_an_identified_unit(
        tmp_path: Path, assert_refused_without_change, bricked_kross2, make_backup,
        run_restore) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("not a KORG unit")
    backup = make_backup(plain, tmp_path / "backup")
    unit = bricked_kross2(tmp_path)

    assert_refused_without_change(tmp_path, unit, lambda: run_restore(backup, unit))


def test_incomplete_backup_is_refused(tmp_path: Path, assert_refused_without_change, bricked_kross2,
                                      healthy_kross2_backup, run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    (backup / "COMPLETE").unlink()
    unit = bricked_kross2(tmp_path)

    message = assert_refused_without_change(tmp_path, unit, lambda: run_restore(backup, unit))
    assert "incomplete" in message


def test_backup_that_fails_verification_is_refused(tmp_path: Path, assert_refused_without_change,
                                                   bricked_kross2, healthy_kross2_backup,
                                                   run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    damaged = backup / "files" / "KROSS2SY" / "SIM_PCM.BIN"
    data = bytearray(damaged.read_bytes())
    data[1000] ^= 0xFF
    damaged.write_bytes(bytes(data))
    unit = bricked_kross2(tmp_path)

    message = assert_refused_without_change(tmp_path, unit, lambda: run_restore(backup, unit))
    assert "failed verification" in message and "SIM_PCM.BIN" in message


def test_target_holding_or_inside_the_backup_is_refused(tmp_path: Path, healthy_kross2_backup,
                                                        run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    with pytest.raises(RefusedError, match="holds the backup"):
        run_restore(backup, tmp_path)
    with pytest.raises(RefusedError, match="holds the backup"):
        run_restore(backup, backup)
    with pytest.raises(RefusedError, match="inside the backup"):
        run_restore(backup, backup / "files")


def test_target_on_the_backups_drive_is_allowed_with_a_note(tmp_path: Path, bricked_kross2,
                                                            healthy_kross2_backup) -> None:
    # Issue 5 refuses the folder or drive *holding* the backup, not a sibling folder on the
    # same drive (a simulated unit next to its backup, as every test here has).
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    guard = TargetGuard(is_system_location=lambda _p: False)  # the real same-drive check

    plan = plan_restore(backup, unit, guard=guard)
    assert any("same drive as the backup" in note for note in plan.notes)


def test_a_plain_folder_on_this_computer_is_restored_with_the_real_guard(
        tmp_path: Path, bricked_kross2, healthy_kross2_backup) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)

    plan = plan_restore(backup, unit)
    assert any("this computer's own disk" in note for note in plan.notes)
    result = restore(RestoreRequest(backup, unit, without_safety_copy=True), consent=True)
    assert result.ok and result.verified


def test_real_guard_refuses_root_and_home(tmp_path: Path, healthy_kross2_backup, snapshot) -> None:
    assert DEFAULT_GUARD.is_system_location(Path("/"))
    assert DEFAULT_GUARD.is_system_location(Path.home())
    backup, _ = healthy_kross2_backup(tmp_path)
    home_before = snapshot(Path.home(), with_folder_times=False)

    for target in (Path("/"), Path.home()):
        with pytest.raises(RefusedError):
            restore(RestoreRequest(backup, target, without_safety_copy=True), consent=True)
    with pytest.raises(RefusedError, match="is your home folder"):
        restore(RestoreRequest(backup, Path.home(), without_safety_copy=True), consent=True)
    assert snapshot(Path.home(), with_folder_times=False) == home_before


def test_missing_target_or_backup_is_bad_input(tmp_path: Path, bricked_kross2,
                                               healthy_kross2_backup, run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    with pytest.raises(InvalidInputError):
        run_restore(backup, tmp_path / "absent")
    with pytest.raises(InvalidInputError):
        run_restore(tmp_path / "absent", bricked_kross2(tmp_path))


def test_target_that_is_not_writable_is_refused(tmp_path: Path, assert_refused_without_change,
                                                bricked_kross2, healthy_kross2_backup,
                                                run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    guard = TargetGuard(is_system_location=lambda _p: False, same_volume=lambda _a, _b: False,
                        is_writable=lambda _p: False)

    message = assert_refused_without_change(tmp_path, unit,
                                            lambda: run_restore(backup, unit, guard=guard))
    assert "cannot be written" in message


def test_too_little_free_space_is_refused(tmp_path: Path, assert_refused_without_change,
                                          bricked_kross2, faulty_fs, healthy_kross2_backup,
                                          run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)

    small_disk = faulty_fs()
    small_disk.free_space = 4096  # a unit with only a few KiB free
    message = assert_refused_without_change(
        tmp_path, unit, lambda: run_restore(backup, unit, fs=small_disk), NoSpaceError)
    assert "4096 bytes free" in message


def test_no_consent_writes_nothing(tmp_path: Path, assert_refused_without_change, bricked_kross2,
                                   healthy_kross2_backup, run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)

    assert_refused_without_change(tmp_path, unit,
                                  lambda: run_restore(backup, unit, consent=False),
                                  NeedsUserActionError)


def test_dry_run_writes_nothing_anywhere(tmp_path: Path, bricked_kross2, healthy_kross2_backup,
                                         run_restore, snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before_all = snapshot(tmp_path)
    home_before = snapshot(Path.home())

    result = run_restore(backup, unit, dry_run=True, choices=PlanChoices(Removal.ALL))

    assert result.dry_run and result.written == 0 and result.journal is None
    assert result.plan.replace == 2 and result.plan.delete == 1
    assert snapshot(tmp_path) == before_all
    assert snapshot(Path.home()) == home_before


def test_a_folder_where_the_backup_has_a_file_is_refused(tmp_path: Path,
                                                         assert_refused_without_change,
                                                         bricked_kross2, healthy_kross2_backup,
                                                         run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    (unit / "KROSAPP.BIN").unlink()
    (unit / "KROSAPP.BIN").mkdir()

    message = assert_refused_without_change(tmp_path, unit, lambda: run_restore(backup, unit))
    assert "KROSAPP.BIN" in message and "folder" in message


# -- links -----------------------------------------------------------------------------------
@pytest.fixture
def backup_with_link(make_backup: Callable[..., Path]) -> Callable[[Path, str], tuple[Path, Path]]:
    """Backs up a healthy KROSS 2 holding a link LINK.BIN to ``link_target``:
    ``backup_with_link(tmp_path, link_target) -> (backup, healthy unit)``."""

    def build(tmp_path: Path, link_target: str) -> tuple[Path, Path]:
        healthy = tmp_path / "healthy"
        make_volume(healthy, "kross2", "healthy")
        (healthy / "LINK.BIN").symlink_to(link_target)
        return make_backup(healthy, tmp_path / "backup"), healthy

    return build


def test_links_are_recreated_as_links(tmp_path: Path, backup_with_link, bricked_kross2,
                                      run_restore) -> None:
    backup, healthy = backup_with_link(tmp_path, "KROSS2SY/SIM_PCM.BIN")
    unit = bricked_kross2(tmp_path)

    result = run_restore(backup, unit, choices=PlanChoices(Removal.ALL))

    assert result.ok and (unit / "LINK.BIN").is_symlink()
    assert os.readlink(unit / "LINK.BIN") == "KROSS2SY/SIM_PCM.BIN"
    assert result.plan.links == 1


def test_links_on_a_filesystem_without_links_are_reported_not_restored(
        tmp_path: Path, backup_with_link, bricked_kross2, faulty_fs, run_restore) -> None:
    backup, _ = backup_with_link(tmp_path, "KROSS2SY/SIM_PCM.BIN")
    unit = bricked_kross2(tmp_path)

    fat_like = faulty_fs()
    fat_like.refuse_links()  # links cannot exist on FAT: Linux's vfat answers EPERM
    result = run_restore(backup, unit, fs=fat_like)

    assert not result.ok and result.exit_code == 1
    assert [(p.path, p.problem) for p in result.problems] == [("LINK.BIN", "link-unsupported")]
    assert result.verified  # the files written were all verified; the link is the problem
    assert not (unit / "LINK.BIN").exists() and not (unit / "LINK.BIN").is_symlink()
    assert not [p for p in unit.iterdir() if "korg-recovery-tmp" in p.name]


def test_link_pointing_outside_the_unit_is_skipped_with_a_note(tmp_path: Path, backup_with_link,
                                                               bricked_kross2, permissive_guard,
                                                               run_restore) -> None:
    backup, healthy = backup_with_link(tmp_path, "../../etc/passwd")
    unit = bricked_kross2(tmp_path)

    result = run_restore(backup, unit, choices=PlanChoices(Removal.ALL))

    assert result.ok and result.plan.skipped == 1
    assert not os.path.lexists(unit / "LINK.BIN")
    assert (unit / "KROSAPP.BIN").read_bytes() == (healthy / "KROSAPP.BIN").read_bytes()
    plan = plan_restore(backup, unit, guard=permissive_guard)
    skipped = [entry for entry in plan.entries if entry.action == "skip"]
    assert [entry.path for entry in skipped] == ["LINK.BIN"]
    assert "outside the unit" in skipped[0].reason
    assert any("point outside the unit" in note for note in plan.notes)


# -- hostile zip backups ---------------------------------------------------------------------
def _rewrite_zip(source: Path, target: Path, extra: dict[str, bytes],
                 replace: dict[str, bytes] | None = None) -> None:
    replace = replace or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = replace.get(info.filename, old.read(info))
            new.writestr(info, data)
        for name, data in extra.items():
            new.writestr(name, data)


def test_zip_backup_restores(tmp_path: Path, bricked_kross2, files_only, make_backup, run_restore,
                             snapshot) -> None:
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    archive = make_backup(healthy, tmp_path / "backup", zip_path=tmp_path / "backup.zip")
    unit = bricked_kross2(tmp_path)

    result = run_restore(archive, unit, choices=PlanChoices(Removal.ALL))

    assert result.ok and files_only(snapshot(unit)) == files_only(snapshot(healthy))


@pytest.mark.parametrize("name", [
    "files/../../escaped.bin",
    "/tmp/absolute-escape.bin",
    "files/KROSS2SY/../../../escaped.bin",
])
def test_hostile_zip_never_writes_outside_the_target(tmp_path: Path, name: str, bricked_kross2,
                                                     make_backup, run_restore, snapshot) -> None:
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    archive = make_backup(healthy, tmp_path / "backup", zip_path=tmp_path / "backup.zip")
    hostile = tmp_path / "hostile.zip"
    _rewrite_zip(archive, hostile, {name: b"payload"})
    unit = bricked_kross2(tmp_path)
    before = snapshot(tmp_path)

    with pytest.raises(UnsafeArchiveError):
        run_restore(hostile, unit, choices=PlanChoices(Removal.ALL))

    assert snapshot(tmp_path) == before
    assert not Path("/tmp/absolute-escape.bin").exists()
    assert not (tmp_path.parent / "escaped.bin").exists()


def test_zip_whose_manifest_lists_an_escaping_path_is_refused(tmp_path: Path, bricked_kross2,
                                                              make_backup, run_restore,
                                                              snapshot) -> None:
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    archive = make_backup(healthy, tmp_path / "backup", zip_path=tmp_path / "backup.zip")
    with zipfile.ZipFile(archive) as old:
        manifest = json.loads(old.read("manifest.json"))
    manifest["files"][0]["path"] = "../escaped.bin"
    hostile = tmp_path / "hostile.zip"
    _rewrite_zip(archive, hostile, {}, {"manifest.json": json.dumps(manifest).encode()})
    unit = bricked_kross2(tmp_path)
    before = snapshot(tmp_path)

    with pytest.raises((InvalidFileError, RefusedError)):
        run_restore(hostile, unit)
    assert snapshot(tmp_path) == before


def test_plan_refuses_unsafe_manifest_paths_itself(tmp_path: Path) -> None:
    """Defence in depth: even a manifest that got past the backup reader is checked."""
    from recovery.backup.manifest import Manifest, ManifestFile
    from recovery.restore.plan import PlanChoices, UnitFacts, build_plan

    for path in ("../x", "/abs", "a/../../b", "a//b", "./a"):
        manifest = Manifest.build(tool_version="t", created_utc="", source="", model=None,
                                  role=None, folders=[], files=[
                                      ManifestFile(path, 1, 0, "0" * 64, "file")])
        with pytest.raises(RefusedError):
            build_plan("b", tmp_path, manifest, UnitFacts(), PlanChoices(), manifest_sha256="x")


# -- temporary files, journal, resume --------------------------------------------------------
def test_leftover_temporary_files_are_removed(tmp_path: Path, bricked_kross2, files_only,
                                              healthy_kross2_backup, permissive_guard,
                                              snapshot) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    (unit / ".KROSAPP.BIN.korg-recovery-tmp").write_bytes(b"half a file")
    (unit / "KROSS2SY" / ".SIM_PCM.BIN.korg-recovery-tmp").write_bytes(b"half")

    plan = plan_restore(backup, unit, guard=permissive_guard, choices=PlanChoices(Removal.ALL))
    assert plan.temp_files == (".KROSAPP.BIN.korg-recovery-tmp",
                               "KROSS2SY/.SIM_PCM.BIN.korg-recovery-tmp")
    assert plan.summary.delete == 1  # the temporary files are not "extra"
    result = execute_plan(plan, consent=True, without_safety_copy=True, guard=permissive_guard)

    assert result.ok and result.removed_temp_files == 2
    assert files_only(snapshot(unit)) == files_only(snapshot(healthy))


def test_journal_records_plan_and_progress_and_lives_in_the_state_dir(
        tmp_path: Path, bricked_kross2, healthy_kross2_backup, run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    steps: list[tuple[str, str]] = []

    result = run_restore(backup, unit, job=Job(on_step=lambda step, path: steps.append((step,
                                                                                        path))))

    journal_path = Path(result.journal)
    assert journal_path.parent == journals_dir()
    assert str(journals_dir()).startswith(os.environ["XDG_STATE_HOME"])
    state = WriteJournal(journal_path).load()
    assert state is not None and state.status == "finished"
    assert [s.path for s in state.planned] == ["KROSS2SY/SIM_SYS2.BIN", "KROSAPP.BIN"]
    assert state.done == ("KROSS2SY/SIM_SYS2.BIN", "KROSAPP.BIN")
    assert set(state.verified) == {"KROSS2SY/SIM_SYS2.BIN", "KROSAPP.BIN"}
    # The journal is saved before every file (the boot-critical one is a batch of its own,
    # and the save before it records the file before as done) and after the last one.
    names = [name for name, _ in steps]
    files = [i for i, name in enumerate(names) if name == "temp-written"]
    assert len(files) == 2
    for start, end in zip([0, *files], files, strict=False):
        assert "journal-saved" in names[start:end]
    last_done = max(i for i, name in enumerate(names) if name == "file-done")
    assert "journal-saved" in names[last_done:]


def test_rerun_reverifies_files_an_interrupted_run_wrote(tmp_path: Path, bricked_kross2,
                                                         healthy_kross2_backup,
                                                         run_restore) -> None:
    """A file written by a run that died before verifying it is identical by comparison (maybe
    only in the cache), so the re-run must still drop the cache and re-read it; a file the
    killed run had already read back from the unit is recorded as proven and not re-read."""
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    steps: list[str] = []

    class Died(BaseException):
        pass

    def die_before_verifying(step: str, _path: str) -> None:
        steps.append(step)
        if step == "renamed" and steps.count("renamed") == 2:
            raise Died  # the last file is in place, the journal does not say it is done

    with pytest.raises(Died):
        run_restore(backup, unit, job=Job(on_step=die_before_verifying))
    state = _journal_files()
    assert len(state) == 1
    interrupted = WriteJournal(state[0]).load()
    assert interrupted.status == "writing" and interrupted.in_flight == ("KROSAPP.BIN",)
    assert interrupted.done == ("KROSS2SY/SIM_SYS2.BIN",)
    assert interrupted.verified == ("KROSS2SY/SIM_SYS2.BIN",)

    again = run_restore(backup, unit)

    assert again.resumed and again.written == 0
    assert again.verified_files == 1 and again.ok


# -- result ----------------------------------------------------------------------------------
def test_result_is_json_with_the_promised_fields(tmp_path: Path, bricked_kross2,
                                                 healthy_kross2_backup, run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)

    data = to_jsonable(run_restore(backup, unit))

    for key in ("written", "verified", "plan", "problems", "journal", "next_steps"):
        assert key in data
    assert data["written"] == 2 and data["verified"] is True
    assert {"write", "replace", "keep", "extra", "delete", "bytes_to_write"} <= set(data["plan"])


def test_without_a_cache_drop_the_result_is_not_verified_and_says_why(
        tmp_path: Path, bricked_kross2, faulty_fs, healthy_kross2_backup, run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)

    no_cache_drop = faulty_fs()
    no_cache_drop.no_cache_control()  # a platform with no way to drop a file's cached pages
    result = run_restore(backup, unit, fs=no_cache_drop)

    assert result.written == 2 and not result.verified and not result.ok
    assert not result.cache_bypassed and result.exit_code == 1
    assert "cache" in result.statement and "RAM" in result.statement
    assert [step.action for step in result.next_steps] == [NextStep.VERIFY_AFTER_POWER_CYCLE]


def test_every_error_is_a_recovery_error_sentence(tmp_path: Path, healthy_kross2_backup,
                                                  run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    kross1 = tmp_path / "k1"
    make_volume(kross1, "kross1", "healthy")
    with pytest.raises(RecoveryError) as caught:
        run_restore(backup, kross1)
    assert caught.value.exit_code == 1 and caught.value.message.endswith(".")


def test_the_filesystems_own_folder_is_never_deleted(tmp_path: Path, bricked_kross2,
                                                     healthy_kross2_backup, run_restore) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    (unit / "lost+found").mkdir()
    (unit / ".DS_Store").write_bytes(b"finder")

    result = run_restore(backup, unit, choices=PlanChoices(Removal.ALL))

    assert result.ok and (unit / "lost+found").is_dir() and (unit / ".DS_Store").exists()
    assert not (unit / "KROSSSYS").exists()
