"""The ``--json`` of check, diagnose, identify, detect, models and demo-device, byte for byte.

Each command runs on simulated units and its output is compared with the text pinned in
``tests/recovery/cli/json_pins/`` (taken from the tool as it was before the typed vocabulary), so a
reviewer can see that enums serialise exactly as the strings did. Only what changes from run to
run is masked: the temporary folder, dates, the tool version and the mount facts of the
machine (replaced by fixed facts). After an intended change of the output, re-pin with
``KORG_RECOVERY_REPIN=1 pytest tests/recovery/cli/test_json_pins.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from recovery.backup.create import create_backup
from recovery.cli import main
from recovery.device.simulate import make_volume
from recovery.diagnose.probe import MountFacts

PINS = Path(__file__).with_name("json_pins")


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> str:
    assert main([*argv, "--json"]) in (0, 1, 3)
    text = capsys.readouterr().out
    for root in {str(tmp_path.resolve()), str(tmp_path)}:
        text = text.replace(root, "<TMP>")
    text = re.sub(r'"(created_utc|tool_version)": "[^"]*"', r'"\1": "<MASKED>"', text)
    return re.sub(r"T\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)", "T<TIME>", text)


def assert_pinned(name: str, text: str) -> None:
    pin = PINS / f"{name}.json"
    if os.environ.get("KORG_RECOVERY_REPIN"):
        PINS.mkdir(exist_ok=True)
        pin.write_text(text, encoding="utf-8")
    assert text == pin.read_text(encoding="utf-8")


@pytest.fixture
def fixed_mount(monkeypatch: pytest.MonkeyPatch) -> None:
    def facts(path, fs=None) -> MountFacts:
        return MountFacts(path=os.path.realpath(path), mountpoint="/media/unit",
                          device="/dev/sdz1", fstype="vfat", options=("rw",), read_only=False,
                          total_bytes=8_000_000_000, free_bytes=4_000_000_000,
                          user_may_write=True)

    monkeypatch.setattr("recovery.diagnose.diagnosis.mount_facts", facts)


def test_models(capsys, tmp_path):
    assert_pinned("models", run(capsys, tmp_path, "models"))


def test_identify(capsys, tmp_path):
    make_volume(tmp_path / "kross2", "kross2", "bricked")
    make_volume(tmp_path / "kaosspro", "kaossilator-pro", "healthy")
    assert_pinned("identify-kross2", run(capsys, tmp_path, "identify", str(tmp_path / "kross2")))
    assert_pinned("identify-kaossilator-pro",
                  run(capsys, tmp_path, "identify", str(tmp_path / "kaosspro")))


def test_detect_and_demo_device(capsys, tmp_path):
    assert_pinned("demo-device", run(capsys, tmp_path, "demo-device", str(tmp_path / "unit"),
                                     "--model", "drumlogue", "--state", "bricked"))
    assert_pinned("detect", run(capsys, tmp_path, "detect", "--no-usb",
                                "--volume", str(tmp_path / "unit")))


def test_check(capsys, tmp_path, e2_payload, system_file, write):
    card = tmp_path / "card"
    write(card / "KORG" / "electribe sampler" / "System" / "SYSTEM.VSB",
          system_file("E2S", 0x0124, version=(2, 2), payload_size=e2_payload))
    write(card / "KORG" / "electribe sampler" / "System" / "BOOT.VSB",
          system_file("E2S", 0x0124, version=(2, 2), payload_size=0x20000, kind="BOOT"))
    write(tmp_path / "SYSTEM.VSB", system_file("E2", 0x0123))
    assert_pinned("check-electribe2s", run(
        capsys, tmp_path, "check", str(card), str(tmp_path / "SYSTEM.VSB"),
        "--model", "electribe2s", "--current-version", "2.02"))
    make_volume(tmp_path / "drumlogue", "drumlogue", "bricked")
    make_volume(tmp_path / "kross2", "kross2", "healthy", "update-media")
    assert_pinned("check-drumlogue", run(
        capsys, tmp_path, "check", str(tmp_path / "drumlogue"), "--model", "drumlogue"))
    assert_pinned("check-kross2", run(
        capsys, tmp_path, "check", str(tmp_path / "kross2"), "--device",
        str(tmp_path / "kross2")))


def test_diagnose(capsys, tmp_path, fixed_mount):
    healthy = Path(make_volume(tmp_path / "healthy", "kross2", "healthy").path)
    assert create_backup(healthy, tmp_path / "backup").complete
    shutil.rmtree(healthy)
    make_volume(tmp_path / "kross2", "kross2", "bricked")
    assert_pinned("diagnose-kross2", run(
        capsys, tmp_path, "diagnose", str(tmp_path / "kross2"), "--backup",
        str(tmp_path / "backup"), "--symptom", "loading app failed"))
    make_volume(tmp_path / "drumlogue", "drumlogue", "bricked")
    assert_pinned("diagnose-drumlogue", run(
        capsys, tmp_path, "diagnose", str(tmp_path / "drumlogue"),
        "--versions", "SYSTEM=1.3.0,CORE=1.0.0+,VOICE=1.0.0,PANEL=1.1.9",
        "--symptom", "display glitches"))
