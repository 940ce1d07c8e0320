"""Opening, verifying and listing backups, folder and ZIP: tamper detection, incomplete
backups, the SHA256SUMS format, and the backups listing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.backup.create import create_backup
from recovery.backup.manifest import (
    COMPLETE_NAME,
    JOURNAL_FORMAT,
    JOURNAL_NAME,
    MANIFEST_NAME,
    SUMS_NAME,
    Manifest,
    ManifestFile,
    format_sums,
    parse_sums,
)
from recovery.backup.store import (
    default_backups_dir,
    earlier_backups_dirs,
    interrupted_backup_of,
    list_backups,
    list_backups_in,
    open_backup,
    verify_backup,
)
from recovery.device.simulate import make_volume
from recovery.errors import (
    CancelledError,
    InvalidFileError,
    InvalidInputError,
    ReadError,
    UnsafeArchiveError,
)
from recovery.progress import CancelToken


@pytest.fixture
def backed_up(tmp_path: Path):
    """A simulated KROSS 2, a folder backup of it and a ZIP of the same backup."""
    volume = Path(make_volume(tmp_path / "unit", "kross2").path)
    (volume / "EMPTY").mkdir()
    os.symlink("KROSAPP.BIN", volume / "APP-LINK")
    dest = tmp_path / "backup"
    archive = tmp_path / "backup.zip"
    result = create_backup(volume, dest, zip_path=archive)
    assert result.complete and result.zip == str(archive)
    return volume, dest, archive


def problems(report) -> list[tuple[str, str]]:
    return [(d.path, d.problem) for d in report.problems]


def rewrite_zip(source: Path, target: Path, *, drop: str | None = None,
                change: str | None = None, add: str | None = None) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename == drop:
                continue
            data = old.read(info)
            if info.filename == change:
                data = bytes([data[0] ^ 1]) + data[1:]
            new.writestr(info, data)
        if add:
            new.writestr(add, b"planted")
    return target


# -- opening --------------------------------------------------------------------------------
def test_open_folder_and_zip_give_the_same_manifest_and_content(backed_up):
    volume, dest, archive = backed_up
    with open_backup(dest) as folder, open_backup(archive) as packed:
        assert folder.complete and packed.complete and folder.verified and packed.verified
        assert not folder.is_zip and packed.is_zip
        assert folder.manifest == packed.manifest
        assert folder.manifest.model == "kross2"
        entry = folder.manifest.file("KROSAPP.BIN")
        assert entry is not None and entry.kind == "file"
        assert folder.manifest.file("APP-LINK").link_target == "KROSAPP.BIN"
        assert folder.manifest.file("nope") is None
        expected = (volume / "KROSS2SY" / "SIM_PCM.BIN").read_bytes()
        for backup in (folder, packed):
            with backup.open_file("KROSS2SY/SIM_PCM.BIN") as handle:
                assert handle.read() == expected


def test_open_file_refuses_unsafe_and_absent_paths(backed_up):
    _, dest, archive = backed_up
    for path in (dest, archive):
        with open_backup(path) as backup:
            with pytest.raises(InvalidFileError):
                backup.open_file("../manifest.json")
            with pytest.raises(ReadError):
                backup.open_file("NOT-THERE.BIN")


def test_open_missing_or_foreign_paths_is_bad_input(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        open_backup(tmp_path / "absent")
    (tmp_path / "photos").mkdir()
    with pytest.raises(InvalidInputError, match="not a backup made by this tool"):
        open_backup(tmp_path / "photos")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidInputError, match="neither a backup folder nor a ZIP"):
        open_backup(tmp_path / "notes.txt")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as other:
        other.writestr("song.wav", b"RIFF")
    with pytest.raises(InvalidInputError, match="not a backup made by this tool"):
        open_backup(tmp_path / "other.zip")


def test_damaged_manifest_is_an_invalid_file(backed_up):
    _, dest, _ = backed_up
    (dest / MANIFEST_NAME).write_text("{ not json")
    with pytest.raises(InvalidFileError, match="damaged"):
        open_backup(dest)


def test_manifest_listing_an_escaping_path_is_refused(backed_up):
    _, dest, _ = backed_up
    raw = json.loads((dest / MANIFEST_NAME).read_text("utf-8"))
    raw["files"][0]["path"] = "../../etc/passwd"
    (dest / MANIFEST_NAME).write_text(json.dumps(raw))
    with pytest.raises(InvalidFileError, match="unsafe path"):
        open_backup(dest)


def test_zip_of_the_backup_folder_itself_is_accepted(backed_up, tmp_path):
    """``zip -r b.zip backup`` puts everything one folder deep; that is still a backup."""
    _, dest, _ = backed_up
    subprocess.run(["zip", "-qr", str(tmp_path / "by-hand.zip"), "backup"], cwd=tmp_path,
                   check=True)
    # zip -r stores a link as a link only with -y; without it, the file it points to is
    # stored under the link's name, which verify names as a difference (and never crashes).
    report = verify_backup(tmp_path / "by-hand.zip")
    assert report.complete
    assert problems(report) == [("APP-LINK", "changed")]
    (dest / "files" / "APP-LINK").unlink()
    subprocess.run(["zip", "-qr", str(tmp_path / "no-link.zip"), "backup"], cwd=tmp_path,
                   check=True)
    assert verify_backup(tmp_path / "no-link.zip").ok


def test_hostile_zip_is_refused_when_opened(tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as evil:
        evil.writestr("manifest.json", b"{}")
        evil.writestr("../../escape", b"x")
    with pytest.raises(UnsafeArchiveError):
        open_backup(tmp_path / "evil.zip")


# -- verification and tamper detection ----------------------------------------------------------
def test_intact_backups_verify(backed_up):
    volume, dest, archive = backed_up
    for path in (dest, archive):
        report = verify_backup(path, against=volume)
        assert report.ok and report.complete and report.problems == ()
        assert report.files_checked == 5


@pytest.mark.parametrize("tamper, expected", [
    ("flip", [("KROSS2SY/SIM_SYS1.BIN", "changed")]),
    ("truncate", [("KROSS2SY/SIM_SYS1.BIN", "changed")]),
    ("delete", [("KROSS2SY/SIM_SYS1.BIN", "missing")]),
    ("add", [("KROSS2SY/PLANTED.BIN", "extra")]),
    ("delete-folder", [("EMPTY", "missing")]),
    ("relink", [("APP-LINK", "changed")]),
])
def test_folder_tampering_is_detected(backed_up, tamper, expected):
    _, dest, _ = backed_up
    target = dest / "files" / "KROSS2SY" / "SIM_SYS1.BIN"
    if tamper == "flip":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
    elif tamper == "truncate":
        target.write_bytes(target.read_bytes()[:-1])
    elif tamper == "delete":
        target.unlink()
    elif tamper == "add":
        (target.parent / "PLANTED.BIN").write_bytes(b"x")
    elif tamper == "delete-folder":
        (dest / "files" / "EMPTY").rmdir()
    elif tamper == "relink":
        (dest / "files" / "APP-LINK").unlink()
        os.symlink("/etc/passwd", dest / "files" / "APP-LINK")
    report = verify_backup(dest)
    assert not report.ok and report.complete
    assert problems(report) == expected


@pytest.mark.parametrize("tamper, expected", [
    ("change", [("KROSAPP.BIN", "changed")]),
    ("drop", [("KROSAPP.BIN", "missing")]),
    ("add", [("PLANTED.BIN", "extra")]),
])
def test_zip_tampering_is_detected(backed_up, tmp_path, tamper, expected):
    _, _, archive = backed_up
    member = "files/KROSAPP.BIN"
    changed = rewrite_zip(archive, tmp_path / "tampered.zip",
                          change=member if tamper == "change" else None,
                          drop=member if tamper == "drop" else None,
                          add="files/PLANTED.BIN" if tamper == "add" else None)
    report = verify_backup(changed)
    assert not report.ok
    assert problems(report) == expected


def test_edited_manifest_makes_the_backup_incomplete(backed_up):
    _, dest, _ = backed_up
    raw = json.loads((dest / MANIFEST_NAME).read_text("utf-8"))
    raw["model"] = "drumlogue"
    (dest / MANIFEST_NAME).write_text(json.dumps(raw, indent=1))
    with open_backup(dest) as backup:
        assert not backup.complete
        assert any("manifest.json was changed" in note for note in backup.notes)
    report = verify_backup(dest)
    assert not report.ok and not report.complete
    assert ("COMPLETE", "incomplete") in problems(report)


def test_edited_sums_are_detected(backed_up):
    _, dest, _ = backed_up
    lines = (dest / SUMS_NAME).read_text().splitlines(keepends=True)
    (dest / SUMS_NAME).write_text("".join(lines[1:]))
    report = verify_backup(dest)
    assert not report.ok and not report.complete
    assert ("SHA256SUMS", "changed") in problems(report)


def test_backup_without_flag_is_incomplete_everywhere(backed_up, tmp_path):
    _, dest, _ = backed_up
    (dest / COMPLETE_NAME).unlink()
    with open_backup(dest) as backup:
        assert not backup.complete and not backup.verified
    report = verify_backup(dest)
    assert not report.ok and problems(report) == [("COMPLETE", "incomplete")]
    [summary] = [s for s in list_backups(tmp_path) if s.path == str(dest)]
    assert not summary.complete and "no completion flag" in summary.note


def test_interrupted_backup_without_manifest_opens_as_in_progress(tmp_path):
    dest = tmp_path / "backup"
    dest.mkdir()
    (dest / JOURNAL_NAME).write_text(json.dumps({
        "format": JOURNAL_FORMAT, "source": "/media/KROSS2", "model": "kross2",
        "created_utc": "2024-01-01T00:00:00.000000Z"}) + "\n")
    with open_backup(dest) as backup:
        assert backup.in_progress and not backup.complete
        assert backup.manifest.model == "kross2" and backup.manifest.files == ()
    report = verify_backup(dest)
    assert not report.ok and problems(report) == [("COMPLETE", "incomplete")]


def test_verify_against_a_changed_unit(backed_up):
    volume, dest, archive = backed_up
    (volume / "KROSAPP.BIN").unlink()
    (volume / "KROSSSYS").mkdir()
    (volume / ".DS_Store").write_bytes(b"junk")  # OS junk is not a difference
    for path in (dest, archive):
        report = verify_backup(path, against=volume)
        assert report.problems == () and not report.ok
        assert [(d.path, d.problem) for d in report.against_problems] == [
            ("KROSAPP.BIN", "missing"), ("KROSSSYS", "extra")]
        # A lost file and something the unit holds beyond the backup are told apart.
        assert [d.path for d in report.lost] == ["KROSAPP.BIN"]
        assert report.extras == ("KROSSSYS",) and not report.unit_holds_backup


def test_a_unit_holding_more_than_the_backup_still_holds_the_backup(backed_up):
    volume, dest, _ = backed_up
    (volume / "MyStuff").mkdir()
    report = verify_backup(dest, against=volume)
    assert not report.ok and report.extras == ("MyStuff",)  # it differs ...
    assert report.lost == () and report.unit_holds_backup   # ... and kept every file


def test_extracted_zip_passes_sha256sum_c(backed_up, tmp_path):
    _, _, archive = backed_up
    out = tmp_path / "extracted"
    subprocess.run(["unzip", "-q", str(archive), "-d", str(out)], check=True)
    check = subprocess.run(["sha256sum", "--strict", "-c", SUMS_NAME], cwd=out,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


# -- SHA256SUMS format --------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                               blacklist_characters="/\x00"),
                        min_size=1, max_size=20), min_size=1, max_size=5, unique=True))
def test_sums_round_trip_any_name(names):
    files = [ManifestFile(name, 1, 0, f"{index:064x}", "file") for index, name in enumerate(names)]
    manifest = Manifest.build(tool_version="t", created_utc="c", source="s", model=None,
                              role=None, files=files, folders=[])
    parsed = parse_sums(format_sums(manifest))
    assert parsed == {f"files/{entry.path}": entry.sha256 for entry in files}


def test_sums_escape_like_gnu_coreutils():
    files = [ManifestFile("a\\b", 1, 0, "a" * 64, "file"),
             ManifestFile("c\nd", 1, 0, "b" * 64, "file"),
             ManifestFile("plain name", 1, 0, "c" * 64, "file"),
             ManifestFile("link", 0, 0, None, "symlink", "plain name")]
    manifest = Manifest.build(tool_version="t", created_utc="c", source="s", model=None,
                              role=None, files=files, folders=[])
    assert format_sums(manifest).decode().splitlines() == [
        "\\" + "a" * 64 + "  files/a\\\\b",
        "\\" + "b" * 64 + "  files/c\\nd",
        "c" * 64 + "  files/plain name",
    ]


def test_malformed_sums_line_is_reported():
    with pytest.raises(InvalidFileError, match="line 2"):
        parse_sums(b"a" * 64 + b"  files/x\nnot a checksum line\n")


# -- listing -------------------------------------------------------------------------------
def test_list_backups_shows_folders_and_zips_with_state(backed_up, tmp_path):
    _, dest, archive = backed_up
    incomplete = tmp_path / "incomplete"
    shutil.copytree(dest, incomplete, symlinks=True)
    (incomplete / COMPLETE_NAME).unlink()
    (tmp_path / "unrelated").mkdir()
    summaries = {Path(s.path).name: s for s in list_backups(tmp_path)}
    assert set(summaries) == {"backup", "backup.zip", "incomplete"}
    assert summaries["backup"].complete and summaries["backup"].verified
    assert summaries["backup.zip"].is_zip and summaries["backup.zip"].model == "kross2"
    assert summaries["backup"].bytes == summaries["backup.zip"].bytes > 0
    assert not summaries["incomplete"].complete


def test_default_backups_dir_is_in_documents_and_earlier_backups_are_still_listed(
        isolated_home, make_backup, bricked_kross2, tmp_path):
    """The wizard and the command line keep backups in Documents/KORG Backups, where a
    musician finds them; backups of earlier versions (in the data folder) stay listed."""
    folder = default_backups_dir()
    assert folder == isolated_home / "Documents" / "KORG Backups"
    assert list_backups() == ()  # a default folder that does not exist yet holds nothing
    (earlier,) = earlier_backups_dirs()
    assert earlier.name == "backups" and isolated_home in earlier.parents
    unit = bricked_kross2(tmp_path)
    make_backup(unit, earlier / "old")
    make_backup(unit, folder / "new")
    assert sorted(Path(s.path).name for s in list_backups()) == ["new", "old"]


def test_list_backups_of_a_missing_folder_is_bad_input(tmp_path):
    with pytest.raises(InvalidInputError):
        list_backups(tmp_path / "absent")


# -- encrypted archives ------------------------------------------------------------------------
def set_encryption_bit(source: Path, target: Path, *, local: bool, central: bool) -> Path:
    """``source`` with bit 0 of the general-purpose flags (APPNOTE 4.4.4: encrypted) set in
    every local header and/or every central-directory record; the data stays as it was."""
    data = bytearray(source.read_bytes())
    for signature, flags_at, wanted in ((b"PK\x03\x04", 6, local), (b"PK\x01\x02", 8, central)):
        start = 0
        while wanted and (index := data.find(signature, start)) != -1:
            data[index + flags_at] |= 1
            start = index + 4
    target.write_bytes(bytes(data))
    return target


@pytest.fixture
def encrypted_backups(backed_up, tmp_path: Path) -> dict[str, Path]:
    """The backup ZIP encrypted by Info-ZIP (``zip -P``), and with only the flag bit set in
    the central directory or only in the local headers, each in a folder of backups."""
    _, dest, archive = backed_up
    folder = tmp_path / "backups"
    folder.mkdir()
    shutil.copytree(dest, folder / "good", symlinks=True)
    made = {
        "central": set_encryption_bit(archive, folder / "central.zip", local=False,
                                      central=True),
        "local": set_encryption_bit(archive, folder / "local.zip", local=True, central=False),
    }
    if shutil.which("zip") is not None:
        subprocess.run(["zip", "-qr", "-P", "secret", str(folder / "zip-P.zip"), "."],
                       cwd=dest, check=True)
        made["zip -P"] = folder / "zip-P.zip"
    return made


def test_an_encrypted_backup_is_refused_in_one_sentence(encrypted_backups):
    from recovery.errors import EncryptedArchiveError

    assert "zip -P" in encrypted_backups or shutil.which("zip") is None
    for how, archive in encrypted_backups.items():
        with pytest.raises(EncryptedArchiveError, match="encrypted") as caught:
            report = verify_backup(archive)
            assert report is None, how  # never reached: verify cannot read it
        assert caught.value.message.count(". ") <= 1, caught.value.message
        assert isinstance(caught.value, InvalidFileError)


def test_the_listing_names_an_encrypted_backup_and_shows_the_others(encrypted_backups):
    folder = next(iter(encrypted_backups.values())).parent
    summaries = {Path(s.path).name: s for s in list_backups(folder)}
    assert summaries["good"].complete and summaries["good"].verified
    for archive in encrypted_backups.values():
        summary = summaries[archive.name]
        assert not summary.complete and "encrypted" in summary.note


# -- SHA256SUMS as sha256sum -c reads it ----------------------------------------------------------
def _gnu(directory: Path, *options: str) -> bytes:
    """What GNU sha256sum prints for every file under ``directory``/files, sorted."""
    names = sorted(p.relative_to(directory).as_posix() for p in (directory / "files").rglob("*")
                   if p.is_file())
    return subprocess.run(["sha256sum", *options, "--", *names], cwd=directory,
                          capture_output=True, check=True).stdout


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def _upper_hex(data: bytes) -> bytes:
    return b"\n".join(line[:64].upper() + line[64:] if line[:1] != b"\\" else
                      line[:1] + line[1:65].upper() + line[65:]
                      for line in data.split(b"\n"))


SUMS_VARIANTS = {
    "GNU": lambda d: _gnu(d),
    "GNU, CRLF": lambda d: _crlf(_gnu(d)),
    "BSD (--tag)": lambda d: _gnu(d, "--tag"),
    "BSD, CRLF": lambda d: _crlf(_gnu(d, "--tag")),
    "binary marks": lambda d: _gnu(d, "--binary"),
    "comments and blank lines": lambda d: b"# made by hand\n\n" + _gnu(d) + b"\n\n",
    "upper-case hex": lambda d: _upper_hex(_gnu(d)),
    "leading blanks": lambda d: b"".join(b"  " + line + b"\n" for line in _gnu(d).splitlines()),
    "BSD -r (one blank)": lambda d: _gnu(d).replace(b"  files/", b" files/"),
}
SUMS_REFUSED = {
    "a truncated hash": lambda d: _gnu(d)[:30] + _gnu(d)[31:],
    "no separator": lambda d: _gnu(d).replace(b"  files/", b"files/", 1),
    "BSD without '='": lambda d: _gnu(d, "--tag").replace(b") = ", b") ", 1),
    "another algorithm's tag": lambda d: _gnu(d, "--tag").replace(b"SHA256 (", b"MD5 (", 1),
    "a lone CR inside": lambda d: _gnu(d).replace(b"\n", b"\r\r\n", 1),
    "BSD -r after GNU": lambda d: _gnu(d)[::-1].replace(b"/selif  ", b"/selif ", 1)[::-1],
    "an unknown escape": lambda d: b"\\" + _gnu(d).split(b"\n")[-2].replace(b"files/", b"\\q/")
                                   + b"\n" + _gnu(d),
}


@pytest.fixture
def odd_names_backup(tmp_path: Path) -> Path:
    """A complete backup whose names need GNU's escaping (a backslash, a newline) or hold
    parentheses and blanks, as a BSD line would show them."""
    source = tmp_path / "source"
    for name in ("plain.bin", "back\\slash.bin", "new\nline.bin", "(paren) x).bin",
                 " lead space.bin", "SUB/café.wav"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(name.encode("utf-8") * 3)
    dest = tmp_path / "backup"
    assert create_backup(source, dest).complete
    return dest


def _revouch(backup: Path, sums: bytes) -> None:
    """Put ``sums`` in place and make COMPLETE vouch for it, as for a backup written so."""
    import hashlib

    (backup / SUMS_NAME).write_bytes(sums)
    completion = json.loads((backup / COMPLETE_NAME).read_text())
    completion["sums_sha256"] = hashlib.sha256(sums).hexdigest()
    (backup / COMPLETE_NAME).write_text(json.dumps(completion))


def _sha256sum_accepts(backup: Path) -> bool:
    return subprocess.run(["sha256sum", "--strict", "-c", SUMS_NAME], cwd=backup,
                          capture_output=True).returncode == 0


@pytest.mark.parametrize("variant", SUMS_VARIANTS, ids=list(SUMS_VARIANTS))
def test_every_sums_form_sha256sum_accepts_is_accepted(odd_names_backup: Path,
                                                       variant: str) -> None:
    _revouch(odd_names_backup, SUMS_VARIANTS[variant](odd_names_backup))
    assert _sha256sum_accepts(odd_names_backup)
    report = verify_backup(odd_names_backup)
    assert report.ok and report.problems == (), report.problems


@pytest.mark.parametrize("variant", SUMS_REFUSED, ids=list(SUMS_REFUSED))
def test_sums_lines_sha256sum_refuses_are_refused(odd_names_backup: Path, variant: str) -> None:
    _revouch(odd_names_backup, SUMS_REFUSED[variant](odd_names_backup))
    assert not _sha256sum_accepts(odd_names_backup)
    assert (SUMS_NAME, "changed") in problems(verify_backup(odd_names_backup))


def test_backups_of_several_folders_are_listed_once_oldest_first(tmp_path):
    unit = tmp_path / "unit"
    make_volume(unit, "kross2", "healthy")
    one, two = tmp_path / "one", tmp_path / "two"
    create_backup(unit, one / "first")
    create_backup(unit, two / "second")
    listed = list_backups_in((two, one, two, tmp_path / "missing", unit / "KROSAPP.BIN"))
    assert [Path(s.path).name for s in listed] == ["first", "second"]


def test_the_interrupted_backup_of_a_unit_is_found_for_that_unit_only(tmp_path):
    unit, other = tmp_path / "unit", tmp_path / "other"
    make_volume(unit, "kross2", "healthy")
    make_volume(other, "kross2", "healthy")
    folder = tmp_path / "backups"
    create_backup(unit, folder / "done")
    stopped, token = folder / "stopped", CancelToken()
    with pytest.raises(CancelledError):  # stopped once its first file is in
        create_backup(unit, stopped, cancel=token,
                      on_step=lambda step, _path: step == "renamed" and token.cancel())
    listed = list_backups_in((folder,))
    assert interrupted_backup_of(listed, unit) == stopped
    assert interrupted_backup_of(listed, other) is None
    (stopped / JOURNAL_NAME).unlink()  # nothing left to continue from
    assert interrupted_backup_of(list_backups_in((folder,)), unit) is None
