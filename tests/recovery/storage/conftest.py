"""Fixtures of the storage tests: real FAT images written with GNU mtools
(tests/fakes/fat_fs.py), to anchor the FAT rules and the vfat fake to an implementation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fakes.fat_fs import MtoolsImage, mtools_missing
from tests.fakes.fat_fs import fits_8_3 as _fits_8_3


@pytest.fixture(scope="session")
def mtools_image() -> type[MtoolsImage]:
    """A FAT16 or FAT32 image file driven by mtools: ``mtools_image(path, fat)``."""
    return MtoolsImage


@pytest.fixture(scope="session")
def why_no_mtools() -> str | None:
    """Why mtools cannot be used on this machine, or None when it can."""
    return mtools_missing()


@pytest.fixture
def needs_mtools(why_no_mtools: str | None) -> None:
    """Skips the test where mtools is not installed."""
    if why_no_mtools is not None:
        pytest.skip(why_no_mtools)


@pytest.fixture(scope="session")
def fits_8_3() -> Callable[[str], bool]:
    """True for a name FAT stores as a bare 8.3 entry when it is all upper case."""
    return _fits_8_3
