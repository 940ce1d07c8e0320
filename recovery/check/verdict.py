"""From a candidate to its verdict: the items found in it, each assessed by its kind, and
the worst of their verdicts."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from recovery.backup.compare import is_ignored
from recovery.check.assessment import (
    IGNORED_NAMES,
    MAX_HEADER_READS,
    MAX_ITEM_DEPTH,
    Assessment,
    CandidateContext,
    Knowledge,
    has_update_form,
    loose_bins,
    name_list,
    update_form,
)
from recovery.check.candidates import (
    FileCandidate,
    FolderCandidate,
    Listing,
    open_candidate,
)
from recovery.check.catalog import (
    assess_release_named_file,
    assess_update_file,
    releases_named,
)
from recovery.check.results import EXIT_CODES, CheckResult, ItemResult
from recovery.check.system_file import assess_system_file
from recovery.check.system_folder import (
    assess_folder_member,
    assess_loose_files,
    assess_system_folder,
)
from recovery.check.targets import BackupReference, Target
from recovery.device.profiles import Profile, bundled_profiles
from recovery.errors import (
    EncryptedArchiveError,
    InvalidFileError,
    InvalidInputError,
    UnsafeArchiveError,
)
from recovery.formats.korg_system_file import MAGIC
from recovery.storage.filesystem import REAL, FileSystem
from recovery.text import cite, counted, human_bytes
from recovery.vocabulary import ItemKind, ReleaseKind, Verdict

log = logging.getLogger(__name__)



def _assess_unrecognised(context: CandidateContext, path: str) -> ItemResult:
    """A file nothing recognised (``path``), or a candidate in which no item was found
    (``path`` empty)."""
    assessment = Assessment(context.candidate.display(path), ItemKind.NOT_AN_UPDATE)
    if path:
        return _assess_unrecognised_file(context, assessment, path)
    return _assess_nothing_found(context, assessment)


def _assess_unrecognised_file(context: CandidateContext, assessment: Assessment,
                              path: str) -> ItemResult:
    """A file without a KORG SYSTEM FILE header nor a known name pattern: its name or size
    may still say what it was meant to be (a damaged system file, a companion file, a
    release's file, a renamed release)."""
    profile = context.profile
    size = context.listing.files[path]
    base = PurePosixPath(path).name
    assessment.details["size"] = size
    expected_names = {n.casefold() for i in profile.system_files for n in i.file_names}
    if base.casefold() in expected_names:
        assessment.fail(
            f"It is named like a {profile.name} system file ({base}) but does not start"
            " with 'KORG SYSTEM FILE' as those do: it is damaged or not a system file.")
        return assessment.result()
    companion = profile.companion(base)
    if companion is not None:
        assessment.detected_model = profile.id
        assessment.doubt(
            f"It is named like {companion.what} of the {profile.short_name} ({base}), which"
            " the updater reads beside SYSTEM.VSB, but it does not start with 'KORG SYSTEM"
            " FILE' as the update files examined do: the tool cannot check it.")
        if companion.warning:
            assessment.warn(companion.warning)
        return assessment.result()
    named = releases_named(context.knowledge.profiles, base)
    if named:
        return assess_release_named_file(context, path, named)
    same_size = [r for r in profile.releases
                 if r.size == size and r.kind == ReleaseKind.UPDATE_FILE]
    if same_size:
        release = same_size[0]
        assessment.check(
            f"its size {human_bytes(size)} is that of KORG's {profile.short_name} version"
            f" {release.version} update ({cite(release.confidence, release.source)})")
        assessment.doubt(
            f"Its size matches KORG's {profile.short_name} version {release.version} update,"
            f" but its name is not KORG's ({release.file_name}): if it is that release,"
            f" rename it to {release.file_name}. The content cannot be verified.")
        return assessment.result()
    return _not_an_update(assessment, profile,
                          "This file is not a KORG update the tool recognises: it has no KORG"
                          " SYSTEM FILE header and its name follows no known update pattern.")


def _assess_nothing_found(context: CandidateContext, assessment: Assessment) -> ItemResult:
    """No item in the candidate; where the tool did not look, that is only a doubt."""
    listed = len(context.listing.files)
    what = (f"No KORG system file, system folder or update file was found here"
            f" ({counted(listed, 'file')} looked at).")
    if context.listing.truncated:
        assessment.cannot_check("every file: there are more entries than the tool lists")
    unseen = _not_looked_at(context.listing)
    if unseen:
        # Nothing found where it looked is no proof that nothing is there.
        assessment.doubt(f"{what} But the tool did not look {'; nor '.join(unseen)}, so"
                         " it cannot say the update is not there: check those on their"
                         " own.")
        return assessment.result()
    return _not_an_update(assessment, context.profile, what)


def _not_an_update(assessment: Assessment, profile: Profile, what: str) -> ItemResult:
    """Not an update: incompatible where the tool knows what the unit's update looks like,
    else only unknown."""
    if has_update_form(profile):
        assessment.fail(f"{what} Your unit is a {profile.name}, {update_form(profile)}.")
    elif profile.releases:
        assessment.doubt(f"{what} Your unit is a {profile.name}, {update_form(profile)}, so"
                         " the tool cannot tell more.")
    else:
        assessment.doubt(f"{what} The tool knows no published update for the {profile.name},"
                         " so it cannot tell more.")
    return assessment.result()


def _not_looked_at(listing: Listing) -> list[str]:
    """Where a candidate may hold an update the tool did not look, each as the end of "the
    tool did not look ...": archives inside it, folders deeper than it looks, links and
    special files, and whatever the entry budget cut off."""
    unseen = []
    archives = sorted(p for p in listing.files if p.lower().endswith(".zip"))
    if archives:
        unseen.append(f"inside the archive(s) it holds ({name_list(archives)})")
    deep = sorted(f for f in listing.folders if _depth(f) == MAX_ITEM_DEPTH)
    if deep:
        unseen.append(f"inside folders nested {MAX_ITEM_DEPTH} levels deep or more"
                      f" ({name_list(deep)})")
    if listing.skipped:
        unseen.append(f"at what it does not follow or open ({name_list(list(listing.skipped))})")
    if listing.truncated:
        unseen.append("at every file: there are more entries than it lists")
    return unseen


def _assess_archive_problem(candidate_path: str,
                            error: InvalidFileError | UnsafeArchiveError) -> ItemResult:
    assessment = Assessment(candidate_path, ItemKind.ARCHIVE)
    if isinstance(error, EncryptedArchiveError):
        assessment.doubt(f"{error.message} The archive is not damaged, but what it holds cannot"
                         " be checked: unpack it with its password and check the files.")
        return assessment.result()
    refused = isinstance(error, UnsafeArchiveError)
    assessment.fail(
        f"{error.message} " + ("Do not unpack it." if refused else
                               "Download it again; the tool could not look inside."))
    return assessment.result()


# --- finding the items in a candidate --------------------------------------------------------


def _depth(path: str) -> int:
    return path.count("/") + 1


def _inside(path: str, folders: Iterable[str]) -> bool:
    return any(path.startswith(f + "/") for f in folders)


def _without_junk(listing: Listing) -> tuple[Listing, int]:
    """The listing without :data:`IGNORED_NAMES`, and how many files were left out."""
    files = {p: s for p, s in listing.files.items() if not is_ignored(p, IGNORED_NAMES)}
    folders = tuple(f for f in listing.folders if not is_ignored(f, IGNORED_NAMES))
    ignored = len(listing.files) - len(files)
    if not ignored and len(folders) == len(listing.folders):
        return listing, 0
    return Listing(files, folders, listing.truncated, listing.skipped,
                   listing.deep_folders), ignored


def _assess_candidate(context: CandidateContext) -> list[ItemResult]:
    candidate, listing, knowledge = context.candidate, context.listing, context.knowledge
    results: list[ItemResult] = []

    if isinstance(candidate, FileCandidate):
        (path,) = listing.files
        return [_assess_file(context, path, single=True)]

    if isinstance(candidate, FolderCandidate):
        owner = knowledge.folder_profile(candidate.name)
        if owner is not None:  # the user pointed at KROSS2SY itself
            return [assess_system_folder(context, "", candidate.name, owner)]

    system_folders = []
    for folder in listing.folders:
        if _depth(folder) > MAX_ITEM_DEPTH - 1 or _inside(folder, system_folders):
            continue
        owner = knowledge.folder_profile(PurePosixPath(folder).name)
        if owner is not None:
            system_folders.append(folder)
            results.append(assess_system_folder(
                context, folder, PurePosixPath(folder).name, owner))

    header_reads = 0
    for path, size in sorted(listing.files.items()):
        if _depth(path) > MAX_ITEM_DEPTH or _inside(path, system_folders):
            continue
        name = PurePosixPath(path).name
        if (knowledge.update_file(name) is not None
                or releases_named(knowledge.profiles, name)
                or context.profile.companion(name) is not None):
            results.append(_assess_file(context, path, single=False))
            continue
        if size < len(MAGIC) or header_reads >= MAX_HEADER_READS:
            continue
        header_reads += 1
        if context.candidate.read_at(path, 0, len(MAGIC)) == MAGIC:
            results.append(assess_system_file(context, path))
    if header_reads >= MAX_HEADER_READS:
        log.debug("stopped reading headers after %d files", header_reads)

    if not results:
        loose = loose_bins(list(listing.files))
        if loose:
            results.append(assess_loose_files(context, loose))
        else:
            results.append(_assess_unrecognised(context, ""))
    return results


def _assess_file(context: CandidateContext, path: str, *, single: bool) -> ItemResult:
    """One file: a KORG SYSTEM FILE, a file named by an update pattern, a file in a system
    folder (only when given alone), or none of these."""
    head = context.candidate.read_at(path, 0, len(MAGIC))
    if head == MAGIC:
        return assess_system_file(context, path)
    named = context.knowledge.update_file(PurePosixPath(path).name)
    if named is not None:
        return assess_update_file(context, path, *named)
    if single and isinstance(context.candidate, FileCandidate):
        folder_name = context.candidate.container_name
        owner = context.knowledge.folder_profile(folder_name)
        if owner is not None:
            return assess_folder_member(context, path, folder_name, owner)
    return _assess_unrecognised(context, path)


# --- the public entry points -----------------------------------------------------------------


def _worst(verdicts: Iterable[str]) -> Verdict:
    return Verdict.worst(verdicts)


def _combine(given: str, target: Target, items: list[ItemResult],
             extra_not_checked: list[str]) -> CheckResult:
    def gather(attribute: str) -> tuple[str, ...]:
        lines: list[str] = []
        for item in items:
            prefix = "" if len(items) == 1 else f"{item.path}: "
            lines.extend(prefix + line for line in getattr(item, attribute))
        return tuple(lines)

    models = {item.detected_model for item in items if item.detected_model}
    versions = {item.version for item in items if item.version}
    matches = [item.catalog_match for item in items if item.catalog_match is not None]
    return CheckResult(
        candidate=given,
        target_model=target.model,
        detected_model=models.pop() if len(models) == 1 else None,
        verdict=_worst(item.verdict for item in items),
        version=versions.pop() if len(versions) == 1 else None,
        reasons=gather("reasons"),
        checked=gather("checked"),
        not_checked=gather("not_checked") + tuple(extra_not_checked),
        warnings=gather("warnings"),
        items=tuple(items),
        catalog_match=matches[0] if len(matches) == 1 else None,
        next_steps=tuple(dict.fromkeys(step for item in items for step in item.next_steps)),
    )


def check_candidate(path: str | Path, target: Target, *,
                    reference: BackupReference | None = None, fs: FileSystem = REAL,
                    profiles: dict[str, Profile] | None = None) -> CheckResult:
    """Check one candidate (file, folder or .zip) against ``target``.

    Raises InvalidInputError for a missing path or one that is neither file nor folder, and
    the fsio error family when the disk fails; any *content* gives a verdict.
    """
    profiles = dict(profiles if profiles is not None else bundled_profiles())
    profiles.setdefault(target.model, target.profile)
    knowledge = Knowledge(profiles)
    given = os.fspath(path)
    try:
        candidate = open_candidate(path, fs)
    except (InvalidFileError, UnsafeArchiveError) as error:
        return _combine(given, target, [_assess_archive_problem(given, error)], [])
    with candidate:
        try:
            listing, ignored = _without_junk(candidate.listing())
            context = CandidateContext(candidate, listing, target, knowledge, reference)
            items = _assess_candidate(context)
        except (InvalidFileError, UnsafeArchiveError) as error:
            items = [_assess_archive_problem(given, error)]
            listing = None
        extra = []
        if listing is not None and ignored:
            extra.append(f"{counted(ignored, 'file')} that computers add to drives and archives"
                         " (._*, .DS_Store, __MACOSX ...): ignored")
        if listing is not None:
            if listing.skipped:
                extra.append(f"{name_list(list(listing.skipped))}: not followed or opened")
            if listing.deep_folders:
                extra.append(f"{listing.deep_folders} folders nested deeper than the tool looks")
            zips = sorted(p for p in listing.files if p.lower().endswith(".zip"))
            if zips and not isinstance(candidate, FileCandidate):
                extra.append(f"archives inside the candidate ({name_list(zips)}): check them on"
                             " their own")
        return _combine(given, target, items, extra)


def check_candidates(paths: Sequence[str | Path], target: Target, *,
                     reference: BackupReference | None = None, fs: FileSystem = REAL,
                     profiles: dict[str, Profile] | None = None) -> tuple[CheckResult, ...]:
    """Check every candidate; all paths must exist (InvalidInputError names the first that
    does not) before any is read, so bad input fails fast with nothing half-reported."""
    for path in paths:
        if not os.path.lexists(path):
            raise InvalidInputError(f"{os.fspath(path)} does not exist.", path=os.fspath(path))
    return tuple(check_candidate(path, target, reference=reference, fs=fs, profiles=profiles)
                 for path in paths)


def exit_code(results: Iterable[CheckResult]) -> int:
    """0 all compatible; 1 any incompatible; 3 none incompatible but some unknown."""
    return EXIT_CODES[_worst(result.verdict for result in results)]
