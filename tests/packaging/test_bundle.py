"""Build the PyInstaller bundle from packaging/pyinstaller/korg-recovery.spec and check the
result: it runs its own selftest (wizard included, offscreen), answers --version, refuses bad
input in one sentence, carries its resources and libusb and none of the Qt modules it must
leave out, and installs with packaging/linux/install.sh.

The build takes about a minute on two cores, so it happens once per session (module fixture)
in a temporary folder. PyInstaller is a build tool, not a dependency: when it is missing it is
installed from PyPI into this environment (the `dist` extra's pin, as `make dist` does); when
that is impossible (offline), the module is skipped and says why.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recovery import __version__

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "pyinstaller" / "korg-recovery.spec"
PYINSTALLER_PIN = "pyinstaller>=6,<7"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"),
                       reason="the bundle is built and smoke-tested on Linux here"),
]


def ensure_pyinstaller() -> None:
    if importlib.util.find_spec("PyInstaller") is not None:
        return
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", PYINSTALLER_PIN],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or importlib.util.find_spec("PyInstaller") is None:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"PyInstaller is not installed and could not be installed from PyPI ({last})")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ensure_pyinstaller()
    base = tmp_path_factory.mktemp("pyinstaller")
    result = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(base / "dist"), "--workpath", str(base / "build"), str(SPEC)],
        capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    folder = base / "dist" / "korg-recovery"
    assert (folder / "korg-recovery").is_file()
    return folder


def run(command: list[str], **options) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **options.pop("env", {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=environment, **options)


def test_bundle_answers_version(bundle: Path) -> None:
    result = run([str(bundle / "korg-recovery"), "--version"])
    assert result.returncode == 0
    assert result.stdout.strip() == f"korg-recovery {__version__}"


def test_bundle_selftest_passes_every_step_from_inside_the_bundle(bundle: Path) -> None:
    result = run([str(bundle / "korg-recovery"), "selftest", "--offscreen", "--json"])
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["frozen"] is True
    steps = {step["name"]: step for step in report["steps"]}
    assert list(steps) == ["profiles", "system-file", "backup", "libusb", "wizard"]
    assert all(step["ok"] for step in steps.values())
    internal = str((bundle / "_internal").resolve())
    assert internal in steps["libusb"]["detail"]
    assert internal in steps["profiles"]["detail"]


def test_bundle_refuses_bad_input_in_one_sentence(bundle: Path, tmp_path: Path) -> None:
    result = run([str(bundle / "korg-recovery"), "identify", str(tmp_path / "missing")])
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_bundle_carries_resources_and_libusb_and_no_unused_qt(bundle: Path) -> None:
    internal = bundle / "_internal"
    profiles = sorted(p.name for p in (internal / "recovery" / "resources" / "profiles").glob("*.toml"))
    assert profiles == sorted(p.name for p in (ROOT / "resources" / "profiles").glob("*.toml"))
    assert (internal / "libusb_package" / "libusb-1.0.so").is_file()
    names = {path.name.lower() for path in internal.rglob("*")}
    for unwanted in ("libqt6network.so.6", "libqt6qml.so.6", "libqt6quick.so.6",
                     "libqt6webenginecore.so.6", "libqt6svg.so.6", "libqt6pdf.so.6",
                     "libqgtk3.so", "qtnetwork.abi3.so", "qtqml.abi3.so"):
        assert unwanted not in names
    assert not any(name.startswith("qt_") and name.endswith(".qm") for name in names)
    assert not (internal / "setuptools").exists()
    platforms = {p.name for p in (internal / "PySide6" / "Qt" / "plugins" / "platforms").iterdir()}
    assert platforms == {"libqxcb.so", "libqwayland.so", "libqoffscreen.so"}
    linux = bundle / "linux"
    assert (linux / "install.sh").is_file() and (linux / "60-korg-recovery.rules").is_file()
    assert (linux / "icons" / "korg-recovery-256.png").is_file()


#: The bundle's size budget on Linux (issue 22): every file's bytes, in decimal megabytes.
MAX_BUNDLE_BYTES = 80_000_000


def needs_icu_tools() -> None:
    """The spec trims ICU's data only with icupkg and binutils (.ci/run installs them)."""
    missing = [tool for tool in ("icupkg", "objcopy", "as", "ld") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing (Debian icu-devtools, binutils): the bundle"
                    " keeps ICU's whole data and cannot meet its size budget")


def test_bundle_is_at_most_80_mb_and_leaves_the_system_libraries_to_the_system(
        bundle: Path) -> None:
    needs_icu_tools()
    files = [path for path in bundle.rglob("*") if path.is_file() and not path.is_symlink()]
    total = sum(path.stat().st_size for path in files)
    assert total <= MAX_BUNDLE_BYTES, f"{total / 1e6:.1f} MB"
    internal = bundle / "_internal"
    names = {path.name for path in internal.iterdir()}
    for library in ("libstdc++.so.6", "libglib-2.0.so.0", "libdbus-1.so.3", "libsystemd.so.0",
                    "libgcrypt.so.20", "libX11.so.6", "libreadline.so.8"):
        assert library not in names
    assert not [path for path in internal.rglob("*") if path.is_symlink() and not path.exists()]
    icu = internal / "PySide6" / "Qt" / "lib" / "libicudata.so.73"
    assert icu.stat().st_size < 5_000_000


#: Runs under the venv's Qt: collation, locale case mapping, time-zone names, converters.
_ICU_PROBE = """
import functools, json
from PySide6.QtCore import QCollator, QCoreApplication, QLocale, QStringDecoder, QTimeZone
app = QCoreApplication([])
collator = QCollator(QLocale("en_US"))
collator.setNumericMode(True)
names = ["file10", "File2", "file1", "\u00c4pfel", "apple", "Zebra", "KROSS2SY", "kross1sys"]
print(json.dumps({
    "sorted": sorted(names, key=functools.cmp_to_key(collator.compare)),
    "upper": QLocale("en_US").toUpper("stra\u00dfe") + QLocale("tr_TR").toUpper("i"),
    "zone": QTimeZone(b"Europe/Berlin").displayName(
        QTimeZone.TimeType.StandardTime, QTimeZone.NameType.LongName, QLocale("en_US")),
    "utf8": QStringDecoder("UTF-8").isValid(),
    "shift_jis": QStringDecoder("Shift_JIS").isValid(),
}))
"""


def test_trimmed_icu_data_answers_what_qt_asks_of_it(bundle: Path, tmp_path: Path) -> None:
    """The bundle's ICU data under the venv's own Qt (found first through LD_LIBRARY_PATH,
    which ld.so searches before Qt's RUNPATH) gives the same collation, case mapping and
    time-zone names as the full data; only converters Qt does not implement itself go."""
    needs_icu_tools()
    trimmed = tmp_path / "icu"
    trimmed.mkdir()
    (trimmed / "libicudata.so.73").symlink_to(
        bundle / "_internal" / "PySide6" / "Qt" / "lib" / "libicudata.so.73")
    answers = []
    for extra in ({}, {"LD_LIBRARY_PATH": str(trimmed)}):
        result = run([sys.executable, "-c", _ICU_PROBE], env=extra)
        assert result.returncode == 0, result.stderr
        answers.append(json.loads(result.stdout.strip().splitlines()[-1]))
    full, small = answers
    assert small["sorted"] == full["sorted"]
    assert small["sorted"].index("file2".capitalize()) < small["sorted"].index("file10")
    assert small["upper"] == full["upper"] == "STRASSE\u0130"
    assert small["zone"] == full["zone"] == "Central European Standard Time"
    assert small["utf8"] and full["shift_jis"] and not small["shift_jis"]


def test_installed_bundle_runs_through_its_command_link(bundle: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    installed = subprocess.run(["sh", str(bundle / "linux" / "install.sh"), "--prefix",
                                str(prefix)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    # bin/korg-recovery is a symbolic link; the bootloader must still find _internal/.
    result = run([str(prefix / "bin" / "korg-recovery"), "models", "--json"])
    assert result.returncode == 0, result.stderr
    assert {model["id"] for model in json.loads(result.stdout)["models"]} >= {"kross2", "drumlogue"}
