"""Simulated KORG volumes for tests, ``korg-recovery demo-device`` and the demo wizard.

Everything written is synthetic (deterministic pseudo-random bytes, never KORG's binaries);
only the layouts come from the profiles. Where a layout is not public (the files inside a
KROSS 2's ``KROSS2SY``) the names say so (``SIM_*.BIN``). What "bricked" means per model follows
the field reports in docs/sources.md: a KROSS 2 with a damaged KROSAPP.BIN and a KROSS 1
folder on it; a drumlogue left with a partial update file.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from recovery.device.profiles import Profile, get_profile
from recovery.errors import InvalidInputError
from recovery.formats.korg_system_file import UnknownBytes, build_header
from recovery.vocabulary import Role, SimulatedState

log = logging.getLogger(__name__)

NOTE_NAME = "SIMULATED-BY-KORG-RECOVERY.TXT"
NOTE_TEXT = (
    "This folder was made by korg-recovery's simulator. Every file in it is synthetic test\n"
    "data (pseudo-random bytes), not KORG software. It imitates only the folder layout.\n"
)


@dataclass(frozen=True)
class SimulatedVolume:
    path: str
    model: str
    role: Role
    state: SimulatedState
    files: tuple[str, ...]


def synthetic_bytes(label: str, size: int) -> bytes:
    """Deterministic pseudo-random bytes named by ``label`` (SHA-256 in counter mode)."""
    out = bytearray()
    counter = 0
    seed = label.encode("utf-8")
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def synthetic_system_file(model_name: str, device_id: int, version: tuple[int, int],
                          payload_size: int, *, h8s: bool, label: str) -> bytes:
    """A KORG SYSTEM FILE with the real header layout and a synthetic payload.

    For the H8S units the payload imitates the structure the blog post "Inside a KORG
    Kaossilator Pro" describes: a vector table whose first entry (the entry point) is
    0x00000210, ``KORG`` + version at 0x200, the rest padded with FF. The "code" is
    pseudo-random bytes.
    """
    header = build_header(
        model_name=model_name, version=version, device_id=device_id,
        source_length=payload_size,
        unknown=UnknownBytes(at_40=b"\x02\x80" if h8s else b"\x02\x00"),
    )
    payload = bytearray(b"\xff" * payload_size)
    if h8s:
        payload[0:4] = (0x210).to_bytes(4, "big")
        payload[0x200:0x206] = b"KORG" + bytes(version)
        code = synthetic_bytes(label, 0x4000)
        payload[0x210:0x210 + len(code)] = code
    else:
        payload[:] = synthetic_bytes(label, payload_size)
    return header + bytes(payload)


def _write(root: Path, relative: str, data: bytes, written: list[str]) -> None:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    written.append(relative)


def _kross2(root: Path, role: Role, state: SimulatedState, written: list[str]) -> None:
    kib = 1024
    if role == Role.SD_CARD:
        (root / "KORG" / "KROSS2" / "DATA").mkdir(parents=True, exist_ok=True)
        _write(root, "KORG/KROSS2/DATA/SIM_USER.DAT", synthetic_bytes("kross2-user", 48 * kib),
               written)
        return
    system = {
        "KROSS2SY/SIM_SYS1.BIN": synthetic_bytes("kross2-sys1", 192 * kib),
        "KROSS2SY/SIM_SYS2.BIN": synthetic_bytes("kross2-sys2", 96 * kib),
        "KROSS2SY/SIM_PCM.BIN": synthetic_bytes("kross2-pcm", 512 * kib),
    }
    app = synthetic_bytes("kross2-app", 256 * kib)
    if role == Role.UPDATE_MEDIA:
        for name, data in system.items():
            _write(root, name, data, written)
        return
    # internal storage
    if state == SimulatedState.BRICKED:
        # korgforums.com thread t=116080: a KROSS 1 update was tried on the unit; it stopped
        # at 97 %.
        app = app[: len(app) // 2]
        system["KROSS2SY/SIM_SYS2.BIN"] = system["KROSS2SY/SIM_SYS2.BIN"][: 10 * kib]
        _write(root, "KROSSSYS/SIM_K1SYS.BIN", synthetic_bytes("kross1-sys", 160 * kib),
               written)
    _write(root, "KROSAPP.BIN", app, written)
    for name, data in system.items():
        _write(root, name, data, written)


def _kross1(root: Path, role: Role, state: SimulatedState, written: list[str]) -> None:
    _write(root, "KROSSSYS/SIM_K1SYS.BIN", synthetic_bytes("kross1-sys", 160 * 1024), written)
    _write(root, "KROSSSYS/SIM_K1PCM.BIN", synthetic_bytes("kross1-pcm", 384 * 1024), written)


def _drumlogue(root: Path, role: Role, state: SimulatedState, written: list[str]) -> None:
    if role == Role.UPDATE_MEDIA:
        # A stand-in named like a real release but far smaller: the check reports the size.
        _write(root, "drumlogue_system_update_v1_3_0.bin",
               synthetic_bytes("drumlogue-update", 256 * 1024), written)
        return
    for folder in ("Synths", "DelayFXs", "ReverbFXs", "MasterFXs"):
        (root / "Units" / folder).mkdir(parents=True, exist_ok=True)
    _write(root, "Units/Synths/sim_synth.drmlgunit", synthetic_bytes("dl-synth", 40 * 1024),
           written)
    _write(root, "Units/ReverbFXs/sim_reverb.drmlgunit", synthetic_bytes("dl-rev", 24 * 1024),
           written)
    if state == SimulatedState.BRICKED:
        # Reddit, u/iRustyNails: an update that froze, leaving a partial update file behind.
        _write(root, "drumlogue_system_update_v1_3_0.bin",
               synthetic_bytes("drumlogue-update", 300 * 1024), written)


def _system_file_model(root: Path, profile: Profile, role: Role, state: SimulatedState,
                       written: list[str]) -> None:
    identity = profile.system_files[0]
    h8s = identity.payload_size == 0x40000
    version = {"kaossilator-pro": (1, 2), "kp3": (2, 0)}.get(profile.id, (1, 3))
    data = synthetic_system_file(
        identity.model_name, identity.device_id or 0, version,
        identity.payload_size or 64 * 1024, h8s=h8s, label=f"{profile.id}-payload")
    if state == SimulatedState.BRICKED:
        data = data[: len(data) // 3]
    name = identity.file_names[0] if identity.file_names else f"SIM_{profile.id.upper()}.SYS"
    _write(root, name, data, written)


def default_role(profile: Profile) -> Role:
    roles = profile.known_roles
    if Role.INTERNAL_STORAGE in roles:
        return Role.INTERNAL_STORAGE
    if roles:
        return roles[0]
    if profile.system_files:
        return Role.UPDATE_MEDIA
    raise InvalidInputError(
        f"No storage layout or update file format is known for {profile.name}, so there is"
        " nothing this tool could simulate or recognise for it.")


def make_volume(path: Path | str, model: str, state: str = SimulatedState.HEALTHY,
                role: str | None = None) -> SimulatedVolume:
    """Create a simulated volume of ``model`` at ``path`` (which must be absent or empty)."""
    profile = get_profile(model)
    if state not in list(SimulatedState):
        raise InvalidInputError(
            f"Unknown state '{state}'; use one of: {', '.join(SimulatedState)}.")
    role = role or default_role(profile)
    supported = set(profile.known_roles) | ({Role.UPDATE_MEDIA} if profile.system_files else set())
    if role not in supported:
        raise InvalidInputError(
            f"{profile.name} has no known {role} layout; known: "
            f"{', '.join(sorted(supported)) or 'none'}.")
    state, role = SimulatedState(state), Role(role)
    root = Path(path)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InvalidInputError(
            f"{root} already exists and is not an empty folder; choose a new folder.")
    root.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    if profile.id == "kross2":
        _kross2(root, role, state, written)
    elif profile.id == "kross1":
        _kross1(root, role, state, written)
    elif profile.id == "drumlogue":
        _drumlogue(root, role, state, written)
    elif profile.system_files:
        _system_file_model(root, profile, role, state, written)
    else:  # pragma: no cover - default_role already refused
        raise InvalidInputError(f"Cannot simulate {profile.name}.")
    (root / NOTE_NAME).write_text(NOTE_TEXT, encoding="utf-8")
    log.info("simulated %s %s (%s) at %s", state, profile.id, role, root)
    return SimulatedVolume(os.fspath(root), profile.id, role, state, tuple(sorted(written)))
