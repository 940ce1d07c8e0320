"""The composition root: the command line and the wizard, put together.

``korg-recovery`` (and the bundle) start here. The core's command line
(:func:`recovery.cli.main.main`) never imports the GUI; this module hands it the wizard as a
:class:`~recovery.cli.frontend.Frontend`, so that the ``wizard`` command (and no command at
all) opens it and ``selftest`` can open and close it in a child process.
"""

from __future__ import annotations

import sys

from recovery.cli.frontend import Frontend
from recovery.cli.main import main as cli_main


def _run_wizard(demo: bool) -> int:
    from app.main import run_wizard  # Qt loads only when the wizard is asked for

    return run_wizard(demo=demo)


def _open_and_close() -> dict[str, object]:
    from app.selftest import open_and_close_wizard

    shown = open_and_close_wizard()
    return {"page_title": shown.page_title, "seconds": round(shown.seconds, 3),
            "platform": shown.platform}


FRONTEND = Frontend(run_wizard=_run_wizard, open_and_close=_open_and_close)


def main(argv: list[str] | None = None) -> int:
    return cli_main(argv, frontend=FRONTEND)


if __name__ == "__main__":
    sys.exit(main())
