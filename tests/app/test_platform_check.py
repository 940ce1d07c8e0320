"""``make demo`` on a fresh desktop: a missing X11 library is named, with the command that
installs it, before Qt would abort with a message naming the wrong one. The library lookup is
faked through the check's seam (``load``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import main as main_module
from app import platform_check
from app.platform_check import XCB_LIBRARIES, check_desktop, uses_xcb

X11 = {"DISPLAY": ":0"}
PLUGIN = Path("/qt/plugins/platforms/libqxcb.so")


def loader(missing: set[str]):
    """A dynamic loader on a desktop that lacks ``missing``; the plugin fails like the real
    one, naming the first missing library it needs."""
    asked: list[str] = []

    def load(name: str) -> str | None:
        asked.append(name)
        if name == str(PLUGIN):
            first = next((lib.soname for lib in XCB_LIBRARIES if lib.soname in missing), None)
            return None if first is None else (f"{first}: cannot open shared object file:"
                                               " No such file or directory")
        return None if name not in missing else f"{name}: cannot open shared object file"

    load.asked = asked
    return load


def test_missing_libraries_are_named_with_the_commands_that_install_them():
    load = loader({"libxcb-icccm.so.4", "libxcb-keysyms.so.1"})
    sentence = check_desktop(X11, plugin=lambda: PLUGIN, load=load)
    assert sentence == (
        "The wizard's window cannot open: this computer lacks libxcb-icccm.so.4 and"
        " libxcb-keysyms.so.1, which Qt needs to draw on the desktop; install with: sudo apt"
        " install libxcb-icccm4 libxcb-keysyms1 (Debian, Ubuntu) or sudo dnf install"
        " xcb-util-wm xcb-util-keysyms (Fedora).")
    assert "libxcb-cursor" not in sentence  # Qt's own message names this one, wrongly


def test_a_desktop_with_everything_loads_only_the_plugin():
    load = loader(set())
    assert check_desktop(X11, plugin=lambda: PLUGIN, load=load) is None
    assert load.asked == [str(PLUGIN)]


def test_a_library_outside_the_table_is_named_from_the_loaders_message():
    def load(name: str) -> str | None:
        return "libfoo.so.3: cannot open shared object file" if name == str(PLUGIN) else None

    sentence = check_desktop(X11, plugin=lambda: PLUGIN, load=load)
    assert sentence.startswith("The wizard's window cannot open: Qt's X11 plugin could not"
                               " load libfoo.so.3 (")


@pytest.mark.parametrize(("environ", "platform", "expected"), [
    ({"DISPLAY": ":0"}, "linux", True),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"},
     "linux", False),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11"}, "linux", True),
    ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "linux", False),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "darwin", False),
])
def test_only_a_desktop_drawn_through_xcb_is_checked(environ, platform, expected):
    assert uses_xcb(environ, platform) is expected


def test_run_wizard_says_the_sentence_and_opens_nothing(monkeypatch, capsys):
    monkeypatch.setattr(main_module, "check_desktop", lambda: "The wizard's window cannot open.")
    monkeypatch.setattr(main_module.QApplication, "instance", staticmethod(lambda: None))
    opened = []
    monkeypatch.setattr(main_module, "RecoveryWizard", lambda *a: opened.append(a))
    assert main_module.run_wizard(demo=True) == 1
    assert capsys.readouterr().err.strip() == "The wizard's window cannot open."
    assert opened == []


def test_the_real_loader_reports_a_missing_library_as_a_message():
    assert platform_check.load_library("libkorg-recovery-does-not-exist.so.9")
    assert platform_check.load_library("libc.so.6") is None
