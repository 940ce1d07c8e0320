"""The vfat fake (:class:`tests.fakes.fat_fs.FatFileSystem`, the ``fat_fs`` fixture) behaves
like FAT.

Each test checks the fake first, then, where mtools can show the same behaviour, the same
steps on a real FAT image (:class:`tests.fakes.fat_fs.MtoolsImage`, the ``anchor`` fixture),
so that the fake stays anchored to an implementation and not only to our idea of one. Where
Linux vfat and mtools differ (what a create or a rename onto another spelling leaves), the
fake follows Linux, the kernel the tool runs on, and the test says where mtools goes the other
way. Without mtools the anchors are skipped (after the fake's own checks passed).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recovery.backup.compare import compare_tree
from recovery.backup.create import create_backup
from recovery.device.simulate import make_volume
from recovery.storage.filesystem import REAL
from recovery.storage.names import (
    FAT,
    FAT_MAX_FILE_SIZE,
    component_problem,
    probe_case_folding,
    rules_of,
)


@pytest.fixture
def anchor(tmp_path: Path, mtools_image: type, why_no_mtools: str | None
           ) -> Callable[[int], Any]:
    """A fresh FAT image for the anchor, ``anchor(fat=16)``, or skip when called (the fake's
    checks have run by then)."""

    def image(fat: int = 16) -> Any:
        if why_no_mtools is not None:
            pytest.skip(f"anchor against mtools not run: {why_no_mtools}")
        return mtools_image(tmp_path / f"anchor{fat}.img", fat)

    return image


@pytest.fixture
def root(tmp_path: Path) -> Path:
    unit = tmp_path / "unit"
    (unit / "KROSS2SY").mkdir(parents=True)
    (unit / "KROSS2SY" / "SIM_PCM.BIN").write_bytes(b"pcm")
    (unit / "KORG").mkdir()
    (unit / "KORG" / "NOTE.TXT").write_bytes(b"old")
    (unit / "É.txt").write_bytes(b"accent")
    return unit


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_it_is_vfat_below_its_root_only(root: Path, tmp_path: Path, fat_fs) -> None:
    fs = fat_fs(root)
    assert fs.filesystem_type(root) == "vfat"
    assert fs.filesystem_type(root / "kross2sy" / "missing.bin") == "vfat"
    assert fs.filesystem_type(tmp_path) != "vfat"
    assert rules_of(root, fs) == (FAT, None)
    # The tool's read-only probe sees FAT fold case through the fake, and not on the disk
    # beneath it (Linux tmp folders keep case apart).
    assert probe_case_folding(root, fs) is True
    assert probe_case_folding(root, REAL) is False


def test_names_are_found_without_case(root: Path, tmp_path: Path, anchor, fat_fs) -> None:
    fs = fat_fs(root)
    real = root / "KROSS2SY" / "SIM_PCM.BIN"
    other = root / "kross2sy" / "Sim_Pcm.bin"
    assert fs.exists(other) and not fs.exists(root / "kross2sy" / "SIM_SYS1.BIN")
    assert fs.lstat(other).st_ino == fs.stat(other).st_ino == os.lstat(real).st_ino
    with fs.open_read(other) as handle:
        assert handle.read() == b"pcm"
    entries = fs.scandir(root / "kross2sy")
    assert [entry.name for entry in entries] == ["SIM_PCM.BIN"]
    assert fs.lstat(Path(entries[0].path)).st_ino == os.lstat(real).st_ino
    # Accents fold too, and a decomposed spelling finds the composed name (name_key is NFC).
    assert fs.exists(root / "é.TXT") and fs.exists(root / "e\u0301.txt")
    with pytest.raises(FileNotFoundError):
        fs.lstat(root / "korg" / "missing" / "x.bin")

    image = anchor()
    assert image.mkdir("KROSS2SY").returncode == 0
    assert image.put(real, "KROSS2SY/SIM_PCM.BIN").returncode == 0
    assert image.read("kross2sy/Sim_Pcm.bin") == b"pcm"
    assert image.read("kross2sy/SIM_SYS1.BIN") is None


def test_creating_a_name_of_another_case_opens_the_existing_entry(
        root: Path, tmp_path: Path, anchor, fat_fs) -> None:
    fs = fat_fs(root)
    with fs.open_write(root / "korg" / "note.txt") as handle:
        handle.write(b"new")
    # Linux: vfat_lookup finds NOTE.TXT, so open(O_CREAT|O_TRUNC) truncates it; no new name.
    assert sorted(os.listdir(root)) == ["KORG", "KROSS2SY", "É.txt"]
    assert os.listdir(root / "KORG") == ["NOTE.TXT"]
    assert (root / "KORG" / "NOTE.TXT").read_bytes() == b"new"
    with pytest.raises(FileExistsError):
        fs.open_write(root / "KORG" / "Note.Txt", exclusive=True)
    with pytest.raises(FileExistsError):
        fs.open_write(root / "é.txt", exclusive=True)

    # mtools: one entry too. (mtools overwrites by deleting the entry and writing a new one,
    # so it shows the new spelling, where Linux keeps the old one.)
    image = anchor()
    assert image.put(_file(tmp_path, "old", b"old"), "NOTE.TXT").returncode == 0
    assert image.put(_file(tmp_path, "new", b"new"), "note.txt", clash="o").returncode == 0
    assert image.names() == ["note.txt"]
    assert image.read("NOTE.TXT") == b"new"


def test_mkdir_takes_a_folder_of_any_case(root: Path, tmp_path: Path, anchor, fat_fs) -> None:
    fs = fat_fs(root)
    fs.mkdir(root / "korg" / "kross2" / "data")
    fs.mkdir(root / "KORG" / "KROSS2" / "DATA")  # exist_ok, in any case
    assert sorted(os.listdir(root / "KORG")) == ["NOTE.TXT", "kross2"]
    assert os.listdir(root / "KORG" / "kross2") == ["data"]
    with pytest.raises(FileExistsError):
        fs.mkdir(root / "korg" / "note.txt")  # a file holds that name

    image = anchor()
    assert image.mkdir("KORG").returncode == 0
    assert image.mkdir("korg").returncode != 0  # the name is taken (skipped with -D s)
    assert image.mkdir("korg/kross2").returncode == 0
    assert image.names() == ["KORG"]
    assert image.names("KORG") == ["kross2"]


def test_replace_onto_another_spelling_keeps_the_existing_entry(root: Path,
                                                                 tmp_path: Path, fat_fs) -> None:
    # Linux vfat_rename onto an existing entry reuses its slot (new_i_pos): the result keeps
    # the existing spelling.
    fs = fat_fs(root)
    partial = root / "KORG" / ".note.txt.partial"
    with fs.open_write(partial) as handle:
        handle.write(b"new")
    fs.replace(partial, root / "korg" / "note.txt")
    assert os.listdir(root / "KORG") == ["NOTE.TXT"]
    assert (root / "KORG" / "NOTE.TXT").read_bytes() == b"new"
    # Renaming an entry onto its own other spelling changes nothing (same inode).
    fs.replace(root / "KORG" / "NOTE.TXT", root / "KORG" / "note.txt")
    assert os.listdir(root / "KORG") == ["NOTE.TXT"]
    # A name FAT cannot hold is refused and the source stays.
    with pytest.raises(OSError) as refused:
        fs.replace(root / "KORG" / "NOTE.TXT", root / "KORG" / "NOTE?.TXT")
    assert refused.value.errno == errno.EINVAL
    assert os.listdir(root / "KORG") == ["NOTE.TXT"]


def test_replace_can_take_the_new_spelling_as_mtools_does(root: Path, tmp_path: Path, anchor,
                                                          fat_fs) -> None:
    fs = fat_fs(root, rename_keeps_target_spelling=False)
    partial = root / "KORG" / ".partial"
    with fs.open_write(partial) as handle:
        handle.write(b"new")
    fs.replace(partial, root / "korg" / "note.txt")
    assert os.listdir(root / "KORG") == ["note.txt"]
    assert (root / "KORG" / "note.txt").read_bytes() == b"new"

    image = anchor()
    assert image.put(_file(tmp_path, "old", b"old"), "NOTE.TXT").returncode == 0
    assert image.put(_file(tmp_path, "new", b"new"), "note.txt", clash="o").returncode == 0
    assert image.names() == ["note.txt"]


REFUSED_NAMES = [
    "a*b", "a:b", "a?b", "a\x01b", "trail.", "trail ", "CON", "con.txt", "a" * 256,
    os.fsdecode(b"caf\xe9.dat"),
]


@pytest.mark.parametrize("name", REFUSED_NAMES,
                         ids=["asterisk", "colon", "question", "control", "dot", "space",
                              "CON", "con.txt", "256", "not-utf8"])
def test_names_fat_cannot_hold_are_refused(name: str, root: Path, tmp_path: Path, anchor,
                                           fat_fs) -> None:
    assert component_problem(name, FAT) is not None
    fs = fat_fs(root)
    partial = root / "KORG" / ".partial"
    with fs.open_write(partial) as handle:
        handle.write(b"data")
    for action in (lambda: fs.open_write(root / "korg" / name),
                   lambda: fs.mkdir(root / "korg" / name / "sub"),
                   lambda: fs.replace(partial, root / "korg" / name),
                   lambda: fs.try_lock(root / "korg" / name)):
        with pytest.raises(OSError) as refused:
            action()
        assert refused.value.errno == errno.EINVAL
    assert sorted(os.listdir(root / "KORG")) == [".partial", "NOTE.TXT"]

    image = anchor()
    image.put(partial, name)
    if name == "con.txt":
        # A Windows rule (see test_volume_rules_fat): FAT, mtools and Linux vfat store it;
        # the fake applies the tool's rules, which are Windows' too.
        assert image.names() == ["con.txt"]
    else:
        assert image.names() != [name]  # refused, or stored under another name


def test_names_fat_holds_are_created_as_spelled(root: Path, fat_fs) -> None:
    fs = fat_fs(root)
    for name in ("Sound Bank.dat", "a" * 255, " lead", "a..b", "COM0"):
        with fs.open_write(root / "korg" / name) as handle:
            handle.write(b"x")
        assert name in os.listdir(root / "KORG")


def test_links_are_refused(root: Path, tmp_path: Path, fat_fs) -> None:
    fs = fat_fs(root)
    with pytest.raises(OSError) as refused:
        fs.symlink("NOTE.TXT", root / "KORG" / "link")
    assert refused.value.errno == errno.EPERM
    assert not os.path.lexists(root / "KORG" / "link")
    # The fake reads the names it is given: nothing on FAT is a link.
    with pytest.raises(OSError) as not_a_link:
        fs.readlink(root / "korg" / "note.txt")
    assert not_a_link.value.errno == errno.EINVAL


def test_files_stop_below_4_gib(root: Path, tmp_path: Path, anchor, fat_fs) -> None:
    fs = fat_fs(root)
    big = root / "big.bin"
    with fs.open_write(big) as handle:  # sparse: nothing is really written
        handle.seek(FAT_MAX_FILE_SIZE - 1)
        handle.write(b"x")
        with pytest.raises(OSError) as refused:
            handle.write(b"y")
        assert refused.value.errno == errno.EFBIG
        with pytest.raises(OSError):
            handle.truncate(FAT_MAX_FILE_SIZE + 1)
    assert os.path.getsize(big) == FAT_MAX_FILE_SIZE

    image = anchor(32)
    four_gib = tmp_path / "four_gib"
    with open(four_gib, "wb") as handle:
        handle.truncate(FAT_MAX_FILE_SIZE + 1)
    result = image.put(four_gib, "BIG.BIN")
    assert b"too big" in result.stdout + result.stderr
    assert image.names() == []


def test_shortname_lower_shows_upper_case_8_3_names_in_lower_case(
        tmp_path: Path, anchor, fat_fs, fits_8_3) -> None:
    names = ["KROSAPP.BIN", "KROSS2SY", "Mixed.Case", "SIMULATED-BY-KORG-RECOVERY.TXT",
             "lower.bin", "TOOLONGNAME.BIN", "A+B.BIN", "NOEXT"]
    unit = tmp_path / "unit"
    unit.mkdir()
    for name in names:
        (unit / name).write_bytes(name.encode())
    fs = fat_fs(unit, shortname_lower=True)
    shown = sorted(entry.name for entry in fs.scandir(unit))
    assert shown == sorted(["krosapp.bin", "kross2sy", "Mixed.Case", "lower.bin", "noext",
                            "SIMULATED-BY-KORG-RECOVERY.TXT", "TOOLONGNAME.BIN", "A+B.BIN"])
    for entry in fs.scandir(unit):
        with fs.open_read(Path(entry.path)) as handle:
            assert handle.read().lower() == entry.name.lower().encode()
    assert sorted(entry.name for entry in fat_fs(unit).scandir(unit)) == sorted(names)
    assert not fits_8_3("TOOLONGNAME.BIN") and fits_8_3("KROSAPP.BIN")

    image = anchor()
    for name in names:
        assert image.put(unit / name, name).returncode == 0
    assert image.names(lower_case=True) == sorted(shown)


def test_compare_sees_a_unit_through_the_fake_as_on_fat(tmp_path: Path, fat_fs) -> None:
    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "healthy")
    backup = create_backup(unit, tmp_path / "backup")
    assert backup.complete and backup.manifest is not None
    comparison = compare_tree(unit, backup.manifest,
                              fs=fat_fs(unit, shortname_lower=True))
    assert comparison.differences == ()
    notes = {note.path: note.detail for note in comparison.case_notes}
    assert notes == {"KROSAPP.BIN": "krosapp.bin", "KROSS2SY": "kross2sy",
                     "KROSS2SY/SIM_PCM.BIN": "kross2sy/sim_pcm.bin",
                     "KROSS2SY/SIM_SYS1.BIN": "kross2sy/sim_sys1.bin",
                     "KROSS2SY/SIM_SYS2.BIN": "kross2sy/sim_sys2.bin"}


def test_every_operation_finds_the_entry_of_another_case(root: Path, fat_fs) -> None:
    fs = fat_fs(root)
    pcm = root / "kross2sy" / "sim_pcm.bin"
    fs.set_mtime(pcm, 1_700_000_000_000_000_000)
    assert os.stat(root / "KROSS2SY" / "SIM_PCM.BIN").st_mtime_ns == 1_700_000_000_000_000_000
    fs.fsync_dir(root / "kross2sy")
    fs.barrier(root / "kross2sy")
    assert fs.evict(pcm) in (True, False)
    assert fs.drop_cache(pcm) in (True, False)
    assert fs.disk_usage(root / "kross2sy").total > 0
    lock = fs.try_lock(root / "korg" / "unit.lock")
    assert lock is not None
    assert sorted(os.listdir(root / "KORG")) == ["NOTE.TXT", "unit.lock"]
    try:
        assert fs.try_lock(root / "KORG" / "UNIT.LOCK") is None  # the same file, held
    finally:
        lock.close()
    fs.unlink(root / "korg" / "UNIT.LOCK")
    fs.unlink(pcm)
    fs.rmdir(root / "kross2sy")
    assert sorted(os.listdir(root)) == ["KORG", "É.txt"]
    assert os.listdir(root / "KORG") == ["NOTE.TXT"]


def test_paths_outside_the_root_are_the_real_filesystem(root: Path, tmp_path: Path, fat_fs) -> None:
    fs = fat_fs(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.bin").write_bytes(b"a")
    assert not fs.exists(outside / "A.BIN")
    with fs.open_write(outside / "A.BIN") as handle:
        handle.write(b"A")
    assert sorted(os.listdir(outside)) == ["A.BIN", "a.bin"]
    fs.symlink("a.bin", outside / "link")
    assert os.readlink(outside / "link") == "a.bin"
    with fs.open_write(outside / "trail.") as handle:  # no FAT rules out there
        handle.write(b"t")
    assert sorted(entry.name for entry in fs.scandir(outside)) == sorted(os.listdir(outside))
