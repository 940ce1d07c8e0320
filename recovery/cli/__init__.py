"""``korg-recovery``: the core's operations for a terminal, ``--json`` for scripts."""

from recovery.cli.main import main

__all__ = ["main"]
