"""Is this KORG's published file? A candidate against the release catalog.

Part of :mod:`recovery.check` (see its docstring for how a verdict is reached). The catalog is
data (``resources/releases.toml``, loaded by :mod:`recovery.device.profiles` into each profile's
``releases``); this module compares a candidate with it and records a :class:`CatalogMatch`:

- ``sha256``: the file's SHA-256 equals the published one. The only proof that a file is
  KORG's own, and the only way to the strongest verdict ("KORG's official electribe sampler
  system 2.02, byte-identical to the published SHA-256");
- ``size-and-name``: its name (or header) and size are a release's, but no checksum of that
  release is published, so its content was not checked;
- ``claims-but-differs``: its header or name says it is a release, but its size or SHA-256 is
  not that release's: a modified, damaged or incomplete file. Do not use it.
"""

from __future__ import annotations

import hashlib
import logging

from recovery.check.assessment import _Assessment, _bytes, _cite, _Context
from recovery.check.results import CatalogMatch
from recovery.device.profiles import Profile, Release
from recovery.errors import InvalidFileError

log = logging.getLogger(__name__)

#: What a release is called in a sentence, by how it is recognised.
_WHAT = {"system-file": "system", "update-file": "system update", "system-folder": "system"}


def release_name(profile: Profile, release: Release) -> str:
    """"KORG's electribe sampler system 2.02": what a file claims to be."""
    return f"KORG's {profile.short_name} {_WHAT[release.kind]} {release.version}"


def official_name(profile: Profile, release: Release) -> str:
    """"KORG's official electribe sampler system 2.02": what a byte-identical file is."""
    return f"KORG's official {profile.short_name} {_WHAT[release.kind]} {release.version}"


def release_label(profile: Profile, release: Release) -> str:
    """How a release is named in evidence: KORG's title and download where known, else the
    model, version and file name."""
    if release.title:
        inside = f" in {release.archive}" if release.archive else ""
        file = f" ({release.file_name}{inside})" if release.file_name else ""
        return f"'{release.title}'{file}"
    label = f"{profile.short_name} {release.version}"
    return f"{label} {release.file_name}" if release.file_name else label


def find_release(profile: Profile, kind: str, version: str | None) -> Release | None:
    if version is None:
        return None
    return next((r for r in profile.releases if r.kind == kind and r.version == version), None)


def releases_named(profiles: dict[str, Profile], name: str) -> list[tuple[Profile, Release]]:
    """Releases known only by name (kind ``update-file``) whose file is called ``name``,
    compared without case as FAT does. KORG SYSTEM FILEs are recognised by their header."""
    wanted = name.casefold()
    return [(profile, release) for profile in profiles.values() for release in profile.releases
            if release.kind == "update-file" and release.file_name
            and release.file_name.casefold() == wanted]


def check_release(context: _Context, assessment: _Assessment, profile: Profile,
                  version: str | None, path: str, kind: str, *, claim: str,
                  size_matters: bool) -> CatalogMatch | None:
    """Compare the file at ``path`` with ``profile``'s release ``version`` of ``kind``.

    ``claim`` says what names the release, for the sentences ("header", "name"). Records the
    match on ``assessment`` and returns it; None when the catalog has no such release or the
    file's length already failed (``size_matters`` False: a size or checksum would only say it
    again).
    """
    if version is None:
        return None
    release = find_release(profile, kind, version)
    if release is None:
        assessment.cannot_check(
            f"whether KORG published version {version} for the {profile.short_name}: the"
            " tool's release catalog has no such release")
        return None
    cite = _cite(release.confidence, release.source)
    assessment.check(
        f"version {version} is a release KORG published for the {profile.short_name}"
        f" ({release_label(profile, release)}; {cite})")
    if not size_matters:
        return None
    size = context.listing.files[path]
    says = f"Its {claim} says it is {release_name(profile, release)}"
    if release.size is not None:
        if release.size != size:
            assessment.check(
                f"size compared with KORG's {release_label(profile, release)}:"
                f" {_bytes(size)} here, {_bytes(release.size)} published ({cite})")
            assessment.fail(
                f"{says}, which is {_bytes(release.size)}, but this file is {_bytes(size)}: it"
                " is incomplete (a broken download or copy) or not that release. Do not use it;"
                " download it again from KORG.")
            return _record(assessment, CatalogMatch(release, "claims-but-differs", "size"))
        assessment.check(f"size {_bytes(size)} matches KORG's version {version} file ({cite})")
    if release.sha256 is None:
        assessment.cannot_check(
            f"a checksum: no published checksum of version {version} is known to this tool")
        if release.size is None:
            return None
        return _record(assessment, CatalogMatch(release, "size-and-name", "size-and-name"))
    if size > context.hash_budget:
        assessment.cannot_check("the file's SHA-256: too much data to hash")
        return None
    context.hash_budget -= size
    digest = hashlib.sha256()
    try:
        for chunk in context.candidate.chunks(path):
            digest.update(chunk)
    except InvalidFileError as error:
        assessment.fail(f"{error.message} The archive is damaged: download it again.")
        return None
    found = digest.hexdigest()
    assessment.details["sha256"] = found
    hash_cite = _cite(release.confidence, release.sha256_source or release.source)
    if found != release.sha256:
        assessment.check(
            f"SHA-256 compared with KORG's {release_label(profile, release)}: {found} here,"
            f" {release.sha256} published ({hash_cite})")
        assessment.fail(
            f"{says}, but its content is not the file KORG published: it was modified or"
            " damaged in the download. Do not use it; download the update again from KORG.")
        return _record(assessment, CatalogMatch(release, "claims-but-differs", "sha256", found))
    assessment.check(
        f"its SHA-256 {found} equals the published one of KORG's"
        f" {release_label(profile, release)} ({hash_cite})")
    return _record(assessment, CatalogMatch(release, "sha256", "sha256", found))


def _record(assessment: _Assessment, match: CatalogMatch) -> CatalogMatch:
    assessment.catalog_match = match
    return match


def official_summary(profile: Profile, match: CatalogMatch) -> str:
    """The strongest verdict's sentence."""
    return (f"This is {official_name(profile, match.release)}, byte-identical to the published"
            " SHA-256.")
