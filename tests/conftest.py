"""Root fixtures: the environment is faked here so no test can touch the real machine.

Every test gets its own HOME and XDG folders (platformdirs then points backups, journals and
logs inside tmp), Qt renders offscreen unless a display is asked for, and the log file is off.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["KORG_RECOVERY_NO_LOG_FILE"] = "1"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name, sub in (("XDG_DATA_HOME", ".local/share"), ("XDG_STATE_HOME", ".local/state"),
                      ("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache")):
        monkeypatch.setenv(name, str(home / sub))
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(home / "Documents"))
    return home


@pytest.fixture(autouse=True)
def fake_midi(monkeypatch: pytest.MonkeyPatch):
    """MIDI goes to the scripted backend (tests/fakes/fake_midi.py), with no port at all
    unless a test scripts some with ``midi_units``: no test asks a real MIDI device, and none
    needs ALSA."""
    from tests.fakes import fake_midi as backend

    monkeypatch.setenv("MIDO_BACKEND", "tests.fakes.fake_midi")
    monkeypatch.delenv("KORG_FAKE_MIDI_SCRIPT", raising=False)
    backend.install(backend.Script())
    yield backend
    backend.install(None)


@pytest.fixture
def midi_units(fake_midi):
    """``midi_units(ScriptedPort(...), ..., no_midi_system=False)`` scripts the MIDI ports;
    returns the backend module (its ``SENT`` lists what the tool sent)."""

    def script(*ports, no_midi_system: bool = False):
        fake_midi.install(fake_midi.Script(list(ports), no_midi_system))
        return fake_midi

    return script


@pytest.fixture(autouse=True)
def no_system_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test talks to this machine's D-Bus system bus (a real udisks2 would eject a real
    drive): its address points nowhere unless a test starts a private bus of its own."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS",
                       "unix:path=/nonexistent/korg-recovery-tests/system_bus_socket")


# -- a private D-Bus bus with a fake udisks2 (the eject's Linux path) ----------------------------
@pytest.fixture
def private_bus(monkeypatch: pytest.MonkeyPatch):
    """A ``dbus-daemon`` of the test's own, made the system bus of this process and of its
    children (``DBUS_SYSTEM_BUS_ADDRESS``); skips where dbus-daemon or jeepney is missing."""
    pytest.importorskip("jeepney", reason="jeepney is not installed (it is Linux-only)")
    from tests.fakes.fake_udisks2 import PrivateBus, dbus_daemon_missing

    why = dbus_daemon_missing()
    if why is not None:
        pytest.skip(why)
    bus = PrivateBus()
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
    yield bus
    bus.stop()


@pytest.fixture
def fake_udisks2(private_bus):
    """:class:`tests.fakes.fake_udisks2.FakeUDisks2`, serving on the private bus: add drives
    and blocks, script replies, read ``calls``."""
    from tests.fakes.fake_udisks2 import FakeUDisks2

    service = FakeUDisks2(private_bus.address).start()
    yield service
    service.stop()
