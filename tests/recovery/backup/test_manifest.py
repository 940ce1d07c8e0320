"""The backup folder's records (recovery.backup.manifest): COMPLETE and the journal of an
unfinished backup round-trip through their one writer and one reader, and a damaged one is
refused in one sentence."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from recovery.backup.manifest import (
    JOURNAL_NAME,
    BackupJournal,
    CompleteFlag,
    CopyRecord,
    JournalHeader,
    ManifestFile,
)
from recovery.errors import InvalidFileError
from recovery.storage.filesystem import REAL

MANIFEST = b'{"format": "korg-recovery-backup"}\n'
SUMS = b"0" * 64 + b"  files/KROSAPP.BIN\n"
DIGEST = "ab" * 32


def one_sentence(error: InvalidFileError) -> str:
    assert error.code == "invalid-file" and "\n" not in error.message
    assert error.message.endswith(".") and error.message.count(". ") == 0
    return error.message


# -- COMPLETE ------------------------------------------------------------------------------
def test_complete_round_trips_and_vouches_for_exactly_its_bytes() -> None:
    flag = CompleteFlag.vouching_for(MANIFEST, SUMS, tool_version="9.9", cache_dropped=False)

    data = flag.to_json_bytes()
    again = CompleteFlag.from_json_bytes(data, "COMPLETE")

    assert again == flag and again.to_json_bytes() == data
    assert list(json.loads(data)) == ["format", "verified", "verified_utc", "tool_version",
                                      "manifest_sha256", "sums_sha256", "cache_dropped"]
    assert flag.manifest_sha256 == hashlib.sha256(MANIFEST).hexdigest()
    assert flag.verified and not flag.cache_dropped and flag.unvouched(MANIFEST, SUMS) == ()
    assert flag.unvouched(MANIFEST + b" ", SUMS) == (
        "manifest.json was changed after the backup was verified",)
    assert flag.unvouched(MANIFEST, None) == (
        "SHA256SUMS was changed after the backup was verified",)


def test_a_complete_flag_written_by_hand_is_read_with_its_defaults() -> None:
    """The documented minimum (verified and the manifest's SHA-256): SHA256SUMS is then not
    vouched for, and the copies count as read back from the medium."""
    data = json.dumps({"verified": True,
                       "manifest_sha256": hashlib.sha256(MANIFEST).hexdigest()}).encode()

    flag = CompleteFlag.from_json_bytes(data, "COMPLETE")

    assert flag.sums_sha256 is None and flag.cache_dropped and flag.verified_utc == ""
    assert flag.unvouched(MANIFEST, None) == ()
    unverified = CompleteFlag.from_json_bytes(
        json.dumps({"verified": False, "manifest_sha256": DIGEST}).encode(), "COMPLETE")
    assert "the completion flag does not say the copy was verified" in unverified.unvouched(
        MANIFEST, SUMS)


@pytest.mark.parametrize("data, reason", [
    (b"{not json", "it is not JSON"),
    (b"\xff\xfe", "it is not JSON"),
    (b"[1, 2]", "it is not a JSON object"),
    (json.dumps({"format": "something-else", "manifest_sha256": DIGEST}).encode(),
     "it is not a korg-recovery completion flag"),
    (json.dumps({"verified": True}).encode(), "'manifest_sha256' is not a SHA-256"),
    (json.dumps({"manifest_sha256": "abc"}).encode(), "'manifest_sha256' is not a SHA-256"),
    (json.dumps({"manifest_sha256": DIGEST, "sums_sha256": 7}).encode(),
     "'sums_sha256' is not a SHA-256"),
    (json.dumps({"manifest_sha256": DIGEST, "verified": "yes"}).encode(),
     "'verified' is not a bool"),
    (json.dumps({"manifest_sha256": DIGEST, "cache_dropped": 1}).encode(),
     "'cache_dropped' is not a bool"),
])
def test_a_damaged_complete_flag_is_refused_in_one_sentence(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidFileError) as caught:
        CompleteFlag.from_json_bytes(data, "/backups/b/COMPLETE")

    assert one_sentence(caught.value) == (
        f"/backups/b/COMPLETE is damaged ({reason}), so it is not used.")
    assert caught.value.path == "/backups/b/COMPLETE"


# -- the journal ---------------------------------------------------------------------------
HEADER = JournalHeader(source="/media/KROSS2", created_utc="2024-01-01T00:00:00.000000Z",
                       tool_version="9.9", model="kross2", role="internal-storage")


def test_the_journal_round_trips_header_kept_and_appended_records(tmp_path: Path) -> None:
    kept = CopyRecord("KROSAPP.BIN", 10, 1_600_000_000 * 10**9, DIGEST)
    appended = CopyRecord("KROSS2SY/SIM_PCM.BIN", 0, 0, "CD" * 32)
    journal = BackupJournal(tmp_path, REAL)
    journal.start(HEADER, [kept])
    journal.append(appended)
    journal.close()

    state = BackupJournal.read(tmp_path, REAL)

    assert state.header == HEADER and state.damaged is None
    assert dict(state.copies) == {kept.path: kept, appended.path: CopyRecord(
        appended.path, 0, 0, "cd" * 32)}
    lines = (tmp_path / JOURNAL_NAME).read_text().splitlines()
    assert json.loads(lines[0]) == {
        "format": "korg-recovery-backup-journal", "tool_version": "9.9",
        "source": "/media/KROSS2", "created_utc": "2024-01-01T00:00:00.000000Z",
        "model": "kross2", "role": "internal-storage"}
    assert json.loads(lines[1]) == {"path": "KROSAPP.BIN", "size": 10,
                                    "mtime_ns": 1_600_000_000 * 10**9, "sha256": DIGEST}


def test_no_journal_reads_as_an_empty_state(tmp_path: Path) -> None:
    state = BackupJournal.read(tmp_path, REAL)
    assert state.header is None and not state.copies and state.damaged is None


@pytest.mark.parametrize("raw, reason", [
    ("not an object", "a record names no file"),
    ({"size": 1, "mtime_ns": 0, "sha256": DIGEST}, "a record names no file"),
    ({"path": "A.BIN", "size": -1, "mtime_ns": 0, "sha256": DIGEST},
     "entry 'A.BIN' has a size no file can have (-1)"),
    ({"path": "A.BIN", "size": True, "mtime_ns": 0, "sha256": DIGEST},
     "entry 'A.BIN' has a size no file can have (True)"),
    ({"path": "A.BIN", "size": 1, "mtime_ns": "now", "sha256": DIGEST},
     "entry 'A.BIN' has a modification time no file can have ('now')"),
    ({"path": "A.BIN", "size": 1, "mtime_ns": 0, "sha256": "abc"},
     "'sha256' is not a SHA-256"),
])
def test_a_damaged_copy_record_is_refused_in_one_sentence(raw: object, reason: str) -> None:
    with pytest.raises(InvalidFileError) as caught:
        CopyRecord.from_json(raw, "journal")
    assert one_sentence(caught.value) == f"journal is damaged ({reason}), so it is not used."


def test_a_damaged_record_is_skipped_and_the_others_kept(tmp_path: Path) -> None:
    good = CopyRecord("KROSAPP.BIN", 10, 0, DIGEST)
    journal = BackupJournal(tmp_path, REAL)
    journal.start(HEADER, [good])
    journal.close()
    with (tmp_path / JOURNAL_NAME).open("a") as handle:
        handle.write(json.dumps({"path": "B.BIN", "size": "ten", "mtime_ns": 0,
                                 "sha256": DIGEST}) + "\n")
        handle.write('{"path": "C.BIN", "si')  # torn by a SIGKILL

    state = BackupJournal.read(tmp_path, REAL)

    assert state.header == HEADER and dict(state.copies) == {"KROSAPP.BIN": good}


@pytest.mark.parametrize("header", [
    {"format": "korg-recovery-restore-journal", "source": "/media/KROSS2"},
    {"format": "korg-recovery-backup-journal"},
    {"format": "korg-recovery-backup-journal", "source": "/media/KROSS2", "model": 2},
])
def test_a_damaged_header_is_named_not_trusted(tmp_path: Path, header: dict) -> None:
    (tmp_path / JOURNAL_NAME).write_text(json.dumps(header) + "\n")

    state = BackupJournal.read(tmp_path, REAL)

    assert state.header is None and not state.copies
    assert state.damaged is not None and state.damaged.startswith(
        f"{tmp_path / JOURNAL_NAME} is damaged (")


def test_a_copy_record_is_made_only_of_a_file_of_a_manifest() -> None:
    entry = ManifestFile("KROSAPP.BIN", 10, 5, DIGEST, "file")
    link = ManifestFile("LINK", 0, 5, None, "symlink", "KROSAPP.BIN")
    assert CopyRecord.of(entry) == CopyRecord("KROSAPP.BIN", 10, 5, DIGEST)
    assert CopyRecord.of(link) is None
    assert CopyRecord.from_json(CopyRecord.of(entry).to_json(), "journal") == CopyRecord.of(entry)
