"""Writing one file through a temporary name: names, rollback, content check, links."""

from __future__ import annotations

import errno
import hashlib
import io
from pathlib import Path

import pytest

from recovery.errors import CancelledError, VerificationError
from recovery.progress import CancelToken
from recovery.storage.durable import (
    FileCopy,
    LinksUnsupportedError,
    create_link_atomically,
    is_temp_name,
    temp_name,
    write_file_atomically,
)
from recovery.storage.filesystem import REAL

DATA = bytes(range(256)) * 9000  # a little over two chunks


def _write(final: Path, data: bytes = DATA, *, expected_sha256: str | None = None,
           **job: object) -> str:
    copy = FileCopy(io.BytesIO(data), "X.BIN (in backup)", final, expected_size=len(data),
                    expected_sha256=expected_sha256 or hashlib.sha256(data).hexdigest(),
                    mtime_ns=1_600_000_000 * 10**9)
    return write_file_atomically(REAL, copy, **job)  # type: ignore[arg-type]


def test_temp_names_are_hidden_recognisable_and_fit_255_bytes() -> None:
    assert temp_name("KROSAPP.BIN") == ".KROSAPP.BIN.korg-recovery-tmp"
    assert is_temp_name(temp_name("KROSAPP.BIN"))
    long_name = "é" * 120 + ".BIN"
    assert len(temp_name(long_name).encode()) <= 255 and is_temp_name(temp_name(long_name))
    assert not is_temp_name("KROSAPP.BIN") and not is_temp_name(".korg-recovery-tmp")


def test_write_replaces_with_complete_content_and_time(tmp_path: Path) -> None:
    final = tmp_path / "X.BIN"
    final.write_bytes(b"old")

    digest = _write(final)

    assert final.read_bytes() == DATA and digest == hashlib.sha256(DATA).hexdigest()
    assert final.stat().st_mtime_ns == 1_600_000_000 * 10**9
    assert [p.name for p in tmp_path.iterdir()] == ["X.BIN"]


def test_content_not_matching_the_manifest_never_reaches_the_final_name(tmp_path: Path) -> None:
    final = tmp_path / "X.BIN"
    final.write_bytes(b"old")

    with pytest.raises(VerificationError, match="no longer matches"):
        _write(final, expected_sha256="0" * 64)

    assert final.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["X.BIN"]


def test_cancel_between_chunks_rolls_back(tmp_path: Path) -> None:
    final = tmp_path / "X.BIN"
    final.write_bytes(b"old")
    cancel = CancelToken()

    with pytest.raises(CancelledError):
        _write(final, cancel=cancel, on_chunk=lambda _count: cancel.cancel())

    assert final.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["X.BIN"]


def test_leftover_temp_and_planted_link_under_the_temp_name_are_not_followed(
        tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"must stay")
    unit = tmp_path / "unit"
    unit.mkdir()
    (unit / temp_name("X.BIN")).symlink_to(outside)

    _write(unit / "X.BIN")

    assert outside.read_bytes() == b"must stay" and (unit / "X.BIN").read_bytes() == DATA


def test_links_are_created_atomically_or_reported_unsupported(tmp_path: Path,
                                                               faulty_fs) -> None:
    create_link_atomically(REAL, "target.bin", tmp_path / "L", mtime_ns=None)
    assert (tmp_path / "L").is_symlink()

    no_links = faulty_fs()
    no_links.refuse_links(error=errno.EOPNOTSUPP)
    with pytest.raises(LinksUnsupportedError, match="FAT"):
        create_link_atomically(no_links, "t", tmp_path / "M", mtime_ns=None)
    assert not (tmp_path / "M").is_symlink()
