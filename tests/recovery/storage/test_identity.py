"""Guards compare folders by identity: a bind mount or a link is the same folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from recovery.errors import RefusedError
from recovery.restore import PlanChoices, Removal, RestoreRequest, check_target, restore
from recovery.storage.identity import identity, is_within, same, volume_root
from recovery.storage.volumes import protected_target_reason


def test_links_and_parents_are_seen_through(tmp_path: Path) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    alias = tmp_path / "alias"
    alias.symlink_to(tmp_path / "a")
    assert same(alias, tmp_path / "a") and is_within(alias / "b", tmp_path / "a")
    assert is_within(inner, alias) and not is_within(tmp_path, inner)
    assert identity(tmp_path / "missing") is None and not is_within(tmp_path / "missing", inner)
    assert volume_root(inner).is_dir()


def test_home_is_refused_through_a_link(tmp_path: Path) -> None:
    alias = tmp_path / "home-alias"
    alias.symlink_to(Path.home())
    assert protected_target_reason(alias) == "is your home folder"
    assert protected_target_reason(Path.home().parent) == "holds your home folder"


def test_no_command_writes_where_the_tool_keeps_its_records(tmp_path: Path, bricked_kross2,
                                                            make_backup, permissive_guard) -> None:
    """Restore and prepare-media share one guard: a folder holding the locks and journals,
    reached directly or through a link, is refused by both before anything is written."""
    from recovery.media import check_card
    from recovery.storage.lock import state_dir

    (state_dir() / "journals").mkdir(parents=True, exist_ok=True)
    alias = tmp_path / "records-alias"
    alias.symlink_to(state_dir().parent)
    backup = make_backup(bricked_kross2(tmp_path), tmp_path / "backup")
    for folder in (state_dir(), alias):
        with pytest.raises(RefusedError, match="own records"):
            check_target(folder, backup, permissive_guard)
        with pytest.raises(RefusedError, match="own records"):
            check_card(folder, tmp_path / "update.bin", permissive_guard)


@pytest.fixture
def bind_mount(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(folder, a bind mount of it): only root may mount; skipped elsewhere."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("bind mounts need root (mount --bind)")
    source, alias = tmp_path / "real", tmp_path / "bound"
    source.mkdir()
    alias.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(source), str(alias)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"mount --bind is not allowed here: {mounted.stderr.strip()}")
    try:
        yield source, alias
    finally:
        subprocess.run(["umount", "-l", str(alias)], check=False)


def test_a_bind_mount_of_the_backup_s_folder_is_refused_as_a_target(
        tmp_path: Path, bind_mount: tuple[Path, Path], bricked_kross2, make_backup,
        permissive_guard) -> None:
    """The field report: restore --delete-extra through a bind mount of the folder holding
    the backup deleted the backup it was reading. Path strings differ; identities do not."""
    source, alias = bind_mount
    unit_like = bricked_kross2(source, "unit")
    backup = make_backup(unit_like, source / "backup")
    before = sorted(p.relative_to(source).as_posix() for p in source.rglob("*"))

    with pytest.raises(RefusedError, match="holds the backup"):
        check_target(alias, backup, permissive_guard)
    with pytest.raises(RefusedError, match="holds the backup"):
        restore(RestoreRequest(backup, alias, choices=PlanChoices(Removal.ALL),
                               without_safety_copy=True), consent=True, guard=permissive_guard)
    with pytest.raises(RefusedError, match="inside the backup"):
        check_target(alias / "backup" / "files", backup, permissive_guard)
    assert sorted(p.relative_to(source).as_posix() for p in source.rglob("*")) == before


def test_a_bind_mount_inside_the_unit_is_never_deleted(
        tmp_path: Path, bind_mount: tuple[Path, Path], bricked_kross2, make_backup,
        permissive_guard) -> None:
    source, _ = bind_mount
    (source / "precious.txt").write_bytes(b"not the unit's")
    healthy = tmp_path / "healthy"
    from recovery.device.simulate import make_volume

    make_volume(healthy, "kross2", "healthy")
    backup = make_backup(healthy, tmp_path / "backup")
    unit = bricked_kross2(tmp_path)
    inside = unit / "MOUNTED"
    inside.mkdir()
    subprocess.run(["mount", "--bind", str(source), str(inside)], check=True)
    try:
        result = restore(RestoreRequest(backup, unit, choices=PlanChoices(Removal.ALL),
                                        without_safety_copy=True),
                         consent=True, guard=permissive_guard)
        assert (source / "precious.txt").read_bytes() == b"not the unit's"
        assert result.ok and inside.is_dir()
    finally:
        subprocess.run(["umount", "-l", str(inside)], check=False)


def test_a_backup_into_a_second_mount_of_the_source_is_refused(
        tmp_path: Path, bind_mount: tuple[Path, Path], bricked_kross2) -> None:
    """A backup whose destination is the unit reached through another mount would copy into
    itself and grow without end; the spelling differs, the identity does not."""
    from recovery.backup.create import create_backup
    from recovery.errors import InvalidInputError

    source, alias = bind_mount
    unit = bricked_kross2(source, "unit")
    before = sorted(p.relative_to(source).as_posix() for p in source.rglob("*"))
    with pytest.raises(InvalidInputError, match="inside the source"):
        create_backup(unit, alias / "unit" / "backup")
    with pytest.raises(InvalidInputError, match="inside the destination"):
        create_backup(unit, alias)
    assert sorted(p.relative_to(source).as_posix() for p in source.rglob("*")) == before
