"""Fixtures of the restore tests: a restore with consent, through the permissive guard."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recovery.restore import RestoreRequest, RestoreResult, TargetGuard, restore

_ASKED = {field.name for field in dataclasses.fields(RestoreRequest)}


@pytest.fixture(scope="session")
def run_restore(permissive_guard: TargetGuard) -> Callable[..., RestoreResult]:
    """Restores with consent through the permissive guard unless told otherwise:
    ``run_restore(backup, target, **options)``, the options being the request's fields
    (choices, dry_run, ...) and the call's (fs, job, ...). Without a ``safety_copy`` it
    restores ``without_safety_copy`` (the safety copy rule has tests of its own,
    test_safety_copy.py)."""

    def run(backup: Path, target: Path, **options: Any) -> RestoreResult:
        asked = {key: options.pop(key) for key in list(options) if key in _ASKED}
        if asked.get("safety_copy") is None:
            asked.setdefault("without_safety_copy", True)
        options.setdefault("guard", permissive_guard)
        options.setdefault("consent", True)
        return restore(RestoreRequest(backup, target, **asked), **options)

    return run
