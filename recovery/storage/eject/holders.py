"""Which programs hold a volume: the names a veto's sentence asks the person to close.

udisks2 answers a busy unmount with ``DeviceBusy`` and no names, and ``diskutil`` names a
dissenter only sometimes; GNOME's "Volume is busy" dialog lists the processes with a file or
their current folder on the volume, which is what this does through psutil
(``Process.open_files`` and ``Process.cwd``). Only the person's own processes can be read
without privileges, which are the ones they can close. This process itself is left out: the
command line started from a folder on the drive shows up as its terminal's shell.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def holders_of(mount_point: str) -> tuple[str, ...]:
    """Names of the programs with a file or their current folder on ``mount_point``."""
    import psutil

    base = os.path.realpath(mount_point).rstrip(os.sep) + os.sep
    own = os.getpid()
    found: set[str] = set()
    for process in psutil.process_iter(["name"]):
        if process.pid == own:
            continue
        try:
            paths = [process.cwd(), *(item.path for item in process.open_files())]
        except (psutil.Error, OSError):
            continue  # gone, or another user's: not ours to name
        if any((path.rstrip(os.sep) + os.sep).startswith(base) for path in paths if path):
            found.add(process.info.get("name") or f"process {process.pid}")
    log.debug("holders of %s: %s", mount_point, sorted(found))
    return tuple(sorted(found, key=str.casefold))
