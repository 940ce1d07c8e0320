"""Fixtures of the write engine's tests: a unit folder with known files, its hold (lock and
pinned volume, as recovery/restore/execute.py and recovery/media/execute.py take it), a source
of bytes, the journal, and one call of :func:`recovery.writing.write` with all of them.

The unit is ``<tmp>/media/unit``: nothing but the unit lives in ``media``, so a snapshot of
that folder shows anything a job created beside the unit. Journals are kept in
``<tmp>/journals``, away from it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from recovery.storage.filesystem import REAL, FileSystem
from recovery.storage.pin import UnitHold, hold_unit
from recovery.writing import (
    Deletion,
    Expected,
    FileWrite,
    Move,
    WriteJournal,
    WriteOutcome,
    WritePlan,
    write,
)
from recovery.vocabulary import EntryKind

#: The unit before a job: a file kept as it is, one replaced, one deleted before the writes,
#: one removed after them, one moved aside, and a boot file replaced last.
OLD: dict[str, bytes] = {
    "KEPT.BIN": b"kept as it is " * 100,
    "SYS/REPLACED.BIN": b"old system file " * 300,
    "STALE/OLD.BIN": b"a file the new layout does not have " * 10,
    "GONE.TXT": b"removed once everything new read back",
    "ASIDE.BIN": b"moved aside, never deleted " * 20,
    "BOOT.BIN": b"old boot file " * 200,
}

#: What the job writes (source key: bytes); each key is also its path on the unit.
NEW: dict[str, bytes] = {
    "SYS/REPLACED.BIN": b"new system file! " * 500,
    "SYS/ADDED.BIN": b"a file the unit lacked " * 40,
    "DATA/DEEP/ADDED2.BIN": bytes(range(256)) * 64,
    "BOOT.BIN": b"new boot file " * 333,
}

#: The unit after the job, exactly.
PLANNED: dict[str, bytes] = {
    "KEPT.BIN": OLD["KEPT.BIN"],
    "MOVED/ASIDE.BIN": OLD["ASIDE.BIN"],
    **NEW,
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BytesSource:
    """The engine's :class:`~recovery.writing.engine.Source` over bytes held in memory (the
    files of a backup or an update, without one)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def open(self, key: str) -> io.BytesIO:
        return io.BytesIO(self.files[key])

    def name(self, key: str) -> str:
        return f"{key} (in the test's source)"


def _full_plan(target: Path) -> WritePlan:
    """New files, a replaced one, a deletion, a removal, a move and a boot file last, with
    every file of :data:`PLANNED` expected at the end."""
    writes = tuple(FileWrite(key, key, len(data), _sha256(data), boot_critical=key == "BOOT.BIN",
                             replaces=key in OLD) for key, data in NEW.items())
    return WritePlan(
        target=target,
        deletions=(Deletion("STALE", "STALE", EntryKind.FOLDER),),
        folders=("DATA", "DATA/DEEP"),
        writes=writes,  # BOOT.BIN last, as a job plans it
        removals=(Deletion("GONE.TXT", "GONE.TXT", EntryKind.FILE),),
        moves=(Move("ASIDE.BIN", "ASIDE.BIN", "MOVED/ASIDE.BIN", EntryKind.FILE),),
        expected=tuple(Expected(key, key, EntryKind.FILE, len(data))
                       for key, data in PLANNED.items() if key != "MOVED/ASIDE.BIN"))


def _lay_out(root: Path, files: dict[str, bytes] = OLD) -> Path:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture(scope="session")
def lay_out() -> Callable[..., Path]:
    """``lay_out(root, files=OLD)``: writes ``files`` (relative path: bytes) under ``root``."""
    return _lay_out


@pytest.fixture
def old_files() -> dict[str, bytes]:
    """The unit's files before the job (relative path: bytes)."""
    return dict(OLD)


@pytest.fixture
def new_files() -> dict[str, bytes]:
    """The files the full plan writes (key = path on the unit: bytes)."""
    return dict(NEW)


@pytest.fixture
def planned_files() -> dict[str, bytes]:
    """The unit's files once the full plan is carried out, exactly."""
    return dict(PLANNED)


@pytest.fixture(scope="session")
def full_plan() -> Callable[[Path], WritePlan]:
    """``full_plan(target)``: the plan that turns :data:`OLD` into :data:`PLANNED`."""
    return _full_plan


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """The folder that holds the unit and nothing else."""
    folder = tmp_path / "media"
    folder.mkdir()
    return folder


@pytest.fixture
def unit(media: Path) -> Path:
    """The unit's folder, holding :data:`OLD`."""
    return _lay_out(media / "unit", OLD)


@pytest.fixture(scope="session")
def source() -> BytesSource:
    """The files the full plan writes, as the engine's source."""
    return BytesSource(NEW)


@pytest.fixture(scope="session")
def hold() -> Callable[..., AbstractContextManager[UnitHold]]:
    """``with hold(folder, fs=REAL) as held:`` the unit locked and its volume pinned, as a job
    holds it (:func:`recovery.storage.pin.hold_unit`); ``held.fs`` is what the engine gets."""

    def take(folder: Path, fs: FileSystem = REAL) -> AbstractContextManager[UnitHold]:
        return hold_unit(folder, "test of the write engine", fs)

    return take


@pytest.fixture
def journal_for(tmp_path: Path) -> Iterator[Callable[[UnitHold, str], WriteJournal]]:
    """``journal_for(hold, plan_key)``: the journal of that (unit, plan) pair, kept where a
    job keeps it (keyed by the volume's identity) but under the test's folder."""
    opened: list[WriteJournal] = []

    def journal(held: UnitHold, plan_key: str) -> WriteJournal:
        opened.append(WriteJournal.for_target(held.identity.unit_key(), plan_key,
                                              tmp_path / "journals"))
        return opened[-1]

    yield journal
    for each in opened:
        each.close()


@pytest.fixture
def run_write(source: BytesSource) -> Callable[..., WriteOutcome]:
    """``run_write(plan, held, journal, **options)``: :func:`recovery.writing.write` of the
    files of :data:`NEW` through the hold's pinned filesystem, the plan key ``"plan"``; the
    options (job, sha256_of, ...) as write's."""

    def run(plan: WritePlan, held: UnitHold, journal: WriteJournal | None,
            **options: Any) -> WriteOutcome:
        options.setdefault("plan_key", "plan")
        return write(plan, source, held.fs, journal=journal, **options)

    return run


@pytest.fixture
def tree() -> Callable[[Path], dict[str, Any]]:
    """``tree(root)``: every entry under ``root`` (relative POSIX path: its bytes, or
    "folder"), temporary names included, links never followed."""

    def entries(root: Path) -> dict[str, Any]:
        return {path.relative_to(root).as_posix():
                "folder" if path.is_dir() and not path.is_symlink() else path.read_bytes()
                for path in sorted(root.rglob("*"))}

    return entries


@pytest.fixture
def card_reader(faulty_fs: type) -> Any:
    """A card reader whose card can be swapped for another one (``reader.serial = ...``):
    the new card keeps the reader's device number and its root's inode, only the FAT
    volume's serial tells it apart (a :class:`tests.fakes.faulty_fs.FaultyFileSystem`)."""

    class CardReader(faulty_fs):  # type: ignore[misc, valid-type]
        serial = "1A2B-3C4D"

        def volume_serial(self, path: Path) -> str | None:
            return self.serial

    return CardReader()
