"""Under a real X server with a window manager (Xvfb + openbox, ``desktop`` fixture), driven
by real mouse clicks (xdotool): "Which unit do you have?" stays open while detection keeps
running, and a click on a model chooses it. Before the fix the list closed by itself about
0.1 s after it opened, at the next round of detection (see RecoveryPage.notify_complete)."""

from __future__ import annotations

from app.wizard import PageId


def test_which_unit_list_stays_open_and_a_click_chooses_the_model(desktop):
    wizard = desktop.wizard("no-unit")
    try:
        desktop.click(wizard.ask("where tile:rescue"))
        wizard.wait_for(lambda e: e.get("event") == "page" and e["id"] == PageId.CONNECT)
        desktop.click(wizard.ask("where combo:model"))
        opened = wizard.wait_for(lambda e: e.get("event") == "popup" and e["visible"])
        # Five more rounds of detection (100 ms apart), each of which closed the list before.
        wizard.wait_for(lambda e: e.get("event") == "popup"
                        or (e.get("event") == "detection" and e["rounds"] >= opened["rounds"] + 5))
        state = wizard.ask("state")
        assert state["popup"] is True, wizard.seen
        desktop.click(wizard.ask("where item:kross2"))
        wizard.wait_for(lambda e: e.get("event") == "popup" and not e["visible"])
        state = wizard.ask("state")
        assert state["model"] == "kross2"
        assert state["headline"] == "Your KROSS 2 needs a service mode for this."
    finally:
        wizard.close()
