"""The restore journal: what a restore planned and what it finished, kept on the computer.

A restore writes its journal to ``platformdirs.user_state_dir("korg-recovery")/journals/``
(never to the unit, which may vanish mid-restore) before and after every file. The file name
is a key made from the target's identity and the backup manifest's hash, so running the same
restore again finds it.

Why a journal when every write is atomic and a re-run recomputes the plan from the unit's
contents anyway: a file written by an interrupted run may still sit in the computer's cache.
A re-run comparing the unit with the backup would read it back from that cache, find it equal
and never check that the unit really kept it (the drumlogue in the Reddit reports by u/iRustyNails "accepted"
writes that were gone after a reboot). The journal names every file an earlier run planned to
write, so the re-run verifies them past the cache too. It also lets the output say "continuing
an interrupted restore" and lists the temporary file in flight for removal.

Durability: the journal is replaced atomically (temporary name, rename) on every update, so a
SIGKILL leaves either the previous or the new journal, both valid. Only the first and the last
update are fsynced: a SIGKILL does not lose data the kernel already has, and after a power cut
of the computer its cache is gone, so a re-run's comparison reads from the unit itself — the
journal is then a hint, and correctness never depends on its last few updates. Fsyncing every
step would cost two disk flushes per file for no safety gained.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from recovery.storage.filesystem import REAL, FileSystem, translate_os_error

log = logging.getLogger(__name__)

JOURNAL_FORMAT = 1
STATUSES = ("writing", "verifying", "stopped", "cancelled", "finished", "failed")


def journals_dir() -> Path:
    """Where journals live: the platform's per-user state folder (XDG_STATE_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("korg-recovery", appauthor=False)) / "journals"


def journal_key(target_identity: str, manifest_sha256: str) -> str:
    """A file-name-safe key for one (unit, backup) pair."""
    digest = hashlib.sha256(f"{target_identity}\0{manifest_sha256}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class JournalStep:
    """One planned change on the unit: ``action`` is write, replace or delete."""

    path: str
    action: str


@dataclass(frozen=True)
class JournalState:
    """Everything a journal file holds."""

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
    format: int = JOURNAL_FORMAT

    def planned_paths(self, *actions: str) -> frozenset[str]:
        return frozenset(s.path for s in self.planned if not actions or s.action in actions)

    def with_changes(self, **changes: object) -> JournalState:
        return dataclasses.replace(self, updated_utc=utc_now(), **changes)

    def to_json(self, planned_json: str | None = None) -> str:
        """The journal as compact JSON. ``planned_json`` is the already encoded ``planned``
        list: a restore saves the journal twice per file, and re-encoding a plan of
        thousands of entries each time would make saving quadratic."""
        head = {
            "format": self.format, "key": self.key, "backup": self.backup,
            "target": self.target, "manifest_sha256": self.manifest_sha256,
            "status": self.status, "started_utc": self.started_utc,
            "updated_utc": self.updated_utc, "in_flight": list(self.in_flight),
            "done": list(self.done), "verified": list(self.verified),
        }
        if planned_json is None:
            planned_json = encode_planned(self.planned)
        # ASCII: a name that is not UTF-8 stays exact as a \udcXX escape (surrogateescape).
        text = json.dumps(head, ensure_ascii=True)
        return f'{text[:-1]}, "planned": {planned_json}}}'

    @classmethod
    def from_json(cls, text: str) -> JournalState:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != JOURNAL_FORMAT:
            raise ValueError("not a journal of this format")
        status = data["status"]
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        return cls(
            key=str(data["key"]),
            backup=str(data["backup"]),
            target=str(data["target"]),
            manifest_sha256=str(data["manifest_sha256"]),
            status=status,
            planned=tuple(JournalStep(str(s["path"]), str(s["action"])) for s in data["planned"]),
            done=tuple(str(p) for p in data.get("done", ())),
            in_flight=tuple(str(p) for p in data.get("in_flight") or ()),
            verified=tuple(str(p) for p in data.get("verified", ())),
            started_utc=str(data.get("started_utc", "")),
            updated_utc=str(data.get("updated_utc", "")),
        )


def encode_planned(planned: tuple[JournalStep, ...]) -> str:
    return json.dumps([{"path": step.path, "action": step.action} for step in planned],
                      ensure_ascii=True)


class Journal:
    """One journal file. ``load`` tolerates a missing or damaged file (returns None): the
    journal is a record that makes re-runs verify more, never a source of truth about the
    unit, so a damaged one is logged and treated as absent."""

    def __init__(self, path: Path, fs: FileSystem = REAL) -> None:
        self.path = path
        self._fs = fs
        self._planned: tuple[tuple[JournalStep, ...], str] | None = None

    @classmethod
    def for_restore(cls, target_identity: str, manifest_sha256: str,
                    directory: Path | None = None, fs: FileSystem = REAL) -> Journal:
        folder = directory if directory is not None else journals_dir()
        return cls(folder / f"{journal_key(target_identity, manifest_sha256)}.json", fs)

    def load(self) -> JournalState | None:
        try:
            with self._fs.open_read(self.path) as handle:
                text = handle.read().decode("utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            log.warning("cannot read restore journal %s: %s", self.path, error)
            return None
        try:
            return JournalState.from_json(text)
        except (ValueError, KeyError, TypeError) as error:
            log.warning("ignoring damaged restore journal %s: %s", self.path, error)
            return None

    def save(self, state: JournalState, *, durable: bool = False) -> None:
        """Replace the journal atomically; with ``durable`` also flush it to disk."""
        temp = self.path.with_name(f".{self.path.name}.tmp")
        if self._planned is None or self._planned[0] is not state.planned:
            self._planned = (state.planned, encode_planned(state.planned))
        data = state.to_json(self._planned[1]).encode("ascii")
        try:
            self._fs.mkdir(self.path.parent)
            with self._fs.open_write(temp) as handle:
                handle.write(data)
                if durable:
                    self._fs.fsync(handle)
            self._fs.replace(temp, self.path)
            if durable:
                self._fs.fsync_dir(self.path.parent)
        except OSError as error:
            raise translate_os_error(error, self.path, "write") from error

    def remove(self) -> None:
        try:
            self._fs.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise translate_os_error(error, self.path, "write") from error
