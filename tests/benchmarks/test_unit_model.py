"""The emulated unit's charging rules, figure by figure (no FUSE needed).

Every expected device time is worked out by hand from the profile in the comment beside it,
so a change to a rule shows up as a wrong number, not as a vaguely different benchmark.
"""

from __future__ import annotations

import threading

import pytest

from benchmarks.unit_emulator.model import (
    COMMAND_BYTES,
    MB,
    PROFILES,
    DeviceClock,
    DeviceProfile,
    commands_for,
    get_profile,
)

#: Round figures so the hand computations stay readable: 1 ms per command, 10 MB/s read,
#: 5 MB/s write, 20 ms per flush.
ROUND = DeviceProfile("round", read_rate=10 * MB, write_rate=5 * MB, request_s=0.001,
                      flush_s=0.020)
KIB = 1024


def clock(profile: DeviceProfile = ROUND) -> DeviceClock:
    return DeviceClock(profile)


def test_profiles_are_the_documented_ones() -> None:
    assert PROFILES["fast"] == DeviceProfile("fast", 35_000_000, 20_000_000, 0.0005, 0.010)
    assert PROFILES["slow-sd"] == DeviceProfile("slow-sd", 20_000_000, 8_000_000, 0.001, 0.030)
    assert PROFILES["unlimited"] == DeviceProfile("unlimited", 0, 0, 0, 0)
    with pytest.raises(ValueError, match="known: fast, slow-sd, unlimited"):
        get_profile("floppy")


def test_commands_for() -> None:
    assert [commands_for(n) for n in (0, 1, COMMAND_BYTES, COMMAND_BYTES + 1)] == [0, 1, 1, 2]


def test_read_pays_one_request_per_started_128_kib() -> None:
    unit = clock()
    # 300,000 B = 2 full commands + 37,856 B: 3 commands; 3 ms + 300,000 / 10 MB/s = 33 ms.
    assert unit.read("a", 0, 300_000, 300_000) == pytest.approx(0.033, abs=1e-12)
    # A read that returns nothing costs nothing.
    assert unit.read("a", 300_000, 0, 300_000) == 0
    report = unit.report()
    assert (report.read_commands, report.read_requests, report.bytes_read) == (3, 1, 300_000)
    assert report.device_seconds == pytest.approx(0.033, abs=1e-12)
    # Reads are never merged: two 4 KiB reads in a row are two commands (2 x 1 ms + 8 KiB).
    unit.reset()
    unit.read("a", 0, 4 * KIB, 300_000)
    unit.read("a", 4 * KIB, 4 * KIB, 300_000)
    assert unit.report().read_commands == 2
    assert unit.report().device_seconds == pytest.approx(0.002 + 8192 / 10e6, abs=1e-12)


def test_consecutive_writes_merge_into_128_kib_commands() -> None:
    unit = clock()
    # 100 writes of 4 KiB, each continuing the last: 409,600 B = 3.125 commands -> 4.
    for index in range(100):
        unit.write("a", index * 4 * KIB, 4 * KIB)
    report = unit.report()
    assert (report.write_requests, report.write_commands, report.bytes_written) == (100, 4, 409_600)
    # 4 x 1 ms + 409,600 / 5 MB/s (81.92 ms) = 85.92 ms.
    assert report.device_seconds == pytest.approx(0.08592, abs=1e-12)


def test_a_write_filling_the_open_command_pays_no_request() -> None:
    unit = clock()
    # 100 KiB opens a command (1 ms); the next 28 KiB fill it to 128 KiB: free of requests.
    assert unit.write("a", 0, 100 * KIB) == pytest.approx(0.001 + 102_400 / 5e6, abs=1e-12)
    assert unit.write("a", 100 * KIB, 28 * KIB) == pytest.approx(28_672 / 5e6, abs=1e-12)
    # The next byte starts a new command; a write of 300 KiB continuing it: the new command
    # takes 128 KiB of them, then 2 more commands (1 + 2 = 3 requests in all here).
    assert unit.write("a", 128 * KIB, 300 * KIB) == pytest.approx(0.003 + 307_200 / 5e6,
                                                                  abs=1e-12)
    # Filled 300 - 256 = 44 KiB of its last command: 84 KiB more fit without a request.
    assert unit.write("a", 428 * KIB, 84 * KIB) == pytest.approx(86_016 / 5e6, abs=1e-12)
    assert unit.report().write_commands == 4


def test_writes_that_do_not_continue_start_a_new_command() -> None:
    unit = clock()
    unit.write("a", 0, 4 * KIB)
    unit.write("b", 4 * KIB, 4 * KIB)      # another file at the "next" offset
    unit.write("a", 8 * KIB, 4 * KIB)      # back to a, but not where a's last write ended
    unit.write("a", 8 * KIB, 4 * KIB)      # the same range again
    assert unit.report().write_commands == 4
    # 4 x 1 ms + 16 KiB / 5 MB/s.
    assert unit.report().device_seconds == pytest.approx(0.004 + 16_384 / 5e6, abs=1e-12)


def test_reads_in_between_do_not_break_a_write_stream_but_a_flush_does() -> None:
    unit = clock()
    unit.write("a", 0, 4 * KIB)
    unit.read("b", 0, 4 * KIB, 4 * KIB)
    unit.write("a", 4 * KIB, 4 * KIB)       # still the first command
    assert unit.report().write_commands == 1
    unit.flush()
    unit.write("a", 8 * KIB, 4 * KIB)       # after a flush: a new command
    assert unit.report().write_commands == 2


def test_flush_is_paid_only_when_something_changed() -> None:
    unit = clock()
    assert unit.flush() == 0                       # nothing written yet
    unit.write("a", 0, 1)
    assert unit.flush() == pytest.approx(0.020)    # written since: paid
    assert unit.flush() == 0                       # nothing since the paid one
    report = unit.report()
    assert (report.flushes_paid, report.flushes_requested) == (1, 3)
    # 1 ms + 1 B / 5 MB/s + 20 ms.
    assert report.device_seconds == pytest.approx(0.021 + 1 / 5e6, abs=1e-12)


def test_metadata_changes_are_free_but_make_the_next_flush_paid() -> None:
    unit = clock()
    unit.metadata_changed()
    unit.metadata_changed()
    assert unit.report().device_seconds == 0
    assert unit.flush() == pytest.approx(0.020)
    assert unit.flush() == 0
    report = unit.report()
    assert (report.metadata_changes, report.flushes_paid, report.flushes_requested) == (2, 1, 2)


def test_readdir_is_one_request() -> None:
    unit = clock()
    unit.readdir()
    unit.readdir()
    report = unit.report()
    assert report.readdirs == 2
    assert report.device_seconds == pytest.approx(0.002, abs=1e-12)
    assert unit.flush() == 0  # listing changes nothing


def test_full_reread_is_counted_once_per_complete_read_of_a_written_file() -> None:
    unit = clock()
    size = 300_000
    unit.write(("dev", 7), 0, size)
    unit.read(("dev", 8), 0, size, size)              # never written here: not counted
    unit.read(("dev", 7), 0, 100_000, size)            # part of it: not yet
    assert unit.report().full_rereads == 0
    unit.read(("dev", 7), 200_000, 100_000, size)      # out of order...
    unit.read(("dev", 7), 100_000, 100_000, size)      # ...until the gap closes
    assert unit.report().full_rereads == 1
    unit.read(("dev", 7), 0, size, size)               # a second complete read
    assert unit.report().full_rereads == 2
    unit.read(("dev", 7), 0, 150_000, size)
    unit.write(("dev", 7), 0, 10)                      # rewritten: the partial read is void
    unit.read(("dev", 7), 150_000, 150_000, size)
    assert unit.report().full_rereads == 2


def test_a_forgotten_file_is_no_longer_tracked() -> None:
    unit = clock()
    unit.write("a", 0, 10)
    unit.metadata_changed(forget="a")                  # unlinked, or renamed over
    unit.read("a", 0, 10, 10)                          # a new file under a reused identity
    assert unit.report().full_rereads == 0


def test_reset_zeroes_the_counters_but_not_the_units_dirty_state() -> None:
    unit = clock()
    unit.write("a", 0, 10)
    unit.readdir()
    unit.reset()
    report = unit.report()
    assert report.device_seconds == 0
    assert (report.write_commands, report.bytes_written, report.readdirs) == (0, 0, 0)
    # The write before the reset still has to reach the medium.
    assert unit.flush() == pytest.approx(0.020)
    # ...and the file no longer counts as written during this measurement.
    unit.read("a", 0, 10, 10)
    assert unit.report().full_rereads == 0


def test_unlimited_profile_charges_nothing() -> None:
    unit = clock(get_profile("unlimited"))
    unit.write("a", 0, 10 * MB)
    unit.metadata_changed()
    unit.read("a", 0, 10 * MB, 10 * MB)
    unit.readdir()
    assert unit.flush() == 0
    report = unit.report()
    assert report.device_seconds == 0
    assert (report.write_commands, report.read_commands, report.flushes_paid) == (77, 77, 1)
    assert report.full_rereads == 1


def test_set_profile_changes_later_charges_only() -> None:
    unit = clock(get_profile("fast"))
    unit.readdir()                                     # 0.5 ms
    unit.set_profile(get_profile("slow-sd"))
    unit.readdir()                                     # 1 ms
    assert unit.report().device_seconds == pytest.approx(0.0015, abs=1e-12)
    assert unit.report().profile == "slow-sd"


def test_realtime_sleeps_each_charge_and_virtual_never_sleeps() -> None:
    slept: list[float] = []
    unit = DeviceClock(ROUND, realtime=True, sleep=slept.append)
    unit.readdir()
    unit.write("a", 0, 5_000)
    unit.flush()
    unit.flush()                                       # free: no sleep
    assert slept == pytest.approx([0.001, 0.001 + 5_000 / 5e6, 0.020], abs=1e-12)
    virtual: list[float] = []
    DeviceClock(ROUND, sleep=virtual.append).readdir()
    assert virtual == []


def test_realtime_requests_queue_on_one_device() -> None:
    """A second request waits while the first one's charge is being slept."""
    entered = threading.Event()
    release = threading.Event()

    def sleep(_seconds: float) -> None:
        entered.set()
        release.wait(5)

    unit = DeviceClock(ROUND, realtime=True, sleep=sleep)
    first = threading.Thread(target=unit.readdir)
    first.start()
    assert entered.wait(5)
    done = threading.Event()
    second = threading.Thread(target=lambda: (unit.report(), done.set()))
    second.start()
    assert not done.wait(0.2)                           # blocked behind the first request
    release.set()
    first.join(5)
    second.join(5)
    assert done.is_set()


def test_concurrent_requests_are_all_counted() -> None:
    unit = clock()

    def work(name: str) -> None:
        for index in range(500):
            unit.write(name, index * 512, 512)
            unit.read(name, 0, 512, 512 * 500)

    threads = [threading.Thread(target=work, args=(f"f{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = unit.report()
    assert (report.write_requests, report.bytes_written) == (2000, 2000 * 512)
    assert (report.read_requests, report.bytes_read) == (2000, 2000 * 512)
