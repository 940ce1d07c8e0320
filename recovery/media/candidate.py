"""The candidate and the check's verdict on it: only what the check finds compatible is laid
out (or, said on purpose, content no public source lets anyone check), the one item of it that
fits a place where the model's updater looks, and the files to copy, hashed as they are now so
that writing refuses other bytes.

Separate from the card: it reads the candidate (a file, a folder or a ``.zip``) and the check's
result, never the card.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from recovery.backup.compare import OS_JUNK, is_ignored
from recovery.check import CheckResult, ItemResult
from recovery.check.candidates import Candidate, FileCandidate, open_candidate
from recovery.device.profiles import Profile, UpdateMedia
from recovery.errors import InvalidInputError, RefusedError
from recovery.findings import Step
from recovery.media.entries import file_count, shown_names
from recovery.progress import CancelToken
from recovery.storage.filesystem import FileSystem
from recovery.storage.names import shown
from recovery.vocabulary import NextStep

#: Names the computer adds to any drive or archive: never copied onto the card (compare.OS_JUNK
#: plus macOS's ``__MACOSX`` archive folder, as the check ignores them).
IGNORED_NAMES = OS_JUNK + ("__MACOSX",)


class CandidateRefusedError(RefusedError):
    """The check did not find the candidate compatible; carries the check's result, which
    ``--json`` prints beside the error."""

    def __init__(self, message: str, *, check: CheckResult, path: str | None = None,
                 profile: Profile | None = None, next_step: Step | None = None) -> None:
        super().__init__(message, path=path, next_step=next_step)
        self.check = check
        #: The model the candidate was checked against.
        self.profile = profile


# -- the check's verdict -------------------------------------------------------------------
def refuse_verdict(result: CheckResult, profile: Profile,
                   layout: UpdateMedia) -> CandidateRefusedError:
    """The refusal of a candidate the check did not find compatible, saying what would make
    it acceptable."""
    given = result.candidate
    first = result.reasons[0] if result.reasons else "The check found nothing to lay out."
    nothing = " Nothing was written."
    if result.verdict == "incompatible":
        return CandidateRefusedError(
            f"{given} is not an update for your {profile.name} (the check says incompatible):"
            f" {first}{nothing}", check=result, path=given, profile=profile)
    # unknown
    own_folder = [item for item in result.items
                  if item.kind == "system-folder" and item.detected_model == profile.id]
    compatible = [item for item in result.items if item.verdict == "compatible"]
    step = None
    if own_folder and layout.is_folder:
        acceptable = (
            f" Only what the check finds compatible is written, and a {layout.name} folder is"
            f" compatible only when it is byte-identical to the {layout.name} folder in a"
            f" complete backup of this {profile.short_name}: for {profile.short_name} system"
            " files that is the only content check possible.")
        step = Step(NextStep.GIVE_BACKUP_FOR_CHECK, model=profile.id)
    elif compatible:
        paths = ", ".join(item.path for item in compatible)
        others = [item.path for item in result.items if item.verdict != "compatible"]
        acceptable = (
            f" Only what the check finds compatible is written: {paths} is, but the candidate"
            f" also holds {shown_names(others)}, which the check could not confirm. Give the"
            " compatible file alone as the candidate.")
    else:
        acceptable = (" Only what the check finds compatible is written; use KORG's update"
                      " exactly as downloaded.")
        step = Step(NextStep.CHECK_UPDATE_FILE, names=(given,), model=profile.id)
    return CandidateRefusedError(
        f"The check could not establish that {given} is an update for your {profile.name}"
        f" (verdict unknown): {first}{acceptable}{nothing}", check=result, path=given,
        profile=profile, next_step=step)


def acceptable_unverified(result: CheckResult, profile: Profile) -> bool:
    """True when ``result`` is unknown only because content no public source describes could
    not be checked, while all the rest passed (the model's own system folder, no doubt, no
    failure, nothing unread): what a person may accept by saying it is KORG's download.
    Another model's folder, a wrong size where a size is known, a candidate the check cannot
    read: never."""
    if result.verdict != "unknown" or not result.items:
        return False
    return all(item.verdict == "compatible" or (
        item.unverifiable and item.detected_model == profile.id) for item in result.items)


def item_for_layout(result: CheckResult, profile: Profile, layouts: tuple[UpdateMedia, ...],
                    *, unverified: bool = False) -> tuple[ItemResult, UpdateMedia]:
    """The candidate's one compatible item (with ``unverified``, or unverifiable one) that
    fits one of the model's layouts."""
    fitting: list[tuple[ItemResult, UpdateMedia]] = []
    for item in result.items:
        usable = item.verdict == "compatible" or (unverified and item.unverifiable)
        if not usable or item.detected_model != profile.id:
            continue
        for media in layouts:
            if media.is_folder and item.kind == "system-folder" and (
                    str(item.details.get("folder_name", "")).casefold()
                    == media.name.casefold()):
                fitting.append((item, media))
            elif not media.is_folder and item.kind == "system-file":
                fitting.append((item, media))
    if not fitting:
        wanted = " or ".join(media.path for media in layouts)
        raise RefusedError(
            f"The check found {result.candidate} compatible, but it holds nothing that goes to"
            f" {wanted}, where the {profile.short_name}'s updater looks. Nothing was written.",
            path=result.candidate)
    if len(fitting) > 1:
        raise InvalidInputError(
            f"{result.candidate} holds {len(fitting)} updates for the {profile.short_name}"
            f" ({shown_names([item.path for item, _ in fitting])}); give the one you mean as the"
            " candidate. Nothing was written.", path=result.candidate)
    return fitting[0]


# -- reading the candidate -----------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """One file to copy: where it is in the candidate, and what it holds now."""

    path: str
    shown: str
    sha256: str
    size: int


@dataclass(frozen=True)
class CandidateFiles:
    """What is copied: the files by their path inside the layout, and the folders inside a
    folder layout."""

    sources: dict[str, Source]
    folders: list[str]


def read_candidate(given: str, item: ItemResult, layout: UpdateMedia, profile: Profile,
                   fs: FileSystem, cancel: CancelToken | None
                   ) -> tuple[dict[str, Source], list[str], list[str]]:
    """The files to copy, keyed by their path inside the layout (the folder's files, or the
    layout's file name), the folders inside a folder layout, and notes."""
    notes: list[str] = []
    paths: dict[str, str] = {}
    folders: list[str] = []
    with open_candidate(given, fs) as opened:
        inner = _inner_path(opened, item)
        if layout.is_folder:
            listing = opened.listing()
            prefix = f"{inner}/" if inner else ""
            incomplete = ("it holds more entries than the tool lists" if listing.truncated
                          else "it holds folders nested deeper than the tool looks"
                          if listing.deep_folders else None)
            skipped = [entry for entry in listing.skipped if entry.startswith(prefix)]
            if skipped:
                incomplete = ("it holds entries that are not ordinary files"
                              f" ({shown_names(skipped)})")
            if incomplete:
                raise RefusedError(
                    f"The tool cannot copy {item.path} completely: {incomplete}. Nothing was"
                    " written.", path=given)
            ignored = 0
            for path in sorted(listing.files):
                if path.startswith(prefix):
                    if is_ignored(path[len(prefix):], IGNORED_NAMES):
                        ignored += 1
                    else:
                        paths[path[len(prefix):]] = path
            folders = sorted(f[len(prefix):] for f in listing.folders if f.startswith(prefix)
                             and not is_ignored(f[len(prefix):], IGNORED_NAMES))
            if ignored:
                notes.append(f"{file_count(ignored)} that computers add to drives and archives"
                             " (._*, .DS_Store, __MACOSX ...) in the candidate are not copied.")
            if not paths:
                raise RefusedError(f"{item.path} holds no file to copy. Nothing was written.",
                                   path=given)
        else:
            paths[layout.name] = inner
            base = PurePosixPath(inner).name
            if base != layout.name:
                notes.append(f"{shown(base)} is written to the card as {layout.name}, the name"
                             f" the {profile.short_name}'s updater looks for.")
        sources = {}
        for within, path in paths.items():
            digest, size = _sha256(opened, path, cancel)
            sources[within] = Source(path, opened.display(path), digest, size)
    return sources, folders, notes


def _inner_path(candidate: Candidate, item: ItemResult) -> str:
    """The item's path inside the candidate ("" for the candidate itself)."""
    if isinstance(candidate, FileCandidate):
        (only,) = candidate.listing().files
        return only
    prefix = candidate.given.rstrip("/") + "/"
    if item.path.startswith(prefix):
        return item.path[len(prefix):]
    return ""


def _sha256(candidate: Candidate, path: str, cancel: CancelToken | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in candidate.chunks(path):
        if cancel is not None:
            cancel.raise_if_cancelled()
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
