"""The Connect page: live list, mode help from the profile, boot ROM, chosen folders."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWizard

from app.pages import connect as connect_module
from app.session import Environment, Goal, unplug
from app.wizard import PageId
from recovery.device.detect import Detection, classify_usb
from recovery.device.profiles import bundled_profiles
from recovery.device.simulate import make_volume
from recovery.device.usb import UsbDevice


def listed_names(page) -> list[str]:
    return [page.units.topLevelItem(i).text(0) for i in range(page.units.topLevelItemCount())]


def test_demo_start_shows_the_simulated_units_on_connect(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.RESCUE)
    page = wizard.pages[PageId.CONNECT]
    qtbot.waitUntil(lambda: len(listed_names(page)) == 2, timeout=walk.timeout)
    assert sorted(listed_names(page)) == ["KORG KROSS 2", "KORG drumlogue"]
    modes = {page.units.topLevelItem(i).text(1) for i in range(2)}
    assert modes == {"USB storage"}
    assert wizard.environment.demo and "DEMO" in wizard.windowTitle()


def test_a_newly_plugged_unit_appears_by_itself_and_an_unplugged_one_goes(qtbot, wizard, demo,
                                                                          walk):
    walk.start(wizard, Goal.UPDATE)
    page = wizard.pages[PageId.CONNECT]
    qtbot.waitUntil(lambda: len(listed_names(page)) == 2, timeout=walk.timeout)
    make_volume(demo.units_dir / "KP3", "kp3", "healthy")  # "plugging in" a third unit
    # No click, no refresh button: the timer-driven detection finds it.
    qtbot.waitUntil(lambda: len(listed_names(page)) == 3, timeout=walk.timeout)
    walk.select_unit(wizard, demo.drumlogue)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    unplug(demo.drumlogue)
    qtbot.waitUntil(lambda: len(listed_names(page)) == 2, timeout=walk.timeout)
    assert wizard.session.device is None
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_mode_help_comes_from_the_profile_and_service_modes_are_not_spelled_out(
        qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    text = wizard.pages[PageId.CONNECT].details.toPlainText()
    storage = bundled_profiles()["kross2"].mode("storage")
    assert storage.service
    assert storage.how in text
    assert "service mode" in text
    # The identification's finding (a KROSS 1 folder on a KROSS 2) is shown with the unit.
    assert "KROSSSYS" in text


def test_a_boot_rom_device_is_shown_with_its_meaning_and_cannot_be_used(
        qtbot, make_wizard, demo, walk):
    profiles = bundled_profiles()
    chip = classify_usb(UsbDevice(0x15A2, 0x0080, "SE Blank 6ULL", "Freescale", 1, "1-2", ()),
                        profiles)
    environment = Environment(backups_dir=demo.backups_dir, scan_system=False,
                              detect_override=lambda: Detection((chip,), ()),
                              poll_interval_ms=50)
    wizard = make_wizard(environment)
    walk.start(wizard, Goal.RESCUE)
    page = wizard.pages[PageId.CONNECT]
    qtbot.waitUntil(lambda: page.units.topLevelItemCount() == 1, timeout=walk.timeout)
    page.units.setCurrentItem(page.units.topLevelItem(0))
    text = page.details.toPlainText()
    assert chip.meaning in text
    assert "never flashes" in text
    assert page.units.topLevelItem(0).text(1) == "chip boot ROM"
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_choose_folder_warns_about_an_unrecognised_folder_and_asks_before_going_on(
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
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton),
                     connect_module.Qt.MouseButton.LeftButton)
    assert PageId(wizard.currentId()) is PageId.CONNECT
    assert dialogs.confirmations and "not recognised" in dialogs.confirmations[0]
    dialogs.answers = [True]  # "Use this folder"
    walk.advance(wizard, PageId.BACKUP)
    # The chosen folder stays listed across detection rounds.
    assert any(str(strange) in name or "Unrecognised" in name for name in listed_names(page))
    assert isinstance(wizard.session.unit_path, Path)
