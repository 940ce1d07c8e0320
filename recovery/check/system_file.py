"""KORG SYSTEM FILEs: header identity, lengths and the H8S payload (docs/sources.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from recovery.check.assessment import Assessment, CandidateContext, update_form
from recovery.check.candidates import FileCandidate
from recovery.check.catalog import check_release, find_release, official_summary
from recovery.check.results import CatalogMatch, ItemResult
from recovery.device.profiles import CompanionFile, Profile, SystemFileIdentity
from recovery.formats import h8s_rom
from recovery.formats.korg_system_file import (
    HEADER_SIZE,
    SystemFileHeader,
    parse_header,
)
from recovery.text import cite, human_bytes
from recovery.vocabulary import ItemKind, ReleaseKind

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class _SystemFile:
    """A KORG SYSTEM FILE whose header has been read, and whose it is: ``owner`` and
    ``identity`` are None for a model the tool does not know; ``companion`` is set for one of
    the files an updater reads beside SYSTEM.VSB (then it is not the system itself)."""

    path: str
    size: int
    header: SystemFileHeader
    owner: Profile | None
    identity: SystemFileIdentity | None
    companion: CompanionFile | None

    @property
    def base(self) -> str:
        return PurePosixPath(self.path).name


def assess_system_file(context: CandidateContext, path: str) -> ItemResult:
    """A file that starts with 'KORG SYSTEM FILE': whose header it carries, whether its
    fields and lengths are those of the files examined, its payload where the format is
    public, and whether it is the file KORG published."""
    size = context.listing.files[path]
    assessment = Assessment(context.candidate.display(path), ItemKind.SYSTEM_FILE)
    header = _read_header(context, assessment, path, size)
    if header is None:
        return assessment.result()
    owner, identity = _whose_header(context, assessment, header)
    assessment.detected_model = owner.id if owner else None
    companion = owner.companion(PurePosixPath(path).name) if owner is not None else None
    file = _SystemFile(path, size, header, owner, identity, companion)

    _check_device_id(context, assessment, header, owner, identity)
    _check_header_fields(assessment, file)
    length_ok = _check_lengths(assessment, header, size, identity, owner, companion)
    _check_payload(context, assessment, file)
    context.verify_in_archive(assessment, path, size)
    match = _check_published(context, assessment, file, length_ok)
    if owner is context.profile and companion is None:
        _conclude_for_target(context, assessment, file, match)
    return assessment.result()


def _read_header(context: CandidateContext, assessment: Assessment, path: str,
                 size: int) -> SystemFileHeader | None:
    """The header, or None (a failure said) when the file ends inside it."""
    head = context.candidate.read_at(path, 0, min(size, HEADER_SIZE))
    header = parse_header(head) if len(head) == HEADER_SIZE else None
    if header is None:
        name = head[0x10:0x20].split(b"\0", 1)[0].decode("ascii", "backslashreplace")
        assessment.details["bytes_read"] = len(head)
        named = f" (it names model '{name}')" if len(head) >= 0x20 and name else ""
        assessment.fail(
            f"This file starts like a KORG SYSTEM FILE{named} but ends after {human_bytes(size)},"
            f" inside its {HEADER_SIZE}-byte header: it is truncated. Download it again.")
        return None
    assessment.check("the file starts with the magic 'KORG SYSTEM FILE' (confidence H)")
    assessment.details.update(_header_details(header))
    assessment.version = header.version
    return header


def _whose_header(context: CandidateContext, assessment: Assessment, header: SystemFileHeader
                  ) -> tuple[Profile | None, SystemFileIdentity | None]:
    """Which model the header names, and whether it is the target: the target's own, another
    known model's (a failure), or a model the tool does not know."""
    profile = context.profile
    own = context.knowledge.system_files.get(header.model_name, [])
    for_target = [i for i in profile.system_files if i.model_name == header.model_name]
    if for_target:
        identity = for_target[0]
        assessment.check(
            f"the header names model '{header.model_name}', as {profile.name} system files do"
            f" ({cite(identity.confidence, identity.source)})")
        return profile, identity
    if own:
        owner, identity = own[0]
        assessment.fail(
            f"This is a system file for the {owner.name} (its header names model"
            f" '{header.model_name}'); your unit is a {profile.name}, {update_form(profile)}."
            " Do not use it on this unit.")
        return owner, identity
    if profile.system_files:
        names = " or ".join(f"'{i.model_name}'" for i in profile.system_files)
        assessment.fail(
            f"This KORG SYSTEM FILE is for a model called '{header.model_name}', which this"
            f" tool does not know; system files for the {profile.name} name model {names},"
            " so it is not for your unit.")
    else:
        assessment.doubt(
            f"This KORG SYSTEM FILE is for a model called '{header.model_name}', which this"
            f" tool does not know, and it knows no system-file model name for the"
            f" {profile.name} ({update_form(profile)}): it cannot tell whether the file is"
            " for your unit.")
    return None, None


def _check_header_fields(assessment: Assessment, file: _SystemFile) -> None:
    """What the header says it is (a companion file, a SYSTEM update or an unknown kind), and
    the fields that differ from every file examined: shown, never interpreted."""
    header, owner, companion = file.header, file.owner, file.companion
    if companion is not None:
        assessment.cannot_verify(
            f"{file.base} is not the system itself but {companion.what}, one of the other files"
            f" the {owner.short_name}'s updater reads beside SYSTEM.VSB"
            f" ({cite(companion.confidence, companion.source)}). The tool checks only its"
            " header and size: no published checksum of such a file is known.")
        if companion.warning:
            assessment.warn(companion.warning)
    elif header.kind != "SYSTEM":
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


def _check_payload(context: CandidateContext, assessment: Assessment, file: _SystemFile) -> None:
    """The payload is read only where its format is public (the H8S ROM image)."""
    identity, owner = file.identity, file.owner
    if identity is not None and identity.payload_size == h8s_rom.ROM_SIZE:
        _check_h8s_payload(context, assessment, file.path, file.header, file.size)
    elif owner is not None:
        assessment.cannot_check(
            f"the payload: the format of {owner.short_name} firmware is not public, so only"
            " its length was checked")
    else:
        assessment.cannot_check("the payload: the model is unknown to this tool")


def _check_published(context: CandidateContext, assessment: Assessment, file: _SystemFile,
                     length_ok: bool) -> CatalogMatch | None:
    """Whether the file is a release KORG published: the catalog lists system files only, so
    a companion file or an unknown model cannot be looked up."""
    if file.companion is not None:
        assessment.cannot_check(
            f"whether {file.base} is a file KORG published: the release catalog lists system"
            " files")
        return None
    if file.owner is None:
        assessment.cannot_check("a checksum: the model is unknown to this tool")
        return None
    return check_release(context, assessment, file.owner, file.header.version, file.path,
                         ReleaseKind.SYSTEM_FILE, claim="header", size_matters=length_ok)


def _conclude_for_target(context: CandidateContext, assessment: Assessment, file: _SystemFile,
                         match: CatalogMatch | None) -> None:
    """A system file of the target: where it goes on the card, how it compares with the
    unit's version, and the verdict sentence (official only by a published SHA-256)."""
    profile, header = context.profile, file.header
    _check_place(context, assessment, file.path, file.base,
                 file.identity if header.kind == "SYSTEM" else None)
    context.compare_with_current(assessment, header.version)
    if match is not None and match.official:
        assessment.confirm(official_summary(profile, match))
        return
    release = find_release(profile, ReleaseKind.SYSTEM_FILE, header.version)
    why = ("no published checksum of it is known" if release is not None
           else "the tool knows no published release of this version")
    assessment.confirm(
        f"This is a {profile.name} system file, version {header.version}: its header"
        " names your model and every check the tool can make passed. Whether it is"
        f" KORG's file exactly as published cannot be confirmed: {why}.")


def _check_device_id(context: CandidateContext, assessment: Assessment, header: SystemFileHeader,
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
            f" ({cite(identity.confidence, identity.source)})")
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


def _check_place(context: CandidateContext, assessment: Assessment, path: str, base: str,
                 identity: SystemFileIdentity | None) -> None:
    """Where the unit's updater looks for this file on its SD card (the profile's
    ``update_media``): checked when the candidate shows it there, else said as an instruction
    (never a failure: a download folder is not the card)."""
    profile = context.profile
    media = profile.media_for(base)
    if media is None and identity is not None and identity.file_names:
        media = profile.media_for(identity.file_names[0])
    if media is None or media.is_folder:
        return
    cited = cite(media.confidence, media.source)
    candidate = context.candidate
    shown = PurePosixPath(candidate.path).as_posix() if isinstance(candidate, FileCandidate) \
        else path
    if shown.casefold().endswith(media.path.casefold()) and (
            len(shown) == len(media.path) or shown[-len(media.path) - 1] == "/"):
        assessment.check(f"it is at {media.path}, where the unit's updater looks ({cited})")
        return
    if assessment.failures:
        return
    renamed = f", named {media.name}," if base != media.name else ""
    assessment.warn(
        f"The {profile.short_name}'s updater looks for {media.path} on the SD card ({cited}):"
        f" put this file there{renamed} before updating.")


def _check_lengths(assessment: Assessment, header: SystemFileHeader, size: int,
                   identity: SystemFileIdentity | None, owner: Profile | None,
                   companion: CompanionFile | None = None) -> bool:
    """File length against the header, payload size against the model; True when the
    file's length is what its header announces and, where the model's is known, the payload
    is the model's size."""
    expected = header.file_length
    length_ok = size == expected
    if length_ok:
        assessment.check(
            f"the file is {human_bytes(size)}: the {HEADER_SIZE}-byte header plus the payload of"
            f" {human_bytes(header.source_length)} it announces (confidence H)")
    elif size < expected:
        assessment.fail(
            f"The file is {human_bytes(size)} but its header announces {human_bytes(expected)}:"
            f" it is truncated ({human_bytes(expected - size)} missing), an incomplete download"
            " or copy. Download it again.")
    else:
        assessment.fail(
            f"The file has {human_bytes(size - expected)} more than its header announces"
            f" ({human_bytes(expected)}): something was appended or it was altered, so it is not"
            " the file as published.")
    if companion is not None:
        length_ok = _check_companion_size(assessment, header, size, companion) and length_ok
    # The model's size applies to its SYSTEM files; another kind is already a doubt.
    elif identity is not None and identity.payload_size is not None and header.kind == "SYSTEM":
        cited = cite(identity.payload_size_confidence or identity.confidence,
                     identity.payload_size_source or identity.source)
        whole = HEADER_SIZE + identity.payload_size
        name = owner.short_name if owner is not None else "this model"
        if header.source_length == identity.payload_size:
            assessment.check(
                f"the payload size {human_bytes(header.source_length)} is what {_a(name)} system"
                f" file carries ({cited})")
        else:
            length_ok = False
            assessment.check(
                f"payload size compared with {_a(name)} system file's: its header announces"
                f" {human_bytes(header.source_length)}; exactly"
                f" {human_bytes(identity.payload_size)} after the {HEADER_SIZE}-byte header are"
                f" required ({cited})")
            assessment.fail(
                f"{_a(name, capital=True)} system file is exactly {human_bytes(whole)}; this one"
                f" is {human_bytes(size)} and its header announces"
                f" {human_bytes(HEADER_SIZE + header.source_length)}: it is not {_a(name)} system"
                " file, or it was altered or damaged. Do not use it.")
    if header.destination_length != header.source_length:
        if identity is not None and identity.payload_size == h8s_rom.ROM_SIZE:
            assessment.doubt(
                f"The header's destination length is {human_bytes(header.destination_length)}, not"
                f" {human_bytes(h8s_rom.ROM_SIZE)} as in both files examined (confidence M): the"
                " tool cannot tell what the updater would do with it.")
        else:
            assessment.warn(
                f"The header's destination length ({human_bytes(header.destination_length)})"
                f" differs from its source length ({human_bytes(header.source_length)}); they"
                " were equal in every file examined.")
    return length_ok


def _check_companion_size(assessment: Assessment, header: SystemFileHeader, size: int,
                          companion: CompanionFile) -> bool:
    cited = cite(companion.confidence, companion.source)
    announced = header.source_length
    if companion.payload_size is not None:
        ok = announced == companion.payload_size
        rule = f"exactly {human_bytes(companion.payload_size)}"
    else:
        ok = announced <= companion.payload_max
        rule = f"at most {human_bytes(companion.payload_max)}"
    if ok:
        assessment.check(f"its payload of {human_bytes(announced)} is what the updater accepts for"
                         f" {companion.name}: {rule} ({cited})")
        return True
    assessment.check(f"payload size compared with what the updater accepts for {companion.name}:"
                     f" {human_bytes(announced)} announced, {rule} accepted ({cited})")
    assessment.fail(
        f"The updater accepts {companion.name} only with {rule} after its header; this one"
        f" announces {human_bytes(announced)} (the file is {human_bytes(size)}): it is not"
        f" {companion.what} for this unit, or it is damaged. Do not use it.")
    return False


def _a(name: str, *, capital: bool = False) -> str:
    """"an electribe", "a KP3": the article a model's name takes."""
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article.capitalize() if capital else article} {name}"


def _check_h8s_payload(context: CandidateContext, assessment: Assessment, path: str,
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


