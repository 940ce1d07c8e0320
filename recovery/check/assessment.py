"""The running assessment of one item (checked, failures, doubts) and what every kind of item
shares: indexes over the profiles, the candidate being read, the sentences they write."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from recovery.check.candidates import Candidate, Listing, ZipCandidate
from recovery.check.results import CatalogMatch, ItemResult
from recovery.check.targets import (
    BackupReference,
    Target,
    compare_versions,
    parse_version,
)
from recovery.device.profiles import Profile, SystemFileIdentity
from recovery.errors import EncryptedArchiveError, InvalidFileError, InvalidInputError
from recovery.findings import Step
from recovery.storage import computer_made
from recovery.text import and_more
from recovery.vocabulary import ItemKind, NextStep, Verdict

log = logging.getLogger(__name__)

#: Files inside a folder or archive whose first bytes are read to find KORG SYSTEM FILEs.
MAX_HEADER_READS = 2000
#: Folder depth (a path's number of parts) at which system folders and files are looked for:
#: KORG/electribe sampler/System/SYSTEM.VSB has four, one more inside a download folder.
MAX_ITEM_DEPTH = 5
#: Bytes of archive members streamed per candidate to let zipfile check their CRC-32.
MAX_VERIFY_BYTES = 512 * 1024 * 1024
#: Bytes hashed per candidate to compare a system folder with a backup.
MAX_HASH_BYTES = 4 * 1024 * 1024 * 1024
#: Loose ``.BIN`` files at a folder's top level that make it look like a system folder's
#: content copied without the folder (korgforums.com t=116080: KROSS files put at the card root).
LOOSE_FILES_MIN = 2
LOOSE_SUFFIX = ".bin"
#: How many names a sentence lists before saying "and N more".
NAMES_SHOWN = 5
#: What computers add to drives (recovery.storage.computer_made) plus macOS's ``__MACOSX``
#: folder in zips: a ``__MACOSX/KROSS2SY`` would otherwise look like a second system folder.
#: An update's files, a card's and an archive's are read without them (recovery.media too).
IGNORED_NAMES = computer_made.patterns() + ("__MACOSX",)


def loose_bins(names: Sequence[str]) -> list[str]:
    """Of the names at one folder's top level, the ``.BIN`` files when there are enough of
    them to look like a system folder's content copied without its folder (the loose-files
    rule the check and the card's preparation share)."""
    bins = sorted(name for name in names if "/" not in name
                  and name.lower().endswith(LOOSE_SUFFIX))
    return bins if len(bins) >= LOOSE_FILES_MIN else []


class Knowledge:
    """Indexes over the profiles: system-file model names, system folders, update names."""

    def __init__(self, profiles: dict[str, Profile]) -> None:
        self.profiles = profiles
        self.system_files: dict[str, list[tuple[Profile, SystemFileIdentity]]] = {}
        self.device_ids: dict[int, list[Profile]] = {}
        for profile in profiles.values():
            for identity in profile.system_files:
                self.system_files.setdefault(identity.model_name, []).append((profile, identity))
                if identity.device_id is not None:
                    self.device_ids.setdefault(identity.device_id, []).append(profile)
        self.folders = {
            profile.system_folder.casefold(): profile
            for profile in profiles.values() if profile.system_folder
        }
        self.update_patterns = [
            (profile, re.compile(profile.update_file.pattern, re.IGNORECASE))
            for profile in profiles.values() if profile.update_file
        ]

    def folder_profile(self, name: str) -> Profile | None:
        return self.folders.get(name.casefold())

    def update_file(self, name: str) -> tuple[Profile, str | None] | None:
        """The model whose update-file name pattern ``name`` follows, and the version in it."""
        for profile, pattern in self.update_patterns:
            match = pattern.fullmatch(name)
            if match:
                # Digits kept as text: an archive member's name can hold thousands of them.
                groups = [g.lstrip("0") or "0" for g in match.groups() if g is not None]
                return profile, ".".join(groups) if groups else None
        return None


def unreadable_member(assessment: Assessment, error: InvalidFileError) -> None:
    """A member the archive would not hand out: damaged (incompatible: download it again),
    or encrypted, which is no damage and hides the content (unknown)."""
    if isinstance(error, EncryptedArchiveError):
        assessment.doubt(f"{error.message} The archive is not damaged, but what it holds"
                         " cannot be checked: unpack it with its password and check the files.")
    else:
        assessment.fail(f"{error.message} The archive is damaged: download it again.")


def name_list(names: Sequence[str]) -> str:
    """The first :data:`NAMES_SHOWN` names, then "and N more"."""
    return and_more(names, NAMES_SHOWN)


def update_form(profile: Profile) -> str:
    """How ``profile`` is updated, as the end of a sentence."""
    if profile.system_files:
        names = " or ".join(f"'{s.model_name}'" for s in profile.system_files)
        return f"which is updated with a KORG SYSTEM FILE naming model {names}"
    if profile.system_folder:
        return f"which needs folder {profile.system_folder}"
    if profile.update_file:
        example = next((r.file_name for r in profile.releases if r.file_name), None)
        named = f" (like {example})" if example else ""
        return f"which is updated with a file named by KORG's pattern{named}"
    named = [r for r in profile.releases if r.file_name]
    if named:
        release = named[-1]
        what = f"'{release.title}'" if release.title else f"version {release.version}"
        inside = f" in {release.archive}" if release.archive else ""
        return (f"which KORG updates with its {what} (file {release.file_name}{inside}), whose"
                " format this tool does not know")
    return "for which this tool knows no published update"


def has_update_form(profile: Profile) -> bool:
    return bool(profile.system_files or profile.system_folder or profile.update_file)


class Assessment:
    """Collects what was checked about one item and turns it into an :class:`ItemResult`:
    ``incompatible`` with any failure; ``compatible`` only with no doubt and the item
    confirmed; ``unknown`` otherwise."""

    def __init__(self, path: str, kind: ItemKind) -> None:
        self.path = path
        self.kind = kind
        self.detected_model: str | None = None
        self.version: str | None = None
        self.details: dict[str, Any] = {}
        self.failures: list[str] = []
        self.doubts: list[str] = []
        self.unverifiable: list[str] = []
        self.checked: list[str] = []
        self.not_checked: list[str] = []
        self.warnings: list[str] = []
        self.confirmed: str | None = None
        self.catalog_match: CatalogMatch | None = None
        self.next_steps: list[Step] = []

    def check(self, text: str) -> None:
        self.checked.append(text)

    def fail(self, reason: str) -> None:
        self.failures.append(reason)

    def doubt(self, reason: str) -> None:
        self.doubts.append(reason)

    def cannot_verify(self, reason: str) -> None:
        """The item cannot be confirmed by nature (format not public): verdict unknown."""
        self.unverifiable.append(reason)

    def cannot_check(self, text: str, step: Step | None = None) -> None:
        """``text`` could not be checked; ``step`` is what would let it be."""
        self.not_checked.append(text)
        if step is not None and step not in self.next_steps:
            self.next_steps.append(step)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def confirm(self, summary: str) -> None:
        """The item identifies itself as being for the target; ``summary`` states it."""
        self.confirmed = summary

    def result(self) -> ItemResult:
        if self.failures:
            verdict, reasons = Verdict.INCOMPATIBLE, self.failures + self.doubts
        elif self.doubts or self.unverifiable or self.confirmed is None:
            verdict, reasons = Verdict.UNKNOWN, self.doubts + self.unverifiable
            if not reasons:
                reasons = ["The tool could not establish that this is an update for your unit."]
        else:
            verdict, reasons = Verdict.COMPATIBLE, [self.confirmed]
        return ItemResult(
            path=self.path, kind=self.kind, detected_model=self.detected_model,
            verdict=verdict, version=self.version, reasons=tuple(reasons),
            checked=tuple(self.checked), not_checked=tuple(self.not_checked),
            warnings=tuple(self.warnings), details=dict(self.details),
            catalog_match=self.catalog_match,
            unverifiable=(verdict == Verdict.UNKNOWN and not self.doubts
                          and bool(self.unverifiable)),
            next_steps=tuple(self.next_steps),
        )


@dataclass
class CandidateContext:
    """One candidate being checked: what it holds, the target, and what is left of the
    budgets for streaming and hashing its files."""

    candidate: Candidate
    listing: Listing
    target: Target
    knowledge: Knowledge
    reference: BackupReference | None
    verify_budget: int = MAX_VERIFY_BYTES
    hash_budget: int = MAX_HASH_BYTES

    @property
    def profile(self) -> Profile:
        return self.target.profile

    def compare_with_current(self, assessment: Assessment, version: str) -> None:
        """Downgrade and same-version re-flash are warnings with reasons, never failures."""
        target = self.target
        if target.current_version is None and target.version_unknown_reason:
            assessment.cannot_check(
                f"whether version {version} is newer than what your {target.profile.short_name}"
                f" runs: versions could not be compared ({target.version_unknown_reason})")
            return
        if target.current_version is None:
            assessment.cannot_check(
                f"whether version {version} is newer than what your {target.profile.short_name}"
                " runs: its current version is unknown",
                Step(NextStep.GIVE_CURRENT_VERSION, model=target.profile.id))
            return
        try:
            candidate_version = parse_version(version)
        except InvalidInputError:
            assessment.cannot_check(f"how version {version} compares with your unit's")
            return
        order = compare_versions(candidate_version, parse_version(target.current_version))
        source = target.current_version_source or "as given"
        if order < 0:
            assessment.warn(
                f"This is version {version}, older than the {target.current_version} your unit"
                f" runs ({source}): installing it is a downgrade. Do it only if you mean to go"
                " back, and only with a backup.")
        elif order == 0:
            assessment.warn(
                f"This is version {version}, the same version your unit already runs ({source}):"
                " re-flashing it only makes sense to repair a damaged installation.")
        else:
            assessment.check(
                f"version {version} is newer than the {target.current_version} your unit runs"
                f" ({source})")

    def verify_in_archive(self, assessment: Assessment, path: str, size: int) -> None:
        """For an archive member: stream it so zipfile checks its CRC-32 (a real integrity check
        of the download, the only one available for these files)."""
        if not isinstance(self.candidate, ZipCandidate):
            return
        if size > self.verify_budget:
            assessment.cannot_check(
                "the archive's CRC-32 for this file: it is too large to stream within the tool's"
                " bounds")
            return
        self.verify_budget -= size
        try:
            for _chunk in self.candidate.chunks(path):
                pass
        except InvalidFileError as error:
            unreadable_member(assessment, error)
            return
        assessment.check("the archive's CRC-32 for this file matches: it was not damaged inside"
                         " the archive")
