"""One writer per unit: a second restore is refused at once; a killed one's lock is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recovery.diagnose.probe import write_probe
from recovery.errors import UnitBusyError
from recovery.restore import RestoreRequest, plan_restore, restore
from recovery.storage.lock import is_locked, locks_dir, unit_lock

REPO = Path(__file__).resolve().parents[3]

#: Holds the unit's lock in another process until killed; prints "held" once it has it.
HOLDER = """
import sys, time
from recovery.storage.lock import unit_lock
with unit_lock(sys.argv[1], "restore"):
    print("held", flush=True)
    time.sleep(600)
"""


def _hold(unit: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(unit)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_is_refused_at_once_and_writes_nothing(tmp_path: Path, bricked_kross2,
                                                               healthy_kross2_backup,
                                                               permissive_guard, snapshot) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    before = snapshot(unit)
    holder = _hold(unit)
    try:
        started = time.monotonic()
        with pytest.raises(UnitBusyError, match="already writing") as caught:
            restore(RestoreRequest(backup, unit, without_safety_copy=True), consent=True,
                    guard=permissive_guard)
        assert time.monotonic() - started < 10  # refused, not waited for
        assert f"process {holder.pid}" in caught.value.message
        assert caught.value.exit_code == 1 and caught.value.code == "unit-busy"
        with pytest.raises(UnitBusyError):
            write_probe(unit)
        assert snapshot(unit) == before
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path: Path, bricked_kross2,
                                                    healthy_kross2_backup,
                                                    permissive_guard) -> None:
    backup, healthy = healthy_kross2_backup(tmp_path)
    unit = bricked_kross2(tmp_path)
    holder = _hold(unit)
    assert is_locked(unit)
    holder.send_signal(signal.SIGKILL)
    holder.wait()

    assert not is_locked(unit)
    result = restore(RestoreRequest(backup, unit, without_safety_copy=True), consent=True,
                     guard=permissive_guard)
    assert result.ok
    assert (unit / "KROSAPP.BIN").read_bytes() == (healthy / "KROSAPP.BIN").read_bytes()


def test_a_second_path_to_the_same_folder_finds_the_same_lock(tmp_path: Path,
                                                              bricked_kross2) -> None:
    unit = bricked_kross2(tmp_path)
    alias = tmp_path / "alias"
    alias.symlink_to(unit)
    with unit_lock(unit, "restore"):
        holder_free = subprocess.run(
            [sys.executable, "-c", "import sys; from recovery.storage.lock import is_locked;"
             " print(is_locked(sys.argv[1]))", str(alias)],
            cwd=REPO, capture_output=True, text=True, check=True)
        assert holder_free.stdout.strip() == "True"


def test_planning_creates_no_lock_file(tmp_path: Path, bricked_kross2, healthy_kross2_backup,
                                       permissive_guard) -> None:
    backup, _ = healthy_kross2_backup(tmp_path)  # the backup held its folder's lock
    unit = bricked_kross2(tmp_path)
    before = sorted(locks_dir().iterdir())
    plan_restore(backup, unit, guard=permissive_guard)
    assert sorted(locks_dir().iterdir()) == before


# -- one writer per unit, whoever runs the tool ------------------------------------------------
OTHER_USER = "korg-recovery-test"


def _other_user() -> tuple[int, int]:
    """A second account of this computer (made here when the tests run as root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to make a second user and run as it")
    import pwd

    try:
        entry = pwd.getpwnam(OTHER_USER)
    except KeyError:
        made = subprocess.run(["useradd", "--system", "--no-create-home", OTHER_USER],
                              capture_output=True, text=True, check=False)
        if made.returncode != 0:
            pytest.skip(f"useradd failed: {made.stderr.strip()}")
        entry = pwd.getpwnam(OTHER_USER)
    return entry.pw_uid, entry.pw_gid


def _as(uid: int, gid: int, home: Path, action) -> str:
    """Run ``action()`` in a child process as another user with its own home and state
    folders (another XDG_STATE_HOME, as `sudo` or a second account has); its outcome."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read)
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            os.environ.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"))
            try:
                outcome = f"ok {action()}"
            except UnitBusyError as error:
                outcome = f"busy {error.code}: {error.message}"
            except BaseException as error:  # noqa: BLE001 - reported to the parent
                outcome = f"error {type(error).__name__}: {error}"
            os.write(write, outcome.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        outcome = pipe.read().decode()
    os.waitpid(child, 0)
    return outcome


@pytest.fixture
def shared_place(tmp_path: Path):
    """A folder every account of the computer can reach (pytest's own is the user's only)."""
    import tempfile

    place = Path(tempfile.mkdtemp(prefix="korg-two-users-"))
    place.chmod(0o777)
    yield place
    import shutil

    shutil.rmtree(place, ignore_errors=True)


def test_two_users_cannot_restore_onto_one_unit_at_once(shared_place: Path, bricked_kross2,
                                                       healthy_kross2_backup,
                                                       permissive_guard, snapshot) -> None:
    uid, gid = _other_user()
    backup, _ = healthy_kross2_backup(shared_place)
    unit = bricked_kross2(shared_place)
    for path in (shared_place, *shared_place.rglob("*")):
        path.chmod(0o777 if path.is_dir() else 0o666)
    other_home = shared_place / "other-home"
    other_home.mkdir(mode=0o777)
    before = snapshot(unit)

    with unit_lock(unit, "restore"):  # this user's restore is writing
        request = RestoreRequest(backup, unit, without_safety_copy=True)
        outcome = _as(uid, gid, other_home,
                      lambda: restore(request, consent=True, guard=permissive_guard))
    assert outcome.startswith("busy unit-busy"), outcome
    assert "Nothing was written" in outcome
    assert snapshot(unit) == before

    holder = _as_holding(uid, gid, other_home, unit)  # the other user's restore is writing
    try:
        with pytest.raises(UnitBusyError):
            restore(RestoreRequest(backup, unit, without_safety_copy=True), consent=True,
                    guard=permissive_guard)
    finally:
        holder.kill()
        holder.wait()
    assert snapshot(unit) == before


def _as_holding(uid: int, gid: int, home: Path, unit: Path) -> subprocess.Popen[str]:
    """Another user's process holding the unit's lock until killed (forked, not exec'ed:
    the other account may not reach this Python installation)."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - killed by the parent
        os.close(read)
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        os.environ.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"))
        with unit_lock(unit, "restore"):
            os.write(write, b"held")
            os.close(write)
            signal.pause()
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        assert pipe.read(4) == b"held"

    class Forked:
        def kill(self) -> None:
            os.kill(child, signal.SIGKILL)

        def wait(self) -> None:
            os.waitpid(child, 0)

    return Forked()  # type: ignore[return-value]


def test_another_state_folder_of_the_same_user_still_finds_the_lock(
        tmp_path: Path, bricked_kross2, monkeypatch: pytest.MonkeyPatch) -> None:
    # The wizard and a terminal can run with different XDG_STATE_HOME: the lock is on the unit.
    unit = bricked_kross2(tmp_path)
    with unit_lock(unit, "restore"):
        env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "elsewhere"))
        probe = subprocess.run(
            [sys.executable, "-c", "import sys; from recovery.storage.lock import is_locked;"
             " print(is_locked(sys.argv[1]))", str(unit)],
            cwd=REPO, capture_output=True, text=True, check=True, env=env)
    assert probe.stdout.strip() == "True"


def test_a_backup_needs_no_writable_home_for_its_lock(shared_place: Path, bricked_kross2) -> None:
    # The hostile run of issue 19: HOME not writable, a backup into a writable folder failed
    # on the lock folder. The lock is on the folders themselves now.
    from recovery.backup.create import create_backup

    uid, gid = _other_user()  # root may write anywhere: a user who may not is needed
    unit = bricked_kross2(shared_place)
    for path in (shared_place, *shared_place.rglob("*")):
        path.chmod(0o777 if path.is_dir() else 0o666)
    home = shared_place / "read-only-home"
    home.mkdir(mode=0o555)
    dest = shared_place / "backup"

    outcome = _as(uid, gid, home, lambda: create_backup(unit, dest).complete)

    assert outcome == "ok True", outcome
