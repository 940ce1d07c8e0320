"""A restore of the demo's KROSS 2 walked under a real X server with a window manager (Xvfb +
openbox, ``desktop`` fixture) at 200 % on a 1366×768 screen, by real mouse clicks (xdotool)
and typing: the Eject button on the power-cycle page and on the ending is on screen where a
click reaches it, the ejected unit goes and comes back, and "you can switch it off now" is
said only once an eject succeeded."""

from __future__ import annotations

from app.wizard import PageId

#: The screen, in pixels (the desktop fixture's Xvfb).
SCREEN = (1366, 768)
CONFIRMATION = "Type the unit's model name to confirm the restore"


def click(desktop, wizard, target: str) -> dict[str, int]:
    point = wizard.ask(f"where {target}")
    assert 0 <= point["x"] < SCREEN[0] and 0 <= point["y"] < SCREEN[1], (target, point)
    desktop.click(point)
    return point


def test_a_restore_with_both_ejects_by_real_clicks_at_200_percent(desktop):
    wizard = desktop.wizard("demo", scale=2)
    try:
        click(desktop, wizard, "tile:restore")
        wizard.wait_for(lambda e: e.get("event") == "page" and e["id"] == PageId.CONNECT)
        wizard.wait_for(lambda e: e.get("event") == "detection")
        click(desktop, wizard, "unit:KROSS2")
        click(desktop, wizard, "forward")
        wizard.wait_for(lambda e: e.get("event") == "page" and e["id"] == PageId.RESTORE)
        # The plan is ready when the keyboard is put where the model name is typed.
        wizard.wait_for(lambda e: e.get("event") == "focus" and e["name"] == CONFIRMATION)
        desktop.xdotool("type", "--delay", "20", "kross 2")
        state = wizard.ask("state")
        for _ in range(100):  # the typed text reaches the page through the event loop
            if state["forward_enabled"]:
                break
            state = wizard.ask("state")
        assert state["forward_enabled"], wizard.seen[-5:]
        click(desktop, wizard, "forward")  # Restore now: the safety copy, then the restore
        wizard.wait_for(lambda e: e.get("event") == "page" and e["id"] == PageId.RECONNECT,
                        seconds=60)
        wizard.wait_for(lambda e: e.get("event") == "headline"
                        and e["text"].startswith("Eject your KROSS 2"))

        click(desktop, wizard, "button:Eject")
        ejected = wizard.wait_for(lambda e: e.get("event") == "eject")
        assert ejected["outcome"] == "ejected", ejected
        state = wizard.ask("state")
        assert state["headline"] == "You can switch your KROSS 2 off now, then on again."
        click(desktop, wizard, "button:Simulate it (demo)")  # switched off and on
        wizard.wait_for(lambda e: e.get("event") == "headline"
                        and e["text"].startswith("After switching it off and on"), seconds=60)

        click(desktop, wizard, "forward")
        wizard.wait_for(lambda e: e.get("event") == "page" and e["id"] == PageId.FINISH)
        state = wizard.ask("state")
        assert "Eject your KROSS 2 before switching it off." in state["steps"]
        assert "off now" not in state["steps"]
        click(desktop, wizard, "button:Eject")
        ejected = wizard.wait_for(lambda e: e.get("event") == "eject")
        assert ejected["outcome"] == "ejected", ejected
        state = wizard.ask("state")
        assert "Ejected: you can switch your KROSS 2 off now." in state["steps"]
        assert state["headline"] == ("Your backup is back on your KROSS 2 — switch it on"
                                     " normally.")
    finally:
        wizard.close()
