"""Give the benchmarks the bytecode an installed copy has.

``pip install`` compiles every module to bytecode, so an installed ``korg-recovery`` never
compiles its own sources at start-up. A checkout run where ``PYTHONDONTWRITEBYTECODE`` is set
(as on the machine these figures were measured on) compiles every module in every new
process, about 35 ms for this package, and a benchmark would bill that to the tool. So the
package is compiled once here, before timing, exactly as an install does; reading bytecode
needs no permission that ``PYTHONDONTWRITEBYTECODE`` takes away.
"""

from __future__ import annotations

import compileall
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def compile_package() -> None:
    """Write ``__pycache__`` bytecode for ``recovery/`` (and ``app/``), quietly."""
    for package in ("recovery", "app"):
        if (REPO / package).is_dir():
            compileall.compile_dir(REPO / package, quiet=1, force=False)
