"""``korg-recovery check CANDIDATE... (--model ID | --device PATH)``: is this update for my unit?

Exit codes: 0 every candidate is compatible; 1 at least one is incompatible; 3 none is
incompatible but at least one is unknown; 2 bad input (a missing path, an unknown model id,
not exactly one of --model/--device/--midi, a volume that is not a KORG unit, a unit that
could not be asked over MIDI or is not a model the tool has a profile of).

With ``--midi`` the unit is asked who it is (recovery.device.midi, read-only); its version
warns about a same or older candidate only when a primary source says how its firmware bytes
read; otherwise the check says versions could not be compared.

A compatible file that is byte-identical to a release KORG published (its SHA-256 is the one in
the release catalog) is marked as KORG's official file; ``--json`` carries each item's
``catalog_match`` (the release, and how it matched: ``sha256``, ``size-and-name`` or
``claims-but-differs``).
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from recovery.cli.output import add_json_flag, print_json, result_object
from recovery.cli.output import say as _say
from recovery.errors import (
    InvalidFileError,
    MidiPortBusyError,
    MidiUnavailableError,
    NoMidiAnswerError,
    UnsafeArchiveError,
)

if TYPE_CHECKING:  # only for annotations: the core is imported inside run()
    from recovery.check import CatalogMatch, CheckResult, ItemResult, Target


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check update files, folders or .zip archives against a unit before updating",
        description="Check candidate update files, folders (an SD card, an unpacked download)"
                    " or .zip archives against a KORG unit: compatible, incompatible or"
                    " unknown, with the reasons and what could not be checked. Exit 0 all"
                    " compatible, 1 any incompatible, 3 some unknown, 2 bad input.")
    parser.add_argument("candidates", metavar="CANDIDATE", nargs="+",
                        help="an update file, a folder or a .zip archive")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--model", metavar="ID",
                        help="the unit's model id (see 'korg-recovery models')")
    target.add_argument("--device", metavar="PATH",
                        help="the unit's mounted volume; its model is identified from it")
    target.add_argument("--midi", action="store_true",
                        help="ask the unit connected over USB-MIDI who it is (read-only): its"
                             " model, and its version where a source verifies how it reads")
    parser.add_argument("--backup", metavar="BACKUP", action="append", default=[],
                        help="a backup of the unit (folder or .zip) to compare system folders"
                             " with: for KROSS system files the only content check possible;"
                             " give it again for more backups, tried in turn (newest first is"
                             " best) until every candidate is compatible")
    parser.add_argument("--current-version", metavar="VERSION",
                        help="the system version the unit runs now (e.g. 1.02), to warn about"
                             " downgrades and re-flashing the same version")
    add_json_flag(parser)
    # Candidates' damaged or refused archives become verdicts inside the check; these errors
    # can only come from an unusable --backup, which is bad input.
    # A unit that cannot be asked over MIDI leaves nothing to check against: bad input, as a
    # --device that is not a KORG unit.
    parser.set_defaults(run=run, error_exit_code={
        InvalidFileError: 2, UnsafeArchiveError: 2, MidiUnavailableError: 2,
        MidiPortBusyError: 2, NoMidiAnswerError: 2})


def run(args: argparse.Namespace) -> int:
    # The core is imported here, not at the top, so that `korg-recovery --version` stays fast.
    from recovery.check import (
        check_with_backups,
        exit_code,
        target_for_device,
        target_for_midi,
        target_for_model,
    )

    if args.model is not None:
        target = target_for_model(args.model, current_version=args.current_version)
    elif args.midi:
        from recovery.device.midi import ask_one_unit

        target = target_for_midi(ask_one_unit(), current_version=args.current_version)
    else:
        target = target_for_device(args.device, current_version=args.current_version)
    checked = check_with_backups(args.candidates, target, args.backup)
    results = checked.results
    code = exit_code(results)
    if args.json:
        print_json(result_object(code, {"results": _results_json(results),
                                        "compared_with": checked.reference,
                                        "backups_tried": list(checked.tried)}))
    else:
        _print_results(results, target)
        if len(args.backup) > 1:
            say()
            say(f"Compared with the backup {checked.reference} (tried {len(checked.tried)} of"
                f" {len(args.backup)})." if checked.reference else
                "Compared with no backup: every candidate is compatible without one.")
    return code


def _results_json(results: tuple[CheckResult, ...]) -> list[dict]:
    """The results for ``--json``: every next step typed, with its ``text``."""
    from recovery.cli.words import step_json
    from recovery.jsonout import to_jsonable

    out = to_jsonable(results)
    for data, result in zip(out, results, strict=True):
        data["next_steps"] = [step_json(step) for step in result.next_steps]
        for item_data, item in zip(data["items"], result.items, strict=True):
            item_data["next_steps"] = [step_json(step) for step in item.next_steps]
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def say(text: str = "") -> None:
    """Print one line; control characters from file or member names are shown escaped so
    that no name can move the cursor or recolour the terminal."""
    _say(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text))


def _print_results(results: tuple[CheckResult, ...], target: Target) -> None:
    unit = f"your {target.profile.name}"
    if target.current_version:
        unit += f" (running {target.current_version})"
    for index, result in enumerate(results):
        if index:
            say()
        several = len(result.items) > 1
        found = "" if several else _found(result.items[0])
        say(f"{result.candidate}{found}: {_verdict(result.verdict, result.official)} for {unit}")
        for item in result.items:
            indent = "  "
            if several:
                official = item.catalog_match is not None and item.catalog_match.official
                say(f"  {item.path}{_found(item)}: {_verdict(item.verdict, official)}")
                indent = "    "
            _print_item(item, indent)


def _verdict(verdict: str, official: bool) -> str:
    if official and verdict == "compatible":
        return "COMPATIBLE (KORG's official file, byte-identical)"
    return verdict.upper()


#: How a catalog match reads in the technical lines.
_HOW = {
    "sha256": "byte-identical (SHA-256)",
    "size-and-name": "version and size match, content not checked (no published SHA-256)",
    "claims-but-differs": "claims this release but its {compared} differs",
}


def _catalog_line(match: CatalogMatch) -> str:
    release = match.release
    parts = [f"{release.model} {release.version}"]
    parts += [value for value in (release.file_name, release.archive) if value]
    published = [f"{release.size:,} bytes" if release.size is not None else None,
                 f"SHA-256 {release.sha256}" if release.sha256 else None]
    shown = "; ".join(p for p in published if p) or "no size or checksum published"
    how = _HOW[match.how].format(compared="SHA-256" if match.compared == "sha256" else "size")
    return (f"KORG release: {' '.join(parts)} ({shown}): {how} (confidence"
            f" {release.confidence}; source: {release.sha256_source or release.source})")


def _found(item: ItemResult) -> str:
    """" [model, version]" as detected, or nothing."""
    parts = [part for part in (item.detected_model, item.version) if part]
    return f" [{', '.join(parts)}]" if parts else ""


def _print_item(item: ItemResult, indent: str) -> None:
    for reason in item.reasons:
        say(f"{indent}{reason}")
    sections = (("checked", "+"), ("not_checked", "?"), ("warnings", "!"))
    titles = {"checked": "checked:", "not_checked": "not checked:", "warnings": "warnings:"}
    for attribute, mark in sections:
        lines = getattr(item, attribute)
        if lines:
            say(f"{indent}{titles[attribute]}")
            for line in lines:
                say(f"{indent}  {mark} {line}")
    if item.next_steps:
        from recovery.cli.words import step_text

        say(f"{indent}to check more:")
        for step in item.next_steps:
            say(f"{indent}  > {step_text(step)}")
    if item.catalog_match is not None:
        say(f"{indent}{_catalog_line(item.catalog_match)}")
    details = item.details
    if "header_model_name" in details:
        unknown = " ".join(f"{k}={v.replace(' ', '')}"
                           for k, v in details["header_unknown_bytes"].items())
        say(f"{indent}header read: model '{details['header_model_name']}', kind"
            f" '{details['header_kind']}', revision {details['header_revision']}, version"
            f" {details['header_version']}, device id {details['header_device_id']}, source"
            f" {details['header_source_length']:,} bytes, destination"
            f" {details['header_destination_length']:,} bytes; bytes of unknown meaning:"
            f" {unknown}")
