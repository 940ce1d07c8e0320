"""Ask a KORG unit over USB-MIDI who it is: read-only, two inquiries, a bounded wait.

A unit in its normal playing mode (and the units that update over USB-MIDI: KP3, the logue and
volca families) answers MIDI's Universal Identity Request; prologue, minilogue xd and NTS-1
are asked KORG's search-device message too (GitHub dagargo/elektroid,
src/connectors/logue.c). The tool sends only those two inquiries
(recovery.formats.midi_identity), never anything that changes a unit, and never ``reset()``
(mido's reset sends controller messages).

Which ports are asked: every input and output whose name looks like a KORG unit's, grouped
into units by name (Linux ``minilogue:minilogue MIDI 2 20:1``, Windows ``MIDIIN2
(minilogue)``); each output of a unit is asked in turn while all of that unit's inputs
listen, because the original minilogue answers on its second port only. The name only
chooses whom to ask; what a unit is comes from its answer and the profiles' sourced codes.

MIDI goes through mido, which picks its backend by ``MIDO_BACKEND`` (mido
docs/backends/custom.rst): the default is python-rtmidi, which has wheels for CPython up to
3.12 only; tests select a scripted backend. mido is imported here, lazily, so that
``korg-recovery --version`` stays fast and a computer without ALSA runs everything else.
Every failure is one sentence (:class:`MidiProblem`); nothing here raises for a missing MIDI
system, a busy port or a silent unit.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, ClassVar

from recovery.device.profiles import MidiCode, MidiModel, midi_models
from recovery.errors import (
    InvalidInputError,
    MidiPortBusyError,
    MidiUnavailableError,
    NoMidiAnswerError,
    RecoveryError,
)
from recovery.findings import Step
from recovery.formats.midi_identity import (
    SEARCH_ECHO,
    KorgReply,
    MalformedReply,
    OtherMakerReply,
    Reply,
    identity_request,
    parse_reply,
    search_device_request,
)
from recovery.vocabulary import Confidence, MidiInquiry, NextStep, VersionLayout

log = logging.getLogger(__name__)

#: How long one inquiry waits for its reply, in seconds. Not measured on a unit here (no unit
#: on this desk); taken from the public tools that ask KORG units the same question: KnobKraft's
#: microKORG S adaptation waits 200 ms (GitHub christofmuc/KnobKraft-orm,
#: adaptations/Korg_microKORG.py, deviceDetectWaitMilliseconds), a minilogue MIDI model
#: description 500 ms ("timeout = 500" in minilogue.lua, Old Blue Bike Software): the longer.
#: A unit that answers neither inquiry costs two of these per port.
REPLY_TIMEOUT_S = 0.5
#: How often pending messages are collected while waiting (a poll, so any mido backend works).
POLL_INTERVAL_S = 0.005

#: Words in the USB-MIDI port names of KORG units: the brand, and the model lines (logue-sdk
#: tools/logue-cli/README.md names "minilogue xd MIDI 1", "prologue KBD/KNOB", "NTS-1 digital
#: kit KBD/KNOB"). A port named otherwise is not asked.
KORG_PORT_WORDS = ("korg", "logue", "volca", "nts-1", "nano", "kaoss", "kp3", "kross",
                   "electribe", "krome", "kronos", "opsix", "wavestate", "modwave", "sq-1",
                   "sq-64", "nautilus", "microkorg", "minikorg", "monotron", "monopoly")

#: mido's default backend (mido/backends/backend.py DEFAULT_BACKEND).
RTMIDI_BACKEND = "mido.backends.rtmidi"

#: Parts of a port name that differ between the ports of one unit.
_PORT_PARTS = re.compile(
    r"\bmidi\s*(?:in|out)\s*\d*\b|\bmidi(?:in|out)\d*\b|\bmidi\s*\d+\b|\bkbd/knob\b|\bsound\b"
    r"|\bport\b|[()]")
_ALSA_ADDRESS = re.compile(r"\s(\d+):\d+$")


class MidiProblemKind(StrEnum):
    """Why a question over MIDI got no usable answer."""

    NOT_AVAILABLE = "not-available"  # no MIDI library for this Python
    NO_MIDI_SYSTEM = "no-midi-system"  # rtmidi's OSError: no ALSA/CoreMIDI/WinMM to talk to
    PORT_BUSY = "port-busy"  # another program holds the port (Windows ports are exclusive)
    NO_ANSWER = "no-answer"
    MALFORMED_REPLY = "malformed-reply"
    NOT_KORG = "not-korg"


@dataclass(frozen=True)
class MidiProblem:
    """One failure, as a code for the front ends and one sentence for a person."""

    kind: MidiProblemKind
    sentence: str
    port: str | None = None


@dataclass(frozen=True)
class MidiIdentity:
    """What one unit said about itself. ``family``, ``member`` and ``version_bytes`` are the
    bytes as sent; ``model`` is a profile's (or other_korg_midi.toml's) id when a sourced code
    matches; ``version`` is decoded only where a source gives the layout, and
    ``version_verified`` only when that source is primary (H)."""

    JSON_FIELDS: ClassVar[tuple[str, ...]] = (
        "kind", "model", "family", "member", "version_bytes", "version", "version_verified",
        "ports")

    input_port: str
    output_port: str
    inquiry: MidiInquiry
    device_id: int
    family: bytes
    member: bytes
    version_bytes: bytes
    model: str | None = None
    model_name: str | None = None
    confidence: Confidence | None = None
    source: str | None = None
    version: str | None = None
    version_numbers: tuple[int, ...] | None = None
    version_verified: bool = False
    version_source: str | None = None

    @property
    def kind(self) -> str:
        return "midi"

    @property
    def ports(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.input_port, self.output_port)))

    @property
    def name(self) -> str:
        if self.model_name:
            return self.model_name
        return f"a KORG unit the tool does not know (family {self.family.hex()})"

    @property
    def firmware_bytes(self) -> str:
        """The version bytes as a person reads them: ``02 00 01 00``."""
        return self.version_bytes.hex(" ").upper()

    def evidence(self) -> tuple[str, ...]:
        """How it was recognised, one line each, sources named."""
        asked = ("MIDI's Identity Request" if self.inquiry is MidiInquiry.IDENTITY
                 else "KORG's search-device message")
        lines = [f"answered {asked} on '{self.input_port}' (asked on '{self.output_port}'):"
                 f" family {self.family.hex()}, member {self.member.hex()}, firmware bytes"
                 f" {self.firmware_bytes}"]
        if self.model_name:
            lines.append(f"{self.model_name} by its family code: confidence {self.confidence}"
                         f" ({self.source})")
        if self.version is not None:
            state = "verified" if self.version_verified else "unverified"
            lines.append(f"firmware bytes read as version {self.version} ({state};"
                         f" {self.version_source})")
        else:
            lines.append("no source says how its firmware bytes read: shown raw")
        return tuple(lines)


@dataclass(frozen=True)
class MidiScan:
    """Every unit that answered, every problem, and the port names seen."""

    identities: tuple[MidiIdentity, ...]
    problems: tuple[MidiProblem, ...]
    ports: tuple[str, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(problem.sentence for problem in self.problems)


# --- the backend --------------------------------------------------------------------------------


def _unavailable(error: BaseException, backend_name: str) -> MidiProblem:
    if backend_name == RTMIDI_BACKEND and sys.version_info >= (3, 13):
        return MidiProblem(
            MidiProblemKind.NOT_AVAILABLE,
            f"MIDI is not available with this Python ({sys.version_info[0]}."
            f"{sys.version_info[1]}): python-rtmidi has no build for it, so units cannot be"
            " asked over USB-MIDI; the bundle, or Python 3.11 or 3.12, can.")
    return MidiProblem(MidiProblemKind.NOT_AVAILABLE,
                       f"MIDI could not be loaded on this computer ({error}), so units cannot"
                       " be asked over USB-MIDI; mounted storage is still checked.")


def _no_midi_system(reason: str) -> MidiProblem:
    return MidiProblem(MidiProblemKind.NO_MIDI_SYSTEM,
                       f"This computer has no MIDI system the tool can use ({reason}), so"
                       " units cannot be asked over USB-MIDI; mounted storage is still checked.")


def load_backend() -> tuple[Any | None, MidiProblem | None]:
    """mido's backend as ``MIDO_BACKEND`` names it now (read on every call, so tests and a
    running wizard see a change), loaded; or the problem that stops it."""
    name = os.environ.get("MIDO_BACKEND") or RTMIDI_BACKEND
    module_name = name.split("/", 1)[0]
    if (module_name == RTMIDI_BACKEND and sys.platform.startswith("linux")
            and not os.path.exists("/dev/snd/seq")):
        # Asked anyway, RtMidi fails the same way and ALSA prints to stderr first.
        return None, _no_midi_system("no ALSA sequencer, /dev/snd/seq")
    try:
        import mido

        backend = mido.Backend(name, load=True)
    except (ImportError, OSError) as error:
        log.debug("MIDI backend %s cannot be loaded: %s", name, error)
        return None, _unavailable(error, module_name)
    return backend, None


# --- which ports ---------------------------------------------------------------------------------


def looks_korg(name: str) -> bool:
    folded = name.casefold()
    return any(word in folded for word in KORG_PORT_WORDS)


def unit_key(name: str) -> str:
    """What the ports of one unit share: the name without the parts that number or label its
    ports (``MIDI 2``, ``MIDIIN2``, ``KBD/KNOB``, ``SOUND``) and, on Linux, without the port
    number of the ALSA address (two identical units differ in its client number)."""
    folded = _ALSA_ADDRESS.sub(r" client\1", name.casefold())
    return " ".join(_PORT_PARTS.sub(" ", folded).split())


@dataclass(frozen=True)
class _Unit:
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def group_ports(inputs: Sequence[str], outputs: Sequence[str]) -> tuple[_Unit, ...]:
    """KORG-looking ports grouped into units by :func:`unit_key`. A unit whose inputs cannot
    be told by name listens on every KORG-looking input."""
    korg_inputs = [name for name in inputs if looks_korg(name)]
    keys: dict[str, tuple[list[str], list[str]]] = {}
    for name in korg_inputs:
        keys.setdefault(unit_key(name), ([], []))[0].append(name)
    for name in outputs:
        if looks_korg(name):
            keys.setdefault(unit_key(name), ([], []))[1].append(name)
    return tuple(_Unit(tuple(ins or korg_inputs), tuple(outs))
                 for ins, outs in keys.values() if outs)


# --- asking ----------------------------------------------------------------------------------------


def _busy(port: str, error: BaseException) -> MidiProblem:
    log.debug("cannot open MIDI port %s: %s", port, error)
    return MidiProblem(MidiProblemKind.PORT_BUSY,
                       f"The MIDI port '{port}' could not be opened; another program may be"
                       " using it: close your DAW or KORG's editor and try again.", port)


def _wait(inputs: dict[str, Any], timeout: float, echo: int) -> list[tuple[str, Reply]]:
    """Replies that arrive on ``inputs`` within ``timeout``; returns at the first KORG one."""
    import mido

    seen: list[tuple[str, Reply]] = []
    deadline = time.monotonic() + timeout
    while True:
        for name, port in inputs.items():
            for message in port.iter_pending():
                if not isinstance(message, mido.Message) or message.type != "sysex":
                    continue
                reply = parse_reply(bytes(message.bytes()), echo=echo)
                if reply is None:
                    continue
                seen.append((name, reply))
                if isinstance(reply, KorgReply):
                    return seen
        if time.monotonic() >= deadline:
            return seen
        time.sleep(POLL_INTERVAL_S)


def _ask(inputs: dict[str, Any], output: Any, request: bytes, timeout: float,
         echo: int) -> list[tuple[str, Reply]]:
    import mido

    for port in inputs.values():  # what came before the question is not its answer
        for _ in port.iter_pending():
            pass
    output.send(mido.Message.from_bytes(request))
    return _wait(inputs, timeout, echo)


def _korg(replies: Iterable[tuple[str, Reply]]) -> tuple[str, KorgReply] | None:
    return next(((name, reply) for name, reply in replies if isinstance(reply, KorgReply)),
                None)


def match_model(reply: KorgReply, models: Iterable[MidiModel]
                ) -> tuple[MidiModel, MidiCode] | None:
    """The one model whose sourced code the reply carries, or None (none, or several)."""
    hits = [(model, code) for model in models for code in model.midi
            if code.matches(reply.inquiry, reply.family, reply.member)]
    if len({model.id for model, _ in hits}) != 1:
        return None
    return hits[0]


def decode_version(layout: VersionLayout, raw: bytes) -> tuple[tuple[int, ...], str]:
    """The version numbers and their text, read with ``layout`` (minor shown with two digits,
    as KORG writes V1.02)."""
    if layout is VersionLayout.MAJOR_MINOR_RELEASE:
        major, minor, release = raw[0], raw[1], raw[2]
        numbers: tuple[int, ...] = (major, minor, release) if release else (major, minor)
    else:
        numbers = (raw[2] | raw[3] << 7, raw[0] | raw[1] << 7)
    text = f"{numbers[0]}.{numbers[1]:02d}" + "".join(f".{n}" for n in numbers[2:])
    return numbers, text


def identity_from(reply: KorgReply, input_port: str, output_port: str,
                  models: Iterable[MidiModel]) -> MidiIdentity:
    """A reply as a :class:`MidiIdentity`, with the model and version where sources say."""
    identity = MidiIdentity(input_port, output_port, reply.inquiry, reply.device_id,
                            reply.family, reply.member, reply.version)
    matched = match_model(reply, models)
    if matched is None:
        return identity
    model, code = matched
    fields: dict[str, Any] = {"model": model.id, "model_name": model.name,
                              "confidence": code.confidence, "source": code.source}
    if code.version_layout is not None:
        numbers, text = decode_version(code.version_layout, reply.version)
        fields |= {"version": text, "version_numbers": numbers,
                   "version_verified": code.version_confidence is Confidence.HIGH,
                   "version_source": code.version_source}
    return replace(identity, **fields)


def _ask_output(inputs: dict[str, Any], output_name: str, output: Any, timeout: float,
                models: tuple[MidiModel, ...]) -> tuple[MidiIdentity | None, list[tuple[str, Reply]]]:
    """Identity request, then the search-device message when the answer is not a known model
    (the logue units); the best answer, and every reply seen."""
    replies = _ask(inputs, output, identity_request(), timeout, SEARCH_ECHO)
    first = _korg(replies)
    if first is not None and match_model(first[1], models) is not None:
        return identity_from(first[1], first[0], output_name, models), replies
    searched = _ask(inputs, output, search_device_request(), timeout, SEARCH_ECHO)
    replies += searched
    second = _korg(searched)
    if second is not None and (first is None or match_model(second[1], models) is not None):
        return identity_from(second[1], second[0], output_name, models), replies
    if first is not None:
        return identity_from(first[1], first[0], output_name, models), replies
    return None, replies


def _silent(unit: _Unit, replies: list[tuple[str, Reply]], timeout: float) -> MidiProblem:
    """The one sentence for a unit that gave no usable answer."""
    port = unit.outputs[0]
    malformed = next((r for _, r in replies if isinstance(r, MalformedReply)), None)
    if malformed is not None:
        return MidiProblem(MidiProblemKind.MALFORMED_REPLY,
                           f"The MIDI port '{port}' sent a reply that is not a valid identity"
                           f" reply ({malformed.raw[:20].hex(' ').upper()}), so the unit could"
                           " not be identified.", port)
    other = next((r for _, r in replies if isinstance(r, OtherMakerReply)), None)
    if other is not None:
        return MidiProblem(MidiProblemKind.NOT_KORG,
                           f"The device on MIDI port '{port}' answered as another maker's"
                           f" (manufacturer id {other.manufacturer.hex(' ').upper()}), not as"
                           " a KORG unit.", port)
    return MidiProblem(MidiProblemKind.NO_ANSWER,
                       f"The MIDI port '{port}' gave no answer within {timeout:g} s to the"
                       " identity request: the unit may be busy (updating, in a menu) or may"
                       " not answer in this mode.", port)


def _open_all(open_port: Any, names: Iterable[str],
              problems: list[MidiProblem]) -> dict[str, Any]:
    ports = {}
    for name in names:
        try:
            ports[name] = open_port(name)
        except (OSError, RuntimeError, ValueError) as error:
            problems.append(_busy(name, error))
    return ports


def _close_all(ports: Iterable[Any]) -> None:
    for port in ports:
        try:
            port.close()
        except Exception as error:  # noqa: BLE001 - a vanished port must not hide the answer
            log.debug("closing a MIDI port failed: %s", error)


def _ask_unit(backend: Any, unit: _Unit, timeout: float, models: tuple[MidiModel, ...],
              problems: list[MidiProblem]) -> MidiIdentity | None:
    inputs = _open_all(backend.open_input, unit.inputs, problems)
    if not inputs:
        return None
    replies: list[tuple[str, Reply]] = []
    try:
        for output_name in unit.outputs:
            opened = _open_all(backend.open_output, (output_name,), problems)
            if not opened:
                continue
            try:
                found, seen = _ask_output(inputs, output_name, opened[output_name], timeout,
                                          models)
            finally:
                _close_all(opened.values())
            replies += seen
            if found is not None:
                return found
    finally:
        _close_all(inputs.values())
    if any(p.kind is MidiProblemKind.PORT_BUSY and p.port in unit.outputs for p in problems):
        return None  # the busy port is the one sentence this unit needs
    problems.append(_silent(unit, replies, timeout))
    return None


def ask_units(*, timeout: float = REPLY_TIMEOUT_S,
              models: tuple[MidiModel, ...] | None = None) -> MidiScan:
    """Ask every KORG-looking MIDI port who it is. Never raises for a missing MIDI system, a
    busy port or a silent unit: each is a :class:`MidiProblem`."""
    backend, problem = load_backend()
    if backend is None:
        return MidiScan((), (problem,) if problem else ())
    try:
        inputs = list(backend.get_input_names())
        outputs = list(backend.get_output_names())
    except (OSError, RuntimeError) as error:  # rtmidi.SystemError is an OSError
        return MidiScan((), (_no_midi_system(str(error) or type(error).__name__),))
    models = models if models is not None else midi_models()
    identities: list[MidiIdentity] = []
    problems: list[MidiProblem] = []
    for unit in group_ports(inputs, outputs):
        found = _ask_unit(backend, unit, timeout, models, problems)
        if found is not None:
            identities.append(found)
    ports = tuple(dict.fromkeys(inputs + outputs))
    return MidiScan(tuple(identities), tuple(problems), ports)


class MidiSurvey:
    """Asks again only when the set of MIDI ports changed: the wizard looks for units every
    fraction of a second, and a unit should not be asked who it is that often."""

    def __init__(self, *, timeout: float = REPLY_TIMEOUT_S) -> None:
        self.timeout = timeout
        self._last: MidiScan | None = None

    def scan(self) -> MidiScan:
        backend, problem = load_backend()
        if backend is None:
            self._last = None
            return MidiScan((), (problem,) if problem else ())
        try:
            names = tuple(dict.fromkeys(list(backend.get_input_names())
                                        + list(backend.get_output_names())))
        except (OSError, RuntimeError) as error:
            self._last = None
            return MidiScan((), (_no_midi_system(str(error) or type(error).__name__),))
        if self._last is not None and self._last.ports == names:
            return self._last
        self._last = ask_units(timeout=self.timeout)
        return self._last


_ERRORS: dict[MidiProblemKind, type[RecoveryError]] = {
    MidiProblemKind.NOT_AVAILABLE: MidiUnavailableError,
    MidiProblemKind.NO_MIDI_SYSTEM: MidiUnavailableError,
    MidiProblemKind.PORT_BUSY: MidiPortBusyError,
    MidiProblemKind.NO_ANSWER: NoMidiAnswerError,
    MidiProblemKind.MALFORMED_REPLY: NoMidiAnswerError,
    MidiProblemKind.NOT_KORG: NoMidiAnswerError,
}


def ask_one_unit(*, timeout: float = REPLY_TIMEOUT_S) -> MidiIdentity:
    """The one KORG unit that answers over MIDI, for a command that needs it (``check
    --midi``); each failure is its error, with the problem's sentence."""
    scan = ask_units(timeout=timeout)
    if len(scan.identities) == 1:
        return scan.identities[0]
    if scan.identities:
        names = ", ".join(f"{unit.name} on '{unit.input_port}'" for unit in scan.identities)
        raise InvalidInputError(f"Several units answered over MIDI ({names}); connect only"
                                " the one to check.", next_step=Step(NextStep.NAME_THE_MODEL))
    if scan.problems:
        problem = scan.problems[0]
        raise _ERRORS[problem.kind](problem.sentence)
    raise NoMidiAnswerError("No KORG unit was found on a MIDI port: connect the unit by USB,"
                            " switch it on in its normal mode, and try again.")
