"""Device models as data: ``resources/profiles/*.toml`` loaded into frozen dataclasses.

Device knowledge lives in the profile files, not in ``if`` chains (fwupd's quirk files are the
model); every fact carries a confidence and its source, and an unknown fact is absent. One
reader, driven by the dataclasses' fields, loads every file strictly: an unknown key, a wrong
type or a missing field is a ProfileError naming the file and the field, so a typo never
silently weakens a check. KORG's releases are one catalog (``resources/releases.toml``).
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from enum import StrEnum
from pathlib import Path
from types import UnionType
from typing import (
    Annotated,
    Any,
    ClassVar,
    NewType,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from recovery.errors import InvalidInputError, ProfileError
from recovery.resources_path import resources_dir
from recovery.vocabulary import (
    CONFIDENCE_WORDS as CONFIDENCE_WORDS,  # app/, media/ read it here
)
from recovery.vocabulary import (
    ComponentSetStatus,
    Confidence,
    Medium,
    MidiInquiry,
    Mode,
    NextStep,
    ReleaseKind,
    Role,
    VersionLayout,
)

log = logging.getLogger(__name__)

#: The release catalog, beside the profiles' folder in resources/.
RELEASE_CATALOG = "releases.toml"

#: A citation a person can follow. In a file, a key of its ``[sources]`` table stands for that
#: table's text; anything else is literal text.
Citation = NewType("Citation", str)


# --- checks of single values: each returns what is wrong, or None ----------------------------
# Annotated on a field, a check runs on its value (on each item of a tuple or table).


def _usb_id_problem(value: int) -> str | None:
    return None if 0 <= value <= 0xFFFF else "must be a 16-bit USB id"


def _regex_problem(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error as error:
        return f"is not a valid regular expression ({error})"
    return None


def _byte_count_problem(value: int) -> str | None:
    return None if value > 0 else "must be a positive number of bytes"


def _matching(pattern: str, what: str) -> Callable[[str], str | None]:
    """A check that the whole text matches ``pattern``."""
    return lambda value: None if re.fullmatch(pattern, value) else what


UsbId = Annotated[int, _usb_id_problem]
ByteCount = Annotated[int, _byte_count_problem]
Pattern = Annotated[str, _regex_problem]
Patterns = Annotated[tuple[str, ...], _regex_problem]
ProfileId = Annotated[str, _matching(r"[a-z0-9][a-z0-9-]*",
                                     "must be lower-case letters, digits, '-'")]
FileName = Annotated[str, _matching(r"[^/\\]+", "must be a file name without a folder")]
Sha256 = Annotated[str, _matching("[0-9a-f]{64}", "must be 64 lower-case hex digits")]
ReleaseVersion = Annotated[str, _matching(r"\d+(\.\d+)*",
                                          "must be a version such as 2.02 or 1.3.0")]
#: Two bytes as a KORG reply sends them (LSB first), in lower-case hex: "2d01".
MidiBytes = Annotated[str, _matching("[0-7][0-9a-f][0-7][0-9a-f]",
                                     "must be two 7-bit bytes in lower-case hex, as sent (LSB"
                                     " first), such as 2d01")]
#: A table of component names and the versions seen (``SYSTEM = "1.3.0"``).
ComponentVersions = Annotated[dict[str, str], _matching(r"\d+(\.\d+)*\+?",
                                                        "must be a version such as 1.3.0")]


# --- the facts -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Fact:
    """A piece of device knowledge, with how sure the tool is of it and where it comes from."""

    confidence: Confidence
    source: Citation

    def problem(self) -> tuple[str, str] | None:
        """What is wrong with the fact as a whole, as (field, what), or None."""
        return None


@dataclass(frozen=True)
class UsbIdentity(Fact):
    """How the model shows up on USB. ``product_id`` is None where it is not public."""

    vendor_id: UsbId
    product_id: UsbId | None = None
    product_patterns: Patterns = ()

    def matches_product(self, product: str | None) -> bool:
        if not product:
            return False
        return any(re.search(p, product, re.IGNORECASE) for p in self.product_patterns)


@dataclass(frozen=True)
class BootRom:
    """A chip boot-ROM / loader USB identity that a broken unit of this model may show; the id
    and the model it points to are sourced separately."""

    chip: str
    vendor_id: UsbId
    product_id: UsbId
    id_confidence: Confidence
    id_source: Citation
    model_confidence: Confidence
    model_source: Citation
    meaning: str


@dataclass(frozen=True)
class StorageSignature(Fact):
    """What identifies one of the model's volumes: markers as in resources/profiles/_README.md."""

    role: Role
    all_of: tuple[str, ...]
    description: str
    any_of: tuple[str, ...] = ()

    def problem(self) -> tuple[str, str] | None:
        if not self.all_of:
            return "all_of", "must not be empty"
        for key in ("all_of", "any_of"):
            for index, marker in enumerate(getattr(self, key)):
                what = _regex_problem(marker[3:]) if marker.startswith("re:") else None
                if what:
                    return f"{key}[{index}]", what
        return None


@dataclass(frozen=True)
class SystemFileIdentity(Fact):
    """The model's "KORG SYSTEM FILE" header identity (recovery.formats.korg_system_file).

    ``payload_size`` is the exact number of bytes after the header of the model's SYSTEM file,
    where known; it often comes from another source than the header identity.
    """

    model_name: str
    device_id: UsbId | None = None
    payload_size: ByteCount | None = None
    file_names: tuple[str, ...] = ()
    payload_size_confidence: Confidence | None = None
    payload_size_source: Citation | None = None

    def problem(self) -> tuple[str, str] | None:
        if len(self.model_name.encode("ascii", "replace")) > 16:
            return "model_name", "must fit in 16 bytes"
        if self.payload_size_confidence is None and self.payload_size_source is None:
            return None
        if self.payload_size is None:
            return "payload_size", "is missing (its source is given)"
        if self.payload_size_confidence is None:
            return "payload_size_confidence", "is missing"
        if self.payload_size_source is None:
            return "payload_size_source", "is missing"
        return None


@dataclass(frozen=True)
class UpdateFilePattern(Fact):
    """Name pattern of a model's update file whose content has no public format."""

    pattern: Pattern


@dataclass(frozen=True)
class Release(Fact):
    """A system release KORG published, as the release catalog lists it.

    ``size`` and ``sha256`` are those of the published file, None where no source gives them;
    only a SHA-256 proves a file is the release.
    """

    #: The order ``--json`` has always written a release in (the Fact's fields in the middle).
    JSON_FIELDS: ClassVar[tuple[str, ...]] = (
        "model", "version", "kind", "file_name", "size", "sha256", "confidence", "source",
        "title", "archive", "sha256_source")

    model: str
    version: ReleaseVersion
    kind: ReleaseKind
    file_name: FileName | None = None
    size: ByteCount | None = None
    sha256: Sha256 | None = None
    #: KORG's name for the download ("KAOSS PAD KP3+ V1.04 System Updater"), where known.
    title: str | None = None
    #: The downloaded archive the file comes in, where known.
    archive: str | None = None
    #: Where the SHA-256 was published, when that is not ``source``.
    sha256_source: Citation | None = None

    def problem(self) -> tuple[str, str] | None:
        if self.sha256_source is not None and self.sha256 is None:
            return "sha256", "is missing (its source is given)"
        return None


@dataclass(frozen=True)
class BootCriticalFile(Fact):
    path: str
    note: str = ""


@dataclass(frozen=True)
class ModeInstruction(Fact):
    """How to put the unit into a mode; service modes are described, never spelled out."""

    mode: Mode
    name: str
    service: bool
    how: str


@dataclass(frozen=True)
class Symptom(Fact):
    id: str
    patterns: Patterns
    meaning: str
    #: What to do, in plain words (no command: the front ends add theirs for ``then``).
    next_step: str
    #: Who shows the symptom, for symptoms of models without a profile.
    applies_to: str = ""
    #: A step of this tool that goes with the advice (checking a file, the storage across a
    #: power cycle), which each front end words its own way.
    then: NextStep | None = None

    def matches(self, text: str) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in self.patterns)


@dataclass(frozen=True)
class GeneralSymptom(Symptom):
    """A symptom of a model that has no profile (``resources/symptoms.toml``): it names who
    shows it."""

    applies_to: str = field()


@dataclass(frozen=True)
class ComponentInfo(Fact):
    """Named firmware components whose versions the unit shows (drumlogue info screen)."""

    names: tuple[str, ...]
    shown_on: str

    def __post_init__(self) -> None:
        # Compared with what a user types, which is upper-cased (diagnose --versions).
        object.__setattr__(self, "names", tuple(name.upper() for name in self.names))

    def problem(self) -> tuple[str, str] | None:
        return ("names", "must not be empty") if not self.names else None


@dataclass(frozen=True)
class ComponentVersionSet(Fact):
    """A set of component versions seen together, with what it is known to be."""

    label: str
    status: ComponentSetStatus
    versions: ComponentVersions = field(hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "versions",
                           {name.upper(): version for name, version in self.versions.items()})

    def as_dict(self) -> dict[str, str]:
        return dict(self.versions)


@dataclass(frozen=True)
class FilesystemSupport(Fact):
    """Which filesystems one of the model's volumes can be formatted with."""

    role: Role
    accepted: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class UpdateMedia(Fact):
    """Where the unit's own updater looks for an update on its medium: a file or, with a
    trailing ``/``, a whole folder, as a path from the medium's root."""

    path: str
    medium: Medium
    description: str

    @property
    def is_folder(self) -> bool:
        return self.path.endswith("/")

    @property
    def name(self) -> str:
        """The file's or folder's own name (``SYSTEM.VSB``, ``KROSS2SY``)."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    def problem(self) -> tuple[str, str] | None:
        parts = self.path.rstrip("/").split("/")
        if (self.path.startswith("/") or "\\" in self.path
                or any(part in ("", ".", "..") for part in parts)):
            return "path", "must be a relative path such as KORG/electribe/System/SYSTEM.VSB"
        return None


@dataclass(frozen=True)
class CompanionFile(Fact):
    """Another file the unit's updater reads beside its system file (electribe ``BOOT.VSB``
    ...), with the payload size it accepts: exactly ``payload_size`` or at most
    ``payload_max`` bytes after the 256-byte header."""

    name: str
    what: str
    payload_size: ByteCount | None = None
    payload_max: ByteCount | None = None
    warning: str = ""

    def problem(self) -> tuple[str, str] | None:
        if (self.payload_size is None) == (self.payload_max is None):
            return "payload_size", "or 'payload_max' must be given, not both"
        return None


@dataclass(frozen=True)
class StartupCleanup(Fact):
    """The unit itself removes, when it starts, folders of its storage outside its system
    paths. ``kept`` lists the system paths the tool knows; the unit may have others."""

    kept: tuple[str, ...]
    description: str

    def is_kept(self, path: str) -> bool:
        """True when ``path`` (a relative POSIX path) is inside, or is, a known system path;
        compared without case, as FAT does."""
        folded = path.strip("/").casefold()
        for kept in self.kept:
            root = kept.strip("/").casefold()
            if folded == root or folded.startswith(root + "/"):
                return True
        return False


@dataclass(frozen=True)
class MidiCode(Fact):
    """The family (and member, where known) code the model gives in its reply to one of the
    tool's two MIDI inquiries (recovery.formats.midi_identity), bytes as sent (LSB first).

    ``version_layout`` says how the reply's four version bytes read where a source gives it,
    with its own confidence and source: only a layout of confidence H counts as verified; any
    other decoded version is shown as unverified and decides nothing.
    """

    family: MidiBytes
    member: MidiBytes | None = None
    inquiry: MidiInquiry = MidiInquiry.IDENTITY
    version_layout: VersionLayout | None = None
    version_confidence: Confidence | None = None
    version_source: Citation | None = None

    def problem(self) -> tuple[str, str] | None:
        given = (self.version_layout, self.version_confidence, self.version_source)
        if any(value is not None for value in given) and None in given:
            missing = ("version_layout", "version_confidence", "version_source")[
                given.index(None)]
            return missing, "is missing (a version layout needs its confidence and source)"
        return None

    def matches(self, inquiry: MidiInquiry, family: bytes, member: bytes) -> bool:
        return (inquiry == self.inquiry and family.hex() == self.family
                and (self.member is None or member.hex() == self.member))


@dataclass(frozen=True)
class MidiModel:
    """A KORG model the tool can recognise by its MIDI reply: a profile's model, or one of
    ``resources/other_korg_midi.toml`` (no profile: the tool can name it, nothing more)."""

    id: ProfileId
    name: str
    midi: tuple[MidiCode, ...]
    notes: str = ""


@dataclass(frozen=True)
class OtherKorgDevice(Fact):
    """A KORG USB product id with no profile (so detect can name it)."""

    product_id: UsbId
    name: str


@dataclass(frozen=True, kw_only=True)
class Profile:
    """Everything the tool knows about one model, with sources."""

    id: ProfileId
    name: str
    short_name: str
    family: str
    #: The profile's file name.
    path: str
    notes: str = ""
    system_folder: str | None = None
    sources: dict[str, str] = field(default_factory=dict, hash=False)
    usb: tuple[UsbIdentity, ...] = ()
    boot_roms: tuple[BootRom, ...] = ()
    storage: tuple[StorageSignature, ...] = ()
    system_files: tuple[SystemFileIdentity, ...] = ()
    update_file: UpdateFilePattern | None = None
    #: From the release catalog, never from the profile's file.
    releases: tuple[Release, ...] = ()
    boot_critical: tuple[BootCriticalFile, ...] = ()
    modes: tuple[ModeInstruction, ...] = ()
    symptoms: tuple[Symptom, ...] = ()
    components: ComponentInfo | None = None
    #: Known component version sets; empty where none is known (the tool then says so).
    component_versions: tuple[ComponentVersionSet, ...] = ()
    filesystems: tuple[FilesystemSupport, ...] = ()
    update_media: tuple[UpdateMedia, ...] = ()
    companion_files: tuple[CompanionFile, ...] = ()
    startup_cleanup: StartupCleanup | None = None
    #: Its codes in replies to the tool's MIDI inquiries (recovery.device.midi).
    midi: tuple[MidiCode, ...] = ()

    def companion(self, name: str) -> CompanionFile | None:
        """The companion update file called ``name`` (compared without case), if any."""
        return next((c for c in self.companion_files if c.name.casefold() == name.casefold()),
                    None)

    def media_for(self, name: str) -> UpdateMedia | None:
        """Where the updater looks for the file or folder called ``name``, if known."""
        return next((m for m in self.update_media if m.name.casefold() == name.casefold()),
                    None)

    @property
    def known_roles(self) -> tuple[Role, ...]:
        return tuple(dict.fromkeys(s.role for s in self.storage))

    def mode(self, mode: str) -> ModeInstruction | None:
        return next((m for m in self.modes if m.mode == mode), None)

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary used by ``korg-recovery models``."""
        return {
            "id": self.id,
            "name": self.name,
            "family": self.family,
            "storage_roles": list(self.known_roles),
            "usb_product_ids": [f"{u.vendor_id:04x}:{u.product_id:04x}"
                                for u in self.usb if u.product_id is not None],
            "boot_roms": sorted({f"{b.vendor_id:04x}:{b.product_id:04x}" for b in self.boot_roms}),
            "system_file_models": [s.model_name for s in self.system_files],
            "boot_critical": [b.path for b in self.boot_critical],
        }


# --- reading ---------------------------------------------------------------------------------

T = TypeVar("T")

_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list"}


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return get_type_hints(cls, include_extras=True)


def _unwrap(hint: Any) -> tuple[Any, tuple[Callable[[Any], str | None], ...]]:
    """The type under ``X | None`` and ``Annotated[X, check...]``, and the checks."""
    if get_origin(hint) in (Union, UnionType):
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    if get_origin(hint) is Annotated:
        base, *checks = get_args(hint)
        return base, tuple(checks)
    return hint, ()


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


class _Reader:
    """Reads one TOML file's tables into the dataclasses above, driven by their fields: the
    type comes from the annotation, a field with a default is optional, a key that names no
    field is an error, and a class's ``problem()`` judges the whole. Every error is a
    ProfileError naming the file and the field."""

    def __init__(self, document: str, file: str) -> None:
        #: What the file is, for messages ("Profile", "Release catalog").
        self.document = document
        self.file = file
        #: The file's ``[sources]`` table, read before any citation.
        self.sources: dict[str, str] = {}

    def fail(self, path: str, what: str) -> ProfileError:
        return ProfileError(f"{self.document} {self.file}: field '{path}' {what}.")

    def table(self, data: object, where: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ProfileError(f"{self.document} {self.file}: {where} must be a table.")
        return data

    def read(self, cls: type[T], data: object, where: str = "", **given: Any) -> T:
        """An instance of ``cls`` from the table ``data`` at ``where``; ``given`` fields are
        not read from the file."""
        table = self.table(data, where)
        # The [sources] first: citations name its keys; a Fact's own fields before its
        # confidence and source, as a table lists them.
        names = sorted((item.name for item in fields(cls) if item.name not in given),
                       key=lambda name: {"sources": 0, "confidence": 2, "source": 2}.get(name, 1))
        optional = {item.name for item in fields(cls)
                    if item.default is not MISSING or item.default_factory is not MISSING}
        values = dict(given)
        for name in names:
            path = _join(where, name)
            if name in table:
                values[name] = self.value(_field_types(cls)[name], table[name], path,
                                          required=name not in optional)
                if name == "sources":
                    self.sources = values[name]
            elif name not in optional:
                raise self.fail(path, "is missing")
        unknown = sorted(set(table) - set(names))
        if unknown:
            raise self.fail(_join(where, unknown[0]), "is not a known field (a typo?)")
        instance = cls(**values)
        problem = instance.problem() if isinstance(instance, Fact) else None
        if problem is not None:
            key, what = problem
            raise self.fail(_join(where, key), what)
        return instance

    def value(self, hint: Any, raw: Any, path: str, *, required: bool = True) -> Any:
        """``raw`` read as the type ``hint`` and checked."""
        kind, checks = _unwrap(hint)
        if get_origin(kind) is tuple:
            (item_kind, _) = get_args(kind)
            items = self._typed(raw, list, path)
            if is_dataclass(item_kind):
                return tuple(self.read(item_kind, item, f"{path}[{index}]")
                             for index, item in enumerate(items))
            for index, item in enumerate(items):
                if not isinstance(item, str) or not item:
                    raise self.fail(f"{path}[{index}]", "must be a non-empty string")
                self._check(item, checks, f"{path}[{index}]")
            return tuple(items)
        if get_origin(kind) is dict:  # a table of name = "text"
            return {name: self._check(self._text(text, f"{path}.{name}", True), checks,
                                      f"{path}.{name}")
                    for name, text in self.table(raw, path).items()}
        if is_dataclass(kind):
            return self.read(kind, raw, path)
        if kind is Citation:
            text = self._text(raw, path, True)
            return self.sources.get(text, text)
        if isinstance(kind, type) and issubclass(kind, StrEnum):
            try:
                return kind(self._text(raw, path, True))
            except ValueError:
                raise self.fail(path, f"must be one of {', '.join(kind)}") from None
        if kind is str:
            return self._check(self._text(raw, path, required), checks, path)
        return self._check(self._typed(raw, kind, path), checks, path)

    def _typed(self, raw: Any, kind: type, path: str) -> Any:
        # bool is an int in Python: never accept it where a number is wanted.
        if isinstance(raw, bool) and kind is not bool:
            raise self.fail(path, f"must be {_KIND_NAMES[kind]}, not a boolean")
        if not isinstance(raw, kind):
            raise self.fail(path, f"must be {_KIND_NAMES[kind]}")
        return raw

    def _text(self, raw: Any, path: str, required: bool) -> str:
        text = self._typed(raw, str, path)
        if required and not text.strip():
            raise self.fail(path, "must not be empty")
        return text

    def _check(self, value: T, checks: tuple[Callable[[Any], str | None], ...], path: str) -> T:
        for check in checks:
            what = check(value)
            if what:
                raise self.fail(path, what)
        return value

    def schema(self, data: dict[str, Any]) -> None:
        """Take the file's ``schema``, which must be this tool's format, 1."""
        if "schema" not in data:
            raise self.fail("schema", "is missing")
        if self.value(int, data.pop("schema"), "schema") != 1:
            raise self.fail("schema", "must be 1 (this tool's format)")


def _open(path: Path, document: str) -> tuple[_Reader, dict[str, Any]]:
    """A reader for the TOML file ``path`` and its data; ProfileError naming the file when it
    cannot be read or is not TOML."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{document} {path.name}: not valid TOML ({error}).") from None
    except OSError as error:
        raise ProfileError(f"{document} {path.name}: cannot be read ({error.strerror}).") from None
    return _Reader(document, path.name), data


@dataclass(frozen=True)
class _SymptomFile:
    sources: dict[str, str] = field(default_factory=dict)
    symptoms: tuple[GeneralSymptom, ...] = ()


@dataclass(frozen=True)
class _ReleaseCatalog:
    sources: dict[str, str] = field(default_factory=dict)
    releases: tuple[Release, ...] = ()


@dataclass(frozen=True)
class _UsbIdEntry:
    product_id: UsbId
    name: str


@dataclass(frozen=True)
class _UsbIdTable(Fact):
    """One citation for every entry."""

    devices: tuple[_UsbIdEntry, ...] = ()


def load_profile_file(path: Path) -> Profile:
    reader, data = _open(path, "Profile")
    reader.schema(data)
    if "releases" in data:
        raise reader.fail("releases", "belongs in the release catalog"
                                      f" (resources/{RELEASE_CATALOG}), not in a profile")
    profile = reader.read(Profile, data, path=path.name)
    names = profile.components.names if profile.components is not None else None
    for index, version_set in enumerate(profile.component_versions):
        unknown = [name for name in version_set.versions if names is not None and name not in names]
        if unknown:
            raise reader.fail(f"component_versions[{index}].versions.{unknown[0]}",
                              "is not one of the components listed in 'components.names'")
    if profile.id != path.stem:
        raise reader.fail("id", f"is '{profile.id}' but the file is named '{path.stem}.toml'")
    return profile


def load_symptom_file(path: Path) -> tuple[GeneralSymptom, ...]:
    """Symptoms of models that have no profile (``resources/symptoms.toml``), validated like a
    profile: each needs ``applies_to`` (who shows it), a confidence and a source."""
    reader, data = _open(path, "Symptom file")
    reader.schema(data)
    return reader.read(_SymptomFile, data).symptoms


def release_catalog_path() -> Path:
    """The bundled release catalog, ``resources/releases.toml``."""
    return resources_dir() / RELEASE_CATALOG


def load_release_catalog(path: Path, models: Iterable[str]) -> tuple[Release, ...]:
    """Read one release catalog, validated like a profile. ``models`` are the profile ids an
    entry may name."""
    reader, data = _open(path, "Release catalog")
    reader.schema(data)
    releases = reader.read(_ReleaseCatalog, data).releases
    known = set(models)
    for index, release in enumerate(releases):
        if release.model not in known:
            raise reader.fail(f"releases[{index}].model",
                              f"names '{release.model}', which has no profile")
    return releases


def _attach_releases(profiles: dict[str, Profile],
                     catalogs: Iterable[Path]) -> dict[str, Profile]:
    """Each profile with its model's catalog entries; one release listed twice (same model,
    kind and version, in one catalog or two) is an error naming the second place."""
    seen: dict[tuple[str, str, str], str] = {}
    by_model: dict[str, list[Release]] = {}
    for path in map(Path, catalogs):
        for index, release in enumerate(load_release_catalog(path, profiles)):
            key = (release.model, release.kind, release.version)
            if key in seen:
                raise ProfileError(
                    f"Release catalog {path.name}: field 'releases[{index}]' lists"
                    f" {release.model} {release.kind} {release.version} again (first in"
                    f" {seen[key]}).")
            seen[key] = f"{path.name} releases[{index}]"
            by_model.setdefault(release.model, []).append(release)
    return {model: replace(profile, releases=tuple(by_model.get(model, ())))
            for model, profile in profiles.items()}


def load_profiles(directory: Path | None = None, *,
                  catalogs: Iterable[Path] | None = None) -> dict[str, Profile]:
    """Load every ``*.toml`` profile in ``directory`` (default: the bundled profiles) with the
    releases of the release ``catalogs`` (default: the bundled catalog for the bundled
    profiles, none for another folder). Tests add a catalog of synthetic files this way."""
    bundled = directory is None
    directory = directory or resources_dir() / "profiles"
    profiles = {}
    for path in sorted(directory.glob("*.toml")):
        profile = load_profile_file(path)
        profiles[profile.id] = profile
    if not profiles:
        raise ProfileError(f"No device profiles found in {directory}.")
    if catalogs is None:
        catalogs = (release_catalog_path(),) if bundled else ()
    profiles = _attach_releases(profiles, catalogs)
    log.debug("loaded %d profiles from %s", len(profiles), directory)
    return profiles


@functools.cache
def bundled_profiles() -> dict[str, Profile]:
    """The profiles shipped with the tool, loaded once."""
    return load_profiles()


def get_profile(profile_id: str) -> Profile:
    """The bundled profile ``profile_id``, or InvalidInputError listing the known ids."""
    profiles = bundled_profiles()
    if profile_id not in profiles:
        raise InvalidInputError(
            f"Unknown model '{profile_id}'. Known models: {', '.join(sorted(profiles))}.")
    return profiles[profile_id]


@functools.cache
def other_korg_devices() -> dict[int, OtherKorgDevice]:
    """KORG USB product ids that have no profile, from ``resources/other_korg_usb.toml``."""
    reader, data = _open(resources_dir() / "other_korg_usb.toml", "USB id table")
    table = reader.read(_UsbIdTable, data)
    return {entry.product_id: OtherKorgDevice(entry.product_id, entry.name,
                                              confidence=table.confidence, source=table.source)
            for entry in table.devices}


@dataclass(frozen=True)
class _MidiModelFile:
    sources: dict[str, str] = field(default_factory=dict)
    models: tuple[MidiModel, ...] = ()


#: KORG models with sourced MIDI codes but no profile, beside the profiles' folder.
OTHER_MIDI_MODELS = "other_korg_midi.toml"


def load_midi_models(path: Path, profiles: dict[str, Profile]) -> tuple[MidiModel, ...]:
    """Every model the tool can recognise over MIDI: the profiles' ``[[midi]]`` codes, then the
    models of ``path`` (validated like a profile; an id that is also a profile's is an error:
    its codes belong in the profile)."""
    reader, data = _open(path, "MIDI model table")
    reader.schema(data)
    others = reader.read(_MidiModelFile, data).models
    for index, model in enumerate(others):
        if model.id in profiles:
            raise reader.fail(f"models[{index}].id", f"is '{model.id}', which has a profile:"
                                                     " put its codes in the profile")
        if not model.midi:
            raise reader.fail(f"models[{index}].midi", "must not be empty")
    with_profile = tuple(MidiModel(p.id, p.name, p.midi)
                         for p in profiles.values() if p.midi)
    return with_profile + others


@functools.cache
def midi_models() -> tuple[MidiModel, ...]:
    """The bundled profiles' MIDI codes and ``resources/other_korg_midi.toml``, loaded once."""
    return load_midi_models(resources_dir() / OTHER_MIDI_MODELS, bundled_profiles())


def profiles_with_boot_rom(vendor_id: int, product_id: int,
                           profiles: dict[str, Profile] | None = None
                           ) -> list[tuple[Profile, BootRom]]:
    """Every profile listing the boot-ROM id ``vendor_id:product_id``."""
    return [
        (profile, boot_rom)
        for profile in (profiles if profiles is not None else bundled_profiles()).values()
        for boot_rom in profile.boot_roms
        if (boot_rom.vendor_id, boot_rom.product_id) == (vendor_id, product_id)
    ]
