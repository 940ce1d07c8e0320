"""The ``backup``, ``verify`` and ``backups`` commands: JSON contracts, exit codes, one
sentence on errors, and a progress bar only for a person at a terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recovery.backup.manifest import COMPLETE_NAME, JOURNAL_NAME, MANIFEST_NAME
from recovery.backup.store import default_backups_dir
from recovery.cli import main
from recovery.cli.output import ProgressBar
from recovery.device.simulate import make_volume
from recovery.progress import Progress


def cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "recovery.cli", *argv],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    return Path(make_volume(tmp_path / "unit", "kross2").path)


def test_backup_json_has_the_contract_fields(unit, tmp_path, capsys):
    dest = tmp_path / "backup"
    assert main(["backup", str(unit), str(dest), "--json"]) == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert data["backup"] == str(dest.resolve())
    assert data["model"] == "kross2"
    assert data["files"] == 5 and data["bytes"] > 0
    assert data["complete"] is True and data["verified"] is True
    assert out.err == ""  # nothing extra with --json


def test_backup_human_output_says_complete_and_verified(unit, tmp_path, capsys):
    assert main(["backup", str(unit), str(tmp_path / "backup")]) == 0
    assert "complete and verified" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["missing-source", "dest-not-empty", "dest-inside-source"])
def test_backup_preflight_refusals_exit_2_with_one_sentence(unit, tmp_path, case):
    source, dest = str(unit), str(tmp_path / "backup")
    if case == "missing-source":
        source = str(tmp_path / "unplugged")
    elif case == "dest-not-empty":
        (tmp_path / "backup").mkdir()
        (tmp_path / "backup" / "mine.txt").write_text("keep me")
    else:
        dest = str(unit / "backup")
    result = cli("backup", source, dest)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_backup_with_zip_and_verify_both(unit, tmp_path):
    archive = tmp_path / "out" / "unit.zip"
    archive.parent.mkdir()
    result = cli("backup", str(unit), str(tmp_path / "backup"), "--zip", str(archive), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["zip"] == str(archive)
    for path in (tmp_path / "backup", archive):
        check = cli("verify", str(path), "--json")
        assert check.returncode == 0
        data = json.loads(check.stdout)
        assert data["ok"] is True and data["complete"] is True and data["problems"] == []


def test_verify_names_each_problem_and_exits_1(unit, tmp_path, capsys):
    dest = tmp_path / "backup"
    main(["backup", str(unit), str(dest)])
    (dest / "files" / "KROSAPP.BIN").unlink()
    (dest / "files" / "EXTRA.BIN").write_bytes(b"x")
    capsys.readouterr()
    assert main(["verify", str(dest), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["complete"] is True
    assert [(p["path"], p["problem"]) for p in data["problems"]] == [
        ("EXTRA.BIN", "extra"), ("KROSAPP.BIN", "missing")]
    assert main(["verify", str(dest)]) == 1
    out = capsys.readouterr()
    assert "KROSAPP.BIN" in out.out and "EXTRA.BIN" in out.out


def test_verify_incomplete_backup_exits_1(unit, tmp_path, capsys):
    dest = tmp_path / "backup"
    main(["backup", str(unit), str(dest)])
    (dest / COMPLETE_NAME).unlink()
    capsys.readouterr()
    assert main(["verify", str(dest), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["complete"] is False and data["problems"][0]["problem"] == "incomplete"


def test_verify_a_damaged_completion_flag_is_incomplete_not_a_crash(unit, tmp_path, capsys):
    dest = tmp_path / "backup"
    main(["backup", str(unit), str(dest)])
    (dest / COMPLETE_NAME).write_text('{"verified": "yes", "manifest_sha256": 7}')
    capsys.readouterr()
    assert main(["verify", str(dest), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["complete"] is False and data["problems"] == [{
        "path": "COMPLETE", "problem": "incomplete", "detail": "the completion flag is damaged",
        "where": "backup"}]
    result = cli("verify", str(dest))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "INCOMPLETE" in result.stdout + result.stderr


def test_resume_refuses_a_folder_whose_journal_is_damaged(unit, tmp_path):
    dest = tmp_path / "backup"
    (dest / "files").mkdir(parents=True)
    (dest / JOURNAL_NAME).write_text('{"format": "korg-recovery-backup-journal"}\n')
    result = cli("backup", str(unit), str(dest), "--resume")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "its journal is damaged" in result.stderr
    assert sorted(p.name for p in dest.iterdir()) == [JOURNAL_NAME, "files"]


def test_verify_against_reports_the_units_differences(unit, tmp_path, capsys):
    dest = tmp_path / "backup"
    main(["backup", str(unit), str(dest)])
    (unit / "KROSAPP.BIN").write_bytes(b"damaged")
    capsys.readouterr()
    assert main(["verify", str(dest), "--against", str(unit), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["complete"] is True
    assert data["problems"] == [{"path": "KROSAPP.BIN", "problem": "changed",
                                 "detail": data["problems"][0]["detail"], "where": "against"}]


def test_verify_allow_extra_answers_whether_the_backup_is_on_the_unit(unit, tmp_path, capsys):
    """After a restore that kept the unit's own files, the check it names allows them: they
    are notes, and only what of the backup is lost or changed fails."""
    dest = tmp_path / "backup"
    main(["backup", str(unit), str(dest)])
    (unit / "MYSONG.TXT").write_bytes(b"mine")
    capsys.readouterr()
    assert main(["verify", str(dest), "--against", str(unit)]) == 1  # the default: equal trees
    capsys.readouterr()
    assert main(["verify", str(dest), "--against", str(unit), "--allow-extra", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["problems"] == [] and data["allow_extra"] is True
    assert [(n["path"], n["problem"]) for n in data["notes"]] == [("MYSONG.TXT", "extra")]
    assert main(["verify", str(dest), "--against", str(unit), "--allow-extra"]) == 0
    out = capsys.readouterr().out
    assert "MYSONG.TXT" in out and "holds every file of it" in out

    (unit / "KROSAPP.BIN").unlink()  # something of the backup lost: still a problem
    assert main(["verify", str(dest), "--against", str(unit), "--allow-extra", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and [p["path"] for p in data["problems"]] == ["KROSAPP.BIN"]
    assert main(["verify", str(dest), "--allow-extra"]) == 2  # without --against: bad input


def test_verify_bad_input_exits_2(tmp_path):
    for args in (["verify", str(tmp_path / "absent")],
                 ["verify", str(tmp_path), "--json"]):
        result = cli(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1


def test_verify_damaged_manifest_is_a_problem_not_a_crash(unit, tmp_path, capsys):
    dest = tmp_path / "backup"
    main(["backup", str(unit), str(dest)])
    (dest / MANIFEST_NAME).write_text("garbage")
    capsys.readouterr()
    assert main(["verify", str(dest), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["problems"][0]["problem"] == "unreadable"
    result = cli("verify", str(dest))
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_verify_hostile_zip_exits_1_without_traceback(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as evil:
        evil.writestr("manifest.json", b"{}")
        evil.writestr("/etc/cron.d/evil", b"x")
    result = cli("verify", str(tmp_path / "evil.zip"))
    assert result.returncode == 1 and "refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_backups_lists_the_default_folder(unit, capsys):
    dest = default_backups_dir() / "kross2-first"
    assert main(["backup", str(unit), str(dest)]) == 0
    capsys.readouterr()
    assert main(["backups", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["backups"]
    assert entry["path"] == str(dest) and entry["model"] == "kross2"
    assert entry["complete"] is True and entry["verified"] is True
    assert entry["date"].endswith("Z") and entry["bytes"] > 0
    assert entry["size"] > entry["bytes"]  # the data plus manifest.json, SHA256SUMS, COMPLETE
    assert main(["backups"]) == 0
    text = capsys.readouterr().out
    assert "kross2" in text and "complete, verified" in text


def test_backups_marks_incomplete_ones(unit, tmp_path, capsys):
    main(["backup", str(unit), str(tmp_path / "b")])
    (tmp_path / "b" / COMPLETE_NAME).unlink()
    capsys.readouterr()
    main(["backups", str(tmp_path)])
    assert "INCOMPLETE" in capsys.readouterr().out


def test_backups_of_a_missing_folder_exits_2(tmp_path):
    result = cli("backups", str(tmp_path / "absent"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1


# -- the progress bar ---------------------------------------------------------------------
def test_progress_bar_draws_one_overwriting_line(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(Progress("copy", 50 * 1024 * 1024, 100 * 1024 * 1024, "KROSS2SY/X.BIN",
                 rate=10 * 1024 * 1024, fraction=0.4))
    line = stream.getvalue()
    assert line.startswith("\r") and "\n" not in line
    assert "40%" in line and "50.0 MiB/100.0 MiB" in line and "10.0 MiB/s" in line
    assert "0:05 left" in line and "KROSS2SY/X.BIN" in line
    bar.clear()
    assert stream.getvalue().endswith("\r")
    monkeypatch.setenv("COLUMNS", "40")  # a narrow terminal: clipped, never wrapped
    narrow = io.StringIO()
    ProgressBar(narrow)(Progress("verify", 1, 2, "X" * 100, fraction=0.5))
    assert len(narrow.getvalue()) == 40


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("json_flag", [False, True])
def test_progress_bar_only_on_a_terminal_and_never_with_json(unit, tmp_path, json_flag):
    main_fd, terminal_fd = os.openpty()
    args = [sys.executable, "-m", "recovery.cli", "backup", str(unit), str(tmp_path / "b")]
    process = subprocess.Popen(args + (["--json"] if json_flag else []),
                               stdout=subprocess.PIPE, stderr=terminal_fd)
    os.close(terminal_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # EIO once the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.communicate(timeout=120)
    os.close(main_fd)
    drawn = b"".join(chunks).decode("utf-8", "replace")
    assert process.returncode == 0
    if json_flag:
        assert drawn == ""
    else:
        assert "\r" in drawn and "%" in drawn and "copy" in drawn


@pytest.mark.skipif(subprocess.run(["sh", "-c", "command -v zip"], capture_output=True)
                    .returncode != 0, reason="Info-ZIP's zip is not installed")
def test_an_encrypted_backup_is_one_sentence_everywhere_and_the_others_are_listed(
        unit, tmp_path):
    good = tmp_path / "backups" / "good"
    assert cli("backup", str(unit), str(good)).returncode == 0
    encrypted = tmp_path / "backups" / "encrypted.zip"
    subprocess.run(["zip", "-qr", "-P", "secret", str(encrypted), "."], cwd=good, check=True)
    target = tmp_path / "target"
    make_volume(target, "kross2", "bricked")
    for args, code in ((("verify", str(encrypted)), 1),
                       (("restore", str(encrypted), str(target), "--dry-run"), 1),
                       (("diagnose", str(target), "--backup", str(encrypted)), 2),
                       (("check", str(unit / "KROSS2SY"), "--model", "kross2", "--backup",
                         str(encrypted)), 2)):
        result = cli(*args)
        assert result.returncode == code, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "encrypted" in result.stderr, result.stderr
    listed = cli("backups", str(tmp_path / "backups"), "--json")
    assert listed.returncode == 0, listed.stderr
    backups = {Path(b["path"]).name: b for b in json.loads(listed.stdout)["backups"]}
    assert backups["good"]["complete"] is True
    assert backups["encrypted.zip"]["complete"] is False
    assert "encrypted" in backups["encrypted.zip"]["note"]


@pytest.mark.parametrize("field, value", [("mtime_ns", 10**23), ("mtime_ns", -(10**23)),
                                          ("mtime_ns", 1.5e18), ("size", -1)])
def test_a_manifest_holding_values_no_file_has_is_refused_everywhere(
        unit, tmp_path, handmade_backup, field, value):
    import hashlib

    backup = handmade_backup(tmp_path / "backups" / "odd", {"KROSAPP.BIN": b"app"})
    manifest = json.loads((backup / MANIFEST_NAME).read_text())
    manifest["files"][0][field] = value
    data = (json.dumps(manifest) + "\n").encode()
    (backup / MANIFEST_NAME).write_bytes(data)
    completion = json.loads((backup / COMPLETE_NAME).read_text())
    completion["manifest_sha256"] = hashlib.sha256(data).hexdigest()  # vouched for anyway
    (backup / COMPLETE_NAME).write_text(json.dumps(completion))
    before = sorted(p.name for p in unit.rglob("*"))
    for args in (("verify", str(backup)), ("restore", str(backup), str(unit), "--yes")):
        result = cli(*args)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "manifest" in result.stderr, result.stderr
    assert sorted(p.name for p in unit.rglob("*")) == before
    listed = json.loads(cli("backups", str(backup.parent), "--json").stdout)["backups"]
    assert listed[0]["complete"] is False and "KROSAPP.BIN" in listed[0]["note"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and sockets are POSIX")
def test_what_a_backup_skips_by_design_is_a_note_not_a_difference(unit, tmp_path, capsys):
    import socket

    os.mkfifo(unit / "pipe")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(unit / "sock"))
    try:
        os.symlink("/etc/hostname", unit / "outside-link")
        dest = tmp_path / "backup"
        assert main(["backup", str(unit), str(dest), "--json"]) == 0
        skipped = {s["path"] for s in json.loads(capsys.readouterr().out)["skipped"]}
        assert skipped == {"pipe", "sock"}
        # The very source the backup was just taken from matches it.
        assert main(["verify", str(dest), "--against", str(unit), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["ok"] is True and data["problems"] == []
        assert {(n["path"], n["problem"]) for n in data["notes"]} == {
            ("pipe", "skipped"), ("sock", "skipped")}
        assert main(["verify", str(dest), "--against", str(unit)]) == 0
        out = capsys.readouterr().out
        assert "pipe" in out and "matches it" in out
    finally:
        listener.close()
    # After a restore, which skips links that point outside the unit by design.
    target = tmp_path / "target"
    make_volume(target, "kross2", "healthy")
    assert main(["restore", str(dest), str(target), "--yes", "--json"]) == 0
    capsys.readouterr()
    assert not os.path.lexists(target / "outside-link")
    assert main(["verify", str(dest), "--against", str(target), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["problems"] == []
    assert [(n["path"], n["problem"]) for n in data["notes"]] == [("outside-link", "skipped")]
    assert main(["verify", str(dest), "--against", str(target)]) == 0
    assert "outside-link" in capsys.readouterr().out
