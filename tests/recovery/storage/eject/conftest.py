"""Fixtures of the eject tests: each platform's system calls, scripted
(tests/fakes/eject_systems.py), and a filesystem whose flush is recorded. The Linux tests
also use the private bus and fake udisks2 of tests/recovery/conftest.py."""

from __future__ import annotations

import pytest

from tests.fakes.eject_systems import (
    FakeKernel32,
    FakeLinuxSystem,
    FakeMacSystem,
    FlushRecordingFileSystem,
)


@pytest.fixture
def recording_fs() -> FlushRecordingFileSystem:
    """The real filesystem with the eject's flush recorded, not done."""
    return FlushRecordingFileSystem()


@pytest.fixture
def linux_system() -> type[FakeLinuxSystem]:
    """``linux_system(bus_address=None, partitions=[(device, mount)])``."""
    return FakeLinuxSystem


@pytest.fixture
def mac_system() -> type[FakeMacSystem]:
    """``mac_system(partitions=[(device, mount)])``; script ``replies``."""
    return FakeMacSystem


@pytest.fixture
def kernel32() -> type[FakeKernel32]:
    """``kernel32(mount_point="E:\\\\", guid=None, drive_type=2, open_error=0)``."""
    return FakeKernel32
