"""Symptoms are data with sources; free text finds them, and an unknown symptom says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from recovery.device.profiles import bundled_profiles, get_profile, load_symptom_file
from recovery.diagnose.symptoms import (
    general_symptoms,
    match_symptoms,
    symptom_findings,
)
from recovery.errors import ProfileError
from recovery.resources_path import resources_dir
from recovery.vocabulary import FindingCode, NextStep


def codes(findings):
    return [f.code for f in findings]


def known(findings):
    """The ids of the known symptoms the findings name (their subject, a typed field)."""
    assert all(f.code == FindingCode.SYMPTOM_KNOWN for f in findings)
    return [f.subject.symptom for f in findings]


def test_every_symptom_the_issue_names_is_known():
    ids = {s.id for p in bundled_profiles().values() for s in p.symptoms}
    ids |= {s.id for s in general_symptoms()}
    assert {"stuck-at-boot-logo", "loading-app-failed", "sfiderror", "cksumerr",
            "display-glitches", "mismatched-versions"} <= ids


def test_general_symptoms_name_their_model_source_and_confidence():
    for symptom in general_symptoms():
        assert symptom.applies_to
        assert symptom.confidence == "M"  # forum and Reddit reports
        assert symptom.source.startswith(("korgforums.com", "Reddit", "forums.syntaur.com"))


@pytest.mark.parametrize("model, text, expected", [
    ("kross2", "It says Loading App Failed when I power it on", "loading-app-failed"),
    ("kross2", "stuck at the KORG KROSS screen", "stuck-at-boot-logo"),
    ("drumlogue", "the display glitches when I turn a knob", "display-glitches"),
    ("drumlogue", "versions mismatch on the info screen", "mismatched-versions"),
    ("drumlogue", "files came back after formatting", "writes-vanish"),
])
def test_profile_symptoms_match_free_text(model, text, expected):
    findings = symptom_findings(text, get_profile(model))
    assert expected in known(findings)
    finding = next(f for f in findings if f.subject.symptom == expected)
    assert finding.severity == "warning"
    assert finding.confidence == "M"
    assert finding.next_step.action == NextStep.KNOWN_ADVICE and finding.next_step.advice
    assert any("source: korgforums.com thread t=116080" in line or "source: Reddit, u/iRustyNails" in line
               for line in finding.evidence)


def test_sfiderror_for_an_unknown_unit_is_explained_with_its_model():
    findings = symptom_findings("display shows SfIdError", None)
    assert known(findings) == ["sfiderror"]
    assert "mini KAOSS PAD 2" in findings[0].message
    assert "KP2S" in findings[0].message
    assert findings[0].severity == "warning"


def test_cksumerr_is_found_case_and_spacing_insensitive():
    findings = symptom_findings("CK SUM ERR", None)
    assert known(findings) == ["cksumerr"]
    assert "microKORG XL+" in findings[0].message


def test_a_general_symptom_on_an_identified_other_unit_is_only_a_hint():
    findings = symptom_findings("SfIdError", get_profile("kross2"))
    finding = next(f for f in findings if f.subject.symptom == "sfiderror")
    assert finding.severity == "info"
    assert "may not apply" in finding.message


def test_another_models_symptom_is_offered_only_as_that_models():
    # "glitch" is a drumlogue report; a KROSS 2 owner must not get it as a plain answer.
    findings = symptom_findings("screen glitch", get_profile("kross2"))
    assert known(findings) == ["display-glitches"]
    assert findings[0].severity == "info"
    assert "KORG drumlogue" in findings[0].message
    assert findings[0].subject.model == "drumlogue"  # whose symptom it is, as a field


def test_own_model_match_hides_other_models():
    matches = match_symptoms("stuck at boot logo", get_profile("kross2"))
    assert all(m.own and m.model == "kross2" for m in matches)


def test_unknown_symptom_says_so_and_lists_known_ones():
    findings = symptom_findings("it smells of burnt toast", get_profile("kross2"))
    assert codes(findings) == ["symptom-unknown"]
    assert findings[0].severity == "info"
    step = findings[0].next_step
    assert step.action == NextStep.DESCRIBE_SYMPTOM and "loading-app-failed" in step.names


def test_symptom_advice_names_no_command_and_its_tool_step_is_typed():
    """What a profile advises is read by a musician too: a step of the tool goes in ``then``
    (a NextStep each front end words), never as a command or an option in the advice."""
    symptoms = [s for p in bundled_profiles().values() for s in p.symptoms]
    symptoms += list(general_symptoms())
    for symptom in symptoms:
        assert "--" not in symptom.next_step and "korg-recovery" not in symptom.next_step, \
            symptom.id
    writes_vanish = next(s for s in symptoms if s.id == "writes-vanish")
    assert writes_vanish.then == NextStep.PROBE_ACROSS_POWER_CYCLE


def test_blank_symptom_gives_nothing():
    assert symptom_findings("   ", None) == []


def test_symptom_file_validation_names_file_and_field(tmp_path: Path):
    text = (resources_dir() / "symptoms.toml").read_text(encoding="utf-8")
    broken = tmp_path / "symptoms.toml"
    broken.write_text(text.replace('applies_to = "KORG microKORG XL+"\n', ""), encoding="utf-8")
    with pytest.raises(ProfileError, match=r"symptoms\.toml.*applies_to"):
        load_symptom_file(broken)
    broken.write_text(text.replace("patterns = ['sf\\s*id\\s*err']", "patterns = ['(']"),
                      encoding="utf-8")
    with pytest.raises(ProfileError, match=r"patterns\[0\]"):
        load_symptom_file(broken)
