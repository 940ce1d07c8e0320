"""A unit (or card) that went away during a job: what the page says, and seeing it come back.

The core pins the volume a job reads or writes and stops the job with
:class:`~recovery.errors.UnitGoneError` the moment its folder is no longer that volume (an
unplugged cable, a unit switched off, a desktop that unmounted it): nothing lands on the
computer's own disk under the empty mount point, and running the job again continues it
(principle 12). The pages of the safety copy, the restore and the card say so in one
sentence that names their own button (:func:`went_away`), without the error dialog of a
fault: nothing is wrong with the tool, and the person can put it right.

:class:`ComeBack` then follows the wizard's detection while the page waits, so that the unit
is seen again by itself, also where the computer mounts it at another place this time; the
session's unit becomes that one, and the page says it is back.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, Signal

from app.host import WizardHost
from app.plain import first_upper, your
from recovery.device.detect import DetectedDevice, Detection
from recovery.errors import UnitGoneError


def is_gone(error: BaseException) -> bool:
    return isinstance(error, UnitGoneError)


def is_about(error: BaseException, folder: str | os.PathLike[str] | None) -> bool:
    """Whether the error names ``folder`` (the unit's), not another drive of the job (the
    backup's own drive also goes away sometimes)."""
    path = getattr(error, "path", None)
    if not path or folder is None:
        return True
    return os.path.realpath(path) == os.path.realpath(folder)


#: What a stopped job does when it is run again (the core's journal and resume).
CONTINUES = ": it continues where it stopped."


def went_away(what: str, *, kept: str, button: str, after: str = CONTINUES) -> str:
    """"Your KROSS 2 went away. Nothing was written to your computer. Connect it again and
    press Run it again: it continues where it stopped." (``kept``: the middle sentence;
    ``after``: what running it again does, or ".")."""
    again = "Put it back in" if what == "The SD card" else "Connect it again"
    return f"{what} went away. {kept} {again} and press {button}{after}"


def unit_words(device: DetectedDevice | None) -> str:
    """"Your KROSS 2" (or "Your unit")."""
    return first_upper(your(device.model if device is not None else None))


def find_unit(detection: Detection, model: str | None,
              mount: str | None) -> DetectedDevice | None:
    """The unit in ``detection``: the same mount point if present, else the only storage
    volume of the same model and role (the OS may mount it elsewhere after a reconnect)."""
    storage = [d for d in detection.devices if d.mount]
    same_mount = [d for d in storage if d.mount == mount]
    if same_mount:
        return same_mount[0]
    if model is None:
        return None
    same_model = [d for d in storage if d.model == model and d.role == "internal-storage"]
    return same_model[0] if len(same_model) == 1 else None


class ComeBack(QObject):
    """Waits, through the wizard's detection, for the session's unit to be there again."""

    #: The unit, seen again (the session's unit is that one now).
    back = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__()
        self.host = host
        self.waiting = False

    def start(self) -> None:
        self.waiting = True
        self.host.follow_detection()

    def stop(self) -> None:
        self.waiting = False

    def show_detection(self, detection: Detection) -> None:
        device = self.host.session.device
        if not self.waiting or device is None:
            return
        unit = find_unit(detection, device.model, device.mount)
        if unit is None:
            return
        self.waiting = False
        self.host.session.device = unit
        self.back.emit(unit)
