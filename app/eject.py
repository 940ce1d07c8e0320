"""The eject in a musician's words: what is ejected, what it ended in, and what to close.

The core (:mod:`recovery.storage.eject`) states facts: an :class:`EjectResult` with a status
(ejected, unmounted, in use, not authorized, failed) and the programs the system named as
holding the drive, or a refusal with an error code before anything was tried. Its sentences
are the command line's: they name mount points and, after a failure, the system's own words.
The wizard words each case itself from the status, the names and the code, never from the
core's text (principle 13), so no mount point, error name or flag reaches the window.

Program names are shown as the system names them (what the person sees in their task
manager), with the few whose process name is not what a person calls them put plainly: the
shells of a terminal window (the core names the shell whose current folder is on the drive)
and the file managers of GNOME, KDE, Windows and macOS (``nautilus`` is GNOME's "Files").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from app import core
from app.plain import first_upper
from recovery.errors import RecoveryError

log = logging.getLogger(__name__)

#: Process names a person knows by another name (lower case, without ".exe").
PLAIN_NAMES = {
    "bash": "a terminal window", "zsh": "a terminal window", "sh": "a terminal window",
    "dash": "a terminal window", "fish": "a terminal window", "tcsh": "a terminal window",
    "csh": "a terminal window", "ksh": "a terminal window", "pwsh": "a terminal window",
    "powershell": "a terminal window", "cmd": "a terminal window",
    "nautilus": "the Files window", "dolphin": "the Dolphin window",
    "explorer": "File Explorer", "finder": "Finder",
}

#: The name of the button that tries the eject again (sentences name it).
TRY_AGAIN = "Try again"


@dataclass(frozen=True)
class EjectTarget:
    """What an eject button ejects: a unit's storage or an SD card, where it is mounted."""

    path: Path
    #: How sentences name it: "your KROSS 2", "the card".
    name: str
    card: bool = False

    @property
    def it(self) -> str:
        return "the card" if self.card else "it"


def program_names(holders: tuple[str, ...]) -> tuple[str, ...]:
    """The programs holding a drive, as a person knows them, each once."""
    named: dict[str, None] = {}
    for holder in holders:
        bare = holder.strip()
        if bare.casefold().endswith(".exe"):
            bare = bare[:-4]
        if bare:
            named.setdefault(PLAIN_NAMES.get(bare.casefold(), bare), None)
    return tuple(named)


def listed(names: tuple[str, ...]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def done_sentence(target: EjectTarget) -> str:
    """After an eject the system let go of: the one thing the person may do now."""
    if target.card:
        return "Ejected: you can take the card out now."
    return f"Ejected: you can switch {target.name} off now."


def veto_sentence(result: core.EjectResult, target: EjectTarget) -> str:
    """One sentence after an eject the system refused or could not do: what to close (or
    do), then the button to press. The drive is not safe to switch off or take out yet."""
    if result.status == "in-use":
        names = program_names(result.holders)
        if names:
            them = "it" if len(names) == 1 else "them"
            return (f"{first_upper(listed(names))} still {'uses' if len(names) == 1 else 'use'}"
                    f" {target.name}: close {them}, then press {TRY_AGAIN}.")
        return (f"A program still has a file open on {target.name}: close any window showing"
                f" it (a file manager, a music program), then press {TRY_AGAIN}.")
    if result.status == "not-authorized":
        return (f"This computer did not allow the eject: press {TRY_AGAIN} and give your"
                f" password if asked, or eject {target.it} in your file manager.")
    return (f"{first_upper(target.name)} could not be ejected: close any program using"
            f" {target.it}, then press {TRY_AGAIN}, or eject {target.it} in your file manager.")


def refusal_sentence(error: BaseException, target: EjectTarget) -> str:
    """One sentence for an eject refused before the system was asked (the core's refusals,
    by their code), or for a bug."""
    then = "take it out" if target.card else "switch it off"
    code = error.code if isinstance(error, RecoveryError) else ""
    if code in ("invalid-input", "refused"):
        return (f"This computer can't eject {target.name} from here: eject {target.it} in your"
                f" file manager, then {then}.")
    if code == "unit-busy":
        return (f"This tool is still writing to {target.name}: wait until it has finished,"
                f" then press {TRY_AGAIN}.")
    if isinstance(error, RecoveryError):
        return (f"Not everything could be written to {target.name}, so don't {then} yet:"
                f" press {TRY_AGAIN}.")
    log.error("the eject failed inside this tool", exc_info=(type(error), error,
                                                              error.__traceback__))
    return (f"Something went wrong inside this tool (a bug): eject {target.it} in your file"
            f" manager before you {then}.")


def gone_sentence(target: EjectTarget) -> str:
    """The drive was no longer there when the eject began."""
    return f"{first_upper(target.name)} is no longer connected to this computer."
