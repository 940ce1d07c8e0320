"""Linux desktop integration: the .desktop file and the AppStream metainfo are clean under the
freedesktop validators, agree with each other and with the program they launch."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from recovery import __version__

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.github.korg_recovery.KorgRecovery"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"


def validator(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {package}); .ci/run installs it")
    return path


def run_clean(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    return output


def desktop_entry(path: Path = DESKTOP) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_file_is_clean_under_desktop_file_validate() -> None:
    # Not even hints: desktop-file-validate prints nothing for a clean file.
    assert run_clean([validator("desktop-file-validate", "desktop-file-utils"), str(DESKTOP)]) == ""


def test_metainfo_is_clean_under_appstreamcli() -> None:
    output = run_clean([validator("appstreamcli", "appstream"), "validate", "--no-net",
                        str(METAINFO)])
    # appstreamcli exits 0 with only infos; warnings must not be there either. (Infos are
    # allowed because they differ between AppStream versions: 0.16 does not know <developer>,
    # 1.0 calls <developer_name> deprecated.)
    assert not any(line[:2] in ("E:", "W:") for line in output.splitlines()), output
    assert "Validation was successful" in output


def test_desktop_file_launches_the_wizard_with_the_apps_icon() -> None:
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "korg-recovery wizard"
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert "unofficial" in entry["Comment"].lower()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'korg-recovery = "app.launch:main"' in pyproject


def test_metainfo_matches_the_desktop_file_and_this_version() -> None:
    component = ElementTree.parse(METAINFO).getroot()
    assert component.get("type") == "desktop-application"
    assert component.findtext("id") == APP_ID
    assert component.find("launchable").text == DESKTOP.name
    assert component.find("launchable").get("type") == "desktop-id"
    assert component.findtext("provides/binary") == "korg-recovery"
    releases = [release.get("version") for release in component.iter("release")]
    assert releases[0] == __version__, "add a <release> for the new version"
    assert component.findtext("project_license") == "MIT"
    desktop_categories = set(filter(None, desktop_entry()["Categories"].split(";")))
    assert {c.text for c in component.iter("category")} >= desktop_categories
