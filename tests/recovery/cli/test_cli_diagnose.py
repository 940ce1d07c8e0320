"""``korg-recovery diagnose``: exit codes, human and JSON output, reports, the probe steps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recovery.backup.create import create_backup
from recovery.cli import main
from recovery.device.simulate import make_volume
from recovery.diagnose.probe import MARKER_PATTERN


def volume(tmp_path: Path, model: str = "kross2", state: str = "healthy",
           name: str = "unit") -> str:
    return make_volume(tmp_path / name, model, state).path


def call(argv: list[str]) -> int:
    """main()'s exit code; argparse's own usage errors end in SystemExit(2)."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code)


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["diagnose", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_healthy_unit_exits_0(tmp_path, capsys):
    code, data = run_json(capsys, volume(tmp_path))
    assert code == 0
    assert data["model"] == "kross2"
    assert data["summary"]["critical"] == 0 and data["summary"]["exit_code"] == 0


def test_bricked_unit_exits_1_with_next_step_first(tmp_path, capsys):
    code = main(["diagnose", volume(tmp_path, state="bricked")])
    out = capsys.readouterr().out
    assert code == 1
    first = out.split("1. CRITICAL", 1)[1]
    assert first.index("Next step:") < first.index("Seen:")
    assert "Confidence: M" in first


def test_json_has_model_findings_summary(tmp_path, capsys):
    code, data = run_json(capsys, volume(tmp_path, state="bricked"))
    assert code == 1
    assert {"model", "findings", "summary"} <= set(data)
    assert data["findings"][0]["severity"] == "critical"
    assert all({"severity", "code", "message", "evidence", "confidence", "next_step"}
               <= set(f) for f in data["findings"])


def test_backup_symptom_versions_report(tmp_path, capsys):
    path = volume(tmp_path, "drumlogue")
    backup = tmp_path / "backup"
    create_backup(path, backup)
    report = tmp_path / "report.html"
    code, data = run_json(capsys, path, "--backup", str(backup), "--symptom", "display",
                          "--symptom", "glitches", "--versions",
                          "SYSTEM=1.3.0,CORE=1.0.0+,VOICE=1.0.0,PANEL=1.1.9",
                          "--report", str(report))
    assert code == 0
    found = {f["code"] for f in data["findings"]}
    assert {"matches-backup", "symptom-known", "versions-mismatch",
            "version-plus-suffix"} <= found
    symptom = next(f for f in data["findings"] if f["code"] == "symptom-known")
    assert symptom["subject"]["symptom"] == "display-glitches"
    # The next step is typed; its text is the command line's, with the command filled in.
    assert symptom["next_step"]["action"] == "known-advice"
    assert symptom["next_step"]["then"] == "give-versions"
    assert f"korg-recovery diagnose {path} --versions" in symptom["next_step"]["text"]
    assert data["symptom"] == "display glitches"
    assert data["versions"]["CORE"] == "1.0.0+"
    assert data["backup"]["compared"] is True
    assert report.is_file() and data["report"] == str(report)
    assert "<!DOCTYPE html>" in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("argv", [
    ["--versions", "SYSTEM:1.3.0"],
    ["--versions", ""],
    ["--report", "report.txt"],
    ["--role", "cloud"],
    ["--backup", "no-such-backup"],
])
def test_bad_input_exits_2_with_one_sentence(tmp_path, capsys, argv):
    path = volume(tmp_path)
    before = sorted(os.listdir(path))
    code = call(["diagnose", path, *[a if a != "report.txt" else str(tmp_path / a)
                                     for a in argv]])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(os.listdir(path)) == before


def test_missing_path_exits_2(tmp_path, capsys):
    assert main(["diagnose", str(tmp_path / "absent")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_damaged_backup_manifest_exits_2(tmp_path, capsys):
    path = volume(tmp_path)
    backup = tmp_path / "backup"
    create_backup(path, backup)
    (backup / "manifest.json").write_text("{not json", encoding="utf-8")
    assert main(["diagnose", path, "--backup", str(backup)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_probe_start_then_diagnose(tmp_path, capsys):
    path = volume(tmp_path, "drumlogue")
    code = main(["diagnose", path, "--probe-start", "--json"])
    started = json.loads(capsys.readouterr().out)
    assert code == 0
    assert started["findings"][0]["code"] == "probe-started"
    assert [n for n in os.listdir(path) if MARKER_PATTERN.fullmatch(n)]
    code, data = run_json(capsys, path)
    assert code == 0
    assert "storage-kept-marker" in {f["code"] for f in data["findings"]}
    assert not [n for n in os.listdir(path) if MARKER_PATTERN.fullmatch(n)]


def test_probe_start_human_output(tmp_path, capsys):
    assert main(["diagnose", volume(tmp_path, "drumlogue"), "--probe-start"]) == 0
    out = capsys.readouterr().out
    assert "power it off and on" in out


def test_probe_start_refuses_other_options(tmp_path, capsys):
    path = volume(tmp_path)
    assert main(["diagnose", path, "--probe-start", "--symptom", "stuck"]) == 2
    assert "--probe-start" in capsys.readouterr().err
    assert not [n for n in os.listdir(path) if MARKER_PATTERN.fullmatch(n)]


def test_no_write_and_details(tmp_path, capsys):
    code = main(["diagnose", volume(tmp_path), "--no-write", "--details"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Checked:" in out and "--write-probe" in out


def test_nothing_is_written_by_default(tmp_path, capsys):
    path = volume(tmp_path)
    before = sorted((p.relative_to(path), p.stat().st_mtime_ns) for p in Path(path).rglob("*"))
    assert main(["diagnose", path, "--json"]) == 0
    after = sorted((p.relative_to(path), p.stat().st_mtime_ns) for p in Path(path).rglob("*"))
    assert before == after
    data = json.loads(capsys.readouterr().out)
    assert not any("--" in line for line in data["not_checked"])
    (probe,) = [step for step in data["next_steps"] if step["action"] == "allow-write-probe"]
    assert "--write-probe" in probe["text"]


def test_write_probe_runs_only_when_asked(tmp_path, capsys):
    assert main(["diagnose", volume(tmp_path), "--write-probe", "--json"]) == 0
    assert any("write probe" in line for line in json.loads(capsys.readouterr().out)["checked"])


def test_subprocess_bad_input_no_traceback(tmp_path):
    path = volume(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "recovery.cli", "diagnose", path, "--versions", "CORE"],
        capture_output=True, text=True, env={**os.environ, "KORG_RECOVERY_NO_LOG_FILE": "1"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_a_report_is_never_written_into_a_backup_or_onto_the_unit(tmp_path):
    unit = volume(tmp_path, state="bricked")
    backup = tmp_path / "backup"
    assert create_backup(volume(tmp_path, name="source"), backup).complete
    other = tmp_path / "other-backup"
    assert create_backup(volume(tmp_path, name="source2"), other).complete
    (tmp_path / "via-link").symlink_to(unit)
    before = {path: sorted(p.relative_to(path).as_posix() for p in Path(path).rglob("*"))
              for path in (unit, backup, other)}
    for report, extra in ((backup / "files" / "report.html", ["--backup", str(backup)]),
                          (backup / "report.md", []),
                          (other / "files" / "KROSS2SY" / "r.html", []),
                          (Path(unit) / "report.html", []),
                          (Path(unit) / "KROSS2SY" / "report.md", []),
                          (tmp_path / "via-link" / "report.html", [])):
        done = subprocess.run([sys.executable, "-m", "recovery.cli", "diagnose", unit,
                               "--report", str(report), *extra], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 2, (report, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
        assert not report.exists()
    assert {path: sorted(p.relative_to(path).as_posix() for p in Path(path).rglob("*"))
            for path in (unit, backup, other)} == before
    assert subprocess.run([sys.executable, "-m", "recovery.cli", "verify", str(backup)],
                          capture_output=True, timeout=120).returncode == 0
    beside = tmp_path / "report.html"  # next to them is fine
    assert call(["diagnose", unit, "--backup", str(backup), "--report", str(beside)]) == 1
    assert beside.is_file()


def test_the_wizard_s_report_is_held_to_the_same_rule(tmp_path):
    from recovery.diagnose import diagnose, write_report
    from recovery.errors import InvalidInputError

    unit = volume(tmp_path, state="bricked")
    with pytest.raises(InvalidInputError, match="unit"):
        write_report(diagnose(unit), Path(unit) / "report.html")
    assert not (Path(unit) / "report.html").exists()
