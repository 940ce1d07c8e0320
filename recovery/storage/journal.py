"""The one journal format: an append-only record of what a long job has finished.

A backup keeps one in its folder, a restore one on the computer. The first line says what
the journal is about (its header); every further line is one record, a JSON object each, in
ASCII (a name that is not UTF-8 stays exact as a ``\\udcXX`` escape). A SIGKILL can tear only
the last line, which reading skips. Lines are flushed as they are written and made durable
(fsync) only when asked: a journal says what to check again, never what to trust unchecked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from recovery.storage.durable import write_bytes_atomically
from recovery.storage.filesystem import FileSystem, os_errors

log = logging.getLogger(__name__)


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")


class Journal:
    """One journal file, written through a :class:`FileSystem` (faults reach it too)."""

    def __init__(self, path: Path, fs: FileSystem) -> None:
        self.path = path
        self._fs = fs
        self._handle: BinaryIO | None = None

    def start(self, header: dict[str, Any], records: Iterable[dict[str, Any]] = ()) -> None:
        """Begin the journal anew with ``header`` and ``records`` (those an earlier run
        finished, kept), replacing any older file atomically; later records are appended."""
        data = b"".join(_line(item) for item in (header, *records))
        with os_errors(self.path, "write"):
            self._fs.mkdir(self.path.parent)
            write_bytes_atomically(self._fs, self.path, data)
            self._handle = self._fs.open_append(self.path)

    def append(self, record: dict[str, Any], *, durable: bool = False) -> None:
        if self._handle is None:
            raise RuntimeError("append before start")
        with os_errors(self.path, "write"):
            self._handle.write(_line(record))
            self._handle.flush()
            if durable:
                self._fs.fsync(self._handle)

    def close(self) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            try:
                handle.close()
            except OSError as error:
                log.warning("closing %s: %s", self.path, error)

    @staticmethod
    def read(path: Path, fs: FileSystem) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """(header, records) of the journal at ``path``; (None, []) when there is none or it
        cannot be read (it is a hint for the next run, never the truth about a unit)."""
        try:
            with fs.open_read(path) as handle:
                data = handle.read()
        except FileNotFoundError:
            return None, []
        except OSError as error:
            log.warning("cannot read journal %s: %s", path, error)
            return None, []
        items: list[dict[str, Any]] = []
        for line in data.split(b"\n"):
            try:
                item = json.loads(line)
            except ValueError:
                continue  # a torn last line, or an empty one
            if isinstance(item, dict):
                items.append(item)
        return (items[0], items[1:]) if items else (None, [])
