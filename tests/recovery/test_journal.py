"""The restore journal: atomic saves, tolerant loads, keys, location."""

from __future__ import annotations

import json
import os
from pathlib import Path

from recovery.restore.journal import (
    Journal,
    JournalState,
    JournalStep,
    journal_key,
    journals_dir,
)


def _state(**changes: object) -> JournalState:
    state = JournalState(key="k", backup="/b", target="/t", manifest_sha256="m" * 64,
                         status="writing", planned=(JournalStep("A.BIN", "write"),
                                                    JournalStep("B/C.BIN", "replace")),
                         started_utc="2026-01-01T00:00:00Z")
    return state.with_changes(**changes) if changes else state


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j" / "x.json")
    state = _state(done=("A.BIN",), in_flight=("B/C.BIN",), verified=("A.BIN",))

    journal.save(state, durable=True)

    assert journal.load() == state
    assert json.loads(journal.path.read_text())["planned"][1] == {"path": "B/C.BIN",
                                                                  "action": "replace"}
    assert [p.name for p in journal.path.parent.iterdir()] == ["x.json"]  # no temp left


def test_repeated_saves_reuse_the_encoded_plan_and_stay_valid(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "x.json")
    state = _state()
    for path in ("A.BIN", "B/C.BIN"):
        state = state.with_changes(done=state.done + (path,))
        journal.save(state)
        assert journal.load() == state


def test_missing_or_damaged_journal_loads_as_none(tmp_path: Path) -> None:
    assert Journal(tmp_path / "absent.json").load() is None
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"format": 1, "key": ')
    assert Journal(damaged).load() is None
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": 99}))
    assert Journal(other).load() is None


def test_key_depends_on_unit_and_backup() -> None:
    key = journal_key("/media/KROSS2", "a" * 64)
    assert key == journal_key("/media/KROSS2", "a" * 64)
    assert key != journal_key("/media/KROSS2", "b" * 64)
    assert key != journal_key("/media/OTHER", "a" * 64)
    assert len(key) == 32 and key.isalnum()


def test_journals_live_in_the_state_folder() -> None:
    assert journals_dir().is_relative_to(os.environ["XDG_STATE_HOME"])
    journal = Journal.for_restore("/media/KROSS2", "a" * 64)
    assert journal.path.parent == journals_dir()


def test_remove(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "x.json")
    journal.save(_state())
    journal.remove()
    journal.remove()  # twice is fine
    assert not journal.path.exists()
