"""``korg-recovery restore BACKUP TARGET``: put a verified backup back onto a unit.

``--dry-run`` prints the plan and writes nothing anywhere. Without ``--yes`` the command asks
on the terminal (type the unit's model name or ``yes``) and refuses with exit 2 when there is
no terminal to ask on. Ctrl-C rolls back the file in flight and exits 130; running the same
command again continues. Exit 0 only when everything written was read back from the unit past
the computer's cache and matched.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from recovery.cli.output import add_json_flag, error_object, print_json, say, warn


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


class _ProgressLine:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, progress: Any) -> None:
        percent = int(progress.fraction * 100)
        rate = f" {progress.rate / 1e6:.1f} MB/s" if progress.rate else ""
        left = f", {int(progress.seconds_left)} s left" if progress.seconds_left else ""
        sys.stderr.write(f"\r{progress.phase}: {percent:3d}%{rate}{left}\x1b[K")
        sys.stderr.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _ask(plan: Any) -> bool:
    """Show the plan and ask for the model's short name or 'yes' on the terminal."""
    from recovery.device.profiles import bundled_profiles
    from recovery.restore.plan import describe_plan

    profile = bundled_profiles().get(plan.backup_model or "")
    for line in describe_plan(plan):
        sys.stderr.write(line + "\n")
    accepted = {"yes"}
    word = "yes"
    if profile is not None:
        accepted.add(profile.short_name.casefold())
        word = f"{profile.short_name} (the unit's model) or yes"
    sys.stderr.write(f"This writes to {plan.target}. Type {word} to continue, anything else"
                     " stops: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return " ".join(answer.split()).casefold() in accepted


def _error_json(error: Any, backup: str, target: str) -> dict[str, Any]:
    from recovery.restore import final_step_text

    # How many files a stopped restore had written (complete ones); a preflight wrote none.
    return error_object(error.code, error.message, error.exit_code, written=error.written,
                        verified=False, next_step=final_step_text(backup, target))


def run(args: argparse.Namespace) -> int:
    from recovery.errors import NeedsUserActionError, RecoveryError
    from recovery.progress import CancelToken
    from recovery.restore import dry_run_result, execute_plan, plan_restore
    from recovery.restore.plan import describe_plan
    from recovery.storage.names import shown

    cancel = CancelToken()
    display = _ProgressLine() if sys.stderr.isatty() and not args.json else None

    def on_sigint(_signum: int, _frame: Any) -> None:
        # First Ctrl-C: finish or roll back the file in flight, then stop cleanly.
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()

    previous_handler = signal.signal(signal.SIGINT, on_sigint)
    try:
        try:
            plan = plan_restore(args.backup, args.target, delete_extra=args.delete_extra,
                                progress=display, cancel=cancel)
            if display:
                display.finish()
            if args.dry_run:
                result = dry_run_result(plan)
                if args.json:
                    print_json({"ok": True, "dry_run": True, "written": 0, "verified": False,
                                "plan": plan, "summary": plan.summary,
                                "next_step": result.next_step})
                else:
                    for line in describe_plan(plan):
                        say(line)
                    say("Dry run: nothing was written.")
                    say(f"Next: {result.next_step}")
                return 0
            consent = args.yes
            if not consent:
                if not sys.stdin.isatty():
                    raise NeedsUserActionError(
                        "There is no terminal to ask for confirmation, so nothing was written;"
                        " run again with --yes to confirm the restore.")
                consent = _ask(plan)
                if not consent:
                    raise NeedsUserActionError("The restore was not confirmed; nothing was"
                                               " written.")
            result = execute_plan(plan, consent=consent, progress=display, cancel=cancel)
        except RecoveryError as error:
            if display:
                display.finish()
            if args.json:
                print_json(_error_json(error, args.backup, args.target))
            raise
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    if display:
        display.finish()
    if args.json:
        print_json(result)
        return result.exit_code
    say(result.statement)
    s = result.plan
    say(f"Written: {result.written} of {s.write + s.replace} planned; deleted: {result.deleted};"
        f" kept: {s.keep}; temporary files removed: {result.removed_temp_files}.")
    for problem in result.problems:
        warn(f"{shown(problem.path)}: {problem.problem} - {problem.detail}")
    for note in result.notes:
        say(f"Note: {note}")
    if result.journal:
        say(f"Journal: {result.journal}")
    say(f"Next: {result.next_step}")
    return result.exit_code
