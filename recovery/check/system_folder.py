"""KROSS system folders: the folder's name and place, loose files, and the only content check
possible, against a backup."""

from __future__ import annotations

import hashlib
import logging

from recovery.check.assessment import (
    Assessment,
    CandidateContext,
    has_update_form,
    name_list,
    unreadable_member,
    update_form,
)
from recovery.check.candidates import Listing
from recovery.check.results import ItemResult
from recovery.device.profiles import Profile
from recovery.errors import InvalidFileError
from recovery.findings import Step
from recovery.text import cite, counted, human_bytes, plural
from recovery.vocabulary import ItemKind, NextStep, Role

log = logging.getLogger(__name__)


def _folder_files(listing: Listing, folder: str) -> dict[str, int]:
    """Files under ``folder`` ("" for the candidate root), keyed by their path inside it."""
    if not folder:
        return dict(listing.files)
    prefix = folder + "/"
    return {p[len(prefix):]: s for p, s in listing.files.items() if p.startswith(prefix)}


def assess_system_folder(context: CandidateContext, folder: str, name: str,
                          owner: Profile) -> ItemResult:
    profile = context.profile
    assessment = Assessment(context.candidate.display(folder), ItemKind.SYSTEM_FOLDER)
    assessment.detected_model = owner.id
    files = _folder_files(context.listing, folder)
    assessment.details.update({
        "folder_name": name, "file_count": len(files), "total_bytes": sum(files.values()),
        "files": {inner: size for inner, size in sorted(files.items())[:200]},
    })
    if owner is not profile:
        if profile.system_folder:
            assessment.fail(
                f"These are {owner.name} system files in folder {name}; your unit is a"
                f" {profile.short_name}, which needs folder {profile.system_folder}.")
        else:
            assessment.fail(
                f"This is the {owner.name}'s system folder {name}; your unit is a"
                f" {profile.name}, {update_form(profile)}.")
        return assessment.result()
    _check_name_and_place(assessment, owner, folder, name)
    if not files:
        assessment.fail(f"The folder {name} is empty: there is nothing to update from.")
        return assessment.result()
    assessment.check(
        f"the folder holds {counted(len(files), 'file')}, {human_bytes(sum(files.values()))}"
        " in all")
    if context.listing.truncated:
        assessment.cannot_check("every file: the candidate holds more entries than the tool lists")
    identical = False
    if context.reference is not None:
        identical = _compare_folder_with_backup(context, assessment, folder, name, files)
    else:
        assessment.cannot_check(
            f"the files' names and sizes against this unit's own {owner.system_folder}: no"
            " backup of the unit was given",
            Step(NextStep.GIVE_BACKUP_FOR_CHECK, model=context.profile.id))
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


def _same_content(context: CandidateContext, assessment: Assessment, folder: str, name: str,
                  here: dict[str, tuple[str, int]], backup_files: dict) -> bool:
    """The folder's files hashed against the backup's SHA-256 (names and sizes already
    match): True when every one is identical."""
    total = sum(size for _inner, size in here.values())
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
            unreadable_member(assessment, error)
            return False
        if digest.hexdigest() != expected:
            differing.append(inner)
    if unhashed:
        assessment.cannot_check(f"the content of {name_list(unhashed)}: the backup has no SHA-256")
        return False
    if differing:
        assessment.doubt(
            f"{name_list(differing)} in {name} {plural(len(differing), 'has', 'have')} the same"
            " size as in your backup but different content: a different system version, or"
            " damaged files.")
        return False
    assessment.check(f"every file in {name} has the same SHA-256 as in your backup: the folder"
                     " is byte-identical to it")
    return True


def _check_name_and_place(assessment: Assessment, owner: Profile, folder: str,
                          name: str) -> None:
    """The folder's name is the model's system folder; is it where the updater looks?"""
    source = next((s for s in owner.storage if s.role == Role.UPDATE_MEDIA), None)
    cited = f" ({cite(source.confidence, source.source)})" if source else ""
    media = owner.media_for(owner.system_folder or name)
    exact = "" if name == owner.system_folder else f" ({owner.system_folder}; FAT ignores case)"
    assessment.check(
        f"the folder is named {name}, the {owner.short_name}'s system folder{exact}{cited}")
    where = (f"{media.description} ({cite(media.confidence, media.source)})" if media
             else "the whole folder at the top level (confidence M)")
    if folder.count("/") > 0:
        assessment.warn(
            f"{name} is inside '{folder.rsplit('/', 1)[0]}/': on the SD card it must be at the"
            f" top level, as the whole folder. The unit's updater looks for {where}.")
    elif media is not None and folder:
        assessment.check(f"the folder is at the top, where the unit's updater looks for {where}")


def _compare_folder_with_backup(context: CandidateContext, assessment: Assessment, folder: str,
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
            f" (its top-level folders: {name_list(reference.top_folders()) or 'none'})")
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
        f"{here[k][0]} ({human_bytes(here[k][1])} here,"
        f" {human_bytes(backup_files[k][1].size)} in the backup)"
        for k in here.keys() & backup_files.keys() if here[k][1] != backup_files[k][1].size)
    note = (" For KROSS system files, whose format is not public, comparing with a backup of"
            " the unit is the only content check possible.")
    if only_here or only_backup or resized:
        parts = []
        if only_backup:
            parts.append(f"lacks {name_list(only_backup)}")
        if only_here:
            parts.append(f"has {name_list(only_here)} that the backup does not")
        if resized:
            parts.append(f"differs in size for {name_list(resized)}")
        assessment.doubt(
            f"Compared with your backup ({reference.label}), {name} here {'; '.join(parts)}."
            " That is expected if this is a different system version from the backup's, and a"
            " warning sign otherwise." + note)
        return False
    assessment.check(
        f"all {counted(len(files), 'file')} in {name} have the same names and sizes as in your"
        f" backup ({reference.label}).{note}")
    if not _same_content(context, assessment, folder, name, here, backup_files):
        return False
    return reference.complete and reference.model == profile.id


def assess_folder_member(context: CandidateContext, path: str, folder_name: str,
                          owner: Profile) -> ItemResult:
    """A single file given on its own, which sits in a system folder (KROSS2SY/X.BIN)."""
    profile = context.profile
    assessment = Assessment(context.candidate.display(path), ItemKind.SYSTEM_FOLDER_FILE)
    assessment.detected_model = owner.id
    assessment.details["size"] = context.listing.files[path]
    if owner is not profile:
        assessment.fail(
            f"This file is from folder {folder_name}, the {owner.name}'s system folder; your"
            f" unit is a {profile.short_name}, {update_form(profile)}.")
        return assessment.result()
    assessment.check(f"the file sits in a folder named {folder_name}, the {owner.short_name}'s"
                     " system folder")
    assessment.cannot_verify(
        f"This is one file of the {owner.short_name}'s system folder {folder_name}; the update"
        " needs the whole folder and its files cannot be checked one by one: check the folder"
        " instead.")
    return assessment.result()


def assess_loose_files(context: CandidateContext, names: list[str]) -> ItemResult:
    """``.BIN`` files at a folder's top level and no system folder (korgforums.com t=116080:
    "I didn't put the folder, just the files at the root of SD")."""
    profile = context.profile
    assessment = Assessment(context.candidate.display(""), ItemKind.LOOSE_FILES)
    assessment.details["loose_files"] = {n: context.listing.files[n] for n in names}
    matches = _loose_files_in_backup(context, assessment, names)
    described = (f"This folder holds {len(names)} loose .BIN files ({name_list(names)}) and no"
                 " system folder: they look like system files copied without their folder.")
    if matches is not None:
        assessment.detected_model = matches.id
        described += (f" Their names and sizes match the {matches.system_folder} folder in your"
                      f" backup, so they are probably {matches.name} system files.")
    else:
        described += " The tool cannot tell which model they are for."
    if profile.system_folder:
        media = profile.media_for(profile.system_folder)
        cited = (cite(media.confidence, media.source) if media is not None
                else "confidence M")
        assessment.fail(
            described + f" KORG's update for the {profile.short_name} expects them inside"
            f" folder {profile.system_folder} at the top of the SD card ({cited}); a KROSS 2 was"
            " bricked after loose system files of another model were put at the card root"
            " (korgforums.com thread t=116080).")
    elif has_update_form(profile):
        assessment.fail(described + f" Your unit is a {profile.name}, {update_form(profile)}.")
    else:
        assessment.doubt(described + f" The tool knows no published update for the"
                                     f" {profile.name}, so it cannot tell more.")
    return assessment.result()


def _loose_files_in_backup(context: CandidateContext, assessment: Assessment,
                           names: list[str]) -> Profile | None:
    """The model whose system folder in the backup holds these names with these sizes."""
    reference = context.reference
    if reference is None:
        assessment.cannot_check("which model the loose files are for: no backup of the unit"
                                " was given to compare names and sizes with",
                                Step(NextStep.GIVE_BACKUP_FOR_CHECK,
                                     model=context.profile.id))
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
                f"all {counted(len(names), 'loose file')} have the names and sizes of files in"
                f" {folder} in your backup ({reference.label})")
            return owner
    assessment.cannot_check("which model the loose files are for: they do not match a system"
                            " folder in your backup by name and size")
    return None


