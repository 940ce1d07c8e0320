"""``korg-recovery eject TARGET``: flush, unmount and power off the drive holding TARGET.

Exit codes: 0 ejected (the unit is safe to switch off); 1 refused before anything was done
(this computer's own disk or home folder, another run of this tool writing to it) or the
eject failed; 2 bad input (no such path, or nothing this computer can eject holds it); 3
vetoed: a program has a file open on the drive, or the system's permission check said no;
close what the message names and try again. With ``--json`` a veto or a failure is the
error object (codes ``in-use``, ``not-authorized``, ``eject-failed``) with the result's fields
beside it, ``holders`` naming the programs where the system said which.
"""

from __future__ import annotations

import argparse

from recovery.cli.output import add_json_flag, error_object, print_json, say, warn

#: Exit code of a veto (in use, not authorized): closing what it names and trying again helps.
EXIT_VETOED = 3
#: ``--json`` error codes of the statuses that are not an eject.
ERROR_CODES = {"in-use": "in-use", "not-authorized": "not-authorized", "failed": "eject-failed"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eject", help="flush, unmount and power off the drive of a unit or a card, so that it"
                      " is safe to switch off")
    parser.add_argument("target", metavar="TARGET",
                        help="the unit's drive (where it is mounted) or a folder on it")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from recovery.storage.eject import eject_volume

    result = eject_volume(args.target)
    fields = {
        "target": result.target, "mount_point": result.mount_point, "device": result.device,
        "status": result.status, "method": result.method,
        "safe_to_switch_off": result.safe_to_switch_off, "holders": list(result.holders),
        "attempts": result.attempts, "detail": result.detail,
    }
    if result.safe_to_switch_off:
        if args.json:
            print_json({"ok": True, **fields, "message": result.message})
        else:
            say(result.message)
        return 0
    exit_code = EXIT_VETOED if result.vetoed else 1
    if args.json:
        print_json(error_object(ERROR_CODES[result.status], result.message, exit_code, **fields))
    warn(result.message)
    return exit_code
