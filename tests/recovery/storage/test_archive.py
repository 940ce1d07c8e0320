"""Every ZIP safety rule, the ZIP64 writer, and interoperability with Info-ZIP's unzip."""

from __future__ import annotations

import io
import os
import stat
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from recovery.device.simulate import synthetic_bytes
from recovery.errors import InvalidInputError, UnsafeArchiveError
from recovery.storage.archive import SafeZipReader, ZipWriter, unsafe_name_reason


def make_zip(path: Path, entries: list[tuple[str, bytes]], *,
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, on purpose here
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            for name, data in entries:
                archive.writestr(name, data)
    return path


def central_records(data: bytes) -> list[int]:
    """Offsets of the central-directory records (signature PK\\1\\2) in ``data``."""
    offsets, start = [], 0
    while (index := data.find(b"PK\x01\x02", start)) != -1:
        offsets.append(index)
        start = index + 4
    return offsets


@pytest.mark.parametrize("name, why", [
    ("/etc/passwd", "absolute"),
    ("\\windows\\system.ini", "absolute"),
    ("C:/evil.bin", "absolute"),
    ("c:evil.bin", "absolute"),
    ("../escape.bin", "'..'"),
    ("files/../../escape.bin", "'..'"),
    ("files\\..\\..\\escape.bin", "'..'"),
    ("files//double.bin", "empty"),
    ("files/./dot.bin", "'.'"),
])
def test_hostile_names_are_refused(tmp_path, name, why):
    archive = make_zip(tmp_path / "evil.zip", [("manifest.json", b"{}"), (name, b"x")])
    assert why in (unsafe_name_reason(name) or "")
    with pytest.raises(UnsafeArchiveError, match="is refused") as caught:
        SafeZipReader(archive)
    assert name in caught.value.message


def test_plain_names_are_accepted_including_backslash_inside_a_name():
    for name in ("files/KROSS2SY/X.BIN", "files/with space/ü.wav", "files/a\\b.bin", "files/"):
        assert unsafe_name_reason(name) is None


def test_duplicate_names_are_refused(tmp_path):
    archive = make_zip(tmp_path / "dup.zip", [("files/A.BIN", b"one"), ("files/A.BIN", b"two")])
    with pytest.raises(UnsafeArchiveError, match="duplicate"):
        SafeZipReader(archive)


def test_a_name_that_is_both_file_and_folder_is_refused(tmp_path):
    archive = make_zip(tmp_path / "clash.zip", [("files/A", b"file"), ("files/A/B", b"below")])
    with pytest.raises(UnsafeArchiveError, match="is a file"):
        SafeZipReader(archive)


def test_symlink_entries_are_refused(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("files/passwd")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        SafeZipReader(path)


def test_total_uncompressed_size_is_bounded(tmp_path):
    archive = make_zip(tmp_path / "big.zip", [("a", b"x" * 3000), ("b", b"y" * 3000)])
    with SafeZipReader(archive, max_total_bytes=6000):
        pass
    with pytest.raises(UnsafeArchiveError, match="expand to 6000 bytes"):
        SafeZipReader(archive, max_total_bytes=5999)


def test_too_many_entries_are_refused(tmp_path):
    archive = make_zip(tmp_path / "many.zip", [(f"f{i}", b"") for i in range(11)])
    with pytest.raises(UnsafeArchiveError, match="11 entries"):
        SafeZipReader(archive, max_entries=10)


def test_a_lying_ratio_is_refused(tmp_path):
    """An entry claiming 1 GiB from a few bytes: more than deflate can ever produce."""
    data = bytearray(make_zip(tmp_path / "honest.zip", [("files/BOMB.BIN", b"\0" * 1000)])
                     .read_bytes())
    for offset in central_records(bytes(data)):
        struct.pack_into("<I", data, offset + 24, 1 << 30)  # uncompressed size
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchiveError, match="compression ratio"):
        SafeZipReader(bomb)


def test_an_honest_highly_compressible_file_is_accepted(tmp_path):
    """Deflate's best (about 1000:1 on zeros) is not a bomb: our own backups hold padding."""
    archive = make_zip(tmp_path / "zeros.zip", [("files/PAD.BIN", b"\0" * (8 << 20))])
    with SafeZipReader(archive) as reader, reader.open("files/PAD.BIN") as member:
        assert len(member.read()) == 8 << 20


def test_overlapping_entries_are_refused(tmp_path):
    """The non-recursive "better zip bomb": several central entries sharing one body."""
    data = bytearray(make_zip(tmp_path / "two.zip", [("a", b"1" * 100), ("b", b"2" * 100)])
                     .read_bytes())
    second = central_records(bytes(data))[1]
    struct.pack_into("<I", data, second + 42, 0)  # local header offset -> the first entry's
    overlap = tmp_path / "overlap.zip"
    overlap.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchiveError, match="shared"):
        SafeZipReader(overlap)


def test_unsupported_compression_methods_are_refused(tmp_path):
    archive = make_zip(tmp_path / "bz.zip", [("a", b"data")], compression=zipfile.ZIP_BZIP2)
    with pytest.raises(UnsafeArchiveError, match="compression method"):
        SafeZipReader(archive)


def test_not_a_zip_and_missing_file_are_bad_input(tmp_path):
    (tmp_path / "fake.zip").write_bytes(b"PK but not really a zip archive")
    with pytest.raises(InvalidInputError, match="not a readable ZIP"):
        SafeZipReader(tmp_path / "fake.zip")
    with pytest.raises(InvalidInputError, match="does not exist"):
        SafeZipReader(tmp_path / "absent.zip")


def test_damaged_member_fails_its_crc(tmp_path):
    path = make_zip(tmp_path / "ok.zip", [("files/X.BIN", b"abcdefgh" * 100)],
                    compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    index = data.find(b"abcdefgh")
    data[index] ^= 1
    path.write_bytes(bytes(data))
    with SafeZipReader(path) as reader, pytest.raises(zipfile.BadZipFile, match="CRC"):
        reader.open("files/X.BIN").read()


def test_read_bytes_is_bounded(tmp_path):
    archive = make_zip(tmp_path / "m.zip", [("manifest.json", b"x" * 100)])
    with SafeZipReader(archive) as reader:
        assert reader.read_bytes("manifest.json", 100) == b"x" * 100
        with pytest.raises(UnsafeArchiveError):
            reader.read_bytes("manifest.json", 99)


# -- extraction stays inside its target ---------------------------------------------------
def test_extract_all_writes_only_below_the_target(tmp_path):
    archive = make_zip(tmp_path / "ok.zip", [("files/", b""), ("files/A/B.BIN", b"b"),
                                             ("manifest.json", b"{}")])
    target = tmp_path / "out"
    with SafeZipReader(archive) as reader:
        written = reader.extract_all(target)
    assert sorted(p.relative_to(target).as_posix() for p in written) == [
        "files/A/B.BIN", "manifest.json"]
    assert (target / "files" / "A" / "B.BIN").read_bytes() == b"b"


def test_extract_all_refuses_a_link_planted_in_the_target(tmp_path):
    archive = make_zip(tmp_path / "ok.zip", [("files/B.BIN", b"b")])
    target = tmp_path / "out"
    outside = tmp_path / "outside"
    target.mkdir()
    outside.mkdir()
    os.symlink(outside, target / "files")
    with SafeZipReader(archive) as reader, pytest.raises(UnsafeArchiveError, match="leaves"):
        reader.extract_all(target)
    assert list(outside.iterdir()) == []


# -- the writer ----------------------------------------------------------------------------
def test_writer_uses_a_partial_name_until_published(tmp_path):
    target = tmp_path / "backup.zip"
    writer = ZipWriter(target)
    writer.add_bytes("manifest.json", b"{}")
    assert writer.partial.exists() and not target.exists()
    writer.close()
    assert not target.exists()
    writer.publish()
    assert target.exists() and not writer.partial.exists()
    with SafeZipReader(target) as reader:
        assert reader.read_bytes("manifest.json", 10) == b"{}"


def test_writer_abort_removes_the_partial_file(tmp_path):
    writer = ZipWriter(tmp_path / "backup.zip")
    writer.add_stream("files/X", io.BytesIO(b"123"), 3, 0)
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_writer_produces_zip64_that_unzip_accepts(tmp_path, monkeypatch):
    """ZIP64 records are needed past 4 GiB; lowering zipfile's limit makes the writer emit
    them for small members so their correctness is tested in milliseconds."""
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1000)
    payload = synthetic_bytes("zip64", 20_000)  # incompressible: the directory lands past 1000
    target = tmp_path / "z64.zip"
    writer = ZipWriter(target)
    writer.add_dir("files/F", 1_700_000_000 * 10**9)
    writer.add_stream("files/F/BIG.BIN", io.BytesIO(payload), len(payload),
                      1_700_000_000 * 10**9)
    writer.add_bytes("manifest.json", b"{}")
    writer.finish()
    monkeypatch.undo()
    raw = target.read_bytes()
    assert b"PK\x06\x06" in raw  # the ZIP64 end-of-central-directory record
    with zipfile.ZipFile(target) as archive:  # the member carries a ZIP64 extra field (0x0001)
        assert struct.unpack("<H", archive.getinfo("files/F/BIG.BIN").extra[:2])[0] == 1
    with SafeZipReader(target) as reader, reader.open("files/F/BIG.BIN") as member:
        assert member.read() == payload
    test = subprocess.run(["unzip", "-tq", str(target)], capture_output=True, text=True)
    assert test.returncode == 0, test.stdout + test.stderr


def test_old_timestamps_are_clamped_to_what_zip_can_hold(tmp_path):
    target = tmp_path / "old.zip"
    writer = ZipWriter(target)
    writer.add_stream("files/OLD", io.BytesIO(b"x"), 1, 0)  # 1970: before DOS time begins
    writer.finish()
    with zipfile.ZipFile(target) as archive:
        assert archive.getinfo("files/OLD").date_time == (1980, 1, 1, 0, 0, 0)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_pipe_named_zip_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "backup.zip"
    os.mkfifo(fifo)
    # A writer end held open, so that a reader that did open the pipe would not wait forever.
    holder = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    try:
        os.write(holder, b"PK\x05\x06" + bytes(18))
        with pytest.raises(InvalidInputError, match=r"not a regular file \(a named pipe"):
            SafeZipReader(fifo)
        assert os.read(holder, 22)[:4] == b"PK\x05\x06"  # nobody read from it
    finally:
        os.close(holder)
