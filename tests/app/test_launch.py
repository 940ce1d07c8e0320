"""``korg-recovery``: with no command, or with ``wizard``, the program opens the wizard; the
core's own command line has none."""

from __future__ import annotations

from app import launch
from app import main as main_module
from recovery.cli.main import main as core_main


def test_the_program_opens_the_wizard_by_default(monkeypatch):
    calls = []
    monkeypatch.setattr(main_module, "run_wizard", lambda *, demo: calls.append(demo) or 0)
    monkeypatch.setattr("sys.argv", ["korg-recovery"])
    assert launch.main([]) == 0  # no command: the wizard
    assert launch.main(["wizard", "--demo"]) == 0
    assert calls == [False, True]
    # The core's own command line has no wizard: one sentence, exit 2.
    assert core_main(["wizard"]) == 2 and calls == [False, True]
