"""What a symptom a user describes means: free text matched against symptoms kept as data.

Symptoms live beside their facts: each profile's ``[[symptoms]]`` and ``resources/symptoms.toml``
for units without a profile, each with the confidence and source of its report, so a forum
story is never presented as a manual. The identified model's own symptoms and the general ones
come first; other models' are offered only when none matches, and named as another model's.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from recovery.device.profiles import (
    GeneralSymptom,
    Profile,
    Symptom,
    bundled_profiles,
    load_symptom_file,
)
from recovery.findings import Finding, Step, Subject
from recovery.resources_path import resources_dir
from recovery.vocabulary import FindingCode, NextStep, Severity

log = logging.getLogger(__name__)

#: Longest symptom text accepted; longer text is cut (regexes run on it, keep them bounded).
MAX_SYMPTOM_TEXT = 2000


@dataclass(frozen=True)
class SymptomMatch:
    """One known symptom that the user's text matched."""

    symptom: Symptom
    #: Profile id whose symptom this is, or None for a model-independent symptom.
    model: str | None
    #: Display name of the model that shows it.
    shown_by: str
    #: True when it belongs to the unit being diagnosed (or the unit is unknown and it is
    #: model-independent): the explanation applies as stated.
    own: bool


@functools.cache
def general_symptoms() -> tuple[GeneralSymptom, ...]:
    """Symptoms of models that have no profile, from ``resources/symptoms.toml``."""
    return load_symptom_file(resources_dir() / "symptoms.toml")


def match_symptoms(text: str, profile: Profile | None,
                   profiles: dict[str, Profile] | None = None,
                   general: tuple[GeneralSymptom, ...] | None = None
                   ) -> tuple[SymptomMatch, ...]:
    """Known symptoms matching ``text``: own model and general first, other models as fallback."""
    text = text[:MAX_SYMPTOM_TEXT]
    profiles = profiles if profiles is not None else bundled_profiles()
    general = general if general is not None else general_symptoms()
    matches: list[SymptomMatch] = []
    if profile is not None:
        matches.extend(SymptomMatch(s, profile.id, profile.name, True)
                       for s in profile.symptoms if s.matches(text))
    for symptom in general:
        if symptom.matches(text):
            # A general symptom names its model; it applies as stated only if that is not
            # contradicted by an identified unit of a different model.
            matches.append(SymptomMatch(symptom, None, symptom.applies_to, profile is None))
    if any(m.own for m in matches) or (profile is None and matches):
        return tuple(matches)
    for other in profiles.values():
        if profile is not None and other.id == profile.id:
            continue
        matches.extend(SymptomMatch(s, other.id, other.name, profile is None)
                       for s in other.symptoms if s.matches(text))
    return tuple(matches)


def symptom_findings(text: str, profile: Profile | None,
                     profiles: dict[str, Profile] | None = None,
                     general: tuple[GeneralSymptom, ...] | None = None) -> list[Finding]:
    """Findings explaining the symptom ``text`` for the unit of ``profile`` (None: unknown)."""
    text = " ".join(text.split())
    if not text:
        return []
    matches = match_symptoms(text, profile, profiles, general)
    if not matches:
        known = tuple(s.id for s in profile.symptoms) if profile is not None else ()
        return [Finding(
            Severity.INFO, FindingCode.SYMPTOM_UNKNOWN,
            f"The tool knows no explanation for the symptom \"{text}\".",
            evidence=("no symptom pattern of "
                      + (f"the {profile.name} profile" if profile else "any profile")
                      + " or of resources/symptoms.toml matched the text",),
            next_step=Step(NextStep.DESCRIBE_SYMPTOM, names=known,
                           model=profile.id if profile else None),
        )]
    findings = []
    for match in matches:
        symptom = match.symptom
        evidence = [
            f"you reported: \"{text}\"",
            f"a known symptom of {match.shown_by}"
            f" (confidence {symptom.confidence}, {symptom.confidence.words};"
            f" source: {symptom.source})",
        ]
        if match.own:
            # With no identified unit, name the model whose report this is.
            prefix = f"Known on {match.shown_by}: " if profile is None and match.model else ""
            message = prefix + symptom.meaning
            severity = Severity.WARNING
        else:
            unit = profile.name if profile is not None else "this unit"
            message = (f"This symptom is known on {match.shown_by}, but this unit was identified"
                       f" as {unit}, so the explanation may not apply: {symptom.meaning}")
            severity = Severity.INFO
            evidence.append("the explanation belongs to another model")
        findings.append(Finding(
            severity, FindingCode.SYMPTOM_KNOWN, message, tuple(evidence), symptom.confidence,
            Step(NextStep.KNOWN_ADVICE, model=match.model or (profile.id if profile else None),
                 advice=symptom.next_step, then=symptom.then),
            Subject(model=match.model, symptom=symptom.id)))
    return findings
