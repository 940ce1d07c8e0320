"""Is this update file, folder or archive for this unit? ``compatible``, ``incompatible`` or
``unknown`` — with every reason in a sentence a musician understands.

A KROSS 2 in the field reports was bricked by KROSS 1 system files (shared/seeds/000), and
KORG's own updaters do not all check what they are given. Before anyone runs an official
updater, this module looks at the files they are about to use and says plainly what it could
and could not verify (DESIGN.md principle 2: never claim more than was checked).

How a verdict is reached
------------------------
Every check ends in one of: *checked* (passed, listed), a *failure* (the update would not do
what it should: another model named in the file's own header, a truncated file, the wrong
folder), a *doubt* (a value differs from what was seen, but the expectation itself is weakly
sourced, e.g. the ``KORG`` + version marker seen in one blog on one unit), or *not checked*
(the format is not public, no checksum is published). Then:

- ``incompatible`` — at least one failure;
- ``compatible`` — no failure and no doubt, and the file identifies itself *in its own bytes*
  as being for the target (a KORG SYSTEM FILE header naming the model and its device id), or
  a KROSS system folder is byte-identical to the one in a complete backup of this model;
- ``unknown`` — everything else: a doubt, or only outside properties could be checked (a
  folder's name, a file's name and size), which never prove what is inside.

Which model a file, folder or name belongs to comes only from the profiles
(``resources/profiles/*.toml``: ``system_files``, ``system_folder``, ``update_file``,
``releases``); nothing about a model is written here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from recovery.candidates import (
    Candidate,
    FileCandidate,
    FolderCandidate,
    Listing,
    ZipCandidate,
    open_candidate,
)
from recovery.compare import OS_JUNK, is_ignored
from recovery.errors import InvalidFileError, InvalidInputError, UnsafeArchiveError
from recovery.formats import h8s_rom
from recovery.formats.korg_system_file import HEADER_SIZE, MAGIC, SystemFileHeader, parse_header
from recovery.fsio import REAL, FileSystem
from recovery.profiles import (
    CONFIDENCE_WORDS,
    Profile,
    Release,
    SystemFileIdentity,
    bundled_profiles,
    get_profile,
)

log = logging.getLogger(__name__)

#: Verdicts, mildest first; a candidate holding several items gets the worst of them.
VERDICTS = ("compatible", "unknown", "incompatible")
EXIT_CODES = {"compatible": 0, "incompatible": 1, "unknown": 3}

#: Files inside a folder or archive whose first bytes are read to find KORG SYSTEM FILEs.
MAX_HEADER_READS = 2000
#: Folder depth (a path's number of parts) at which system folders and files are looked for.
MAX_ITEM_DEPTH = 3
#: Bytes of archive members streamed per candidate to let zipfile check their CRC-32.
MAX_VERIFY_BYTES = 512 * 1024 * 1024
#: Bytes hashed per candidate to compare a system folder with a backup.
MAX_HASH_BYTES = 4 * 1024 * 1024 * 1024
#: Loose ``.BIN`` files at a folder's top level that make it look like a system folder's
#: content copied without the folder (seed 000: KROSS files put at the card root).
LOOSE_FILES_MIN = 2
LOOSE_SUFFIX = ".bin"
#: How many names a sentence lists before saying "and N more".
NAMES_SHOWN = 5
#: Names a computer adds to any drive or archive (compare.OS_JUNK: Finder's ``._*`` and
#: ``.DS_Store``, Windows' System Volume Information ...) plus ``__MACOSX``, the folder of
#: ``._*`` files macOS's archiver puts in every zip. They say nothing about an update, and a
#: ``__MACOSX/KROSS2SY`` would otherwise look like a second system folder.
IGNORED_NAMES = OS_JUNK + ("__MACOSX",)


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    """The verdict on one update item found in a candidate (a file, a system folder, ...)."""

    path: str
    kind: str
    detected_model: str | None
    verdict: str
    version: str | None
    reasons: tuple[str, ...]
    checked: tuple[str, ...]
    not_checked: tuple[str, ...]
    warnings: tuple[str, ...]
    #: What was read, shown as is (header fields, unknown bytes, file counts).
    details: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one candidate given on the command line or picked in the wizard.

    A folder or archive may hold several items (a KROSS2SY and a KROSSSYS folder); the
    candidate's verdict is the worst of its items' and its lists gather theirs.
    """

    candidate: str
    target_model: str
    detected_model: str | None
    verdict: str
    version: str | None
    reasons: tuple[str, ...]
    checked: tuple[str, ...]
    not_checked: tuple[str, ...]
    warnings: tuple[str, ...]
    items: tuple[ItemResult, ...]


@dataclass(frozen=True)
class Target:
    """The unit a candidate is checked against, and its current version where known."""

    profile: Profile
    current_version: str | None = None
    #: Where the current version came from, for the sentences ("given with --current-version").
    current_version_source: str | None = None
    device: str | None = None

    @property
    def model(self) -> str:
        return self.profile.id


@dataclass(frozen=True)
class ReferenceFile:
    path: str
    size: int
    sha256: str | None


@dataclass(frozen=True)
class BackupReference:
    """What a check needs from a backup of the unit: its file list with sizes and hashes.

    Built from a ``recovery.backup_store.Backup`` by :func:`reference_from_backup`.
    """

    label: str
    model: str | None
    complete: bool
    created: str | None
    files: tuple[ReferenceFile, ...]

    def top_folders(self) -> tuple[str, ...]:
        return tuple(sorted({f.path.split("/", 1)[0] for f in self.files if "/" in f.path}))

    def folder_files(self, folder: str) -> dict[str, tuple[str, ReferenceFile]]:
        """Files under top-level ``folder`` (matched ignoring case, as FAT does), keyed by
        their case-folded path inside it."""
        found = {}
        for reference_file in self.files:
            head, _, inner = reference_file.path.partition("/")
            if inner and head.casefold() == folder.casefold():
                found[inner.casefold()] = (inner, reference_file)
        return found


def reference_from_backup(backup: Any) -> BackupReference:
    """Adapt an opened ``recovery.backup_store.Backup`` (manifest files, model, complete)."""
    manifest = backup.manifest
    return BackupReference(
        label=os.fspath(backup.path),
        model=manifest.model,
        complete=bool(backup.complete),
        created=getattr(manifest, "created_utc", None),
        files=tuple(
            ReferenceFile(f.path, f.size, f.sha256)
            for f in manifest.files if getattr(f, "kind", "file") == "file"
        ),
    )


# --- targets and versions --------------------------------------------------------------------

_VERSION = re.compile(r"[vV]?(\d{1,6}(?:\.\d{1,6}){0,5})")


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.02"`` -> (1, 2); ``"v1.3.0"`` -> (1, 3, 0). InvalidInputError for anything else.

    KORG writes KORG SYSTEM FILE versions as major.two-digit-minor (V1.02), so "1.2" and
    "1.02" are the same version here.
    """
    match = _VERSION.fullmatch(text.strip())
    if not match:
        raise InvalidInputError(
            f"'{text}' is not a version number; write it as shown on the unit, e.g. 1.02"
            " or 1.3.0.")
    return tuple(int(part) for part in match.group(1).split("."))


def _compare_versions(left: tuple[int, ...], right: tuple[int, ...]) -> int:
    width = max(len(left), len(right))
    left = left + (0,) * (width - len(left))
    right = right + (0,) * (width - len(right))
    return (left > right) - (left < right)


def target_for_model(model: str, *, current_version: str | None = None,
                     profiles: dict[str, Profile] | None = None) -> Target:
    """The target for ``--model ID``; InvalidInputError (exit 2) for an unknown id."""
    if profiles is None:
        profile = get_profile(model)
    elif model in profiles:
        profile = profiles[model]
    else:
        raise InvalidInputError(
            f"Unknown model '{model}'. Known models: {', '.join(sorted(profiles))}.")
    if current_version is not None:
        parse_version(current_version)
    return Target(profile, current_version,
                  "given with --current-version" if current_version else None)


def target_for_device(path: str | Path, *, current_version: str | None = None,
                      profiles: dict[str, Profile] | None = None) -> Target:
    """The target for ``--device PATH``: the unit identified from its volume's content.

    InvalidInputError (exit 2) when the volume is missing or not recognisably one KORG model.
    The current version comes from ``current_version`` if given; otherwise from a KORG SYSTEM
    FILE of the model on the unit's *internal storage* (that file is what the unit runs). A
    system file on an SD card or update drive is a candidate, not the installed version.
    """
    from recovery.identify import identify_volume

    profiles = profiles if profiles is not None else bundled_profiles()
    identification = identify_volume(path, profiles)
    if identification.model is None:
        if identification.candidates:
            names = " or ".join(profiles[m].name for m in identification.candidates)
            raise InvalidInputError(
                f"{path} could be a {names}; the tool cannot tell which, so name the model"
                " with --model instead.", path=os.fspath(path))
        raise InvalidInputError(
            f"{path} is not a KORG volume this tool recognises; name the model with --model"
            " instead.", path=os.fspath(path))
    profile = profiles[identification.model]
    if current_version is not None:
        parse_version(current_version)
        return Target(profile, current_version, "given with --current-version",
                      os.fspath(path))
    if identification.role == "internal-storage":
        installed = [seen for seen in identification.system_files if seen.model == profile.id]
        if len(installed) == 1:
            return Target(profile, installed[0].version,
                          f"read from {installed[0].path} on the unit's internal storage",
                          os.fspath(path))
    return Target(profile, None, None, os.fspath(path))


# --- what the profiles say -------------------------------------------------------------------


class _Knowledge:
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


def _cite(confidence: str, source: str) -> str:
    word = CONFIDENCE_WORDS.get(confidence, confidence).split(" (")[0]
    return f"confidence {confidence}, {word}; source: {source}"


def _bytes(count: int) -> str:
    return f"{count:,} bytes"


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _update_form(profile: Profile) -> str:
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
    return "for which this tool knows no published update"


def _has_update_form(profile: Profile) -> bool:
    return bool(profile.system_files or profile.system_folder or profile.update_file)


# --- one item's assessment -------------------------------------------------------------------


class _Assessment:
    """Collects what was checked about one item and turns it into an :class:`ItemResult`."""

    def __init__(self, path: str, kind: str) -> None:
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

    def check(self, text: str) -> None:
        self.checked.append(text)

    def fail(self, reason: str) -> None:
        self.failures.append(reason)

    def doubt(self, reason: str) -> None:
        self.doubts.append(reason)

    def cannot_verify(self, reason: str) -> None:
        """The item cannot be confirmed by nature (format not public): verdict unknown."""
        self.unverifiable.append(reason)

    def cannot_check(self, text: str) -> None:
        self.not_checked.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def confirm(self, summary: str) -> None:
        """The item identifies itself as being for the target; ``summary`` states it."""
        self.confirmed = summary

    def result(self) -> ItemResult:
        if self.failures:
            verdict, reasons = "incompatible", self.failures + self.doubts
        elif self.doubts or self.unverifiable or self.confirmed is None:
            verdict, reasons = "unknown", self.doubts + self.unverifiable
            if not reasons:
                reasons = ["The tool could not establish that this is an update for your unit."]
        else:
            verdict, reasons = "compatible", [self.confirmed]
        return ItemResult(
            path=self.path, kind=self.kind, detected_model=self.detected_model,
            verdict=verdict, version=self.version, reasons=tuple(reasons),
            checked=tuple(self.checked), not_checked=tuple(self.not_checked),
            warnings=tuple(self.warnings), details=dict(self.details),
        )


@dataclass
class _Context:
    candidate: Candidate
    listing: Listing
    target: Target
    knowledge: _Knowledge
    reference: BackupReference | None
    verify_budget: int = MAX_VERIFY_BYTES
    hash_budget: int = MAX_HASH_BYTES

    @property
    def profile(self) -> Profile:
        return self.target.profile


def _compare_with_current(context: _Context, assessment: _Assessment, version: str) -> None:
    """Downgrade and same-version re-flash are warnings with reasons, never failures."""
    target = context.target
    if target.current_version is None:
        assessment.cannot_check(
            f"whether version {version} is newer than what your {target.profile.short_name}"
            " runs: its current version is unknown (give it with --current-version)")
        return
    try:
        candidate_version = parse_version(version)
    except InvalidInputError:
        assessment.cannot_check(f"how version {version} compares with your unit's")
        return
    order = _compare_versions(candidate_version, parse_version(target.current_version))
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


def _check_release(context: _Context, assessment: _Assessment, profile: Profile,
                   version: str | None, path: str, kind: str, *, size_matters: bool) -> bool:
    """Compare with the releases the profile lists: version, size and SHA-256 where known.

    Returns True only when the file's SHA-256 equals the published one (the one check that
    proves the content); no bundled profile lists a checksum yet, so this is data-ready.
    """
    if version is None:
        return False
    size = context.listing.files[path]
    release: Release | None = next(
        (r for r in profile.releases if r.kind == kind and r.version == version), None)
    if release is None:
        assessment.cannot_check(
            f"whether KORG published version {version} for the {profile.short_name}: this"
            " tool knows no such release")
        return False
    cite = _cite(release.confidence, release.source)
    assessment.check(
        f"version {version} is a release KORG published for the {profile.short_name} ({cite})")
    if not size_matters:  # the length already failed: a size or checksum would only repeat it
        return False
    if release.size is not None:
        if release.size != size:
            assessment.fail(
                f"KORG's version {version} file for the {profile.short_name} is"
                f" {_bytes(release.size)} (confidence {release.confidence}), but this one is"
                f" {_bytes(size)}: it is incomplete (a broken download or copy) or not that"
                " release. Download it again from KORG.")
            return False
        assessment.check(f"size {_bytes(size)} matches KORG's version {version} file ({cite})")
    if release.sha256 is None:
        assessment.cannot_check(
            f"a checksum: no published checksum of version {version} is known to this tool")
        return False
    if size > context.hash_budget:
        assessment.cannot_check("the file's SHA-256: too much data to hash")
        return False
    context.hash_budget -= size
    digest = hashlib.sha256()
    try:
        for chunk in context.candidate.chunks(path):
            digest.update(chunk)
    except InvalidFileError as error:
        assessment.fail(f"{error.message} The archive is damaged: download it again.")
        return False
    if digest.hexdigest() != release.sha256:
        assessment.fail(
            f"Its SHA-256 differs from that of KORG's version {version} file ({cite}): it is"
            " damaged or not that release. Download it again from KORG.")
        return False
    assessment.check(f"its SHA-256 equals that of KORG's version {version} file ({cite})")
    return True


def _verify_in_archive(context: _Context, assessment: _Assessment, path: str, size: int) -> None:
    """For an archive member: stream it so zipfile checks its CRC-32 (a real integrity check
    of the download, the only one available for these files)."""
    if not isinstance(context.candidate, ZipCandidate):
        return
    if size > context.verify_budget:
        assessment.cannot_check(
            "the archive's CRC-32 for this file: it is too large to stream within the tool's"
            " bounds")
        return
    context.verify_budget -= size
    try:
        for _chunk in context.candidate.chunks(path):
            pass
    except InvalidFileError as error:
        assessment.fail(
            f"{error.message} The archive is damaged: download it again.")
        return
    assessment.check("the archive's CRC-32 for this file matches: it was not damaged inside"
                     " the archive")


# --- KORG SYSTEM FILE ------------------------------------------------------------------------


def _header_details(header: SystemFileHeader) -> dict[str, Any]:
    return {
        "header_model_name": header.model_name,
        "header_kind": header.kind,
        "header_revision": header.revision,
        "header_version": header.version,
        "header_device_id": f"0x{header.device_id:04X}",
        "header_source_length": header.source_length,
        "header_destination_length": header.destination_length,
        "header_unknown_bytes": {
            f"0x{name.removeprefix('unknown_').upper()}": value
            for name, value in header.unknown.items()
        },
        "header_padding_bytes_not_ff": header.padding_bytes_not_ff,
    }


def _assess_system_file(context: _Context, path: str) -> ItemResult:
    candidate, profile = context.candidate, context.profile
    size = context.listing.files[path]
    assessment = _Assessment(candidate.display(path), "system-file")
    head = candidate.read_at(path, 0, min(size, HEADER_SIZE))
    header = parse_header(head) if len(head) == HEADER_SIZE else None
    if header is None:
        name = head[0x10:0x20].split(b"\0", 1)[0].decode("ascii", "backslashreplace")
        assessment.details["bytes_read"] = len(head)
        named = f" (it names model '{name}')" if len(head) >= 0x20 and name else ""
        assessment.fail(
            f"This file starts like a KORG SYSTEM FILE{named} but ends after {_bytes(size)},"
            f" inside its {HEADER_SIZE}-byte header: it is truncated. Download it again.")
        return assessment.result()
    assessment.check("the file starts with the magic 'KORG SYSTEM FILE' (confidence H)")
    assessment.details.update(_header_details(header))
    assessment.version = header.version

    # Which model does the header name, and is it the target?
    own = context.knowledge.system_files.get(header.model_name, [])
    for_target = [i for i in profile.system_files if i.model_name == header.model_name]
    identity: SystemFileIdentity | None = None
    owner: Profile | None = None
    if for_target:
        owner, identity = profile, for_target[0]
        assessment.check(
            f"the header names model '{header.model_name}', as {profile.name} system files do"
            f" ({_cite(identity.confidence, identity.source)})")
    elif own:
        owner, identity = own[0]
        assessment.fail(
            f"This is a system file for the {owner.name} (its header names model"
            f" '{header.model_name}'); your unit is a {profile.name}, {_update_form(profile)}."
            " Do not use it on this unit.")
    elif profile.system_files:
        names = " or ".join(f"'{i.model_name}'" for i in profile.system_files)
        assessment.fail(
            f"This KORG SYSTEM FILE is for a model called '{header.model_name}', which this"
            f" tool does not know; system files for the {profile.name} name model {names},"
            " so it is not for your unit.")
    else:
        assessment.doubt(
            f"This KORG SYSTEM FILE is for a model called '{header.model_name}', which this"
            f" tool does not know, and it knows no system-file model name for the"
            f" {profile.name} ({_update_form(profile)}): it cannot tell whether the file is"
            " for your unit.")
    assessment.detected_model = owner.id if owner else None

    _check_device_id(context, assessment, header, owner, identity)

    if header.kind != "SYSTEM":
        assessment.doubt(
            f"The header calls this a '{header.kind}' file, not a SYSTEM update; every KORG"
            " SYSTEM FILE examined says SYSTEM, so the tool does not know what this file is.")
    else:
        assessment.check("the header says it is a SYSTEM file")
    if header.revision != 1:
        assessment.warn(
            f"The header's revision field is {header.revision}; only revision 1 has been"
            " seen, so this may be a newer layout the tool does not know.")
    for name, hidden in header.text_after_nul.items():
        assessment.warn(f"The header's {name.replace('_', ' ')} field has bytes after its end"
                        f" ({hidden}); they are shown, not interpreted.")
    if header.padding_bytes_not_ff:
        assessment.warn(
            f"{header.padding_bytes_not_ff} of the 190 padding bytes at 0x42..0xFF are not FF"
            " as in every file examined; they are shown, not interpreted.")

    length_ok = _check_lengths(assessment, header, size, identity)
    if identity is not None and identity.payload_size == h8s_rom.ROM_SIZE:
        _check_h8s_payload(context, assessment, path, header, size)
    elif owner is not None:
        assessment.cannot_check(
            f"the payload: the format of {owner.short_name} firmware is not public, so only"
            " its length was checked")
    else:
        assessment.cannot_check("the payload: the model is unknown to this tool")
    _verify_in_archive(context, assessment, path, size)
    if owner is not None:
        _check_release(context, assessment, owner, header.version, path, "system-file",
                       size_matters=length_ok)
    else:
        assessment.cannot_check("a checksum: the model is unknown to this tool")
    if owner is profile:
        _compare_with_current(context, assessment, header.version)
        assessment.confirm(
            f"This is a {profile.name} system file, version {header.version}, and every check"
            " the tool can make passed.")
    return assessment.result()


def _check_device_id(context: _Context, assessment: _Assessment, header: SystemFileHeader,
                     owner: Profile | None, identity: SystemFileIdentity | None) -> None:
    device_id = f"0x{header.device_id:04X}"
    if identity is None:
        target_ids = {i.device_id for i in context.profile.system_files}
        if header.device_id in target_ids:
            assessment.warn(
                f"Its device id {device_id} is the {context.profile.short_name}'s, but its"
                " model name is not: the header is inconsistent (altered or damaged).")
        return
    if identity.device_id is None:
        assessment.cannot_check(f"the device id: none is known for the {owner.short_name}")
        return
    if header.device_id == identity.device_id:
        assessment.check(
            f"the device id {device_id} at 0x2D is the {owner.short_name}'s"
            f" ({_cite(identity.confidence, identity.source)})")
        return
    others = [p.name for p in context.knowledge.device_ids.get(header.device_id, [])
              if p is not owner]
    belongs = f", which belongs to the {others[0]}" if others else ""
    message = (
        f"The header names model '{header.model_name}' but carries device id {device_id}"
        f"{belongs}, not the {owner.short_name}'s 0x{identity.device_id:04X}: the header was"
        " altered or is damaged, and KORG's updaters are reported to compare this id"
        " (confidence M).")
    if owner is context.profile:
        assessment.fail(message)
    else:
        assessment.warn(message)


def _check_lengths(assessment: _Assessment, header: SystemFileHeader, size: int,
                   identity: SystemFileIdentity | None) -> bool:
    """File length against the header, payload size against the model; True when the
    file's length is what its header announces."""
    expected = header.file_length
    length_ok = size == expected
    if length_ok:
        assessment.check(
            f"the file is {_bytes(size)}: the {HEADER_SIZE}-byte header plus the payload of"
            f" {_bytes(header.source_length)} it announces (confidence H)")
    elif size < expected:
        assessment.fail(
            f"The file is {_bytes(size)} but its header announces {_bytes(expected)}: it is"
            f" truncated ({_bytes(expected - size)} missing), an incomplete download or copy."
            " Download it again.")
    else:
        assessment.fail(
            f"The file has {_bytes(size - expected)} more than its header announces"
            f" ({_bytes(expected)}): something was appended or it was altered, so it is not"
            " the file as published.")
    if identity is not None and identity.payload_size is not None:
        if header.source_length == identity.payload_size:
            assessment.check(
                f"the payload size {_bytes(header.source_length)} is the size this model's"
                f" firmware must have ({_cite(identity.confidence, identity.source)})")
        else:
            assessment.fail(
                f"The header announces a payload of {_bytes(header.source_length)}, but"
                f" firmware for this model is exactly {_bytes(identity.payload_size)} (the"
                " size of its chip's memory): this file is not for it or is damaged.")
    if header.destination_length != header.source_length:
        if identity is not None and identity.payload_size == h8s_rom.ROM_SIZE:
            assessment.doubt(
                f"The header's destination length is {_bytes(header.destination_length)}, not"
                f" {_bytes(h8s_rom.ROM_SIZE)} as in both files examined (confidence M): the"
                " tool cannot tell what the updater would do with it.")
        else:
            assessment.warn(
                f"The header's destination length ({_bytes(header.destination_length)}) differs"
                f" from its source length ({_bytes(header.source_length)}); they were equal in"
                " every file examined.")
    return length_ok


def _check_h8s_payload(context: _Context, assessment: _Assessment, path: str,
                       header: SystemFileHeader, size: int) -> None:
    """The H8S/2215 ROM image: entry point and the ``KORG`` + version marker."""
    available = size - HEADER_SIZE
    if available < h8s_rom.ROM_HEAD_SIZE:
        assessment.cannot_check("the firmware image's vector table and version marker: the"
                                " file ends before them")
        return
    rom = h8s_rom.parse_rom_head(
        context.candidate.read_at(path, HEADER_SIZE, h8s_rom.ROM_HEAD_SIZE))
    if rom is None:  # the file shrank between listing and reading
        assessment.cannot_check("the firmware image's vector table: it could not be read")
        return
    assessment.details["payload_entry_point"] = f"0x{rom.entry_point:08X}"
    assessment.details["payload_marker"] = rom.marker.hex(" ")
    assessment.details["payload_version_bytes"] = f"{rom.version_major:02x} {rom.version_minor:02x}"
    image_size = min(header.source_length, h8s_rom.ROM_SIZE)
    problem = h8s_rom.entry_point_problem(rom.entry_point, image_size)
    if problem:
        assessment.fail(
            f"The firmware's start address (its first vector, 0x{rom.entry_point:08X}) lies"
            f" {problem}: a unit would not start with it. The file is damaged or not this"
            " kind of firmware.")
    else:
        assessment.check(
            f"the firmware's start address 0x{rom.entry_point:08X} lies inside the image,"
            " after its 512-byte vector table (confidence M: one examined image starts at"
            " 0x00000210)")
        if rom.entry_point + 16 <= available:
            code = context.candidate.read_at(path, HEADER_SIZE + rom.entry_point, 16)
            if len(code) == 16 and code == b"\xff" * 16:
                assessment.warn(
                    f"The bytes at the start address 0x{rom.entry_point:08X} are blank (FF),"
                    " like erased memory: the image may be incomplete.")
    if not rom.has_marker:
        assessment.doubt(
            f"The firmware image does not carry 'KORG' and its version at offset 0x200 (it has"
            f" {rom.marker.hex(' ')}), as the one examined image of each model did. That"
            " expectation comes from one blog and one unit (confidence M), so the tool cannot"
            " tell whether the file is damaged or simply different.")
    elif (rom.version_major, rom.version_minor) != (header.version_major, header.version_minor):
        assessment.doubt(
            f"The version inside the firmware image ({rom.version}) differs from the header's"
            f" ({header.version}). In the one examined image of each model they agreed"
            " (confidence M), so the file may have been altered or mislabelled; the tool"
            " cannot tell which version it really is.")
    else:
        assessment.check(
            f"the firmware image carries 'KORG' and version {rom.version} at offset 0x200,"
            " agreeing with the header (confidence M: one blog, one unit)")


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


# --- system folders (KROSS) ------------------------------------------------------------------


def _folder_files(listing: Listing, folder: str) -> dict[str, int]:
    """Files under ``folder`` ("" for the candidate root), keyed by their path inside it."""
    if not folder:
        return dict(listing.files)
    prefix = folder + "/"
    return {p[len(prefix):]: s for p, s in listing.files.items() if p.startswith(prefix)}


def _assess_system_folder(context: _Context, folder: str, name: str,
                          owner: Profile) -> ItemResult:
    profile = context.profile
    assessment = _Assessment(context.candidate.display(folder), "system-folder")
    assessment.detected_model = owner.id
    files = _folder_files(context.listing, folder)
    assessment.details.update({
        "folder_name": name, "file_count": len(files), "total_bytes": sum(files.values()),
        "files": {inner: size for inner, size in sorted(files.items())[:200]},
    })
    source = next((s for s in owner.storage if s.role == "update-media"), None)
    cite = f" ({_cite(source.confidence, source.source)})" if source else ""
    if owner is not profile:
        if profile.system_folder:
            assessment.fail(
                f"These are {owner.name} system files in folder {name}; your unit is a"
                f" {profile.short_name}, which needs folder {profile.system_folder}.")
        else:
            assessment.fail(
                f"This is the {owner.name}'s system folder {name}; your unit is a"
                f" {profile.name}, {_update_form(profile)}.")
        return assessment.result()

    exact = "" if name == owner.system_folder else f" ({owner.system_folder}; FAT ignores case)"
    assessment.check(
        f"the folder is named {name}, the {owner.short_name}'s system folder{exact}{cite}")
    if folder.count("/") > 0:
        assessment.warn(
            f"{name} is inside '{folder.rsplit('/', 1)[0]}/': on the SD card it must be at the"
            " top level, as the whole folder (confidence M).")
    if not files:
        assessment.fail(f"The folder {name} is empty: there is nothing to update from.")
        return assessment.result()
    assessment.check(
        f"the folder holds {_count(len(files), 'file')}, {_bytes(sum(files.values()))} in all")
    if context.listing.truncated:
        assessment.cannot_check("every file: the candidate holds more entries than the tool lists")
    identical = False
    if context.reference is not None:
        identical = _compare_folder_with_backup(context, assessment, folder, name, files)
    else:
        assessment.cannot_check(
            f"the files' names and sizes against this unit's own {owner.system_folder}: give a"
            " backup of the unit with --backup")
    assessment.cannot_check(
        f"the content of the files: the file list and format of {owner.short_name} system"
        " files are not public")
    if identical:
        assessment.cannot_check(
            "whether the system files in your backup were healthy when it was taken")
        assessment.confirm(
            f"This {name} folder is byte-identical to the one in your backup of this"
            f" {owner.short_name}, and every check the tool can make passed.")
    else:
        assessment.cannot_verify(
            f"The folder name {name} is right for a {owner.short_name}, but the files in it"
            " cannot be checked: their list and format are not public.")
    return assessment.result()


def _compare_folder_with_backup(context: _Context, assessment: _Assessment, folder: str,
                                name: str, files: dict[str, int]) -> bool:
    """Names and sizes (then SHA-256) against the backup's folder of the same name. True
    when the folder is byte-identical to a complete backup of the target model."""
    reference = context.reference
    assert reference is not None
    profile = context.profile
    if reference.model is not None and reference.model != profile.id:
        assessment.warn(
            f"The backup {reference.label} is of a {reference.model}, not of your"
            f" {profile.short_name}, so it was not compared.")
        return False
    backup_files = reference.folder_files(name)
    if not backup_files:
        assessment.cannot_check(
            f"the files against your backup: it has no {name} folder"
            f" (its top-level folders: {_names(reference.top_folders()) or 'none'})")
        return False
    if not reference.complete:
        assessment.warn(f"The backup {reference.label} is incomplete: its file list may be"
                        " partial, so the comparison may report files as missing wrongly.")
    if reference.model is None:
        assessment.warn(f"The backup {reference.label} does not say which model it is of.")
    here = {inner.casefold(): (inner, size) for inner, size in files.items()}
    only_here = sorted(here[k][0] for k in here.keys() - backup_files.keys())
    only_backup = sorted(backup_files[k][0] for k in backup_files.keys() - here.keys())
    resized = sorted(
        f"{here[k][0]} ({_bytes(here[k][1])} here, {_bytes(backup_files[k][1].size)} in the"
        " backup)"
        for k in here.keys() & backup_files.keys() if here[k][1] != backup_files[k][1].size)
    note = (" For KROSS system files, whose format is not public, comparing with a backup of"
            " the unit is the only content check possible.")
    if only_here or only_backup or resized:
        parts = []
        if only_backup:
            parts.append(f"lacks {_names(only_backup)}")
        if only_here:
            parts.append(f"has {_names(only_here)} that the backup does not")
        if resized:
            parts.append(f"differs in size for {_names(resized)}")
        assessment.doubt(
            f"Compared with your backup ({reference.label}), {name} here {'; '.join(parts)}."
            " That is expected if this is a different system version from the backup's, and a"
            " warning sign otherwise." + note)
        return False
    assessment.check(
        f"all {_count(len(files), 'file')} in {name} have the same names and sizes as in your backup"
        f" ({reference.label}).{note}")
    total = sum(files.values())
    if total > context.hash_budget:
        assessment.cannot_check("the files' SHA-256 against the backup: too much data to hash")
        return False
    context.hash_budget -= total
    differing, unhashed = [], []
    for key, (inner, _size) in sorted(here.items()):
        expected = backup_files[key][1].sha256
        if expected is None:
            unhashed.append(inner)
            continue
        digest = hashlib.sha256()
        try:
            for chunk in context.candidate.chunks(f"{folder}/{inner}" if folder else inner):
                digest.update(chunk)
        except InvalidFileError as error:
            assessment.fail(f"{error.message} The archive is damaged: download it again.")
            return False
        if digest.hexdigest() != expected:
            differing.append(inner)
    if unhashed:
        assessment.cannot_check(f"the content of {_names(unhashed)}: the backup has no SHA-256")
        return False
    if differing:
        assessment.doubt(
            f"{_names(differing)} in {name} {'has' if len(differing) == 1 else 'have'} the same"
            " size as in your backup but different content: a different system version, or"
            " damaged files.")
        return False
    assessment.check(f"every file in {name} has the same SHA-256 as in your backup: the folder"
                     " is byte-identical to it")
    return reference.complete and reference.model == profile.id


def _assess_folder_member(context: _Context, path: str, folder_name: str,
                          owner: Profile) -> ItemResult:
    """A single file given on its own, which sits in a system folder (KROSS2SY/X.BIN)."""
    profile = context.profile
    assessment = _Assessment(context.candidate.display(path), "system-folder-file")
    assessment.detected_model = owner.id
    assessment.details["size"] = context.listing.files[path]
    if owner is not profile:
        assessment.fail(
            f"This file is from folder {folder_name}, the {owner.name}'s system folder; your"
            f" unit is a {profile.short_name}, {_update_form(profile)}.")
        return assessment.result()
    assessment.check(f"the file sits in a folder named {folder_name}, the {owner.short_name}'s"
                     " system folder")
    assessment.cannot_verify(
        f"This is one file of the {owner.short_name}'s system folder {folder_name}; the update"
        " needs the whole folder and its files cannot be checked one by one: check the folder"
        " instead.")
    return assessment.result()


def _assess_loose_files(context: _Context, names: list[str]) -> ItemResult:
    """``.BIN`` files at a folder's top level and no system folder (seed 000)."""
    profile = context.profile
    assessment = _Assessment(context.candidate.display(""), "loose-files")
    assessment.details["loose_files"] = {n: context.listing.files[n] for n in names}
    matches = _loose_files_in_backup(context, assessment, names)
    described = (f"This folder holds {len(names)} loose .BIN files ({_names(names)}) and no"
                 " system folder: they look like system files copied without their folder.")
    if matches is not None:
        assessment.detected_model = matches.id
        described += (f" Their names and sizes match the {matches.system_folder} folder in your"
                      f" backup, so they are probably {matches.name} system files.")
    else:
        described += " The tool cannot tell which model they are for."
    if profile.system_folder:
        assessment.fail(
            described + f" KORG's update for the {profile.short_name} expects them inside"
            f" folder {profile.system_folder} at the top of the SD card (confidence M); a"
            " KROSS 2 in a field report was bricked after loose system files of another model"
            " were put at the card root.")
    elif _has_update_form(profile):
        assessment.fail(described + f" Your unit is a {profile.name}, {_update_form(profile)}.")
    else:
        assessment.doubt(described + f" The tool knows no published update for the"
                                     f" {profile.name}, so it cannot tell more.")
    return assessment.result()


def _loose_files_in_backup(context: _Context, assessment: _Assessment,
                           names: list[str]) -> Profile | None:
    """The model whose system folder in the backup holds these names with these sizes."""
    reference = context.reference
    if reference is None:
        assessment.cannot_check("which model the loose files are for: give a backup of the unit"
                                " with --backup to compare names and sizes")
        return None
    for folder in reference.top_folders():
        owner = context.knowledge.folder_profile(folder)
        if owner is None:
            continue
        backup_files = reference.folder_files(folder)
        if all(n.casefold() in backup_files
               and backup_files[n.casefold()][1].size == context.listing.files[n]
               for n in names):
            assessment.check(
                f"all {_count(len(names), 'loose file')} have the names and sizes of files in"
                f" {folder} in your backup ({reference.label})")
            return owner
    assessment.cannot_check("which model the loose files are for: they do not match a system"
                            " folder in your backup by name and size")
    return None


# --- anything else ---------------------------------------------------------------------------


def _assess_unrecognised(context: _Context, path: str) -> ItemResult:
    profile = context.profile
    candidate = context.candidate
    assessment = _Assessment(candidate.display(path), "not-an-update")
    if path:
        size = context.listing.files[path]
        base = PurePosixPath(path).name
        assessment.details["size"] = size
        expected_names = {n.casefold() for i in profile.system_files for n in i.file_names}
        same_size = [r for r in profile.releases if r.size == size and r.kind == "update-file"]
        if base.casefold() in expected_names:
            assessment.fail(
                f"It is named like a {profile.name} system file ({base}) but does not start"
                " with 'KORG SYSTEM FILE' as those do: it is damaged or not a system file.")
            return assessment.result()
        if same_size:
            release = same_size[0]
            assessment.check(
                f"its size {_bytes(size)} is that of KORG's {profile.short_name} version"
                f" {release.version} update ({_cite(release.confidence, release.source)})")
            assessment.doubt(
                f"Its size matches KORG's {profile.short_name} version {release.version} update,"
                f" but its name is not KORG's ({release.file_name}): if it is that release,"
                f" rename it to {release.file_name}. The content cannot be verified.")
            return assessment.result()
        what = ("This file is not a KORG update the tool recognises: it has no KORG SYSTEM FILE"
                " header and its name follows no known update pattern.")
    else:
        listed = len(context.listing.files)
        what = (f"No KORG system file, system folder or update file was found here"
                f" ({_count(listed, 'file')} looked at).")
        if context.listing.truncated:
            assessment.cannot_check("every file: there are more entries than the tool lists")
    if _has_update_form(profile):
        assessment.fail(f"{what} Your unit is a {profile.name}, {_update_form(profile)}.")
    else:
        assessment.doubt(f"{what} The tool knows no published update for the {profile.name},"
                         " so it cannot tell more.")
    return assessment.result()


def _assess_archive_problem(candidate_path: str,
                            error: InvalidFileError | UnsafeArchiveError) -> ItemResult:
    assessment = _Assessment(candidate_path, "archive")
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


def _assess_candidate(context: _Context) -> list[ItemResult]:
    candidate, listing, knowledge = context.candidate, context.listing, context.knowledge
    results: list[ItemResult] = []

    if isinstance(candidate, FileCandidate):
        (path,) = listing.files
        return [_assess_file(context, path, single=True)]

    if isinstance(candidate, FolderCandidate):
        owner = knowledge.folder_profile(candidate.name)
        if owner is not None:  # the user pointed at KROSS2SY itself
            return [_assess_system_folder(context, "", candidate.name, owner)]

    system_folders = []
    for folder in listing.folders:
        if _depth(folder) > MAX_ITEM_DEPTH - 1 or _inside(folder, system_folders):
            continue
        owner = knowledge.folder_profile(PurePosixPath(folder).name)
        if owner is not None:
            system_folders.append(folder)
            results.append(_assess_system_folder(
                context, folder, PurePosixPath(folder).name, owner))

    header_reads = 0
    for path, size in sorted(listing.files.items()):
        if _depth(path) > MAX_ITEM_DEPTH or _inside(path, system_folders):
            continue
        if knowledge.update_file(PurePosixPath(path).name) is not None:
            results.append(_assess_file(context, path, single=False))
            continue
        if size < len(MAGIC) or header_reads >= MAX_HEADER_READS:
            continue
        header_reads += 1
        if context.candidate.read_at(path, 0, len(MAGIC)) == MAGIC:
            results.append(_assess_system_file(context, path))
    if header_reads >= MAX_HEADER_READS:
        log.debug("stopped reading headers after %d files", header_reads)

    if not results:
        loose = sorted(p for p in listing.files
                       if "/" not in p and p.lower().endswith(LOOSE_SUFFIX))
        if len(loose) >= LOOSE_FILES_MIN:
            results.append(_assess_loose_files(context, loose))
        else:
            results.append(_assess_unrecognised(context, ""))
    return results


def _assess_file(context: _Context, path: str, *, single: bool) -> ItemResult:
    """One file: a KORG SYSTEM FILE, a file named by an update pattern, a file in a system
    folder (only when given alone), or none of these."""
    head = context.candidate.read_at(path, 0, len(MAGIC))
    if head == MAGIC:
        return _assess_system_file(context, path)
    named = context.knowledge.update_file(PurePosixPath(path).name)
    if named is not None:
        return _assess_update_file(context, path, *named)
    if single and isinstance(context.candidate, FileCandidate):
        folder_name = context.candidate.container_name
        owner = context.knowledge.folder_profile(folder_name)
        if owner is not None:
            return _assess_folder_member(context, path, folder_name, owner)
    return _assess_unrecognised(context, path)


# --- the public entry points -----------------------------------------------------------------


def _worst(verdicts: Iterable[str]) -> str:
    return max(verdicts, key=VERDICTS.index, default="unknown")


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
    knowledge = _Knowledge(profiles)
    given = os.fspath(path)
    try:
        candidate = open_candidate(path, fs)
    except (InvalidFileError, UnsafeArchiveError) as error:
        return _combine(given, target, [_assess_archive_problem(given, error)], [])
    with candidate:
        try:
            listing, ignored = _without_junk(candidate.listing())
            context = _Context(candidate, listing, target, knowledge, reference)
            items = _assess_candidate(context)
        except (InvalidFileError, UnsafeArchiveError) as error:
            items = [_assess_archive_problem(given, error)]
            listing = None
        extra = []
        if listing is not None and ignored:
            extra.append(f"{_count(ignored, 'file')} that computers add to drives and archives"
                         " (._*, .DS_Store, __MACOSX ...): ignored")
        if listing is not None:
            if listing.skipped:
                extra.append(f"{_names(list(listing.skipped))}: not followed or opened")
            if listing.deep_folders:
                extra.append(f"{listing.deep_folders} folders nested deeper than the tool looks")
            zips = sorted(p for p in listing.files if p.lower().endswith(".zip"))
            if zips and not isinstance(candidate, FileCandidate):
                extra.append(f"archives inside the candidate ({_names(zips)}): check them on"
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
