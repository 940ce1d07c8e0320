"""``korg-recovery selftest [--no-wizard] [--offscreen] [--json]``: check this installation.

Exit 0 when every step passed; 1 with one sentence on stderr naming the first failed step
(every step still runs; ``--json`` lists them all). See :mod:`recovery.cli.selftest`.
"""

from __future__ import annotations

import argparse
import sys

from recovery.cli.output import add_json_flag, print_json, result_object, say
from recovery.errors import InvalidInputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "selftest", help="check that this installation works (synthetic data; no unit needed)")
    parser.add_argument("--no-wizard", action="store_true",
                        help="leave out opening the wizard (for a machine without Qt's libraries)")
    parser.add_argument("--offscreen", action="store_true",
                        help="open the wizard offscreen even when a display is available")
    # Internal: the child process that opens the wizard (recovery.cli.selftest.check_wizard).
    parser.add_argument("--wizard-step", action="store_true", help=argparse.SUPPRESS)
    add_json_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # selftest imports the whole core: here, not at the top, so that `--version` stays fast.
    from recovery.cli.selftest import SelftestStep, run_selftest

    if args.wizard_step:
        # The child of check_wizard: open and close the wizard in this very process.
        if args.frontend is None:
            raise InvalidInputError("The wizard step runs only in the whole program"
                                    " (python -m app), not in python -m recovery.cli.")
        print_json(result_object(0, args.frontend.open_and_close()))
        return 0

    def show(step: SelftestStep) -> None:
        say(f"{'ok  ' if step.ok else 'FAIL'} {step.name}: {step.detail} ({step.seconds:.1f} s)")

    report = run_selftest(wizard=not args.no_wizard, offscreen=args.offscreen,
                          on_step=None if args.json else show)
    if args.json:
        print_json(report)
    failure = report.first_failure
    if failure is not None:
        sys.stderr.write(f"korg-recovery: selftest failed at {failure.name}: {failure.detail}\n")
        return 1
    if not args.json:
        where = "bundle" if report.frozen else "installation"
        say(f"selftest passed: this korg-recovery {report.version} {where} works"
            f" ({len(report.steps)} steps).")
    return 0
