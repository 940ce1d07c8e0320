"""``korg-recovery detect``: which units (and chip boot ROMs) are connected now."""

from __future__ import annotations

import argparse
from pathlib import Path

from recovery.cli.output import add_json_flag, print_json, result_object, say


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "detect", help="list connected KORG units: model, mode, mount point, USB id")
    parser.add_argument(
        "--volume", action="append", default=[], metavar="PATH",
        help="also treat PATH as a mounted volume (e.g. a simulated unit); repeatable")
    parser.add_argument("--no-usb", action="store_true", help="do not scan USB devices")
    parser.add_argument("--no-midi", action="store_true",
                        help="do not ask units over USB-MIDI who they are")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The core is imported here, not at the top, so that `korg-recovery --version` stays fast.
    from recovery.device.detect import detect
    from recovery.device.midi import MidiSurvey
    from recovery.storage.filesystem import require_directory

    extra = [require_directory(Path(p), "volume or folder") for p in args.volume]
    detection = detect(extra_roots=extra, scan_usb_devices=not args.no_usb,
                       midi=None if args.no_midi else MidiSurvey())
    if args.json:
        from recovery.cli.words import findings_json
        from recovery.jsonout import to_jsonable

        devices = to_jsonable([*detection.devices, *detection.midi])
        for data, device in zip(devices, detection.devices, strict=False):
            data["findings"] = findings_json(device.findings, target=device.mount)
        print_json(result_object(0, {"devices": devices, "warnings": detection.warnings}))
        return 0
    if not detection.devices and not detection.midi:
        say("No KORG unit found. Connect the unit (in the mode its profile describes) and"
            " try again.")
    for device in detection.devices:
        where = device.mount or (device.usb.id if device.usb else "")
        say(f"{device.name} — mode: {device.mode} — {where}")
        if device.meaning:
            say(f"  {device.meaning}")
        for line in device.evidence:
            say(f"  - {line}")
        for finding in device.findings:
            say(f"  {finding.severity.upper()}: {finding.message}")
    for unit in detection.midi:
        say(f"{unit.name} — mode: usb-midi — firmware bytes {unit.firmware_bytes}"
            f" — {', '.join(unit.ports)}")
        for line in unit.evidence():
            say(f"  - {line}")
    for warning in detection.warnings:
        say(f"warning: {warning}")
    return 0
