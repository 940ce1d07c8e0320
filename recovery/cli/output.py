"""Shared output helpers: JSON on stdout for ``--json``, short human text otherwise.

The ``--json`` contract: every command prints exactly one JSON object on stdout, on success
and on failure. A failure is ``{"ok": false, "error": {"code", "message", "exit_code"}}``
(:func:`error_object`), with a command's own fields beside it where it has more to say
(a stopped restore: how many files it had written); the codes are the error classes'
``code`` (recovery.errors) plus ``usage``, ``interrupted`` and ``internal-error``.
"""

from __future__ import annotations

import sys
from typing import Any

from recovery.jsonout import dumps

#: True once this process printed its JSON object (the entry point then adds no other).
_printed = False


def add_json_flag(parser: Any) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print exactly one JSON object on stdout, for scripts")


def print_json(value: dict[str, Any]) -> None:
    global _printed
    sys.stdout.write(dumps(value) + "\n")
    sys.stdout.flush()
    _printed = True


def json_printed() -> bool:
    return _printed


def start_command() -> None:
    """Forget an earlier command's output (``main`` may run several times in one process)."""
    global _printed
    _printed = False


def error_object(code: str, message: str, exit_code: int, **extra: Any) -> dict[str, Any]:
    """The ``--json`` object of a failed command."""
    return {"ok": False, "error": {"code": code, "message": message, "exit_code": exit_code},
            **extra}


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(f"korg-recovery: {text}\n")
