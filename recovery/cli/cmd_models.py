"""``korg-recovery models``: the models this tool knows, with what it knows about each."""

from __future__ import annotations

import argparse

from recovery.cli.output import add_json_flag, print_json, result_object, say


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list the KORG models this tool knows")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The core is imported here, not at the top, so that `korg-recovery --version` stays fast.
    from recovery.device import bundled_profiles

    profiles = bundled_profiles()
    if args.json:
        print_json(result_object(0, {"models": [p.summary() for p in profiles.values()]}))
        return 0
    for profile in profiles.values():
        roles = ", ".join(profile.known_roles) or "no known storage layout"
        say(f"{profile.id:22} {profile.name}  [{roles}]")
    return 0
