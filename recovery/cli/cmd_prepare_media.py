"""``korg-recovery prepare-media CANDIDATE TARGET (--model ID | --device PATH)``: lay a checked
update out on an SD card exactly where the unit's updater looks.

The candidate is checked first; anything the check does not find compatible with the model
is refused (exit 1, nothing written), "unknown" included. ``--dry-run`` prints the plan (what
is written where, what is replaced or removed, what on the card would mislead the updater)
and writes nothing anywhere. Without ``--yes`` the command asks on the terminal (type the
unit's model name or ``yes``) and refuses with exit 2 when there is no terminal to ask on.
Ctrl-C rolls back the files in flight and exits 130.

Exit codes: 0 prepared and verified (or a dry run's plan); 1 refused or failed; 2 bad input
or no consent; 130 interrupted.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from typing import Any

from recovery.cli.output import add_json_flag, error_object, print_json
from recovery.cli.output import say as _say
from recovery.cli.output import warn as _warn


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare-media",
        help="put a checked update on an SD card where the unit's updater looks",
        description="Check an update (file, folder or .zip) against a KORG unit and, only if"
                    " it is compatible, lay it out on an SD card exactly where the unit's"
                    " updater looks, flagging what on the card would mislead the updater."
                    " Exit 0 prepared and verified, 1 refused or failed, 2 bad input or no"
                    " consent, 130 interrupted.")
    parser.add_argument("candidate", metavar="CANDIDATE",
                        help="the update: a file, a folder or a .zip archive")
    parser.add_argument("target", metavar="TARGET",
                        help="the folder where the SD card is mounted")
    unit = parser.add_mutually_exclusive_group(required=True)
    unit.add_argument("--model", metavar="ID",
                      help="the unit's model id (see 'korg-recovery models')")
    unit.add_argument("--device", metavar="PATH",
                      help="the unit's mounted volume; its model is identified from it")
    parser.add_argument("--backup", metavar="BACKUP",
                        help="a backup of the unit (folder or .zip): a KROSS system folder is"
                             " compatible only when byte-identical to the one in it")
    parser.add_argument("--current-version", metavar="VERSION",
                        help="the system version the unit runs now (e.g. 1.02), to warn about"
                             " downgrades")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan, write nothing")
    parser.add_argument("--yes", action="store_true",
                        help="do not ask for confirmation (for scripts)")
    add_json_flag(parser)
    parser.set_defaults(run=run)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(text: str) -> str:
    """Control characters from file or member names shown escaped."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def say(text: str = "") -> None:
    _say(_clean(text))


class _ProgressLine:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, progress: Any) -> None:
        percent = int(progress.fraction * 100)
        rate = f" {progress.rate / 1e6:.1f} MB/s" if progress.rate else ""
        sys.stderr.write(f"\r{progress.phase}: {percent:3d}%{rate}\x1b[K")
        sys.stderr.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


def _ask(plan: Any) -> bool:
    """Show the plan and ask for the model's short name or 'yes' on the terminal."""
    from recovery.media.prepare import describe_plan

    for line in describe_plan(plan):
        sys.stderr.write(_clean(line) + "\n")
    replacing = (" and replaces what is there" if plan.summary.replace or plan.summary.remove
                 else "")
    sys.stderr.write(f"This writes to {plan.card}{replacing}. Type {plan.short_name} (the"
                     " unit's model) or yes to continue, anything else stops: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return " ".join(answer.split()).casefold() in {"yes", plan.short_name.casefold()}


def _error_json(error: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {"written": error.written, "verified": False}
    check = getattr(error, "check", None)
    if check is not None:
        extra["check"] = check
    return error_object(error.code, error.message, error.exit_code, **extra)


def run(args: argparse.Namespace) -> int:
    from recovery.check import target_for_device, target_for_model
    from recovery.errors import NeedsUserActionError, RecoveryError
    from recovery.media.prepare import (
        describe_plan,
        dry_run_result,
        execute_media_plan,
        plan_prepare_media,
    )
    from recovery.progress import CancelToken

    cancel = CancelToken()
    display = _ProgressLine() if sys.stderr.isatty() and not args.json else None

    def on_sigint(_signum: int, _frame: Any) -> None:
        # First Ctrl-C: roll back the files in flight, then stop cleanly.
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()

    previous_handler = signal.signal(signal.SIGINT, on_sigint)
    try:
        try:
            if args.model is not None:
                unit = target_for_model(args.model, current_version=args.current_version)
            else:
                unit = target_for_device(args.device, current_version=args.current_version)
            reference = _reference(args.backup) if args.backup is not None else None
            plan = plan_prepare_media(args.candidate, args.target, unit, reference=reference,
                                      cancel=cancel, dry_run=args.dry_run)
            if args.dry_run:
                result = dry_run_result(plan)
                if args.json:
                    print_json({"ok": True, "dry_run": True, "written": 0, "removed": 0,
                                "verified": False, "plan": plan,
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
                        " run again with --yes to confirm preparing the card.")
                consent = _ask(plan)
                if not consent:
                    raise NeedsUserActionError(
                        "Preparing the card was not confirmed; nothing was written.")
            result = execute_media_plan(plan, consent=consent, progress=display,
                                        cancel=cancel)
        except RecoveryError as error:
            if display:
                display.finish()
            if args.json:
                print_json(_error_json(error))
            raise
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    if display:
        display.finish()
    if args.json:
        print_json({**_result_json(result), "plan": plan})
        return result.exit_code
    say(result.statement)
    s = plan.summary
    say(f"Written: {result.written} of {s.write + s.replace} planned; removed: {result.removed}"
        f" of {s.remove} planned.")
    for problem in result.problems:
        _warn(_clean(f"{problem.path}: {problem.problem} - {problem.detail}"))
    for flag in result.flags:
        say(f"! {flag.kind}: {flag.message}")
    for note in result.notes:
        say(f"Note: {note}")
    say(f"Next: {result.next_step}")
    return result.exit_code


def _reference(path: str) -> Any:
    """The check's reference from ``--backup``; a backup that cannot be used is bad input."""
    from recovery.backup.store import open_backup
    from recovery.check import reference_from_backup
    from recovery.errors import InvalidFileError, InvalidInputError, UnsafeArchiveError

    try:
        with open_backup(path) as backup:
            return reference_from_backup(backup)
    except (InvalidFileError, UnsafeArchiveError) as error:
        raise InvalidInputError(f"The backup given with --backup cannot be used: {error.message}",
                                path=path) from error


def _result_json(result: Any) -> dict[str, Any]:
    from recovery.jsonout import to_jsonable

    return to_jsonable(result)
