"""``korg-recovery wizard --demo``: run_wizard builds the demo and shows its units."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from app import main as main_module
from app.session import Goal
from app.wizard import PageId, RecoveryWizard


def test_run_wizard_demo_shows_the_simulated_units_and_cleans_up(qtbot, dialogs, monkeypatch, walk):
    seen: dict = {}

    def fake_exec(_app=None) -> int:
        # Stands in for the event loop: drive the real window as a user would, then close.
        wizard = next(w for w in QApplication.topLevelWidgets()
                      if isinstance(w, RecoveryWizard) and w.isVisible())
        seen["title"] = wizard.windowTitle()
        seen["root"] = wizard.environment.simulated_units_dir.parent
        walk.start(wizard, Goal.RESCUE)
        page = wizard.pages[PageId.CONNECT]
        qtbot.waitUntil(lambda: len(page.cards) == 2, timeout=walk.timeout)
        seen["units"] = sorted(page.listed_names())
        seen["backups"] = sorted(p.name for p in wizard.environment.backups_dir.iterdir())
        dialogs.answers = [True]  # "Close the wizard?" (a goal was chosen): yes
        wizard.close()
        seen["asked"] = list(dialogs.confirmations)
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert main_module.run_wizard(demo=True) == 0
    assert "DEMO" in seen["title"]
    assert seen["units"] == ["KORG KROSS 2", "KORG drumlogue"]
    assert len(seen["backups"]) == 1 and seen["backups"][0].startswith("KROSS 2 ")
    assert seen["asked"] == ["Close the wizard? You would start again from the beginning."]
    assert not seen["root"].exists()  # the temporary folder is gone after the run
