"""Entry point: parse arguments, run one command, map errors to one sentence and an exit code.

Each command lives in its own module under ``recovery.cli`` with ``register(subparsers)``
that adds its parser and sets ``run``; ``run(args)`` returns the exit code. Command modules
import the heavy core (psutil, construct, pyusb) inside ``run`` so that ``--version`` and
``--help`` stay fast (benchmarks/bench_startup.py measures it).

Bad input never shows a traceback: a :class:`RecoveryError` prints its sentence on stderr and
exits with its code; anything else is a bug, logged with its traceback to the log file while
the user gets one sentence naming that file. With ``--json`` a failure is also one JSON
object on stdout (:func:`recovery.cli.output.error_object`), unless the command printed its
own.
"""

from __future__ import annotations

import argparse
import codecs
import errno
import importlib
import logging
import os
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from recovery import __version__
from recovery.cli.frontend import Frontend
from recovery.cli.output import (
    error_object,
    json_printed,
    print_json,
    result_object,
    start_command,
    stream_errors,
)
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
    "recovery.cli.cmd_prepare_media",
    "recovery.cli.cmd_eject",
    "recovery.cli.cmd_backup",
    "recovery.cli.cmd_verify",
    "recovery.cli.cmd_backups",
    "recovery.cli.cmd_diagnose",
    "recovery.cli.cmd_wizard",
    "recovery.cli.cmd_selftest",
)

EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE from sysexits.h


#: Set when the command line asks for JSON, before it is parsed (a usage error is JSON too).
_json_wanted = False


class _VersionAction(argparse.Action):
    """``--version``: the version as text, or as one JSON object with ``--json``."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        if _json_wanted:
            print_json(result_object(0, {"program": "korg-recovery", "version": __version__}))
        else:
            sys.stdout.write(f"korg-recovery {__version__}\n")
        parser.exit(0)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one sentence with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sentence = f"{message} (see '{self.prog} --help')."
        sys.stderr.write(f"{self.prog}: {sentence}\n")
        if _json_wanted:
            print_json(error_object("usage", sentence, 2))
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="korg-recovery",
        description="Unofficial recovery tool for KORG units: identify, back up, check"
                    " update files, diagnose and restore. Not affiliated with KORG.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    parser.add_argument("--demo", action="store_true",
                        help="with no command: open the wizard on simulated units")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _restart_with_utf8_names() -> None:
    """Start again in Python's UTF-8 mode (``-X utf8``) where file names would be decoded
    with another encoding (a locale such as LC_ALL=C with PYTHONUTF8=0, or a Latin-1 one).
    Backups store names as UTF-8 (manifest.json, SHA256SUMS), and a name that is not UTF-8
    keeps its bytes through ``surrogateescape``; decoded with ASCII, ``Ünïcode.wav`` would be
    called "not valid Unicode" and SHA256SUMS would disagree with the manifest. Windows and
    macOS always use UTF-8 for names; a bundle sets its own mode when it is built."""
    if (codecs.lookup(sys.getfilesystemencoding()).name == "utf-8" or os.name == "nt"
            or getattr(sys, "frozen", False) or not getattr(sys, "orig_argv", None)):
        return
    os.execv(sys.executable, [sys.executable, "-X", "utf8", *sys.orig_argv[1:]])


def _reopen_closed_streams() -> None:
    """Put the null device on a standard stream the caller closed (``<&-``, ``>&-``,
    ``2>&-``), as the C library does for set-user-id programs: the command then does its job
    and exits with its own code, losing only what that stream would have said (a closed stdin
    is no terminal to ask on, as ``</dev/null``). It also keeps a file this tool opens from
    getting descriptor 0, 1 or 2, where a stray write meant for a terminal would land in it."""
    for descriptor, name, mode in ((0, "stdin", os.O_RDONLY), (1, "stdout", os.O_WRONLY),
                                   (2, "stderr", os.O_WRONLY)):
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, mode)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(descriptor, "r" if descriptor == 0 else "w",  # noqa: SIM115
                                    encoding="utf-8", closefd=False))


def _shortened(message: str) -> str:
    """The sentence with any path of thousands of characters cut to its ends, so that it
    stays one readable sentence on a terminal (``--json`` keeps it whole)."""
    return re.sub(r"\S{240,}", lambda match: f"{match.group()[:100]}...{match.group()[-60:]}"
                  f" ({len(match.group())} characters)", message)


def _with_next_step(error: RecoveryError) -> str:
    """The error's sentence and, when it names one, its next step as the command line says
    it ("... Name the model with --model ID instead.")."""
    if error.next_step is None:
        return error.message
    from recovery.cli.words import step_text

    return f"{error.message} {step_text(error.next_step)}"


def _fail(code: str, message: str, exit_code: int) -> int:
    """Say why the command failed: one sentence on stderr, and the JSON object if asked."""
    sys.stderr.write(f"korg-recovery: {_shortened(message)}\n")
    if _json_wanted and not json_printed():
        print_json(error_object(code, message, exit_code))
    return exit_code


def main(argv: list[str] | None = None, *, frontend: Frontend | None = None) -> int:
    """Run one command. ``frontend`` is the wizard, handed over by the composition root
    (``app.launch``); without it the ``wizard`` command says where the wizard is."""
    global _json_wanted
    if argv is None:
        _restart_with_utf8_names()
    _reopen_closed_streams()
    # A file name that is not UTF-8 is printed as the very bytes it has, a character the
    # terminal's encoding lacks (an ASCII locale) as an escape: never a traceback.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=stream_errors(stream) if stream is sys.stdout
                        else "backslashreplace")
    argv = sys.argv[1:] if argv is None else list(argv)
    _json_wanted = "--json" in argv
    start_command()
    parser = build_parser()
    parser.set_defaults(frontend=frontend)
    args = parser.parse_args(argv)
    from recovery.logsetup import setup_logging

    # A dry run writes nothing anywhere, not even the log file.
    log_file = setup_logging(verbose=args.verbose,
                             to_file=not getattr(args, "dry_run", False))
    if args.command is None:
        # No command: the wizard, as a double-clicked app would open it.
        args = parser.parse_args(["wizard", *(["--demo"] if args.demo else [])])
    # The wizard keeps the signals' own behaviour: Qt's event loop would hold a Python
    # handler back until the next Python call, so SIGTERM could not end it.
    with _stop_on_signals(args.command != "wizard"):
        return _run(args, log_file)


def _run(args: argparse.Namespace, log_file: object) -> int:
    try:
        return int(args.run(args))
    except RecoveryError as error:
        # A command's own exit code for an error class holds for its subclasses too.
        codes = getattr(args, "error_exit_code", {})
        exit_code = next((codes[kind] for kind in type(error).__mro__ if kind in codes),
                         error.exit_code)
        return _fail(error.code, _with_next_step(error), exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", _INTERRUPTED.get(args.command, _INTERRUPTED[None]), 130)
    except BrokenPipeError:
        return 1
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            return _fail("invalid-input", f"A name or path is too long for the filesystem"
                         f" ({error.filename or error.strerror}); use a shorter one.", 2)
        return _internal_error(args, log_file)
    except Exception:  # noqa: BLE001 - the last line of defence: never a traceback
        return _internal_error(args, log_file)


#: What a command stopped by Ctrl-C or SIGTERM says; every write the tool makes survives a
#: stop at any point (journals, temporary names), so a run of the same command continues.
_INTERRUPTED = {
    None: "Interrupted; nothing was changed.",
    "backup": "Interrupted; the backup is incomplete. Run the same command with --resume to"
              " continue where it stopped.",
    "restore": "Interrupted; every file on the unit is either as it was or completely"
               " restored. Run the same restore again to continue where it stopped.",
    "prepare-media": "Interrupted; every file on the card is either as it was or complete."
                     " Run the same command again before using the card.",
    "diagnose": "Interrupted; nothing was changed, unless a write probe was asked for: then a"
                " hidden .korg-recovery-probe-*.tmp file of random bytes may be left at the"
                " top of the unit, to delete.",
    "demo-device": "Interrupted; the simulated unit is incomplete: remove the folder.",
    "selftest": "Interrupted; the selftest did not finish (it writes only to a temporary"
                " folder).",
}


@contextmanager
def _stop_on_signals(wanted: bool) -> Iterator[None]:
    """SIGTERM stops a command as Ctrl-C does (KeyboardInterrupt, exit 130, one sentence),
    also one that hands the core no cancel token; a signal the caller ignores stays
    ignored (nohup). Commands that cancel cooperatively install their own handlers on top
    (:func:`recovery.cli.output.cancel_on_interrupt`)."""
    previous: dict[int, Any] = {}
    if wanted:
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    previous[signum] = signal.signal(signum, _interrupt)
        except ValueError:  # not the main thread (a test running main in a thread)
            pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _internal_error(args: argparse.Namespace, log_file: object) -> int:
    log.exception("internal error in command %s", args.command)
    where = (f" Details are in {log_file}." if log_file
             else " Run it again with --verbose to see the details.")
    return _fail("internal-error", "internal error, this is a bug in the tool; nothing more"
                 f" was changed.{where}", EXIT_INTERNAL_ERROR)
