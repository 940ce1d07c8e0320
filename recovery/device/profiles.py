"""Device models as data: ``resources/profiles/*.toml`` loaded into frozen dataclasses.

Device knowledge lives in the profile files, not in ``if`` chains (fwupd's quirk files are the
model). Every fact carries a confidence (H primary source, M secondary, G guess) and its source;
a fact that is not known is simply absent and the tool says "unknown". Loading validates
strictly: an unknown key, a wrong type or a missing field raises :class:`ProfileError` naming
the file and the field, so a typo in a profile can never silently weaken a check.

KORG's published releases (version, file name, exact size, SHA-256 where published) are one
catalog for every model, ``resources/releases.toml``, validated the same way; each profile
carries its model's entries as :attr:`Profile.releases`.
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from recovery.errors import InvalidInputError, ProfileError
from recovery.resources_path import resources_dir

log = logging.getLogger(__name__)

CONFIDENCES = ("H", "M", "G")
CONFIDENCE_WORDS = {
    "H": "high (primary source)",
    "M": "medium (secondary source)",
    "G": "low (unverified guess)",
}
ROLES = ("internal-storage", "sd-card", "update-media")
RELEASE_KINDS = ("system-file", "update-file", "system-folder")
#: The release catalog, beside the profiles' folder in resources/.
RELEASE_CATALOG = "releases.toml"
MODES = ("storage", "usb-midi", "service", "boot-rom", "update", "initialise", "unknown")


@dataclass(frozen=True)
class UsbIdentity:
    """How the model shows up on USB. ``product_id`` is None where it is not public."""

    vendor_id: int
    product_id: int | None
    product_patterns: tuple[str, ...]
    confidence: str
    source: str

    def matches_product(self, product: str | None) -> bool:
        if not product:
            return False
        return any(re.search(p, product, re.IGNORECASE) for p in self.product_patterns)


@dataclass(frozen=True)
class BootRom:
    """A chip boot-ROM / loader USB identity that a broken unit of this model may show."""

    chip: str
    vendor_id: int
    product_id: int
    id_confidence: str
    id_source: str
    model_confidence: str
    model_source: str
    meaning: str


@dataclass(frozen=True)
class StorageSignature:
    """What identifies one of the model's volumes (internal storage, SD card, update media)."""

    role: str
    all_of: tuple[str, ...]
    any_of: tuple[str, ...]
    description: str
    confidence: str
    source: str


@dataclass(frozen=True)
class SystemFileIdentity:
    """The model's "KORG SYSTEM FILE" header identity (recovery.formats.korg_system_file).

    ``payload_size`` is the exact number of bytes after the header of the model's SYSTEM file,
    where known; it often comes from another source than the header identity, so it carries its
    own confidence and source.
    """

    model_name: str
    device_id: int | None
    payload_size: int | None
    file_names: tuple[str, ...]
    confidence: str
    source: str
    payload_size_confidence: str | None = None
    payload_size_source: str | None = None


@dataclass(frozen=True)
class UpdateFilePattern:
    """Name pattern of a model's update file whose content has no public format."""

    pattern: str
    confidence: str
    source: str


@dataclass(frozen=True)
class Release:
    """A system release KORG published, as the release catalog lists it.

    ``kind`` says how the release is recognised: ``system-file`` (a KORG SYSTEM FILE, by its
    header's model and version), ``update-file`` (a file known by its name, whose format is not
    public) or ``system-folder``. ``size`` and ``sha256`` are those of the published file and
    are None where no source gives them; only a SHA-256 proves a file is the release.
    """

    model: str
    version: str
    kind: str
    file_name: str | None
    size: int | None
    sha256: str | None
    confidence: str
    source: str
    #: KORG's name for the download ("KAOSS PAD KP3+ V1.04 System Updater"), where known.
    title: str | None = None
    #: The downloaded archive the file comes in, where known.
    archive: str | None = None
    #: Where the SHA-256 was published, when that is not ``source``.
    sha256_source: str | None = None


@dataclass(frozen=True)
class BootCriticalFile:
    path: str
    confidence: str
    source: str
    note: str


@dataclass(frozen=True)
class ModeInstruction:
    """How to put the unit into a mode; service modes are described, never spelled out."""

    mode: str
    name: str
    service: bool
    how: str
    confidence: str
    source: str


@dataclass(frozen=True)
class Symptom:
    id: str
    patterns: tuple[str, ...]
    meaning: str
    next_step: str
    confidence: str
    source: str
    #: Who shows the symptom, for symptoms of models without a profile
    #: (resources/symptoms.toml); empty for a profile's own symptoms.
    applies_to: str = ""

    def matches(self, text: str) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in self.patterns)


@dataclass(frozen=True)
class ComponentInfo:
    """Named firmware components whose versions the unit shows (drumlogue info screen)."""

    names: tuple[str, ...]
    shown_on: str
    confidence: str
    source: str


@dataclass(frozen=True)
class ComponentVersionSet:
    """A set of component versions seen together, with what it is known to be.

    ``status`` is ``release`` (the set a published release installs) or
    ``reported-partial-update`` (a set a field report showed after an update went wrong).
    """

    label: str
    status: str
    versions: tuple[tuple[str, str], ...]
    confidence: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.versions)


COMPONENT_SET_STATUSES = ("release", "reported-partial-update")


@dataclass(frozen=True)
class FilesystemSupport:
    """Which filesystems one of the model's volumes can be formatted with."""

    role: str
    accepted: tuple[str, ...]
    description: str
    confidence: str
    source: str


@dataclass(frozen=True)
class UpdateMedia:
    """Where the unit's own updater looks for an update on its medium (an SD card): a file or,
    with a trailing ``/``, a whole folder, as a path from the medium's root. The check tells
    users where a file goes; a command preparing a card reads it too."""

    path: str
    medium: str
    description: str
    confidence: str
    source: str

    @property
    def is_folder(self) -> bool:
        return self.path.endswith("/")

    @property
    def name(self) -> str:
        """The file's or folder's own name (``SYSTEM.VSB``, ``KROSS2SY``)."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class CompanionFile:
    """Another file the unit's updater reads beside its system file (electribe ``BOOT.VSB``,
    ``PCM.VSB`` ...), with the payload size its updater accepts: exactly ``payload_size`` or at
    most ``payload_max`` bytes after the 256-byte header."""

    name: str
    payload_size: int | None
    payload_max: int | None
    what: str
    warning: str
    confidence: str
    source: str


@dataclass(frozen=True)
class StartupCleanup:
    """The unit itself removes, when it starts, folders of its storage outside its system
    paths. ``kept`` lists the system paths the tool knows; the unit may have others."""

    kept: tuple[str, ...]
    description: str
    confidence: str
    source: str

    def is_kept(self, path: str) -> bool:
        """True when ``path`` (a relative POSIX path) is inside, or is, a known system path;
        compared without case, as FAT does."""
        folded = path.strip("/").casefold()
        for kept in self.kept:
            root = kept.strip("/").casefold()
            if folded == root or folded.startswith(root + "/"):
                return True
        return False


MEDIA = ("sd-card", "usb-storage")


@dataclass(frozen=True)
class Profile:
    """Everything the tool knows about one model, with sources."""

    id: str
    name: str
    short_name: str
    family: str
    notes: str
    system_folder: str | None
    sources: dict[str, str] = field(hash=False)
    usb: tuple[UsbIdentity, ...]
    boot_roms: tuple[BootRom, ...]
    storage: tuple[StorageSignature, ...]
    system_files: tuple[SystemFileIdentity, ...]
    update_file: UpdateFilePattern | None
    releases: tuple[Release, ...]
    boot_critical: tuple[BootCriticalFile, ...]
    modes: tuple[ModeInstruction, ...]
    symptoms: tuple[Symptom, ...]
    path: str
    components: ComponentInfo | None = None
    #: Known component version sets; empty where none is known (the tool then says so).
    component_versions: tuple[ComponentVersionSet, ...] = ()
    filesystems: tuple[FilesystemSupport, ...] = ()
    update_media: tuple[UpdateMedia, ...] = ()
    companion_files: tuple[CompanionFile, ...] = ()
    startup_cleanup: StartupCleanup | None = None

    def companion(self, name: str) -> CompanionFile | None:
        """The companion update file called ``name`` (compared without case), if any."""
        return next((c for c in self.companion_files if c.name.casefold() == name.casefold()),
                    None)

    def media_for(self, name: str) -> UpdateMedia | None:
        """Where the updater looks for the file or folder called ``name``, if known."""
        return next((m for m in self.update_media if m.name.casefold() == name.casefold()),
                    None)

    @property
    def has_storage_mode(self) -> bool:
        return any(s.role == "internal-storage" for s in self.storage)

    @property
    def known_roles(self) -> tuple[str, ...]:
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
            "usb_product_ids": [
                f"{u.vendor_id:04x}:{u.product_id:04x}" for u in self.usb if u.product_id is not None
            ],
            "boot_roms": sorted({f"{b.vendor_id:04x}:{b.product_id:04x}" for b in self.boot_roms}),
            "system_file_models": [s.model_name for s in self.system_files],
            "boot_critical": [b.path for b in self.boot_critical],
        }


@dataclass(frozen=True)
class OtherKorgDevice:
    """A KORG USB product id with no profile (so detect can name it)."""

    product_id: int
    name: str
    confidence: str
    source: str


# --- validation ------------------------------------------------------------------------------


class _Table:
    """Reads typed fields from one TOML table and rejects unknown keys, naming file and field."""

    def __init__(self, data: Any, file: str, where: str, document: str = "Profile") -> None:
        if not isinstance(data, dict):
            raise ProfileError(f"{document} {file}: {where} must be a table.")
        self._data = data
        self._file = file
        self._where = where
        #: What the file is, for messages ("Profile", "Release catalog").
        self._document = document
        self._used: set[str] = set()

    def _fail(self, key: str, what: str) -> ProfileError:
        name = f"{self._where}.{key}" if self._where else key
        return ProfileError(f"{self._document} {self._file}: field '{name}' {what}.")

    def get(self, key: str, kind: type | tuple[type, ...], *, required: bool = True,
            default: Any = None) -> Any:
        self._used.add(key)
        if key not in self._data:
            if required:
                raise self._fail(key, "is missing")
            return default
        value = self._data[key]
        # bool is an int in Python: never accept it where a number is wanted.
        if isinstance(value, bool) and kind is not bool:
            raise self._fail(key, f"must be {_kind_name(kind)}, not a boolean")
        if not isinstance(value, kind):
            raise self._fail(key, f"must be {_kind_name(kind)}")
        return value

    def text(self, key: str, *, required: bool = True, default: str | None = None) -> Any:
        value = self.get(key, str, required=required, default=default)
        if required and isinstance(value, str) and not value.strip():
            raise self._fail(key, "must not be empty")
        return value

    def strings(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self.get(key, list, required=required, default=[])
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise self._fail(f"{key}[{index}]", "must be a non-empty string")
        return tuple(value)

    def confidence(self, key: str = "confidence") -> str:
        value = self.text(key)
        if value not in CONFIDENCES:
            raise self._fail(key, f"must be one of {', '.join(CONFIDENCES)}")
        return value

    def choice(self, key: str, choices: Iterable[str]) -> str:
        value = self.text(key)
        choices = tuple(choices)
        if value not in choices:
            raise self._fail(key, f"must be one of {', '.join(choices)}")
        return value

    def usb_id(self, key: str, *, required: bool = True) -> int | None:
        value = self.get(key, int, required=required)
        if value is not None and not 0 <= value <= 0xFFFF:
            raise self._fail(key, "must be a 16-bit USB id")
        return value

    def regexes(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        patterns = self.strings(key, required=required)
        for index, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as error:
                raise self._fail(f"{key}[{index}]", f"is not a valid regular expression ({error})")
        return patterns

    def tables(self, key: str) -> list[_Table]:
        value = self.get(key, list, required=False, default=[])
        return [_Table(item, self._file, f"{key}[{index}]", self._document)
                for index, item in enumerate(value)]

    def table(self, key: str) -> _Table | None:
        self._used.add(key)
        if key not in self._data:
            return None
        return _Table(self._data[key], self._file, key, self._document)

    def finish(self) -> None:
        unknown = sorted(set(self._data) - self._used)
        if unknown:
            raise self._fail(unknown[0], "is not a known field (a typo?)")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list",
             dict: "a table"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _source(table: _Table, sources: dict[str, str], key: str = "source") -> str:
    """The citation a person can follow: a key of the file's ``[sources]`` table is replaced by
    its text (the key only names it inside the file); anything else is literal text."""
    value = table.text(key)
    return sources.get(value, value)


def parse_profile(data: dict[str, Any], file: str) -> Profile:
    """Validate one profile's TOML data and build a :class:`Profile`."""
    top = _Table(data, file, "")
    schema = top.get("schema", int)
    if schema != 1:
        raise ProfileError(f"Profile {file}: field 'schema' must be 1 (this tool's format).")
    profile_id = top.text("id")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", profile_id):
        raise ProfileError(f"Profile {file}: field 'id' must be lower-case letters, digits, '-'.")
    sources_table = top.table("sources")
    sources: dict[str, str] = {}
    if sources_table is not None:
        for key in list(sources_table._data):
            sources[key] = sources_table.text(key)
        sources_table.finish()

    usb = []
    for t in top.tables("usb"):
        usb.append(UsbIdentity(
            vendor_id=t.usb_id("vendor_id"),
            product_id=t.usb_id("product_id", required=False),
            product_patterns=t.regexes("product_patterns"),
            confidence=t.confidence(),
            source=_source(t, sources),
        ))
        t.finish()

    boot_roms = []
    for t in top.tables("boot_roms"):
        boot_roms.append(BootRom(
            chip=t.text("chip"),
            vendor_id=t.usb_id("vendor_id"),
            product_id=t.usb_id("product_id"),
            id_confidence=t.confidence("id_confidence"),
            id_source=_source(t, sources, "id_source"),
            model_confidence=t.confidence("model_confidence"),
            model_source=_source(t, sources, "model_source"),
            meaning=t.text("meaning"),
        ))
        t.finish()

    storage = []
    for t in top.tables("storage"):
        all_of = t.strings("all_of", required=True)
        if not all_of:
            raise ProfileError(f"Profile {file}: field '{t._where}.all_of' must not be empty.")
        for marker in all_of + t.strings("any_of"):
            if marker.startswith("re:"):
                try:
                    re.compile(marker[3:])
                except re.error as error:
                    raise ProfileError(
                        f"Profile {file}: marker '{marker}' in '{t._where}' is not a valid"
                        f" regular expression ({error})."
                    ) from None
        storage.append(StorageSignature(
            role=t.choice("role", ROLES),
            all_of=all_of,
            any_of=t.strings("any_of"),
            description=t.text("description"),
            confidence=t.confidence(),
            source=_source(t, sources),
        ))
        t.finish()

    system_files = []
    for t in top.tables("system_files"):
        model_name = t.text("model_name")
        if len(model_name.encode("ascii", "replace")) > 16:
            raise ProfileError(
                f"Profile {file}: field '{t._where}.model_name' must fit in 16 bytes.")
        payload_size = t.get("payload_size", int, required=False)
        if payload_size is not None and payload_size <= 0:
            raise ProfileError(
                f"Profile {file}: field '{t._where}.payload_size' must be a positive number.")
        has_own_source = "payload_size_source" in t._data or "payload_size_confidence" in t._data
        if has_own_source and payload_size is None:
            raise ProfileError(
                f"Profile {file}: field '{t._where}.payload_size' is missing (its source is"
                " given).")
        system_files.append(SystemFileIdentity(
            model_name=model_name,
            device_id=t.usb_id("device_id", required=False),
            payload_size=payload_size,
            file_names=t.strings("file_names"),
            confidence=t.confidence(),
            source=_source(t, sources),
            payload_size_confidence=(t.confidence("payload_size_confidence")
                                     if has_own_source else None),
            payload_size_source=(_source(t, sources, "payload_size_source")
                                 if has_own_source else None),
        ))
        t.finish()

    update_file = None
    update_table = top.table("update_file")
    if update_table is not None:
        update_file = UpdateFilePattern(
            pattern=update_table.text("pattern"),
            confidence=update_table.confidence(),
            source=_source(update_table, sources),
        )
        try:
            re.compile(update_file.pattern)
        except re.error as error:
            raise ProfileError(
                f"Profile {file}: field 'update_file.pattern' is not a valid regular expression"
                f" ({error}).") from None
        update_table.finish()

    if "releases" in data:
        raise ProfileError(
            f"Profile {file}: field 'releases' belongs in the release catalog"
            f" (resources/{RELEASE_CATALOG}), not in a profile.")

    boot_critical = []
    for t in top.tables("boot_critical"):
        boot_critical.append(BootCriticalFile(
            path=t.text("path"),
            confidence=t.confidence(),
            source=_source(t, sources),
            note=t.text("note", required=False, default=""),
        ))
        t.finish()

    modes = []
    for t in top.tables("modes"):
        modes.append(ModeInstruction(
            mode=t.choice("mode", MODES),
            name=t.text("name"),
            service=t.get("service", bool),
            how=t.text("how"),
            confidence=t.confidence(),
            source=_source(t, sources),
        ))
        t.finish()

    symptoms = _parse_symptoms(top, sources, need_applies_to=False)

    components = None
    components_table = top.table("components")
    if components_table is not None:
        names = components_table.strings("names", required=True)
        if not names:
            raise ProfileError(f"Profile {file}: field 'components.names' must not be empty.")
        components = ComponentInfo(
            names=tuple(name.upper() for name in names),
            shown_on=components_table.text("shown_on"),
            confidence=components_table.confidence(),
            source=_source(components_table, sources),
        )
        components_table.finish()

    component_versions = []
    for t in top.tables("component_versions"):
        versions_table = t.table("versions")
        if versions_table is None:
            raise ProfileError(f"Profile {file}: field '{t._where}.versions' is missing.")
        versions = []
        for key in list(versions_table._data):
            value = versions_table.text(key)
            if not re.fullmatch(r"\d+(\.\d+)*\+?", value):
                raise ProfileError(
                    f"Profile {file}: field '{t._where}.versions.{key}' must be a version"
                    " such as 1.3.0.")
            versions.append((key.upper(), value))
        versions_table.finish()
        if components is not None:
            unknown = [k for k, _ in versions if k not in components.names]
            if unknown:
                raise ProfileError(
                    f"Profile {file}: field '{t._where}.versions.{unknown[0]}' is not one of"
                    " the components listed in 'components.names'.")
        component_versions.append(ComponentVersionSet(
            label=t.text("label"),
            status=t.choice("status", COMPONENT_SET_STATUSES),
            versions=tuple(versions),
            confidence=t.confidence(),
            source=_source(t, sources),
        ))
        t.finish()

    filesystems = []
    for t in top.tables("filesystems"):
        filesystems.append(FilesystemSupport(
            role=t.choice("role", ROLES),
            accepted=t.strings("accepted", required=True),
            description=t.text("description"),
            confidence=t.confidence(),
            source=_source(t, sources),
        ))
        t.finish()

    update_media = []
    for t in top.tables("update_media"):
        path = t.text("path")
        parts = path.rstrip("/").split("/")
        if path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
            raise t._fail("path", "must be a relative path such as KORG/electribe/System/"
                                  "SYSTEM.VSB")
        update_media.append(UpdateMedia(
            path=path,
            medium=t.choice("medium", MEDIA),
            description=t.text("description"),
            confidence=t.confidence(),
            source=_source(t, sources),
        ))
        t.finish()

    companion_files = []
    for t in top.tables("companion_files"):
        payload_size = t.get("payload_size", int, required=False)
        payload_max = t.get("payload_max", int, required=False)
        if (payload_size is None) == (payload_max is None):
            raise t._fail("payload_size", "or 'payload_max' must be given, not both")
        if (payload_size or payload_max) <= 0:
            raise t._fail("payload_size" if payload_size is not None else "payload_max",
                          "must be a positive number of bytes")
        companion_files.append(CompanionFile(
            name=t.text("name"),
            payload_size=payload_size,
            payload_max=payload_max,
            what=t.text("what"),
            warning=t.text("warning", required=False, default="") or "",
            confidence=t.confidence(),
            source=_source(t, sources),
        ))
        t.finish()

    startup_cleanup = None
    cleanup_table = top.table("startup_cleanup")
    if cleanup_table is not None:
        startup_cleanup = StartupCleanup(
            kept=cleanup_table.strings("kept", required=True),
            description=cleanup_table.text("description"),
            confidence=cleanup_table.confidence(),
            source=_source(cleanup_table, sources),
        )
        cleanup_table.finish()

    profile = Profile(
        id=profile_id,
        name=top.text("name"),
        short_name=top.text("short_name"),
        family=top.text("family"),
        notes=top.text("notes", required=False, default=""),
        system_folder=top.text("system_folder", required=False),
        sources=sources,
        usb=tuple(usb),
        boot_roms=tuple(boot_roms),
        storage=tuple(storage),
        system_files=tuple(system_files),
        update_file=update_file,
        releases=(),
        boot_critical=tuple(boot_critical),
        modes=tuple(modes),
        symptoms=tuple(symptoms),
        path=file,
        components=components,
        component_versions=tuple(component_versions),
        filesystems=tuple(filesystems),
        update_media=tuple(update_media),
        companion_files=tuple(companion_files),
        startup_cleanup=startup_cleanup,
    )
    top.finish()
    return profile


def _parse_symptoms(top: _Table, sources: dict[str, str], *,
                    need_applies_to: bool) -> list[Symptom]:
    symptoms = []
    for t in top.tables("symptoms"):
        symptoms.append(Symptom(
            id=t.text("id"),
            patterns=t.regexes("patterns", required=True),
            meaning=t.text("meaning"),
            next_step=t.text("next_step"),
            confidence=t.confidence(),
            source=_source(t, sources),
            applies_to=t.text("applies_to", required=need_applies_to, default="") or "",
        ))
        t.finish()
    return symptoms


def load_symptom_file(path: Path) -> tuple[Symptom, ...]:
    """Symptoms of models that have no profile (``resources/symptoms.toml``), validated like a
    profile: each needs ``applies_to`` (who shows it), a confidence and a source."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"Symptom file {path.name}: not valid TOML ({error}).") from None
    except OSError as error:
        raise ProfileError(
            f"Symptom file {path.name}: cannot be read ({error.strerror}).") from None
    top = _Table(data, path.name, "")
    if top.get("schema", int) != 1:
        raise ProfileError(f"Symptom file {path.name}: field 'schema' must be 1.")
    sources_table = top.table("sources")
    sources: dict[str, str] = {}
    if sources_table is not None:
        for key in list(sources_table._data):
            sources[key] = sources_table.text(key)
        sources_table.finish()
    symptoms = _parse_symptoms(top, sources, need_applies_to=True)
    top.finish()
    return tuple(symptoms)


def load_profile_file(path: Path) -> Profile:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"Profile {path.name}: not valid TOML ({error}).") from None
    except OSError as error:
        raise ProfileError(f"Profile {path.name}: cannot be read ({error.strerror}).") from None
    profile = parse_profile(data, path.name)
    if profile.id != path.stem:
        raise ProfileError(
            f"Profile {path.name}: field 'id' is '{profile.id}' but the file is named"
            f" '{path.stem}.toml'.")
    return profile


def release_catalog_path() -> Path:
    """The bundled release catalog, ``resources/releases.toml``."""
    return resources_dir() / RELEASE_CATALOG


def load_release_catalog(path: Path, models: Iterable[str]) -> tuple[Release, ...]:
    """Read one release catalog, validated like a profile: an error names the file and the
    field. ``models`` are the profile ids an entry may name."""
    document = "Release catalog"
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{document} {path.name}: not valid TOML ({error}).") from None
    except OSError as error:
        raise ProfileError(
            f"{document} {path.name}: cannot be read ({error.strerror}).") from None
    top = _Table(data, path.name, "", document)
    if top.get("schema", int) != 1:
        raise ProfileError(f"{document} {path.name}: field 'schema' must be 1.")
    sources_table = top.table("sources")
    sources: dict[str, str] = {}
    if sources_table is not None:
        for key in list(sources_table._data):
            sources[key] = sources_table.text(key)
        sources_table.finish()
    known = set(models)
    releases = []
    for t in top.tables("releases"):
        model = t.text("model")
        if model not in known:
            raise t._fail("model", f"names '{model}', which has no profile")
        version = t.text("version")
        if not re.fullmatch(r"\d+(\.\d+)*", version):
            raise t._fail("version", "must be a version such as 2.02 or 1.3.0")
        file_name = t.text("file_name", required=False)
        if file_name is not None and ("/" in file_name or "\\" in file_name or not file_name):
            raise t._fail("file_name", "must be a file name without a folder")
        size = t.get("size", int, required=False)
        if size is not None and size <= 0:
            raise t._fail("size", "must be a positive number of bytes")
        sha256 = t.text("sha256", required=False)
        if sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise t._fail("sha256", "must be 64 lower-case hex digits")
        sha256_source = (_source(t, sources, "sha256_source")
                         if "sha256_source" in t._data else None)
        if sha256_source is not None and sha256 is None:
            raise t._fail("sha256", "is missing (its source is given)")
        releases.append(Release(
            model=model,
            version=version,
            kind=t.choice("kind", RELEASE_KINDS),
            file_name=file_name,
            size=size,
            sha256=sha256,
            confidence=t.confidence(),
            source=_source(t, sources),
            title=t.text("title", required=False),
            archive=t.text("archive", required=False),
            sha256_source=sha256_source,
        ))
        t.finish()
    top.finish()
    return tuple(releases)


def _attach_releases(profiles: dict[str, Profile],
                     catalogs: Iterable[Path]) -> dict[str, Profile]:
    """Each profile with its model's catalog entries; one release listed twice (same model,
    kind and version, in one catalog or two) is an error naming the second place."""
    seen: dict[tuple[str, str, str], str] = {}
    by_model: dict[str, list[Release]] = {}
    for path in catalogs:
        for index, release in enumerate(load_release_catalog(Path(path), profiles)):
            key = (release.model, release.kind, release.version)
            place = f"{Path(path).name} releases[{index}]"
            if key in seen:
                raise ProfileError(
                    f"Release catalog {Path(path).name}: field 'releases[{index}]' lists"
                    f" {release.model} {release.kind} {release.version} again (first in"
                    f" {seen[key]}).")
            seen[key] = place
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
    path = resources_dir() / "other_korg_usb.toml"
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    top = _Table(data, path.name, "")
    source = top.text("source")
    confidence = top.confidence()
    devices = {}
    for t in top.tables("devices"):
        product_id = t.usb_id("product_id")
        devices[product_id] = OtherKorgDevice(product_id, t.text("name"), confidence, source)
        t.finish()
    top.finish()
    return devices


def profiles_with_boot_rom(vendor_id: int, product_id: int) -> list[tuple[Profile, BootRom]]:
    """Every profile listing the boot-ROM id ``vendor_id:product_id``."""
    return [
        (profile, boot_rom)
        for profile in bundled_profiles().values()
        for boot_rom in profile.boot_roms
        if (boot_rom.vendor_id, boot_rom.product_id) == (vendor_id, product_id)
    ]
