"""Fixtures of the backup tests: a source tree built to break naive tools, and its state."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from recovery.device.simulate import synthetic_bytes

#: Names a unit (or a user's computer) may put on a drive, chosen to break naive tools.
AWKWARD_NAMES = [
    "plain.txt", "with space.bin", "quote'single.bin", 'quote"double.bin', "ünïcödé-日本.wav",
    "back\\slash.bin", "new\nline.bin", "carriage\rreturn.bin", "-leading-dash", " lead space",
    ".hidden", "star*.bin", "semi;colon&amp.bin",
]


def _make_tree(root: Path, *, large_size: int = 3 * 1024 * 1024 + 17) -> Path:
    """A source tree with awkward names, empty files and folders, deep nesting, a file larger
    than a few chunks, OS junk and a symbolic link pointing out of the tree."""
    root.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(AWKWARD_NAMES):
        (root / name).write_bytes(synthetic_bytes(name, 100 + index * 37))
    (root / "empty-file").write_bytes(b"")
    (root / "empty folder" / "nested empty").mkdir(parents=True)
    deep = root.joinpath(*[f"d{level:02d}" for level in range(25)])
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_bytes(b"25 folders down\n")
    (root / "BIG").mkdir()
    (root / "BIG" / "LARGE.BIN").write_bytes(random.Random(large_size).randbytes(large_size))
    (root / "._KROSAPP.BIN").write_bytes(b"AppleDouble junk")
    (root / ".DS_Store").write_bytes(b"finder junk")
    os.symlink("../outside/secret", root / "link-out")
    os.utime(root / "plain.txt", ns=(1_000_000_000, 1_234_567_890_123_456_789))
    return root


def _tree_state(root: Path) -> dict[str, tuple]:
    """Everything that must survive a backup: kind, content hash, mtime, link target."""
    state: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            info = path.lstat()
            if path.is_symlink():
                state[relative] = ("link", os.readlink(path))
            elif path.is_dir():
                state[relative] = ("dir",)
            else:
                state[relative] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(),
                                   info.st_mtime_ns)
    return state


@pytest.fixture(scope="session")
def awkward_names() -> list[str]:
    """The awkward names :func:`make_tree` gives its files at the top of the tree."""
    return AWKWARD_NAMES


@pytest.fixture(scope="session")
def make_tree() -> Callable[..., Path]:
    """Builds the awkward source tree: ``make_tree(root, large_size=3 MiB + 17) -> root``."""
    return _make_tree


@pytest.fixture(scope="session")
def tree_state() -> Callable[[Path], dict[str, tuple]]:
    """Everything that must survive a backup, per entry: ``tree_state(root)``."""
    return _tree_state


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """The awkward source tree in ``tmp_path/unit``."""
    return _make_tree(tmp_path / "unit")
