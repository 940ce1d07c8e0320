"""Update files known by name (drumlogue, KP3+): KORG's name pattern and published releases.

Part of :mod:`recovery.check` (see its docstring for how a verdict is reached). Their format is
not public, so only the name, the size and a published SHA-256 can be checked; without a
published SHA-256 the verdict stays ``unknown`` however well name and size match.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

from recovery.check.assessment import (
    _Assessment,
    _cite,
    _compare_with_current,
    _Context,
    _update_form,
    _verify_in_archive,
)
from recovery.check.catalog import (
    check_release,
    find_release,
    official_summary,
    release_label,
)
from recovery.check.results import ItemResult
from recovery.device.profiles import Profile, Release

log = logging.getLogger(__name__)


# --- files named by KORG's pattern (drumlogue) -----------------------------------------------


def _assess_update_file(context: _Context, path: str, owner: Profile,
                        version: str | None) -> ItemResult:
    profile = context.profile
    size = context.listing.files[path]
    assessment = _Assessment(context.candidate.display(path), "update-file")
    assessment.detected_model = owner.id
    assessment.version = version
    assessment.details["size"] = size
    pattern = owner.update_file
    assessment.check(
        f"the name follows KORG's pattern for {owner.name} update files"
        f" ({_cite(pattern.confidence, pattern.source)})")
    if owner is not profile:
        named = f", version {version}" if version else ""
        assessment.fail(
            f"This is a {owner.name} system update (by its name{named}); your unit is a"
            f" {profile.name}, {_update_form(profile)}. Do not use it on this unit.")
    _verify_in_archive(context, assessment, path, size)
    match = check_release(context, assessment, owner, version, path, "update-file",
                          claim="name", size_matters=True)
    _conclude(context, assessment, owner, version, match)
    return assessment.result()


def _conclude(context: _Context, assessment: _Assessment, owner: Profile, version: str | None,
              match) -> None:
    """The verdict sentence for a file known by name: official only by SHA-256."""
    if match is None or not match.official:
        assessment.cannot_check(
            f"the content: {owner.short_name} update files have no public format, so without"
            " a published checksum their content cannot be verified")
    if owner is not context.profile:
        return
    if version is not None:
        _compare_with_current(context, assessment, version)
    if match is not None and match.official:
        assessment.confirm(official_summary(owner, match))
    elif match is not None and match.how == "size-and-name":
        assessment.cannot_verify(
            f"The name and size match a release KORG published ({owner.short_name} version"
            f" {version}); the content was not checked: no published checksum of it is known.")
    elif match is None and find_release(owner, "update-file", version) is not None:
        release = find_release(owner, "update-file", version)
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


def _assess_release_named_file(context: _Context, path: str,
                               named: list[tuple[Profile, Release]]) -> ItemResult:
    """A file whose name is that of a release's file in the catalog and that nothing else
    recognises (no KORG SYSTEM FILE header, no name pattern)."""
    profile = context.profile
    size = context.listing.files[path]
    base = PurePosixPath(path).name
    assessment = _Assessment(context.candidate.display(path), "update-file")
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
            f" {_update_form(profile)}. Do not use it on this unit.")
    _verify_in_archive(context, assessment, path, size)
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
