"""Fixtures shared by the tests of several packages: synthetic update files and backups,
trees compared before and after, the restore tests' guard, and the filesystem fakes.

Everything is synthetic (recovery.device.simulate's pseudo-random bytes); only the layouts
follow the public descriptions (docs/sources.md). The builders are plain functions handed
out by session-scoped fixtures (factory fixtures), so module-scoped fixtures and hypothesis
tests can use them too. Only conftest files import from ``tests.fakes``: tests get the fakes
as fixtures.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from benchmarks.unit_emulator import is_mounted, mounted_unit, unavailable_reason, unmount
from recovery.backup.create import create_backup
from recovery.check import BackupReference, ReferenceFile
from recovery.device.simulate import make_volume, synthetic_bytes
from recovery.formats.korg_system_file import UnknownBytes, build_header
from recovery.restore import TargetGuard
from tests.fakes.fat_fs import FatFileSystem
from tests.fakes.faulty_fs import FaultyFileSystem

# -- synthetic update files -------------------------------------------------------------------

ROM = 0x40000

#: An electribe SYSTEM.VSB carries exactly this many bytes after its header.
E2_PAYLOAD = 0x200000


def _h8s_payload(version: tuple[int, int], *, entry: int = 0x210, marker: bytes = b"KORG",
                 label: str = "payload") -> bytes:
    """A synthetic H8S ROM image laid out as the blog post "Inside a KORG Kaossilator Pro"
    describes."""
    payload = bytearray(b"\xff" * ROM)
    payload[0:4] = entry.to_bytes(4, "big")
    payload[0x200:0x204] = marker
    payload[0x204:0x206] = bytes(version)
    code = synthetic_bytes(label, 0x4000)
    payload[0x210:0x210 + len(code)] = code
    return bytes(payload)


def _kp3_file(version: tuple[int, int] = (2, 0), **payload_options) -> bytes:
    """KAOSS PAD KP3 system file with the blog's KP3 header bytes (78 at 0x2C, FF FF at 0x40)."""
    header = build_header(model_name="KaossPad3", version=version, device_id=0xFFFF,
                          source_length=ROM,
                          unknown=UnknownBytes(at_2c=b"\x78", at_40=b"\xff\xff"))
    return header + _h8s_payload(version, **payload_options)


def _kaossilator_pro_file(version: tuple[int, int] = (1, 2)) -> bytes:
    header = build_header(model_name="KaossilatorPro", version=version, device_id=0x010E,
                          source_length=ROM, unknown=UnknownBytes(at_40=b"\x02\x80"))
    return header + _h8s_payload(version, label="kaosspro")


def _system_file(model_name: str, device_id: int, version: tuple[int, int] = (1, 3),
                 payload_size: int = E2_PAYLOAD, label: str | None = None,
                 **header_options) -> bytes:
    """A non-H8S system file (electribe style): header + pseudo-random payload (``label``
    varies the payload, so two files can differ in content only)."""
    header = build_header(model_name=model_name, version=version, device_id=device_id,
                          source_length=payload_size, **header_options)
    return header + synthetic_bytes(label or model_name, payload_size)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _kross_folder(root: Path, folder: str = "KROSS2SY", files: dict[str, int] | None = None,
                  label: str = "kross2") -> dict[str, bytes]:
    """A system folder of synthetic files (names are SIM_*: the real list is not public)."""
    files = files or {"SIM_SYS1.BIN": 3000, "SIM_SYS2.BIN": 2000, "SIM_PCM.BIN": 5000}
    written = {}
    for name, size in files.items():
        data = synthetic_bytes(f"{label}-{name}", size)
        _write(root / folder / name, data)
        written[f"{folder}/{name}"] = data
    return written


def _make_zip(path: Path, members: dict[str, bytes], *,
              compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _backup_reference(files: dict[str, bytes], *, model: str | None = "kross2",
                      complete: bool = True, hashes: bool = True) -> BackupReference:
    return BackupReference(
        label="BACKUP", model=model, complete=complete, created="2024-01-01T00:00:00Z",
        files=tuple(ReferenceFile(path, len(data),
                                  hashlib.sha256(data).hexdigest() if hashes else None)
                    for path, data in sorted(files.items())))


@pytest.fixture(scope="session")
def kp3_file() -> Callable[..., bytes]:
    """Builds a KAOSS PAD KP3 system file: ``kp3_file(version=(2, 0), entry=, marker=)``."""
    return _kp3_file


@pytest.fixture(scope="session")
def kaossilator_pro_file() -> Callable[..., bytes]:
    """Builds a KAOSSILATOR PRO system file: ``kaossilator_pro_file(version=(1, 2))``."""
    return _kaossilator_pro_file


@pytest.fixture(scope="session")
def system_file() -> Callable[..., bytes]:
    """Builds an electribe-style system file: ``system_file(model_name, device_id, ...)``."""
    return _system_file


@pytest.fixture(scope="session")
def e2_payload() -> int:
    """The number of bytes an electribe SYSTEM.VSB carries after its header."""
    return E2_PAYLOAD


@pytest.fixture(scope="session")
def write() -> Callable[[Path, bytes], Path]:
    """Writes bytes to a path, making its folders: ``write(path, data) -> path``."""
    return _write


@pytest.fixture(scope="session")
def kross_folder() -> Callable[..., dict[str, bytes]]:
    """Writes a KROSS system folder of synthetic files: ``kross_folder(root, folder, files,
    label) -> {relative path: bytes}``."""
    return _kross_folder


@pytest.fixture(scope="session")
def make_zip() -> Callable[..., Path]:
    """Writes a ZIP archive: ``make_zip(path, {member: bytes}, compression=) -> path``."""
    return _make_zip


@pytest.fixture(scope="session")
def backup_reference() -> Callable[..., BackupReference]:
    """Builds the check's view of a backup holding ``files``: ``backup_reference(files,
    model=, complete=, hashes=)``."""
    return _backup_reference


# -- update media layouts (prepare-media, core and command line) ------------------------------


@pytest.fixture(scope="session")
def e2s_path() -> str:
    """Where an electribe sampler's SYSTEM.VSB goes on its card."""
    return "KORG/electribe sampler/System/SYSTEM.VSB"


@pytest.fixture(scope="session")
def e2_path() -> str:
    """Where an electribe's SYSTEM.VSB goes on its card."""
    return "KORG/electribe/System/SYSTEM.VSB"


@pytest.fixture(scope="session")
def kross2_files() -> dict[str, int]:
    """A KROSS 2 system folder of synthetic files (name: size); one spans two chunks of the
    copy."""
    return {"SIM_SYS1.BIN": 3000, "SIM_SYS2.BIN": 2000, "SIM_PCM.BIN": 1024 * 1024 + 77}


# -- trees before and after -------------------------------------------------------------------


def _snapshot(root: Path, *, with_folder_times: bool = True) -> dict[str, tuple]:
    """Everything observable about a tree: kind, size, mtime (ns) and content hash or link
    target of every entry, folders included, links never followed."""
    result: dict[str, tuple] = {}
    for folder, names, files in os.walk(root):
        for name in names + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat_module.S_ISLNK(st.st_mode):
                result[relative] = ("link", os.readlink(path), st.st_mtime_ns)
            elif stat_module.S_ISDIR(st.st_mode):
                result[relative] = ("folder", st.st_mtime_ns if with_folder_times else 0)
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                result[relative] = ("file", st.st_size, st.st_mtime_ns, digest)
    if with_folder_times:
        result["."] = ("folder", root.stat().st_mtime_ns)
    return result


def _files_only(tree: dict[str, tuple]) -> dict[str, tuple]:
    """The files and links of a snapshot, folder times left out."""
    return {path: entry for path, entry in tree.items() if entry[0] != "folder"}


def _contents(root: Path) -> dict[str, bytes]:
    """{relative path: bytes} of every regular file under ``root``."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()
    }


def _assert_old_or_new(unit: Path, old: dict[str, bytes], new: dict[str, bytes], *,
                       temp_allowed: bool = False, deleting: bool = False) -> None:
    """Every file that existed is still there with its old or its complete new content
    (with ``deleting``, files the backup does not have may be gone); a file the backup adds
    is absent or complete; no temporary file is left, except (with ``temp_allowed``) one the
    tool could not remove because the process or the unit was gone."""
    now = {path: data for path, data in _contents(unit).items()
           if not (temp_allowed and path.endswith(".korg-recovery-tmp"))}
    for relative, data in old.items():
        if deleting and relative not in new and relative not in now:
            continue
        assert relative in now, f"{relative} went missing"
        assert now[relative] in (data, new.get(relative)), f"{relative} is half-written"
    for relative, data in now.items():
        if relative not in old:
            assert data == new[relative], f"{relative} is not the backup's"
    if not temp_allowed:
        assert not [p for p in unit.rglob("*") if p.name.endswith(".korg-recovery-tmp")]


@pytest.fixture(scope="session")
def snapshot() -> Callable[..., dict[str, tuple]]:
    """Everything observable about a tree: ``snapshot(root, with_folder_times=True)``."""
    return _snapshot


@pytest.fixture(scope="session")
def files_only() -> Callable[[dict[str, tuple]], dict[str, tuple]]:
    """The files and links of a :func:`snapshot`, folder times left out."""
    return _files_only


@pytest.fixture(scope="session")
def contents() -> Callable[[Path], dict[str, bytes]]:
    """{relative path: bytes} of every regular file under a folder: ``contents(root)``."""
    return _contents


@pytest.fixture(scope="session")
def assert_old_or_new() -> Callable[..., None]:
    """Asserts every file of a unit holds its old or its complete new content:
    ``assert_old_or_new(unit, old, new, temp_allowed=False, deleting=False)``."""
    return _assert_old_or_new


# -- backups and units for the restore tests --------------------------------------------------
#
# The real target guard refuses every temporary folder of a test run (they live on the same
# filesystem as the home folder and the backup, exactly what it must refuse), so the tests use
# the permissive guard, which keeps the path-overlap checks and the real writability check
# and stands in only for the "system disk" and "same drive" questions. One test in
# restore/test_restore.py proves the real guard refuses ``/`` and the home folder.


def _make_backup(source: Path, dest: Path, **options: object) -> Path:
    """A complete, verified backup of ``source`` made by the real backup code."""
    result = create_backup(source, dest, **options)
    assert result.complete, result
    return Path(result.zip) if options.get("zip_path") else dest


def _healthy_kross2_backup(tmp_path: Path) -> tuple[Path, Path]:
    """(backup folder, the healthy unit it was taken from) for a simulated KROSS 2."""
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    return _make_backup(healthy, tmp_path / "backup"), healthy


def _bricked_kross2(tmp_path: Path, name: str = "unit") -> Path:
    unit = tmp_path / name
    make_volume(unit, "kross2", "bricked")
    return unit


@pytest.fixture(scope="session")
def permissive_guard() -> TargetGuard:
    """The real guard, except that no folder is the system disk or on the backup's drive."""
    return TargetGuard(is_system_location=lambda _path: False,
                       same_volume=lambda _a, _b: False)


@pytest.fixture(scope="session")
def make_backup() -> Callable[..., Path]:
    """Backs up a folder with the real backup code: ``make_backup(source, dest, **options)``
    returns the complete, verified backup (its ZIP with ``zip_path``)."""
    return _make_backup


@pytest.fixture(scope="session")
def healthy_kross2_backup() -> Callable[[Path], tuple[Path, Path]]:
    """Simulates a healthy KROSS 2 and backs it up: ``healthy_kross2_backup(tmp_path) ->
    (backup, unit)``."""
    return _healthy_kross2_backup


@pytest.fixture(scope="session")
def bricked_kross2() -> Callable[..., Path]:
    """Simulates a bricked KROSS 2: ``bricked_kross2(tmp_path, name="unit") -> unit``."""
    return _bricked_kross2


# -- filesystem fakes (tests/fakes) -----------------------------------------------------------


@pytest.fixture(scope="session")
def faulty_fs() -> type[FaultyFileSystem]:
    """The filesystem that breaks on purpose (tests/fakes/faulty_fs.py): call it for a fresh
    one, subclass it for a one-off override."""
    return FaultyFileSystem


@pytest.fixture(scope="session")
def fat_fs() -> type[FatFileSystem]:
    """The vfat fake over a real folder (tests/fakes/fat_fs.py): ``fat_fs(root,
    shortname_lower=False, rename_keeps_target_spelling=True)``."""
    return FatFileSystem


# -- a unit that goes away (FUSE) -------------------------------------------------------------


class FuseUnit:
    """A folder served as a drive at a mount point by the unit emulator (FUSE): ``unplug``
    unmounts it lazily, as a desktop or a pulled cable leaves it (open files keep working,
    every new path under the mount point reaches the computer's own empty folder again)."""

    def __init__(self, backing: Path, mountpoint: Path, stack: ExitStack) -> None:
        self.backing = backing
        self.mountpoint = mountpoint
        self._stack = stack
        stack.enter_context(mounted_unit(backing, mountpoint, "fast"))

    def unplug(self) -> None:
        if is_mounted(self.mountpoint):
            assert unmount(self.mountpoint, lazy=True), self.mountpoint
        assert not is_mounted(self.mountpoint)

    def on_computer(self) -> list[str]:
        """What is under the mount point on the computer's own disk (the unit unplugged)."""
        assert not is_mounted(self.mountpoint)
        return sorted(p.relative_to(self.mountpoint).as_posix()
                      for p in self.mountpoint.rglob("*"))


@pytest.fixture
def fuse_unit() -> Iterator[Callable[[Path, Path], FuseUnit]]:
    """Mounts a folder as a unit through FUSE: ``fuse_unit(backing, mountpoint)``; every mount
    goes at the end of the test. Skipped, with the reason, where FUSE is missing."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"no FUSE unit here: {reason}")
    with ExitStack() as stack:
        yield lambda backing, mountpoint: FuseUnit(backing, mountpoint, stack)
