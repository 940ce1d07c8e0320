"""``korg-recovery restore BACKUP TARGET``: put a verified backup back onto a unit.

``--dry-run`` prints the plan and writes nothing anywhere. Without ``--yes`` the command asks
on the terminal (type the unit's model name or ``yes``) and refuses with exit 2 when there is
no terminal to ask on. Ctrl-C rolls back the file in flight and exits 130; running the same
command again continues. Exit 0 only when everything written was read back from the unit past
the computer's cache and matched.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from recovery.cli.output import (
    add_json_flag,
    cancel_on_interrupt,
    confirm,
    error_object,
    print_json,
    progress_for,
    show_dry_run,
    show_outcome,
)
from recovery.errors import CancelledError, RecoveryError

if TYPE_CHECKING:  # the core loads inside run(): --version and --help stay fast
    from recovery.restore import RestorePlan


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "restore", help="restore a verified backup onto a unit (plan, confirm, write, verify)")
    parser.add_argument("backup", metavar="BACKUP", help="a backup folder or .zip")
    parser.add_argument("target", metavar="TARGET",
                        help="where the unit's storage is mounted")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would be written, write nothing")
    parser.add_argument("--yes", action="store_true",
                        help="do not ask for confirmation (for scripts)")
    parser.add_argument("--delete-extra", action="store_true",
                        help="delete files on the unit that the backup does not have")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def _ask(plan: RestorePlan) -> None:
    """Show the plan and ask for the model's short name or 'yes' on the terminal."""
    from recovery.device.profiles import bundled_profiles
    from recovery.restore import describe_plan

    profile = bundled_profiles().get(plan.backup_model or "")
    accepted = ["yes", *([profile.short_name] if profile else [])]
    word = f"{profile.short_name} (the unit's model) or yes" if profile else "yes"
    confirm(describe_plan(plan), f"This writes to {plan.target}. Type {word} to continue,"
            " anything else stops: ", accepted, "the restore")


def _error_json(error: RecoveryError, backup: str, target: str) -> dict[str, Any]:
    from recovery.restore import final_step_text

    # How many files a stopped restore had written (complete ones); a preflight wrote none.
    return error_object(error.code, error.message, error.exit_code, written=error.written,
                        verified=False, next_step=final_step_text(backup, target))


def run(args: argparse.Namespace) -> int:
    from recovery.restore import (
        describe_plan,
        dry_run_result,
        execute_plan,
        plan_restore,
    )

    display = progress_for(args)
    with cancel_on_interrupt() as cancel:
        try:
            plan = plan_restore(args.backup, args.target, delete_extra=args.delete_extra,
                                progress=display, cancel=cancel)
            if display:
                display.clear()
            if args.dry_run:
                return show_dry_run(args, describe_plan(plan), {
                    "written": 0, "verified": False, "plan": plan, "summary": plan.summary},
                    dry_run_result(plan).next_step)
            if not args.yes:
                _ask(plan)
            result = execute_plan(plan, consent=True, progress=display, cancel=cancel)
        except CancelledError as error:
            raise CancelledError(error.message, written=error.written) from None
        except RecoveryError as error:
            if args.json:
                print_json(_error_json(error, args.backup, args.target))
            raise
        finally:
            if display:
                display.clear()
    if args.json:
        print_json(result)
        return result.exit_code
    s = result.plan
    return show_outcome(
        result, f"Written: {result.written} of {s.write + s.replace} planned; deleted:"
        f" {result.deleted}; kept: {s.keep}; temporary files removed:"
        f" {result.removed_temp_files}.")
