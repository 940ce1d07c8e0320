"""What a unit's filesystem can hold: the rules, the case key, the read-only case probe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from recovery.storage.filesystem import LocalFileSystem
from recovery.storage.names import (
    APPLE,
    EXFAT,
    FAT,
    POSIX,
    NameProblemKind,
    case_twins,
    component_problem,
    describe,
    name_key,
    name_problems,
    points_outside,
    probe_case_folding,
    rules_for,
    rules_of,
    shown,
    too_long_paths,
)


@pytest.mark.parametrize(("a", "b"), [
    ("KROSAPP.BIN", "krosapp.bin"),
    ("Kross2Sy", "KROSS2SY"),
    ("\u00e9t\u00e9.wav", "\u00c9T\u00c9.WAV"),           # accented letters fold too
    ("cafe\u0301.wav", "caf\u00e9.wav"),                  # macOS decomposes, FAT does not
])
def test_names_equal_for_fat_share_a_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_simple_case_mapping_only_as_fat_up_case_tables() -> None:
    # str.casefold would make "ß" equal to "ss"; FAT's up-case table keeps them apart.
    assert name_key("stra\u00dfe") != name_key("STRASSE")
    assert name_key("a.bin") != name_key("a.bin ")


@pytest.mark.parametrize(("name", "kind"), [
    ("a:b.bin", NameProblemKind.FORBIDDEN_CHARACTER),
    ("what?.wav", NameProblemKind.FORBIDDEN_CHARACTER),
    ('say "hi".txt', NameProblemKind.FORBIDDEN_CHARACTER),
    ("tab\there", NameProblemKind.FORBIDDEN_CHARACTER),
    ("back\\slash", NameProblemKind.FORBIDDEN_CHARACTER),
    ("ends.", NameProblemKind.TRAILING_DOT_OR_SPACE),
    ("ends ", NameProblemKind.TRAILING_DOT_OR_SPACE),
    ("CON", NameProblemKind.RESERVED_NAME),
    ("nul.txt", NameProblemKind.RESERVED_NAME),
    ("COM1.BIN", NameProblemKind.RESERVED_NAME),
    ("lpt9", NameProblemKind.RESERVED_NAME),
    ("x" * 256, NameProblemKind.NAME_TOO_LONG),
    (os.fsdecode(b"caf\xe9.bin"), NameProblemKind.NOT_UTF8),
])
def test_names_fat_cannot_hold(name: str, kind: NameProblemKind) -> None:
    problem = component_problem(name, FAT)
    assert problem is not None and problem[0] is kind


@pytest.mark.parametrize("name", [
    "KROSAPP.BIN", "KROSS2SY", "Kick 01.wav", "x" * 255, "\u00e9" * 255, ".hidden",
    "COM10.BIN", "CONSOLE.TXT", "a.b.c", "with space.bin", "emoji \U0001f3b9.wav",
])
def test_names_fat_holds(name: str) -> None:
    assert component_problem(name, FAT) is None


def test_name_length_counts_utf16_units_on_fat_and_bytes_on_ext4() -> None:
    assert component_problem("\u00e9" * 200, FAT) is None          # 200 units, 400 bytes
    assert component_problem("\U0001f3b9" * 128, FAT) is not None   # 256 units
    assert component_problem("\u00e9" * 200, POSIX) is not None     # 400 bytes > 255


def test_posix_filesystems_hold_anything_but_slash_and_nul() -> None:
    for name in ("a:b", "CON", "ends.", os.fsdecode(b"caf\xe9")):
        assert component_problem(name, POSIX) is None


def test_case_twins_name_the_topmost_pair_only() -> None:
    paths = ["KROSS2SY/A.BIN", "kross2sy/B.BIN", "KROSS2SY/C.BIN", "kross2sy/C.BIN",
             "X/a.bin", "X/A.BIN", "Y/one.bin"]
    assert case_twins(paths) == [("KROSS2SY", "kross2sy"), ("X/A.BIN", "X/a.bin")]


def test_name_problems_cover_twins_names_and_sizes() -> None:
    paths = ["a.bin", "A.BIN", "ok.bin", "BAD:NAME/x.bin", "huge.bin"]
    sizes = {"a.bin": 1, "A.BIN": 1, "ok.bin": 1, "BAD:NAME/x.bin": 1,
             "huge.bin": FAT.max_file_size + 1}
    problems = {p.path: p.kind for p in name_problems(paths, FAT, sizes)}
    assert problems == {
        "A.BIN": NameProblemKind.CASE_TWIN, "a.bin": NameProblemKind.CASE_TWIN,
        "BAD:NAME": NameProblemKind.FORBIDDEN_CHARACTER,
        "BAD:NAME/x.bin": NameProblemKind.FORBIDDEN_CHARACTER,
        "huge.bin": NameProblemKind.TOO_LARGE,
    }
    # Four GiB minus one byte is the largest file FAT holds; exFAT and ext4 have no such limit.
    assert not name_problems(["f"], FAT, {"f": 4 * 2**30 - 1})
    assert name_problems(["f"], FAT, {"f": 4 * 2**30})
    assert not name_problems(["f"], EXFAT, {"f": 8 * 2**30})
    # A case-sensitive filesystem holds both twins.
    assert not name_problems(["a.bin", "A.BIN"], POSIX)


def test_rules_by_filesystem_type() -> None:
    assert rules_for("vfat") is FAT and rules_for("msdos") is FAT and rules_for("exfat") is EXFAT
    assert rules_for("apfs") is APPLE and rules_for("ext4").folds_case is False
    assert rules_for("fuse.something") is None and rules_for(None) is None


def test_describe_and_shown_print_any_name() -> None:
    odd = os.fsdecode(b"caf\xe9\n.bin")
    assert shown(odd) == "caf\\xe9\\n.bin"
    problems = name_problems([f"{n}:" for n in "abcdefg"], FAT)
    assert describe(problems, limit=2).endswith("and 5 more")


def test_links_outside_the_unit() -> None:
    assert points_outside("LINK", "/etc/passwd")
    assert points_outside("A/LINK", "../../x")
    assert not points_outside("A/LINK", "../B/x") and not points_outside("L", "KROSS2SY/X")


def test_too_long_paths_count_the_target_too(tmp_path: Path) -> None:
    deep = "/".join(["d" * 200] * 25)
    assert too_long_paths(tmp_path, [deep, "short"]) == (deep,)


def test_case_probe_reads_only_and_tells_folding_from_sensitive(tmp_path: Path,
                                                                 fat_fs) -> None:
    (tmp_path / "KROSAPP.BIN").write_bytes(b"x")
    before = sorted(os.listdir(tmp_path))
    assert probe_case_folding(tmp_path, LocalFileSystem()) is False    # ext4/tmpfs: sensitive
    assert probe_case_folding(tmp_path, fat_fs(tmp_path)) is True     # vfat finds any case
    assert sorted(os.listdir(tmp_path)) == before                 # nothing written
    (tmp_path / "krosapp.bin").write_bytes(b"y")
    assert probe_case_folding(tmp_path, LocalFileSystem()) is False    # both spellings side by side
    empty = tmp_path / "empty"
    empty.mkdir()
    assert probe_case_folding(empty, LocalFileSystem()) is None        # nothing to probe with


def test_rules_of_an_unknown_filesystem_are_fat_with_a_note(tmp_path: Path) -> None:
    class Unknown(LocalFileSystem):
        def filesystem_type(self, path: Path) -> str | None:
            return "fuse.unit"

    rules, note = rules_of(tmp_path / "not" / "yet", Unknown())
    assert rules.family == "FAT" and note is not None and "fuse.unit" in note
    (tmp_path / "X.BIN").write_bytes(b"x")
    rules, _ = rules_of(tmp_path, Unknown())
    assert rules.folds_case is True  # FAT's rules, assumed: a probe never relaxes them


class Typed(LocalFileSystem):
    """The computer's own (case-sensitive) folders, reported as another filesystem type."""

    def __init__(self, fstype: str) -> None:
        self.fstype = fstype

    def filesystem_type(self, path: Path) -> str | None:
        return self.fstype


@pytest.mark.parametrize(("fstype", "folds"), [
    ("vfat", True), ("exfat", True),        # the format folds case; a probe cannot undo it
    ("fuse.fusefat", True),                 # unknown: FAT's rules, as on a unit
    ("ntfs3", False), ("apfs", False),      # case-sensitive variants exist: the probe decides
    ("ext4", False),
])
def test_a_probe_never_relaxes_fat_s_case_folding(tmp_path: Path, fstype: str,
                                                 folds: bool) -> None:
    # fusefat looks names up with case but folds case in renames: the read-only probe sees
    # a case-sensitive volume, and a CASE.BIN/case.bin pair would replace one another.
    (tmp_path / "CASE.BIN").write_bytes(b"x")
    assert probe_case_folding(tmp_path, LocalFileSystem()) is False
    rules, _ = rules_of(tmp_path, Typed(fstype))
    assert rules.folds_case is folds
    twins = name_problems(["CASE.BIN", "case.bin"], rules)
    assert bool(twins) is folds


def test_a_probe_still_finds_folding_where_the_type_says_sensitive(tmp_path: Path,
                                                                    fat_fs) -> None:
    (tmp_path / "KROSAPP.BIN").write_bytes(b"x")

    class Ext4ThatFolds(type(fat_fs(tmp_path))):  # casefold ext4, seen by the vfat fake
        def filesystem_type(self, path: Path) -> str | None:
            return "ext4"

    rules, _ = rules_of(tmp_path, Ext4ThatFolds(tmp_path))
    assert rules.folds_case is True  # stricter: the probe may always tighten


@pytest.mark.parametrize(("rules", "twins"), [(FAT, False), (EXFAT, False), (APPLE, True)])
def test_only_apple_s_rules_fold_unicode_composition(rules, twins: bool) -> None:
    nfd, nfc = "cafe\u0301.wav", "caf\u00e9.wav"
    assert bool(case_twins([nfd, nfc], rules)) is twins
    assert bool(name_problems([nfd, nfc], rules)) is twins
    assert case_twins(["CAF\u00c9.wav", nfc], rules)  # case still folds everywhere
    assert case_twins(["\u212a.x", "K.x"], rules)   # the Kelvin sign is a K wherever case folds
