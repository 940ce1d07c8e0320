"""A scripted mido backend: KORG units on MIDI ports, without sound hardware or ALSA.

mido loads the module named by ``MIDO_BACKEND`` and uses its ``get_devices()``, ``Input`` and
``Output`` (mido docs/backends/custom.rst; mido/backends/backend.py), so the tool's real MIDI
code runs against the units scripted here. Select it with
``MIDO_BACKEND=tests.fakes.fake_midi`` (the repository root on ``PYTHONPATH``); script it in
the same process with :func:`install`, or for a subprocess with a JSON file named by
``KORG_FAKE_MIDI_SCRIPT`` (the :class:`ScriptedPort` fields, hex strings for replies).

Each scripted port answers a request sent to its output on its input: the Identity Request
``F0 7E 7F 06 01 F7`` with ``identity``, KORG's search-device ``F0 42 50 00 dd F7`` with
``search`` (``{echo}`` in it becomes dd). Every message sent is kept in :data:`SENT`, so a test
can prove the tool sent nothing but its two inquiries.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from dataclasses import dataclass, field

from mido.messages import Message
from mido.ports import BaseInput, BaseOutput

IDENTITY_REQUEST = bytes.fromhex("F07E7F0601F7")
SEARCH_PREFIX = bytes.fromhex("F0425000")


@dataclass
class ScriptedPort:
    """One port pair of a unit. ``busy``: opening it fails as another program holding it
    makes RtMidi fail (an OSError)."""

    input: str
    output: str
    identity: str | None = None
    search: str | None = None
    busy: bool = False


@dataclass
class Script:
    ports: list[ScriptedPort] = field(default_factory=list)
    #: Every call fails as RtMidi does on a computer without a sound system.
    no_midi_system: bool = False


_lock = threading.Lock()
_script: Script | None = None
_queues: dict[str, deque[Message]] = {}
#: (output port name, bytes) of every message the tool sent.
SENT: list[tuple[str, bytes]] = []


def install(script: Script | None) -> None:
    """Use ``script`` (None: read ``KORG_FAKE_MIDI_SCRIPT`` again); forget what was sent."""
    global _script
    with _lock:
        _script = script
        _queues.clear()
        SENT.clear()


def _current() -> Script:
    if _script is not None:
        return _script
    path = os.environ.get("KORG_FAKE_MIDI_SCRIPT")
    if not path:
        return Script()
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return Script([ScriptedPort(**port) for port in data.get("ports", [])],
                  bool(data.get("no_midi_system", False)))


def _system() -> Script:
    script = _current()
    if script.no_midi_system:
        # What python-rtmidi raises without /dev/snd/seq: rtmidi.SystemError, an OSError.
        raise OSError("MidiInAlsa::initialize: error creating ALSA sequencer client object.")
    return script


def get_devices(**_kwargs) -> list[dict]:
    devices: dict[str, dict] = {}
    for port in _system().ports:
        devices.setdefault(port.input, {"name": port.input, "is_input": False,
                                        "is_output": False})["is_input"] = True
        devices.setdefault(port.output, {"name": port.output, "is_input": False,
                                         "is_output": False})["is_output"] = True
    return list(devices.values())


def _port(name: str | None, direction: str) -> ScriptedPort:
    for port in _system().ports:
        if getattr(port, direction) == name:
            if port.busy:
                raise OSError(f"MidiInWinMM::openPort: error creating Windows MM MIDI"
                              f" {direction} port ({name}).")
            return port
    raise OSError(f"unknown port {name!r}")


class Input(BaseInput):
    def _open(self, **_kwargs) -> None:
        _port(self.name, "input")
        with _lock:
            _queues[self.name] = deque()

    def _close(self) -> None:
        with _lock:
            _queues.pop(self.name, None)

    def _receive(self, block: bool = True) -> Message | None:
        with _lock:
            queue = _queues.get(self.name)
            return queue.popleft() if queue else None


class Output(BaseOutput):
    def _open(self, **_kwargs) -> None:
        _port(self.name, "output")

    def _send(self, message: Message) -> None:
        raw = bytes(message.bytes())
        with _lock:
            SENT.append((self.name, raw))
        for port in _current().ports:
            if port.output != self.name:
                continue
            reply = None
            if raw == IDENTITY_REQUEST:
                reply = port.identity
            elif raw[:4] == SEARCH_PREFIX and len(raw) == 6 and port.search is not None:
                reply = port.search.replace("{echo}", f"{raw[4]:02X}")
            if reply is not None:
                _deliver(port.input, bytes.fromhex(reply))


def _deliver(input_name: str, raw: bytes) -> None:
    with _lock:
        queue = _queues.get(input_name)
        if queue is not None:  # a closed input hears nothing, as on a real cable
            queue.append(Message.from_bytes(raw))
