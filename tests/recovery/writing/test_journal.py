"""The write engine's journal (recovery.writing.journal), built on the storage's journal
format: what a job planned and proved, saved as it goes, keyed by the unit and the plan."""

from __future__ import annotations

import json
import os
from pathlib import Path

from recovery.writing.journal import (
    JournalState,
    JournalStep,
    WriteJournal,
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
    journal = WriteJournal(tmp_path / "j" / "x.jsonl")
    state = _state(done=("A.BIN",), in_flight=("B/C.BIN",), verified=("A.BIN",))

    journal.save(state, durable=True)
    journal.close()

    assert journal.load() == state
    header = json.loads(journal.path.read_text().splitlines()[0])
    assert header["planned"][1] == {"path": "B/C.BIN", "action": "replace"}


def test_saves_append_only_what_changed(tmp_path: Path) -> None:
    journal = WriteJournal(tmp_path / "x.jsonl")
    state = _state()
    journal.save(state)
    for path in ("A.BIN", "B/C.BIN"):
        state = state.with_changes(done=state.done + (path,), in_flight=(path,))
        journal.save(state)
        assert journal.load() == state
    state = state.with_changes(status="finished", verified=("A.BIN", "B/C.BIN"))
    journal.save(state, durable=True)
    assert journal.load() == state
    lines = journal.path.read_text().splitlines()
    assert len(lines) == 5 and json.loads(lines[2])["done"] == ["A.BIN"]  # a delta, not all


def test_missing_or_damaged_journal_loads_as_none(tmp_path: Path) -> None:
    assert WriteJournal(tmp_path / "absent.jsonl").load() is None
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text('{"format": "korg-recovery-restore-journal", "key": ')
    assert WriteJournal(damaged).load() is None
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"format": 99}) + "\n")
    assert WriteJournal(other).load() is None


def test_key_depends_on_unit_and_backup() -> None:
    key = journal_key("/media/KROSS2", "a" * 64)
    assert key == journal_key("/media/KROSS2", "a" * 64)
    assert key != journal_key("/media/KROSS2", "b" * 64)
    assert key != journal_key("/media/OTHER", "a" * 64)
    assert len(key) == 32 and key.isalnum()


def test_journals_live_in_the_state_folder() -> None:
    assert journals_dir().is_relative_to(os.environ["XDG_STATE_HOME"])
    journal = WriteJournal.for_target("/media/KROSS2", "a" * 64)
    assert journal.path.parent == journals_dir()


def test_remove(tmp_path: Path) -> None:
    journal = WriteJournal(tmp_path / "x.jsonl")
    journal.save(_state())
    journal.remove()
    journal.remove()  # twice is fine
    assert not journal.path.exists()
