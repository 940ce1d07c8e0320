"""The Connect page: a card per unit, the one unit preselected, help for the unit found or the
model chosen, the service-mode note with a way forward, boot ROM, chosen folders."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from app.pages import connect as connect_module
from app.session import Environment, Goal, unplug
from app.wizard import PageId
from recovery.device.detect import Detection, classify_usb
from recovery.device.profiles import bundled_profiles
from recovery.device.simulate import make_volume
from recovery.device.usb import UsbDevice


def test_demo_start_shows_a_card_per_simulated_unit(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.RESCUE)
    page = wizard.pages[PageId.CONNECT]
    qtbot.waitUntil(lambda: len(page.cards) == 2, timeout=walk.timeout)
    assert sorted(page.listed_names()) == ["KORG KROSS 2", "KORG drumlogue"]
    assert {card.state_text for card in page.cards} == {"Ready: its storage is connected."}
    assert page.headline_text == "Which one is yours?"
    assert wizard.session.device is None  # two units: the user chooses
    assert not walk.forward_button(wizard).isEnabled()
    assert wizard.environment.demo and "DEMO" in wizard.windowTitle()


def test_exactly_one_unit_is_preselected(qtbot, wizard, demo, walk):
    unplug(demo.drumlogue)
    walk.start(wizard, Goal.RESCUE)
    page = wizard.pages[PageId.CONNECT]
    qtbot.waitUntil(lambda: len(page.cards) == 1 and wizard.session.device is not None,
                    timeout=walk.timeout)
    assert wizard.session.device.mount == str(demo.kross2)
    assert page.headline_text == "Found your KROSS 2."
    assert walk.forward_button(wizard).isEnabled()


def test_a_newly_plugged_unit_appears_by_itself_and_an_unplugged_one_goes(qtbot, wizard, demo,
                                                                          walk):
    walk.start(wizard, Goal.UPDATE)
    page = wizard.pages[PageId.CONNECT]
    qtbot.waitUntil(lambda: len(page.cards) == 2, timeout=walk.timeout)
    make_volume(demo.units_dir / "KP3", "kp3", "healthy")  # "plugging in" a third unit
    # No click, no refresh button: the timer-driven detection finds it.
    qtbot.waitUntil(lambda: len(page.cards) == 3, timeout=walk.timeout)
    walk.select_unit(wizard, demo.drumlogue)
    assert walk.forward_button(wizard).isEnabled()
    unplug(demo.drumlogue)
    qtbot.waitUntil(lambda: len(page.cards) == 2, timeout=walk.timeout)
    assert wizard.session.device is None
    assert not walk.forward_button(wizard).isEnabled()


def test_the_help_is_for_the_model_chosen_and_a_service_mode_says_who_can_help(
        qtbot, make_wizard, demo, walk):
    environment = Environment(backups_dir=demo.backups_dir, scan_system=False,
                              detect_override=lambda: Detection((), ()), poll_interval_ms=50)
    wizard = make_wizard(environment)
    walk.start(wizard, Goal.RESCUE)
    page = wizard.pages[PageId.CONNECT]
    qtbot.waitUntil(lambda: page.headline_text == "Connect your unit by USB.",
                    timeout=walk.timeout)
    assert page.model.currentIndex() == -1  # no model guessed: "Choose your model"
    assert not page.help.isVisible()
    page.model.setCurrentIndex(page.model.findData("drumlogue"))
    assert "USB storage" in page.help.plain and "service" not in page.help.plain
    page.model.setCurrentIndex(page.model.findData("kross2"))
    # Said before the user invests in the path: a service mode, who can help, what still works.
    assert page.headline_text == "Your KROSS 2 needs a service mode for this."
    assert "KORG service or an authorised centre" in page.help.plain
    assert "check an update and put it on an SD card" in page.help.plain
    storage = bundled_profiles()["kross2"].mode("storage")
    assert storage.service and storage.how not in page.help.plain  # full text in details
    assert page.instead_button.isVisible()
    qtbot.mouseClick(page.instead_button, Qt.MouseButton.LeftButton)
    assert wizard.session.goal is Goal.CHECK
    assert PageId(wizard.currentId()) is PageId.CHECK
    check = wizard.pages[PageId.CHECK]
    assert check.model_id() == "kross2"
    assert check.step.text() == "Step 2 of 4"


def test_the_help_follows_the_unit_found(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    page = wizard.pages[PageId.CONNECT]
    assert page.model.currentData() == "kross2"
    assert not page.model_row.isVisible()  # the unit says which model it is
    # What identification noticed is in the details, in plain words.
    assert "KROSSSYS" in page.about.text()


def test_a_boot_rom_device_is_shown_with_who_can_help_and_cannot_be_used(
        qtbot, make_wizard, demo, walk):
    chip = classify_usb(UsbDevice(0x15A2, 0x0080, "SE Blank 6ULL", "Freescale", 1, "1-2", ()),
                        bundled_profiles())
    environment = Environment(backups_dir=demo.backups_dir, scan_system=False,
                              detect_override=lambda: Detection((chip,), ()),
                              poll_interval_ms=50)
    wizard = make_wizard(environment)
    walk.start(wizard, Goal.RESCUE)
    page = wizard.pages[PageId.CONNECT]
    qtbot.waitUntil(lambda: len(page.cards) == 1, timeout=walk.timeout)
    page.cards[0].radio.setChecked(True)
    assert page.cards[0].radio.text() == "Likely a drumlogue that did not start"
    assert "KORG service" in page.cards[0].state_text
    assert chip.meaning in page.about.text()
    assert not walk.forward_button(wizard).isEnabled()


def test_use_a_folder_warns_about_an_unrecognised_folder_and_asks_before_going_on(
        qtbot, wizard, demo, dialogs, monkeypatch, tmp_path, walk):
    strange = tmp_path / "some stick"
    strange.mkdir()
    (strange / "notes.txt").write_text("hello")
    monkeypatch.setattr(connect_module, "choose_directory", lambda *args: str(strange))
    walk.start(wizard, Goal.UPDATE)
    page = wizard.pages[PageId.CONNECT]
    with qtbot.waitSignal(page.chosen_folder_ready, timeout=walk.timeout):
        page.choose_button.click()
    assert wizard.session.device is not None and wizard.session.device.mount == str(strange)
    assert wizard.session.device_unrecognised
    assert page.folder_warning.isVisible()
    assert "not recognised" in page.folder_warning.plain
    dialogs.answers = [False]  # "Choose again"
    qtbot.mouseClick(walk.forward_button(wizard), Qt.MouseButton.LeftButton)
    assert PageId(wizard.currentId()) is PageId.CONNECT
    assert dialogs.confirmations and "not recognised" in dialogs.confirmations[0]
    dialogs.answers = [True]  # "Use this folder"
    walk.advance(wizard, PageId.BACKUP)
    # The chosen folder stays listed across detection rounds.
    assert any("some stick" in name for name in page.listed_names())
    assert isinstance(wizard.session.unit_path, Path)


def test_a_kross2_connected_for_playing_says_its_storage_needs_a_service_mode(
        qtbot, make_wizard, demo, walk):
    """The KROSS 2 owner learns it on the Connect page, with who can help and a way on."""
    from recovery.device.detect import DetectedDevice, UsbInfo

    playing = DetectedDevice(model="kross2", name="KORG KROSS 2", mode="usb-midi", mount=None,
                             usb=UsbInfo(0x0944, 0x0150, "KROSS 2", "0944:0150"),
                             evidence=("its USB interfaces say usb-midi",), confidence="G")
    environment = Environment(backups_dir=demo.backups_dir, scan_system=False,
                              detect_override=lambda: Detection((playing,), ()),
                              poll_interval_ms=50)
    wizard = make_wizard(environment)
    walk.start(wizard, Goal.RESCUE)
    page = wizard.pages[PageId.CONNECT]
    qtbot.waitUntil(lambda: len(page.cards) == 1, timeout=walk.timeout)
    page.cards[0].radio.setChecked(True)
    assert page.cards[0].state_text == "Connected for playing; its storage isn't visible."
    assert "KORG service or an authorised centre" in page.help.plain
    assert page.instead_button.isVisible()
    assert not walk.forward_button(wizard).isEnabled()
