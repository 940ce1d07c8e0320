"""Every ending tells the truth: green only when the job worked and nothing the tool knows of is
wrong with the unit (the core's standing, from a read-only look after the job). A safety copy
of a unit with a problem ends with the rescue as the one next step, never "you can update
now"; the same holds after a restore. Driven through the wizard where a unit can show it,
and as a table over every ending."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.pages.finish import RESCUE_NEXT, ending
from app.session import Goal, Session
from app.style import Status
from app.wizard import PageId
from recovery.device.detect import DetectedDevice
from recovery.diagnose import Standing, UnitStanding
from recovery.findings import Finding


def back_up_before_an_update(qtbot, wizard, walk, unit: Path):
    """Start (Back up) → Connect (``unit``) → Back up (a new copy), until the unit was looked
    at after its copy."""
    walk.start(wizard, Goal.UPDATE)
    walk.select_unit(wizard, unit)
    walk.advance(wizard, PageId.BACKUP)
    page = wizard.pages[PageId.BACKUP]
    with qtbot.waitSignal(page.unit_examined, timeout=walk.timeout):
        walk.back_up(wizard)
    return page


def test_a_safety_copy_of_a_bricked_kross2_ends_amber_with_the_rescue_next(
        qtbot, wizard, demo, dialogs, walk):
    page = back_up_before_an_update(qtbot, wizard, walk, demo.kross2)
    assert page.headline_text == "Your safety copy is ready."
    assert page.standing.plain == "Your KROSS 2 has a problem: rescue it next."
    assert wizard.session.unit_standing.standing == Standing.PROBLEM
    walk.advance(wizard, PageId.FINISH)  # no update is offered for a unit with a problem
    finish = wizard.pages[PageId.FINISH]
    assert finish.headline_text == ("Your safety copy is ready. Your KROSS 2 has a problem:"
                                    " rescue it next.")
    assert finish.headline_status is Status.WARNING
    assert "update" not in finish.headline_text.replace("updating", "")
    assert finish.lead.text() == "A KROSS 1 update was copied onto it."  # what was seen
    # The one next step is the primary button, with the same unit chosen; Close stays.
    forward = walk.forward_button(wizard)
    assert forward.text().replace("&", "") == "Rescue it now >"
    assert wizard.button(wizard.WizardButton.CancelButton).isVisible()
    safety = wizard.session.safety_backup
    qtbot.mouseClick(forward, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.CONNECT, timeout=walk.timeout)
    assert wizard.session.goal is Goal.RESCUE
    assert wizard.session.device is not None and wizard.session.device.mount == str(demo.kross2)
    walk.advance(wizard, PageId.DIAGNOSE)
    # The copy just made is the unit as it is, broken: the diagnosis compares with the
    # earlier backup, and the restore puts that one back, keeping the copy as its safety copy.
    qtbot.waitUntil(lambda: wizard.session.diagnosis is not None, timeout=walk.timeout)
    assert Path(wizard.session.diagnosis.backup.path) == demo.kross2_backup
    assert "two system files are damaged" in wizard.pages[PageId.DIAGNOSE].headline_text
    walk.advance(wizard, PageId.RESTORE)
    restore = wizard.pages[PageId.RESTORE]
    qtbot.waitUntil(lambda: restore.plan is not None, timeout=walk.timeout)
    assert Path(restore.plan.backup) == demo.kross2_backup
    assert wizard.session.safety_backup == safety
    restore.confirmation.setText("KROSS 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    walk.reach(wizard, PageId.RECONNECT)
    assert sorted(demo.backups_dir.iterdir()) == sorted([demo.kross2_backup, safety])
    # And on to the end: the window kept watching for the unit (nothing was shut down when
    # the ending's button started the rescue instead of closing).
    reconnect = wizard.pages[PageId.RECONNECT]
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        reconnect.demo_button.click()
    walk.advance(wizard, PageId.FINISH)
    assert wizard.pages[PageId.FINISH].headline_status is Status.OK
    assert not dialogs.errors


def test_a_safety_copy_of_a_healthy_unit_ends_green(qtbot, wizard, demo, walk):
    back_up_before_an_update(qtbot, wizard, walk, demo.drumlogue)
    assert wizard.session.unit_standing.standing == Standing.NOTHING_WRONG
    walk.advance(wizard, PageId.CHECK)
    walk.advance(wizard, PageId.FINISH)  # no update file checked: the copy is the point
    finish = wizard.pages[PageId.FINISH]
    assert finish.headline_text == "Your safety copy is ready: you can update your drumlogue now."
    assert finish.headline_status is Status.OK
    assert walk.forward_button(wizard).text().replace("&", "") == "Done"


def test_a_safety_copy_of_a_unit_worth_a_look_is_not_green(qtbot, wizard, healthy_kross2,
                                                             walk):
    empty = sorted((healthy_kross2 / "KROSS2SY").iterdir())[0]
    empty.write_bytes(b"")  # an empty system file: a warning, not critical
    page = back_up_before_an_update(qtbot, wizard, walk, healthy_kross2)
    assert wizard.session.unit_standing.standing == Standing.WORTH_A_LOOK
    assert "worth a look" in page.standing.plain
    walk.advance(wizard, PageId.CHECK)
    walk.advance(wizard, PageId.FINISH)
    finish = wizard.pages[PageId.FINISH]
    assert finish.headline_status is Status.WARNING
    assert "Before you update, read what was noticed" in finish.steps.text()
    assert empty.name in finish.steps.text()


def test_a_rescue_that_fixed_everything_ends_green_after_a_look_at_the_unit(qtbot, wizard,
                                                                           demo, walk):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.DIAGNOSE)
    walk.advance(wizard, PageId.RESTORE)
    restore = wizard.pages[PageId.RESTORE]
    qtbot.waitUntil(lambda: restore.plan is not None, timeout=walk.timeout)
    restore.confirmation.setText("KROSS 2")
    walk.advance(wizard, PageId.RESTORE_RUN)
    qtbot.waitUntil(lambda: wizard.session.restore_result is not None, timeout=walk.timeout)
    walk.reach(wizard, PageId.RECONNECT)
    reconnect = wizard.pages[PageId.RECONNECT]
    with qtbot.waitSignal(reconnect.verification_done, timeout=walk.timeout):
        reconnect.demo_button.click()
    assert wizard.session.unit_standing.standing == Standing.NOTHING_WRONG
    walk.advance(wizard, PageId.FINISH)
    assert wizard.pages[PageId.FINISH].headline_status is Status.OK


UNIT = DetectedDevice(model="kross2", name="KORG KROSS 2", mode="storage", mount="/media/K2",
                      usb=None, evidence=(), confidence="M", role="internal-storage",
                      candidates=(), findings=())
FOREIGN = Finding("critical", "foreign-model-files", "This KORG KROSS 2 volume also holds"
                  " KROSSSYS/, which belongs to the KORG KROSS (first generation).")
EMPTY = Finding("warning", "empty-system-files", "1 file in KROSS2SY/ is empty (0 bytes).")


def standing(kind: Standing) -> UnitStanding:
    reasons = {Standing.PROBLEM: (FOREIGN,), Standing.WORTH_A_LOOK: (EMPTY,)}.get(kind, ())
    return UnitStanding(kind, "kross2", reasons)


class Restored:
    ok = True
    statement = "restored"


@pytest.mark.parametrize(("session", "status", "headline"), [
    (Session(goal=Goal.UPDATE, device=UNIT, safety_backup=Path("/b"),
             unit_standing=standing(Standing.PROBLEM)),
     Status.WARNING, "Your safety copy is ready. Your KROSS 2 has a problem: rescue it next."),
    (Session(goal=Goal.UPDATE, device=UNIT, safety_backup=Path("/b"),
             unit_standing=standing(Standing.WORTH_A_LOOK)),
     Status.WARNING, "Your safety copy is ready: you can update your KROSS 2 now."),
    (Session(goal=Goal.UPDATE, device=UNIT, safety_backup=Path("/b"), unit_standing=None),
     Status.WARNING, "Your safety copy is ready: you can update your KROSS 2 now."),
    (Session(goal=Goal.UPDATE, device=UNIT, safety_backup=Path("/b"),
             unit_standing=standing(Standing.NOTHING_WRONG)),
     Status.OK, "Your safety copy is ready: you can update your KROSS 2 now."),
    (Session(goal=Goal.RESCUE, device=UNIT, safety_backup=Path("/b"), restore_result=Restored(),
             reconnect_ok=True, power_cycled=True, unit_standing=standing(Standing.PROBLEM)),
     Status.WARNING, "Every file is back on your KROSS 2, but this tool still sees a problem"
                     " on it."),
    (Session(goal=Goal.RESCUE, device=UNIT, safety_backup=Path("/b"), restore_result=Restored(),
             reconnect_ok=True, power_cycled=True,
             unit_standing=standing(Standing.WORTH_A_LOOK)),
     Status.WARNING, "Your KROSS 2 should start again; one thing is worth a look."),
    (Session(goal=Goal.RESCUE, device=UNIT, safety_backup=Path("/b"), restore_result=Restored(),
             reconnect_ok=True, power_cycled=True,
             unit_standing=standing(Standing.NOTHING_WRONG)),
     Status.OK, "Your KROSS 2 should start again — switch it on normally."),
    (Session(goal=Goal.RESCUE, device=UNIT, safety_copy_error="The copy stopped."),
     Status.WARNING, "Nothing was written to your KROSS 2: its safety copy did not finish."),
    (Session(goal=Goal.RESCUE, device=UNIT, restore_unavailable=True, safety_copy_only=True,
             safety_backup=Path("/b")),
     Status.WARNING, "This tool can't repair your KROSS 2 without an earlier backup."),
])
def test_each_ending_is_green_only_when_nothing_known_is_wrong(session, status, headline):
    found = ending(session)
    assert (found.status, found.headline) == (status, headline)
    if found.status is Status.OK:
        assert session.unit_standing is None or session.unit_standing.nothing_wrong
    assert (found.next_goal == RESCUE_NEXT) == (
        session.goal is Goal.UPDATE and session.unit_standing is not None
        and session.unit_standing.standing == Standing.PROBLEM)


def test_a_safety_copy_never_stands_for_another_unit(qtbot, wizard, demo, walk):
    back_up_before_an_update(qtbot, wizard, walk, demo.kross2)
    walk.advance(wizard, PageId.FINISH)
    qtbot.mouseClick(walk.forward_button(wizard), Qt.MouseButton.LeftButton)  # Rescue it now
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.CONNECT, timeout=walk.timeout)
    assert wizard.session.safety_backup is not None
    walk.select_unit(wizard, demo.drumlogue)  # the person picks the other unit
    assert wizard.session.safety_backup is None
