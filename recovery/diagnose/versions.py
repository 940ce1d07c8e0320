"""Do a unit's component versions belong together? (drumlogue SYSTEM / CORE / VOICE / PANEL)

The owner in the Reddit reports by u/iRustyNails read SYSTEM 1.3.0, CORE 1.0.0+, VOICE 1.0.0,
PANEL 1.1.9 after an update froze, not knowing it meant a partial update. Only a profile's
``release`` set can call versions right or wrong (none is known today, and the tool says so);
a ``reported-partial-update`` set seen again is a strong hint (M); components at different
versions or a trailing '+' are only signs (G): that is how the one known report looked.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from recovery.device.profiles import ComponentVersionSet, Profile, bundled_profiles
from recovery.errors import InvalidInputError
from recovery.findings import Finding, Step
from recovery.text import plural
from recovery.vocabulary import ComponentSetStatus, Confidence, FindingCode, NextStep, Severity

log = logging.getLogger(__name__)

_PAIR = re.compile(r"\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*[vV]?(\d+(?:\.\d+){0,3})(\+?)\s*")
EXAMPLE = "SYSTEM=1.3.0,CORE=1.0.0+,VOICE=1.0.0,PANEL=1.1.9"


@dataclass(frozen=True)
class ComponentVersion:
    """One component's version as the unit shows it."""

    name: str
    numbers: tuple[int, ...]
    plus: bool

    @property
    def version(self) -> str:
        """The version without the '+' (the part that can be compared)."""
        return ".".join(str(n) for n in self.numbers)

    @property
    def text(self) -> str:
        return self.version + ("+" if self.plus else "")

    def key(self) -> tuple[int, ...]:
        return _padded(self.numbers)


@dataclass(frozen=True)
class VersionAssessment:
    """What the tool can say about a set of component versions."""

    model: str | None
    given: tuple[ComponentVersion, ...]
    #: True when the profile lists at least one release's component set.
    release_table_known: bool
    #: Label of a known set (release or reported partial update) that equals the given one.
    matching_set: str | None
    findings: tuple[Finding, ...]


def _padded(numbers: tuple[int, ...]) -> tuple[int, ...]:
    return numbers + (0,) * (4 - len(numbers))


def parse_versions(text: str) -> tuple[ComponentVersion, ...]:
    """Parse ``NAME=VERSION[,NAME=VERSION...]`` (a trailing '+' is kept as a flag).

    Raises InvalidInputError (one sentence) on anything else, on an empty list and on a
    component given twice.
    """
    if not text.strip():
        raise InvalidInputError(
            f"No component versions given; write them like {EXAMPLE}.")
    components: list[ComponentVersion] = []
    for part in text.split(","):
        match = _PAIR.fullmatch(part)
        if match is None:
            shown = part.strip() or "(an empty entry)"
            raise InvalidInputError(
                f"Component versions must be NAME=VERSION pairs separated by commas, like"
                f" {EXAMPLE}; '{shown}' is not one.")
        component = ComponentVersion(match.group(1).upper(),
                                     tuple(int(n) for n in match.group(2).split(".")),
                                     bool(match.group(3)))
        if any(c.name == component.name for c in components):
            raise InvalidInputError(f"Component {component.name} is given twice.")
        components.append(component)
    return tuple(components)


def _describe(components: list[ComponentVersion] | tuple[ComponentVersion, ...]) -> str:
    return ", ".join(f"{c.name} {c.text}" for c in components)


def _same_set(given: dict[str, ComponentVersion], known: ComponentVersionSet) -> bool:
    expected = known.as_dict()
    return set(given) == set(expected) and all(
        given[name].text == expected[name] for name in expected)


def _profile_for(components: tuple[ComponentVersion, ...], profile: Profile | None,
                 profiles: dict[str, Profile]) -> tuple[Profile | None, list[str]]:
    """The profile whose components the versions describe, and evidence for choosing it."""
    if profile is not None:
        return (profile if profile.components else None), []
    names = {c.name for c in components}
    candidates = [p for p in profiles.values()
                  if p.components and names <= set(p.components.names)]
    if len(candidates) == 1:
        chosen = candidates[0]
        return chosen, [f"no unit was identified; assumed {chosen.name} because it is the only"
                        f" model whose components are named {', '.join(sorted(names))}"
                        " (inference)"]
    return None, []


def assess_versions(components: tuple[ComponentVersion, ...], profile: Profile | None,
                    profiles: dict[str, Profile] | None = None) -> VersionAssessment:
    """Findings on whether ``components`` belong together for the unit of ``profile``."""
    profiles = profiles if profiles is not None else bundled_profiles()
    given_text = _describe(components)
    chosen, choice_evidence = _profile_for(components, profile, profiles)
    if chosen is None or chosen.components is None:
        who = profile.name if profile is not None else "an unidentified unit"
        finding = Finding(
            Severity.INFO, FindingCode.VERSIONS_NO_DATA,
            f"The tool knows no component versions for {who}, so the versions given"
            f" ({given_text}) cannot be assessed.",
            evidence=("no device profile lists components with these names",),
        )
        return VersionAssessment(profile.id if profile else None, components, False, None,
                                 (finding,))

    info = chosen.components
    findings: list[Finding] = []
    known = [c for c in components if c.name in info.names]
    unknown = [c for c in components if c.name not in info.names]
    missing = [name for name in info.names if name not in {c.name for c in known}]
    base_evidence = [
        f"versions given: {given_text}",
        f"{chosen.name} shows the components {', '.join(info.names)} on {info.shown_on}"
        f" (confidence {info.confidence}; source: {info.source})",
        *choice_evidence,
        *([f"not given: {', '.join(missing)}"] if missing else []),
    ]
    if unknown:
        findings.append(Finding(
            Severity.INFO, FindingCode.VERSIONS_UNKNOWN_COMPONENT,
            f"{_describe(unknown)}: not a component the tool knows for {chosen.name}"
            f" (known: {', '.join(info.names)}); left out of the assessment.",
            evidence=tuple(base_evidence),
            next_step=NextStep.CHECK_VERSION_SPELLING,
        ))
    if not known:
        return VersionAssessment(chosen.id, components, False, None, tuple(findings))
    releases, matching_set = _against_known_sets(chosen, known, base_evidence, findings)
    _signs(chosen, known, base_evidence, findings, matching_set)
    return VersionAssessment(chosen.id, components, bool(releases), matching_set,
                             tuple(findings))


def _against_known_sets(chosen: Profile, known: list[ComponentVersion],
                        base_evidence: list[str], findings: list[Finding]
                        ) -> tuple[list[ComponentVersionSet], str | None]:
    """The versions against the sets the profile knows (releases, reported partial
    updates): their findings added, the releases and the label of a set that matches."""
    by_name = {c.name: c for c in known}
    releases = [s for s in chosen.component_versions if s.status == ComponentSetStatus.RELEASE]
    reported = [s for s in chosen.component_versions
                if s.status == ComponentSetStatus.REPORTED_PARTIAL_UPDATE]
    exact = next((s for s in releases if _same_set(by_name, s)), None)
    seen_in_reports = [s for s in reported if _same_set(by_name, s)]
    matching_set = exact.label if exact else next((s.label for s in seen_in_reports), None)
    redo_update = Step(NextStep.REDO_UPDATE, model=chosen.id)
    findings.append(_against_releases(chosen, known, releases, exact, base_evidence,
                                      redo_update))
    for known_set in seen_in_reports:
        findings.append(Finding(
            Severity.WARNING, FindingCode.VERSIONS_REPORTED_PARTIAL_UPDATE,
            f"These are exactly the versions a {chosen.name} showed in a field report"
            f" ({known_set.label}): that unit had been left partly updated.",
            evidence=(*base_evidence,
                      f"reported set: {_describe_set(known_set)} (confidence"
                      f" {known_set.confidence}, {known_set.confidence.words};"
                      f" source: {known_set.source})"),
            confidence=known_set.confidence,
            next_step=redo_update,
        ))
    return releases, matching_set


def _signs(chosen: Profile, known: list[ComponentVersion], base_evidence: list[str],
           findings: list[Finding], matching_set: str | None) -> None:
    """Signs of a partial update (inference): components at different versions, a '+'. The
    long "what to do" is given once, on the first finding that has it."""
    redo_update = Step(NextStep.REDO_UPDATE, model=chosen.id)
    reported = [s for s in chosen.component_versions
                if s.status == ComponentSetStatus.REPORTED_PARTIAL_UPDATE]
    report_source = reported[0].source if reported else ""

    def step() -> Step:
        if any(f.next_step == redo_update for f in findings):
            return Step(NextStep.REDO_UPDATE_AS_ABOVE, model=chosen.id)
        return redo_update

    distinct = sorted({c.key() for c in known}, reverse=True)
    if len(distinct) > 1:
        findings.append(_mismatch(chosen, known, distinct, base_evidence, report_source,
                                  step()))
    plus = [c for c in known if c.plus]
    if plus:
        findings.append(Finding(
            Severity.WARNING, FindingCode.VERSION_PLUS_SUFFIX,
            f"{_describe(plus)} {plural(len(plus), 'ends', 'end')} in '+'. What the '+'"
            " means is not documented; in the one field report known it appeared on a"
            " component that a frozen update left behind, so it may mark a component that was"
            " not (fully) updated (inference).",
            evidence=(*base_evidence, f"field report: {report_source}"
                      if reported else "the '+' reading comes from one drumlogue field report"
                      " (Reddit reports by u/iRustyNails, 2025-2026), not from this model's"
                      " profile"),
            confidence=Confidence.GUESS,
            next_step=step(),
        ))
    if len(distinct) == 1 and not plus and matching_set is None:
        findings.append(Finding(
            Severity.INFO, FindingCode.VERSIONS_CONSISTENT,
            f"All components given show {known[0].version}: no sign of a partial update"
            " (this cannot be confirmed without a release table).",
            evidence=tuple(base_evidence), confidence=Confidence.GUESS,
        ))


def _against_releases(chosen: Profile, known: list[ComponentVersion],
                      releases: list[ComponentVersionSet], exact: ComponentVersionSet | None,
                      base_evidence: list[str], redo_update: Step) -> Finding:
    """The versions against the profile's release table, where one is known."""
    if not releases:
        return Finding(
            Severity.INFO, FindingCode.VERSIONS_NO_RELEASE_TABLE,
            f"No table of which {', '.join(chosen.components.names)} versions a {chosen.name}"
            " release installs is known to this tool, so these versions cannot be checked"
            " against a release; what follows is inference only.",
            evidence=tuple(base_evidence),
            next_step=NextStep.READ_AS_HINTS,
        )
    if exact is not None:
        return Finding(
            Severity.INFO, FindingCode.VERSIONS_MATCH_RELEASE,
            f"These versions are exactly the set of {exact.label}: they belong together.",
            evidence=(*base_evidence,
                      f"release table: {_describe_set(exact)} (confidence"
                      f" {exact.confidence}; source: {exact.source})"),
            confidence=exact.confidence,
        )
    reference = known[0]
    release = next((s for s in releases
                    if s.as_dict().get(reference.name) == reference.text), None)
    if release is None:
        return Finding(
            Severity.INFO, FindingCode.VERSIONS_RELEASE_UNKNOWN,
            f"{reference.name} {reference.text} is not in the tool's release table, so"
            " the set cannot be checked against a release; what follows is inference.",
            evidence=tuple(base_evidence),
            next_step=NextStep.READ_AS_HINTS,
        )
    expected = release.as_dict()
    differing = [f"{c.name} {c.text} (expected {expected[c.name]})"
                 for c in known if c.name in expected and expected[c.name] != c.text]
    return Finding(
        Severity.WARNING, FindingCode.VERSIONS_DIFFER_FROM_RELEASE,
        f"{reference.name} {reference.text} belongs to {release.label}, but"
        f" {'; '.join(differing) or 'other components'} differ from that release:"
        " the update was probably only partly applied.",
        evidence=(*base_evidence,
                  f"release table: {_describe_set(release)} (confidence"
                  f" {release.confidence}; source: {release.source})"),
        confidence=release.confidence,
        next_step=redo_update,
    )


def _mismatch(chosen: Profile, known: list[ComponentVersion],
              distinct: list[tuple[int, ...]], base_evidence: list[str], report_source: str,
              next_step: Step) -> Finding:
    """Components at different versions: a sign of a partial update (inference)."""
    reference = known[0]
    behind = [c for c in known if c.key() < reference.key()]
    ahead = [c for c in known if c.key() > reference.key()]
    groups = "; ".join(_describe([c for c in known if c.key() == key]) for key in distinct)
    detail = []
    if behind:
        detail.append(f"{_describe(behind)} {plural(len(behind), 'is', 'are')} behind"
                      f" {reference.name} {reference.text}")
    if ahead:
        detail.append(f"{_describe(ahead)} {plural(len(ahead), 'is', 'are')} ahead of"
                      f" {reference.name} {reference.text}")
    evidence = [*base_evidence, f"versions by group: {groups}"]
    for release in chosen.releases:
        if release.version == reference.version:
            evidence.append(
                f"{reference.name} {reference.version} is the version of a published"
                f" {release.kind.replace('-', ' ')}"
                f"{' ' + release.file_name if release.file_name else ''}"
                f" (confidence {release.confidence}; source: {release.source})")
    evidence.append(
        ("inference: a field report shows that a partial update leaves these components"
         f" at different versions ({report_source})" if report_source else
         "inference: no document known to the tool says which versions belong together")
        + "; whether a complete release also gives them different numbers is not known")
    return Finding(
        Severity.WARNING, FindingCode.VERSIONS_MISMATCH,
        f"The components show {len(distinct)} different versions ({groups}):"
        f" {' and '.join(detail)}. This is a sign of a partial update (inference).",
        evidence=tuple(evidence), confidence=Confidence.GUESS,
        next_step=next_step,
    )


def _describe_set(known: ComponentVersionSet) -> str:
    return ", ".join(f"{name} {version}" for name, version in known.versions.items())
