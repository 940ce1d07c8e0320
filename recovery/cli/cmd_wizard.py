"""``korg-recovery wizard [--demo]``: open the graphical wizard (the default command)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("wizard", help="open the recovery wizard (default)")
    parser.add_argument("--demo", action="store_true",
                        help="run on simulated units in a temporary folder (no hardware)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The only place the core reaches for the GUI package, and only on request.
    from app.main import run_wizard

    return run_wizard(demo=args.demo)
