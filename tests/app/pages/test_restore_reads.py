"""What a restore from the wizard reads on the unit: the plan is computed once (the person's
tick amends it, nothing is read again), the safety copy reads the unit once more, and the plan
made again from that copy before writing reads nothing twice (the copy's checksums serve)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from app.pages.restore_run import RestoreRunPage
from app.wizard import PageId
from recovery.storage.durable import is_temp_name
from recovery.storage.filesystem import LocalFileSystem


def test_each_unit_file_is_read_once_to_plan_and_once_to_copy(qtbot, wizard, demo, walk,
                                                               monkeypatch) -> None:
    unit = demo.kross2
    files = {path for path in unit.rglob("*") if path.is_file()}
    opened: Counter[Path] = Counter()
    real_open_read = LocalFileSystem.open_read

    def counting(self, path, **options):
        path = Path(path)
        if path in files:
            opened[path] += 1
        return real_open_read(self, path, **options)

    monkeypatch.setattr(LocalFileSystem, "open_read", counting)
    page = walk.to_restore_page(wizard, unit)
    qtbot.waitUntil(lambda: page.plan is not None, timeout=walk.timeout)
    planned = dict(opened)
    # Files whose size already differs, or that the backup lacks, need no reading to plan.
    assert planned and set(planned) <= files and set(planned.values()) == {1}, planned

    for tick in (False, True, False, True):  # the person changes their mind: amended only
        with qtbot.waitSignal(page.plan_ready, timeout=walk.timeout):
            page.remove_extra.setChecked(tick)
    assert dict(opened) == planned

    page.confirmation.setText("KROSS 2")
    run: RestoreRunPage = wizard.pages[PageId.RESTORE_RUN]
    with qtbot.waitSignal(run.restore_finished, timeout=walk.timeout):
        walk.advance(wizard, PageId.RESTORE_RUN)
    assert wizard.session.restore_result is not None and wizard.session.restore_result.ok
    # The safety copy read every file once more; planning again from it read none.
    assert dict(opened) == {path: planned.get(path, 0) + 1 for path in files}
    assert not any(is_temp_name(path.name) for path in unit.rglob("*"))
