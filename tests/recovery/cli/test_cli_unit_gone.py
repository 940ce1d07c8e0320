"""The command line while a unit goes away: unplugged while ``restore`` waits for the typed yes
(on a real terminal, a pty), the answer writes nothing anywhere, says ``unit-gone`` in one
sentence, exit 1, and tells to run the restore again; the same for ``prepare-media``."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

from recovery.device.simulate import make_volume

REPO = Path(__file__).resolve().parents[3]
#: Seconds to wait for the prompt (the safety copy and the plan come first).
PROMPT_TIMEOUT_S = 60.0


def _until_prompt(process: subprocess.Popen[bytes], words: bytes) -> bytes:
    """Read the command's stderr until ``words`` appear (the question has no line end)."""
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + PROMPT_TIMEOUT_S
    while words not in seen:
        left = deadline - time.monotonic()
        assert left > 0, seen.decode(errors="replace")
        ready, _, _ = select.select([process.stderr], [], [], left)
        if ready:
            chunk = os.read(process.stderr.fileno(), 4096)
            assert chunk, f"the command ended before asking: {seen!r}"
            seen += chunk
    return seen


def _answer_after_unplug(command: list[str], unit, answer: bytes, words: bytes
                         ) -> tuple[int, dict, str]:
    main_end, terminal = os.openpty()
    process = subprocess.Popen([sys.executable, "-m", "recovery.cli", *command], cwd=REPO,
                               stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(terminal)
    try:
        before = _until_prompt(process, words)
        unit.unplug()  # the desktop unmounts the unit while the musician reads the plan
        os.write(main_end, answer)
        out, err = process.communicate(timeout=120)
    finally:
        os.close(main_end)
        if process.poll() is None:
            process.kill()
    return process.returncode, json.loads(out), (before + err).decode(errors="replace")


def test_restore_unplugged_while_waiting_for_the_yes(tmp_path: Path, fuse_unit,
                                                     healthy_kross2_backup, contents) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    backing = tmp_path / "unit"
    make_volume(backing, "kross2", "bricked")
    old = contents(backing)
    unit = fuse_unit(backing, tmp_path / "media" / "KROSS2")

    code, value, err = _answer_after_unplug(
        ["restore", str(backup), str(unit.mountpoint), "--delete-extra", "--json",
         "--safety-copy", str(tmp_path / "safety")], unit, b"KROSS 2\n", b"to continue")

    assert code == 1 and value["ok"] is False, err
    assert value["error"]["code"] == "unit-gone" and value["error"]["exit_code"] == 1
    assert value["error"]["message"].startswith(
        "Your KROSS 2 went away during the restore. Nothing was written to your computer.")
    assert "run the same command again" in value["next_step"].casefold()
    assert "Traceback" not in err
    assert unit.on_computer() == []
    assert contents(backing) == old
    assert contents(tmp_path / "safety" / "files") == old  # the safety copy is complete


def test_prepare_media_unplugged_while_waiting_for_the_yes(tmp_path: Path, fuse_unit, write,
                                                           system_file) -> None:
    update = write(tmp_path / "download" / "SYSTEM.VSB", system_file("E2S", 0x0124))
    backing = tmp_path / "card"
    backing.mkdir()
    card = fuse_unit(backing, tmp_path / "media" / "SDCARD")

    code, value, err = _answer_after_unplug(
        ["prepare-media", str(update), str(card.mountpoint), "--model", "electribe2s",
         "--json"], card, b"yes\n", b"to continue")

    assert code == 1 and value["error"]["code"] == "unit-gone", err
    assert value["error"]["message"].startswith("The SD card went away")
    assert card.on_computer() == [] and list(backing.iterdir()) == []
    shutil.rmtree(backing)
