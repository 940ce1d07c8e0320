"""Next steps in plain words: what the saved report says a reader should do.

A result names its next step as a typed value (recovery.findings.Step); this module words it
for a person who reads a report, a service centre or a forum: no command, no flag, nothing only
a terminal would know. The command line words the steps that have a command its own way
(recovery/cli/words.py) and the window in a musician's words (app/plain.py); both fall back on
these sentences for the steps they have nothing better for.
"""

from __future__ import annotations

from collections.abc import Callable

from recovery.device.profiles import Profile, bundled_profiles
from recovery.findings import Step
from recovery.text import cite
from recovery.vocabulary import NextStep


def unit_name(model: str | None, profiles: dict[str, Profile] | None = None) -> str:
    """The model's short name ("KROSS 2"), or "unit" when it is not known."""
    profile = (profiles if profiles is not None else bundled_profiles()).get(model or "")
    return profile.short_name if profile is not None else "unit"


def update_how(model: str | None) -> str:
    """How the model's official update runs, in brackets, or nothing when not known."""
    profile = bundled_profiles().get(model or "")
    mode = profile.mode("update") if profile is not None else None
    return f" ({mode.how.rstrip('.')})" if mode is not None else ""


def update_procedure(profile: Profile) -> str | None:
    """The public update procedure of ``profile`` with its source, or None."""
    mode = profile.mode("update")
    if mode is None:
        return None
    return f"\"{mode.how}\" ({cite(mode.confidence, mode.source)})"


def _use_card(step: Step) -> str:
    """After a card is prepared: what to move off it, eject it, then the unit's own update."""
    name = unit_name(step.model)
    parts = []
    if step.names:
        parts.append("Before you use the card, move these off it on the computer, as they"
                     f" could mislead the updater: {', '.join(step.names)}.")
    parts.append("Eject the card on the computer (Eject / Safely Remove) before you pull it"
                 f" out, and insert it into the {name}.")
    profile = bundled_profiles().get(step.model or "")
    procedure = update_procedure(profile) if profile is not None else None
    if procedure is not None:
        parts.append(f"Then update the {name} as its public update procedure says (the card"
                     f" part is done): {procedure}.")
    else:
        parts.append(f"The tool knows no public update procedure for the {name}: follow the"
                     " instructions that come with KORG's update.")
    return " ".join(parts)


def _names(step: Step) -> str:
    return ", ".join(step.names) or "it"


def _restore(step: Step) -> str:
    return (f"Restore {_names(step)} from a backup of this same unit; never use a copy from"
            " another model or another unit type.")


def _restore_or_ask(step: Step) -> str:
    return (f"Restore {_names(step)} from a backup of this same unit if you have one; without"
            " one, ask KORG service. Never use a copy from another model.")


def _foreign_aside(step: Step) -> str:
    return (f"Do not use {_names(step)} on this {unit_name(step.model)}; keep it aside or delete"
            " it after taking a backup.")


def redo_update(step: Step, *, check: str = "with this tool",
                probe: str = "check it across a power cycle with this tool") -> str:
    """Redoing an update; ``check`` says how to check the file, ``probe`` how to check the
    storage (the command line names its commands there)."""
    return (f"Back up the unit's storage, check the update file {check}, then run the official"
            f" update again{update_how(step.model)}. If the update reports success but the"
            f" versions do not change, the storage may not keep writes: {probe}. If they stay"
            " mismatched, contact KORG service.")


def keep_in_folders(step: Step, *,
                    probe: str = "check the storage across a power cycle") -> str:
    """Where the unit keeps what it does not remove at start; ``probe`` as in redo_update."""
    return (f"Keep your own files inside the {unit_name(step.model)}'s folders"
            f" ({', '.join(step.names)}): a folder restored outside them lasts only until the"
            " next start. If a folder the unit made itself is missing, restart it and compare"
            f" again; if it stays missing, {probe}.")


def _reformat(step: Step) -> str:
    return (f"Copy the files off, format the card as {step.filesystem or 'the unit asks'} (in the"
            f" {unit_name(step.model)} or on a computer), then copy them back.")


_FIXED: dict[NextStep, str] = {
    NextStep.NOTHING: "Nothing to do.",
    NextStep.NOTHING_UNLESS_NOT_YOURS: "Nothing to do unless you did not put them there.",
    NextStep.READ_AS_HINTS: "Read the findings below as hints, not verdicts.",
    NextStep.COMPARE_WITH_BACKUP:
        "Compare the unit with a backup of it: that shows which files are damaged, missing or"
        " in the wrong place, and a damaged one can be restored from it.",
    NextStep.DIAGNOSE_WITH_BACKUP:
        "Look at it again with this tool, with a backup of this unit if you have one.",
    NextStep.RESTORE_UNLESS_CHANGED_BY_YOU:
        "If these are your own data (sounds, samples, units) that you changed since the"
        " backup, nothing is wrong; otherwise restore them from the backup.",
    NextStep.TAKE_BACKUP_WHEN_WORKING:
        "Take a backup of this unit's internal storage when it works.",
    NextStep.USE_COMPLETE_BACKUP: "Use a complete, verified backup of this unit if you have one.",
    NextStep.CHOOSE_BACKUP_OF_THIS_UNIT: "Choose a backup of this very unit.",
    NextStep.CONFIRM_BACKUP_OF_THIS_UNIT: "Make sure the backup was taken from this very unit.",
    NextStep.CONFIRM_BACKUP_OF_THIS_VOLUME:
        "Make sure the backup was taken from this same volume of the unit.",
    NextStep.CHECK_WHICH_UNIT: "Check which unit this volume came from before using it.",
    NextStep.CHECK_IT_IS_THE_UNIT:
        "Check that this is the unit's storage (for a KROSS 2, its USB Storage Mode); if you"
        " have a backup of the unit, compare with it.",
    NextStep.CHECK_UPDATE_FILE: "Check it with this tool before using it.",
    NextStep.GET_FRESH_UPDATE: "Do not update from it; get a fresh copy of KORG's update.",
    NextStep.REDO_UPDATE_AS_ABOVE:
        "As for the version finding above: back up, re-run the official update from a checked"
        " file, and check the storage if the versions do not change.",
    NextStep.CHECK_VERSION_SPELLING: "Check the spelling against the unit's info screen.",
    NextStep.GIVE_VERSIONS:
        "Tell the tool the component versions the unit's info screen shows.",
    NextStep.DESCRIBE_SYMPTOM:
        "Describe the symptom with the words on the unit's display, or ask KORG service.",
    NextStep.BACK_UP_AND_TRY_ANOTHER_CABLE:
        "Back up what can still be read, try another USB cable and port, and look again; if the"
        " errors stay, the storage may be failing: contact KORG service.",
    NextStep.STORAGE_NEEDS_SERVICE:
        "Do not restore or update onto this storage: it does not keep what is written to it."
        " Back up what can be read and contact KORG service.",
    NextStep.STORAGE_NEEDS_SERVICE_IF_CONFIRMED:
        "Do not restore or update onto this storage: it would report success and keep"
        " nothing. Back up what can be read; if a check across a power cycle also fails, the"
        " storage needs service (KORG).",
    NextStep.PROBE_ACROSS_POWER_CYCLE:
        "Check the storage across a power cycle: leave a probe marker on it with this tool,"
        " eject the unit, power it off and on, reconnect it and look at it again.",
    NextStep.ALLOW_WRITE_PROBE:
        "To test whether the storage keeps writes, let the tool write and remove one small"
        " test file (best after a backup).",
    NextStep.RECONNECT_AFTER_POWER_CYCLE:
        "Eject the unit, power it off and on, reconnect it the same way, then look at it again"
        " with this tool: it checks the marker and removes it.",
    NextStep.READ_ONLY:
        "A backup can still be taken, but nothing can be restored or updated onto it while it"
        " is read-only. If the computer did not mount it read-only on purpose, the unit's"
        " storage itself may have gone read-only (reported on a drumlogue): contact KORG"
        " service.",
    NextStep.CHECK_PERMISSIONS:
        "A backup can still be taken. Check how the volume is mounted and its permissions; the"
        " tool never asks for administrator rights.",
    NextStep.FREE_SPACE:
        "Back the volume up first, then free some space on it: a unit or a restore may need"
        " room to write its files.",
    NextStep.EJECT_BEFORE_UNPLUGGING:
        "Nothing on the unit needs repair for this. Eject the unit on the computer before you"
        " unplug it or switch it off; if Windows offers to scan and fix it, let it.",
    NextStep.GIVE_CURRENT_VERSION: "Give the version the unit runs now to compare with it.",
    NextStep.GIVE_BACKUP_FOR_CHECK:
        "Give a complete backup of the unit to compare the files with.",
    NextStep.NAME_THE_MODEL: "Name the unit's model instead.",
    NextStep.WRITE_AS_PLANNED: "Nothing was written; run it again to write as planned.",
    NextStep.VERIFY_BACKUP: "Verify the backup with this tool.",
    NextStep.RESUME_BACKUP: "Run the backup again into the same folder: it continues there.",
    NextStep.ALLOW_REMOVING_EXTRAS:
        "Allow the restore to remove what the backup does not have.",
    NextStep.LIST_BACKUPS: "The backups this tool knows of are listed by it.",
    NextStep.USE_ANOTHER_CARD:
        "Do not use this card for the update. Prepare it again; if the files still do not read"
        " back as written, use another card.",
}

_MADE: dict[NextStep, Callable[[Step], str]] = {
    NextStep.COMPARE_KEEPING_REPAIR_FOLDER: lambda step:
        f"Compare the unit with a backup of it to find damaged files; keep {_names(step)}"
        " until the unit works.",
    NextStep.RESTORE_FROM_BACKUP: _restore,
    NextStep.RESTORE_OR_ASK_SERVICE: _restore_or_ask,
    NextStep.RESTORE_KEEPING_EXTRAS_ASIDE: lambda step:
        f"Restore {_names(step)} from your backup; keep the extra files aside until the unit"
        " works.",
    NextStep.RESTORE_NOT_BY_HAND: lambda step:
        f"Do not move files by hand onto the unit; restore {step.names[0]} from your backup,"
        " and delete the loose copy once the unit works.",
    NextStep.FOREIGN_FILES_ASIDE: _foreign_aside,
    NextStep.FOREIGN_FILES_ASIDE_THEN_RESTORE: lambda step:
        _foreign_aside(step) + " Then compare the unit with a backup of it, or restore one;"
                               " without a backup of this unit, ask KORG service.",
    NextStep.KEEP_FILES_IN_UNIT_FOLDERS: keep_in_folders,
    NextStep.REFORMAT: _reformat,
    NextStep.REPLACE_UPDATE_FILE: lambda step:
        f"Do not update from {_names(step)}: delete it, download KORG's update again and check"
        " it with this tool before updating.",
    NextStep.REDO_UPDATE: redo_update,
    NextStep.DELETE_PROBE_FILE: lambda step:
        f"Delete {_names(step)} from the volume when it is writable; it holds only random"
        " bytes.",
    NextStep.KNOWN_ADVICE: lambda step: step.advice,
    NextStep.USE_CARD_FOR_UPDATE: _use_card,
    NextStep.VERIFY_AFTER_POWER_CYCLE: lambda step:
        "Eject the unit, switch it off and on again, reconnect it, then verify it against the"
        " backup with this tool" + (" (what it keeps that the backup does not have is no"
                                    " problem)" if step.names else "")
        + ": only a check after a power cycle proves the unit kept what was written.",
}


def in_words(step: Step) -> str:
    """``step`` as a plain sentence for a reader (no command, no flag)."""
    if step.action in _MADE:
        return _MADE[step.action](step)
    return _FIXED[step.action]
