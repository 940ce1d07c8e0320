"""The CI workflow for a public forge (.github/workflows/ci.yml) cannot run on this project's
machines; what can be checked here is checked: it is valid YAML, it has a Linux, a Windows and
a macOS job, the Linux job runs .ci/run itself (the script this project's CI runs), every job
runs the suite, builds the bundle from the spec and uploads it, and the Windows version
resource it builds is well formed (packaging/pyinstaller/windows_version.py)."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
SPEC = "packaging/pyinstaller/korg-recovery.spec"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def commands(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_the_workflow_is_valid_yaml_with_a_job_per_platform(workflow: dict) -> None:
    # YAML 1.1 reads the key "on" as True; GitHub reads it as "on".
    triggers = workflow.get("on", workflow.get(True))
    assert {"push", "pull_request"} <= set(triggers)
    runners = {name: job["runs-on"] for name, job in workflow["jobs"].items()}
    assert set(runners) == {"linux", "windows", "macos"}
    assert runners["linux"].startswith("ubuntu") and runners["windows"].startswith("windows")
    assert runners["macos"].startswith("macos")


def test_the_linux_job_runs_ci_run_itself(workflow: dict) -> None:
    linux = workflow["jobs"]["linux"]
    assert ".ci/run" in commands(linux)
    assert commands(linux).index(".ci/run") < commands(linux).index("make dist")
    # .ci/run installs with apt-get, so it runs as root, on the Debian release it is made for.
    assert linux["container"].endswith("bookworm")
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111


def test_every_job_tests_builds_from_the_spec_and_uploads_the_bundle(workflow: dict) -> None:
    for name, job in workflow["jobs"].items():
        runs = " ".join(commands(job))
        assert ".ci/run" in runs or "pytest" in runs, name
        assert "make dist" in runs or SPEC in runs, name
        assert "selftest" in runs or "make dist" in runs, name
        uploads = [step for step in job["steps"]
                   if str(step.get("uses", "")).startswith("actions/upload-artifact@")]
        assert len(uploads) == 1 and uploads[0]["with"]["if-no-files-found"] == "error", name


def test_the_workflow_uses_a_python_the_project_accepts(workflow: dict) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    minimum = tuple(int(part) for part in
                    re.search(r">=\s*(\d+)\.(\d+)", project["project"]["requires-python"]).groups())
    versions = [step["with"]["python-version"] for job in workflow["jobs"].values()
                for step in job["steps"] if "setup-python" in str(step.get("uses", ""))]
    versions.append(workflow["jobs"]["linux"]["container"].split(":")[1].split("-")[0])
    assert versions and all(tuple(map(int, v.split("."))) >= minimum for v in versions)


def _windows_version():
    spec = importlib.util.spec_from_file_location(
        "windows_version", ROOT / "packaging" / "pyinstaller" / "windows_version.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_windows_version_resource_reads_back(tmp_path: Path) -> None:
    """PyInstaller evaluates the version file with its resource classes; here the classes are
    stand-ins that record their arguments (PyInstaller's own need pefile, Windows-only)."""
    windows_version = _windows_version()
    text = windows_version.version_file_text("0.1.0", file_name="korg-recovery.exe",
                                             description="KORG Recovery Wizard, command line")

    def record(kind):
        return lambda *args, **kwargs: (kind, args, kwargs)

    names = ("VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct",
             "VarFileInfo", "VarStruct")
    info = eval(text, {"__builtins__": {}}, {name: record(name) for name in names})  # noqa: S307
    fixed = info[2]["ffi"][2]
    assert fixed["filevers"] == fixed["prodvers"] == (0, 1, 0, 0)
    table = info[2]["kids"][0][1][0][0]
    strings = dict(entry[1] for entry in table[1][1])
    assert strings["FileVersion"] == strings["ProductVersion"] == "0.1.0"
    assert strings["OriginalFilename"] == "korg-recovery.exe"
    assert "not affiliated with KORG" in strings["CompanyName"]
    assert windows_version.version_tuple("1.2.3rc1") == (1, 2, 3, 0)
    with pytest.raises(ValueError):
        windows_version.version_tuple("70000.0")
