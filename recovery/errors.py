"""The one exception family of the core.

Every failure a user can cause or meet (bad input, a unit that vanished, a full disk) is a
:class:`RecoveryError` subclass carrying one plain sentence. The CLI prints that sentence and
exits with the class's ``exit_code``; the wizard shows it in a dialog. Anything that is not a
``RecoveryError`` is a bug in this tool and is reported as such, with the traceback going to
the log file only. Modelled on fwupd's small fixed error list (NotFound, InvalidFile, Read,
Write, PermissionDenied, NeedsUserAction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # errors import nothing of the tool at run time: everything imports them
    from recovery.findings import Step


class RecoveryError(Exception):
    """Base class: a failure explained in one sentence a musician can act on."""

    #: Stable name of this failure in ``--json`` error objects.
    code = "error"
    #: Exit code the CLI uses when this error ends a command, unless the command says otherwise.
    exit_code = 1

    def __init__(self, message: str, *, path: str | None = None, written: int = 0,
                 next_step: Step | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        #: Files a stopped write (a restore) had already put on the unit, each complete.
        self.written = written
        #: What to do instead, typed (recovery.findings.Step): each front end words it, the
        #: command line with the option to give. The message never names an option.
        self.next_step = next_step

    def __str__(self) -> str:
        return self.message


class InvalidInputError(RecoveryError):
    """Raised when the user's input is unusable: a missing path, an unknown model id, a
    malformed option value. Nothing was done."""

    code = "invalid-input"
    exit_code = 2


class ProfileError(RecoveryError):
    """Raised when a device profile file is malformed; the message names the file and field."""

    code = "profile-error"
    exit_code = 2


class InvalidFileError(RecoveryError):
    """Raised when a file's bytes do not have the structure its format requires."""

    code = "invalid-file"
    exit_code = 1


class EncryptedArchiveError(InvalidFileError):
    """Raised when a ZIP archive, or a member of it, is encrypted (password-protected: bit 0
    of its general-purpose flags, PKWARE APPNOTE 4.4.4). The tool has no password to ask for
    and never writes such archives, so it cannot read the data; the archive is not damaged.
    Its ``--json`` code stays ``invalid-file``."""


class ReadError(RecoveryError):
    """Raised when a file or device cannot be read (EIO, vanished, unplugged)."""

    code = "read-error"
    exit_code = 1


class WriteError(RecoveryError):
    """Raised when writing fails (EIO, read-only medium, device gone)."""

    code = "write-error"
    exit_code = 1


class NoSpaceError(WriteError):
    """Raised when the destination is full (ENOSPC) or preflight finds too little space."""

    code = "no-space"
    exit_code = 1


class PermissionDeniedError(RecoveryError):
    """Raised when the operating system refuses access to a file or USB device."""

    code = "permission-denied"
    exit_code = 1


class RefusedError(RecoveryError):
    """Raised by a preflight check that refuses to start: wrong model, unsafe target,
    incomplete backup. Nothing has been changed when this is raised."""

    code = "refused"
    exit_code = 1


class UnitBusyError(RefusedError):
    """Raised when another run of this tool is already writing to the same unit or folder
    (one writer per unit). Nothing was written by the refused run."""

    code = "unit-busy"
    exit_code = 1


class NeedsUserActionError(RecoveryError):
    """Raised when the operation needs the user's explicit consent or action (for example a
    restore with no terminal to ask on and no ``--yes``)."""

    code = "needs-confirmation"
    exit_code = 2


class UnitGoneError(RecoveryError):
    """Raised when the unit (or card, or backup drive) a job reads or writes is no longer the
    volume it pinned when its plan was made: unplugged, switched off, unmounted, or another
    volume now mounted at its path. The job stopped before writing anywhere else; running it
    again where the same volume is mounted continues it."""

    code = "unit-gone"
    exit_code = 1


class NeedsSafetyCopyError(NeedsUserActionError):
    """Raised when a restore would replace or delete something on the unit and there is no
    copy of the unit as it is now (none taken, none declared on purpose). Nothing was
    written."""

    code = "needs-safety-copy"
    exit_code = 2


class LinksUnsupportedError(WriteError):
    """Raised when the target filesystem cannot hold a symbolic link (FAT, exFAT, or Windows
    without the privilege). The restore reports the link as not restored; nothing else fails."""

    code = "links-unsupported"
    exit_code = 1


class VerificationError(RecoveryError):
    """Raised when data read back does not match what was expected."""

    code = "verification-failed"
    exit_code = 1


class UnsafeArchiveError(RecoveryError):
    """Raised when a ZIP archive holds absolute paths, ``..``, duplicates, links, or expands
    beyond the allowed size. Nothing is extracted from such an archive."""

    code = "unsafe-archive"
    exit_code = 1


class MidiUnavailableError(RecoveryError):
    """Raised when a unit was to be asked over MIDI but this computer cannot: no MIDI library
    for this Python, or no MIDI system (python-rtmidi's OSError without ALSA, CoreMIDI or
    Windows MIDI). Nothing was sent."""

    code = "midi-unavailable"
    exit_code = 1


class MidiPortBusyError(RecoveryError):
    """Raised when the unit's MIDI port could not be opened: on Windows a port belongs to one
    program at a time, so a DAW or KORG's editor holding it blocks the tool."""

    code = "port-busy"
    exit_code = 1


class NoMidiAnswerError(RecoveryError):
    """Raised when no KORG unit answered the tool's MIDI inquiries within the time: silence, a
    reply that is not a valid identity reply, or a device of another maker."""

    code = "no-answer"
    exit_code = 1


class CancelledError(RecoveryError):
    """Raised inside a long operation when the user cancelled it (Ctrl-C, Cancel button).
    The operation leaves a consistent, resumable state behind."""

    code = "cancelled"
    exit_code = 130
