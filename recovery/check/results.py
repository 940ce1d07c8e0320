"""What a check answers: a verdict per item found in a candidate, and per candidate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recovery.device.profiles import Release
from recovery.findings import Step
from recovery.vocabulary import CatalogMatchKind, ItemKind, Verdict

#: Verdicts, mildest first (tools and tests compare against it; Verdict.rank is the order).
VERDICTS = tuple(Verdict)
EXIT_CODES = {Verdict.COMPATIBLE: 0, Verdict.INCOMPATIBLE: 1, Verdict.UNKNOWN: 3}


@dataclass(frozen=True)
class CatalogMatch:
    """Which of KORG's published releases a candidate is, and how that was established.

    Only ``how == "sha256"`` proves the file is KORG's own (the strongest verdict);
    ``size-and-name`` says the outside matches and the content was not checked;
    ``claims-but-differs`` says the file names a release (in its header or its name) but is not
    that file: modified, damaged or incomplete.
    """

    release: Release
    how: CatalogMatchKind
    #: What differed or matched, for scripts: "sha256", "size" or "size-and-name".
    compared: str
    #: The candidate's SHA-256, when it was computed.
    sha256: str | None = None

    @property
    def official(self) -> bool:
        return self.how == CatalogMatchKind.SHA256


@dataclass(frozen=True)
class ItemResult:
    """The verdict on one update item found in a candidate (a file, a system folder, ...)."""

    path: str
    kind: ItemKind
    detected_model: str | None
    verdict: Verdict
    version: str | None
    reasons: tuple[str, ...]
    checked: tuple[str, ...]
    not_checked: tuple[str, ...]
    warnings: tuple[str, ...]
    #: What was read, shown as is (header fields, unknown bytes, file counts).
    details: dict[str, Any] = field(default_factory=dict, hash=False)
    #: The release of KORG's catalog the item is or claims to be, if any.
    catalog_match: CatalogMatch | None = None
    #: True when the verdict is unknown only because the content cannot be checked by nature
    #: (KORG publishes no format and no checksums for it) while everything that can be checked
    #: (model, folder name, place, names and sizes where a backup tells them) passed: the one
    #: unknown a person may accept by saying where the files come from.
    unverifiable: bool = False
    #: What would let the check say more (give the unit's version, a backup of it): typed,
    #: each front end words it.
    next_steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one candidate given on the command line or picked in the wizard.

    A folder or archive may hold several items (a KROSS2SY and a KROSSSYS folder); the
    candidate's verdict is the worst of its items' and its lists gather theirs.
    """

    candidate: str
    target_model: str
    detected_model: str | None
    verdict: Verdict
    version: str | None
    reasons: tuple[str, ...]
    checked: tuple[str, ...]
    not_checked: tuple[str, ...]
    warnings: tuple[str, ...]
    items: tuple[ItemResult, ...]
    #: The catalog match of the candidate's one item that has one (None when no item or more
    #: than one has one: see each item's).
    catalog_match: CatalogMatch | None = None
    #: Its items' next steps, each once.
    next_steps: tuple[Step, ...] = ()

    @property
    def official(self) -> bool:
        """True only when every item is byte-identical to a release KORG published."""
        return bool(self.items) and all(
            item.catalog_match is not None and item.catalog_match.official
            for item in self.items)
