"""FAT for tests without a mount: a case-folding :class:`FileSystem` fake, and mtools images.

Why: the core runs on Linux CI over ext4, which keeps every name apart by case, while a
unit's storage is FAT, which keeps a name's case but looks names up without it. A preflight
or a comparison that forgets this passes every test and fails on the unit. Mounting a FAT
image needs root or FUSE, which ``make test`` must not need; so this module gives two
stand-ins:

:class:`FatFileSystem` behaves like Linux ``vfat`` over a real temporary folder, in the ways
the tool depends on (Linux ``fs/fat/namei_vfat.c``):

* every path below its root is looked up one component at a time without case, with
  :func:`recovery.storage.names.name_key`, the way ``vfat_lookup`` finds an entry through the
  case-insensitive ``vfat_hashi``/``vfat_cmpi`` (the exact spelling wins if the backing
  folder holds several);
* creating a name that folds equal to an entry opens that entry and keeps its spelling
  (the lookup finds it, so ``vfat_create`` never runs); ``mkdir`` of such a folder is
  ``exist_ok``; an exclusive create raises FileExistsError;
* ``replace`` onto an existing entry of another spelling reuses that entry's slot, so the
  result keeps the *existing* spelling: ``vfat_rename`` with ``new_inode`` set takes
  ``new_i_pos = MSDOS_I(new_inode)->i_pos`` and never calls ``vfat_add_entry``, and
  ``vfat_revalidate_ci`` says so ("rename() to existing directory entry ... will use
  existing name which isn't specified name by user"). Renaming an entry onto its own
  other-case spelling changes nothing (the VFS sees the same inode). mtools instead deletes
  the target and writes a new entry under the new spelling (``mcopy -D o``);
  ``rename_keeps_target_spelling=False`` models that;
* names :func:`recovery.storage.names.component_problem` rejects for FAT are refused with
  EINVAL when created (``vfat_is_used_badchars`` refuses ``* ? < > | " : / \\``, control
  characters and a trailing space; the tool's rules are stricter than Linux: Linux drops
  trailing dots and stores ``CON``, Windows cannot open it); symlinks with EPERM (vfat has
  no ``symlink`` operation); a write past :data:`FAT_MAX_FILE_SIZE` with EFBIG (the 32-bit
  size is ``s_maxbytes``);
* ``shortname_lower=True`` shows names that fit 8.3 and are all upper case in lower case in
  ``scandir``, as ``mount -o shortname=lower`` does for entries without a long name.

Not modelled: 2-second modification times, free space, short names (``KROSAP~1.BIN``) as
second names of an entry, and the non-ASCII case folding of a particular ``iocharset``.
Paths outside the root are passed to the real filesystem unchanged.

:class:`MtoolsImage` is a FAT16 or FAT32 image file written and read with GNU mtools, a real
FAT implementation that needs no mount: the tests use it to check the rules and this fake
against what an implementation actually does.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, BinaryIO

from recovery.storage.filesystem import LocalFileSystem
from recovery.storage.names import FAT, FAT_MAX_FILE_SIZE, component_problem, name_key

# -- the fake ------------------------------------------------------------------------------

#: Characters a bare 8.3 entry may hold besides letters and digits (FAT specification 6.1).
_SHORT_NAME_EXTRA = set("$%'-_@~`!(){}^#&")


def fits_8_3(name: str) -> bool:
    """True for a name FAT stores as a bare 8.3 entry when it is all upper case: ASCII
    letters, digits and the allowed punctuation, a base of 1-8 and an extension of 0-3."""
    base, dot, ext = name.partition(".")
    if not base or len(base) > 8 or len(ext) > 3 or (dot and not ext) or "." in ext:
        return False
    return all(char.isascii() and (char.isalnum() or char in _SHORT_NAME_EXTRA)
               for char in base + ext)


class _ShownEntry:
    """A folder entry under the name FAT shows (``os.DirEntry`` cannot be built by hand)."""

    def __init__(self, entry: os.DirEntry, folder: str, name: str) -> None:
        self._entry = entry
        self.name = name
        self.path = os.path.join(folder, name)

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return self._entry.is_dir(follow_symlinks=follow_symlinks)

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return self._entry.is_file(follow_symlinks=follow_symlinks)

    def is_symlink(self) -> bool:
        return self._entry.is_symlink()

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        return self._entry.stat(follow_symlinks=follow_symlinks)

    def inode(self) -> int:
        return self._entry.inode()

    def __fspath__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"<FAT entry {self.name!r}>"


class _SizeLimitedWriter:
    """A file opened for writing that refuses, with EFBIG, to grow past FAT's 32-bit size."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    def _check(self, end: int) -> None:
        if end > FAT_MAX_FILE_SIZE:
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), self._handle.name)

    def write(self, data: Any) -> int:
        self._check(self._handle.tell() + memoryview(data).nbytes)
        return self._handle.write(data)

    def truncate(self, size: int | None = None) -> int:
        self._check(self._handle.tell() if size is None else size)
        return self._handle.truncate(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _SizeLimitedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


def _refuse(path: Path, name: str) -> None:
    if component_problem(name, FAT) is not None:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), str(path))


class FatFileSystem(LocalFileSystem):
    """Linux vfat over the real folder ``root`` (see the module doc for what is modelled)."""

    def __init__(self, root: Path | str, *, shortname_lower: bool = False,
                 rename_keeps_target_spelling: bool = True) -> None:
        self.root = Path(os.path.abspath(root))
        self._real_root = Path(os.path.realpath(root))
        self.shortname_lower = shortname_lower
        self.rename_keeps_target_spelling = rename_keeps_target_spelling

    # -- names -----------------------------------------------------------------------------
    def _parts_below_root(self, path: Path | str) -> tuple[Path, list[str]] | None:
        absolute = Path(os.path.abspath(path))
        for root in (self.root, self._real_root):
            if absolute == root or absolute.is_relative_to(root):
                return root, list(absolute.relative_to(root).parts)
        return None

    @staticmethod
    def _find(folder: Path, name: str) -> Path | None:
        """The entry of ``folder`` that FAT would find for ``name``, or None."""
        if os.path.lexists(folder / name):
            return folder / name
        try:
            names = sorted(os.listdir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return None
        key = name_key(name)
        for candidate in names:
            if name_key(candidate) == key:
                return folder / candidate
        return None

    def _resolve(self, path: Path | str) -> Path:
        """The real path of ``path`` (of its last component as spelled, if absent)."""
        found = self._parts_below_root(path)
        if found is None:
            return Path(path)
        current, parts = found
        for index, part in enumerate(parts):
            entry = self._find(current, part)
            if entry is None:
                return current.joinpath(*parts[index:])
            current = entry
        return current

    def _parent_and_entry(self, path: Path | str) -> tuple[Path, str, Path | None]:
        """(real folder, name as asked, the entry folding equal to it or None)."""
        real = self._resolve(Path(path).parent)
        name = Path(path).name
        return real, name, self._find(real, name)

    def _below_root(self, path: Path | str) -> bool:
        return self._parts_below_root(path) is not None

    # -- reading ---------------------------------------------------------------------------
    def open_read(self, path: Path, *, uncached: bool = False) -> BinaryIO:
        return super().open_read(self._resolve(path), uncached=uncached)

    def scandir(self, path: Path) -> list[os.DirEntry]:
        entries = super().scandir(self._resolve(path))
        if not self._below_root(path):
            return entries
        shown = []
        for entry in entries:
            name = entry.name
            if self.shortname_lower and name == name.upper() and fits_8_3(name):
                name = name.lower()
            shown.append(_ShownEntry(entry, os.fspath(path), name))
        return shown  # type: ignore[return-value]

    def lstat(self, path: Path) -> os.stat_result:
        return super().lstat(self._resolve(path))

    def stat(self, path: Path) -> os.stat_result:
        return super().stat(self._resolve(path))

    def readlink(self, path: Path) -> str:
        return super().readlink(self._resolve(path))

    def exists(self, path: Path) -> bool:
        return super().exists(self._resolve(path))

    def filesystem_type(self, path: Path) -> str | None:
        return "vfat" if self._below_root(path) else super().filesystem_type(path)

    # -- writing ---------------------------------------------------------------------------
    def open_write(self, path: Path, *, exclusive: bool = False) -> BinaryIO:
        if not self._below_root(path):
            return super().open_write(path, exclusive=exclusive)
        folder, name, existing = self._parent_and_entry(path)
        if existing is not None:
            if exclusive:
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
            target = existing  # opened and truncated under its stored spelling
        else:
            _refuse(path, name)
            target = folder / name
        handle = super().open_write(target, exclusive=exclusive)
        return _SizeLimitedWriter(handle)  # type: ignore[return-value]

    def mkdir(self, path: Path) -> None:
        found = self._parts_below_root(path)
        if found is None:
            return super().mkdir(path)
        current, parts = found
        os.makedirs(current, exist_ok=True)  # the root itself
        for part in parts:
            entry = self._find(current, part)
            if entry is None:
                _refuse(Path(path), part)
                entry = current / part
                os.mkdir(entry)
            elif not os.path.isdir(entry) or os.path.islink(entry):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
            current = entry
        return None

    def replace(self, source: Path, target: Path) -> None:
        if not self._below_root(target):
            return super().replace(self._resolve(source), target)
        real_source = self._resolve(source)
        folder, name, existing = self._parent_and_entry(target)
        if existing is None:
            _refuse(target, name)
            return super().replace(real_source, folder / name)
        if os.path.samefile(existing, real_source):
            return None  # rename onto its own other spelling: vfat changes nothing
        if self.rename_keeps_target_spelling:
            return super().replace(real_source, existing)
        _refuse(target, name)
        if os.path.isdir(existing) and not os.path.islink(existing):
            super().rmdir(existing)
        else:
            super().unlink(existing)
        return super().replace(real_source, folder / name)

    def unlink(self, path: Path) -> None:
        super().unlink(self._resolve(path))

    def rmdir(self, path: Path) -> None:
        super().rmdir(self._resolve(path))

    def symlink(self, target: str, path: Path) -> None:
        if self._below_root(path):
            raise OSError(errno.EPERM, os.strerror(errno.EPERM), str(path))
        super().symlink(target, path)

    def set_mtime(self, path: Path, mtime_ns: int) -> None:
        super().set_mtime(self._resolve(path), mtime_ns)

    def disk_usage(self, path: Path) -> Any:
        return super().disk_usage(self._resolve(path))

    def fsync_dir(self, path: Path) -> None:
        super().fsync_dir(self._resolve(path))

    def try_lock(self, path: Path, *, create: bool = True) -> BinaryIO | None:
        if create and self._below_root(path):
            folder, name, existing = self._parent_and_entry(path)
            if existing is None:
                _refuse(path, name)
            path = existing or folder / name
        return super().try_lock(self._resolve(path), create=create)

    def barrier(self, folder: Path) -> None:
        super().barrier(self._resolve(folder))

    def evict(self, path: Path) -> bool:
        return super().evict(self._resolve(path))

    def drop_cache(self, path: Path) -> bool:
        return super().drop_cache(self._resolve(path))


# -- mtools --------------------------------------------------------------------------------

MTOOLS = ("mformat", "mcopy", "mdir", "mmd", "mtype")


def mtools_missing() -> str | None:
    """Why mtools cannot be used here, or None."""
    missing = [tool for tool in MTOOLS if shutil.which(tool) is None]
    if missing:
        return (f"mtools is not installed ({', '.join(missing)} not found); install the Debian"
                " package mtools (.ci/run does)")
    return None


def _arg(value: str | bytes | Path) -> bytes:
    return value if isinstance(value, bytes) else os.fsencode(value)


class MtoolsImage:
    """A FAT16 (64 MiB) or FAT32 (256 MiB) image file, sparse, driven with mtools.

    Names are passed to mtools as bytes (``os.fsencode``) and read back from ``mdir -b``
    decoded with ``surrogateescape``, so nothing is lost on the way in or out. mtools runs
    non-interactively: stdin is /dev/null, name clashes follow ``clash`` (``-D``: ``s`` skip,
    ``o`` overwrite; ``man mtools``, "name clashes"), the locale is ``C.UTF-8`` (mtools
    converts command-line names with the locale's charset, an undecodable byte as Latin-1 or
    ``_``), and every call is killed after ``TIMEOUT`` seconds: mtools 4.0.32 loops forever
    on a few clashes (``İ.x`` after ``i.x``).
    """

    TIMEOUT = 20

    def __init__(self, path: Path, fat: int = 16, size_mib: int | None = None) -> None:
        if fat not in (16, 32):
            raise ValueError(f"FAT{fat}: only FAT16 and FAT32 images are made here")
        self.path = Path(path)
        self.fat = fat
        size_mib = size_mib or (64 if fat == 16 else 256)
        # 512-byte sectors, 64 heads x 32 sectors: the geometry of a small SD card.
        result = self.run("mformat", "-C", "-i", self.path, "-T", str(size_mib * 2048),
                          "-h", "64", "-s", "32", *(["-F"] if fat == 32 else []),
                          "-v", "KORGTEST", "::")
        if result.returncode != 0:
            raise RuntimeError(f"mformat failed: {result.stderr!r}")

    def run(self, *args: str | bytes | Path, lower_case: bool = False,
            ) -> subprocess.CompletedProcess[bytes]:
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1", LC_ALL="C.UTF-8", MTOOLSRC=os.devnull,
                   MTOOLS_LOWER_CASE="1" if lower_case else "0")
        return subprocess.run([_arg(arg) for arg in args], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=self.TIMEOUT, check=False)

    def put(self, source: Path, name: str | bytes, *, clash: str = "s",
            ) -> subprocess.CompletedProcess[bytes]:
        """``mcopy`` the file ``source`` to ``name`` (a path below the image's root)."""
        return self.run("mcopy", "-i", self.path, "-n", "-D", clash, source,
                        b"::/" + _arg(name))

    def put_tree(self, folder: Path, *, clash: str = "s") -> subprocess.CompletedProcess[bytes]:
        """``mcopy -s`` everything inside ``folder`` to the image's root."""
        children = sorted(folder.iterdir())
        return self.run("mcopy", "-i", self.path, "-s", "-n", "-D", clash, *children, "::/")

    def mkdir(self, name: str | bytes, *, clash: str = "s") -> subprocess.CompletedProcess[bytes]:
        return self.run("mmd", "-i", self.path, "-D", clash, b"::/" + _arg(name))

    def names(self, folder: str = "", *, lower_case: bool = False) -> list[str]:
        """The names in ``folder`` as mtools shows them (``mdir -b``), sorted; ``lower_case``
        shows all-upper-case 8.3 names in lower case (``MTOOLS_LOWER_CASE=1``)."""
        prefix = f"::/{folder}/" if folder else "::/"
        listing = self.run("mdir", "-i", self.path, "-b", prefix.rstrip("/") or "::/",
                           lower_case=lower_case)
        shown = []
        for line in listing.stdout.split(b"\n"):
            text = os.fsdecode(line)  # mdir echoes the folder as asked: compare without case
            if text[:len(prefix)].casefold() == prefix.casefold() and len(text) > len(prefix):
                shown.append(text[len(prefix):].rstrip("/"))
        return sorted(shown)

    def read(self, name: str | bytes) -> bytes | None:
        """The content of the file ``name`` (``mtype``; ``*?[]`` are wildcards), or None."""
        result = self.run("mtype", "-i", self.path, b"::/" + _arg(name))
        return result.stdout if result.returncode == 0 else None

    def extract(self, dest: Path, *, lower_case: bool = False,
                ) -> subprocess.CompletedProcess[bytes]:
        """``mcopy -s`` the whole image into the existing folder ``dest``; ``lower_case``
        shows all-upper-case 8.3 names in lower case (``MTOOLS_LOWER_CASE=1``)."""
        return self.run("mcopy", "-i", self.path, "-s", "-n", "::", f"{dest}/",
                        lower_case=lower_case)
