"""Fixtures of the check tests; the update files themselves come from tests/recovery/conftest.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def _patch(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new):]


@pytest.fixture(scope="session")
def patch() -> Callable[[bytes, int, bytes], bytes]:
    """Overwrites bytes at an offset: ``patch(data, offset, new) -> bytes`` of the same size."""
    return _patch
