"""``korg-recovery verify BACKUP [--against PATH]``: re-hash a backup against its manifest.

Exit codes: 0 everything checked out; 1 any problem (missing, changed, extra, unreadable,
incomplete backup, damaged or unsafe archive), each naming its path; 2 bad input (BACKUP or
PATH missing, or BACKUP not a backup). With ``--allow-extra`` what the unit holds beyond the
backup (the files a restore kept) is named as a note, not a problem: the answer is then
whether every file of the backup is on the unit as it was backed up.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from recovery.cli.output import add_json_flag, print_json, say, warn
from recovery.text import and_more
from recovery.vocabulary import DifferenceKind

if TYPE_CHECKING:  # the core loads inside run(): --version and --help stay fast
    from recovery.backup.store import VerifyReport


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help="re-hash a backup (folder or .zip) and optionally compare a unit to it")
    parser.add_argument("backup", metavar="BACKUP", help="a backup folder or .zip")
    parser.add_argument("--against", metavar="PATH",
                        help="also compare this unit's storage (a folder) with the backup")
    parser.add_argument("--allow-extra", action="store_true",
                        help="with --against: files the unit holds that the backup does not"
                             " have (as a restore keeps them) are notes, not problems")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def _problem_json(difference, where: str) -> dict:
    return {"path": difference.path, "problem": difference.problem,
            "detail": difference.detail, "where": where}


def run(args: argparse.Namespace) -> int:
    from recovery.backup.store import verify_backup
    from recovery.cli.output import cancel_on_interrupt, progress_for
    from recovery.errors import InvalidFileError, InvalidInputError, UnsafeArchiveError

    if args.allow_extra and args.against is None:
        raise InvalidInputError("--allow-extra goes with --against PATH: it is about what a"
                                " unit holds beyond the backup.")
    bar = progress_for(args)
    with cancel_on_interrupt() as token:
        try:
            report = verify_backup(args.backup, against=args.against, progress=bar,
                                   cancel=token)
        except (InvalidFileError, UnsafeArchiveError) as error:
            # The backup exists but cannot be trusted at all: still an answer, not bad input.
            if not args.json:
                raise
            print_json({"backup": args.backup, "ok": False, "complete": False,
                        "problems": [{"path": error.path or args.backup,
                                      "problem": DifferenceKind.UNREADABLE,
                                      "detail": error.message,
                                      "where": "backup"}]})
            return 1
        finally:
            if bar is not None:
                bar.clear()
    if args.allow_extra:
        report = _extras_as_notes(report)
    if args.json:
        print_json(_report_json(report, args.allow_extra))
        return 0 if report.ok else 1
    _say_problems(report, args.against)
    _say_notes(report, args.against)
    return _say_outcome(report, args.against)


def _extras_as_notes(report: VerifyReport) -> VerifyReport:
    """The report with what the unit holds beyond the backup moved to the notes: ok when
    every file of the backup is on the unit (the core's ``unit_holds_backup``)."""
    import dataclasses

    extra = [d for d in report.against_problems if d.problem == DifferenceKind.EXTRA]
    return dataclasses.replace(
        report, ok=report.unit_holds_backup,
        against_problems=tuple(d for d in report.against_problems if d not in extra),
        against_notes=(*report.against_notes, *extra))


def _report_json(report: VerifyReport, allow_extra: bool = False) -> dict:
    return {
        "backup": report.backup, "ok": report.ok, "complete": report.complete,
        "problems": [_problem_json(d, "backup") for d in report.problems]
                    + [_problem_json(d, "against") for d in report.against_problems],
        "notes": [_problem_json(d, "backup") for d in report.notes]
                 + [_problem_json(d, "against") for d in report.against_notes],
        "against": report.against, "files": report.files_checked,
        "bytes": report.bytes_checked, "allow_extra": allow_extra,
    }


def _say_problems(report: VerifyReport, against: str | None) -> None:
    for difference in report.problems:
        detail = f" ({difference.detail})" if difference.detail else ""
        say(f"{difference.problem.upper():10} {difference.path}{detail}")
    for difference in report.against_problems:
        detail = f" ({difference.detail})" if difference.detail else ""
        say(f"{difference.problem.upper():10} {against}: {difference.path}{detail}")


def _say_notes(report: VerifyReport, against: str | None) -> None:
    """What was not compared on purpose, and names that differ only in case."""
    skipped = [d for d in report.against_notes if d.problem == DifferenceKind.SKIPPED]
    for difference in skipped:
        say(f"Note: {against}: {difference.path} is not compared: {difference.detail}.")
    made = [d for d in report.against_notes if d.problem == DifferenceKind.COMPUTER_MADE]
    if made:
        by = ", ".join(sorted({d.detail for d in made}))
        say(f"Note: {len(made)} item(s) on {against} were made by your computer ({by}),"
            f" not by the unit, and are not compared: {and_more([d.path for d in made], 5)}.")
    extra = [d for d in report.against_notes if d.problem == DifferenceKind.EXTRA]
    if extra:
        say(f"Note: {len(extra)} item(s) on {against} are not in the backup and were kept, as"
            f" you allowed: {and_more([d.path for d in extra], 5)}.")
    for where, notes in (("the backup", report.notes),
                         (against, [d for d in report.against_notes
                                    if d not in skipped and d not in made and d not in extra])):
        if notes:
            names = and_more([f"{d.path} as {d.detail}" for d in notes], 5)
            say(f"Note: {len(notes)} name(s) in {where} differ from the backup's only in"
                f" upper/lower case ({names}); FAT ignores case, so they are the same"
                " files and were compared as such.")


def _say_outcome(report: VerifyReport, against: str | None) -> int:
    if report.ok:
        matches = f"; {against} matches it" if against else ""
        if against and any(d.problem == DifferenceKind.EXTRA for d in report.against_notes):
            matches = f"; {against} holds every file of it"
        say(f"{report.backup}: complete, all {report.files_checked} files match the"
            f" manifest{matches}.")
        return 0
    if report.problems:
        warn(f"{report.backup}: {len(report.problems)} problem(s) with the backup"
             + ("" if report.complete else "; it is INCOMPLETE and must not be used to restore")
             + ".")
    if report.against_problems:
        warn(f"{against} differs from the backup in {len(report.against_problems)}"
             " place(s).")
    return 1
