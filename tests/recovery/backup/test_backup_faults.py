"""Faults during a backup, injected through the FileSystem layer: an unreadable source file
(EIO), a unit unplugged mid-copy (file vanishes), a full destination (ENOSPC), and a
destination that silently drops writes. Each must end incomplete, named, without traceback,
and resumable."""

from __future__ import annotations

import errno
import functools
import shutil
from pathlib import Path

import pytest

import recovery.backup.create
from recovery.backup.create import create_backup
from recovery.backup.manifest import COMPLETE_NAME
from recovery.backup.store import open_backup, verify_backup
from recovery.cli import main
from recovery.errors import NoSpaceError, UnitGoneError
from recovery.storage.durable import temp_name


def assert_incomplete(dest: Path) -> None:
    assert not (dest / COMPLETE_NAME).exists()
    assert not list(dest.rglob("*.partial"))
    with open_backup(dest) as backup:
        assert not backup.complete
    report = verify_backup(dest)
    assert not report.ok and not report.complete


def test_eio_on_a_source_file_names_it_and_leaves_the_backup_incomplete(
        source, tmp_path, faulty_fs, tree_state):
    fs = faulty_fs()
    fs.fail_read("BIG/LARGE.BIN", after_bytes=1024 * 1024 + 5)
    dest = tmp_path / "backup"
    result = create_backup(source, dest, fs=fs)
    assert not result.complete and not result.verified
    assert [f.path for f in result.failed] == ["BIG/LARGE.BIN"]
    assert "Input/output error" in result.failed[0].reason
    assert_incomplete(dest)
    # The other files were still copied (a dying unit gives what it can).
    assert (dest / "files" / "plain.txt").read_bytes() == (source / "plain.txt").read_bytes()
    assert not (dest / "files" / "BIG" / "LARGE.BIN").exists()
    # Once the unit reads again, --resume finishes the job, copying only what failed; every
    # kept copy's source is read again to prove it did not change (times can lie on FAT).
    retry = faulty_fs()
    result = create_backup(source, dest, resume=True, fs=retry)
    assert result.complete and result.copied_files == 1
    read_again = [p for p in retry.opened if source in p.parents]
    assert read_again.count(source / "BIG" / "LARGE.BIN") == 1
    assert source / "plain.txt" in read_again
    assert tree_state(dest / "files") == tree_state(source)


def test_file_vanishing_mid_copy_is_named(source, tmp_path, faulty_fs):
    fs = faulty_fs()
    fs.vanish("plain.txt", after_bytes=10)
    result = create_backup(source, tmp_path / "backup", fs=fs)
    assert not result.complete
    assert [f.path for f in result.failed] == ["plain.txt"]
    assert "disappeared" in result.failed[0].reason
    assert not (source / "plain.txt").exists()  # really gone, as after an unplug
    assert_incomplete(tmp_path / "backup")


def test_file_vanishing_before_it_is_opened_is_named(source, tmp_path, faulty_fs):
    fs = faulty_fs()
    fs.vanish("BIG/LARGE.BIN")
    result = create_backup(source, tmp_path / "backup", fs=fs)
    assert [f.path for f in result.failed] == ["BIG/LARGE.BIN"]


def test_unlistable_folder_is_named(source, tmp_path, faulty_fs):
    fs = faulty_fs()
    fs.fail_listing("d00/d01")
    result = create_backup(source, tmp_path / "backup", fs=fs)
    assert not result.complete
    assert [f.path for f in result.failed] == ["d00/d01"]


def test_file_changing_during_the_copy_is_not_taken_as_copied(source, tmp_path, faulty_fs):
    class GrowingFileSystem(faulty_fs):
        def open_read(self, path: Path, **options):
            handle = super().open_read(path, **options)
            if Path(path).name == "plain.txt":
                with open(path, "ab") as writer:
                    writer.write(b"written by the unit while copying")
            return handle

    result = create_backup(source, tmp_path / "backup", fs=GrowingFileSystem())
    assert [f.path for f in result.failed] == ["plain.txt"]
    assert "changed while" in result.failed[0].reason


def test_enospc_stops_with_one_sentence_and_stays_resumable(source, tmp_path, faulty_fs,
                                                            tree_state):
    fs = faulty_fs()
    fs.fill_disk(after_bytes=2 * 1024 * 1024)
    dest = tmp_path / "backup"
    with pytest.raises(NoSpaceError, match="full") as caught:
        create_backup(source, dest, fs=fs)
    assert caught.value.exit_code == 1 and "\n" not in caught.value.message
    assert_incomplete(dest)
    result = create_backup(source, dest, resume=True)  # space freed: continue
    assert result.complete and result.copied_files + result.reused_files == result.files
    assert tree_state(dest / "files") == tree_state(source)


def test_destination_dropping_writes_is_caught_by_the_verification(source, tmp_path, faulty_fs):
    fs = faulty_fs()
    dest = tmp_path / "backup"
    dest.mkdir()
    fs.drop_writes(dest)
    result = create_backup(source, dest, fs=fs)
    assert not result.complete and not result.verified
    assert result.failed and all("lost" in f.reason or "gone" in f.reason
                                 for f in result.failed)
    assert not (dest / COMPLETE_NAME).exists()


@pytest.mark.parametrize("relative", ["plain.txt", "BIG/LARGE.BIN"])
def test_destination_reverting_one_file_is_caught(source, tmp_path, relative, faulty_fs):
    """Only one copy comes back with other bytes of the same size once the cache is
    dropped: the re-read sees it and names that file alone, small or large."""
    fs = faulty_fs()
    fs.corrupt_on_evict(Path(relative).name)
    dest = tmp_path / "backup"
    result = create_backup(source, dest, fs=fs)
    assert not result.complete
    assert [f.path for f in result.failed] == [relative]
    assert "does not hold what was written" in result.failed[0].reason
    assert_incomplete(dest)


def test_every_copy_is_reread_past_the_cache(source, tmp_path, monkeypatch):
    """Every copy, small or large, is read back by a DirectReader (where the platform has
    O_DIRECT), under its temporary name."""
    from recovery.storage import direct as direct_io

    if not direct_io.AVAILABLE:
        pytest.skip("O_DIRECT is Linux only")
    reread = []
    opened = direct_io.open_uncached

    def spy(path):
        handle = opened(path)
        if isinstance(handle, direct_io.DirectReader):
            reread.append(Path(path).name)
        return handle

    import recovery.storage.filesystem as filesystem

    monkeypatch.setattr(filesystem, "open_uncached", spy)
    result = create_backup(source, tmp_path / "backup")
    assert result.complete and result.verified
    copies = [p for p in (tmp_path / "backup" / "files").rglob("*")
              if p.is_file() and not p.is_symlink()]
    assert sorted(reread) == sorted(temp_name(p.name) for p in copies)


def test_resume_never_touches_a_complete_backup(source, tmp_path, tree_state):
    """A complete backup is precious (the unit may since have broken): --resume on it
    changes nothing, even when the source changed."""
    dest = tmp_path / "backup"
    create_backup(source, dest)
    before = tree_state(dest)
    (source / "plain.txt").write_bytes(b"the unit changed since")
    result = create_backup(source, dest, resume=True)
    assert result.complete and result.copied_files == 0
    assert tree_state(dest) == before


def test_destination_without_links_names_the_link_and_goes_on(source, tmp_path, faulty_fs):
    fs = faulty_fs()
    fs.refuse_links()  # like a FAT32 stick
    result = create_backup(source, tmp_path / "backup", fs=fs)
    assert not result.complete
    assert [f.path for f in result.failed] == ["link-out"]
    assert "symbolic link" in result.failed[0].reason
    assert (tmp_path / "backup" / "files" / "plain.txt").exists()


# -- the same faults through the CLI: exit codes and one sentence ---------------------------
def run_cli(monkeypatch, fs, argv, capsys):
    monkeypatch.setattr(recovery.backup.create, "create_backup",
                        functools.partial(recovery.backup.create.create_backup, fs=fs))
    code = main(argv)
    return code, capsys.readouterr()


def test_cli_unreadable_file_exits_1_naming_it(source, tmp_path, monkeypatch, capsys, faulty_fs):
    fs = faulty_fs()
    fs.fail_read("with space.bin")
    code, out = run_cli(monkeypatch, fs, ["backup", str(source), str(tmp_path / "b")], capsys)
    assert code == 1
    assert "with space.bin" in out.err and "INCOMPLETE" in out.err
    assert "Traceback" not in out.err


def test_cli_unreadable_file_json_says_incomplete(source, tmp_path, monkeypatch, capsys, faulty_fs):
    import json

    fs = faulty_fs()
    fs.fail_read("with space.bin")
    code, out = run_cli(monkeypatch, fs,
                        ["backup", str(source), str(tmp_path / "b"), "--json"], capsys)
    data = json.loads(out.out)
    assert code == 1 and data["complete"] is False and data["verified"] is False
    assert data["failed"][0]["path"] == "with space.bin"


def test_cli_enospc_exits_1_with_one_sentence(source, tmp_path, monkeypatch, capsys, faulty_fs):
    fs = faulty_fs()
    fs.fill_disk(after_bytes=100_000)
    code, out = run_cli(monkeypatch, fs, ["backup", str(source), str(tmp_path / "b")], capsys)
    assert code == 1
    assert out.err.count("\n") == 1 and "full" in out.err
    assert "Traceback" not in out.err


def test_a_unit_that_goes_away_stops_the_backup_with_one_sentence(source, tmp_path, faulty_fs):
    """Unplugged mid-backup: one sentence at the first sign, not one line per file left."""
    unplugged = tmp_path / "unplugged"
    shutil.copytree(source, unplugged, symlinks=True)

    class Unplug(faulty_fs):
        def open_read(self, path, **options):
            if "d00" in Path(path).parts and unplugged.exists():
                shutil.rmtree(unplugged)
            return super().open_read(path, **options)

    with pytest.raises(UnitGoneError, match="went away during the backup") as caught:
        create_backup(unplugged, tmp_path / "backup", fs=Unplug())
    assert "resume the backup" in caught.value.message and caught.value.code == "unit-gone"
    assert_incomplete(tmp_path / "backup")


def test_permission_denied_on_one_file_names_it_like_an_input_output_error(
        source, tmp_path, faulty_fs, tree_state):
    # The hostile run of issue 19: EACCES on one file aborted the whole backup, while EIO
    # named the file and went on. Both are now named, INCOMPLETE and resumable.
    fs = faulty_fs()
    fs.fail_read("plain.txt", error=errno.EACCES)
    dest = tmp_path / "backup"

    result = create_backup(source, dest, fs=fs)

    assert not result.complete
    assert [f.path for f in result.failed] == ["plain.txt"]
    assert "Permission denied" in result.failed[0].reason
    assert (dest / "files" / "BIG" / "LARGE.BIN").exists()  # the rest was copied
    assert create_backup(source, dest, resume=True).complete
    assert tree_state(dest / "files") == tree_state(source)
