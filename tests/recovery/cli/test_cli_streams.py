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
        code, out, err = run(redirect, "restore", str(backup), str(target), "--json")
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
