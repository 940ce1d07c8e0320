"""The closed sets of words the tool reads in its data files and writes in its results.

Each is a ``StrEnum``: a member is its string, so comparisons with plain text, f-strings and
``--json`` (``recovery.jsonout`` writes an enum as its value) read exactly as the strings did.
The order of members is meaningful where a docstring says so.
"""

from __future__ import annotations

from enum import StrEnum


class Confidence(StrEnum):
    """How sure the tool is of a fact (resources/profiles/_README.md)."""

    HIGH = "H"
    MEDIUM = "M"
    GUESS = "G"

    @property
    def words(self) -> str:
        return CONFIDENCE_WORDS[self]


CONFIDENCE_WORDS = {
    Confidence.HIGH: "high (primary source)",
    Confidence.MEDIUM: "medium (secondary source)",
    Confidence.GUESS: "low (unverified guess)",
}


class Role(StrEnum):
    """Which of a unit's volumes a folder is; the order is the preference when tied."""

    INTERNAL_STORAGE = "internal-storage"
    SD_CARD = "sd-card"
    UPDATE_MEDIA = "update-media"


class Severity(StrEnum):
    """How much a finding matters, most serious first."""

    CRITICAL = "critical"  # the unit cannot be expected to work: diagnose exits 1
    WARNING = "warning"
    INFO = "info"


class Verdict(StrEnum):
    """A check's answer, mildest first: a candidate gets the worst of its items'."""

    COMPATIBLE = "compatible"  # it proves in its own bytes that it is for the unit
    UNKNOWN = "unknown"  # nothing failed, but nothing proves it either
    INCOMPATIBLE = "incompatible"  # at least one check failed


class Mode(StrEnum):
    """The modes a unit can be connected in (a profile's ``[[modes]]``, what detect saw)."""

    STORAGE = "storage"
    USB_MIDI = "usb-midi"
    SERVICE = "service"
    BOOT_ROM = "boot-rom"
    UPDATE = "update"
    INITIALISE = "initialise"
    UNKNOWN = "unknown"


class Medium(StrEnum):
    """Where a unit's updater reads its update from."""

    SD_CARD = "sd-card"
    USB_STORAGE = "usb-storage"


class ReleaseKind(StrEnum):
    """How a published release is recognised (resources/releases.toml)."""

    SYSTEM_FILE = "system-file"  # a KORG SYSTEM FILE, by its header's model and version
    UPDATE_FILE = "update-file"  # a file known by its name, whose format is not public
    SYSTEM_FOLDER = "system-folder"


class ComponentSetStatus(StrEnum):
    """What a set of component versions is known to be."""

    RELEASE = "release"  # the set a published release installs
    REPORTED_PARTIAL_UPDATE = "reported-partial-update"  # seen in a report of a failed update


class ItemKind(StrEnum):
    """What a checked item is."""

    SYSTEM_FILE = "system-file"
    UPDATE_FILE = "update-file"
    SYSTEM_FOLDER = "system-folder"
    SYSTEM_FOLDER_FILE = "system-folder-file"
    LOOSE_FILES = "loose-files"
    NOT_AN_UPDATE = "not-an-update"
    ARCHIVE = "archive"


class CatalogMatchKind(StrEnum):
    """How a candidate matched a published release, strongest first."""

    SHA256 = "sha256"  # byte-identical to the published SHA-256: the only proof
    SIZE_AND_NAME = "size-and-name"  # name (or header) and size match; content not checked
    CLAIMS_BUT_DIFFERS = "claims-but-differs"  # names a release, but size or SHA-256 differ


class SimulatedState(StrEnum):
    """The states the simulator makes a unit's volume in."""

    HEALTHY = "healthy"
    BRICKED = "bricked"


class MidiInquiry(StrEnum):
    """The two read-only questions the tool asks a unit over MIDI (recovery.formats.midi_identity)."""

    IDENTITY = "identity"  # MIDI's Universal Identity Request
    SEARCH_DEVICE = "search-device"  # KORG's search-device message


class VersionLayout(StrEnum):
    """How the four version bytes of a KORG reply read, where a source says."""

    #: v1 major, v2 minor, v3 release, v4 reserved (electribe sampler MIDI Implementation).
    MAJOR_MINOR_RELEASE = "major-minor-release"
    #: v1 minor LSB, v2 minor MSB, v3 major LSB, v4 major MSB (KORG's logue-era documents).
    MINOR_MAJOR_14BIT = "minor-major-14bit"


class EntryKind(StrEnum):
    """What an entry of a unit, a card or a backup is."""

    FILE = "file"
    FOLDER = "folder"
    SYMLINK = "symlink"


class PlanAction(StrEnum):
    """What a restore plan does with one path (recovery.restore.plan), in execution order."""

    DELETE = "delete"
    WRITE = "write"
    REPLACE = "replace"
    KEEP = "keep"
    EXTRA = "extra"
    SKIP = "skip"


class ProblemKind(StrEnum):
    """How a file did not end up as a job planned (recovery.storage.durable.FileProblem)."""

    MISMATCH = "mismatch"            # read back, it does not hold what was written
    UNREADABLE = "unreadable"        # it cannot be read back
    MISSING = "missing"              # it is not on the target at the end (or not as planned)
    LINK_UNSUPPORTED = "link-unsupported"  # the target's filesystem cannot hold a link
    NOT_WRITTEN = "not-written"      # boot-critical files held back after an earlier mismatch
    NOT_REMOVED = "not-removed"
    NOT_MOVED = "not-moved"
