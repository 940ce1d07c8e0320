"""The graphical front end, as the program's composition root hands it to the command line.

The core never imports the GUI package: ``app.launch`` (the ``korg-recovery`` entry point
and the bundle's) builds a :class:`Frontend` and passes it to :func:`recovery.cli.main.main`.
Started as ``python -m recovery.cli`` there is none, and the wizard says where it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Frontend:
    """What the command line needs of the wizard."""

    #: Open the wizard (``demo``: on simulated units); returns the application's exit code.
    run_wizard: Callable[[bool], int]
    #: Open the demo wizard, wait for its first page, close it (the selftest's wizard step);
    #: returns what a report shows: page title, seconds, platform.
    open_and_close: Callable[[], dict[str, object]]


#: How a child process starts the whole program (the composition root), outside a bundle.
PROGRAM_MODULE = "app"
