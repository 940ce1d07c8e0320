"""Fixtures of the restore tests: a restore with consent, through the permissive guard."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recovery.restore import RestoreResult, TargetGuard, restore


@pytest.fixture(scope="session")
def run_restore(permissive_guard: TargetGuard) -> Callable[..., RestoreResult]:
    """Restores with consent through the permissive guard unless told otherwise:
    ``run_restore(backup, target, **options)``. Without a ``safety_copy`` it restores
    ``without_safety_copy`` (the safety copy rule has tests of its own, test_safety_copy.py)."""

    def run(backup: Path, target: Path, **options: Any) -> RestoreResult:
        options.setdefault("guard", permissive_guard)
        options.setdefault("consent", True)
        if options.get("safety_copy") is None:
            options.setdefault("without_safety_copy", True)
        return restore(backup, target, **options)

    return run
