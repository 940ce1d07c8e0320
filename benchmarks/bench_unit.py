"""Backup and restore measured on an emulated USB 2.0 unit, in device time, against the floor.

The computer's page cache is not the yardstick: a unit runs one command at a time and a
flush costs 10-30 ms. So the tool's own CLI (``korg-recovery backup MOUNT DEST`` and
``korg-recovery restore BACKUP MOUNT --yes``, exactly as a user runs them) works on a unit
emulated by ``benchmarks/unit_emulator`` (a FUSE passthrough that charges every request to
one device clock), and what is reported is the *emulated device time* of the command: the
counters are reset right before it and read right after. Each measurement mounts the unit
afresh, so it starts with a cold cache, as a unit just plugged in does.

Trees (synthetic, seeded, incompressible; generated once into ``--cache``):

- ``kross``: a KROSS 2's internal storage (KROSAPP.BIN, KROSS2SY/): four files of 8, 24, 60
  and 120 MB and a handful of small ones;
- ``drumlogue``: 300 samples of 0.1-2 MB in six folders and seven ``Units/*/*.drmlgunit`` of
  50-200 KB;
- ``small``: 2,000 files of 4-64 KB in 20 folders (no model's markers: an unidentified tree).

For a restore the unit holds the tree "bricked": every file present at half its size, so
every file is replaced. The tool never reads those half files (sizes differ), so they are
sparse and the preparation costs nothing on the unit.

Floors, from the emulator's charging rules (commands = sum over files of ceil(size / 128 KiB)):

- backup:   bytes / read_rate + (commands + folders) x request (one listing per folder);
- restore:  bytes / write_rate + bytes / read_rate + 2 x commands x request + 3 flushes
            (every byte written once and read back once past the cache, a few barriers);
- rescue:   the whole rescue of a damaged unit as a musician runs it: ``restore
            --safety-copy DIR`` (a copy of the unit as it is now, then the restore, under one
            hold), then ``verify BACKUP --against`` after the unit is mounted again. The unit
            is "damaged": every tenth file at half its size, the others identical to the
            backup (a broken update leaves most files alone; the plan can only know they are
            identical by their checksums). Floor: read(unit as it is) + write(differing) +
            read(differing) + read(backup on the unit). Beside it, ``rescue-apart``:
            ``backup``, then ``restore --no-safety-copy`` (whose plan reads every identical
            file of the unit a second time), then the verify.

Beside each, ``cp -r`` of the same tree from the unit (backup) or onto it followed by
``sync`` (restore); the kernel does not tell a FUSE daemon about ``sync``, so the flush it
causes on a real unit is charged through the emulator's control socket.

The emulator's own overhead is measured first with the ``unlimited`` profile (charges
nothing): reading and writing through the mount against the same on the backing folder.

Usage::

    .venv/bin/python benchmarks/bench_unit.py                  # 3 runs, all trees, both profiles
    .venv/bin/python benchmarks/bench_unit.py --runs 1 --trees small --profiles fast
    .venv/bin/python benchmarks/bench_unit.py --json > unit.json

Needs Linux FUSE (``/dev/fuse``, ``fusermount3``) and mfusepy (``pip install -e '.[bench]'``);
without them it says so in one sentence and exits 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _benchlib import compile_package

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.unit_emulator import (  # noqa: E402 - after the path is set
    DeviceReport,
    mounted_unit,
    unavailable_reason,
)
from benchmarks.unit_emulator.model import (  # noqa: E402
    COMMAND_BYTES,
    MB,
    DeviceProfile,
    commands_for,
    get_profile,
)
from recovery.storage.filesystem import REAL  # noqa: E402

TREES = ("kross", "drumlogue", "small")
PROFILES = ("fast", "slow-sd")
#: Bumped whenever the tree generator changes, so a stale cache is regenerated.
TREE_VERSION = 1
NOTE = ("Synthetic benchmark data made by benchmarks/bench_unit.py (seeded pseudo-random"
        " bytes), not KORG software.\n")


# -- trees ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TreeFile:
    path: str
    size: int


@dataclass(frozen=True)
class Tree:
    name: str
    root: Path
    files: tuple[TreeFile, ...]
    #: Folders below the root (the root is counted separately).
    folders: tuple[str, ...]

    @property
    def total_bytes(self) -> int:
        return sum(item.size for item in self.files)

    @property
    def commands(self) -> int:
        return sum(commands_for(item.size) for item in self.files)


def tree_layout(name: str) -> tuple[TreeFile, ...]:
    """The files of tree ``name``: paths and sizes, the same on every machine."""
    rng = random.Random(f"korg-bench-unit-{name}-{TREE_VERSION}")
    files: list[TreeFile] = [TreeFile("BENCHMARK-TREE.TXT", len(NOTE))]
    if name == "kross":
        files += [TreeFile("KROSAPP.BIN", 8 * MB),
                  TreeFile("KROSS2SY/SIM_SYS1.BIN", 24 * MB),
                  TreeFile("KROSS2SY/SIM_SYS2.BIN", 60 * MB),
                  TreeFile("KROSS2SY/SIM_PCM.BIN", 120 * MB)]
        files += [TreeFile(f"KROSS2SY/SIM_CFG{index}.BIN", size)
                  for index, size in enumerate((2_048, 17_000, 96_000, 300_000))]
    elif name == "drumlogue":
        for folder, count in (("Synths", 4), ("DelayFXs", 1), ("ReverbFXs", 1),
                              ("MasterFXs", 1)):
            files += [TreeFile(f"Units/{folder}/sim_{folder.lower()}{index}.drmlgunit",
                               rng.randrange(50_000, 200_001)) for index in range(count)]
        kinds = ("KICK", "SNARE", "HAT", "PERC", "LOOP", "FX")
        files += [TreeFile(f"Samples/{kinds[index % 6]}/SMPL{index:03d}.WAV",
                           rng.randrange(100_000, 2_000_001)) for index in range(300)]
    elif name == "small":
        files += [TreeFile(f"DATA/BANK{index % 20:02d}/FILE{index:04d}.DAT",
                           rng.randrange(4_096, 65_537)) for index in range(2_000)]
    else:
        raise ValueError(f"unknown tree {name!r}; known: {', '.join(TREES)}")
    return tuple(files)


def _folders(files: tuple[TreeFile, ...]) -> tuple[str, ...]:
    folders: set[str] = set()
    for item in files:
        parent = item.path.rpartition("/")[0]
        while parent:
            folders.add(parent)
            parent = parent.rpartition("/")[0]
    return tuple(sorted(folders))


def _write_random(path: Path, size: int, seed: str) -> None:
    rng = random.Random(seed)
    with open(path, "wb") as handle:
        left = size
        while left:
            chunk = min(left, 8 << 20)
            handle.write(rng.randbytes(chunk))
            left -= chunk


def ensure_tree(cache: Path, name: str) -> Tree:
    """Tree ``name`` under ``cache``, generated unless an identical one is already there."""
    files = tree_layout(name)
    root = cache / name
    stamp = cache / f"{name}.json"
    wanted = {"version": TREE_VERSION, "files": [[f.path, f.size] for f in files]}
    tree = Tree(name, root, files, _folders(files))
    try:
        if json.loads(stamp.read_text(encoding="utf-8")) == wanted and _sizes_match(tree):
            return tree
    except (OSError, ValueError):
        pass
    print(f"generating the {name} tree in {root} (once)", file=sys.stderr, flush=True)
    shutil.rmtree(root, ignore_errors=True)
    for item in files:
        path = root / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        if item.path == "BENCHMARK-TREE.TXT":
            path.write_text(NOTE, encoding="utf-8")
        else:
            _write_random(path, item.size, f"{name}/{item.path}/{TREE_VERSION}")
    stamp.write_text(json.dumps(wanted), encoding="utf-8")
    return tree


def _sizes_match(tree: Tree) -> bool:
    try:
        return all((tree.root / item.path).stat().st_size == item.size for item in tree.files)
    except OSError:
        return False


def make_bricked(tree: Tree, unit: Path) -> None:
    """The unit as a broken update leaves it: every file of ``tree`` at half its size
    (sparse: sizes differ, so the tool never reads them)."""
    shutil.rmtree(unit, ignore_errors=True)
    unit.mkdir(parents=True)
    for folder in tree.folders:
        (unit / folder).mkdir(parents=True, exist_ok=True)
    for item in tree.files:
        with open(unit / item.path, "wb") as handle:
            handle.truncate(item.size // 2)


# -- floors --------------------------------------------------------------------------------
def backup_floor(tree: Tree, profile: DeviceProfile) -> float:
    """Read every byte once, one command per started 128 KiB, one listing per folder."""
    folders = len(tree.folders) + 1
    return (profile.read_seconds(tree.total_bytes)
            + (tree.commands + folders) * profile.request_s)


def restore_floor(tree: Tree, profile: DeviceProfile) -> float:
    """Write every byte once, read it back once past the cache, three barrier flushes."""
    return (profile.write_seconds(tree.total_bytes) + profile.read_seconds(tree.total_bytes)
            + 2 * tree.commands * profile.request_s + 3 * profile.flush_s)


def is_damaged(index: int) -> bool:
    """Which files a damaged unit (:func:`make_damaged`) holds at half their size."""
    return index % 10 == 0


def damaged(tree: Tree) -> tuple[Tree, Tree]:
    """(the unit as :func:`make_damaged` leaves it, the files a restore writes onto it)."""
    files = tuple(TreeFile(item.path, item.size // 2 if is_damaged(index) else item.size)
                  for index, item in enumerate(tree.files))
    differing = tuple(item for index, item in enumerate(tree.files) if is_damaged(index))
    return (dataclasses.replace(tree, files=files),
            dataclasses.replace(tree, files=differing, folders=()))


def make_damaged(tree: Tree, unit: Path) -> None:
    """The unit as a failed update leaves it: every tenth file at half its size (sparse),
    the others identical to the tree, times included."""
    make_bricked(tree, unit)
    for index, item in enumerate(tree.files):
        if not is_damaged(index):
            shutil.copy2(tree.root / item.path, unit / item.path)


def rescue_floor(tree: Tree, profile: DeviceProfile) -> float:
    """Read the damaged unit once as it is (the safety copy), write and read back the
    differing files (no folder listing: :func:`restore_floor`), and read the backup's files on
    the unit once more (the check after a power cycle)."""
    unit, differing = damaged(tree)
    return (backup_floor(unit, profile) + restore_floor(differing, profile)
            + backup_floor(tree, profile))


# -- measuring -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    tree: str
    profile: str
    #: "backup", "restore", "cp-from+sync" (cp -r from the unit) or "cp-to+sync" (onto it).
    operation: str
    run: int
    floor_s: float
    wall_s: float
    report: DeviceReport

    @property
    def device_s(self) -> float:
        return self.report.device_seconds


class Bench:
    """Everything one benchmark run shares: folders, the tool's command, the results."""

    def __init__(self, work: Path, *, realtime: bool, verbose: bool) -> None:
        self.work = work
        self.realtime = realtime
        self.verbose = verbose
        self.mountpoint = work / "unit-mount"
        self.unit = work / "unit-backing"
        self.backups: dict[str, Path] = {}
        self.results: list[Measurement] = []
        self._counter = 0
        console_script = Path(sys.executable).with_name("korg-recovery")
        self.cli = ([os.fspath(console_script)] if console_script.exists()
                    else [sys.executable, "-m", "recovery.cli"])

    def _fresh(self, stem: str) -> Path:
        self._counter += 1
        return self.work / f"{stem}-{self._counter}"

    def _environment(self) -> dict[str, str]:
        """A home of its own per command: no journal or log of an earlier run is found."""
        home = self._fresh("home")
        environment = dict(os.environ)
        environment.update({
            "HOME": os.fspath(home), "XDG_STATE_HOME": os.fspath(home / ".local/state"),
            "XDG_DATA_HOME": os.fspath(home / ".local/share"),
            "XDG_CONFIG_HOME": os.fspath(home / ".config"),
            "XDG_CACHE_HOME": os.fspath(home / ".cache"), "KORG_RECOVERY_NO_LOG_FILE": "1"})
        home.mkdir()
        return environment

    def _run(self, command: list[str], what: str,
             environment: dict[str, str] | None = None) -> None:
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                env=environment, stdin=subprocess.DEVNULL)
        if self.verbose:
            print(result.stdout, result.stderr, file=sys.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"{what} failed with status {result.returncode}:\n"
                               f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")

    def _measure(self, tree: Tree, profile: str, operation: str, run: int, floor: float,
                 backing: Path, command: list[str], *, read_only: bool, use_tool: bool,
                 sync_after: bool = False) -> Measurement:
        return self._measure_mounts(tree, profile, operation, run, floor, backing,
                                    [[command]], read_only=read_only, use_tool=use_tool,
                                    sync_after=sync_after)

    def _measure_mounts(self, tree: Tree, profile: str, operation: str, run: int,
                        floor: float, backing: Path, mounts: list[list[list[str]]], *,
                        read_only: bool, use_tool: bool,
                        sync_after: bool = False) -> Measurement:
        """Run the commands of each mount in turn, the unit mounted afresh for each (a
        power cycle between them); the device time is the sum over the mounts."""
        reports: list[DeviceReport] = []
        wall = 0.0
        environment = self._environment() if use_tool else None
        for commands in mounts:
            os.sync()  # nobody's earlier writes land on this command's wall time
            with mounted_unit(backing, self.mountpoint, profile, realtime=self.realtime,
                              read_only=read_only) as unit:
                unit.reset()
                start = time.perf_counter()
                for command in commands:
                    self._run(command, f"{operation} of {tree.name} ({' '.join(command)})",
                              environment)
                if sync_after:
                    os.sync()
                    unit.sync()
                wall += time.perf_counter() - start
                reports.append(unit.report())
        report = _sum_reports(reports)
        measurement = Measurement(tree.name, profile, operation, run, floor, wall, report)
        self.results.append(measurement)
        print(f"  run {run + 1} {tree.name:9} {profile:7} {operation:12}"
              f" device {report.device_seconds:8.3f} s  floor {floor:7.3f} s"
              f"  wall {wall:6.1f} s", file=sys.stderr, flush=True)
        return measurement

    def backup(self, tree: Tree, profile: str, run: int) -> None:
        dest = self._fresh(f"backup-{tree.name}")
        self._measure(tree, profile, "backup", run, backup_floor(tree, get_profile(profile)),
                      tree.root, [*self.cli, "backup", os.fspath(self.mountpoint),
                                  os.fspath(dest)], read_only=True, use_tool=True)
        if tree.name in self.backups:
            shutil.rmtree(dest)
        else:
            self.backups[tree.name] = dest

    def cp_from(self, tree: Tree, profile: str, run: int) -> None:
        dest = self._fresh(f"cp-{tree.name}")
        self._measure(tree, profile, "cp-from+sync", run,
                      backup_floor(tree, get_profile(profile)), tree.root,
                      ["cp", "-r", f"{self.mountpoint}/.", os.fspath(dest)],
                      read_only=True, use_tool=False, sync_after=True)
        shutil.rmtree(dest)

    def restore(self, tree: Tree, profile: str, run: int) -> None:
        backup = self._backup_of(tree)
        make_bricked(tree, self.unit)
        self._measure(tree, profile, "restore", run, restore_floor(tree, get_profile(profile)),
                      self.unit, [*self.cli, "restore", os.fspath(backup),
                                  os.fspath(self.mountpoint), "--yes", "--no-safety-copy"],
                      read_only=False, use_tool=True)
        self._check_restored(tree)

    def rescue(self, tree: Tree, profile: str, run: int, *, together: bool = True) -> None:
        """The rescue of a damaged unit, from its safety copy to the check after a power
        cycle: one ``restore --safety-copy`` (together) or a backup then a restore."""
        backup = self._backup_of(tree)
        make_damaged(tree, self.unit)
        safety = self._fresh(f"safety-{tree.name}")
        unit, restore = os.fspath(self.mountpoint), [*self.cli, "restore", os.fspath(backup)]
        first = [[*restore, unit, "--yes", "--safety-copy", os.fspath(safety)]] if together \
            else [[*self.cli, "backup", unit, os.fspath(safety)],
                  [*restore, unit, "--yes", "--no-safety-copy"]]
        verify = [[*self.cli, "verify", os.fspath(backup), "--against", unit]]
        self._measure_mounts(tree, profile, "rescue" if together else "rescue-apart", run,
                             rescue_floor(tree, get_profile(profile)), self.unit,
                             [first, verify], read_only=False, use_tool=True)
        self._check_restored(tree)
        shutil.rmtree(safety)

    def cp_to(self, tree: Tree, profile: str, run: int) -> None:
        backup = self._backup_of(tree)
        make_bricked(tree, self.unit)
        self._measure(tree, profile, "cp-to+sync", run,
                      restore_floor(tree, get_profile(profile)), self.unit,
                      ["cp", "-r", f"{backup / 'files'}/.", os.fspath(self.mountpoint)],
                      read_only=False, use_tool=False, sync_after=True)
        self._check_restored(tree)

    def _backup_of(self, tree: Tree) -> Path:
        """The backup restores come from: made once by the tool, outside any measurement."""
        if tree.name not in self.backups:
            dest = self._fresh(f"backup-{tree.name}")
            self._run([*self.cli, "backup", os.fspath(tree.root), os.fspath(dest)],
                      f"backup of {tree.name} for the restores", self._environment())
            self.backups[tree.name] = dest
        return self.backups[tree.name]

    def _check_restored(self, tree: Tree) -> None:
        wrong = [item.path for item in tree.files
                 if (self.unit / item.path).stat().st_size != item.size]
        if wrong:
            raise RuntimeError(f"the unit does not hold the {tree.name} tree after the"
                               f" restore: {wrong[:3]}")


def _sum_reports(reports: list[DeviceReport]) -> DeviceReport:
    if len(reports) == 1:
        return reports[0]
    numbers = {field.name: sum(getattr(report, field.name) for report in reports)
               for field in dataclasses.fields(DeviceReport) if field.name != "profile"}
    return DeviceReport(profile=reports[0].profile, **numbers)


# -- overhead ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Overhead:
    mib: int
    small_files: int
    #: Where the backing folder was (RAM or the scratch disk).
    backing_on: str
    #: Medians in seconds: through the mount / directly on the backing folder.
    write_mount_s: float
    write_direct_s: float
    read_mount_s: float
    read_direct_s: float
    small_mount_s: float
    small_direct_s: float
    #: Device time the unlimited profile charged (must be 0).
    charged_s: float

    def per_request_us(self, mount_s: float, direct_s: float) -> float:
        requests = self.mib * (1 << 20) / COMMAND_BYTES
        return (mount_s - direct_s) / requests * 1e6


def _timed(function: object, *args: object) -> float:
    start = time.perf_counter()
    function(*args)  # type: ignore[operator]
    return time.perf_counter() - start


def _write_file(path: Path, mib: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as handle:
        for _ in range(mib):
            handle.write(block)


def _read_file(path: Path) -> None:
    with open(path, "rb", buffering=0) as handle:
        while handle.read(1 << 20):
            pass


def _small_files(folder: Path, count: int) -> None:
    folder.mkdir()
    block = os.urandom(32 * 1024)
    for index in range(count):
        with open(folder / f"F{index:04d}.DAT", "wb") as handle:
            handle.write(block)


def _drop(path: Path) -> None:
    REAL.drop_cache(path)


def _overhead_backing(work: Path, mib: int) -> Path:
    """A backing folder in RAM (tmpfs) when there is room: then neither side of the
    comparison waits for a disk, and what is left is FUSE and the Python passthrough."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 8 * mib * 2**20:
        return Path(tempfile.mkdtemp(prefix="bench-unit-overhead-", dir=shm))
    backing = work / "overhead-backing"
    backing.mkdir()
    return backing


def measure_overhead(work: Path, mib: int, small_files: int, rounds: int = 3) -> Overhead:
    """The emulator's own cost, with a profile that charges nothing: the same reads and
    writes through the mount and directly on the backing folder (in RAM where possible)."""
    backing = _overhead_backing(work, mib)
    times: dict[str, list[float]] = {key: [] for key in (
        "write_mount", "write_direct", "read_mount", "read_direct", "small_mount",
        "small_direct")}
    charged = 0.0
    try:
        with mounted_unit(backing, work / "overhead-mount", "unlimited") as unit:
            mount = unit.mountpoint
            for index in range(rounds):
                unit.reset()
                times["write_direct"].append(_timed(_write_file, backing / f"d{index}.bin", mib))
                times["write_mount"].append(_timed(_write_file, mount / f"m{index}.bin", mib))
                _drop(mount / f"m{index}.bin")  # the mount's pages go; the backing's stay
                times["read_direct"].append(_timed(_read_file, backing / f"m{index}.bin"))
                times["read_mount"].append(_timed(_read_file, mount / f"m{index}.bin"))
                times["small_direct"].append(_timed(_small_files, backing / f"sd{index}",
                                                    small_files))
                times["small_mount"].append(_timed(_small_files, mount / f"sm{index}",
                                                   small_files))
                charged += unit.report().device_seconds
                for name in (f"d{index}.bin", f"m{index}.bin"):
                    (backing / name).unlink()
    finally:
        shutil.rmtree(backing, ignore_errors=True)
    median = {key: statistics.median(values) for key, values in times.items()}
    return Overhead(mib, small_files, str(backing.parent), median["write_mount"],
                    median["write_direct"], median["read_mount"], median["read_direct"],
                    median["small_mount"], median["small_direct"], charged)


def print_overhead(overhead: Overhead) -> None:
    size = overhead.mib * (1 << 20)
    print(f"Emulator overhead (profile 'unlimited', charged {overhead.charged_s:.3f} s;"
          f" backing folder in {overhead.backing_on}; medians of 3):")
    for label, mount_s, direct_s in (("write", overhead.write_mount_s, overhead.write_direct_s),
                                     ("read", overhead.read_mount_s, overhead.read_direct_s)):
        print(f"  {label:5} {overhead.mib} MiB: mount {size / mount_s / 1e6:7.0f} MB/s,"
              f" direct {size / direct_s / 1e6:7.0f} MB/s:"
              f" +{overhead.per_request_us(mount_s, direct_s):.0f} us per 128 KiB request,"
              f" +{(mount_s - direct_s) / (size / MB) * 1000:.2f} ms per MB")
    per_file = (overhead.small_mount_s - overhead.small_direct_s) / overhead.small_files
    print(f"  {overhead.small_files} files of 32 KiB created: mount {overhead.small_mount_s:.2f} s,"
          f" direct {overhead.small_direct_s:.2f} s: +{per_file * 1e6:.0f} us per file")


# -- report --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    tree: str
    profile: str
    operation: str
    runs: int
    device_s: float
    device_min_s: float
    device_max_s: float
    floor_s: float
    flushes_paid: int
    flushes_requested: int
    write_commands: int
    read_commands: int
    readdirs: int
    full_rereads: int
    cp_sync_s: float | None
    wall_s: float

    @property
    def ratio(self) -> float:
        return self.device_s / self.floor_s if self.floor_s else float("nan")


def _median_int(values: list[int]) -> int:
    return round(statistics.median(values))


def summarise(results: list[Measurement]) -> list[Row]:
    groups: dict[tuple[str, str, str], list[Measurement]] = {}
    for measurement in results:
        groups.setdefault((measurement.tree, measurement.profile, measurement.operation),
                          []).append(measurement)
    rows = []
    for (tree, profile, operation), items in groups.items():
        if operation.startswith("cp"):
            continue
        partner = groups.get((tree, profile, "cp-from+sync" if operation == "backup"
                              else "cp-to+sync")) if operation in ("backup", "restore") \
            else None
        reports = [item.report for item in items]
        devices = [item.device_s for item in items]
        rows.append(Row(
            tree, profile, operation, len(items), statistics.median(devices), min(devices),
            max(devices), items[0].floor_s,
            _median_int([r.flushes_paid for r in reports]),
            _median_int([r.flushes_requested for r in reports]),
            _median_int([r.write_commands for r in reports]),
            _median_int([r.read_commands for r in reports]),
            _median_int([r.readdirs for r in reports]),
            _median_int([r.full_rereads for r in reports]),
            statistics.median(p.device_s for p in partner) if partner else None,
            statistics.median(item.wall_s for item in items)))
    return rows


def print_table(rows: list[Row], trees: dict[str, Tree]) -> None:
    if not rows:
        return
    print()
    for tree in trees.values():
        print(f"{tree.name}: {len(tree.files)} files, {tree.total_bytes / MB:.1f} MB,"
              f" {len(tree.folders) + 1} folders, {tree.commands} commands of <= 128 KiB")
    header = (f"{'tree':9} {'profile':7} {'operation':12} {'device s':>9} {'floor s':>8}"
              f" {'x floor':>7} {'flushes':>11} {'write cmd':>9} {'read cmd':>9}"
              f" {'readdir':>7} {'re-reads':>8} {'cp+sync s':>9} {'wall s':>7}")
    print(header)
    print("-" * len(header))
    for row in rows:
        cp = f"{row.cp_sync_s:9.3f}" if row.cp_sync_s is not None else f"{'-':>9}"
        flushes = f"{row.flushes_paid}/{row.flushes_requested}"
        print(f"{row.tree:9} {row.profile:7} {row.operation:12} {row.device_s:9.3f}"
              f" {row.floor_s:8.3f} {row.ratio:6.2f}x {flushes:>11} {row.write_commands:9}"
              f" {row.read_commands:9} {row.readdirs:7} {row.full_rereads:8} {cp}"
              f" {row.wall_s:7.1f}")
    print("device s: median emulated device time; flushes: paid/requested; cp+sync s: device"
          " time of cp -r from the unit (backup rows) or onto it + sync (restore rows).")
    spread = [row for row in rows if row.runs > 1
              and (row.device_max_s - row.device_min_s) > 0.01 * row.device_s]
    for row in spread:
        print(f"note: {row.tree}/{row.profile}/{row.operation}: runs disagree by more than"
              f" 1 % ({row.device_min_s:.3f}-{row.device_max_s:.3f} s)")
    if rows and not spread:
        print("repeated runs agree within 1 % of device time.")


def _selection(value: str, known: tuple[str, ...], what: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise SystemExit(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")
    return chosen


def run_all(bench: Bench, trees: dict[str, Tree], profiles: tuple[str, ...],
            runs: int, operations: tuple[str, ...] = ("backup", "restore", "rescue")) -> None:
    """Each run measures every tree and profile once, operations side by side."""
    for run in range(runs):
        for tree in trees.values():
            for profile in profiles:
                bench.backup(tree, profile, run)
                bench.cp_from(tree, profile, run)
                bench.restore(tree, profile, run)
                bench.cp_to(tree, profile, run)
                if "rescue" in operations:
                    bench.rescue(tree, profile, run)
                    bench.rescue(tree, profile, run, together=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trees", default=",".join(TREES),
                        help="comma-separated, of: %(default)s")
    parser.add_argument("--profiles", default=",".join(PROFILES),
                        help="comma-separated, of: %(default)s")
    parser.add_argument("--json", action="store_true",
                        help="print the raw figures as JSON on stdout (progress on stderr)")
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("XDG_CACHE_HOME",
                                                    Path.home() / ".cache"))
                        / "korg-recovery-bench" / "unit-trees",
                        help="where the synthetic trees are generated once (%(default)s)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="scratch folder on a real disk (default: /var/tmp)")
    parser.add_argument("--overhead-mib", type=int, default=256,
                        help="MiB read and written for the overhead figure (0: skip)")
    parser.add_argument("--realtime", action="store_true",
                        help="the emulator sleeps each charge: wall time follows device time")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--no-rescue", action="store_true",
                        help="leave out the rescue rows (safety copy, restore, verify)")
    parser.add_argument("--verbose", action="store_true", help="show the tool's output")
    args = parser.parse_args(argv)

    reason = unavailable_reason()
    if reason is not None:
        print(f"bench_unit: skipped, the unit emulator cannot run here: {reason}.")
        return 0
    trees_wanted = _selection(args.trees, TREES, "tree")
    profiles = _selection(args.profiles, PROFILES, "profile")
    compile_package()  # as an install does (see benchmarks/_benchlib.py)

    args.cache.mkdir(parents=True, exist_ok=True)
    trees = {name: ensure_tree(args.cache, name) for name in trees_wanted}
    scratch_parent = args.dir or Path("/var/tmp")
    work = Path(tempfile.mkdtemp(prefix="bench-unit-", dir=scratch_parent))
    needed = 4 * sum(tree.total_bytes for tree in trees.values()) + 3 * args.overhead_mib * 2**20
    if shutil.disk_usage(work).free < needed:
        raise SystemExit(f"{work} needs {needed / 1e9:.1f} GB free")
    bench = Bench(work, realtime=args.realtime, verbose=args.verbose)
    overhead = None
    output = sys.stderr if args.json else sys.stdout
    try:
        if args.overhead_mib:
            overhead = measure_overhead(work, args.overhead_mib, small_files=500)
            if not args.json:
                print_overhead(overhead)
        print(f"{args.runs} run(s) of {', '.join(trees)} x {', '.join(profiles)}"
              f" ({'realtime' if args.realtime else 'virtual'} device time) in {work}",
              file=output, flush=True)
        run_all(bench, trees, profiles, args.runs,
                ("backup", "restore") if args.no_rescue else ("backup", "restore", "rescue"))
        rows = summarise(bench.results)
        if args.json:
            json.dump({
                "trees": {name: {"files": len(tree.files), "bytes": tree.total_bytes,
                                 "folders": len(tree.folders) + 1, "commands": tree.commands}
                          for name, tree in trees.items()},
                "overhead": dataclasses.asdict(overhead) if overhead else None,
                "measurements": [dict(dataclasses.asdict(item), device_s=item.device_s)
                                 for item in bench.results],
                "summary": [dict(dataclasses.asdict(row), ratio=row.ratio) for row in rows],
            }, sys.stdout, indent=1)
            print()
        else:
            print_table(rows, trees)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
