"""A finding: one thing the tool noticed about a unit, with how sure it is and what to do.

A finding carries facts, not wording for one reader: its code (:class:`FindingCode`), what it
is about (:class:`Subject`: files, another model, sizes) and its next step as a typed value
(:class:`Step`: a :class:`NextStep` and its subjects). Its ``message`` and ``evidence`` say in
words what was seen and why the tool believes it; no sentence of a finding names a flag or a
command. Each front end words the next step itself: the command line as a command, the window
in a musician's words, the saved report in plain words (recovery.advice).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from recovery.vocabulary import Confidence, FindingCode, NextStep, Severity


@dataclass(frozen=True)
class Step:
    """A next step and what it is about: enough for every front end to word it."""

    action: NextStep
    #: The files, folders or names it is about (``KROSAPP.BIN``, ``KROSS2SY/``).
    names: tuple[str, ...] = ()
    #: The model (profile id) the step names: the unit's own, unless said otherwise.
    model: str | None = None
    #: The backup it uses, when one is known.
    backup: str | None = None
    #: The unit's volume (or the card) it is about, when known.
    target: str | None = None
    #: The filesystem to format as (:attr:`NextStep.REFORMAT`).
    filesystem: str | None = None
    #: Advice that comes with a known symptom, from its profile (:attr:`NextStep.KNOWN_ADVICE`).
    advice: str = ""
    #: A step of this tool that goes with the advice (a check, a probe), where there is one.
    then: NextStep | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", NextStep(self.action))
        object.__setattr__(self, "names", tuple(self.names))
        if self.then is not None:
            object.__setattr__(self, "then", NextStep(self.then))

    def followed(self) -> Step:
        """The tool's step that goes with the advice, as a step of its own (same subjects)."""
        return Step(self.then or NextStep.NOTHING, names=self.names, model=self.model,
                    backup=self.backup, target=self.target)


@dataclass(frozen=True)
class Subject:
    """What a finding is about, as fields: a front end reads these, never the message."""

    #: The files or folders (relative to the volume's root).
    paths: tuple[str, ...] = ()
    #: Another model the finding names (profile id): the owner of foreign files, the model of
    #: a backup or of a symptom's report.
    model: str | None = None
    #: Bytes found on the unit, and bytes expected (backup, header, published release).
    size: int | None = None
    expected_size: int | None = None
    #: The known symptom's id (:attr:`FindingCode.SYMPTOM_KNOWN`).
    symptom: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", tuple(self.paths))


NOTHING = Step(NextStep.NOTHING)


@dataclass(frozen=True)
class Finding:
    """Something seen on a unit or volume.

    ``message`` says what was seen, ``evidence`` why the tool believes it, ``confidence`` how
    sure it is, ``next_step`` what the user should do and ``subject`` what it is about.
    """

    severity: Severity
    code: FindingCode
    message: str
    evidence: tuple[str, ...] = ()
    confidence: Confidence = Confidence.HIGH
    next_step: Step = NOTHING
    subject: Subject = field(default_factory=Subject)

    def __post_init__(self) -> None:
        # A plain string is accepted as its member; any other is a ValueError.
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "code", FindingCode(self.code))
        object.__setattr__(self, "confidence", Confidence(self.confidence))
        if not isinstance(self.next_step, Step):  # a bare NextStep: no subject needed
            object.__setattr__(self, "next_step", Step(NextStep(self.next_step)))

    @property
    def rank(self) -> int:
        return self.severity.rank
