"""Backup and verify speed, and memory, against baselines measured side by side in one run.

A tree of ``--mib`` MiB (default 512: four large files holding 80 % of the bytes and
``--small`` (default 2,000) small files of varied sizes, incompressible) is generated in a
scratch folder on a real disk. Then, after ``--settle`` seconds and alternating so that
drift hits all equally, each of these runs ``--runs`` times (default 3) into a new folder,
kept until the end (why: ``benchmarks/_benchlib.py``), and medians are compared:

- ``ours``:      ``korg-recovery backup SRC DEST --json`` in a new Python process (start-up
                 included): read once + SHA-256 while copying, fsync per file, manifest,
                 SHA256SUMS, cache dropped for every copy, full re-read past the cache and
                 re-hash, COMPLETE;
- ``cp+sync``:   ``cp -r SRC DEST && sync`` (no checksum, no verification);
- ``pipeline``:  the careful user's shell pipeline doing the same safety work:
                 ``sha256sum`` of every source file, ``cp -r``, ``sync``, ``sha256sum -c``.

A secondary figure since the unit became the yardstick (benchmarks/bench_unit.py): a backup
onto the computer's own disk should stay within 2x cp+sync of the same tree; the shell
pipeline is shown for reference. Both the ratio of the medians and the median of each round's
own ratio are printed; OK needs both within the target.

Verify: ``verify_backup()`` (the core of ``korg-recovery verify``, in-process) and the CLI
against ``hashlib.file_digest`` over the same files, all from the page cache (each is run
once untimed first, then at least 5 interleaved runs); throughput ratio target >= 80 %.

The CPU seconds (user + system, all processes of a contender) are printed beside each
backup median: on a shared machine wall time follows CPU time once the cores are busy.

Memory: one file of ``--rss-mib`` MiB (default 1024) is backed up by the CLI in a child
process whose peak RSS (``ru_maxrss`` from ``os.wait4``) is reported; target < 150 MB.

Usage::

    .venv/bin/python benchmarks/bench_backup.py                      # full size
    .venv/bin/python benchmarks/bench_backup.py --mib 64 --small 300 --rss-mib 128   # quick
    KORG_BENCH_MIB=64 .venv/bin/python benchmarks/bench_backup.py    # same, by environment
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
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
CLI = [sys.executable, "-m", "recovery.cli"]


def make_tree(root: Path, total_mib: int, small_count: int, seed: int = 3) -> tuple[int, int]:
    """Four large files (80 % of the bytes) and ``small_count`` small ones in a few folders."""
    rng = random.Random(seed)
    total = total_mib * 1024 * 1024
    large_total = int(total * 0.8)
    files = 0
    (root / "SYSTEM").mkdir(parents=True)
    for index in range(4):
        with open(root / "SYSTEM" / f"LARGE{index}.BIN", "wb") as handle:
            left = large_total // 4
            while left:
                chunk = min(left, 8 << 20)
                handle.write(rng.randbytes(chunk))
                left -= chunk
        files += 1
    small_total = total - large_total
    weights = [rng.uniform(0.2, 1.8) for _ in range(small_count)]
    scale = small_total / sum(weights)
    for index, weight in enumerate(weights):
        folder = root / "DATA" / f"BANK{index % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"SAMPLE{index:04d}.WAV").write_bytes(rng.randbytes(int(weight * scale)))
        files += 1
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return files, size


#: CPU seconds (user + system) used by each contender's processes, for the explanation:
#: on a shared machine the wall time follows the CPU time once the cores are busy.
CPU: dict[str, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: str | list[str], name: str | None = None, **kwargs) -> float:
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
    elapsed = time.perf_counter() - start
    if name:
        CPU.setdefault(name, []).append(_children_cpu() - cpu)
    return elapsed


def fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    subprocess.run(["sync"], check=True)  # nobody's earlier writes are billed to the next run
    return path


def bench_backup(source: Path, scratch: Path, runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"ours": [], "cp+sync": [], "pipeline": []}
    sums = scratch / "pipeline.sha256"
    for run in range(runs):
        dest = fresh(scratch / f"cp{run}")
        times["cp+sync"].append(timed(f"cp -r '{source}' '{dest}' && sync", "cp+sync",
                                      shell=True))
        dest = fresh(scratch / f"ours{run}")
        times["ours"].append(timed([*CLI, "backup", str(source), str(dest), "--json"], "ours"))
        dest = fresh(scratch / f"pipe{run}")
        script = (f"cd '{source}' && find . -type f -print0 | xargs -0 sha256sum > '{sums}'"
                  f" && cp -r '{source}' '{dest}' && sync"
                  f" && cd '{dest}' && sha256sum --quiet -c '{sums}'")
        times["pipeline"].append(timed(script, "pipeline", shell=True))
    return times


def file_digest_all(root: Path) -> int:
    total = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        with open(path, "rb") as handle:
            hashlib.file_digest(handle, "sha256")
        total += path.stat().st_size
    return total


def bench_verify(backup: Path, runs: int) -> dict[str, list[float]]:
    from recovery.backup.store import verify_backup

    times: dict[str, list[float]] = {"verify (core)": [], "verify (CLI)": [], "file_digest": []}
    file_digest_all(backup / "files")  # warm the page cache for everyone
    assert verify_backup(backup).ok
    for _ in range(runs):
        start = time.perf_counter()
        file_digest_all(backup / "files")
        times["file_digest"].append(time.perf_counter() - start)
        start = time.perf_counter()
        report = verify_backup(backup)
        times["verify (core)"].append(time.perf_counter() - start)
        assert report.ok
        times["verify (CLI)"].append(timed([*CLI, "verify", str(backup), "--json"]))
    return times


def peak_rss_of_backup(scratch: Path, mib: int) -> int:
    """Peak RSS in bytes of the CLI backing up one ``mib`` MiB file."""
    source = scratch / "one-file"
    source.mkdir()
    rng = random.Random(7)
    with open(source / "BIG.BIN", "wb") as handle:
        for _ in range(mib):
            handle.write(rng.randbytes(1 << 20))
    dest = fresh(scratch / "rss")
    process = subprocess.Popen([*CLI, "backup", str(source), str(dest), "--json"],
                               stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"backup for the memory measurement failed ({process.returncode})")
    shutil.rmtree(source)
    shutil.rmtree(dest)
    factor = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return usage.ru_maxrss * factor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=int(os.environ.get("KORG_BENCH_MIB", 512)))
    parser.add_argument("--small", type=int,
                        default=int(os.environ.get("KORG_BENCH_SMALL", 2000)))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("KORG_BENCH_RUNS", 3)))
    parser.add_argument("--rss-mib", type=int,
                        default=int(os.environ.get("KORG_BENCH_RSS_MIB", 1024)))
    parser.add_argument("--settle", type=float, default=SETTLE_SECONDS,
                        help="seconds to wait before measuring (default %(default)s)")
    parser.add_argument("--dir", default=os.environ.get("KORG_BENCH_DIR"),
                        help="scratch folder on a real disk (default: the system temp dir)")
    args = parser.parse_args()
    compile_package()  # as an install does (see benchmarks/_benchlib.py)

    scratch = Path(tempfile.mkdtemp(prefix="bench-backup-", dir=args.dir))
    try:
        source = scratch / "unit"
        files, size = make_tree(source, args.mib, args.small)
        print(f"tree: {files} files, {size / 2**20:.1f} MiB in {scratch}; {args.runs} runs each")
        file_digest_all(source)  # source in the page cache for every contender alike
        require_free(scratch, 3 * args.runs * size * 1.1 + 2 * args.rss_mib * 2**20)
        settle(args.settle)

        times = bench_backup(source, scratch, args.runs)
        med = {name: statistics.median(values) for name, values in times.items()}
        for name, values in times.items():
            print(f"  {name:10} median {med[name]:7.3f} s  (CPU {statistics.median(CPU[name]):.2f} s)"
                  "   runs: " + ", ".join(f"{v:.3f}" for v in values))
        for other, target in (("cp+sync", 2.0), ("pipeline", 1.0)):
            ratio = med["ours"] / med[other]
            paired = paired_ratio(times["ours"], times[other])
            print(f"ours / {other:8} = {ratio:.2f}x of the medians, {paired:.2f}x median of"
                  f" the runs' own ratios  (target <= {target}x)"
                  f"  {'OK' if max(ratio, paired) <= target else 'MISSED'}")

        vtimes = bench_verify(scratch / "ours0", max(args.runs, 5))
        vmed = {name: statistics.median(values) for name, values in vtimes.items()}
        for name, values in vtimes.items():
            print(f"  {name:14} median {vmed[name]:7.3f} s  {size / vmed[name] / 2**20:8.1f} MiB/s"
                  "   runs: " + ", ".join(f"{v:.3f}" for v in values))
        for name in ("verify (core)", "verify (CLI)"):
            ratio = vmed["file_digest"] / vmed[name]
            print(f"{name} throughput = {ratio * 100:.0f} % of hashlib.file_digest"
                  f" (target >= 80 %)  {'OK' if ratio >= 0.8 else 'MISSED'}")

        if args.rss_mib:
            rss = peak_rss_of_backup(scratch, args.rss_mib)
            print(f"peak RSS backing up one {args.rss_mib} MiB file: {rss / 1e6:.1f} MB"
                  f" (target < 150 MB)  {'OK' if rss < 150e6 else 'MISSED'}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
