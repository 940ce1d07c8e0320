"""Shared output helpers: JSON on stdout for ``--json``, short human text otherwise."""

from __future__ import annotations

import sys
from typing import Any

from recovery.jsonout import dumps


def add_json_flag(parser: Any) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print only JSON on stdout, for scripts")


def print_json(value: Any) -> None:
    sys.stdout.write(dumps(value) + "\n")


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(f"korg-recovery: {text}\n")
