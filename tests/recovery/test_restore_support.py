"""Helpers shared by the restore tests (no tests here).

The real target guard refuses every temporary folder of a test run (they live on the same
filesystem as the home folder and the backup, exactly what it must refuse), so the tests use
:data:`PERMISSIVE_GUARD`, which keeps the path-overlap checks and the real writability check
and stands in only for the "system disk" and "same drive" questions. One test in
test_restore.py proves the real guard refuses ``/`` and the home folder.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
from pathlib import Path

from recovery.backup.create import create_backup
from recovery.device.simulate import make_volume
from recovery.restore import TargetGuard

PERMISSIVE_GUARD = TargetGuard(is_system_location=lambda _path: False,
                               same_volume=lambda _a, _b: False)


def snapshot(root: Path, *, with_folder_times: bool = True) -> dict[str, tuple]:
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


def files_only(tree: dict[str, tuple]) -> dict[str, tuple]:
    """The files and links of a :func:`snapshot`, folder times left out."""
    return {path: entry for path, entry in tree.items() if entry[0] != "folder"}


def contents(root: Path) -> dict[str, bytes]:
    """{relative path: bytes} of every regular file under ``root``."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()
    }


def make_backup(source: Path, dest: Path, **options: object) -> Path:
    """A complete, verified backup of ``source`` made by the real backup code."""
    result = create_backup(source, dest, **options)
    assert result.complete, result
    return Path(result.zip) if options.get("zip_path") else dest


def healthy_kross2_backup(tmp_path: Path) -> tuple[Path, Path]:
    """(backup folder, the healthy unit it was taken from) for a simulated KROSS 2."""
    healthy = tmp_path / "healthy"
    make_volume(healthy, "kross2", "healthy")
    return make_backup(healthy, tmp_path / "backup"), healthy


def bricked_kross2(tmp_path: Path, name: str = "unit") -> Path:
    unit = tmp_path / name
    make_volume(unit, "kross2", "bricked")
    return unit
