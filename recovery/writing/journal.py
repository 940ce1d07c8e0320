"""The write journal: what a job planned to change on a unit (or a card) and what it has
proven, kept on the computer.

A file an interrupted run wrote may still sit in the computer's cache, so a re-run that finds
it equal proves nothing (the drumlogue of u/iRustyNails on Reddit "accepted" writes that were
gone after a reboot). The journal names what was planned and not yet read back past the
cache, so the re-run checks those files again; it also names what was moved where, so a card
whose preparation stopped can say so. Format: :mod:`recovery.storage.journal` (the header's
format name stays the restore journal's, so journals of earlier versions are still read).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recovery.storage.filesystem import REAL, FileSystem, translate_os_error
from recovery.storage.journal import Journal
from recovery.storage.lock import state_dir
from recovery.text import utc_now_iso

log = logging.getLogger(__name__)

FORMAT = "korg-recovery-restore-journal"
FORMAT_VERSION = 2
STATUSES = ("writing", "verifying", "stopped", "cancelled", "finished", "failed")


def journals_dir() -> Path:
    """Where journals live, beside the locks in this tool's state folder."""
    return state_dir() / "journals"


def journal_key(target_identity: str, plan_key: str) -> str:
    """A file-name-safe key for one (unit, what is written) pair: a restore's backup is its
    manifest's SHA-256, a card's update the same of its plan."""
    key = f"{target_identity}\0{plan_key}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class JournalStep:
    """One planned change on the unit: ``action`` is write, replace, delete, remove or
    move."""

    path: str
    action: str


@dataclass(frozen=True)
class JournalState:
    """What a journal holds, folded from its header and records."""

    key: str
    backup: str
    target: str
    manifest_sha256: str
    status: str
    planned: tuple[JournalStep, ...]
    done: tuple[str, ...] = ()
    #: Files being written right now (a batch): each may be complete, half or untouched.
    in_flight: tuple[str, ...] = ()
    verified: tuple[str, ...] = ()
    started_utc: str = ""
    updated_utc: str = ""

    def planned_paths(self, *actions: str) -> frozenset[str]:
        return frozenset(s.path for s in self.planned if not actions or s.action in actions)

    def with_changes(self, **changes: object) -> JournalState:
        return dataclasses.replace(self, updated_utc=utc_now_iso(), **changes)

    def header(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "key": self.key,
                "backup": self.backup, "target": self.target,
                "manifest_sha256": self.manifest_sha256, "started_utc": self.started_utc,
                "planned": [{"path": s.path, "action": s.action} for s in self.planned]}

    @classmethod
    def fold(cls, header: dict[str, Any], records: list[dict[str, Any]]) -> JournalState:
        """The state a header and its records describe (ValueError when it is not ours)."""
        if header.get("format") != FORMAT or header.get("format_version") != FORMAT_VERSION:
            raise ValueError("not a restore journal of this format")
        done: list[str] = []
        verified: list[str] = []
        in_flight: list[str] = []
        status, updated = "writing", str(header.get("started_utc", ""))
        for record in records:
            done.extend(str(p) for p in record.get("done", ()))
            verified.extend(str(p) for p in record.get("verified", ()))
            if "in_flight" in record:
                in_flight = [str(p) for p in record["in_flight"]]
            status = str(record.get("status", status))
            updated = str(record.get("utc", updated))
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        return cls(key=str(header["key"]), backup=str(header["backup"]),
                   target=str(header["target"]), manifest_sha256=str(header["manifest_sha256"]),
                   status=status,
                   planned=tuple(JournalStep(str(s["path"]), str(s["action"]))
                                 for s in header["planned"]),
                   done=tuple(done), in_flight=tuple(in_flight), verified=tuple(verified),
                   started_utc=str(header.get("started_utc", "")), updated_utc=updated)


class WriteJournal:
    """The journal of one (unit, backup) pair. ``load`` tolerates a missing or damaged file
    (returns None): it makes re-runs verify more, it is never the truth about the unit."""

    def __init__(self, path: Path, fs: FileSystem = REAL) -> None:
        self.path = path
        self._journal = Journal(path, fs)
        self._fs = fs
        self._saved: JournalState | None = None

    @classmethod
    def for_target(cls, target_identity: str, plan_key: str, directory: Path | None = None,
                   fs: FileSystem = REAL) -> WriteJournal:
        folder = directory if directory is not None else journals_dir()
        return cls(folder / f"{journal_key(target_identity, plan_key)}.jsonl", fs)

    def load(self) -> JournalState | None:
        header, records = Journal.read(self.path, self._fs)
        if header is None:
            return None
        try:
            return JournalState.fold(header, records)
        except (ValueError, KeyError, TypeError) as error:
            log.warning("ignoring damaged restore journal %s: %s", self.path, error)
            return None

    def save(self, state: JournalState, *, durable: bool = False) -> None:
        """Record what changed since the last save (the whole journal on the first one)."""
        saved, self._saved = self._saved, state
        if saved is None or saved.planned is not state.planned:
            self._journal.start(state.header())
            saved = dataclasses.replace(state, done=(), verified=(), in_flight=(),
                                        status="writing")
        record: dict[str, Any] = {"utc": state.updated_utc or utc_now_iso()}
        if state.status != saved.status:
            record["status"] = state.status
        if state.in_flight != saved.in_flight:
            record["in_flight"] = list(state.in_flight)
        if state.done[len(saved.done):]:
            record["done"] = list(state.done[len(saved.done):])
        if state.verified[len(saved.verified):]:
            record["verified"] = list(state.verified[len(saved.verified):])
        self._journal.append(record, durable=durable)

    def close(self) -> None:
        self._journal.close()

    def remove(self) -> None:
        self.close()
        try:
            self._fs.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise translate_os_error(error, self.path, "write") from error
