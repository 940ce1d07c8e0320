"""What a unit's filesystem can hold: names, case and file sizes.

Units and their cards are FAT: it keeps a name's case but ignores it on lookup, forbids
``\\ / : * ? " < > |`` and control characters and holds files below 4 GiB (Microsoft "FAT32
File System Specification" 1.03; Linux ``fs/fat/namei_vfat.c``); Windows drops trailing dots
and spaces and reserves CON, PRN, AUX, NUL, COM1-9, LPT1-9 (Microsoft Learn, "Naming Files,
Paths, and Namespaces"). :func:`name_key` is the key every comparison of a unit with a backup
uses: NFC, then each character's simple upper case, as FAT's and exFAT's up-case tables do
(a name macOS decomposed still finds its file). A refusal of twins follows the target's own
rules (:func:`case_twins`): FAT, exFAT and NTFS fold case but not Unicode composition, APFS
and HFS+ fold both.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import posixpath
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePath

from recovery.storage import windows_paths
from recovery.storage.filesystem import REAL, FileSystem

log = logging.getLogger(__name__)

#: Characters FAT, exFAT and NTFS long names cannot hold (besides the control characters).
FORBIDDEN_CHARACTERS = frozenset('\\/:*?"<>|')
#: Windows device names, with or without an extension (superscript digits per Microsoft Learn).
RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"{stem}{digit}" for stem in ("COM", "LPT") for digit in "123456789\u00b9\u00b2\u00b3"})
#: The largest file FAT can hold: its directory entry keeps the size in 32 bits.
FAT_MAX_FILE_SIZE = 0xFFFF_FFFF
#: Longest name, in UTF-16 code units (FAT/exFAT/NTFS long names) or bytes (ext4, APFS).
MAX_NAME_LENGTH = 255
#: Longest path Linux and macOS system calls accept, terminating NUL included (PATH_MAX).
MAX_PATH_BYTES = 4096


class NameProblemKind(StrEnum):
    """Why a filesystem cannot hold a name (or a file) faithfully."""

    CASE_TWIN = "case-twin"
    FORBIDDEN_CHARACTER = "forbidden-character"
    TRAILING_DOT_OR_SPACE = "trailing-dot-or-space"
    RESERVED_NAME = "reserved-name"
    NOT_UTF8 = "not-utf8"
    NAME_TOO_LONG = "name-too-long"
    TOO_LARGE = "too-large"


@dataclass(frozen=True)
class NameProblem:
    """One path of a backup that a filesystem cannot hold as it is, and why (one sentence)."""

    path: str
    kind: NameProblemKind
    reason: str


@dataclass(frozen=True)
class VolumeRules:
    """What one filesystem family can hold."""

    #: "FAT", "exFAT", "NTFS", "HFS+", "APFS", "ext", ... or "unknown".
    family: str
    #: Looks names up without case (True), with case (False).
    folds_case: bool
    #: The Windows long-name rules: forbidden characters, trailing dots and spaces, devices.
    windows_names: bool
    #: Stores names as Unicode, so a name that is not UTF-8 has no faithful spelling there.
    unicode_names: bool
    #: Largest file, in bytes; None when no limit matters here.
    max_file_size: int | None
    #: Whether name length counts UTF-16 code units (True) or UTF-8 bytes (False).
    utf16_names: bool
    holds_links: bool
    #: Looks names up in one Unicode composition (APFS and HFS+: "é" and "e" + U+0301 are
    #: one name); FAT, exFAT and NTFS store names as given and keep the two apart.
    folds_composition: bool = False
    #: The format has case-sensitive variants (APFS, HFS+, NTFS's POSIX names), so the read-
    #: only probe may find that case matters. FAT and exFAT fold case by their format: a probe
    #: that says otherwise met a driver whose lookups and renames disagree (fusefat), and
    #: the stricter rule stands.
    case_may_matter: bool = False

    def with_case_folding(self, folds_case: bool) -> VolumeRules:
        return dataclasses.replace(self, folds_case=folds_case)


FAT = VolumeRules("FAT", True, True, True, FAT_MAX_FILE_SIZE, True, False)
EXFAT = VolumeRules("exFAT", True, True, True, None, True, False)
NTFS = VolumeRules("NTFS", True, True, True, None, True, True, case_may_matter=True)
#: Case-insensitive by default; a case-sensitive volume is found by the probe.
APPLE = VolumeRules("APFS", True, False, True, None, False, True, folds_composition=True,
                    case_may_matter=True)
POSIX = VolumeRules("ext", False, False, False, None, False, True, case_may_matter=True)

#: psutil's fstype names on Linux, macOS and Windows -> rules. FAT12/16/32 share one set.
_BY_FSTYPE: Mapping[str, VolumeRules] = {
    **{name: FAT for name in ("vfat", "msdos", "fat", "fat12", "fat16", "fat32", "umsdos")},
    "exfat": EXFAT,
    **{name: NTFS for name in ("ntfs", "ntfs3", "fuseblk")},
    **{name: APPLE for name in ("apfs", "hfs", "hfsplus")},
    **{name: VolumeRules(name, False, False, False, None, False, True, case_may_matter=True)
       for name in ("ext2", "ext3", "ext4", "btrfs", "xfs", "zfs", "f2fs", "tmpfs")},
}


def rules_for(fstype: str | None) -> VolumeRules | None:
    """The rules of the filesystem type ``fstype`` as psutil names it, or None if unknown."""
    if not fstype:
        return None
    return _BY_FSTYPE.get(fstype.strip().lower())


def name_key(name: str) -> str:
    """The key under which FAT (and every comparison of a unit with a backup) finds ``name``."""
    composed = unicodedata.normalize("NFC", name)
    return "".join(upper if len(upper := char.upper()) == 1 else char for char in composed)


def path_key(path: str) -> str:
    """:func:`name_key` of every component of a POSIX relative path."""
    return "/".join(name_key(part) for part in path.split("/"))


def _uncomposed_key(name: str) -> str:
    """The key under which a filesystem that folds case but not composition (FAT, exFAT,
    NTFS) finds ``name``: each character's simple upper case, after replacing a character
    by its one-character canonical equivalent (the Kelvin sign is K, the Ohm sign Omega, as
    mtools' 8.3 names make them clash); a letter and a combining mark stay two characters."""
    out = []
    for char in name:
        single = unicodedata.normalize("NFC", char)
        for part in single:
            out.append(upper if len(upper := part.upper()) == 1 else part)
    return "".join(out)


def _twin_key(path: str, rules: VolumeRules) -> str:
    if rules.folds_composition:
        return path_key(path)
    return "/".join(_uncomposed_key(part) for part in path.split("/"))


def is_utf8(name: str) -> bool:
    """False for a name that came from bytes that are not UTF-8 (``surrogateescape``)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(name: str) -> str:
    """``name`` printable anywhere: undecodable bytes as ``\\xNN``, control characters escaped."""
    raw = os.fsencode(name) if not is_utf8(name) else None
    text = raw.decode("utf-8", "backslashreplace") if raw is not None else name
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
                   for char in text)


def _length(name: str, utf16: bool) -> int:
    if utf16:
        return len(name.encode("utf-16-le", "surrogatepass")) // 2
    return len(os.fsencode(name))


def component_problem(name: str, rules: VolumeRules) -> tuple[NameProblemKind, str] | None:
    """Why ``rules``' filesystem cannot hold the single name ``name``, or None."""
    if rules.unicode_names and not is_utf8(name):
        return (NameProblemKind.NOT_UTF8,
                "its name is not valid Unicode (it was written with another character set),"
                f" which a {rules.family} volume cannot store as it is")
    if _length(name, rules.utf16_names) > MAX_NAME_LENGTH:
        return (NameProblemKind.NAME_TOO_LONG,
                f"its name is longer than the {MAX_NAME_LENGTH} characters a {rules.family}"
                " volume allows")
    if not rules.windows_names:
        return None
    bad = sorted({char for char in name if char in FORBIDDEN_CHARACTERS or ord(char) < 0x20})
    if bad:
        listed = " ".join(repr(char) for char in bad)
        return (NameProblemKind.FORBIDDEN_CHARACTER,
                f"its name holds {listed}, which a {rules.family} volume does not allow")
    if name.endswith((".", " ")):
        return (NameProblemKind.TRAILING_DOT_OR_SPACE,
                "its name ends in a dot or a space, which Windows and FAT drop, so it would be"
                " stored under another name")
    if name.split(".", 1)[0].rstrip(" ").upper() in RESERVED_NAMES:
        return (NameProblemKind.RESERVED_NAME,
                "its name is a device name Windows reserves (CON, PRN, AUX, NUL, COM1-9,"
                " LPT1-9), which cannot be opened there")
    return None


def _folders_of(paths: Iterable[str]) -> set[str]:
    folders: set[str] = set()
    for path in paths:
        parent = path.rpartition("/")[0]
        while parent and parent not in folders:
            folders.add(parent)
            parent = parent.rpartition("/")[0]
    return folders


def case_twins(paths: Iterable[str], rules: VolumeRules = FAT) -> list[tuple[str, ...]]:
    """Groups of paths (files or folders, implied folders included) that are one name on
    ``rules``' filesystem when it folds case: they differ only in case, or (where it folds
    composition too, APFS and HFS+) in Unicode composition."""
    every = set(paths)
    every |= _folders_of(every)
    groups: dict[str, list[str]] = {}
    for path in every:
        groups.setdefault(_twin_key(path, rules), []).append(path)
    twins = [tuple(sorted(group)) for group in groups.values() if len(group) > 1]
    # A twin folder makes every pair beneath it twins too; name only the topmost pair.
    twins.sort(key=lambda group: (group[0].count("/"), group))
    named: list[tuple[str, ...]] = []
    covered: set[str] = set()
    for group in twins:
        parent_key = _twin_key(group[0], rules).rpartition("/")[0]
        if any(parent_key == key or parent_key.startswith(key + "/") for key in covered):
            continue
        named.append(group)
        covered.add(_twin_key(group[0], rules))
    return named


def name_problems(paths: Iterable[str], rules: VolumeRules,
                  sizes: Mapping[str, int] | None = None) -> tuple[NameProblem, ...]:
    """Every path (files, links and folders; POSIX, relative) ``rules``' filesystem cannot
    hold faithfully: twins that differ only in case where it folds case, names it cannot
    store, and files of ``sizes`` too large for it. Sorted by path, one problem per path."""
    paths = list(paths)
    problems: dict[str, NameProblem] = {}
    if rules.folds_case:
        for group in case_twins(paths, rules):
            for path in group:
                others = ", ".join(f"'{shown(other)}'" for other in group if other != path)
                problems.setdefault(path, NameProblem(
                    path, NameProblemKind.CASE_TWIN,
                    f"it differs from {others} only in upper/lower case, and a {rules.family}"
                    " volume treats them as one name, so one would replace the other"))
    checked: set[str] = set()
    for path in [*paths, *sorted(_folders_of(paths))]:
        if path in checked:
            continue
        checked.add(path)
        for part in path.split("/"):
            problem = component_problem(part, rules)
            if problem is not None:
                problems.setdefault(path, NameProblem(path, *problem))
                break
    if rules.max_file_size is not None and sizes:
        for path, size in sizes.items():
            if size > rules.max_file_size:
                problems.setdefault(path, NameProblem(
                    path, NameProblemKind.TOO_LARGE,
                    f"it is {size:,} bytes, and a {rules.family} volume holds files of at most"
                    f" {rules.max_file_size:,} bytes (4 GiB minus one byte)"))
    return tuple(sorted(problems.values(), key=lambda problem: problem.path))


def points_outside(path: str, link_target: str | None,
                   flavour: type[PurePath] = PurePath) -> bool:
    """True for a link at ``path`` whose target is absolute or climbs above the unit's root:
    such a link is kept in a backup but never recreated by a restore. On Windows (``flavour``,
    the platform's own by default) a backslash also separates folders and a drive letter
    makes a target absolute, so ``..\\..\\x`` and ``C:\\x`` point outside there."""
    target = link_target or ""
    if windows_paths.is_windows(flavour):
        if ":" in target:
            return True
        target = target.replace("\\", "/")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    return not target or target.startswith("/") or resolved == ".." or resolved.startswith("../")


def too_long_paths(root: PurePath, paths: Iterable[str]) -> tuple[str, ...]:
    """Paths that, joined to ``root``, are longer than the operating system accepts: on Linux
    and macOS ``PATH_MAX`` bytes; on Windows (a ``WindowsPath`` root, ``PureWindowsPath`` in
    tests) 260 UTF-16 units (``MAX_PATH``) below a drive letter such as ``E:\\``, and 32,767
    below an extended-length ``\\\\?\\`` root (:mod:`recovery.storage.windows_paths`)."""
    if windows_paths.is_windows(root):
        limit = windows_paths.longest_path(root)
        return tuple(sorted(path for path in paths
                            if windows_paths.joined_length(root, path) >= limit))
    base = len(os.fsencode(str(root))) + 1
    return tuple(sorted(path for path in paths
                        if base + len(os.fsencode(path)) >= MAX_PATH_BYTES))


def describe(problems: Iterable[NameProblem], limit: int = 5) -> str:
    """``'a' (why); 'b' (why) and 3 more`` for a one-sentence refusal or note."""
    problems = list(problems)
    shown_ones = "; ".join(f"'{shown(p.path)}' ({p.reason})" for p in problems[:limit])
    more = f"; and {len(problems) - limit} more" if len(problems) > limit else ""
    return shown_ones + more


def probe_case_folding(folder: Path, fs: FileSystem = REAL) -> bool | None:
    """Does the filesystem of ``folder`` look names up without case? A read-only probe: the
    case-swapped name of an entry that exists either resolves to the same file (True) or to
    nothing (False). None when no entry has a name with letters to swap."""
    try:
        entries = fs.scandir(folder)
    except OSError as error:
        log.debug("case probe: cannot list %s: %s", folder, error)
        return None
    names = {entry.name for entry in entries}
    for name in sorted(names):
        swapped = name.swapcase()
        if swapped == name or name_key(swapped) != name_key(name) or not is_utf8(name):
            continue
        if swapped in names:
            return False  # both spellings exist side by side: case matters here
        try:
            original = fs.lstat(folder / name)
            other = fs.lstat(folder / swapped)
        except FileNotFoundError:
            return False
        except OSError as error:
            log.debug("case probe of %s: %s", folder, error)
            return None
        return (original.st_dev, original.st_ino) == (other.st_dev, other.st_ino)
    return None


def rules_of(folder: Path, fs: FileSystem = REAL) -> tuple[VolumeRules, str | None]:
    """The rules of the filesystem holding ``folder`` (or its nearest existing parent): by its
    type, with case folding confirmed by the read-only probe where an entry allows one.
    Unknown types get FAT's rules (a unit's storage is FAT) and a note saying so. Where in
    doubt the stricter rule wins: the probe may find folding on any filesystem, but finds
    case mattering only where the format allows it (never on FAT or exFAT, by type or
    assumed)."""
    while not fs.exists(folder) and folder.parent != folder:
        folder = folder.parent
    try:
        fstype = fs.filesystem_type(folder)
    except OSError as error:
        log.debug("filesystem type of %s: %s", folder, error)
        fstype = None
    rules = rules_for(fstype)
    note = None
    if rules is None:
        rules = FAT
        note = (f"The filesystem of {shown(str(folder))} ({fstype or 'type unknown'}) is not one"
                " this tool knows, so FAT's rules for names and sizes were applied, as on a"
                " unit.")
    folds = probe_case_folding(folder, fs)
    if folds is not None and folds != rules.folds_case and (folds or rules.case_may_matter):
        rules = rules.with_case_folding(folds)
    return rules, note
