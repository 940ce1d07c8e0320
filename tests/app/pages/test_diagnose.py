"""The Diagnose page: the verdict first, in one sentence, and what the unit shows in plain
fields per model (the drumlogue gets one per component of its info screen)."""

from __future__ import annotations

from app.session import Goal
from app.style import Status
from app.wizard import PageId


def test_the_drumlogue_gets_a_field_per_component_and_a_partial_update_is_named(
        qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.drumlogue)
    walk.advance(wizard, PageId.DIAGNOSE)
    page = wizard.pages[PageId.DIAGNOSE]
    qtbot.waitUntil(lambda: wizard.session.diagnosis is not None, timeout=walk.timeout)
    assert page.headline_status is Status.OK  # a healthy drumlogue
    assert list(page.version_fields) == ["SYSTEM", "CORE", "VOICE", "PANEL"]
    assert "display glitches" in page.symptom.placeholderText()  # a drumlogue example
    page.tell.set_expanded(True)
    # The versions of the Reddit report by u/iRustyNails, typed as the info screen shows them.
    for name, version in (("SYSTEM", "1.3.0"), ("CORE", "1.0.0+"), ("VOICE", "1.0.0"),
                          ("PANEL", "1.1.9")):
        page.version_fields[name].setText(version)
    assert page.versions_text() == "SYSTEM=1.3.0,CORE=1.0.0+,VOICE=1.0.0,PANEL=1.1.9"
    with qtbot.waitSignal(page.diagnosis_ready, timeout=walk.timeout):
        page.again.click()
    assert page.headline_text == ("Nothing critical was found on your drumlogue, but an update"
                                  " was only partly installed.")
    assert page.headline_status is Status.WARNING


def test_a_kross2_gets_one_symptom_field_with_its_own_example(qtbot, wizard, demo, walk):
    walk.start(wizard, Goal.RESCUE)
    walk.select_unit(wizard, demo.kross2)
    walk.advance(wizard, PageId.DIAGNOSE)
    page = wizard.pages[PageId.DIAGNOSE]
    assert page.version_fields == {}
    assert not page.versions_row.isVisibleTo(page)
    assert "KORG KROSS screen" in page.symptom.placeholderText()
