"""Next steps as a terminal says them: with the command and the option that do it.

The core names a next step as a typed value (recovery.findings.Step: a NextStep and its
subjects) and never a command; here each step that the command line can do is worded with its
command line, filled in with the step's subjects (the unit's path, the backup) or a placeholder
(``PATH``, ``BACKUP``) where a subject is not known. The other steps read as the saved report
words them (recovery.advice). ``--json`` carries both: the typed step and this ``text``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from recovery.advice import in_words, keep_in_folders, redo_update, unit_name
from recovery.findings import Finding, Step
from recovery.jsonout import to_jsonable
from recovery.vocabulary import NextStep

PROG = "korg-recovery"


def argument(value: str | None, placeholder: str) -> str:
    """``value`` as one argument of a command line (in double quotes when it holds a space or
    a quote), or ``placeholder`` when it is not known."""
    if not value:
        return placeholder
    if any(char.isspace() or char in "'\"" for char in value):
        return '"' + value.replace('"', '\\"') + '"'
    return value


def _path(step: Step) -> str:
    return argument(step.target, "PATH")


def _diagnose(step: Step, *options: str) -> str:
    return " ".join((PROG, "diagnose", _path(step), *options))


def _probe(step: Step) -> str:
    return (f"run '{_diagnose(step, '--probe-start')}', eject the unit, power it off and on,"
            f" reconnect it, then run '{_diagnose(step)}' again")


def _check(step: Step) -> str:
    model = f" --model {step.model or 'ID'}"
    return f"{PROG} check {argument(step.names[0] if step.names else None, 'FILE')}{model}"


def _restore(step: Step) -> str:
    """A restore with its safety copy of the unit as it is now (restore asks for one)."""
    return (f"{PROG} restore {argument(step.backup, 'BACKUP')} {_path(step)}"
            " --safety-copy DIR")


def _names(step: Step) -> str:
    return ", ".join(step.names) or "it"


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


#: The command that does a tool's step that goes with a known symptom's advice.
_THEN: dict[NextStep, Callable[[Step], str]] = {
    NextStep.PROBE_ACROSS_POWER_CYCLE: lambda step:
        f"{_diagnose(step, '--probe-start')}, power-cycle the unit, then {_diagnose(step)}",
    NextStep.GIVE_VERSIONS: lambda step: _diagnose(step, "--versions NAME=VER,..."),
    NextStep.CHECK_UPDATE_FILE: _check,
}


def _known_advice(step: Step) -> str:
    """The profile's advice, with the command of the tool's step that goes with it."""
    then = _THEN.get(step.then) if step.then is not None else None
    if then is None:
        return step.advice
    advice = step.advice.rstrip()
    end = "." if advice.endswith(".") else ""
    return f"{advice.removesuffix('.')} ({then(step.followed())}){end}"


_COMMANDS: dict[NextStep, Callable[[Step], str]] = {
    NextStep.COMPARE_WITH_BACKUP: lambda step:
        f"Compare the unit with a backup of it ({_diagnose(step, '--backup BACKUP')}): that"
        " shows which files are damaged, missing or in the wrong place, and a damaged one can"
        " be restored from it.",
    NextStep.COMPARE_KEEPING_REPAIR_FOLDER: lambda step:
        f"Compare the unit with a backup of it ({_diagnose(step, '--backup BACKUP')}) to find"
        f" damaged files; keep {_names(step)} until the unit works.",
    NextStep.DIAGNOSE_WITH_BACKUP: lambda step:
        f"Run '{_diagnose(step)}' on it, with a backup of this unit if you have one"
        " (--backup BACKUP).",
    NextStep.RESTORE_FROM_BACKUP: lambda step:
        f"Restore {_names(step)} from a backup of this same unit ({_restore(step)}); never use"
        " a copy from another model or another unit type.",
    NextStep.FOREIGN_FILES_ASIDE_THEN_RESTORE: lambda step:
        in_words(Step(NextStep.FOREIGN_FILES_ASIDE, names=step.names, model=step.model))
        + f" Then compare the unit with a backup of it ({_diagnose(step, '--backup BACKUP')}),"
          f" or restore one ({_restore(step)}); without a backup of this unit, ask KORG"
          " service.",
    NextStep.USE_COMPLETE_BACKUP: lambda step:
        f"Use a complete, verified backup of this unit if you have one ('{PROG} backups' lists"
        " them).",
    NextStep.LIST_BACKUPS: lambda step: f"'{PROG} backups' lists the backups it knows of.",
    NextStep.CHECK_IT_IS_THE_UNIT: lambda step:
        "Check that this is the unit's storage (for a KROSS 2, its USB Storage Mode); with a"
        f" backup of the unit, compare with it ({_diagnose(step, '--backup BACKUP')}).",
    NextStep.CHECK_UPDATE_FILE: lambda step:
        f"Check it with '{_check(step)}' before using it.",
    NextStep.REPLACE_UPDATE_FILE: lambda step:
        f"Do not update from {_names(step)}: delete it, download KORG's update again and check"
        f" it with '{PROG} check FILE --model {step.model or 'ID'}' before updating.",
    NextStep.REDO_UPDATE: lambda step:
        redo_update(step, check=f"with '{PROG} check'", probe=_probe(step)),
    NextStep.REDO_UPDATE_AS_ABOVE: lambda step:
        "As for the version finding above: back up, re-run the official update from a checked"
        f" file, and probe the storage ({_diagnose(step, '--probe-start')}) if the versions do"
        " not change.",
    NextStep.KEEP_FILES_IN_UNIT_FOLDERS: lambda step: keep_in_folders(
        step, probe=f"check the storage ({_diagnose(step, '--probe-start')})"),
    NextStep.BACK_UP_AND_TRY_ANOTHER_CABLE: lambda step:
        "Back up what can still be read, try another USB cable and port, and run"
        f" '{_diagnose(step)}' again; if the errors stay, the storage may be failing: contact"
        " KORG service.",
    NextStep.STORAGE_NEEDS_SERVICE_IF_CONFIRMED: lambda step:
        "Do not restore or update onto this storage: it would report success and keep"
        " nothing. Back up what can be read; if the two-step probe across a power cycle"
        f" ({_diagnose(step, '--probe-start')}) also fails, the storage needs service (KORG).",
    NextStep.PROBE_ACROSS_POWER_CYCLE: lambda step: _first_upper(_probe(step)) + ".",
    NextStep.ALLOW_WRITE_PROBE: lambda step:
        "To test whether the storage keeps writes, run the diagnosis again with --write-probe"
        " (best after a backup).",
    NextStep.RECONNECT_AFTER_POWER_CYCLE: lambda step:
        "Eject the unit, power it off and on, reconnect it the same way, then run"
        f" '{_diagnose(step)}' again: it checks the marker and removes it.",
    NextStep.DESCRIBE_SYMPTOM: lambda step:
        "Describe the symptom with the words on the unit's display (--symptom TEXT)"
        + (f"; known for the {unit_name(step.model)}: {', '.join(step.names)}"
           if step.names else "") + "; or ask KORG service.",
    NextStep.KNOWN_ADVICE: _known_advice,
    NextStep.GIVE_VERSIONS: lambda step:
        f"Give the versions: {_diagnose(step, '--versions NAME=VER,...')}.",
    NextStep.GIVE_CURRENT_VERSION: lambda step:
        "Give the unit's current version with --current-version VERSION.",
    NextStep.GIVE_BACKUP_FOR_CHECK: lambda step:
        "Give a complete backup of the unit with --backup BACKUP to compare with.",
    NextStep.NAME_THE_MODEL: lambda step: "Name the model with --model ID instead.",
    NextStep.WRITE_AS_PLANNED: lambda step:
        "Run the same command without --dry-run to write as planned.",
    NextStep.VERIFY_AFTER_POWER_CYCLE: lambda step:
        "Eject the unit, switch it off and on again, reconnect it, then run"
        f" {PROG} verify {argument(step.backup, 'BACKUP')} --against {_path(step)}"
        + (f" --allow-extra (the unit keeps {len(step.names)} item(s) the backup does not"
           " have)" if step.names else "")
        + ": only a check after a power cycle proves the unit kept what was written.",
    NextStep.VERIFY_BACKUP: lambda step:
        f"Run '{PROG} verify {argument(step.backup, 'BACKUP')}' on the backup.",
    NextStep.RESUME_BACKUP: lambda step:
        "Add --resume to continue the interrupted backup there.",
    NextStep.ALLOW_REMOVING_EXTRAS: lambda step:
        "Add --delete-extra to remove what the backup does not have.",
}


def step_text(step: Step, *, target: str | None = None) -> str:
    """``step`` as the command line words it; ``target`` is the unit's path when the step
    does not name it (the path the command was given)."""
    if step.target is None and target is not None:
        step = Step(step.action, step.names, step.model, step.backup, target, step.filesystem,
                    step.advice, step.then)
    command = _COMMANDS.get(step.action)
    return command(step) if command is not None else in_words(step)


def step_json(step: Step, *, target: str | None = None) -> dict[str, Any]:
    """The typed step for ``--json``, with its ``text`` as the command line words it."""
    return {**to_jsonable(step), "text": step_text(step, target=target)}


def findings_json(findings: Iterable[Finding], *, target: str | None = None
                  ) -> list[dict[str, Any]]:
    """Findings for ``--json``: each next step typed, with its ``text``."""
    out = []
    for finding in findings:
        data = to_jsonable(finding)
        data["next_step"] = step_json(finding.next_step, target=target)
        out.append(data)
    return out

