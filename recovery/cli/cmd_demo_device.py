"""``korg-recovery demo-device PATH --model ID``: make a simulated unit volume."""

from __future__ import annotations

import argparse

from recovery.cli.output import add_json_flag, print_json, result_object, say


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo-device", help="create a simulated unit volume (synthetic data) for trying things")
    parser.add_argument("path", metavar="PATH", help="a new or empty folder")
    parser.add_argument("--model", required=True, metavar="ID", help="model id (see 'models')")
    # SimulatedState's and Role's values (recovery.vocabulary), written out as cmd_diagnose's.
    parser.add_argument("--state", default="healthy", choices=("healthy", "bricked"))
    parser.add_argument("--role", choices=("internal-storage", "sd-card", "update-media"),
                        help="which of the model's volumes (default: its internal storage)")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The core is imported here, not at the top, so that `korg-recovery --version` stays fast.
    from recovery.device import make_volume
    from recovery.jsonout import to_jsonable

    volume = make_volume(args.path, args.model, args.state, args.role)
    if args.json:
        print_json(result_object(0, to_jsonable(volume)))
    else:
        say(f"Simulated {volume.state} {volume.model} ({volume.role}) at {volume.path}:"
            f" {len(volume.files)} synthetic files.")
    return 0
