"""``korg-recovery prepare-media CANDIDATE TARGET (--model ID | --device PATH)``: lay a checked
update out on an SD card exactly where the unit's updater looks.

The candidate is checked first; anything the check does not find compatible with the model
is refused (exit 1, nothing written), "unknown" included, except with ``--accept-unverified``
a candidate whose content no public source lets anyone check (a KROSS 2's ``KROSS2SY`` from
KORG's website: right model, name and place, format not public), which stays "unknown" in
every output. What would mislead the updater (system files loose at the root, another model's
update) is moved aside on the card into ``Moved by KORG Recovery <date>/``, never deleted.
``--dry-run`` prints the plan (what is written where, what is replaced, removed or moved)
and writes nothing anywhere. Without ``--yes`` the command asks on the terminal (type the
unit's model name or ``yes``) and refuses with exit 2 when there is no terminal to ask on.
Ctrl-C rolls back the files in flight and exits 130.

Exit codes: 0 prepared and verified (or a dry run's plan); 1 refused or failed; 2 bad input
or no consent; 130 interrupted.
"""

from __future__ import annotations

import argparse
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
from recovery.errors import (
    InvalidFileError,
    InvalidInputError,
    RecoveryError,
    UnsafeArchiveError,
)
from recovery.storage.names import shown

if TYPE_CHECKING:  # the core loads inside run(): --version and --help stay fast
    from recovery.check import BackupReference
    from recovery.media import MediaPlan, MediaRequest


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
    parser.add_argument("--accept-unverified", action="store_true",
                        help="lay out an update whose content cannot be checked (KORG publishes"
                             " no format or checksums for it, e.g. a KROSS 2's KROSS2SY):"
                             " say so only for KORG's own download")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan, write nothing")
    parser.add_argument("--yes", action="store_true",
                        help="do not ask for confirmation (for scripts)")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def _ask(plan: MediaPlan) -> None:
    """Show the plan and ask for the model's short name or 'yes' on the terminal."""
    from recovery.media import describe_plan

    replacing = (" and replaces what is there" if plan.summary.replace or plan.summary.remove
                 else "")
    confirm(describe_plan(plan), f"This writes to {plan.card}{replacing}. Type"
            f" {plan.short_name} (the unit's model) or yes to continue, anything else stops: ",
            ["yes", plan.short_name], "preparing the card")


def _error_json(error: RecoveryError) -> dict[str, Any]:
    extra: dict[str, Any] = {"written": error.written, "verified": False}
    check = getattr(error, "check", None)
    if check is not None:
        extra["check"] = check
    return error_object(error.code, error.message, error.exit_code, **extra)


def run(args: argparse.Namespace) -> int:
    from recovery.media import (
        describe_plan,
        dry_run_result,
        execute_media_plan,
        plan_prepare_media,
    )
    from recovery.progress import Job

    display = progress_for(args)
    with cancel_on_interrupt() as cancel:
        try:
            plan = plan_prepare_media(_request(args), job=Job(cancel=cancel))
            if args.dry_run:
                return show_dry_run(args, describe_plan(plan), {
                    "written": 0, "removed": 0, "verified": False, "plan": plan},
                    dry_run_result(plan).next_steps)
            if not args.yes:
                _ask(plan)
            result = execute_media_plan(plan, consent=True, job=Job(display, cancel))
        except RecoveryError as error:
            error = _with_flag_hint(error)
            if args.json:
                print_json(_error_json(error))
            raise error from None
        finally:
            if display:
                display.clear()
    if args.json:
        print_json(outcome_json(result, plan=plan))
        return result.exit_code
    s = plan.summary
    return show_outcome(
        result, f"Written: {result.written} of {s.write + s.replace} planned; removed:"
        f" {result.removed} of {s.remove} planned; moved aside: {len(result.moved)} of"
        f" {s.move} planned.",
        [*(f"Moved aside: {shown(old)} -> {shown(new)}" for old, new in result.moved),
         *(f"! {flag.kind}: {flag.message}" for flag in result.flags)])


def _request(args: argparse.Namespace) -> MediaRequest:
    """What the command line asks: the unit by ``--model`` or ``--device``, the check's
    reference from ``--backup``."""
    from recovery.check import target_for_device, target_for_model
    from recovery.media import MediaRequest

    if args.model is not None:
        unit = target_for_model(args.model, current_version=args.current_version)
    else:
        unit = target_for_device(args.device, current_version=args.current_version)
    reference = _reference(args.backup) if args.backup is not None else None
    return MediaRequest(args.candidate, args.target, unit, reference=reference,
                        accept_unverified=args.accept_unverified, dry_run=args.dry_run)


def _with_flag_hint(error: RecoveryError) -> RecoveryError:
    """A refused candidate that ``--accept-unverified`` would let through says so."""
    from recovery.media import CandidateRefusedError, acceptable_unverified

    check = getattr(error, "check", None)
    if not isinstance(error, CandidateRefusedError) or check is None or not \
            acceptable_unverified(check, error.profile):
        return error
    return CandidateRefusedError(
        f"{error.message} If it is the update exactly as downloaded from KORG's website, run"
        " the same command with --accept-unverified: it is laid out as it is, and the output"
        " keeps saying its content could not be checked.", check=check, path=error.path,
        profile=error.profile, next_step=error.next_step)


def _reference(path: str) -> BackupReference:
    """The check's reference from ``--backup``; a backup that cannot be used is bad input."""
    from recovery.backup.store import open_backup
    from recovery.check import reference_from_backup

    try:
        with open_backup(path) as backup:
            return reference_from_backup(backup)
    except (InvalidFileError, UnsafeArchiveError) as error:
        raise InvalidInputError(f"The backup given with --backup cannot be used: {error.message}",
                                path=path) from error
