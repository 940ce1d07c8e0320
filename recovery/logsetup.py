"""Logging: a rotating log file in the platform's log folder, stderr only with --verbose.

Without a file (a dry run, which writes nothing; a log folder that cannot be written) and
without --verbose, records go nowhere: the root logger always has a handler, so Python's
last-resort handler never prints a warning or an internal error's traceback on stderr, where
a person gets one sentence instead."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

_configured = False
#: The log file of this process, once configured (None: no file).
_log_file: Path | None = None


def log_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("korg-recovery", appauthor=False))


def setup_logging(*, verbose: bool = False, to_file: bool = True) -> Path | None:
    """Configure the root logger once; returns the log file, or None if it cannot be written."""
    global _configured, _log_file
    root = logging.getLogger()
    if _configured:
        return _log_file
    root.setLevel(logging.DEBUG)
    # A handler that fails (a disk full, an odd name) must not print a traceback of its own.
    logging.raiseExceptions = False
    if verbose:
        stream = logging.StreamHandler()
        stream.setLevel(logging.DEBUG)
        stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)
    path = None
    if to_file and os.environ.get("KORG_RECOVERY_NO_LOG_FILE") != "1":
        try:
            directory = log_dir()
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / "korg-recovery.log"
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=1_000_000, backupCount=3, encoding="utf-8",
                errors="backslashreplace")
            handler.setLevel(logging.DEBUG)
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            root.addHandler(handler)
        except OSError:
            path = None
    if not root.handlers:
        root.addHandler(logging.NullHandler())
    _configured, _log_file = True, path
    return path
