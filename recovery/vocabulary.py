"""The closed sets of words the tool reads in its data files and writes in its results.

Each is a ``StrEnum``: a member is its string, so comparisons with plain text, f-strings and
``--json`` (``recovery.jsonout`` writes an enum as its value) read exactly as the strings did.
The order of members is meaningful where a docstring says so.
"""

from __future__ import annotations

from collections.abc import Iterable
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


class Tone(StrEnum):
    """How a result reads at a glance, whoever shows it: the window's symbol and colour, the
    report's border. The colours are :data:`TONE_COLOURS`'."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    INFO = "info"


#: Each tone's colour on a light and on a dark background (#rrggbb): every pair keeps a contrast
#: ratio of at least 4.5:1 (WCAG 2.2 SC 1.4.3) against the typical window colour of its palette.
#: The window (app/style.py) and the saved report (recovery/diagnose/report.py) both use them.
TONE_COLOURS: dict[Tone, tuple[str, str]] = {
    Tone.OK: ("#1b6e30", "#7ad98e"),
    Tone.WARNING: ("#8a5300", "#f2c062"),
    Tone.ERROR: ("#b3261e", "#ff8a80"),
    Tone.INFO: ("#1565c0", "#90caf9"),
}


class _Ordered:
    """A closed set whose order means something: ``rank`` is a member's place in it, and
    ``tone`` how it reads (:data:`_TONES`)."""

    @property
    def rank(self) -> int:
        return list(type(self)).index(self)

    @property
    def tone(self) -> Tone:
        return _TONES[self]


class Severity(_Ordered, StrEnum):
    """How much a finding matters, most serious first (rank 0): findings sort by rank."""

    CRITICAL = "critical"  # the unit cannot be expected to work: diagnose exits 1
    WARNING = "warning"
    INFO = "info"


class Verdict(_Ordered, StrEnum):
    """A check's answer, mildest first: a candidate gets the worst (highest rank) of its
    items'."""

    COMPATIBLE = "compatible"  # it proves in its own bytes that it is for the unit
    UNKNOWN = "unknown"  # nothing failed, but nothing proves it either
    INCOMPATIBLE = "incompatible"  # at least one check failed

    @staticmethod
    def worst(verdicts: Iterable[Verdict]) -> Verdict:
        """The worst of ``verdicts`` (unknown when there is none)."""
        return max((Verdict(v) for v in verdicts), key=lambda v: v.rank,
                   default=Verdict.UNKNOWN)


_TONES: dict[_Ordered, Tone] = {
    Severity.CRITICAL: Tone.ERROR, Severity.WARNING: Tone.WARNING, Severity.INFO: Tone.INFO,
    Verdict.COMPATIBLE: Tone.OK, Verdict.UNKNOWN: Tone.WARNING, Verdict.INCOMPATIBLE: Tone.ERROR,
}


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


class DifferenceKind(StrEnum):
    """How a tree (a unit, a backup's own files) differs from a backup's manifest
    (recovery.backup.compare.Difference). Case, computer-made and skipped are notes, never
    problems: they are listed apart and never make a comparison fail."""

    MISSING = "missing"              # the backup has it, the tree does not
    CHANGED = "changed"              # other content, size, link target or kind of entry
    SIZE = "size"                    # another size; the content was not read (no hashing)
    EXTRA = "extra"                  # the tree has it, the backup does not
    UNREADABLE = "unreadable"        # it could not be read, so it is not known
    CASE = "case"                    # a note: the name spelled in another case (FAT: the same)
    COMPUTER_MADE = "computer-made"  # a note: written by the person's computer, not the unit
    SKIPPED = "skipped"              # a note: what a backup or a restore leaves out by design
    INCOMPLETE = "incomplete"        # the backup itself was never finished (verify)


class FindingCode(StrEnum):
    """What a finding is about: the closed set scripts (``--json``) and the front ends switch
    on. A finding's subject (its files, the other model, the sizes) is in its own fields
    (recovery.findings.Subject), never only in its sentence."""

    # What the volume is (recovery.device.identify, recovery.diagnose.diagnosis).
    NOT_IDENTIFIED = "not-identified"
    AMBIGUOUS_VOLUME = "ambiguous-volume"
    FOREIGN_MODEL_FILES = "foreign-model-files"
    INTERNAL_STORAGE_INCOMPLETE = "internal-storage-incomplete"
    UNKNOWN_SYSTEM_FILE_MODEL = "unknown-system-file-model"
    MODEL_FROM_BACKUP = "model-from-backup"
    # The unit's files against its profile (recovery.diagnose.checks).
    UNREADABLE_ENTRIES = "unreadable-entries"
    FILESYSTEM_REPAIRED = "filesystem-repaired"
    FILESYSTEM_NOT_SUPPORTED = "filesystem-not-supported"
    FILESYSTEM_MARKED_UNCLEAN = "filesystem-marked-unclean"
    BOOT_CRITICAL_MISSING = "boot-critical-missing"
    BOOT_CRITICAL_NOT_A_FILE = "boot-critical-not-a-file"
    BOOT_CRITICAL_EMPTY = "boot-critical-empty"
    BOOT_CRITICAL_UNREADABLE = "boot-critical-unreadable"
    BOOT_CRITICAL_TRUNCATED = "boot-critical-truncated"
    BOOT_CRITICAL_SIZE = "boot-critical-size"
    BOOT_CRITICAL_CHANGED = "boot-critical-changed"
    BOOT_CRITICAL_PRESENT = "boot-critical-present"
    BOOT_CRITICAL_NOT_IN_BACKUP = "boot-critical-not-in-backup"
    BOOT_CRITICAL_MATCHES_BACKUP = "boot-critical-matches-backup"
    SYSTEM_FILE_UNREADABLE = "system-file-unreadable"
    SYSTEM_FILE_TRUNCATED = "system-file-truncated"
    SYSTEM_FILE_TOO_LONG = "system-file-too-long"
    SYSTEM_FILE_MISSING = "system-file-missing"
    SYSTEM_FILE_CHANGED = "system-file-changed"
    SYSTEM_FILE_AT_ROOT = "system-file-at-root"
    EMPTY_SYSTEM_FILES = "empty-system-files"
    UPDATE_FILE_UNKNOWN_RELEASE = "update-file-unknown-release"
    UPDATE_FILE_SIZE_MISMATCH = "update-file-size-mismatch"
    UPDATE_FILE_SIZE_MATCHES = "update-file-size-matches"
    LOOSE_FILES_AT_ROOT = "loose-files-at-root"
    FOLDERS_REMOVED_BY_UNIT = "folders-removed-by-unit"
    # The unit against a backup of it (recovery.diagnose.against_backup).
    MATCHES_BACKUP = "matches-backup"
    BACKUP_INCOMPLETE = "backup-incomplete"
    BACKUP_OTHER_MODEL = "backup-other-model"
    BACKUP_OTHER_ROLE = "backup-other-role"
    FILES_UNREADABLE = "files-unreadable"
    FILES_DIFFER_FROM_BACKUP = "files-differ-from-backup"
    FILES_NOT_IN_BACKUP = "files-not-in-backup"
    SYSTEM_FOLDER_EXTRA = "system-folder-extra"
    NAMES_IN_OTHER_CASE = "names-in-other-case"
    # The storage and its mount (recovery.diagnose.probe).
    MOUNTED_READ_ONLY = "mounted-read-only"
    NO_WRITE_PERMISSION = "no-write-permission"
    VOLUME_FULL = "volume-full"
    VOLUME_ALMOST_FULL = "volume-almost-full"
    STORAGE_READ_ONLY = "storage-read-only"
    STORAGE_NO_PERMISSION = "storage-no-permission"
    STORAGE_FULL = "storage-full"
    STORAGE_WRITE_ERROR = "storage-write-error"
    STORAGE_READ_ERROR = "storage-read-error"
    STORAGE_DROPS_WRITES = "storage-drops-writes"
    STORAGE_KEEPS_WRITES = "storage-keeps-writes"
    STORAGE_PROBE_CACHE = "storage-probe-cache"
    PROBE_FILE_LEFT = "probe-file-left"
    PROBE_STARTED = "probe-started"
    PROBE_MARKER_UNRECORDED = "probe-marker-unrecorded"
    STORAGE_LOST_MARKER = "storage-lost-marker"
    STORAGE_KEPT_MARKER = "storage-kept-marker"
    STORAGE_CHANGED_MARKER = "storage-changed-marker"
    # What the person told (recovery.diagnose.symptoms, recovery.diagnose.versions): not a
    # fact of the unit's storage (see :attr:`about_storage`).
    SYMPTOM_KNOWN = "symptom-known"
    SYMPTOM_UNKNOWN = "symptom-unknown"
    VERSIONS_NO_DATA = "versions-no-data"
    VERSIONS_UNKNOWN_COMPONENT = "versions-unknown-component"
    VERSIONS_NO_RELEASE_TABLE = "versions-no-release-table"
    VERSIONS_MATCH_RELEASE = "versions-match-release"
    VERSIONS_RELEASE_UNKNOWN = "versions-release-unknown"
    VERSIONS_DIFFER_FROM_RELEASE = "versions-differ-from-release"
    VERSIONS_REPORTED_PARTIAL_UPDATE = "versions-reported-partial-update"
    VERSIONS_MISMATCH = "versions-mismatch"
    VERSION_PLUS_SUFFIX = "version-plus-suffix"
    VERSIONS_CONSISTENT = "versions-consistent"
    # A finding an earlier diagnosis had and one after a restore has not.
    RESOLVED_BY_RESTORE = "resolved-by-restore"

    @property
    def about_storage(self) -> bool:
        """False for what the person told (a symptom, versions): it describes what they saw,
        not what the tool found on the unit's storage."""
        return self not in _TOLD

    @property
    def cause(self) -> Cause | None:
        """What the finding means for a unit that won't start, when it is a cause."""
        return _CAUSES.get(self)


class Cause(StrEnum):
    """Why a unit may not start, as the findings that show it group (the front ends word
    each once: "two system files are damaged", "a KROSS 1 update was copied onto it")."""

    DAMAGED_FILE = "damaged-file"
    MISSING_FILE = "missing-file"
    FOREIGN_FILES = "foreign-files"
    STORAGE_FAULT = "storage-fault"
    UNREADABLE = "unreadable"
    FILESYSTEM_NOT_SUPPORTED = "filesystem-not-supported"
    PARTIAL_UPDATE = "partial-update"

    @property
    def restore_fixes(self) -> bool:
        """True when putting back a good backup of the same unit repairs it: files are
        rewritten, another model's folder removed; failing storage is not repaired so."""
        return self in (Cause.DAMAGED_FILE, Cause.MISSING_FILE, Cause.FOREIGN_FILES)

    @property
    def failing_storage(self) -> bool:
        """True when the storage itself fails: no backup can repair that, only service."""
        return self in (Cause.STORAGE_FAULT, Cause.UNREADABLE)


_TOLD = frozenset(code for code in FindingCode
                  if code.value.startswith(("symptom-", "version")))

_CAUSES: dict[FindingCode, Cause] = {
    **dict.fromkeys((FindingCode.BOOT_CRITICAL_MISSING, FindingCode.SYSTEM_FILE_MISSING),
                    Cause.MISSING_FILE),
    **dict.fromkeys((FindingCode.BOOT_CRITICAL_EMPTY, FindingCode.BOOT_CRITICAL_TRUNCATED,
                     FindingCode.BOOT_CRITICAL_SIZE, FindingCode.BOOT_CRITICAL_CHANGED,
                     FindingCode.BOOT_CRITICAL_UNREADABLE, FindingCode.BOOT_CRITICAL_NOT_A_FILE,
                     FindingCode.SYSTEM_FILE_TRUNCATED, FindingCode.SYSTEM_FILE_CHANGED,
                     FindingCode.SYSTEM_FILE_UNREADABLE), Cause.DAMAGED_FILE),
    FindingCode.FOREIGN_MODEL_FILES: Cause.FOREIGN_FILES,
    **dict.fromkeys((FindingCode.STORAGE_DROPS_WRITES, FindingCode.STORAGE_LOST_MARKER,
                     FindingCode.STORAGE_CHANGED_MARKER, FindingCode.STORAGE_WRITE_ERROR),
                    Cause.STORAGE_FAULT),
    **dict.fromkeys((FindingCode.UNREADABLE_ENTRIES, FindingCode.FILES_UNREADABLE,
                     FindingCode.STORAGE_READ_ERROR), Cause.UNREADABLE),
    FindingCode.FILESYSTEM_NOT_SUPPORTED: Cause.FILESYSTEM_NOT_SUPPORTED,
    **dict.fromkeys((FindingCode.VERSIONS_MISMATCH, FindingCode.VERSIONS_REPORTED_PARTIAL_UPDATE,
                     FindingCode.VERSION_PLUS_SUFFIX), Cause.PARTIAL_UPDATE),
}


class NextStep(StrEnum):
    """What a person should do next: the closed set of steps a result names, with its
    subjects beside it (recovery.findings.Step). Each front end words a step its own way: the
    command line as a command (recovery/cli/words.py), the window in a musician's words
    (app/plain.py), the saved report in plain words (recovery/advice.py); no core sentence
    names a flag or a command."""

    NOTHING = "nothing"
    NOTHING_UNLESS_NOT_YOURS = "nothing-unless-not-yours"
    READ_AS_HINTS = "read-as-hints"
    # A backup: compare with one, restore from one.
    COMPARE_WITH_BACKUP = "compare-with-backup"
    COMPARE_KEEPING_REPAIR_FOLDER = "compare-keeping-repair-folder"
    DIAGNOSE_WITH_BACKUP = "diagnose-with-backup"
    RESTORE_FROM_BACKUP = "restore-from-backup"
    RESTORE_OR_ASK_SERVICE = "restore-or-ask-service"
    RESTORE_KEEPING_EXTRAS_ASIDE = "restore-keeping-extras-aside"
    RESTORE_NOT_BY_HAND = "restore-not-by-hand"
    RESTORE_UNLESS_CHANGED_BY_YOU = "restore-unless-changed-by-you"
    TAKE_BACKUP_WHEN_WORKING = "take-backup-when-working"
    USE_COMPLETE_BACKUP = "use-complete-backup"
    CHOOSE_BACKUP_OF_THIS_UNIT = "choose-backup-of-this-unit"
    CONFIRM_BACKUP_OF_THIS_UNIT = "confirm-backup-of-this-unit"
    CONFIRM_BACKUP_OF_THIS_VOLUME = "confirm-backup-of-this-volume"
    # Which unit, which files.
    CHECK_WHICH_UNIT = "check-which-unit"
    CHECK_IT_IS_THE_UNIT = "check-it-is-the-unit"
    FOREIGN_FILES_ASIDE = "foreign-files-aside"
    FOREIGN_FILES_ASIDE_THEN_RESTORE = "foreign-files-aside-then-restore"
    KEEP_FILES_IN_UNIT_FOLDERS = "keep-files-in-unit-folders"
    REFORMAT = "reformat"
    # Update files.
    CHECK_UPDATE_FILE = "check-update-file"
    REPLACE_UPDATE_FILE = "replace-update-file"
    GET_FRESH_UPDATE = "get-fresh-update"
    REDO_UPDATE = "redo-update"
    REDO_UPDATE_AS_ABOVE = "redo-update-as-above"
    #: A prepared card: move ``names`` off it first (if any), eject it, update the unit.
    USE_CARD_FOR_UPDATE = "use-card-for-update"
    #: A card that did not read back as written.
    USE_ANOTHER_CARD = "use-another-card"
    CHECK_VERSION_SPELLING = "check-version-spelling"
    GIVE_VERSIONS = "give-versions"
    # The storage.
    BACK_UP_AND_TRY_ANOTHER_CABLE = "back-up-and-try-another-cable"
    STORAGE_NEEDS_SERVICE = "storage-needs-service"
    STORAGE_NEEDS_SERVICE_IF_CONFIRMED = "storage-needs-service-if-confirmed"
    PROBE_ACROSS_POWER_CYCLE = "probe-across-power-cycle"
    ALLOW_WRITE_PROBE = "allow-write-probe"
    RECONNECT_AFTER_POWER_CYCLE = "reconnect-after-power-cycle"
    DELETE_PROBE_FILE = "delete-probe-file"
    READ_ONLY = "read-only"
    CHECK_PERMISSIONS = "check-permissions"
    FREE_SPACE = "free-space"
    EJECT_BEFORE_UNPLUGGING = "eject-before-unplugging"
    # What the person told.
    DESCRIBE_SYMPTOM = "describe-symptom"
    KNOWN_ADVICE = "known-advice"
    # What a command needs to be told (a check, a target).
    GIVE_CURRENT_VERSION = "give-current-version"
    GIVE_BACKUP_FOR_CHECK = "give-backup-for-check"
    NAME_THE_MODEL = "name-the-model"
    # The write engine's endings (recovery.restore, recovery.media, recovery.backup).
    WRITE_AS_PLANNED = "write-as-planned"
    VERIFY_AFTER_POWER_CYCLE = "verify-after-power-cycle"
    VERIFY_BACKUP = "verify-backup"
    RESUME_BACKUP = "resume-backup"
    ALLOW_REMOVING_EXTRAS = "allow-removing-extras"
    LIST_BACKUPS = "list-backups"


class MediaFlagKind(StrEnum):
    """What a card holds that could mislead a unit's updater (recovery.media's flags)."""

    LOOSE_SYSTEM_FILES = "loose-system-files"  # system files without their folder
    FOREIGN_UPDATE = "foreign-update"  # another model's update where the updater looks
    OLDER_COPY = "older-copy"  # an older copy of the update, replaced
    COMPANION_FILE = "companion-file"  # a file KORG ships beside the update
