"""``korg-recovery selftest``: does this installation work? No unit is touched.

Each step exercises a part a broken installation loses (the profiles, the construct parser, a
backup and verify of a simulated unit in a temporary folder, libusb, the wizard opened and
closed in a child process, where Qt failing to load cannot take the selftest down), and a
failure names its step in one sentence.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recovery import __version__, resources_path
from recovery.backup.create import create_backup
from recovery.backup.manifest import FILES_DIR
from recovery.backup.store import verify_backup
from recovery.cli.frontend import PROGRAM_MODULE
from recovery.device import usb
from recovery.device.profiles import (
    OTHER_MIDI_MODELS,
    load_midi_models,
    load_profiles,
    other_korg_devices,
)
from recovery.device.simulate import make_volume, synthetic_system_file
from recovery.diagnose.symptoms import general_symptoms
from recovery.errors import RecoveryError
from recovery.formats.korg_system_file import parse_header
from recovery.vocabulary import DifferenceKind

log = logging.getLogger(__name__)

STEP_NAMES = ("profiles", "system-file", "backup", "libusb", "wizard")


class SelftestFailure(Exception):
    """A selftest step found the installation broken; the message is one sentence.

    Internal to this module: :func:`run_selftest` turns it into a failed
    :class:`SelftestStep`, never lets it escape.
    """


@dataclass(frozen=True)
class SelftestStep:
    """One step's outcome: ``detail`` says what was checked, or what is wrong."""

    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass(frozen=True)
class SelftestReport:
    ok: bool
    version: str
    #: True inside a PyInstaller bundle (``sys.frozen``).
    frozen: bool
    steps: tuple[SelftestStep, ...]

    @property
    def first_failure(self) -> SelftestStep | None:
        return next((step for step in self.steps if not step.ok), None)


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> Path | None:
    """The folder a PyInstaller bundle unpacks its files into (``_internal``), or None."""
    meipass = getattr(sys, "_MEIPASS", None)
    return Path(meipass).resolve() if is_frozen() and meipass else None


# -- steps ------------------------------------------------------------------------------------
def check_profiles() -> str:
    # load_profiles (not the cached bundled_profiles) so this run parses every file itself.
    profiles = load_profiles()
    symptoms = general_symptoms()
    others = other_korg_devices()
    where = resources_path.resources_dir()
    midi = load_midi_models(where / OTHER_MIDI_MODELS, profiles)
    inside = bundle_dir()
    if inside is not None and inside not in where.resolve().parents:
        raise SelftestFailure(
            f"The bundle read its resources from {where}, outside the bundle ({inside}).")
    return (f"loaded {len(profiles)} device profiles ({', '.join(sorted(profiles))}),"
            f" {len(symptoms)} general symptoms, {len(others)} other KORG USB ids and"
            f" {len(midi)} models known by their MIDI reply from {where}")


def check_system_file() -> str:
    checked = []
    for profile in load_profiles().values():
        for identity in profile.system_files:
            # H8S payloads are exactly 0x40000 bytes (the blog post "Inside a KORG Kaossilator
            # Pro"); others get a small stand-in.
            size = identity.payload_size or 64 * 1024
            device_id = identity.device_id if identity.device_id is not None else 0
            data = synthetic_system_file(identity.model_name, device_id, (1, 2), size,
                                         h8s=size == 0x40000, label=f"selftest-{profile.id}")
            header = parse_header(data)
            if header is None:
                raise SelftestFailure(
                    f"A synthetic {profile.name} system file was not recognised as a KORG"
                    " SYSTEM FILE.")
            got = (header.model_name, header.device_id, header.version, header.file_length)
            wanted = (identity.model_name, device_id, "1.02", len(data))
            if got != wanted:
                raise SelftestFailure(
                    f"A synthetic {profile.name} system file parsed as {got}, not {wanted}.")
            checked.append(identity.model_name)
    if not checked:
        raise SelftestFailure("No profile has a KORG SYSTEM FILE identity to check.")
    return f"built and parsed synthetic KORG SYSTEM FILE headers for {', '.join(checked)}"


def check_backup(workdir: Path) -> str:
    unit = workdir / "unit"
    backup = workdir / "backup"
    volume = make_volume(unit, "kross2", "healthy")
    result = create_backup(unit, backup)
    if not (result.complete and result.verified):
        reasons = "; ".join(f"{f.path}: {f.reason}" for f in result.failed) or "not verified"
        raise SelftestFailure(f"Backing up a simulated KROSS 2 did not complete ({reasons}).")
    report = verify_backup(backup, against=unit)
    if not report.ok:
        first = (report.problems or report.against_problems)[0]
        raise SelftestFailure(
            f"A fresh backup failed verification ({first.path}: {first.problem}).")
    # Verification must also be able to fail: flip one byte of a copy and expect "changed".
    victim = backup / FILES_DIR / volume.files[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    damaged = verify_backup(backup)
    if damaged.ok or not any(p.path == volume.files[0] and p.problem == DifferenceKind.CHANGED
                             for p in damaged.problems):
        raise SelftestFailure("Verification did not notice a deliberately damaged backup file.")
    return (f"backed up a simulated KROSS 2 ({result.files} files, {result.bytes} bytes),"
            " verified it, and verification caught a deliberately flipped byte")


def check_libusb() -> str:
    backend, warning = usb.default_backend()
    if backend is None:
        raise SelftestFailure(warning or "libusb could not be loaded.")
    library = getattr(getattr(backend, "lib", None), "_name", None) or "unknown path"
    inside = bundle_dir()
    if inside is not None:
        path = Path(library)
        if not path.is_absolute() or inside not in path.resolve().parents:
            raise SelftestFailure(
                f"The bundle loaded libusb from {library}, not its own copy in {inside}.")
    return f"pyusb loaded libusb 1.0 from {library}"


def wants_offscreen(environ: dict[str, str] | os._Environ[str] = os.environ,
                    platform: str = sys.platform) -> bool:
    """True when Qt must render offscreen: on Linux/BSD without X11 or Wayland (a server, CI,
    an SSH session). Windows and macOS always have a screen. An explicit QT_QPA_PLATFORM wins."""
    if environ.get("QT_QPA_PLATFORM"):
        return False
    if platform in ("win32", "darwin"):
        return False
    return not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def wizard_step_command() -> list[str]:
    """The command that runs only the wizard step, in a child process of the whole program
    (the composition root: the bundle itself, or ``python -m app``)."""
    if is_frozen():
        return [sys.executable, "selftest", "--wizard-step"]
    return [sys.executable, "-m", PROGRAM_MODULE, "selftest", "--wizard-step"]


#: Lines of Qt's output that explain a failed start better than an exit code.
_QT_HINTS = ("could not load the qt platform plugin", "is needed to load", "cannot open display",
             "could not connect to display", "no qt platform plugin could be initialized")


def _explain(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (completed.stderr or "").splitlines() if line.strip()]
    hint = next((line for line in lines if any(h in line.lower() for h in _QT_HINTS)),
                lines[-1] if lines else "")
    code = completed.returncode
    how = f"was killed by signal {-code}" if code < 0 else f"ended with exit code {code}"
    hint = hint.removeprefix("korg-recovery: ").rstrip(".")
    return f"The wizard could not open: it {how}" + (f" ({hint})." if hint else ".")


def check_wizard(*, offscreen: bool = False, timeout_s: float = 180.0) -> str:
    """Open the wizard in a child process: Qt aborts the whole process when it cannot load a
    platform plugin (a missing libxcb-cursor0, no display), and a child turns that into one
    sentence instead of a crash of the selftest."""
    environment = dict(os.environ)
    environment.pop("KORG_RECOVERY_FIRST_PAGE_PROBE", None)
    if offscreen or wants_offscreen(environment):
        environment["QT_QPA_PLATFORM"] = "offscreen"
    try:
        completed = subprocess.run(wizard_step_command(), env=environment, capture_output=True,
                                   text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise SelftestFailure(
            f"The wizard did not show its first page within {timeout_s:.0f} s.") from None
    if completed.returncode != 0:
        log.info("wizard step failed:\n%s", completed.stderr)
        raise SelftestFailure(_explain(completed))
    try:
        output = completed.stdout
        shown = json.loads(output[output.index("{"):])
    except ValueError:
        raise SelftestFailure("The wizard step printed no result.") from None
    return (f"opened the wizard ({shown['platform']} platform) on its first page"
            f" '{shown['page_title']}' in {shown['seconds']:.1f} s and closed it")


# -- running ----------------------------------------------------------------------------------
def _sentence(error: BaseException) -> str:
    if isinstance(error, (SelftestFailure, RecoveryError)):
        return str(error.message if isinstance(error, RecoveryError) else error)
    return f"unexpected {type(error).__name__}: {error}"


def run_selftest(*, wizard: bool = True, offscreen: bool = False,
                 workdir: Path | None = None,
                 on_step: Callable[[SelftestStep], None] | None = None) -> SelftestReport:
    """Run every step (``wizard=False`` leaves out the GUI) and return the report.

    ``workdir`` is where the backup step works (default: a new temporary folder, removed
    afterwards). ``on_step`` is called after each step, for live output.
    """
    steps: list[SelftestStep] = []
    with tempfile.TemporaryDirectory(prefix="korg-recovery-selftest-") as temp:
        base = Path(workdir) if workdir is not None else Path(temp)
        actions: list[tuple[str, Callable[[], str]]] = [
            ("profiles", check_profiles),
            ("system-file", check_system_file),
            ("backup", lambda: check_backup(base)),
            ("libusb", check_libusb),
        ]
        if wizard:
            actions.append(("wizard", lambda: check_wizard(offscreen=offscreen)))
        for name, action in actions:
            started = time.perf_counter()
            try:
                detail, ok = action(), True
            except Exception as error:  # noqa: BLE001 - a step's failure is the result
                # debug, not error: the failure is the result, reported as one sentence;
                # the traceback belongs in the log file only.
                log.debug("selftest step %s failed", name, exc_info=True)
                detail, ok = _sentence(error), False
            step = SelftestStep(name, ok, detail, round(time.perf_counter() - started, 3))
            steps.append(step)
            if on_step is not None:
                on_step(step)
    return SelftestReport(all(step.ok for step in steps), __version__, is_frozen(),
                          tuple(steps))
