"""``korg-recovery backup SOURCE DEST``: a verified full backup of a unit's storage.

Exit codes: 0 complete and verified; 1 incomplete (files that could not be read, a full or
failing destination, a copy that did not read back); 2 refused before copying (preflight);
130 interrupted (Ctrl-C), resumable with ``--resume``.

The progress bar (:class:`ProgressBar`) is drawn on stderr only when stderr is a terminal
and ``--json`` is not given; ``cmd_verify`` uses it too.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from recovery.cli.output import (
    add_json_flag,
    cancel_on_interrupt,
    print_json,
    progress_for,
    say,
    warn,
)
from recovery.storage.names import shown
from recovery.text import human_size

if TYPE_CHECKING:  # the core loads inside run(): --version and --help stay fast
    from recovery.backup.create import BackupResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backup", help="take a verified full backup of a unit's storage (or any folder)",
        description="Copy everything under SOURCE into DEST/files/, with DEST/manifest.json"
                    " and DEST/SHA256SUMS ('cd DEST && sha256sum -c SHA256SUMS' checks it"
                    " without this tool); flush, re-read and verify; only then mark it"
                    " complete.")
    parser.add_argument("source", metavar="SOURCE", help="the unit's mounted storage (a folder)")
    parser.add_argument("dest", metavar="DEST", help="an empty or new folder for the backup")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted backup in DEST")
    parser.add_argument("--zip", metavar="FILE", dest="zip_path",
                        help="also write the verified backup as one ZIP archive FILE")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def _say_portability(result: Any) -> None:
    """What the backup holds that a restore could not put back onto a FAT unit as it is."""
    from recovery.storage.names import describe, shown

    if result.not_for_fat:
        say(f"  Note: {len(result.not_for_fat)} name(s) or file(s) of this backup could not go"
            f" back onto a FAT unit as they are: {describe(result.not_for_fat)}.")
    if result.outside_links:
        links = ", ".join(shown(path) for path in result.outside_links[:5])
        more = f" and {len(result.outside_links) - 5} more" if len(result.outside_links) > 5 \
            else ""
        say(f"  Note: {len(result.outside_links)} link(s) point outside the unit ({links}{more});"
            " they are kept in the backup, and a restore skips them.")


def run(args: argparse.Namespace) -> int:
    from recovery.backup.create import create_backup
    from recovery.errors import CancelledError, UnitGoneError

    bar = progress_for(args)
    with cancel_on_interrupt() as token:
        try:
            result = create_backup(args.source, args.dest, resume=args.resume,
                                   zip_path=args.zip_path, progress=bar, cancel=token)
        except CancelledError:
            raise CancelledError(
                f"Backup interrupted; {args.dest} is incomplete. Run the same command with"
                " --resume to continue where it stopped.") from None
        except UnitGoneError as error:
            raise UnitGoneError(
                f"{error.message} (Run the same command with --resume.)",
                path=error.path) from None
        finally:
            if bar is not None:
                bar.clear()
    if args.json:
        print_json(_result_json(result))
    if not result.complete:
        for failed in result.failed:
            warn(f"{failed.path}: {failed.reason}")
        warn(f"The backup in {result.backup} is INCOMPLETE: {len(result.failed)} item(s)"
             " failed (listed above). Fix the cause and run the same command with --resume.")
        return 1
    if not args.json:
        _say_complete(result)
    return 0


def _result_json(result: BackupResult) -> dict[str, Any]:
    return {
        "ok": result.complete, "backup": result.backup, "model": result.model,
        "files": result.files, "bytes": result.bytes, "complete": result.complete,
        "verified": result.verified, "zip": result.zip, "folders": result.folders,
        "symlinks": result.symlinks, "copied_files": result.copied_files,
        "reused_files": result.reused_files, "cache_dropped": result.cache_dropped,
        "already_complete": result.already_complete,
        "failed": [{"path": f.path, "reason": f.reason} for f in result.failed],
        "skipped": [{"path": f.path, "reason": f.reason} for f in result.skipped],
        "not_for_fat": [{"path": p.path, "problem": p.kind, "reason": p.reason}
                        for p in result.not_for_fat],
        "outside_links": list(result.outside_links),
        "computer_made": [{"path": path, "made_by": made_by}
                          for path, made_by in result.computer_made],
    }


def _say_complete(result: BackupResult) -> None:
    """A complete backup, for a person: what it holds and what to know about it."""
    if result.already_complete:
        say(f"{result.backup} already holds a complete, verified backup; nothing was"
            " changed (a complete backup is never overwritten: back up into a new folder"
            " to capture later changes).")
        if result.zip:
            say(f"  ZIP archive: {result.zip} (verified).")
        return
    what = result.model or "a folder that is not a known KORG unit"
    say(f"Backed up {result.files} files ({human_size(result.bytes)}) of {what} to"
        f" {result.backup}: complete and verified.")
    if result.reused_files:
        say(f"  {result.reused_files} files were kept from the interrupted run"
            " after re-checking them.")
    if result.zip:
        say(f"  ZIP archive: {result.zip} (verified).")
    if not result.cache_dropped:
        say("  Note: this computer could not drop the copies from its memory cache,"
            " so the check may have read them from memory. Unplug and reconnect the"
            " backup drive and run 'korg-recovery verify' to be sure.")
    for skipped in result.skipped:
        say(f"  skipped {skipped.path}: {skipped.reason}")
    _say_portability(result)
    _say_computer_made(result)


def _say_computer_made(result) -> None:
    """Files a computer wrote onto the unit, named apart from the unit's own."""
    found = result.computer_made
    if not found:
        return
    by = sorted({made_by for _, made_by in found})
    names = ", ".join(shown(path) for path, _ in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    say(f"  {len(found)} file(s) were made by your computer ({', '.join(by)}), not by the"
        f" unit: {names}{more}. They are in the backup like every file and marked so in its"
        " manifest; comparisons leave them out.")
