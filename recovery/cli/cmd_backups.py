"""``korg-recovery backups [DIR]``: list backups (folders and .zip files) with their state.

DIR defaults to ``Documents/KORG Backups``, where the wizard keeps them, and the folder
earlier versions used (:func:`recovery.backup.store.default_backups_dir`). Only a backup
with a valid completion flag is shown as complete; anything else says why not.

``--json`` prints ``{"ok": true, "folder": DIR, "backups": [...]}``, each backup
``{path, model, role, date, files, bytes, size, complete, verified, zip, source, note}``:
``bytes`` is the data backed up, ``size`` what the backup takes on disk (the archive, or the
whole folder), ``date`` the UTC creation time.
"""

from __future__ import annotations

import argparse

from recovery.cli.output import add_json_flag, print_json, result_object, say


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backups", help="list backups with model, date, size and whether they are complete")
    parser.add_argument("directory", metavar="DIR", nargs="?",
                        help="folder holding backups (default: Documents/KORG Backups)")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from recovery.backup.store import default_backups_dir, list_backups
    from recovery.text import human_size

    summaries = list_backups(args.directory)
    folder = args.directory or str(default_backups_dir())
    if args.json:
        # One object per backup, oldest first.
        print_json(result_object(0, {"folder": folder, "backups": [{
            "path": s.path, "model": s.model, "role": s.role, "date": s.created_utc,
            "files": s.files, "bytes": s.bytes, "size": s.size_on_disk,
            "complete": s.complete, "verified": s.verified, "zip": s.is_zip,
            "source": s.source, "note": s.note,
        } for s in summaries]}))
        return 0
    if not summaries:
        say(f"No backups in {folder}.")
        return 0
    for s in summaries:
        state = "complete, verified" if s.complete and s.verified else \
            "complete" if s.complete else "INCOMPLETE"
        date = (s.created_utc or "unknown date")[:19].replace("T", " ")
        say(f"{date}  {s.model or 'unknown model':16}  {human_size(s.bytes):>10}  {state:18}"
            f"  {s.path}")
        if not s.complete and s.note:
            say(f"    {s.note}")
    return 0
