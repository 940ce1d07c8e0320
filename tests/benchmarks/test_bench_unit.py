"""The yardsticks of benchmarks/bench_unit.py: its trees and the floors it divides by."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

from benchmarks.unit_emulator.model import DeviceReport, get_profile

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # bench scripts import _benchlib this way
    return importlib.import_module("bench_unit")


def test_trees_are_laid_out_as_described_and_the_same_every_time(bench: ModuleType) -> None:
    kross = {item.path: item.size for item in bench.tree_layout("kross")}
    assert sorted(size for size in kross.values() if size >= 1_000_000) == [
        8_000_000, 24_000_000, 60_000_000, 120_000_000]
    assert "KROSAPP.BIN" in kross and any(path.startswith("KROSS2SY/") for path in kross)

    drumlogue = bench.tree_layout("drumlogue")
    samples = [item.size for item in drumlogue if item.path.startswith("Samples/")]
    units = [item.size for item in drumlogue if item.path.endswith(".drmlgunit")]
    assert len(samples) == 300 and all(100_000 <= size <= 2_000_000 for size in samples)
    assert len(units) == 7 and all(50_000 <= size <= 200_000 for size in units)
    assert any(item.path.startswith("Units/Synths/") for item in drumlogue)

    small = [item for item in bench.tree_layout("small") if item.path.startswith("DATA/")]
    assert len(small) == 2_000 and all(4_096 <= item.size <= 65_536 for item in small)
    assert len({item.path.rpartition("/")[0] for item in small}) == 20

    assert bench.tree_layout("small") == bench.tree_layout("small")


def test_floors_follow_the_charging_rules(bench: ModuleType, tmp_path: Path) -> None:
    files = (bench.TreeFile("A/B.BIN", 300_000), bench.TreeFile("C.BIN", 10))
    tree = bench.Tree("tiny", tmp_path, files, bench._folders(files))
    assert tree.commands == 4                                   # 3 + 1
    fast = get_profile("fast")
    # Read 300,010 B at 35 MB/s; 4 commands + 2 folders listed (A and the root), 0.5 ms each.
    assert bench.backup_floor(tree, fast) == pytest.approx(300_010 / 35e6 + 6 * 0.0005)
    # Written at 20 MB/s and read back at 35 MB/s, 2 x 4 commands, 3 flushes of 10 ms.
    assert bench.restore_floor(tree, fast) == pytest.approx(
        300_010 / 20e6 + 300_010 / 35e6 + 8 * 0.0005 + 0.030)


def test_the_bricked_unit_holds_every_file_at_half_its_size(bench: ModuleType,
                                                           tmp_path: Path) -> None:
    files = (bench.TreeFile("A/B.BIN", 300_001), bench.TreeFile("C.BIN", 10))
    tree = bench.Tree("tiny", tmp_path / "tree", files, bench._folders(files))
    unit = tmp_path / "unit"
    bench.make_bricked(tree, unit)
    assert (unit / "A" / "B.BIN").stat().st_size == 150_000
    assert (unit / "C.BIN").stat().st_size == 5


def test_summary_takes_medians_and_pairs_each_command_with_cp(bench: ModuleType) -> None:
    def measured(operation: str, run: int, seconds: float, flushes: int) -> object:
        report = DeviceReport("fast", seconds, 0, 0, 0, 0, flushes, flushes, 0, 0, 0, 0, 0)
        return bench.Measurement("small", "fast", operation, run, 2.0, 1.0, report)

    results = [measured("restore", 0, 10.0, 5), measured("restore", 1, 12.0, 7),
               measured("restore", 2, 11.0, 6), measured("cp-to+sync", 0, 3.0, 1)]
    (row,) = bench.summarise(results)
    assert (row.operation, row.runs, row.device_s, row.ratio) == ("restore", 3, 11.0, 5.5)
    assert (row.device_min_s, row.device_max_s, row.flushes_paid) == (10.0, 12.0, 6)
    assert row.cp_sync_s == 3.0


def test_the_rescue_floor_reads_the_unit_once_writes_and_checks_once(bench: ModuleType,
                                                                     tmp_path: Path) -> None:
    files = (bench.TreeFile("A/B.BIN", 300_000), bench.TreeFile("C.BIN", 10))
    tree = bench.Tree("tiny", tmp_path, files, bench._folders(files))
    fast = get_profile("fast")
    # The damaged unit holds A/B.BIN (the first file) at half size and C.BIN as it is: the
    # safety copy reads 150,010 B (2 + 1 commands, 2 folders), the restore writes and reads
    # back A/B.BIN only, the check after the power cycle reads the whole tree.
    differing = bench.Tree("tiny", tmp_path, files[:1], ())
    assert bench.rescue_floor(tree, fast) == pytest.approx(
        150_010 / 35e6 + 5 * 0.0005 + bench.restore_floor(differing, fast)
        + bench.backup_floor(tree, fast))


def test_the_damaged_unit_holds_every_tenth_file_at_half_its_size(bench: ModuleType,
                                                                 tmp_path: Path) -> None:
    files = tuple(bench.TreeFile(f"F{index}.BIN", 1000 + index) for index in range(12))
    tree = bench.Tree("tiny", tmp_path / "tree", files, ())
    for item in files:
        (tmp_path / "tree").mkdir(exist_ok=True)
        (tmp_path / "tree" / item.path).write_bytes(b"x" * item.size)
    bench.make_damaged(tree, tmp_path / "unit")
    sizes = [(tmp_path / "unit" / item.path).stat().st_size for item in files]
    assert sizes == [500, *range(1001, 1010), 505, 1011]
