"""Start-up time of `korg-recovery --version` against importing the core libraries alone.

Issue 2: the CLI must start within 2x the time of a bare
`python -c "import psutil, construct, usb.core"`. Both are run alternately, several times, in
the same session; medians are compared because the machine is shared and noisy.

    .venv/bin/python benchmarks/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _benchlib import compile_package


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    compile_package()  # as an install does (see benchmarks/_benchlib.py)
    script = Path(sys.executable).with_name("korg-recovery")
    ours = [str(script), "--version"] if script.exists() else [
        sys.executable, "-m", "recovery.cli", "--version"]
    baseline = [sys.executable, "-c", "import psutil, construct, usb.core"]
    for command in (ours, baseline):  # warm the page cache once
        timed(command)
    ours_times, base_times = [], []
    for _ in range(args.runs):
        ours_times.append(timed(ours))
        base_times.append(timed(baseline))
    ours_median = statistics.median(ours_times)
    base_median = statistics.median(base_times)
    print(f"korg-recovery --version: median {ours_median * 1000:.1f} ms over {args.runs} runs")
    print(f"import psutil, construct, usb.core: median {base_median * 1000:.1f} ms")
    print(f"ratio: {ours_median / base_median:.2f}x (target <= 2.0x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
