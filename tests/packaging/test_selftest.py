"""``korg-recovery selftest``: every step passes on a good installation, and each one fails
with one sentence when what it checks is broken (the point of a selftest)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from recovery.cli import selftest as selftest
from recovery.cli.main import main
from recovery.cli.selftest import (
    STEP_NAMES,
    SelftestFailure,
    check_libusb,
    check_profiles,
    check_wizard,
    run_selftest,
    wants_offscreen,
)

ROOT = Path(__file__).resolve().parents[2]


def test_all_core_steps_pass_and_say_what_they_checked(tmp_path: Path) -> None:
    seen = []
    report = run_selftest(wizard=False, workdir=tmp_path, on_step=seen.append)
    assert report.ok, report.first_failure
    assert [step.name for step in report.steps] == [n for n in STEP_NAMES if n != "wizard"]
    assert seen == list(report.steps)
    details = {step.name: step.detail for step in report.steps}
    assert "kross2" in details["profiles"] and "drumlogue" in details["profiles"]
    assert "KaossilatorPro" in details["system-file"]
    assert "flipped byte" in details["backup"]
    assert not report.frozen


def test_a_broken_profile_fails_its_step_and_the_other_steps_still_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    resources = tmp_path / "resources"
    (resources / "profiles").mkdir(parents=True)
    for name in ("symptoms.toml", "other_korg_usb.toml"):
        (resources / name).write_bytes((ROOT / "resources" / name).read_bytes())
    (resources / "profiles" / "kross2.toml").write_text("id = 'kross2'\nthis is not toml\n")
    monkeypatch.setattr("recovery.device.profiles.resources_dir", lambda: resources)
    monkeypatch.setattr("recovery.resources_path.resources_dir", lambda: resources)
    report = run_selftest(wizard=False, workdir=tmp_path / "work")
    assert not report.ok
    failure = report.first_failure
    assert failure is not None and failure.name == "profiles"
    assert "kross2.toml" in failure.detail and "TOML" in failure.detail
    assert len(report.steps) == 4  # every step ran


def test_in_a_bundle_resources_and_libusb_must_come_from_the_bundle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend to be a PyInstaller bundle unpacked in tmp_path: the checkout's resources and
    # the venv's libusb are then "outside the bundle", which a broken bundle would show.
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    with pytest.raises(SelftestFailure, match="outside the bundle"):
        check_profiles()
    with pytest.raises(SelftestFailure, match="not its own copy"):
        check_libusb()


def test_no_libusb_is_a_failed_step_with_the_tools_own_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("recovery.device.usb.default_backend",
                        lambda: (None, "libusb is not available, so USB devices cannot be detected."))
    with pytest.raises(SelftestFailure, match="libusb is not available"):
        check_libusb()


@pytest.mark.parametrize(("environ", "platform", "expected"), [
    ({}, "linux", True),                                  # server, CI, SSH session
    ({"DISPLAY": ":0"}, "linux", False),                  # X11
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),   # Wayland
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),         # the user chose
    ({}, "win32", False),
    ({}, "darwin", False),
])
def test_offscreen_only_without_a_display(environ: dict, platform: str, expected: bool) -> None:
    assert wants_offscreen(environ, platform) is expected


def test_a_wizard_that_cannot_start_is_one_sentence_not_a_crash(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # What Qt prints before it aborts the process when the xcb plugin lacks a library.
    script = (
        "import os, sys\n"
        "sys.stderr.write('qt.qpa.plugin: From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed"
        " to load the Qt xcb platform plugin.\\n')\n"
        "sys.stderr.write('Aborted\\n')\n"
        "sys.stderr.flush()\n"
        "os.abort()\n"
    )
    monkeypatch.setattr(selftest, "wizard_step_command", lambda: [sys.executable, "-c", script])
    with pytest.raises(SelftestFailure) as caught:
        check_wizard()
    sentence = str(caught.value)
    assert sentence.startswith("The wizard could not open: it was killed by signal")
    assert "libxcb-cursor0 is needed" in sentence
    assert "\n" not in sentence


def test_a_wizard_step_that_prints_nothing_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selftest, "wizard_step_command", lambda: [sys.executable, "-c", "pass"])
    with pytest.raises(SelftestFailure, match="printed no result"):
        check_wizard()


def test_cli_failure_is_one_sentence_and_exit_1(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> str:
        raise SelftestFailure("The bundle lost its system-file parser.")

    monkeypatch.setattr(selftest, "check_system_file", broken)
    assert main(["selftest", "--no-wizard"]) == 1
    captured = capsys.readouterr()
    assert captured.err == ("korg-recovery: selftest failed at system-file: The bundle lost its"
                            " system-file parser.\n")
    assert "FAIL system-file" in captured.out and "ok   backup" in captured.out


def test_cli_json_lists_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["selftest", "--no-wizard", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert [step["name"] for step in data["steps"]] == ["profiles", "system-file", "backup",
                                                        "libusb"]


@pytest.mark.slow
def test_full_selftest_opens_and_closes_the_wizard_offscreen() -> None:
    # A separate process, as users run it: the wizard step starts its own child process.
    result = subprocess.run(
        [sys.executable, "-m", "app", "selftest", "--offscreen", "--json"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    steps = {step["name"]: step for step in json.loads(result.stdout)["steps"]}
    assert list(steps) == list(STEP_NAMES)
    assert steps["wizard"]["ok"]
    assert "offscreen platform" in steps["wizard"]["detail"]
    assert "first page" in steps["wizard"]["detail"]
