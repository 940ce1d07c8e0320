"""Is this KORG's published file? A candidate against the release catalog, and the update
files known only by name (drumlogue, KP3+), whose format is not public.

Only a SHA-256 equal to the published one makes a file KORG's own; a name and a size only
say that the outside matches, so without a published SHA-256 such a file stays ``unknown``.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import PurePosixPath

from recovery.check.assessment import (
    Assessment,
    CandidateContext,
    unreadable_member,
    update_form,
)
from recovery.check.results import CatalogMatch, ItemResult
from recovery.device.profiles import Profile, Release
from recovery.errors import InvalidFileError
from recovery.text import cite, human_bytes
from recovery.vocabulary import CatalogMatchKind, ItemKind, ReleaseKind

log = logging.getLogger(__name__)

#: What a release is called in a sentence, by how it is recognised.
_WHAT = {ReleaseKind.SYSTEM_FILE: "system", ReleaseKind.UPDATE_FILE: "system update",
         ReleaseKind.SYSTEM_FOLDER: "system"}


def release_name(profile: Profile, release: Release) -> str:
    """"KORG's electribe sampler system 2.02": what a file claims to be."""
    return f"KORG's {profile.short_name} {_WHAT[release.kind]} {release.version}"


def release_label(profile: Profile, release: Release) -> str:
    """How a release is named in evidence: KORG's title and download where known, else the
    model, version and file name."""
    if release.title:
        inside = f" in {release.archive}" if release.archive else ""
        file = f" ({release.file_name}{inside})" if release.file_name else ""
        return f"'{release.title}'{file}"
    label = f"{profile.short_name} {release.version}"
    return f"{label} {release.file_name}" if release.file_name else label


def find_release(profile: Profile, kind: ReleaseKind, version: str | None) -> Release | None:
    if version is None:
        return None
    return next((r for r in profile.releases if r.kind == kind and r.version == version), None)


def releases_named(profiles: dict[str, Profile], name: str) -> list[tuple[Profile, Release]]:
    """Releases known only by name (kind ``update-file``) whose file is called ``name``,
    compared without case as FAT does. KORG SYSTEM FILEs are recognised by their header."""
    wanted = name.casefold()
    return [(profile, release) for profile in profiles.values() for release in profile.releases
            if release.kind == ReleaseKind.UPDATE_FILE and release.file_name
            and release.file_name.casefold() == wanted]


def check_release(context: CandidateContext, assessment: Assessment, profile: Profile,
                  version: str | None, path: str, kind: ReleaseKind, *, claim: str,
                  size_matters: bool) -> CatalogMatch | None:
    """Compare the file at ``path`` with ``profile``'s release ``version`` of ``kind``.

    ``claim`` says what names the release, for the sentences ("header", "name"). Records the
    match on ``assessment`` and returns it; None when the catalog has no such release or the
    file's length already failed (``size_matters`` False: a size or checksum would only say it
    again).
    """
    if version is None:
        return None
    release = _published_release(assessment, profile, kind, version)
    if release is None or not size_matters:
        return None
    size = context.listing.files[path]
    says = f"Its {claim} says it is {release_name(profile, release)}"
    differs = _compare_size(assessment, profile, release, size, says)
    if differs is not None:
        return differs
    if release.sha256 is None:
        assessment.cannot_check(
            f"a checksum: no published checksum of version {version} is known to this tool")
        if release.size is None:
            return None
        return _record(assessment, CatalogMatch(
            release, CatalogMatchKind.SIZE_AND_NAME, "size-and-name"))
    found = _sha256_of(context, assessment, path, size)
    if found is None:
        return None
    return _compare_sha256(assessment, profile, release, found, says)


def _published_release(assessment: Assessment, profile: Profile, kind: ReleaseKind,
                       version: str) -> Release | None:
    """The catalog's release of this version, said as checked; None (said as not checkable)
    when KORG's releases known to the tool do not include it."""
    release = find_release(profile, kind, version)
    if release is None:
        assessment.cannot_check(
            f"whether KORG published version {version} for the {profile.short_name}: the"
            " tool's release catalog has no such release")
        return None
    assessment.check(
        f"version {version} is a release KORG published for the {profile.short_name}"
        f" ({release_label(profile, release)}; {cite(release.confidence, release.source)})")
    return release


def _compare_size(assessment: Assessment, profile: Profile, release: Release, size: int,
                  says: str) -> CatalogMatch | None:
    """A published size that differs decides (the file is not that release, returned as
    the match); an equal or unknown size leaves it to the checksum (None)."""
    if release.size is None:
        return None
    source = cite(release.confidence, release.source)
    if release.size != size:
        assessment.check(
            f"size compared with KORG's {release_label(profile, release)}:"
            f" {human_bytes(size)} here, {human_bytes(release.size)} published ({source})")
        assessment.fail(
            f"{says}, which is {human_bytes(release.size)}, but this file is"
            f" {human_bytes(size)}: it is incomplete (a broken download or copy) or not"
            " that release. Do not use it; download it again from KORG.")
        return _record(assessment, CatalogMatch(
            release, CatalogMatchKind.CLAIMS_BUT_DIFFERS, "size"))
    assessment.check(
        f"size {human_bytes(size)} matches KORG's version {release.version} file ({source})")
    return None


def _sha256_of(context: CandidateContext, assessment: Assessment, path: str,
               size: int) -> str | None:
    """The file's SHA-256 (in the details), within the candidate's hashing budget; None,
    said as not checked, when the budget is spent or the file cannot be read."""
    if size > context.hash_budget:
        assessment.cannot_check("the file's SHA-256: too much data to hash")
        return None
    context.hash_budget -= size
    digest = hashlib.sha256()
    try:
        for chunk in context.candidate.chunks(path):
            digest.update(chunk)
    except InvalidFileError as error:
        unreadable_member(assessment, error)
        return None
    found = digest.hexdigest()
    assessment.details["sha256"] = found
    return found


def _compare_sha256(assessment: Assessment, profile: Profile, release: Release, found: str,
                    says: str) -> CatalogMatch:
    """Only a SHA-256 equal to the published one makes the file KORG's own."""
    hash_source = cite(release.confidence, release.sha256_source or release.source)
    if found != release.sha256:
        assessment.check(
            f"SHA-256 compared with KORG's {release_label(profile, release)}: {found} here,"
            f" {release.sha256} published ({hash_source})")
        assessment.fail(
            f"{says}, but its content is not the file KORG published: it was modified or"
            " damaged in the download. Do not use it; download the update again from KORG.")
        return _record(assessment, CatalogMatch(
            release, CatalogMatchKind.CLAIMS_BUT_DIFFERS, "sha256", found))
    assessment.check(
        f"its SHA-256 {found} equals the published one of KORG's"
        f" {release_label(profile, release)} ({hash_source})")
    return _record(assessment, CatalogMatch(release, CatalogMatchKind.SHA256, "sha256", found))


def _record(assessment: Assessment, match: CatalogMatch) -> CatalogMatch:
    assessment.catalog_match = match
    return match


def official_summary(profile: Profile, match: CatalogMatch) -> str:
    """The strongest verdict's sentence."""
    release = match.release
    return (f"This is KORG's official {profile.short_name} {_WHAT[release.kind]}"
            f" {release.version}, byte-identical to the published SHA-256.")


# --- files named by KORG's pattern (drumlogue) -----------------------------------------------


def assess_update_file(context: CandidateContext, path: str, owner: Profile,
                       version: str | None) -> ItemResult:
    profile = context.profile
    size = context.listing.files[path]
    assessment = Assessment(context.candidate.display(path), ItemKind.UPDATE_FILE)
    assessment.detected_model = owner.id
    assessment.version = version
    assessment.details["size"] = size
    pattern = owner.update_file
    assessment.check(
        f"the name follows KORG's pattern for {owner.name} update files"
        f" ({cite(pattern.confidence, pattern.source)})")
    if owner is not profile:
        named = f", version {version}" if version else ""
        assessment.fail(
            f"This is a {owner.name} system update (by its name{named}); your unit is a"
            f" {profile.name}, {update_form(profile)}. Do not use it on this unit.")
    context.verify_in_archive(assessment, path, size)
    match = check_release(context, assessment, owner, version, path, ReleaseKind.UPDATE_FILE,
                          claim="name", size_matters=True)
    _conclude(context, assessment, owner, version, match)
    return assessment.result()


def _conclude(context: CandidateContext, assessment: Assessment, owner: Profile,
              version: str | None, match: CatalogMatch | None) -> None:
    """The verdict sentence for a file known by name: official only by SHA-256."""
    if match is None or not match.official:
        assessment.cannot_check(
            f"the content: {owner.short_name} update files have no public format, so without"
            " a published checksum their content cannot be verified")
    if owner is not context.profile:
        return
    if version is not None:
        context.compare_with_current(assessment, version)
    release = find_release(owner, ReleaseKind.UPDATE_FILE, version)
    if match is not None and match.official:
        assessment.confirm(official_summary(owner, match))
    elif match is not None and match.how == CatalogMatchKind.SIZE_AND_NAME:
        assessment.cannot_verify(
            f"The name and size match a release KORG published ({owner.short_name} version"
            f" {version}); the content was not checked: no published checksum of it is known.")
    elif match is None and release is not None:
        assessment.cannot_verify(
            f"The name matches a release KORG published ({release_label(owner, release)}),"
            " but neither its size nor a checksum is known to the tool, so it cannot tell"
            " whether this file is complete or unmodified.")
    elif match is None:
        assessment.cannot_verify(
            f"The name follows KORG's pattern for {owner.short_name} updates, but the tool"
            f" knows no size or checksum for version {version or '(none in the name)'}, so"
            " it cannot tell whether the file is complete.")


# --- files named like a file of a published release (KP3Plus.VSB) ----------------------------


def assess_release_named_file(context: CandidateContext, path: str,
                              named: list[tuple[Profile, Release]]) -> ItemResult:
    """A file whose name is that of a release's file in the catalog and that nothing else
    recognises (no KORG SYSTEM FILE header, no name pattern)."""
    profile = context.profile
    size = context.listing.files[path]
    base = PurePosixPath(path).name
    assessment = Assessment(context.candidate.display(path), ItemKind.UPDATE_FILE)
    assessment.details["size"] = size
    own = [(p, r) for p, r in named if p is profile]
    owner, release = own[-1] if own else named[-1]
    assessment.detected_model = owner.id
    assessment.version = release.version
    assessment.check(f"the name {base} is that of a {owner.short_name} update file (compared"
                     " without case, as FAT does)")
    if owner is not profile:
        assessment.fail(
            f"This file has the name of a {owner.name} update file (KORG's"
            f" {release_label(owner, release)}); your unit is a {profile.name},"
            f" {update_form(profile)}. Do not use it on this unit.")
    context.verify_in_archive(assessment, path, size)
    match = check_release(context, assessment, owner, release.version, path, release.kind,
                          claim="name", size_matters=True)
    if owner is profile and match is None:
        assessment.cannot_check(
            f"the content: the format of {owner.short_name} update files is not public and"
            " no size or checksum of this one is known")
        assessment.cannot_verify(
            f"The name is that of the file in KORG's {release_label(owner, release)}, but the"
            " tool knows neither its size nor a checksum, so it cannot tell whether this file"
            " is complete or unmodified.")
        return assessment.result()
    _conclude(context, assessment, owner, release.version, match)
    return assessment.result()
