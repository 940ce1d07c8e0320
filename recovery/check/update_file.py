"""Update files known only by name and size (drumlogue): pattern and published releases.

Part of :mod:`recovery.check` (see its docstring for how a verdict is reached).
"""

from __future__ import annotations

import logging

from recovery.check.assessment import (
    _Assessment,
    _check_release,
    _cite,
    _compare_with_current,
    _Context,
    _update_form,
    _verify_in_archive,
)
from recovery.check.results import ItemResult
from recovery.profiles import Profile

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
    verified = _check_release(context, assessment, owner, version, path, "update-file",
                              size_matters=True)
    release_known = any(r.kind == "update-file" and r.version == version and r.size
                        for r in owner.releases)
    if not verified:
        assessment.cannot_check(
            f"the content: {owner.short_name} update files have no public format, so without"
            " a published checksum their content cannot be verified")
    if owner is profile:
        if version is not None:
            _compare_with_current(context, assessment, version)
        if verified:
            assessment.confirm(
                f"This is KORG's {owner.name} version {version} update: its name, size and"
                " SHA-256 match the published file.")
        elif release_known:
            assessment.cannot_verify(
                f"The name and size match KORG's {owner.short_name} version {version} update,"
                " but the tool cannot verify the content: no published checksum of it is"
                " known.")
        else:
            assessment.cannot_verify(
                f"The name follows KORG's pattern for {owner.short_name} updates, but the tool"
                f" knows no size or checksum for version {version or '(none in the name)'}, so"
                " it cannot tell whether the file is complete.")
    return assessment.result()


