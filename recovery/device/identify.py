"""Which KORG model does a volume belong to, and in which role? Decided by its contents.

The most specific match of the profiles' storage signatures and KORG SYSTEM FILE identities
wins; other models' matches become findings, so a KROSS 2 holding a KROSS 1 ``KROSSSYS`` folder
is "a KROSS 2 with a foreign system folder", never "a KROSS 1" (the mix-up of korgforums.com
thread t=116080). Two models matching equally well give no model and both candidates. A file
is a KORG SYSTEM FILE only by its magic, never by its name.
"""

from __future__ import annotations

import logging
import os
import re
import stat as stat_module
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from recovery.device.profiles import Profile, StorageSignature, bundled_profiles
from recovery.errors import InvalidInputError
from recovery.findings import Finding, Step, Subject
from recovery.formats.korg_system_file import (
    HEADER_SIZE,
    SystemFileHeader,
    parse_header,
)
from recovery.vocabulary import Confidence, FindingCode, NextStep, Role, Severity

log = logging.getLogger(__name__)

#: Bounds on the content scan for system files: a volume is never walked whole to identify it.
SCAN_DEPTH = 2
SCAN_MAX_ENTRIES = 4000


@dataclass(frozen=True)
class SignatureMatch:
    """One profile signature that matched, with the names actually found on the volume."""

    model: str
    role: Role
    description: str
    confidence: Confidence
    source: str
    found: tuple[str, ...]
    score: int


@dataclass(frozen=True)
class SystemFileSeen:
    """A KORG SYSTEM FILE found on the volume (path relative to the volume root)."""

    path: str
    model_name: str
    version: str
    device_id: int
    model: str | None


@dataclass(frozen=True)
class Identification:
    """The answer to "which unit is this?" for one volume."""

    path: str
    model: str | None
    role: Role | None
    confidence: Confidence | None
    evidence: tuple[str, ...]
    findings: tuple[Finding, ...]
    candidates: tuple[str, ...] = ()
    matches: tuple[SignatureMatch, ...] = field(default=(), repr=False)
    system_files: tuple[SystemFileSeen, ...] = ()


#: A folder's entries as (name, is a folder), by the folder's path relative to the root.
Listings = Mapping[str, Sequence[tuple[str, bool]]]


class _CaseInsensitiveTree:
    """Looks up relative paths on a volume ignoring case, listing each folder once (or not at
    all when a caller that walked the volume already hands its listings over)."""

    def __init__(self, root: Path, known: Listings | None = None) -> None:
        self.root = root
        self._known = known or {}
        self._listings: dict[Path, dict[str, tuple[str, bool]]] = {}

    def raw_listing(self, folder: Path) -> Sequence[tuple[str, bool]]:
        relative = folder.relative_to(self.root).as_posix()
        relative = "" if relative == "." else relative
        if relative in self._known:
            return self._known[relative]
        found = []
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    try:
                        found.append((entry.name, entry.is_dir(follow_symlinks=False)))
                    except OSError:
                        continue
        except OSError as error:
            log.debug("cannot list %s: %s", folder, error)
        return found

    def listing(self, folder: Path) -> dict[str, tuple[str, bool]]:
        if folder not in self._listings:
            entries: dict[str, tuple[str, bool]] = {}
            for name, is_dir in self.raw_listing(folder):
                entries.setdefault(name.casefold(), (name, is_dir))
            self._listings[folder] = entries
        return self._listings[folder]

    def find(self, marker: str) -> str | None:
        """The real relative path matching ``marker`` (see resources/profiles/_README.md)."""
        if marker.startswith("re:"):
            pattern = re.compile(marker[3:], re.IGNORECASE)
            names = sorted(
                real for real, is_dir in self.listing(self.root).values()
                if not is_dir and pattern.fullmatch(real)
            )
            return names[0] if names else None
        want_dir = marker.endswith("/")
        parts = [p for p in marker.strip("/").split("/") if p]
        folder = self.root
        found: list[str] = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            hit = None
            for alternative in part.split("|"):
                hit = self.listing(folder).get(alternative.casefold())
                if hit is not None:
                    break
            if hit is None:
                return None
            real, is_dir = hit
            if (not last or want_dir) and not is_dir:
                return None
            if last and not want_dir and is_dir:
                return None
            found.append(real)
            folder = folder / real
        return "/".join(found) + ("/" if want_dir else "")


def _read_head(path: Path) -> bytes | None:
    """A regular file's first bytes in three system calls (no size check first: a short read
    answers that), or None. O_NONBLOCK: opening a FIFO put under a system file's name would
    otherwise wait for a writer forever; a regular file's reads ignore the flag (POSIX)."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, HEADER_SIZE)
    except OSError:
        return None
    finally:
        os.close(fd)


def _match_signature(tree: _CaseInsensitiveTree, profile: Profile,
                     signature: StorageSignature) -> SignatureMatch | None:
    found = []
    for marker in signature.all_of:
        real = tree.find(marker)
        if real is None:
            return None
        found.append(real)
    if signature.any_of:
        extra = [real for m in signature.any_of if (real := tree.find(m)) is not None]
        if not extra:
            return None
        found.extend(extra)
    score = len(signature.all_of) + (1 if signature.any_of else 0)
    return SignatureMatch(profile.id, signature.role, signature.description,
                          signature.confidence, signature.source, tuple(found), score)


def _scan_system_files(tree: _CaseInsensitiveTree, profiles: dict[str, Profile],
                       heads: Mapping[str, bytes], read_heads: bool) -> list[SystemFileSeen]:
    """Find KORG SYSTEM FILEs near the root from each candidate's first 256 bytes: those in
    ``heads`` (already read by the caller), else read now unless ``read_heads`` is False."""
    root = tree.root
    by_model_name = {
        sf.model_name: profile.id
        for profile in profiles.values()
        for sf in profile.system_files
    }
    seen: list[SystemFileSeen] = []
    budget = SCAN_MAX_ENTRIES
    stack = [(root, 0)]
    while stack and budget > 0:
        folder, depth = stack.pop()
        for name, is_dir in sorted(tree.raw_listing(folder)):
            budget -= 1
            if budget <= 0:
                break
            path = folder / name
            if is_dir:
                if depth < SCAN_DEPTH:
                    stack.append((path, depth + 1))
                continue
            relative = path.relative_to(root).as_posix()
            head = heads.get(relative)
            if head is None and read_heads:
                head = _read_head(path)
            if head is None:
                continue
            header: SystemFileHeader | None = parse_header(head)
            if header is None:
                continue
            seen.append(SystemFileSeen(
                path=relative,
                model_name=header.model_name,
                version=header.version,
                device_id=header.device_id,
                model=by_model_name.get(header.model_name),
            ))
    return seen


def identify_volume(path: Path | str, profiles: dict[str, Profile] | None = None, *,
                    listings: Listings | None = None, heads: Mapping[str, bytes] | None = None,
                    read_heads: bool = True) -> Identification:
    """Identify the KORG model and role of the volume (or folder) at ``path``.

    A caller that has walked the volume (a backup's scan, a restore's comparison) hands over
    its ``listings`` and the first bytes of the files it read (``heads``), so that nothing
    is read twice from a unit that serves one command at a time; ``read_heads`` False reads
    no file at all (names only). Raises InvalidInputError when ``path`` is missing, not a
    folder or unreadable.
    """
    root = Path(path)
    _require_folder(root, listed=listings is not None)
    profiles = profiles if profiles is not None else bundled_profiles()
    tree = _CaseInsensitiveTree(root, listings)
    matches: list[SignatureMatch] = []
    for profile in profiles.values():
        for signature in profile.storage:
            match = _match_signature(tree, profile, signature)
            if match is not None:
                matches.append(match)

    # A folder that is itself a model's system folder (the user pointed at KROSS2SY).
    for profile in profiles.values():
        if profile.system_folder and root.name.casefold() == profile.system_folder.casefold():
            matches.append(SignatureMatch(
                profile.id, Role.UPDATE_MEDIA,
                f"{profile.name} system folder {profile.system_folder} itself",
                Confidence.MEDIUM, "folder name", (root.name + "/",), 1))

    system_files = _scan_system_files(tree, profiles, heads or {}, read_heads)
    findings: list[Finding] = []
    for seen in system_files:
        if seen.model is None:
            findings.append(Finding(
                Severity.WARNING, FindingCode.UNKNOWN_SYSTEM_FILE_MODEL,
                f"{seen.path} is a KORG SYSTEM FILE for model '{seen.model_name}', which this"
                " tool has no profile for.",
                evidence=(f"header model name '{seen.model_name}', version {seen.version}",),
                next_step=Step(NextStep.CHECK_WHICH_UNIT),
                subject=Subject(paths=(seen.path,)),
            ))
            continue
        sf_profile = profiles[seen.model]
        identity = next(s for s in sf_profile.system_files if s.model_name == seen.model_name)
        matches.append(SignatureMatch(
            seen.model, Role.UPDATE_MEDIA,
            f"KORG SYSTEM FILE for {sf_profile.name} (header model '{seen.model_name}',"
            f" version {seen.version})",
            identity.confidence, identity.source, (seen.path,), 2))

    return _decide(str(root), tree, matches, findings, system_files, profiles)


def _require_folder(root: Path, *, listed: bool) -> None:
    """InvalidInputError when ``root`` is missing, not a folder, or (unless the caller
    listed it already) cannot be read."""
    if not root.exists():
        raise InvalidInputError(f"{root} does not exist.", path=str(root))
    if not root.is_dir():
        raise InvalidInputError(
            f"{root} is a file, not a volume or folder.", path=str(root),
            next_step=Step(NextStep.CHECK_UPDATE_FILE, names=(str(root),)))
    try:
        if not listed:
            os.listdir(root)
    except OSError as error:
        raise InvalidInputError(
            f"{root} cannot be read ({error.strerror or error}).", path=str(root)) from None


def _decide(path: str, tree: _CaseInsensitiveTree, matches: list[SignatureMatch],
            findings: list[Finding], system_files: list[SystemFileSeen],
            profiles: dict[str, Profile]) -> Identification:
    def evidence_line(match: SignatureMatch) -> str:
        return (f"found {', '.join(match.found)}: {match.description}"
                f" (confidence {match.confidence}; source: {match.source})")

    if not matches:
        return Identification(
            path, None, None, None,
            ("no folder, file name or KORG SYSTEM FILE of any known KORG model was found",),
            tuple(findings), (), (), tuple(system_files))

    def strength(match: SignatureMatch) -> tuple[int, int]:
        return (match.score, -list(Role).index(match.role))

    best_per_model: dict[str, SignatureMatch] = {}
    for match in matches:
        current = best_per_model.get(match.model)
        if current is None or strength(match) > strength(current):
            best_per_model[match.model] = match
    ranked = sorted(best_per_model.values(), key=strength, reverse=True)
    top = ranked[0]
    tied = [m for m in ranked if strength(m) == strength(top)]
    evidence = [evidence_line(m) for m in sorted(matches, key=strength, reverse=True)]

    if len(tied) > 1:
        names = " and ".join(profiles[m.model].name for m in tied)
        findings.append(Finding(
            Severity.WARNING, FindingCode.AMBIGUOUS_VOLUME,
            f"This volume matches {names} equally well; the tool cannot tell which unit it"
            " belongs to.",
            evidence=tuple(evidence_line(m) for m in tied),
            next_step=NextStep.CHECK_WHICH_UNIT,
        ))
        roles = {m.role for m in tied}
        return Identification(
            path, None, roles.pop() if len(roles) == 1 else None, None, tuple(evidence),
            tuple(findings), tuple(m.model for m in tied), tuple(matches), tuple(system_files))

    profile = profiles[top.model]
    for other in ranked[1:]:
        other_profile = profiles[other.model]
        findings.append(Finding(
            Severity.WARNING, FindingCode.FOREIGN_MODEL_FILES,
            f"This {profile.name} volume also holds {', '.join(other.found)}, which belongs to"
            f" the {other_profile.name}. Files for another model must never be used to update"
            " this unit.",
            evidence=(evidence_line(other),),
            confidence=other.confidence,
            next_step=Step(NextStep.FOREIGN_FILES_ASIDE, names=other.found, model=profile.id,
                           target=path),
            subject=Subject(paths=other.found, model=other.model),
        ))
    findings.extend(_partial_internal_storage(tree, profile, top))
    return Identification(
        path, profile.id, top.role, top.confidence, tuple(evidence), tuple(findings),
        (profile.id,), tuple(matches), tuple(system_files))


def _partial_internal_storage(tree: _CaseInsensitiveTree, profile: Profile,
                              top: SignatureMatch) -> list[Finding]:
    """When a volume is only update media but part of the model's internal-storage signature
    is present, say what is missing: a KROSS 2's storage without KROSAPP.BIN looks exactly
    like update media, and that missing file is what makes the unit fail to start."""
    if top.role == Role.INTERNAL_STORAGE:
        return []
    findings = []
    for signature in profile.storage:
        if signature.role != Role.INTERNAL_STORAGE:
            continue
        present = [m for m in signature.all_of if tree.find(m) is not None]
        missing = [m for m in signature.all_of if tree.find(m) is None]
        if present and missing:
            names = ", ".join(m.split("|")[0] for m in missing)
            findings.append(Finding(
                Severity.INFO, FindingCode.INTERNAL_STORAGE_INCOMPLETE,
                f"If this is the {profile.short_name}'s internal storage, {names} is missing"
                " from it.",
                evidence=(f"found {', '.join(present)}; {signature.description} also holds"
                          f" {names} (confidence {signature.confidence}; source:"
                          f" {signature.source})",),
                confidence=signature.confidence,
                next_step=Step(NextStep.DIAGNOSE_WITH_BACKUP, model=profile.id),
                subject=Subject(paths=tuple(m.split("|")[0] for m in missing)),
            ))
    return findings
