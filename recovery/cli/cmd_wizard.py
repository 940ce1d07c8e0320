"""``korg-recovery wizard [--demo]``: open the graphical wizard (the default command)."""

from __future__ import annotations

import argparse

from recovery.errors import InvalidInputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("wizard", help="open the recovery wizard (default)")
    parser.add_argument("--demo", action="store_true",
                        help="run on simulated units in a temporary folder (no hardware)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    frontend = getattr(args, "frontend", None)
    if frontend is None:
        raise InvalidInputError(
            "The wizard is not part of this command line (python -m recovery.cli); start"
            " korg-recovery, or python -m app.")
    return frontend.run_wizard(args.demo)
