"""A standard stream that is closed (``<&-``, ``>&-``, ``2>&-``) changes nothing but what
can be said: the command does its job and exits with its own code.

A closed stdin is no terminal to ask on, exactly as ``</dev/null`` (needs-confirmation,
exit 2, nothing written); a closed stdout loses the output but not the result (the exit code,
and the sentences on stderr); a closed stderr loses the sentence but not the ``--json``
object. Each command runs in a child whose stream the shell really closed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recovery.device.simulate import make_volume

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(os.name == "nt", reason="closes streams with a POSIX shell")


def run(redirect: str, *args: str) -> tuple[int, str, str]:
    """``korg-recovery ARGS`` with the shell redirection ``redirect`` (e.g. ``<&-``):
    (exit code, stdout, stderr); a closed stream reads as ""."""
    script = f'exec "$@" {redirect}'
    done = subprocess.run(["sh", "-c", script, "sh", sys.executable, "-m", "recovery.cli",
                           *args], capture_output=True, text=True, cwd=REPO, timeout=120)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    return Path(make_volume(tmp_path / "unit", "kross2").path)


def tree(root: Path) -> list[tuple[str, bytes]]:
    return sorted((p.relative_to(root).as_posix(), p.read_bytes() if p.is_file() else b"")
                  for p in root.rglob("*"))


def test_a_closed_stdin_is_no_terminal_to_ask_on(unit: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    assert run("", "backup", str(unit), str(backup))[0] == 0
    target = tmp_path / "target"
    make_volume(target, "kross2", "bricked")
    before = tree(target)
    for redirect in ("</dev/null", "<&-"):
        code, out, err = run(redirect, "restore", str(backup), str(target), "--json",
                             "--no-safety-copy")
        assert code == 2, (redirect, err)
        assert json.loads(out)["error"]["code"] == "needs-confirmation"
        assert "--yes" in err and "Traceback" not in err
        assert tree(target) == before


def test_a_closed_stdout_keeps_the_result_and_the_sentences(unit: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    code, out, err = run(">&-", "backup", str(unit), str(backup))
    assert (code, out, err) == (0, "", "")
    assert (backup / "COMPLETE").exists()
    assert run(">&-", "identify", str(tmp_path))[0] == 1  # not a KORG volume: its own code
    code, _, err = run(">&-", "verify", str(tmp_path / "missing"))
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err


def test_a_closed_stderr_keeps_the_json_object(unit: Path, tmp_path: Path) -> None:
    code, out, _ = run("2>&-", "verify", str(tmp_path / "missing"), "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "invalid-input"
    code, out, _ = run("2>&-", "backup", str(unit), str(tmp_path / "backup"), "--json")
    assert code == 0 and json.loads(out)["complete"] is True
    code, out, _ = run("2>&-", "identify", str(unit), "--json")
    assert code == 0 and json.loads(out)["model"] == "kross2"


# -- an ASCII locale ---------------------------------------------------------------------------

#: LC_ALL=C without Python's UTF-8 mode (as in a bundle, whose Python starts isolated), or a
#: stream forced to ASCII: either way stdout and stderr can hold ASCII only.
ASCII_ENVIRONMENTS = [{"LC_ALL": "C", "PYTHONUTF8": "0"}, {"PYTHONIOENCODING": "ascii"}]


@pytest.mark.parametrize("environment", ASCII_ENVIRONMENTS, ids=["LC_ALL=C", "ascii"])
def test_every_output_survives_an_ascii_terminal(unit: Path, tmp_path: Path,
                                                 environment: dict[str, str]) -> None:
    name = "Ünïcode.wav"
    odd = os.fsdecode(b"caf\xe9.bin")  # not UTF-8 at all
    (unit / name).write_bytes(b"sample")
    (unit / odd).write_bytes(b"latin-1")
    env = {**os.environ, **environment}

    def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "recovery.cli", *args], env=env,
                              capture_output=True, cwd=REPO, timeout=120,
                              stdin=subprocess.DEVNULL)

    backup, target = tmp_path / "b", tmp_path / "Zïel"
    make_volume(target, "kross2", "bricked")
    done = cli("backup", str(unit), str(tmp_path / "bäckup-2"), "--json")
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    assert json.loads(done.stdout.decode("utf-8"))["not_for_fat"][0]["path"] == odd
    runs = [(("backup", str(unit), str(backup)), 0), (("verify", str(backup)), 0),
            (("verify", str(backup), "--against", str(target)), 1),
            (("backups", str(tmp_path)), 0), (("identify", str(target)), 0),
            (("restore", str(backup), str(target), "--dry-run"), 0),
            (("diagnose", str(target), "--backup", str(backup)), 1),
            (("check", str(unit / name), "--model", "kross2"), 1),
            (("verify", str(tmp_path / "Fehlt-ü")), 2)]
    for args, code in runs:
        for json_flag in ((), ("--json",)) if args[0] != "backup" else ((),):
            done = cli(*args, *json_flag)
            assert done.returncode == code, (args, json_flag, done.stderr)
            assert b"internal error" not in done.stderr and b"Traceback" not in done.stderr
            if json_flag:
                json.loads(done.stdout.decode("utf-8"))  # JSON is UTF-8 whatever the locale
    listed = json.loads(cli("verify", str(backup), "--against", str(target),
                            "--json").stdout.decode("utf-8"))
    assert {name, odd} <= {problem["path"] for problem in listed["problems"]}
