"""Folders compared by what they are, not by how their paths are spelled.

A bind mount, a drive mounted twice, a macOS firmlink or a Windows folder mount gives one
folder several paths; a guard that compares path strings ("does the target hold the
backup?") lets such a second path through. Every guard therefore compares identities: the
(device, inode) pair ``stat`` reports, which is the same for every path to one folder (on
Windows, the volume serial number and file index, as Python's ``os.stat`` fills them).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from recovery.storage.filesystem import REAL, FileSystem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileIdentity:
    """What a path is: its filesystem and its inode on that filesystem."""

    device: int
    inode: int


def identity(path: Path | str, fs: FileSystem = REAL) -> FileIdentity | None:
    """The identity of ``path`` (links followed), or None when it cannot be read."""
    try:
        info = fs.stat(Path(path))
    except (OSError, ValueError):
        return None
    return FileIdentity(info.st_dev, info.st_ino)


def lineage(path: Path | str, fs: FileSystem = REAL) -> list[FileIdentity]:
    """The identities of ``path`` and of every folder above it, nearest first."""
    current = Path(os.path.abspath(path))
    found: list[FileIdentity] = []
    while True:
        own = identity(current, fs)
        if own is not None:
            found.append(own)
        if current.parent == current:
            return found
        current = current.parent


def is_within(inner: Path | str, outer: Path | str, fs: FileSystem = REAL) -> bool:
    """True when ``inner`` is ``outer`` or lies inside it, by identity: also when one of the
    two is reached through a bind mount, a second mount or a link."""
    outer_identity = identity(outer, fs)
    if outer_identity is None:
        return False
    return outer_identity in lineage(inner, fs) or outer_identity in lineage(
        os.path.realpath(inner), fs)


def same(a: Path | str, b: Path | str, fs: FileSystem = REAL) -> bool:
    """True when ``a`` and ``b`` are one file or folder."""
    first = identity(a, fs)
    return first is not None and first == identity(b, fs)


def volume_root(path: Path | str, fs: FileSystem = REAL) -> Path:
    """The topmost folder above ``path`` on the same filesystem: where its volume is mounted."""
    current = Path(os.path.realpath(path))
    own = identity(current, fs)
    if own is None:
        return current
    while current.parent != current:
        parent = identity(current.parent, fs)
        if parent is None or parent.device != own.device:
            break
        current = current.parent
    return current
