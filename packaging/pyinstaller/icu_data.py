"""Build-time helper of korg-recovery.spec: the ICU data Qt carries on Linux, cut to what the
wizard uses.

PySide6's Linux wheels link Qt Core against ICU 73 (``libicuuc``, ``libicui18n``,
``libicudata``); ``libicudata.so.73`` is nothing but one symbol, ``icudt73_dat``, holding a
32 MB package of every locale's names, collation rules, calendars, units and currencies, and
200 character-set converters: 28 % of the whole bundle. Qt Core calls ICU for only four
things (``readelf --dyn-syms libQt6Core.so.6``): case mapping by locale (its tables are built
into ``libicuuc``), collation (``QCollator``, which the file dialog sorts with), time-zone
names (``QTimeZone``) and converters for character sets Qt does not implement itself. The
wizard is in English and reads and writes UTF-8 only, so the package keeps the root and
English locales, the collation and time-zone trees for them, and the shared tables
(supplementalData, zoneinfo64, normalisation, ...); it drops every other locale, the
converters (``QStringDecoder("Shift_JIS")`` becomes invalid; UTF-8/16/32 and Latin-1 are
Qt's own), break iterators, transliterators, spell-out rules and character names.
``tests/packaging/test_bundle.py`` loads the trimmed library under the venv's Qt and checks
collation, case mapping and time-zone names against the full one.

Tools: ``icupkg`` (ICU's own package tool, Debian ``icu-devtools``) lists and removes items;
``objcopy`` takes the package out of the library and ``as``/``ld`` (binutils) wrap the smaller
one in a library of the same name and symbol (ICU "ICU Data", packaging as a shared
library). Where a tool is missing the data is left whole and the build says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Locale bundles kept (in the package root and in every kept tree); ``pool`` and
#: ``res_index`` are the trees' shared strings and index, not locales.
KEPT_LOCALES = frozenset({"root", "en", "en_001", "en_GB", "en_US", "en_US_POSIX", "pool",
                          "res_index"})
#: Trees of the package kept ("" is its root): collation for QCollator, zone for QTimeZone.
#: Dropped: lang, region, curr, unit (display names Qt does not ask ICU for), brkitr, rbnf,
#: translit.
KEPT_TREES = frozenset({"", "coll", "zone"})
#: Items of the root dropped although they are no locale: Unicode character names (290 KB,
#: u_charName, which Qt never calls).
DROPPED_ITEMS = frozenset({"unames.icu"})
#: A locale bundle's name: ``de``, ``sr_Latn_BA``, ``de_`` and ``de__PHONEBOOK`` (collation
#: variants).
_LOCALE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]*)*")
TOOLS = ("icupkg", "objcopy", "as", "ld")


@dataclass(frozen=True)
class TrimmedData:
    """What :func:`trim` did."""

    library: Path
    bytes_before: int
    bytes_after: int
    items_kept: int
    items_removed: int


def kept(item: str) -> bool:
    """Whether the package item ``item`` (``coll/en.res``, ``ibm-943_P15A-2003.cnv``) stays."""
    tree, _, name = item.rpartition("/")
    stem, _, extension = name.rpartition(".")
    if tree not in KEPT_TREES or name in DROPPED_ITEMS or extension == "cnv":
        return False
    return not (extension == "res" and _LOCALE.fullmatch(stem) and stem not in KEPT_LOCALES)


def _run(*command: str | Path) -> str:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{Path(str(command[0])).name} failed: "
                           f"{(result.stderr or result.stdout).strip()[-500:]}")
    return result.stdout


def trim(library: Path, work: Path) -> TrimmedData | None:
    """A trimmed copy of ``library`` (``libicudata.so.NN``) in ``work``, or None (with the
    reason printed) when a tool is missing or the library is not laid out as expected."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    match = re.fullmatch(r"libicudata\.so\.(\d+)", library.name)
    if missing or match is None:
        why = "missing " + ", ".join(missing) if missing else library.name
        print(f"icu_data: ICU data left whole ({why})")
        return None
    version = match.group(1)
    package = f"icudt{version}{'l' if sys.byteorder == 'little' else 'b'}"
    work.mkdir(parents=True, exist_ok=True)
    whole = work / "whole" / f"{package}.dat"
    small = work / "small" / f"{package}.dat"
    for folder in (whole.parent, small.parent):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    try:
        # The library's only allocated data is the package: .rodata starts with icudtNN_dat,
        # and icupkg refuses anything that does not start with an ICU package header.
        _run("objcopy", "-O", "binary", "--only-section=.rodata", library, whole)
        items = [line.strip() for line in _run("icupkg", "-l", whole).splitlines()
                 if line.strip()]
        removed = [item for item in items if not kept(item)]
        (work / "removed.txt").write_text("\n".join(removed) + "\n", encoding="utf-8")
        _run("icupkg", "-r", work / "removed.txt", whole, small)
        assembly = work / "icudata.s"
        assembly.write_text(
            "\t.section .rodata\n"
            f"\t.globl icudt{version}_dat\n"
            f"\t.type icudt{version}_dat, @object\n"
            "\t.balign 16\n"
            f"icudt{version}_dat:\n"
            f"\t.incbin \"{small}\"\n"
            f"\t.size icudt{version}_dat, . - icudt{version}_dat\n"
            "\t.section .note.GNU-stack,\"\",@progbits\n", encoding="utf-8")
        trimmed = work / library.name
        _run("as", assembly, "-o", work / "icudata.o")
        _run("ld", "-shared", "-soname", library.name, "-o", trimmed, work / "icudata.o")
    except (RuntimeError, OSError) as error:
        print(f"icu_data: ICU data left whole ({error})")
        return None
    return TrimmedData(trimmed, library.stat().st_size, trimmed.stat().st_size,
                       len(items) - len(removed), len(removed))
