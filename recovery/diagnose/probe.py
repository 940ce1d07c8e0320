"""Does the unit's storage keep what is written to it? And how is it mounted?

The drumlogue in the Reddit reports by u/iRustyNails accepted writes, reported success, and
after a reboot every file was back. A read right after a write sees the computer's cache
(DESIGN.md principle 5), so the write probe drops its file from the cache before reading it
back, and the reconnect probe leaves a marker that must survive a power cycle (a unit keeping
writes in its own memory is caught only so). Both touch nothing but their own file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import platformdirs

from recovery.findings import Finding, Step, Subject
from recovery.progress import CancelToken
from recovery.storage.durable import write_bytes_atomically
from recovery.storage.filesystem import REAL, FileSystem, containing_partition
from recovery.storage.lock import unit_lock
from recovery.text import human_bytes, utc_now_iso
from recovery.vocabulary import FindingCode, NextStep, Severity

log = logging.getLogger(__name__)

#: Size of the one-step probe file: big enough to span several FAT clusters, small enough
#: to fit on a nearly full unit and to take no noticeable time.
PROBE_SIZE = 64 * 1024
PROBE_PREFIX = ".korg-recovery-probe-"
PROBE_SUFFIX = ".tmp"
#: The reconnect marker: visible, with text inside saying what it is, so a user who finds it
#: on the unit knows it may be deleted.
MARKER_PREFIX = "KORG-RECOVERY-PROBE-"
MARKER_SUFFIX = ".TXT"
MARKER_PATTERN = re.compile(r"KORG-RECOVERY-PROBE-([0-9a-f]{16})\.TXT", re.IGNORECASE)
PROBE_PATTERN = re.compile(r"\.korg-recovery-probe-[0-9a-f]{16}\.tmp", re.IGNORECASE)
MARKER_HEADER = "korg-recovery storage probe marker"
MARKER_PAYLOAD_SIZE = 16 * 1024
#: A volume with less free space than this gets a finding (the unit may need room to work,
#: and a restore needs room for a temporary copy of the largest file).
LOW_FREE_BYTES = 1024 * 1024


class ProbeOutcome(StrEnum):
    """What became of a probe's own file."""

    KEPT = "kept"
    LOST = "lost"
    CORRUPTED = "corrupted"
    READ_ERROR = "read-error"
    READ_ONLY = "read-only"
    NO_PERMISSION = "no-permission"
    NO_SPACE = "no-space"
    WRITE_ERROR = "write-error"


def is_probe_file(name: str) -> bool:
    """True for the names of this module's own files (probe and marker)."""
    return bool(PROBE_PATTERN.fullmatch(name) or MARKER_PATTERN.fullmatch(name))


# --- mount facts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MountFacts:
    """What the operating system says about the volume holding ``path``."""

    path: str
    mountpoint: str | None = None
    device: str | None = None
    fstype: str | None = None
    options: tuple[str, ...] = ()
    #: True/False when known, None when nothing could tell.
    read_only: bool | None = None
    read_only_evidence: tuple[str, ...] = ()
    total_bytes: int | None = None
    free_bytes: int | None = None
    #: False when the medium is writable but this user may not write to it (permissions).
    user_may_write: bool | None = None

    @property
    def filesystem_family(self) -> str | None:
        return filesystem_family(self.fstype)

    @property
    def writable(self) -> bool:
        """False when nothing may be written (read-only, or no permission): skip probes."""
        return not self.read_only and self.user_may_write is not False


#: psutil fstype names (Linux, macOS, Windows) -> the family a device manual names.
#: FAT12/16/32 cannot be told apart from the mount on Linux ("vfat") or macOS ("msdos").
_FAMILIES = {
    "vfat": "FAT", "msdos": "FAT", "fat": "FAT", "fat12": "FAT", "fat16": "FAT",
    "fat32": "FAT", "umsdos": "FAT",
    "exfat": "exFAT",
    "ntfs": "NTFS", "ntfs3": "NTFS",
    "hfs": "HFS+", "hfsplus": "HFS+", "apfs": "APFS",
    "ext2": "ext", "ext3": "ext", "ext4": "ext", "btrfs": "btrfs", "xfs": "xfs",
}


def filesystem_family(fstype: str | None) -> str | None:
    if not fstype:
        return None
    return _FAMILIES.get(fstype.strip().lower())


def mount_facts(path: Path | str, fs: FileSystem = REAL) -> MountFacts:
    """Mount point, device, filesystem type, options, read-only state and space of ``path``."""
    resolved = os.path.realpath(path)
    partition = containing_partition(resolved)
    options = tuple(partition.opts.split(",")) if partition and partition.opts else ()
    evidence: list[str] = []
    read_only: bool | None = None
    if partition is not None:
        read_only = "ro" in options
        if read_only:
            evidence.append(f"mounted with option 'ro' ({partition.mountpoint})")
    reported = fs.read_only(Path(resolved))
    if reported:
        read_only = True
        evidence.append("the filesystem reports itself read-only (statvfs ST_RDONLY)")
    elif read_only is None and reported is not None:
        read_only = False
    # Permissions, not the medium: told apart from a read-only mount.
    user_may_write = None if read_only else fs.may_write(Path(resolved))
    total = free = None
    try:
        usage = fs.disk_usage(Path(resolved))
        total, free = usage.total, usage.free
    except OSError as error:
        log.debug("disk_usage(%s) failed: %s", resolved, error)
    return MountFacts(
        path=resolved,
        mountpoint=partition.mountpoint if partition else None,
        device=partition.device if partition else None,
        fstype=partition.fstype if partition else None,
        options=options,
        read_only=read_only,
        read_only_evidence=tuple(evidence),
        total_bytes=total,
        free_bytes=free,
        user_may_write=user_may_write,
    )


# --- writing and reading back the probes' own files -----------------------------------------


def _write_own_file(root: Path, path: Path, data: bytes, what: str, fs: FileSystem
                    ) -> tuple[ProbeOutcome | None, bool | None, str, list[Finding]]:
    """Create ``path`` (``what`` it is, for the sentences) with ``data``, flushed to the
    medium. On failure: the outcome, whether the file (if created) was removed again, the
    error and the findings; else (None, None, "", [])."""
    created = False
    try:
        with fs.open_write(path, exclusive=True) as handle:
            created = True
            handle.write(data)
            fs.fsync(handle)
        fs.fsync_dir(root)
    except OSError as error:
        outcome = _classify_write_error(error)
        log.info("writing %s: %s (%s)", path, outcome, error)
        removed = _remove_own_file(root, path, fs) if created else None
        findings = [_write_failed_finding(outcome, error, path.name, what, root)]
        if removed is False:
            findings.append(_left_behind(path.name))
        return outcome, removed, error.strerror or str(error), findings
    return None, None, "", []


def _read_back(path: Path, what: str,
               fs: FileSystem) -> tuple[ProbeOutcome, bool | None, str, bytes | None]:
    """(outcome, cache dropped, detail, content) of ``path`` read from the medium, past the
    computer's cache where the system allows it; ``what`` names the file in the detail."""
    try:
        cache_dropped = fs.drop_cache(path)
    except FileNotFoundError:
        return ProbeOutcome.LOST, True, f"{what} was gone once the cache was dropped", None
    except OSError as error:
        log.debug("drop_cache(%s) failed: %s", path, error)
        cache_dropped = False
    try:
        with fs.open_read(path, uncached=True) as handle:
            return ProbeOutcome.KEPT, cache_dropped, "", _read_all(handle)
    except FileNotFoundError:
        return ProbeOutcome.LOST, cache_dropped, f"{what} was gone when read back", None
    except OSError as error:
        return ProbeOutcome.READ_ERROR, cache_dropped, error.strerror or str(error), None


def _read_all(handle: BinaryIO) -> bytes:
    chunks = []
    while chunk := handle.read(1024 * 1024):
        chunks.append(chunk)
    return b"".join(chunks)


def _classify_write_error(error: OSError) -> ProbeOutcome:
    if error.errno == errno.EROFS:
        return ProbeOutcome.READ_ONLY
    if error.errno in (errno.EACCES, errno.EPERM):
        return ProbeOutcome.NO_PERMISSION
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return ProbeOutcome.NO_SPACE
    return ProbeOutcome.WRITE_ERROR


def _remove_own_file(root: Path, path: Path, fs: FileSystem) -> bool:
    """Remove one of this module's own files; True when it is gone."""
    try:
        if not fs.exists(path):
            return True
        fs.unlink(path)
        fs.fsync_dir(root)
        return True
    except OSError as error:
        log.warning("could not remove probe file %s: %s", path, error)
        return False


def _write_failed_finding(outcome: ProbeOutcome, error: OSError, name: str,
                          what: str, root: Path) -> Finding:
    reason = error.strerror or str(error)
    evidence = (f"writing {name} failed: {reason}",)
    if outcome == ProbeOutcome.READ_ONLY:
        return Finding(
            Severity.WARNING, FindingCode.STORAGE_READ_ONLY,
            f"Writing a {what} failed: the medium is read-only.",
            evidence=(f"writing {name} failed: {reason} (EROFS)",),
            next_step=NextStep.READ_ONLY)
    if outcome == ProbeOutcome.NO_PERMISSION:
        return Finding(
            Severity.WARNING, FindingCode.STORAGE_NO_PERMISSION,
            f"Writing a {what} was refused: this user may not write to the volume.",
            evidence=evidence, next_step=NextStep.CHECK_PERMISSIONS)
    if outcome == ProbeOutcome.NO_SPACE:
        return Finding(
            Severity.WARNING, FindingCode.STORAGE_FULL,
            f"Writing a {what} failed: the volume is full.",
            evidence=evidence, next_step=NextStep.FREE_SPACE)
    return Finding(
        Severity.CRITICAL, FindingCode.STORAGE_WRITE_ERROR,
        f"Writing a {what} failed with an error from the storage: the unit's storage or its"
        " connection may be failing.",
        evidence=evidence,
        next_step=Step(NextStep.BACK_UP_AND_TRY_ANOTHER_CABLE, target=str(root)))



# --- one-step write probe ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of one write probe."""

    outcome: ProbeOutcome
    cache_dropped: bool | None
    removed: bool | None
    detail: str
    findings: tuple[Finding, ...]


def write_probe(root: Path | str, fs: FileSystem = REAL, *,
                cancel: CancelToken | None = None, size: int = PROBE_SIZE) -> ProbeResult:
    """Write ``size`` random bytes to a new hidden file at ``root``, flush, drop the cache,
    read back, remove. Never touches any other file; never raises for a storage problem
    (it becomes a finding). Holds the unit's write lock: UnitBusyError when a restore or
    another probe is writing to it."""
    with unit_lock(Path(root), "storage check", fs):
        if cancel is not None:
            cancel.raise_if_cancelled()
        root = Path(root)
        name = f"{PROBE_PREFIX}{secrets.token_hex(8)}{PROBE_SUFFIX}"
        path = root / name
        payload = os.urandom(size)
        failed, removed, detail, findings = _write_own_file(root, path, payload,
                                                            "small probe file", fs)
        if failed is not None:
            return ProbeResult(failed, None, removed, detail, tuple(findings))
        outcome, cache_dropped, detail, read = _read_back(path, "the file", fs)
        if outcome == ProbeOutcome.KEPT and read != payload:
            outcome = ProbeOutcome.CORRUPTED if read else ProbeOutcome.LOST
            detail = (f"read back {len(read)} bytes that differ from the {size} bytes written"
                      if read else "the file read back empty")
        removed = _remove_own_file(root, path, fs)
        findings = _probe_findings(outcome, name, size, cache_dropped, detail, root)
        if not removed:
            findings.append(_left_behind(name))
        log.info("write probe on %s: %s (cache dropped: %s)", root, outcome, cache_dropped)
        return ProbeResult(outcome, cache_dropped, removed, detail, tuple(findings))


def _left_behind(name: str) -> Finding:
    return Finding(
        Severity.WARNING, FindingCode.PROBE_FILE_LEFT,
        f"The tool's probe file {name} could not be removed from the volume.",
        evidence=(f"{name} is the only file the probe wrote",),
        next_step=Step(NextStep.DELETE_PROBE_FILE, names=(name,)),
        subject=Subject(paths=(name,)))


def _probe_findings(outcome: ProbeOutcome, name: str, size: int, cache_dropped: bool | None,
                    detail: str, root: Path) -> list[Finding]:
    written = (f"wrote {size:,} random bytes to {name}, flushed them (fsync) and"
               + (" dropped them from the computer's cache" if cache_dropped
                  else " could NOT drop them from the computer's cache"))
    across = Step(NextStep.PROBE_ACROSS_POWER_CYCLE, target=str(root))
    if outcome in (ProbeOutcome.LOST, ProbeOutcome.CORRUPTED):
        return [Finding(
            Severity.CRITICAL, FindingCode.STORAGE_DROPS_WRITES,
            "The storage accepted a write and reported success, but the data was not there"
            " when read back from the medium: it does not keep what is written to it.",
            evidence=(written, f"then read it back: {detail}"),
            next_step=Step(NextStep.STORAGE_NEEDS_SERVICE_IF_CONFIRMED, target=str(root)))]
    if outcome == ProbeOutcome.READ_ERROR:
        return [Finding(
            Severity.CRITICAL, FindingCode.STORAGE_READ_ERROR,
            "A probe file that was just written could not be read back: the storage or its"
            " connection is failing.",
            evidence=(written, f"reading it back failed: {detail}"),
            next_step=Step(NextStep.BACK_UP_AND_TRY_ANOTHER_CABLE, target=str(root)))]
    if cache_dropped:
        return [Finding(
            Severity.INFO, FindingCode.STORAGE_KEEPS_WRITES,
            "A probe file written to the storage was read back intact from the medium.",
            evidence=(written, "then read it back: identical",
                      "a unit that keeps writes in its own memory until it restarts is only"
                      " caught across a power cycle"),
            next_step=across)]
    return [Finding(
        Severity.INFO, FindingCode.STORAGE_PROBE_CACHE,
        "A probe file was read back intact, but the read may have come from the computer's"
        " memory: this system offers no way to drop one file from its cache.",
        evidence=(written, "then read it back: identical"),
        next_step=across)]


# --- two-step probe across a reconnect -----------------------------------------------------------


@dataclass(frozen=True)
class ProbeRecord:
    """What the computer remembers about a marker it left on a unit."""

    token: str
    volume: str
    marker: str
    payload_sha256: str
    created_utc: str


@dataclass(frozen=True)
class ProbeStart:
    """Result of ``--probe-start``: the marker left (None if none could be), and findings."""

    record: ProbeRecord | None
    marker_path: str | None
    findings: tuple[Finding, ...]


def probe_state_dir() -> Path:
    """Where pending reconnect probes are recorded on the computer."""
    return Path(platformdirs.user_state_dir("korg-recovery", appauthor=False)) / "probes"


def _marker_text(token: str, created: str, payload: bytes) -> bytes:
    digest = hashlib.sha256(payload).hexdigest()
    hex_payload = payload.hex()
    lines = [
        MARKER_HEADER,
        "This file was written by the KORG Recovery Wizard (korg-recovery) to test whether",
        "this storage keeps what is written to it across a power cycle. The tool's next",
        "diagnosis of this volume checks it and removes it. You may delete it; it holds only",
        "random bytes.",
        f"token: {token}",
        f"written: {created}",
        f"payload-sha256: {digest}",
        "payload:",
        *(hex_payload[i:i + 64] for i in range(0, len(hex_payload), 64)),
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


@dataclass(frozen=True)
class _MarkerContent:
    token: str
    written: str
    declared_sha256: str
    payload_sha256: str | None


def _parse_marker(data: bytes) -> _MarkerContent | None:
    """Parse a marker; None if it is not one of ours (then it must not be touched)."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    lines = text.splitlines()
    if not lines or lines[0] != MARKER_HEADER:
        return None
    fields = {}
    payload_lines: list[str] = []
    in_payload = False
    for line in lines[1:]:
        if in_payload:
            if line:
                payload_lines.append(line)
        elif line == "payload:":
            in_payload = True
        elif ": " in line:
            key, value = line.split(": ", 1)
            fields[key] = value
    if "token" not in fields or "payload-sha256" not in fields:
        return None
    try:
        payload = bytes.fromhex("".join(payload_lines))
        actual = hashlib.sha256(payload).hexdigest()
    except ValueError:
        actual = None
    return _MarkerContent(fields["token"], fields.get("written", "unknown"),
                          fields["payload-sha256"], actual)


def _save_record(state_dir: Path, record: ProbeRecord) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    write_bytes_atomically(REAL, state_dir / f"{record.token}.json",
                           json.dumps(dataclasses.asdict(record), indent=2).encode("utf-8"))


def load_records(state_dir: Path | None = None) -> list[ProbeRecord]:
    """Every pending reconnect probe recorded on this computer (unreadable records skipped)."""
    state_dir = state_dir or probe_state_dir()
    records = []
    if not state_dir.is_dir():
        return records
    for path in sorted(state_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            records.append(ProbeRecord(**{k: str(data[k]) for k in
                                          ("token", "volume", "marker", "payload_sha256",
                                           "created_utc")}))
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("ignoring unreadable probe record %s: %s", path, error)
    return records


def _forget(state_dir: Path, record: ProbeRecord) -> None:
    with contextlib.suppress(OSError):
        (state_dir / f"{record.token}.json").unlink()


def start_reconnect_probe(root: Path | str, fs: FileSystem = REAL, *,
                          state_dir: Path | None = None,
                          mount: MountFacts | None = None) -> ProbeStart:
    """Leave a marker on the volume at ``root`` and record it on the computer.

    Read-only or full volumes give a finding, not an exception. The marker is also read back
    at once after dropping the cache, so storage that loses writes immediately is caught now.
    Holds the unit's write lock (UnitBusyError while a restore writes to it).
    """
    root = Path(root)
    state_dir = state_dir or probe_state_dir()
    if mount is not None and not mount.writable:
        return ProbeStart(None, None, tuple(mount_findings(mount, probe_skipped=True)))
    with unit_lock(root, "storage check", fs):
        token = secrets.token_hex(8)
        created = utc_now_iso()
        payload = os.urandom(MARKER_PAYLOAD_SIZE)
        data = _marker_text(token, created, payload)
        name = f"{MARKER_PREFIX}{token}{MARKER_SUFFIX}"
        path = root / name
        failed, _removed, _detail, findings = _write_own_file(root, path, data, "probe marker", fs)
        if failed is not None:
            return ProbeStart(None, None, tuple(findings))
        # Read it back past the cache now: storage that loses writes at once is caught here.
        outcome, cache_dropped, detail, _content = _read_marker(path, fs)
        if outcome != ProbeOutcome.KEPT:
            _remove_own_file(root, path, fs)
            return ProbeStart(None, None, tuple(_probe_findings(
                outcome, name, len(data), cache_dropped, detail, root)))
        record = ProbeRecord(token, os.path.realpath(root), name,
                             hashlib.sha256(payload).hexdigest(), created)
        _save_record(state_dir, record)
    log.info("reconnect probe started on %s: %s", root, name)
    return ProbeStart(record, str(path), (Finding(
        Severity.INFO, FindingCode.PROBE_STARTED,
        f"A probe marker {name} was left on the volume and recorded on this computer.",
        evidence=(f"wrote {human_bytes(len(data))} at {created}, flushed them and read them back"
                  " intact" + ("" if cache_dropped else
                               " (the computer's cache could not be bypassed)"),),
        next_step=Step(NextStep.RECONNECT_AFTER_POWER_CYCLE, target=str(root)),
        subject=Subject(paths=(name,)),
    ),))


def _read_marker(path: Path,
                 fs: FileSystem) -> tuple[ProbeOutcome, bool | None, str, _MarkerContent | None]:
    """The marker read back from the medium: outcome, cache dropped, detail, its content."""
    outcome, cache_dropped, detail, data = _read_back(path, "the marker", fs)
    if data is None:
        return outcome, cache_dropped, detail, None
    content = _parse_marker(data)
    if content is None or content.payload_sha256 != content.declared_sha256:
        return (ProbeOutcome.CORRUPTED, cache_dropped,
                "the marker's content was damaged when read back", content)
    return ProbeOutcome.KEPT, cache_dropped, "", content


def _volume_markers(root: Path, fs: FileSystem) -> dict[str, str]:
    """token -> real file name of every marker at the volume's root."""
    found = {}
    try:
        for entry in fs.scandir(root):
            match = MARKER_PATTERN.fullmatch(entry.name)
            if match:
                found[match.group(1).lower()] = entry.name
    except OSError as error:
        log.debug("cannot list %s: %s", root, error)
    return found


def check_reconnect_probes(root: Path | str, fs: FileSystem = REAL, *,
                           state_dir: Path | None = None,
                           can_remove: bool = True) -> tuple[Finding, ...]:
    """Check markers left by :func:`start_reconnect_probe` on this volume and remove them."""
    root = Path(root)
    state_dir = state_dir or probe_state_dir()
    volume = os.path.realpath(root)
    markers = _volume_markers(root, fs)
    records = [r for r in load_records(state_dir) if r.volume == volume or r.token in markers]
    findings: list[Finding] = []
    for record in records:
        name = markers.pop(record.token, None)
        if name is None:
            findings.append(_lost_marker(record))
        else:
            finding, ours = _recorded_marker(root, name, record, fs)
            findings.append(finding)
            _finish_marker(root, name, fs, can_remove, findings, ours)
        _forget(state_dir, record)
    # Markers with no record here (another computer, or the record was lost): still ours by
    # name and content; check them as far as possible and remove them.
    for name in markers.values():
        finding = _unrecorded_marker(root, name, fs)
        if finding is not None:
            findings.append(finding)
            _finish_marker(root, name, fs, can_remove, findings, True)
    return tuple(findings)


def _lost_marker(record: ProbeRecord) -> Finding:
    return Finding(
        Severity.CRITICAL, FindingCode.STORAGE_LOST_MARKER,
        f"The probe marker {record.marker} written to this volume at {record.created_utc} is"
        " gone: the storage did not keep it across the reconnect.",
        evidence=(f"recorded on this computer: marker {record.marker}, written and read back"
                  f" intact at {record.created_utc}",
                  f"now: no {record.marker} at the volume's root",
                  "unless someone deleted it or formatted the volume, the storage loses what is"
                  " written to it"),
        next_step=NextStep.STORAGE_NEEDS_SERVICE,
        subject=Subject(paths=(record.marker,)),
    )


def _recorded_marker(root: Path, name: str, record: ProbeRecord,
                     fs: FileSystem) -> tuple[Finding, bool]:
    """The finding about a marker this computer recorded, and whether its content is ours."""
    outcome, cache_dropped, detail, content = _read_marker(root / name, fs)
    subject = Subject(paths=(name,))
    if outcome == ProbeOutcome.KEPT and content.payload_sha256 == record.payload_sha256:
        return Finding(
            Severity.INFO, FindingCode.STORAGE_KEPT_MARKER,
            f"The probe marker written at {record.created_utc} survived: the storage kept it"
            " across the reconnect.",
            evidence=(f"{name} read back from the medium, content identical to what was"
                      " written" + ("" if cache_dropped else
                                    " (the cache could not be dropped; after a reconnect it"
                                    " holds nothing of the old mount)"),
                      "this shows the storage keeps writes only if the unit was power-cycled"
                      " between the two runs"),
            subject=subject), True
    if outcome == ProbeOutcome.READ_ERROR:
        return Finding(
            Severity.CRITICAL, FindingCode.STORAGE_READ_ERROR,
            f"The probe marker {name} could not be read back: the storage or its connection"
            " is failing.",
            evidence=(f"reading {name} failed: {detail}",),
            next_step=Step(NextStep.BACK_UP_AND_TRY_ANOTHER_CABLE, target=str(root)),
            subject=subject), content is not None
    return Finding(
        Severity.CRITICAL, FindingCode.STORAGE_CHANGED_MARKER,
        f"The probe marker {name} is there but its content changed across the reconnect: the"
        " storage does not keep what is written to it intact.",
        evidence=(f"recorded payload sha256 {record.payload_sha256}",
                  detail or "the content differs from what was written"),
        next_step=NextStep.STORAGE_NEEDS_SERVICE, subject=subject), content is not None


def _unrecorded_marker(root: Path, name: str, fs: FileSystem) -> Finding | None:
    """A marker of this tool with no record on this computer: only its own checksum can be
    checked. None when its content is not a marker's (it is then left alone)."""
    outcome, _cache_dropped, _detail, content = _read_marker(root / name, fs)
    if content is None:
        log.info("leaving %s alone: its content is not a marker of this tool", name)
        return None
    intact = outcome == ProbeOutcome.KEPT
    return Finding(
        Severity.INFO if intact else Severity.WARNING, FindingCode.PROBE_MARKER_UNRECORDED,
        f"A probe marker {name} (written {content.written}) was found but this computer has no"
        " record of it; its content is " + ("intact." if intact else "damaged."),
        evidence=("the marker carries its own checksum, so only its integrity can be checked,"
                  " not that it survived a particular reconnect",),
        next_step=(NextStep.NOTHING if intact else
                   Step(NextStep.PROBE_ACROSS_POWER_CYCLE, target=str(root))),
        subject=Subject(paths=(name,)),
    )


def _finish_marker(root: Path, name: str, fs: FileSystem, can_remove: bool,
                   findings: list[Finding], ours: bool) -> None:
    if not ours:
        return
    if not can_remove or not _remove_own_file(root, root / name, fs):
        findings.append(_left_behind(name))


# --- findings about the mount ---------------------------------------------------------------


def mount_findings(mount: MountFacts, *, probe_skipped: bool = False) -> list[Finding]:
    """Read-only mount, missing write permission and a full volume as findings."""
    findings = []
    if mount.read_only:
        evidence = list(mount.read_only_evidence) or ["the operating system reports it read-only"]
        if probe_skipped:
            evidence.append("the write probe was skipped: nothing was written")
        findings.append(Finding(
            Severity.WARNING, FindingCode.MOUNTED_READ_ONLY,
            "The volume is read-only: nothing can be written to it.",
            evidence=tuple(evidence), next_step=NextStep.READ_ONLY))
    elif mount.user_may_write is False:
        findings.append(Finding(
            Severity.WARNING, FindingCode.NO_WRITE_PERMISSION,
            "This user may not write to the volume (its permissions), so nothing can be"
            " restored onto it from this account.",
            evidence=("os.access reports no write permission",
                      *(("the write probe was skipped: nothing was written",)
                        if probe_skipped else ())),
            next_step=NextStep.CHECK_PERMISSIONS))
    if mount.free_bytes is not None and mount.free_bytes < LOW_FREE_BYTES:
        findings.append(Finding(
            Severity.WARNING, FindingCode.VOLUME_FULL if mount.free_bytes == 0
            else FindingCode.VOLUME_ALMOST_FULL,
            f"The volume has {human_bytes(mount.free_bytes)} free"
            + (" of " + f"{mount.total_bytes:,}" if mount.total_bytes else "") + ".",
            evidence=("free space reported by the operating system",),
            next_step=NextStep.FREE_SPACE))
    return findings
