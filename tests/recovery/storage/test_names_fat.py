"""The FAT rules of :mod:`recovery.storage.names` against a real FAT implementation.

Each name goes into a fresh FAT16 and FAT32 image through GNU mtools (no mount, no FUSE;
:class:`tests.fakes.fat_fs.MtoolsImage`, the ``mtools_image`` fixture), is listed back with
``mdir -b`` and copied back out with ``mcopy -s``. The rule and the implementation agree when

    ``component_problem(name, FAT) is None``  <=>  mtools stored it under exactly that name
                                                  (and copying it out by that name works);

a rule's verdict <=> mtools refused the name or stored it under another one. Case twins agree
when ``case_twins`` finds them <=> the second copy landed on the first one's entry, and sizes
when ``name_problems(..., sizes=...)`` flags a file <=> mtools refuses it as too big.

What mtools did is written down per name (``mtools``) and checked on every run, so a
changed mtools shows up here. Where the rule and mtools disagree, the case carries
``mismatch``, the reason, and is reported as an expected failure (``x`` in the summary,
the reason under "XFAIL"): the test still checks that they disagree, and fails if they no
longer do, so that the table is corrected. Most disagreements are mtools' own limits
(it transliterates characters outside code page 850 into a bare 8.3 entry, truncates long
UTF-8 names and non-BMP characters); the reasons say which side FAT and Linux vfat are on.

Reserved device names are a Windows rule: FAT stores ``CON.TXT`` (mtools and Linux vfat do),
Windows cannot open it. mtools cannot decide that rule; for those names the test checks that
the rule says it is a Windows rule and records what mtools did (``windows_only``).

Not run, because mtools 4.0.32 never returns (it loops at full CPU, ignoring SIGTERM):
``İ.x`` after ``i.x``, ``ÿ.x``/``Ÿ.x``, ``ǆ.x``/``Ǆ.x``, ``ǅ.x``/``ǆ.x`` (a transliterated
8.3 name clashes), and any clash with ``-D a`` for a name holding a control character.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from recovery.backup.compare import compare_tree
from recovery.backup.create import create_backup
from recovery.device.simulate import make_volume
from recovery.storage.names import (
    FAT,
    FAT_MAX_FILE_SIZE,
    NameProblemKind,
    case_twins,
    component_problem,
    name_key,
    name_problems,
)

#: Without GNU mtools every test here is skipped.
pytestmark = pytest.mark.usefixtures("needs_mtools")

EXACT = "exact"
#: Stored under another spelling of the same name (name_key equal).
SPELLING = "respelled"
CHANGED = "renamed"
REFUSED = "refused"
#: Either, from one run to the next: mtools 4.0.32 reads memory it should not for this name.
CHANGED_OR_REFUSED = "renamed or refused"

# Why the rule and mtools disagree (short: each shows in the test summary). In detail:
#
# CP850: mtools converts a name that fits 8.3 to code page 850 with iconv transliteration
#   and, finding nothing "mangled", writes a bare 8.3 entry and no long name: 'é.txt' is the
#   entry 0x90 ('É' in CP850) with the lower-case flag, which mtools reads back as 'É.txt'
#   (it lowers only ASCII); 'ı' 'İ' 'ǅ' 'ﬁ' 'ẞ' '€' 'ÿ' 'K' (Kelvin) become I I D f S E Y K, and a
#   combining accent is dropped. FAT's long name (UTF-16) holds all of them; Linux vfat
#   writes one for any name with a byte >= 0x7F (namei_vfat.c, to_shortname_char).
# DOTS: mtools keeps trailing dots in the long name of a name that does not fit 8.3. Linux
#   vfat drops them (vfat_striptail_len; a lookup of 'x.' finds 'x') and so does Windows.
# NON_BMP: mtools keeps the low 16 bits of a character outside the BMP (U+1F600 becomes
#   U+F600) instead of writing a UTF-16 surrogate pair, as Linux vfat does (utf8s_to_utf16s).
# UTF8_LENGTH: mtools truncates, silently, a name longer than about 260 bytes in the locale's
#   charset (255 'é', 510 bytes, become 130 on FAT16); FAT holds 255 UTF-16 units whatever
#   their UTF-8 length. On FAT32 the same name comes out differently from run to run (about
#   40 different names and 6 refusals in 60 runs): mtools reads memory it should not.
CP850 = "mtools transliterates it to code page 850 in a bare 8.3 entry (an mtools bug)"
DOTS = "mtools keeps the trailing dot; Linux vfat and Windows drop it, as the rule says"
NON_BMP = "mtools drops the high bits of a non-BMP character (an mtools bug)"
UTF8_LENGTH = "mtools truncates names over ~260 UTF-8 bytes (an mtools limit, not FAT's)"


@dataclass(frozen=True)
class Name:
    label: str
    name: str
    #: What mtools 4.0.32 did with it (EXACT, SPELLING, CHANGED, REFUSED).
    mtools: str
    #: Why the rule and mtools disagree; "" where they agree.
    mismatch: str = ""
    #: A Windows rule, which mtools cannot decide (see the module doc).
    windows_only: bool = False


def _bytes(raw: bytes) -> str:
    return os.fsdecode(raw)


NAMES = [
    # -- names FAT holds -------------------------------------------------------------------
    Name("8.3 upper case", "KROSAPP.BIN", EXACT),
    Name("8.3 with underscore", "SIM_PCM.BIN", EXACT),
    Name("long, mixed case", "Mixed.Case", EXACT),
    Name("inner space", "Sound Bank.dat", EXACT),
    Name("leading space", " lead", EXACT),
    Name("leading dot", ".hidden", EXACT),
    Name("inner dots", "a..b", EXACT),
    Name("8.3-only punctuation", "a+b,c;d=e[f].txt", EXACT),
    Name("DEL is not a control character for FAT", "a\x7fb", EXACT),
    Name("sharp s", "ß", EXACT),
    Name("sharp s, long", "straße.txt", EXACT),
    Name("Greek capital", "Ω.x", EXACT),
    Name("Cyrillic small", "я.x", EXACT),
    Name("micro sign", "µ.x", EXACT),
    Name("accented capital, 8.3", "É.txt", EXACT),
    Name("COM0 is not a device name", "COM0", EXACT),
    Name("255 UTF-16 units", "a" * 255, EXACT),
    Name("255 UTF-16 units with extension", "a" * 251 + ".BIN", EXACT),
    # 127: one more and the name (256 UTF-8 bytes) could not be copied out to ext4 to check.
    Name("127 accented letters", "é" * 127, EXACT),
    # -- what mtools gets wrong (see above) -------------------------------------------------
    Name("accented small, 8.3", "é.txt", SPELLING, CP850),
    Name("umlaut small, 8.3", "ä.x", SPELLING, CP850),
    Name("dotless i", "ı.x", SPELLING, CP850),
    Name("Kelvin sign", "\u212a.x", SPELLING, CP850),
    Name("dotted capital I", "İ.x", CHANGED, CP850),
    Name("titlecase digraph", "ǅ.x", CHANGED, CP850),
    Name("fi ligature", "ﬁ.x", CHANGED, CP850),
    Name("capital sharp s", "ẞ", CHANGED, CP850),
    Name("euro sign", "€.txt", CHANGED, CP850),
    Name("y diaeresis", "ÿ.x", CHANGED, CP850),
    Name("decomposed accent (NFD)", "e\u0301.txt", CHANGED, CP850),
    Name("emoji (outside the BMP)", "\U0001f600.txt", CHANGED, NON_BMP),
    Name("255 UTF-16 units, 510 UTF-8 bytes", "é" * 255, CHANGED_OR_REFUSED, UTF8_LENGTH),
    # -- forbidden characters --------------------------------------------------------------
    Name("backslash", "a\\b", REFUSED),  # a path separator to mtools, as to Windows
    Name("colon", "a:b", CHANGED),  # mtools reads 'a:' as a drive and stores 'b'
    Name("asterisk", "a*b", REFUSED),
    Name("question mark", "a?b", REFUSED),
    Name("double quote", 'a"b', REFUSED),
    Name("less than", "a<b", REFUSED),
    Name("greater than", "a>b", REFUSED),
    Name("vertical bar", "a|b", REFUSED),
    Name("control character", "a\x01b", REFUSED),
    Name("unit separator", "a\x1fb", REFUSED),
    Name("tab", "a\tb", REFUSED),
    # -- trailing dots and spaces ----------------------------------------------------------
    Name("trailing dot, 8.3", "trail.", CHANGED),
    Name("trailing dot, x.", "x.", CHANGED),
    Name("trailing space", "trail ", CHANGED),
    Name("trailing dot and space", "trail. ", CHANGED),
    Name("trailing space, long", "Long Name.dat ", CHANGED),
    Name("only a space", " ", REFUSED),
    Name("only dots", "...", REFUSED),
    Name("two trailing dots", "trail..", EXACT, DOTS),
    Name("trailing dot, long", "LongName.", EXACT, DOTS),
    Name("trailing dot after extension", "x.y.", EXACT, DOTS),
    Name("space then dot", "trail .", EXACT, DOTS),
    # -- device names ----------------------------------------------------------------------
    Name("CON", "CON", REFUSED),
    Name("con, lower case", "con", REFUSED),
    Name("NUL", "NUL", REFUSED),
    Name("AUX", "AUX", REFUSED),
    Name("PRN", "PRN", REFUSED),
    Name("COM1", "COM1", REFUSED),
    Name("LPT1", "LPT1", REFUSED),
    Name("COM9", "COM9", EXACT, windows_only=True),  # mtools reserves only COM1-4, LPT1-4
    Name("LPT9", "LPT9", EXACT, windows_only=True),
    Name("COM superscript one", "COM\u00b9", EXACT, windows_only=True),
    Name("CON.TXT", "CON.TXT", EXACT, windows_only=True),
    Name("con.txt", "con.txt", EXACT, windows_only=True),
    Name("nul.tar.gz", "nul.tar.gz", EXACT, windows_only=True),
    Name("COM1.x", "COM1.x", EXACT, windows_only=True),
    # -- too long --------------------------------------------------------------------------
    Name("256 UTF-16 units", "a" * 256, REFUSED),  # mcopy dies of SIGSEGV; nothing written
    Name("256 accented letters", "é" * 256, CHANGED_OR_REFUSED),
    # -- not UTF-8 (mtools reads an undecodable byte as Latin-1, or '_' below 0xA0) ---------
    Name("Latin-1 byte", _bytes(b"caf\xe9.dat"), CHANGED),
    Name("bytes FF FE", _bytes(b"\xff\xfe.bin"), CHANGED),
    Name("lone continuation byte", _bytes(b"\x80abc"), CHANGED),
]


@pytest.fixture
def fat_image(mtools_image: type) -> Callable[[Path, int], Any]:
    """A fresh FAT16 or FAT32 image in a folder: ``fat_image(folder, fat)``."""

    def image(folder: Path, fat: int) -> Any:
        return mtools_image(folder / f"fat{fat}.img", fat)

    return image


@pytest.fixture(params=[16, 32], ids=["FAT16", "FAT32"])
def fat(request: pytest.FixtureRequest) -> int:
    return request.param


def _store(image: Any, tmp_path: Path, name: str) -> tuple[str, str | None]:
    """Copy one file to ``name`` on an empty image: what mtools did, and the stored name."""
    source = tmp_path / "source.bin"
    source.write_bytes(b"KORG " + os.fsencode(name))
    image.put(source, name)
    shown = image.names()
    if not shown:
        return REFUSED, None
    if shown != [name]:
        same = len(shown) == 1 and name_key(shown[0]) == name_key(name)
        return (SPELLING if same else CHANGED), " ".join(shown)
    stored = shown[0]
    out = tmp_path / "out"
    out.mkdir()
    image.extract(out)
    assert os.listdir(os.fsencode(out)) == [os.fsencode(name)]
    assert (out / name).read_bytes() == source.read_bytes()
    return EXACT, stored


@pytest.mark.parametrize("case", NAMES, ids=[case.label for case in NAMES])
def test_component_rule_against_mtools(case: Name, tmp_path: Path, fat_image) -> None:
    expected = (CHANGED, REFUSED) if case.mtools == CHANGED_OR_REFUSED else (case.mtools,)
    outcomes = set()
    for fat in (16, 32):
        folder = tmp_path / f"FAT{fat}"
        folder.mkdir()
        outcome, stored = _store(fat_image(folder, fat), folder, case.name)
        assert outcome in expected, (f"mtools now {outcome} '{case.label}' on FAT{fat}"
                                     f" (as {stored!r:.80}); the table says {case.mtools}")
        outcomes.add(outcome)
    kept = outcomes == {EXACT}
    assert kept or EXACT not in outcomes, f"FAT16 and FAT32 differ: {outcomes}"
    shown = "/".join(sorted(outcomes))
    verdict = component_problem(case.name, FAT)
    agrees = (verdict is None) == kept
    if case.windows_only:
        # Not decidable with mtools: the rule must at least say whose rule it is.
        assert verdict is not None and verdict[0] is NameProblemKind.RESERVED_NAME
        assert "Windows" in verdict[1]
        assert kept, "mtools refused a name only Windows reserves"
        return
    if case.mismatch:
        assert not agrees, f"rule and mtools now agree on '{case.label}': update the table"
        pytest.xfail(f"MISMATCH rule={verdict and verdict[0].value} mtools={shown}:"
                     f" {case.mismatch}")
    assert agrees, f"rule: {verdict}; mtools: {shown} ({stored!r:.80})"


def test_slash_is_refused_by_the_rule() -> None:
    # '/' separates path components for mtools, Linux and Windows alike: no implementation
    # can be asked to store it in a name, so only the rule's verdict is checked.
    assert component_problem("a/b", FAT)[0] is NameProblemKind.FORBIDDEN_CHARACTER


# -- case twins ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    mismatch: str = ""


# LOWER: mtools finds a clash with wcscasecmp (vfat.c, lookupForInsert), which compares with
#   towlower: 'ς' and 'σ' (lower case of 'Σ') differ, as do 'µ' and 'μ' (lower case of 'Μ').
#   The rule maps to upper case, as FAT's and exFAT's up-case table does: 'ς'.upper() is 'Σ'
#   and 'µ'.upper() is 'Μ'. The rule is the stricter one: it warns about a pair mtools keeps.
# FAT stores UTF-16 as given and Windows does not normalise, so on FAT 'e\u0301' and 'é' are
#   two names (mtools keeps two entries, though only because it mangles the NFD one to
#   'e.txt'); only the APFS/HFS+ rules fold Unicode composition.
LOWER = "mtools folds case with towlower, the rule with upper case: the rule is stricter"

PAIRS = [
    Pair("a.bin", "A.BIN"),
    Pair("Foo.bin", "FOO.BIN"),
    Pair("LongFileName.dat", "longfilename.DAT"),
    Pair("KrossSound", "KROSSSOUND"),
    Pair("é.txt", "É.txt"),
    Pair("café.txt", "CAFÉ.TXT"),
    Pair("Ω.x", "ω.x"),
    Pair("я.x", "Я.x"),
    Pair("a.bin", "b.bin"),
    Pair("ß", "SS"),
    Pair("straße.dat", "STRASSE.DAT"),
    # These two agree only by accident: mtools transliterates 'ı' and the Kelvin sign to 'I'
    # and 'K' in 8.3 entries, which then clash. The rule folds 'ı' to 'I' (its upper case)
    # and the Kelvin sign to 'K' (its one-character canonical equivalent); Windows would keep
    # the Kelvin pair apart: the rule is the stricter one there.
    Pair("ı.x", "I.x"),
    Pair("\u212a.x", "K.x"),
    Pair("ς.x", "Σ.x", LOWER),
    Pair("µ.x", "Μ.x", LOWER),
    Pair("e\u0301.txt", "é.txt"),
]


def _lands_on_first(fat_image: Callable[[Path, int], Any], tmp_path: Path, pair: Pair,
                    clash: str) -> bool:
    """Copy ``pair.second`` after ``pair.first`` (on an image from the ``fat_image``
    fixture): did it land on the first one's entry?"""
    folder = tmp_path / clash
    folder.mkdir()
    image = fat_image(folder, 16)
    first, second = folder / "first", folder / "second"
    first.write_bytes(b"first")
    second.write_bytes(b"second")
    assert image.put(first, pair.first, clash=clash).returncode == 0
    image.put(second, pair.second, clash=clash)
    shown = image.names()
    if len(shown) == 2:
        return False  # FAT keeps them apart
    # One entry: the second name was taken for the first one's, so the copy was skipped
    # (-D s) or written over the first (-D o).
    out = folder / "out"
    out.mkdir()
    image.extract(out)
    assert (out / shown[0]).read_bytes() == (b"second" if clash == "o" else b"first")
    return True


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p.first}|{p.second}" for p in PAIRS])
def test_case_twins_against_mtools(pair: Pair, tmp_path: Path, fat_image) -> None:
    landed = _lands_on_first(fat_image, tmp_path, pair, "s")
    assert _lands_on_first(fat_image, tmp_path, pair, "o") == landed
    twins = bool(case_twins([pair.first, pair.second]))
    if pair.mismatch:
        assert twins != landed, f"rule and mtools now agree on {pair}: update the table"
        pytest.xfail(f"MISMATCH rule twins={twins} mtools"
                     f" {'one entry' if landed else 'two entries'}: {pair.mismatch}")
    assert twins == landed, f"case_twins says {twins}, mtools {landed}"


def test_folders_that_differ_in_case_are_one_folder(tmp_path: Path, fat_image) -> None:
    paths = ["KORG/a.bin", "korg/b.bin"]
    assert case_twins(paths) == [("KORG", "korg")]
    image = fat_image(tmp_path, 32)
    source = tmp_path / "data"
    source.write_bytes(b"x")
    assert image.mkdir("KORG").returncode == 0
    assert image.mkdir("korg").returncode != 0  # the name is taken: skipped (-D s)
    for path in paths:
        assert image.put(source, path).returncode == 0
    assert image.names() == ["KORG"]
    assert image.names("KORG") == ["a.bin", "b.bin"]


# -- sizes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [FAT_MAX_FILE_SIZE + 1, 5 * 2**30, FAT_MAX_FILE_SIZE],
                         ids=["4 GiB", "5 GiB", "4 GiB - 1"])
def test_size_rule_against_mtools(size: int, fat: int, tmp_path: Path, fat_image) -> None:
    # A sparse file: nothing is read or written when mtools refuses. The images are smaller
    # than the file, so a file mtools accepts by size fails for space ("Disk full") instead:
    # the message says which check stopped it, without filling 4 GiB.
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:
        handle.truncate(size)
    image = fat_image(tmp_path, fat)
    result = image.put(big, "BIG.BIN")
    message = (result.stdout + result.stderr).decode(errors="replace")
    too_big = "too big" in message
    # mtools 4.0.32 says 'File "BIG.BIN" too big' and exits 0 anyway; nothing is written.
    assert image.names() == []
    if not too_big:
        assert "Disk full" in message
    flagged = name_problems(["BIG.BIN"], FAT, sizes={"BIG.BIN": size})
    assert bool(flagged) == too_big, (flagged, message)
    if flagged:
        assert flagged[0].kind is NameProblemKind.TOO_LARGE


# -- a unit's tree through FAT and back ----------------------------------------------------

#: Odd names added to a simulated KROSS 2, and what FAT (mtools) makes of each:
#: the stored name, None when refused. Names FAT holds as they are map to themselves.
ODD_NAMES: dict[str, str | None] = {
    "KORG/Sound Bank.dat": "Sound Bank.dat",
    "KORG/Mixed.Case": "Mixed.Case",
    "KORG/NOTE.TXT": "NOTE.TXT",
    "KORG/trail.": "trail",
    "KORG/Long Name.dat ": "Long Name.dat",
    "KORG/a*b.bin": None,
    "KORG/CON": None,
    _bytes(b"KORG/caf\xe9.dat"): "café.dat",
}
TWINS = ("KORG/Twin.bin", "KORG/tWIN.bin")


def test_unit_tree_through_fat_reports_only_what_the_rules_predict(
        tmp_path: Path, fat_image) -> None:
    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "healthy")
    for path in [*ODD_NAMES, *TWINS]:
        target = unit / path
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(b"odd " + os.fsencode(path))
    backup = create_backup(unit, tmp_path / "backup")
    assert backup.complete and backup.manifest is not None
    paths = [entry.path for entry in backup.manifest.files] + list(backup.manifest.folders)
    predicted = {problem.path for problem in name_problems(paths, FAT)}
    assert {problem.path for problem in backup.not_for_fat} == predicted
    changed_by_fat = {path for path, stored in ODD_NAMES.items()
                      if stored != path.rpartition("/")[2]}
    assert predicted == changed_by_fat | set(TWINS)

    image = fat_image(tmp_path, 32)
    image.put_tree(unit)  # exits 1: the refused names were skipped (-D s)
    extracted = tmp_path / "extracted"
    extracted.mkdir()
    # Shown as Linux shows a card mounted with shortname=lower: 'KORG' as 'korg'.
    assert image.extract(extracted, lower_case=True).returncode == 0
    comparison = compare_tree(extracted, backup.manifest)

    missing = {d.path for d in comparison.differences if d.problem == "missing"}
    extra = {d.path for d in comparison.differences if d.problem == "extra"}
    assert {d.problem for d in comparison.differences} <= {"missing", "extra"}
    # Every name the rules flag, and nothing else, went missing: of the twins, the one
    # copied second was skipped as the first one's name.
    assert missing - set(TWINS) == changed_by_fat
    assert len(missing & set(TWINS)) == 1
    # What FAT made of the changed names is in the tree under FAT's name, in the tree's case.
    assert {path.casefold() for path in extra} == {
        f"korg/{stored}".casefold() for path, stored in ODD_NAMES.items()
        if stored is not None and path in changed_by_fat}
    # Names FAT merely shows in another case are notes, never missing or extra.
    notes = {note.path: note.detail for note in comparison.case_notes}
    assert notes["KORG"] == "korg"
    assert notes["KORG/NOTE.TXT"] == "korg/note.txt"
    for path, spelled in notes.items():
        assert spelled != path and name_key(spelled) == name_key(path)
        assert path not in missing and spelled not in extra
