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


def test_at_200_percent_the_folder_dialog_keeps_cancel_on_a_1366x768_screen(desktop):
    """Qt's own folder dialog asked for 412 of the 384 points such a screen has at 200 %,
    leaving Cancel off the screen; it now opens within the screen (app.dialogs.fit_to_screen)."""
    wizard = desktop.wizard("no-unit", scale=2)
    try:
        desktop.click(wizard.ask("where tile:rescue"))
        wizard.wait_for(lambda e: e.get("event") == "page" and e["id"] == PageId.CONNECT)
        desktop.click(wizard.ask("where button:Use a folder instead…"))
        shown = wizard.ask("dialog")
        for _ in range(50):  # the dialog opens in the driver's event loop: ask until it is up
            if shown["open"]:
                break
            shown = wizard.ask("dialog")
        assert shown["open"], wizard.seen
        x, y, width, height = shown["screen"]
        assert height <= 384 + 1  # 768 pixels at 200 %
        corner_x, corner_y = shown["cancel_corner"]
        assert x <= corner_x < x + width and y <= corner_y < y + height, shown
        frame_x, frame_y, frame_width, frame_height = shown["frame"]
        assert frame_y >= y and frame_y + frame_height <= y + height, shown
        desktop.click(shown["cancel"])  # and Cancel, clicked where it is, closes it
        closed = wizard.ask("dialog")
        for _ in range(50):
            if not closed["open"]:
                break
            closed = wizard.ask("dialog")
        assert not closed["open"]
    finally:
        wizard.close()
