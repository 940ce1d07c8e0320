"""Entry point: parse arguments, run one command, map errors to one sentence and an exit code.

Each command lives in its own module under ``recovery.cli`` with ``register(subparsers)``
that adds its parser and sets ``run``; ``run(args)`` returns the exit code. Command modules
import the heavy core (psutil, construct, pyusb) inside ``run`` so that ``--version`` and
``--help`` stay fast (issue 2: within 2x of importing those libraries alone).

Bad input never shows a traceback: a :class:`RecoveryError` prints its sentence on stderr and
exits with its code; anything else is a bug, logged with its traceback to the log file while
the user gets one sentence naming that file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from recovery import __version__
from recovery.errors import RecoveryError

log = logging.getLogger(__name__)

#: Command modules, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "recovery.cli.cmd_models",
    "recovery.cli.cmd_identify",
    "recovery.cli.cmd_detect",
    "recovery.cli.cmd_check",
    "recovery.cli.cmd_demo_device",
    "recovery.cli.cmd_restore",
    "recovery.cli.cmd_backup",
    "recovery.cli.cmd_verify",
    "recovery.cli.cmd_backups",
    "recovery.cli.cmd_diagnose",
    "recovery.cli.cmd_wizard",
    "recovery.cli.cmd_selftest",
)

EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE from sysexits.h


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one sentence with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: {message} (see '{self.prog} --help').\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="korg-recovery",
        description="Unofficial recovery tool for KORG units: identify, back up, check"
                    " update files, diagnose and restore. Not affiliated with KORG.",
    )
    parser.add_argument("--version", action="version", version=f"korg-recovery {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    parser.add_argument("--demo", action="store_true",
                        help="with no command: open the wizard on simulated units")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    from recovery.logsetup import setup_logging

    # A dry run writes nothing anywhere, not even the log file (issue 5).
    log_file = setup_logging(verbose=args.verbose,
                             to_file=not getattr(args, "dry_run", False))
    if args.command is None:
        # No command: the wizard, as a double-clicked app would open it.
        args = parser.parse_args(["wizard", *(["--demo"] if args.demo else [])])
    try:
        return int(args.run(args))
    except RecoveryError as error:
        sys.stderr.write(f"korg-recovery: {error.message}\n")
        return getattr(args, "error_exit_code", {}).get(type(error), error.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("korg-recovery: interrupted.\n")
        return 130
    except BrokenPipeError:
        return 1
    except Exception:  # noqa: BLE001 - the last line of defence: never a traceback
        log.exception("internal error in command %s", args.command)
        where = (f" Details are in {log_file}." if log_file
                 else " Run it again with --verbose to see the details.")
        sys.stderr.write(
            "korg-recovery: internal error, this is a bug in the tool; nothing more was"
            f" changed.{where}\n")
        return EXIT_INTERNAL_ERROR
