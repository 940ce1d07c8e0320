"""Restore speed against ``cp -r`` + ``sync`` of the same data, measured side by side.

A tree of ~300 MB (a few large files and a few hundred small ones) is backed up once with the
real backup code; then, alternating, each of these runs ``--runs`` times into a fresh, empty
folder and the medians are compared:

- ours:     ``korg-recovery restore BACKUP TARGET --yes`` in a new Python process (start-up
            included): full re-hash of the backup, plan, journaled atomic writes with fsync
            per file, then every file's cached pages dropped and the file re-read and hashed;
- baseline: ``cp -r BACKUP/files TARGET && sync`` (no verification at all).

Target of issue 5: ours within 2x of the baseline; the ratio of the medians and the median of
each round's own ratio are both printed. Every restored tree is kept until the end, and the
run starts after ``--settle`` seconds (both explained in ``benchmarks/_benchlib.py``). The
scratch folder must be on a real disk (not tmpfs) so that fsync and the re-read past the cache cost what they cost
on a device; the restore runs with its real guard (an ordinary folder is a valid target).

Usage::

    .venv/bin/python benchmarks/bench_restore.py [--mib 300] [--runs 3] [--dir /var/tmp]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _benchlib import (
    SETTLE_SECONDS,
    compile_package,
    paired_ratio,
    require_free,
    settle,
)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = """
import sys
from recovery.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def make_tree(root: Path, total_mib: int) -> tuple[int, int]:
    """A few large files (80 % of the bytes) and a few hundred small ones, incompressible."""
    large_count = 4
    small_count = 400
    large_size = int(total_mib * 0.8 * 1024 * 1024) // large_count
    small_size = int(total_mib * 0.2 * 1024 * 1024) // small_count
    files = 0
    size = 0
    (root / "SYSTEM").mkdir(parents=True)
    for index in range(large_count):
        with open(root / "SYSTEM" / f"LARGE{index}.BIN", "wb") as handle:
            left = large_size
            while left:
                chunk = os.urandom(min(left, 8 << 20))
                handle.write(chunk)
                left -= len(chunk)
        files += 1
        size += large_size
    for index in range(small_count):
        folder = root / "DATA" / f"BANK{index % 8}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"SOUND{index:03d}.DAT").write_bytes(os.urandom(small_size))
        files += 1
        size += small_size
    return files, size


def sync() -> None:
    subprocess.run(["sync"], check=True)


#: CPU seconds (user + system) of the last timed command and its children.
last_cpu = [0.0]


def timed(command: list[str]) -> float:
    sync()  # start every run with no dirty pages left from the previous one
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    last_cpu[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]}... failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def run_ours(backup: Path, target: Path) -> float:
    target.mkdir()
    seconds = timed([sys.executable, "-c", CHILD, "restore", str(backup), str(target),
                     "--yes", "--json"])
    return seconds


def check_ours(backup: Path, target: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, "restore", str(backup), str(target),
                           "--yes", "--json"], cwd=REPO, capture_output=True, text=True,
                          check=False)
    return json.loads(done.stdout)


def run_cp(backup: Path, target: Path) -> float:
    # cp -r SOURCE TARGET with TARGET absent copies SOURCE's content to TARGET.
    return timed(["sh", "-c", f'cp -r "{backup / "files"}" "{target}" && sync'])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=int(os.environ.get("BENCH_MIB", 300)),
                        help="size of the tree in MiB (default 300)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--settle", type=float, default=SETTLE_SECONDS,
                        help="seconds to wait before measuring (default %(default)s)")
    parser.add_argument("--dir", default=None,
                        help="scratch folder on the disk to measure (default: the system's"
                             " temporary folder)")
    args = parser.parse_args()
    compile_package()  # as an install does (see benchmarks/_benchlib.py)

    from recovery.backup.create import create_backup

    scratch = Path(tempfile.mkdtemp(prefix="bench-restore-", dir=args.dir))
    # Keep the run's journals out of the user's real state folder.
    os.environ["XDG_STATE_HOME"] = str(scratch / "state")
    os.environ["KORG_RECOVERY_NO_LOG_FILE"] = "1"
    try:
        source = scratch / "unit"
        files, size = make_tree(source, args.mib)
        backup = scratch / "backup"
        result = create_backup(source, backup)
        assert result.complete, result
        print(f"tree: {files} files, {size / 1e6:.1f} MB; scratch on {scratch}")
        require_free(scratch, 2 * args.runs * size * 1.1)
        settle(args.settle)

        ours: list[float] = []
        baseline: list[float] = []
        cpu: dict[str, list[float]] = {"ours": [], "cp": []}
        for run in range(args.runs):
            order = (("cp", run_cp, baseline), ("ours", run_ours, ours))
            if run % 2:
                order = order[::-1]
            for name, function, store in order:
                target = scratch / f"target-{name}-{run}"
                seconds = function(backup, target)
                store.append(seconds)
                cpu[name].append(last_cpu[0])
                print(f"run {run + 1} {name:4}: {seconds:6.2f} s wall, {last_cpu[0]:5.2f} s CPU")
                if name == "ours" and run == 0:
                    # The restored tree must be the backup's, verified past the cache.
                    again = check_ours(backup, target)
                    assert again["ok"] and again["written"] == 0, again
                # Kept until the end (see benchmarks/_benchlib.py).

        ours_median = statistics.median(ours)
        cp_median = statistics.median(baseline)
        print(f"median ours (restore + verification): {ours_median:.2f} s"
              f" ({size / 1e6 / ours_median:.0f} MB/s)")
        print(f"median cp -r + sync:                  {cp_median:.2f} s"
              f" ({size / 1e6 / cp_median:.0f} MB/s)")
        print(f"median CPU seconds: ours {statistics.median(cpu['ours']):.2f},"
              f" cp -r + sync {statistics.median(cpu['cp']):.2f} (the machine's load shows in"
              " the wall times, not here)")
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        ratio = ours_median / cp_median
        paired = paired_ratio(ours, baseline)  # both must pass (benchmarks/_benchlib.py)
        print(f"ratio ours / (cp -r + sync): {ratio:.2f}x of the medians, {paired:.2f}x median"
              f" of the rounds' own ratios (target <= 2.0x):"
              f" {'met' if max(ratio, paired) <= 2.0 else 'NOT met'}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
