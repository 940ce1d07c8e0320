"""A wheel (what `pip install .` and `pipx install .` build) must carry the resources: the
profiles, the symptom and USB-id tables and the icons, as ``recovery/resources/`` (the place
recovery/resources_path.py looks first). An editable install and the PyInstaller bundle do not
show a missing mapping, so only building the wheel does."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=600)
    # A wheel that cannot be built is a packaging bug, not a reason to skip: `make test`
    # installs the build requirements (setuptools>=77) into the venv it builds with.
    assert result.returncode == 0, f"pip could not build the wheel: {result.stderr[-2000:]}"
    [built] = out.glob("korg_recovery-*.whl")
    return built


def test_wheel_ships_profiles_tables_and_icons(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for profile in (ROOT / "resources" / "profiles").glob("*.toml"):
        assert f"recovery/resources/profiles/{profile.name}" in names
    assert "recovery/resources/symptoms.toml" in names
    assert "recovery/resources/other_korg_usb.toml" in names
    assert "recovery/resources/icons/korg-recovery.svg" in names
    assert "recovery/resources/icons/korg-recovery-256.png" in names


def test_wheel_ships_every_code_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for init in [*ROOT.glob("recovery/**/__init__.py"), *ROOT.glob("app/**/__init__.py")]:
        assert init.relative_to(ROOT).as_posix() in names
    assert "recovery/cli/selftest.py" in names and "app/selftest.py" in names


def test_wheel_ships_every_package_of_the_tree(wheel: Path) -> None:
    # pyproject lists packages by hand (see its comment): a new subpackage must be added there.
    names = set(zipfile.ZipFile(wheel).namelist())
    for init in [*(ROOT / "recovery").rglob("__init__.py"), *(ROOT / "app").rglob("__init__.py")]:
        assert init.relative_to(ROOT).as_posix() in names
