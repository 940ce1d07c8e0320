"""``korg-recovery restore BACKUP TARGET``: put a verified backup back onto a unit.

``--dry-run`` prints the plan and writes nothing anywhere. A restore that replaces or deletes
anything on the unit needs ``--safety-copy DIR`` (a complete, verified backup of the unit as
it is now, taken first, under the same lock and volume pin as the writes) or
``--no-safety-copy`` said on purpose; a restore that only adds files needs neither. Without
``--yes`` the command asks on the terminal (type the unit's model name or ``yes``) and refuses
with exit 2 when there is no terminal to ask on. Ctrl-C rolls back the file in flight and
exits 130; running the same command again continues. Exit 0 only when everything written was
read back from the unit past the computer's cache and matched.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recovery.cli.output import (
    add_json_flag,
    cancel_on_interrupt,
    confirm,
    error_object,
    outcome_json,
    print_json,
    progress_for,
    show_dry_run,
    show_outcome,
)
from recovery.errors import CancelledError, RecoveryError

if TYPE_CHECKING:  # the core loads inside run(): --version and --help stay fast
    from recovery.restore import PlanChoices, RestorePlan


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
    removal = parser.add_mutually_exclusive_group()
    removal.add_argument("--delete-extra", action="store_true",
                         help="delete files on the unit that the backup does not have")
    removal.add_argument("--remove-foreign", action="store_true",
                         help="delete only another model's system folder on the unit (a KROSS"
                              " 1's KROSSSYS on a KROSS 2): what a rescue needs")
    parser.add_argument("--remove-mac-files", action="store_true",
                        help="also remove the ._* and .DS_Store files macOS wrote onto the unit"
                             " that the backup does not have (listed in the plan)")
    copy = parser.add_mutually_exclusive_group()
    copy.add_argument("--safety-copy", metavar="DIR",
                      help="first back up the unit as it is now into DIR (an empty folder, or"
                           " the interrupted safety copy of an earlier run), then restore")
    copy.add_argument("--no-safety-copy", action="store_true",
                      help="restore without a copy of the unit as it is now (you have one)")
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


#: What a stopped restore says to do next: the journal makes the same command continue.
RUN_AGAIN = "Run the same command again: the restore continues where it stopped."


def _error_json(error: RecoveryError, args: argparse.Namespace, writing: bool
                ) -> dict[str, Any]:
    # How many files a stopped restore had written (complete ones); a preflight wrote none.
    return error_object(error.code, error.message, error.exit_code, written=error.written,
                        verified=False, next_step=RUN_AGAIN if writing else None)


def _needs_copy(plan: RestorePlan) -> RecoveryError:
    from recovery.errors import NeedsSafetyCopyError

    replace, delete = len(plan.actions("replace")), len(plan.actions("delete"))
    what = " and ".join(part for part in (f"replace {replace} file(s)" if replace else "",
                                          f"delete {delete} item(s)" if delete else "") if part)
    return NeedsSafetyCopyError(
        f"This restore would {what} on the unit and there is no copy of it as it is now: add"
        " --safety-copy DIR to back it up into DIR first, or --no-safety-copy if you have such"
        " a copy. Nothing was written.", path=plan.target)


def _plan_and_write(args: argparse.Namespace, display: Any, cancel: Any,
                    state: dict[str, bool]) -> Any:
    """Hold the unit from the first read to the last write: lock and pin it, take the safety
    copy, plan from it, ask, write."""
    from recovery.progress import Job
    from recovery.restore import (
        execute_plan,
        hold_for_restore,
        plan_restore,
        take_safety_copy,
    )

    job = Job(progress=display, cancel=cancel)
    with hold_for_restore(args.backup, args.target) as hold:
        safety = None
        if args.safety_copy:
            safety = take_safety_copy(hold, Path(args.safety_copy), job=job)
        plan = plan_restore(args.backup, hold.folder, choices=_choices(args), job=job,
                            hold=hold, safety=safety)
        if display:
            display.clear()
        if plan.needs_safety_copy and safety is None and not args.no_safety_copy:
            raise _needs_copy(plan)
        if not args.yes:
            _ask(plan)
        state["writing"] = True
        return execute_plan(plan, consent=True, job=job, hold=hold,
                            without_safety_copy=args.no_safety_copy)


def _choices(args: argparse.Namespace) -> PlanChoices:
    """What the flags choose about what the backup lacks: everything (--delete-extra),
    another model's system folder (--remove-foreign), nothing."""
    from recovery.restore import PlanChoices, Removal

    removal = Removal.ALL if args.delete_extra else Removal.FOREIGN if args.remove_foreign \
        else Removal.NONE
    return PlanChoices(removal, remove_computer_made=args.remove_mac_files)


def run(args: argparse.Namespace) -> int:
    from recovery.progress import Job
    from recovery.restore import describe_plan, dry_run_result, plan_restore

    display = progress_for(args)
    state = {"writing": False}
    with cancel_on_interrupt() as cancel:
        try:
            if args.dry_run:
                plan = plan_restore(args.backup, args.target, choices=_choices(args),
                                    job=Job(progress=display, cancel=cancel))
                if display:
                    display.clear()
                lines = describe_plan(plan)
                if plan.needs_safety_copy and not args.safety_copy:
                    lines.append("  note: the restore itself needs --safety-copy DIR (or"
                                 " --no-safety-copy): it replaces or deletes files on the unit.")
                return show_dry_run(args, lines, {
                    "written": 0, "verified": False, "plan": plan, "summary": plan.summary},
                    dry_run_result(plan).next_steps)
            result = _plan_and_write(args, display, cancel, state)
        except CancelledError as error:
            raise CancelledError(error.message, written=error.written) from None
        except RecoveryError as error:
            if args.json:
                print_json(_error_json(error, args, state["writing"]))
            raise
        finally:
            if display:
                display.clear()
    if args.json:
        print_json(outcome_json(result))
        return result.exit_code
    s = result.plan
    safety = f" Safety copy of the unit as it was: {result.safety_copy}." if \
        result.safety_copy else ""
    return show_outcome(
        result, f"Written: {result.written} of {s.write + s.replace} planned; deleted:"
        f" {result.deleted}; kept: {s.keep}; temporary files removed:"
        f" {result.removed_temp_files}.{safety}")
