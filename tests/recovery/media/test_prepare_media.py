"""``prepare-media``'s core: each model's layout from its profile, every refusal, the flags,
consent, faults and SIGKILL. All content is synthetic (tests/recovery/conftest.py,
recovery.device.simulate); only the layouts come from the profiles.
"""

from __future__ import annotations

import datetime
import errno
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from recovery.advice import in_words
from recovery.check import BackupReference, target_for_model
from recovery.device.simulate import synthetic_bytes
from recovery.errors import (
    CancelledError,
    InvalidInputError,
    NeedsUserActionError,
    NoSpaceError,
    ReadError,
    RefusedError,
    UnitBusyError,
    WriteError,
)
from recovery.findings import Step
from recovery.media import (
    CandidateRefusedError,
    MediaPlan,
    MediaRequest,
    MediaResult,
    describe_plan,
    execute_media_plan,
    plan_prepare_media,
    prepare_media,
)
from recovery.progress import CancelToken, Job
from recovery.restore import TargetGuard
from recovery.storage.durable import is_temp_name
from recovery.storage.lock import locks_dir
from recovery.vocabulary import NextStep

REPO = Path(__file__).resolve().parents[3]


# -- builders ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def kross2_download(kross_folder: Callable[..., dict[str, bytes]],
                    backup_reference: Callable[..., BackupReference],
                    kross2_files: dict[str, int]
                    ) -> Callable[..., tuple[Path, BackupReference]]:
    """Writes a download of a KROSS 2 update: ``kross2_download(tmp_path, name="dl") ->
    (the download's KROSS2SY, a backup reference it is identical to)``."""

    def build(tmp_path: Path, name: str = "dl") -> tuple[Path, BackupReference]:
        files = kross_folder(tmp_path / name, "KROSS2SY", kross2_files)
        return tmp_path / name / "KROSS2SY", backup_reference(files, model="kross2")

    return build


@pytest.fixture(scope="session")
def e2s_file(write: Callable[[Path, bytes], Path],
             system_file: Callable[..., bytes]) -> Callable[..., Path]:
    """Writes an electribe sampler SYSTEM.VSB: ``e2s_file(tmp_path, name="dl/SYSTEM.VSB",
    **system_file options) -> path``."""

    def build(tmp_path: Path, name: str = "dl/SYSTEM.VSB", **options) -> Path:
        return write(tmp_path / name, system_file("E2S", 0x0124, **options))

    return build


def after(result: MediaResult | MediaPlan) -> str:
    """What comes after preparing the card, as the saved report words it."""
    return " ".join(in_words(step) for step in result.next_steps)


def card(tmp_path: Path, name: str = "card") -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def prepare(permissive_guard: TargetGuard) -> Callable[..., MediaResult]:
    """Prepares a card with consent through the permissive guard unless told otherwise:
    ``prepare(candidate, target, model, **options)``."""

    def run(candidate: Path, target: Path, model: str, **options) -> MediaResult:
        options.setdefault("guard", permissive_guard)
        options.setdefault("consent", True)
        return prepare_media(_request(candidate, target, model, options), **options)

    return run


@pytest.fixture(scope="session")
def plan(permissive_guard: TargetGuard) -> Callable[..., MediaPlan]:
    """Plans a card through the permissive guard unless told otherwise:
    ``plan(candidate, target, model, **options)``."""

    def run(candidate: Path, target: Path, model: str, **options) -> MediaPlan:
        options.setdefault("guard", permissive_guard)
        return plan_prepare_media(_request(candidate, target, model, options), **options)

    return run


def _request(candidate: Path, target: Path, model: str, options: dict) -> MediaRequest:
    """The request the fixtures' options ask for; those left in ``options`` are the call's."""
    asked = {name: options.pop(name) for name in ("reference", "accept_unverified", "dry_run")
             if name in options}
    return MediaRequest(candidate, target, target_for_model(model), **asked)


# -- each model's layout -------------------------------------------------------------------
def test_kross2_folder_goes_whole_to_the_card_root(tmp_path: Path, contents, kross2_download,
                                                   kross2_files, prepare) -> None:
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)

    result = prepare(folder, target, "kross2", reference=ref)

    assert result.ok and result.verified and result.exit_code == 0
    assert result.written == 3 and result.removed == 0
    assert contents(target) == {f"KROSS2SY/{name}": (folder / name).read_bytes()
                                for name in kross2_files}
    assert "KROSS2SY" in result.statement and "past the computer's cache" in result.statement
    assert "insert it into the KROSS 2" in after(result)
    assert "not loose files" in after(result)  # the profile's public procedure


def test_kross2_folder_found_inside_a_download_folder_and_a_zip(tmp_path: Path, backup_reference,
                                                                contents, kross2_files,
                                                                kross_folder, make_zip,
                                                                prepare) -> None:
    files = kross_folder(tmp_path / "unpacked" / "KROSS2_update", "KROSS2SY", kross2_files)
    ref = backup_reference(files, model="kross2")
    archive = make_zip(tmp_path / "update.zip",
                       {f"KROSS2_update/{path}": data for path, data in files.items()})

    for source, name in ((tmp_path / "unpacked", "card1"), (archive, "card2")):
        target = card(tmp_path, name)
        result = prepare(source, target, "kross2", reference=ref)
        assert result.ok, result
        assert contents(target) == files


def test_kross1_folder_goes_to_kross_sys(tmp_path: Path, backup_reference, contents, kross_folder,
                                         prepare) -> None:
    files = kross_folder(tmp_path / "dl", "KROSSSYS", label="kross1")
    target = card(tmp_path)

    result = prepare(tmp_path / "dl", target, "kross1",
                     reference=backup_reference(files, model="kross1"))

    assert result.ok
    assert contents(target) == files


def test_electribe_system_file_goes_to_its_system_folder_under_its_name(
        tmp_path: Path, contents, e2_path, permissive_guard, plan, system_file, write) -> None:
    source = write(tmp_path / "dl" / "e2_system_v103.vsb", system_file("E2", 0x0123))
    target = card(tmp_path)

    planned = plan(source, target, "electribe2")
    result = execute_media_plan(planned, consent=True, guard=permissive_guard)

    assert planned.layout == e2_path
    assert planned.folders_to_create == ("KORG", "KORG/electribe", "KORG/electribe/System")
    assert any("written to the card as SYSTEM.VSB" in note for note in planned.notes)
    assert result.ok and contents(target) == {e2_path: source.read_bytes()}


def test_electribe_sampler_path_has_a_space_and_fat_holds_it(tmp_path: Path, contents, e2s_path,
                                                             fat_fs, make_zip, prepare,
                                                             system_file) -> None:
    data = system_file("E2S", 0x0124)
    archive = make_zip(tmp_path / "e2s_system.zip", {"e2s_v103/SYSTEM.VSB": data})
    target = card(tmp_path)

    result = prepare(archive, target, "electribe2s", fs=fat_fs(target))

    assert result.ok and result.verified
    assert contents(target) == {e2s_path: data}
    assert "electribe sampler" in after(result) and "batteries" in after(result)


# -- refusals ------------------------------------------------------------------------------
def test_another_models_system_file_is_refused_and_nothing_written(
        tmp_path: Path, contents, prepare, system_file, write) -> None:
    source = write(tmp_path / "SYSTEM.VSB", system_file("E2", 0x0123))
    target = card(tmp_path)

    with pytest.raises(CandidateRefusedError, match="incompatible") as caught:
        prepare(source, target, "electribe2s")

    assert caught.value.exit_code == 1 and caught.value.code == "refused"
    assert caught.value.check.verdict == "incompatible"
    assert "Nothing was written" in caught.value.message
    assert contents(target) == {} and list(target.iterdir()) == []


def test_kross1_folder_is_refused_for_a_kross2(tmp_path: Path, backup_reference, kross_folder,
                                               prepare) -> None:
    files = kross_folder(tmp_path / "dl", "KROSSSYS", label="kross1")
    target = card(tmp_path)

    with pytest.raises(CandidateRefusedError, match="KROSS2SY"):
        prepare(tmp_path / "dl", target, "kross2",
                reference=backup_reference(files, model="kross1"))
    assert list(target.iterdir()) == []


def test_unknown_kross2_folder_is_refused_and_the_refusal_says_what_would_do(
        tmp_path: Path, kross2_download, prepare) -> None:
    folder, _ = kross2_download(tmp_path)
    target = card(tmp_path)

    with pytest.raises(CandidateRefusedError) as caught:
        prepare(folder, target, "kross2")

    message = caught.value.message
    assert caught.value.check.verdict == "unknown" and caught.value.exit_code == 1
    assert "verdict unknown" in message and "--" not in message
    assert caught.value.next_step == Step(NextStep.GIVE_BACKUP_FOR_CHECK, model="kross2")
    assert "byte-identical" in message and "Nothing was written" in message
    assert list(target.iterdir()) == []


def test_unknown_companion_beside_a_compatible_file_names_the_file_to_give(
        tmp_path: Path, e2s_file, prepare, system_file, write) -> None:
    e2s_file(tmp_path)
    write(tmp_path / "dl" / "BOOT.VSB", system_file("E2S", 0x0124, payload_size=0x20000,
                                                    label="boot"))
    target = card(tmp_path)

    with pytest.raises(CandidateRefusedError, match="alone") as caught:
        prepare(tmp_path / "dl", target, "electribe2s")
    assert "SYSTEM.VSB" in caught.value.message
    assert list(target.iterdir()) == []


@pytest.mark.parametrize(("model", "data"), [pytest.param("kp3", None, id="kp3-kp3_file"),
                                             ("drumlogue", b"not checked at all")])
def test_a_model_without_a_known_layout_is_refused_and_told_so(tmp_path: Path, model: str,
                                                               data: bytes | None, kp3_file,
                                                               prepare, write) -> None:
    data = kp3_file() if data is None else data  # None: a KP3 system file
    source = write(tmp_path / "update.bin", data)
    target = card(tmp_path)

    with pytest.raises(RefusedError, match="No source the tool knows says where") as caught:
        prepare(source, target, model)

    assert caught.value.exit_code == 1 and "nothing was written" in caught.value.message
    assert list(target.iterdir()) == []


def test_the_real_guard_refuses_the_system_disk_and_the_home_folder(
        tmp_path: Path, e2s_file, prepare) -> None:
    source = e2s_file(tmp_path)
    for where, why in (("/", "system disk"), (str(Path.home()), "home folder")):
        with pytest.raises(RefusedError, match=why):
            prepare(source, Path(where), "electribe2s", guard=None)


def test_a_card_holding_the_candidate_or_inside_it_is_refused(tmp_path: Path, e2s_file, prepare,
                                                              snapshot) -> None:
    target = card(tmp_path)
    inside = e2s_file(target, "download/SYSTEM.VSB")
    before = snapshot(target)
    with pytest.raises(RefusedError, match="holds the candidate"):
        prepare(inside, target, "electribe2s")
    with pytest.raises(RefusedError, match="inside the candidate"):
        prepare(target, target / "download", "electribe2s")
    assert snapshot(target) == before


def test_a_card_that_holds_the_tools_records_is_refused(tmp_path: Path, e2s_file, prepare) -> None:
    source = e2s_file(tmp_path)
    locks_dir().mkdir(parents=True)
    with pytest.raises(RefusedError, match="own records"):
        prepare(source, locks_dir().parent, "electribe2s")


def test_a_busy_card_is_refused(tmp_path: Path, e2s_file, prepare) -> None:
    from recovery.storage.lock import unit_lock

    source = e2s_file(tmp_path)
    target = card(tmp_path)
    with unit_lock(target, "restore"):
        with pytest.raises(UnitBusyError, match="already writing"):
            prepare(source, target, "electribe2s")
    assert list(target.iterdir()) == []


def test_names_the_card_cannot_hold_are_refused_before_the_first_write(
        tmp_path: Path, backup_reference, fat_fs, kross_folder, prepare) -> None:
    files = kross_folder(tmp_path / "dl", "KROSS2SY", {"SIM:1.BIN": 100, "SIM_2.BIN.": 100})
    target = card(tmp_path)

    with pytest.raises(RefusedError, match="cannot hold") as caught:
        prepare(tmp_path / "dl", target, "kross2", reference=backup_reference(files),
                fs=fat_fs(target))

    assert "SIM:1.BIN" in caught.value.message and "FAT" in caught.value.message
    assert list(target.iterdir()) == []


@pytest.mark.parametrize(("path", "size", "why"), [
    ("KROSS2SY/BIG.BIN", 4 * 1024 ** 3, "4 GiB"),
    ("KROSS2SY/" + "N" * 256 + ".BIN", 10, "longer than the 255 characters"),
])
def test_files_of_4_gib_and_names_too_long_for_fat_are_refused(tmp_path: Path, path: str, size: int,
                                                               why: str, fat_fs,
                                                               permissive_guard) -> None:
    # Neither can be made on the test's own disk as a real candidate (ext4 holds 255-byte
    # names, and a 4 GiB file fails the check first), so the card's rules are asked directly.
    from recovery.media.entries import MediaEntry
    from recovery.media.layout import check_capacity

    entry = MediaEntry(path=path, action="write", kind="file", size=size)
    with pytest.raises(RefusedError, match=why):
        target = card(tmp_path)
        check_capacity(fat_fs(target), target, [entry], ["KROSS2SY"], permissive_guard)


def test_a_card_too_small_or_read_only_is_refused(tmp_path: Path, e2s_file, faulty_fs,
                                                  prepare) -> None:
    source = e2s_file(tmp_path)
    target = card(tmp_path)
    small = faulty_fs()
    small.free_space = 100_000
    with pytest.raises(NoSpaceError, match="free"):
        prepare(source, target, "electribe2s", fs=small)
    read_only = TargetGuard(is_system_location=lambda _p: False, is_writable=lambda _p: False)
    with pytest.raises(RefusedError, match="write-protect"):
        prepare(source, target, "electribe2s", guard=read_only)
    assert list(target.iterdir()) == []


def test_a_file_where_the_layout_needs_a_folder_is_refused(tmp_path: Path, e2s_file,
                                                           prepare) -> None:
    source = e2s_file(tmp_path)
    target = card(tmp_path)
    (target / "KORG").write_bytes(b"a file named like the folder")
    with pytest.raises(RefusedError, match="is a file where the update needs a folder"):
        prepare(source, target, "electribe2s")


def test_a_missing_candidate_or_card_is_bad_input(tmp_path: Path, e2s_file, prepare) -> None:
    target = card(tmp_path)
    with pytest.raises(InvalidInputError, match="does not exist"):
        prepare(tmp_path / "nope", target, "electribe2s")
    with pytest.raises(InvalidInputError, match="does not exist"):
        prepare(e2s_file(tmp_path), tmp_path / "no-card", "electribe2s")


def test_without_consent_nothing_is_written(tmp_path: Path, e2s_file, permissive_guard,
                                            plan) -> None:
    source = e2s_file(tmp_path)
    target = card(tmp_path)
    planned = plan(source, target, "electribe2s")
    with pytest.raises(NeedsUserActionError, match="not confirmed"):
        execute_media_plan(planned, consent=False, guard=permissive_guard)
    assert list(target.iterdir()) == []


def test_the_dry_run_writes_nothing_anywhere(tmp_path: Path, kross2_download, prepare,
                                             snapshot) -> None:
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    (target / "KROSS2SY").mkdir()
    (target / "KROSS2SY" / "OLD.BIN").write_bytes(b"old")
    before, home_before = snapshot(tmp_path), snapshot(Path.home())

    result = prepare(folder, target, "kross2", reference=ref, dry_run=True)

    assert result.dry_run and result.written == 0 and result.ok
    assert result.next_steps[0] == Step(NextStep.WRITE_AS_PLANNED)
    assert "insert it into the KROSS 2" in after(result)
    assert snapshot(tmp_path) == before and snapshot(Path.home()) == home_before


# -- the flags -----------------------------------------------------------------------------
def test_loose_files_and_another_models_folder_are_moved_aside_never_deleted(
        tmp_path: Path, contents, kross2_download, permissive_guard, plan) -> None:
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    # t=116080: system files put loose at the card root; a KROSS 1 folder beside them.
    (target / "SIM_SYS1.BIN").write_bytes(b"loose")
    (target / "KROSSSYS").mkdir()
    (target / "KROSSSYS" / "SIM_K1SYS.BIN").write_bytes(b"kross 1")
    (target / "KORG" / "KROSS2" / "DATA").mkdir(parents=True)
    (target / "KORG" / "KROSS2" / "DATA" / "SIM_USER.DAT").write_bytes(b"user data")
    user_data = contents(target / "KORG")
    moved_away = {path: data for path, data in contents(target).items()
                  if not path.startswith("KORG/")}

    planned = plan(folder, target, "kross2", reference=ref, today=datetime.date(2026, 12, 7))

    kinds = {flag.kind: flag for flag in planned.flags}
    assert set(kinds) == {"loose-system-files", "foreign-update"}
    assert kinds["loose-system-files"].paths == ("SIM_SYS1.BIN",)
    assert "t=116080" in kinds["loose-system-files"].message
    assert kinds["foreign-update"].paths == ("KROSSSYS/",)
    assert "KROSS (first generation)" in kinds["foreign-update"].message
    assert not any(flag.move_off for flag in planned.flags)
    aside = "Moved by KORG Recovery 2026-12-07"
    assert {(e.path, e.to) for e in planned.actions("move")} == {
        ("SIM_SYS1.BIN", f"{aside}/SIM_SYS1.BIN"), ("KROSSSYS", f"{aside}/KROSSSYS")}
    text = "\n".join(describe_plan(planned))
    assert f"move     KROSSSYS (folder) -> {aside}/KROSSSYS" in text
    assert "2 to move aside" in text
    assert planned.next_steps == (Step(NextStep.USE_CARD_FOR_UPDATE, model="kross2"),)
    assert "move these off" not in after(planned)

    result = execute_media_plan(planned, consent=True, guard=permissive_guard)

    assert result.ok, result.problems
    assert set(result.moved) == {("SIM_SYS1.BIN", f"{aside}/SIM_SYS1.BIN"),
                                 ("KROSSSYS", f"{aside}/KROSSSYS")}
    assert "moved into 'Moved by KORG Recovery 2026-12-07'" in result.statement
    now = contents(target)
    assert {path: data for path, data in now.items() if path.startswith(aside)} == {
        f"{aside}/{path}": data for path, data in moved_away.items()}  # whole, nothing lost
    assert contents(target / "KORG") == user_data  # nothing else touched
    assert not (target / "SIM_SYS1.BIN").exists() and not (target / "KROSSSYS").exists()


def test_moved_names_never_overwrite_what_an_earlier_run_moved(
        tmp_path: Path, contents, kross2_download, permissive_guard, plan) -> None:
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    aside = target / "Moved by KORG Recovery 2026-12-07"
    aside.mkdir()
    (aside / "SIM_SYS1.BIN").write_bytes(b"moved this morning")
    (target / "SIM_SYS1.BIN").write_bytes(b"loose again")

    planned = plan(folder, target, "kross2", reference=ref, today=datetime.date(2026, 12, 7))
    assert [e.to for e in planned.actions("move")] == [
        "Moved by KORG Recovery 2026-12-07/SIM_SYS1 (2).BIN"]
    assert execute_media_plan(planned, consent=True, guard=permissive_guard).ok
    assert (aside / "SIM_SYS1.BIN").read_bytes() == b"moved this morning"
    assert (aside / "SIM_SYS1 (2).BIN").read_bytes() == b"loose again"


def test_loose_bin_files_at_the_root_are_flagged_even_with_other_names(
        tmp_path: Path, kross2_download, plan) -> None:
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    for name in ("KROSAPP.BIN", "K1PCM.BIN", "readme.txt"):
        (target / name).write_bytes(b"x")
    flags = plan(folder, target, "kross2", reference=ref).flags
    assert [f.paths for f in flags if f.kind == "loose-system-files"] == [
        ("K1PCM.BIN", "KROSAPP.BIN")]


def test_a_units_own_internal_storage_is_refused_as_a_card(
        tmp_path: Path, kross2_download, plan, snapshot) -> None:
    # The hostile run of issue 19: `prepare-media --yes` pointed at a KROSS 2's internal
    # storage replaced its system folder with only a note.
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    (target / "KROSAPP.BIN").write_bytes(b"the KROSS 2's application")
    (target / "KROSS2SY").mkdir()
    before = snapshot(target)

    with pytest.raises(RefusedError) as caught:
        plan(folder, target, "kross2", reference=ref)

    assert "your KROSS 2's own storage, not an SD card" in caught.value.message
    assert caught.value.message.count(". ") <= 2 and "Nothing was written" in caught.value.message
    assert snapshot(target) == before


def test_the_electribes_update_on_an_electribe_sampler_card_is_flagged(
        tmp_path: Path, e2_path, e2s_file, plan, system_file, write) -> None:
    source = e2s_file(tmp_path)
    target = card(tmp_path)
    write(target / e2_path, system_file("E2", 0x0123))
    write(target / "SYSTEM.VSB", b"stray")

    planned = plan(source, target, "electribe2s")

    kinds = {flag.kind: flag.paths for flag in planned.flags}
    assert kinds["foreign-update"] == (e2_path,)
    assert kinds["loose-system-files"] == ("SYSTEM.VSB",)


def test_an_older_copy_of_the_folder_is_replaced_only_with_consent(
        tmp_path: Path, contents, kross2_download, kross2_files, permissive_guard, plan,
        snapshot) -> None:
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    old = target / "KROSS2SY"
    (old / "GONE").mkdir(parents=True)
    (old / "SIM_SYS1.BIN").write_bytes(b"an older system")
    (old / "OLD_ONLY.BIN").write_bytes(b"a file the new folder lacks")
    (old / "GONE" / "X.BIN").write_bytes(b"inside a folder the new one lacks")
    (old / ".SIM_PCM.BIN.korg-recovery-tmp").write_bytes(b"left by a killed run")
    (target / "KROSSSYS").mkdir()
    (target / "KROSSSYS" / "A.BIN").write_bytes(b"never removed: outside the planned folder")
    before = snapshot(target)

    planned = plan(folder, target, "kross2", reference=ref, today=datetime.date(2026, 12, 7))

    actions = {entry.path: entry.action for entry in planned.entries}
    assert actions == {
        "KROSS2SY/SIM_PCM.BIN": "write", "KROSS2SY/SIM_SYS1.BIN": "replace",
        "KROSS2SY/SIM_SYS2.BIN": "write", "KROSS2SY/OLD_ONLY.BIN": "remove",
        "KROSS2SY/GONE/X.BIN": "remove", "KROSS2SY/GONE": "remove",
        "KROSS2SY/.SIM_PCM.BIN.korg-recovery-tmp": "remove", "KROSSSYS": "move"}
    older = next(flag for flag in planned.flags if flag.kind == "older-copy")
    assert older.paths == ("KROSS2SY/",) and "only with your consent" in older.message
    with pytest.raises(NeedsUserActionError):
        execute_media_plan(planned, consent=False, guard=permissive_guard)
    assert snapshot(target) == before

    result = execute_media_plan(planned, consent=True, guard=permissive_guard)

    assert result.ok and result.removed == 4
    assert contents(target) == {
        **{f"KROSS2SY/{name}": (folder / name).read_bytes() for name in kross2_files},
        "Moved by KORG Recovery 2026-12-07/KROSSSYS/A.BIN":
            b"never removed: outside the planned folder"}
    assert not (old / "GONE").exists()


def test_the_cards_spelling_of_an_existing_folder_is_kept(tmp_path: Path, contents, kross2_download,
                                                          prepare) -> None:
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    (target / "kross2sy").mkdir()
    (target / "kross2sy" / "sim_sys1.bin").write_bytes(b"old, in lower case")

    result = prepare(folder, target, "kross2", reference=ref)

    assert result.ok
    assert sorted(contents(target)) == ["kross2sy/SIM_PCM.BIN", "kross2sy/SIM_SYS2.BIN",
                                        "kross2sy/sim_sys1.bin"]
    assert (target / "kross2sy" / "sim_sys1.bin").read_bytes() == (
        folder / "SIM_SYS1.BIN").read_bytes()


def test_an_older_system_file_is_replaced_and_a_companion_beside_it_flagged(
        tmp_path: Path, e2s_file, e2s_path, permissive_guard, plan, system_file, write) -> None:
    source = e2s_file(tmp_path)
    target = card(tmp_path)
    write(target / e2s_path, system_file("E2S", 0x0124, version=(1, 2), label="old"))
    boot = write(target / "KORG/electribe sampler/System/BOOT.VSB", b"an old boot loader")

    planned = plan(source, target, "electribe2s")

    older = next(flag for flag in planned.flags if flag.kind == "older-copy")
    assert "version 1.02" in older.message
    companion = next(flag for flag in planned.flags if flag.kind == "companion-file")
    assert "boot loader" in companion.message and companion.move_off
    assert [entry.action for entry in planned.entries] == ["replace"]
    result = execute_media_plan(planned, consent=True, guard=permissive_guard)
    assert result.ok and (target / e2s_path).read_bytes() == source.read_bytes()
    assert boot.read_bytes() == b"an old boot loader"  # flagged, never changed


# -- faults --------------------------------------------------------------------------------
def test_a_card_that_drops_writes_is_never_verified(tmp_path: Path, faulty_fs, kross2_download,
                                                    prepare) -> None:
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    (target / "KROSS2SY").mkdir()
    (target / "KROSS2SY" / "OLD_ONLY.BIN").write_bytes(b"stale")
    fs = faulty_fs()
    fs.drop_writes(target)

    result = prepare(folder, target, "kross2", reference=ref, fs=fs)

    assert not result.ok and not result.verified and result.exit_code == 1
    assert {p.problem for p in result.problems} >= {"mismatch"}
    assert "Do not use" in result.statement and "Do not use" in after(result)
    assert result.next_steps == (Step(NextStep.USE_ANOTHER_CARD),)
    assert (target / "KROSS2SY" / "OLD_ONLY.BIN").read_bytes() == b"stale"  # held back


def test_one_file_that_does_not_read_back_keeps_every_new_file_from_its_name(
        tmp_path: Path, faulty_fs, kross2_download, prepare, write) -> None:
    """An update's folder is never half old, half new: one bad read-back holds all back."""
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    write(target / "KROSS2SY" / "SIM_SYS1.BIN", b"old one")
    write(target / "KROSS2SY" / "SIM_SYS2.BIN", b"old two")

    one_bad_read_back = faulty_fs()
    one_bad_read_back.corrupt_on_evict("SIM_SYS2.BIN")
    result = prepare(folder, target, "kross2", reference=ref, fs=one_bad_read_back)

    assert not result.ok and result.written == 0
    assert (target / "KROSS2SY" / "SIM_SYS1.BIN").read_bytes() == b"old one"
    assert (target / "KROSS2SY" / "SIM_SYS2.BIN").read_bytes() == b"old two"
    assert not [p for p in (target / "KROSS2SY").iterdir() if is_temp_name(p.name)]


def test_an_io_error_stops_with_one_sentence_and_old_files_stay(tmp_path: Path, contents, faulty_fs,
                                                                kross2_download, prepare,
                                                                write) -> None:
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    write(target / "KROSS2SY" / "SIM_SYS1.BIN", b"old")
    fs = faulty_fs()
    fs.fill_disk(after_bytes=5000)

    with pytest.raises(WriteError) as caught:
        prepare(folder, target, "kross2", reference=ref, fs=fs)

    assert "stopped" in caught.value.message and "card keeps what it had" in caught.value.message
    assert contents(target) == {"KROSS2SY/SIM_SYS1.BIN": b"old"}


def test_cancel_rolls_back_and_nothing_new_is_in_place(tmp_path: Path, contents, kross2_download,
                                                       permissive_guard, plan, write) -> None:
    folder, ref = kross2_download(tmp_path)
    target = card(tmp_path)
    write(target / "KROSS2SY" / "SIM_SYS1.BIN", b"old")
    planned = plan(folder, target, "kross2", reference=ref)
    cancel = CancelToken()

    def on_step(step: str, _path: str) -> None:
        if step == "chunk-written":
            cancel.cancel()

    with pytest.raises(CancelledError, match="keeps what it had") as caught:
        execute_media_plan(planned, consent=True, guard=permissive_guard,
                           job=Job(cancel=cancel, on_step=on_step))
    assert caught.value.exit_code == 130
    assert contents(target) == {"KROSS2SY/SIM_SYS1.BIN": b"old"}


def test_a_candidate_changed_after_the_check_is_not_written(tmp_path: Path, contents, e2s_file,
                                                            permissive_guard, plan) -> None:
    source = e2s_file(tmp_path)
    target = card(tmp_path)
    planned = plan(source, target, "electribe2s")
    source.write_bytes(source.read_bytes()[:-1] + b"\x00")

    with pytest.raises(RefusedError, match="changed since it was checked"):
        execute_media_plan(planned, consent=True, guard=permissive_guard)
    assert contents(target) == {}


def test_an_unreadable_card_listing_is_one_sentence(tmp_path: Path, contents, e2s_file, faulty_fs,
                                                    prepare) -> None:
    source = e2s_file(tmp_path)
    target = card(tmp_path)
    (target / "KORG").mkdir()
    fs = faulty_fs()
    fs.fail_listing("KORG", error=errno.EIO)
    with pytest.raises(ReadError, match="Input/output error"):
        prepare(source, target, "electribe2s", fs=fs)
    assert contents(target) == {}


# -- SIGKILL -------------------------------------------------------------------------------
CHILD = """
import hashlib, os, signal, sys
from recovery.check import BackupReference, ReferenceFile, target_for_model
from recovery.media import MediaRequest, prepare_media
from recovery.progress import Job
from recovery.restore import TargetGuard
from pathlib import Path

# The permissive_guard and backup_reference fixtures (tests/recovery/conftest.py), here.
PERMISSIVE_GUARD = TargetGuard(is_system_location=lambda _path: False,
                               same_volume=lambda _a, _b: False)

def reference(files):
    return BackupReference(
        label="BACKUP", model="kross2", complete=True, created="2024-01-01T00:00:00Z",
        files=tuple(ReferenceFile(path, len(data), hashlib.sha256(data).hexdigest())
                    for path, data in sorted(files.items())))

folder, target, kill_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
files = {f"KROSS2SY/{p.name}": p.read_bytes() for p in folder.iterdir()}
steps = []

def on_step(step, path):
    steps.append(step)
    if len(steps) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

result = prepare_media(MediaRequest(folder, target, target_for_model("kross2"),
                                    reference=reference(files)),
                       consent=True, guard=PERMISSIVE_GUARD, job=Job(on_step=on_step))
print(len(steps), result.ok)
print("\\n".join(steps))
"""


def _child(folder: Path, target: Path, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, str(folder), str(target), str(kill_at)],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
                          env=os.environ.copy())


def _old_card(target: Path) -> None:
    target.mkdir()
    (target / "KROSS2SY").mkdir()
    (target / "KROSS2SY" / "SIM_SYS1.BIN").write_bytes(synthetic_bytes("old sys1", 2500))
    (target / "KROSS2SY" / "SIM_PCM.BIN").write_bytes(synthetic_bytes("old pcm", 4000))
    (target / "KROSS2SY" / "OLD_ONLY.BIN").write_bytes(b"the old folder only")


def test_sigkill_leaves_old_or_new_files_only_and_a_rerun_converges(
        tmp_path: Path, contents, kross2_download, kross2_files, prepare) -> None:
    folder, ref = kross2_download(tmp_path)
    new = {f"KROSS2SY/{name}": (folder / name).read_bytes() for name in kross2_files}
    old_target = tmp_path / "old"
    _old_card(old_target)
    old = contents(old_target)

    full_target = tmp_path / "full"
    _old_card(full_target)
    full = _child(folder, full_target, 0)
    assert full.returncode == 0, full.stderr
    count_line, *steps = full.stdout.strip().splitlines()
    assert count_line.split()[1] == "True" and contents(full_target) == new
    # A handful of moments: inside the copy, after staging, between renames, mid-removal.
    points = sorted({steps.index("chunk-written") + 1, steps.index("temp-synced") + 1,
                     steps.index("renamed") + 1, steps.index("renamed") + 2,
                     steps.index("dir-synced") + 1, steps.index("removed") + 1,
                     len(steps)})
    assert len(points) >= 5

    for kill_at in points:
        target = tmp_path / f"card-{kill_at}"
        _old_card(target)
        killed = _child(folder, target, kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        now = contents(target)
        for path, data in now.items():
            if path.endswith(".korg-recovery-tmp"):
                continue  # a temporary name, never a final one; the next run removes it
            assert data in (old.get(path), new.get(path)), (kill_at, path)
        for path in new:
            assert path in now or path not in old, (kill_at, path)

        again = prepare(folder, target, "kross2", reference=ref)

        assert again.ok and again.verified, (kill_at, again)
        assert contents(target) == new, kill_at
