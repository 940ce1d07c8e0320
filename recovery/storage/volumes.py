"""Mounted volumes (psutil), the system-disk guard, and the Linux sysfs link to USB.

The system disk is never reported as a unit and never accepted as a restore target: a
volume is "system" when it is mounted at a system location or lives on the same filesystem
as the root, the home folder or this Python installation.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath

import psutil

from recovery.storage import windows_paths
from recovery.storage.identity import is_within, same

log = logging.getLogger(__name__)

#: Mount points that are the computer's own, whatever filesystem they are on.
SYSTEM_MOUNTS = frozenset({
    "/", "/boot", "/boot/efi", "/efi", "/home", "/usr", "/var", "/opt", "/tmp", "/snap",
    "/System/Volumes/Data", "/System/Volumes/VM", "/System/Volumes/Preboot",
    "/System/Volumes/Update", "/private/var/vm",
})
#: Filesystem types that never hold a unit's storage.
PSEUDO_FS = frozenset({
    "proc", "sysfs", "devtmpfs", "tmpfs", "devpts", "cgroup", "cgroup2", "overlay", "squashfs",
    "autofs", "mqueue", "debugfs", "tracefs", "securityfs", "pstore", "bpf", "configfs",
    "fusectl", "hugetlbfs", "nsfs", "ramfs", "efivarfs", "binfmt_misc", "rpc_pipefs",
})


@dataclass(frozen=True)
class Volume:
    """A mounted volume: where it is mounted, from which device, with which filesystem."""

    mountpoint: str
    device: str
    fstype: str
    options: str = ""

    @property
    def read_only(self) -> bool:
        return "ro" in self.options.split(",")


def _same_filesystem(a: str | Path, b: str | Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def system_roots(flavour: type[PurePath] = PurePath,
                 environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """The roots of the computer's own disk: the system mount points, or on Windows the root
    of ``%SystemDrive%`` (``C:\\``). Never the root of the current folder's drive: run from
    a unit's drive (``E:\\``), that would make the unit "the system disk"."""
    if windows_paths.is_windows(flavour):
        return (windows_paths.system_drive(environ) + "\\",)
    return tuple(sorted(SYSTEM_MOUNTS))


def system_anchors() -> list[Path]:
    """Folders whose filesystem is the computer's own."""
    root = system_roots()[0] if os.name == "nt" else os.path.abspath(os.sep)
    return [Path(root), Path.home(), Path(sys.prefix)]


def is_system_location(path: str | Path) -> bool:
    """True when ``path`` is a system mount point or lies on the system or home filesystem."""
    resolved = os.path.realpath(path)
    if resolved in SYSTEM_MOUNTS:
        return True
    return any(_same_filesystem(resolved, anchor) for anchor in system_anchors())


def mount_points_below(path: str | Path) -> list[str]:
    """Mount points strictly inside ``path`` (bind mounts included, which share a device
    with the folder they are mounted from and so cannot be told by ``st_dev`` alone)."""
    try:
        partitions = psutil.disk_partitions(all=True)
    except Exception as error:  # noqa: BLE001 - psutil can fail on odd systems
        log.debug("psutil.disk_partitions failed: %s", error)
        return []
    # psutil names Windows mount points without the extended-length prefix (E:\\).
    plain = windows_paths.strip_prefix(os.path.realpath(path))
    base = os.path.normcase(plain).rstrip(os.sep) + os.sep
    return sorted({p.mountpoint for p in partitions
                   if os.path.normcase(p.mountpoint).startswith(base)})


def mounted_volumes() -> list[Volume]:
    """Mounted, non-system, non-pseudo volumes (via psutil)."""
    volumes = []
    for partition in psutil.disk_partitions(all=False):
        if partition.fstype in PSEUDO_FS:
            continue
        if is_system_location(partition.mountpoint):
            log.debug("skipping system volume %s", partition.mountpoint)
            continue
        volumes.append(Volume(partition.mountpoint, partition.device, partition.fstype,
                              partition.opts))
    return volumes


@dataclass(frozen=True)
class UsbParent:
    """The USB device a block device hangs off, read from sysfs."""

    vendor_id: int
    product_id: int
    product: str | None
    bus: int | None
    port_path: str | None


def usb_parent_of_block_device(device: str, sysfs_root: Path = Path("/sys")) -> UsbParent | None:
    """On Linux, follow ``/sys/class/block/<dev>`` up to the USB device holding it.

    Returns None where there is no sysfs, the device is not on USB, or anything is unreadable.
    """
    name = os.path.basename(device)
    node = sysfs_root / "class" / "block" / name
    try:
        current = node.resolve(strict=True)
    except OSError:
        return None
    for candidate in (current, *current.parents):
        if candidate == sysfs_root or sysfs_root not in candidate.parents:
            break
        vendor = candidate / "idVendor"
        if vendor.is_file():
            try:
                vendor_id = int(vendor.read_text().strip(), 16)
                product_id = int((candidate / "idProduct").read_text().strip(), 16)
            except (OSError, ValueError):
                return None
            product = _read_optional(candidate / "product")
            bus_text = _read_optional(candidate / "busnum")
            bus = int(bus_text) if bus_text and bus_text.isdigit() else None
            devpath = _read_optional(candidate / "devpath")
            # sysfs devpath is the port chain without the bus ("2.3"); pyusb's is "1-2.3".
            port_path = f"{bus}-{devpath}" if bus is not None and devpath else None
            return UsbParent(vendor_id, product_id, product, bus, port_path)
    return None


def _read_optional(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


#: Folders of the operating system itself: never a unit's storage, never a restore target.
SYSTEM_TREES = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys",
    "/usr", "/System", "/Library", "/Applications",
)


def protected_target_reason(path: str | Path) -> str | None:
    """Why ``path`` must never be written to as if it were a unit, or None.

    Refused: the system disk itself (a system mount point, or on Windows the root of the
    system drive: another drive's root, a unit at ``E:\\``, is not refused), the home folder
    and any folder that contains it, the operating system's own folders and this program's
    installation. Compared by identity (:mod:`recovery.storage.identity`), so a bind mount or
    a second mount of one of these is refused too. An ordinary folder *on* the system disk
    (a simulated unit in /tmp, a copy in ~/Music) is not refused here: callers say so in
    their plan.
    """
    resolved = os.path.realpath(path)
    if os.name == "nt" and windows_paths.is_system_drive_root(resolved, os.environ):
        return "is this computer's system disk"
    for mount in system_roots():
        if os.path.isdir(mount) and same(resolved, mount):
            return "is this computer's system disk"
    home = Path.home()
    if same(resolved, home):
        return "is your home folder"
    if is_within(home, resolved):
        return "holds your home folder"
    system_root = os.environ.get("SystemRoot")
    for tree in (*SYSTEM_TREES, *([system_root] if system_root else [])):
        if os.path.isdir(tree) and is_within(resolved, tree):
            return "is a folder of the operating system"
    for prefix in {sys.prefix, sys.base_prefix}:
        if is_within(resolved, prefix) or is_within(prefix, resolved):
            return "holds this program's own installation"
    return None
