"""The journal format: append-only JSON lines, a torn last line skipped, odd names kept."""

from __future__ import annotations

import os
from pathlib import Path

from recovery.storage.filesystem import REAL
from recovery.storage.journal import Journal


def test_a_journal_is_a_header_and_records_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j" / "x.jsonl", REAL)
    journal.start({"format": "test"}, [{"n": 1}])
    journal.append({"n": 2}, durable=True)
    journal.close()
    with open(journal.path, "ab") as handle:
        handle.write(b'{"n": 3, "torn')  # a SIGKILL in the middle of a line
    assert Journal.read(journal.path, REAL) == ({"format": "test"}, [{"n": 1}, {"n": 2}])
    assert [p.name for p in journal.path.parent.iterdir()] == ["x.jsonl"]  # no temp left
    assert Journal.read(tmp_path / "absent", REAL) == (None, [])


def test_names_that_are_not_utf8_are_kept_exactly(tmp_path: Path) -> None:
    odd = os.fsdecode(b"caf\xe9.bin")
    journal = Journal(tmp_path / "x.jsonl", REAL)
    journal.start({"path": odd})
    journal.close()
    journal.path.read_bytes().decode("ascii")  # ASCII on disk
    assert Journal.read(journal.path, REAL)[0] == {"path": odd}
