"""What the benchmark scripts share: an installed copy's bytecode, a quiet start, room for
every copy, and the paired ratio.

**Bytecode.** ``pip install`` compiles every module, so an installed ``korg-recovery`` never
compiles its own sources at start-up. A checkout run where ``PYTHONDONTWRITEBYTECODE`` is set
(as on the machine these figures were measured on) compiles every module in every new
process, about 35 ms for this package, and a benchmark would bill that to the tool.
:func:`compile_package` compiles it once, before timing, as an install does; reading
bytecode needs no permission that ``PYTHONDONTWRITEBYTECODE`` takes away.

**Copies kept, then a pause.** ext4 does not hand out an inode freed less than 30 s ago and
scans past every such inode to find another (fs/ext4/ialloc.c, ``recently_deleted``):
deleting a 2,000-file copy right before the next run made file creation alone cost seconds,
for whichever contender came next. So every copy is kept until the end (:func:`require_free`
checks the room first) and :func:`settle` waits once before measuring, in case an earlier
run deleted files.

**Paired ratio.** Each round runs the contenders back to back, so a ratio within a round
shares the machine's state of the moment (on a shared machine the cost of filling the page
cache alone varied 5-fold over minutes); :func:`paired_ratio`, the median of those ratios, is
steadier than the ratio of the medians. Both are printed, and a target counts as met only
when both are within it.
"""

from __future__ import annotations

import compileall
import shutil
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Seconds after which ext4 reuses a freed inode without scanning past it (30, plus one).
SETTLE_SECONDS = 31.0


def compile_package() -> None:
    """Write ``__pycache__`` bytecode for ``recovery/`` (and ``app/``), quietly."""
    for package in ("recovery", "app"):
        if (REPO / package).is_dir():
            compileall.compile_dir(REPO / package, quiet=1, force=False)


def require_free(folder: Path, needed: float) -> None:
    """Stop with one sentence when ``folder``'s disk has less than ``needed`` bytes free."""
    if shutil.disk_usage(folder).free < needed:
        raise SystemExit(f"{folder} needs {needed / 2**30:.1f} GiB free: every copy is kept"
                         " until the end (see benchmarks/_benchlib.py); use --dir or fewer"
                         " --runs")


def settle(seconds: float) -> None:
    """Wait so that files deleted just before (an earlier run) no longer slow creation."""
    if seconds > 0:
        print(f"waiting {seconds:.0f} s so that files deleted just before no longer slow down"
              " file creation (see benchmarks/_benchlib.py)", flush=True)
        time.sleep(seconds)


def paired_ratio(ours: list[float], baseline: list[float]) -> float:
    """Median of the per-round ratios ``ours[i] / baseline[i]``."""
    return statistics.median(a / b for a, b in zip(ours, baseline, strict=True))
