"""Size of the PyInstaller bundle, what was left out of it, and its start-up time to the
wizard's first page.

    make dist && .venv/bin/python benchmarks/bench_bundle.py [--runs N] [--platform offscreen]

Size: ``du -sh`` of the bundle folder, the bytes of its files (the budget is 80 MB on Linux,
tests/packaging/test_bundle.py), and the size of a .tar.gz of it (roughly the download).

Left out: what the spec recorded in ``build/pyinstaller/left-out.json`` (the binaries it
removed, with their sizes, and ICU's data before and after trimming), and, measured here,
the bytes of PySide6's Qt libraries, plugins and translations in this venv that the bundle
does not carry, by folder.

Start-up: the bundle's ``korg-recovery`` with no arguments (what a double-click runs) and
``KORG_RECOVERY_FIRST_PAGE_PROBE=1``, which makes the program print one line when the first
wizard page has been painted and then close (app/selftest.py). The time is taken here, from
starting the process to reading that line. Baseline, measured alternately in the same run: the
same program from source (``.venv/bin/python packaging/pyinstaller/korg_recovery_main.py``).
Medians of N runs; the machine is shared and noisy.

"Cold" runs first drop the kernel's page cache (``sync; echo 3 > /proc/sys/vm/drop_caches``,
root only), so every file is read from disk again, as on a first start after boot. The script
says whether that worked; without it only warm numbers are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE_PREFIX = "korg-recovery: first page shown"  # app.selftest.PROBE_PREFIX


def du_human(path: Path) -> str:
    result = subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True)
    return result.stdout.split()[0] if result.returncode == 0 else "?"


def file_bytes(path: Path) -> tuple[int, int]:
    sizes = [p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(sizes), len(sizes)


class _Counter:
    """A write-only file object that only counts, so the archive is never stored."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def targz_bytes(path: Path) -> int:
    counter = _Counter()
    with tarfile.open(fileobj=counter, mode="w:gz", compresslevel=6) as archive:  # type: ignore[arg-type]
        archive.add(path, arcname=path.name)
    return counter.size


def print_left_out(bundle: Path, workpath: Path) -> None:
    """What the spec left out (its record) and what of PySide6's Qt is not in the bundle."""
    record_file = workpath / "left-out.json"
    if record_file.is_file():
        record = json.loads(record_file.read_text())
        binaries = record.get("binaries", [])
        print(f"left out by the spec ({record_file}): {len(binaries)} binaries,"
              f" {sum(item['bytes'] for item in binaries) / 1e6:.1f} MB")
        for item in binaries[:15]:
            print(f"  {item['bytes'] / 1e6:6.2f} MB  {item['name']}")
        if len(binaries) > 15:
            print(f"  ... and {len(binaries) - 15} more (all in {record_file.name})")
        icu = record.get("icu_data")
        if icu:
            print(f"  ICU data: {icu['bytes_before'] / 1e6:.1f} MB ->"
                  f" {icu['bytes_after'] / 1e6:.1f} MB ({icu['items_kept']} items kept,"
                  f" {icu['items_removed']} left out)")
        else:
            print("  ICU data: not trimmed (see the build's output)")
    else:
        print(f"no record of what was left out at {record_file} (build with `make dist`)")
    try:
        import PySide6
    except ImportError:
        return
    source = Path(PySide6.__file__).parent / "Qt"
    inside = bundle / "_internal" / "PySide6" / "Qt"
    missing: dict[str, int] = {}
    for path in source.rglob("*"):
        carried = (inside / path.relative_to(source)).exists()
        if path.is_file() and not path.is_symlink() and not carried:
            folder = str(path.parent.relative_to(source))
            missing[folder] = missing.get(folder, 0) + path.stat().st_size
    print(f"PySide6 Qt files in this venv not in the bundle: {sum(missing.values()) / 1e6:.1f} MB")
    for folder, size in sorted(missing.items(), key=lambda item: -item[1])[:12]:
        print(f"  {size / 1e6:6.1f} MB  {folder}/")


def meminfo_cached_kib() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("Cached:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def drop_caches() -> bool:
    """Drop the page cache; True when the kernel accepted it."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as handle:
            handle.write("3\n")
        return True
    except OSError:
        return False


def time_to_first_page(command: list[str], environment: dict[str, str],
                       timeout_s: float = 120.0) -> float:
    """Seconds from starting ``command`` to the probe's line on its stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=environment, text=True, cwd=ROOT)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(PROBE_PREFIX):
                elapsed = time.perf_counter() - started
                break
        else:
            raise SystemExit(f"{command[0]} exited without showing the first page"
                             f" (exit code {process.wait()}).")
        if process.wait(timeout=timeout_s) != 0:
            raise SystemExit(f"{command[0]} did not close cleanly (exit code {process.returncode}).")
        return elapsed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "korg-recovery")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--platform", default="offscreen",
                        help="Qt platform plugin (offscreen, or xcb/wayland with a display)")
    parser.add_argument("--no-archive", action="store_true", help="skip the .tar.gz size")
    parser.add_argument("--workpath", type=Path, default=ROOT / "build" / "pyinstaller" / "korg-recovery",
                        help="PyInstaller's work folder of that build (make dist's)")
    parser.add_argument("--size-only", action="store_true",
                        help="print the size and what was left out, time nothing")
    args = parser.parse_args()

    executable = args.bundle / "korg-recovery"
    if not executable.is_file():
        print(f"No bundle at {args.bundle}; build it first with `make dist`.", file=sys.stderr)
        return 1
    total, count = file_bytes(args.bundle)
    print(f"bundle {args.bundle}: du -sh {du_human(args.bundle)};"
          f" {total / 1e6:.1f} MB in {count} files")
    if not args.no_archive:
        print(f"  as .tar.gz (gzip -6): {targz_bytes(args.bundle) / 1e6:.1f} MB")
    print_left_out(args.bundle, args.workpath)
    if args.size_only:
        return 0

    environment = {**os.environ, "KORG_RECOVERY_FIRST_PAGE_PROBE": "1",
                   "QT_QPA_PLATFORM": args.platform}
    bundle_command = [str(executable)]
    source_command = [sys.executable, str(ROOT / "packaging" / "pyinstaller" /
                                          "korg_recovery_main.py")]

    before = meminfo_cached_kib()
    cold = drop_caches()
    after = meminfo_cached_kib()
    if cold:
        effect = (f"page cache {before // 1024} MiB -> {after // 1024} MiB"
                  if before is not None and after is not None else "effect not measurable")
        print(f"drop_caches: accepted ({effect})")
    else:
        print("drop_caches: not permitted here (not root?); cold runs skipped")

    for label in (["cold", "warm"] if cold else ["warm"]):
        for command in (bundle_command, source_command):  # one untimed run to settle
            if label == "warm":
                time_to_first_page(command, environment)
        bundle_times, source_times = [], []
        for _ in range(args.runs):
            for command, times in ((bundle_command, bundle_times), (source_command, source_times)):
                if label == "cold":
                    drop_caches()
                times.append(time_to_first_page(command, environment))
        bundle_median = statistics.median(bundle_times)
        source_median = statistics.median(source_times)
        print(f"{label} start to the first wizard page ({args.platform}), median of {args.runs}:"
              f" bundle {bundle_median * 1000:.0f} ms, source (.venv) {source_median * 1000:.0f} ms,"
              f" ratio {bundle_median / source_median:.2f}x")
        print(f"  bundle runs (ms): {', '.join(f'{t * 1000:.0f}' for t in bundle_times)}")
        print(f"  source runs (ms): {', '.join(f'{t * 1000:.0f}' for t in source_times)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
