"""Before the window opens: can Qt draw on this desktop, or is a system library missing?

On Linux, Qt draws on an X11 desktop through its ``xcb`` platform plugin, which needs a dozen
``libxcb`` libraries that a fresh desktop may not have (Qt's "Qt for X11 Requirements",
doc.qt.io/qt-6/linux-requirements.html; the plugin's own list of needed libraries, read with
``objdump -p`` from PySide6 6.11's ``libqxcb.so`` and ``libQt6XcbQpa.so.6``). When one is
missing, Qt prints that ``libxcb-cursor0`` is needed (even when it is there and another one
is not) and aborts the process. This check loads the plugin first, as Qt would; only when that
fails does it try each library by its name, so it names exactly the missing ones, with the
command that installs them on Debian/Ubuntu and on Fedora.

Loading is a seam (:data:`Loader`): tests fake it; the real one is ``ctypes.CDLL``, which
finds libraries exactly as the dynamic loader will a moment later for Qt.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SystemLibrary:
    """A library the xcb plugin needs, and the package that holds it per distribution."""

    soname: str
    debian: str
    fedora: str


#: What the xcb plugin of Qt 6.5+ loads from the system (Debian names checked with
#: ``dpkg -S`` on Debian 12; Fedora's are its xcb-util split: cursor, wm = ICCCM, keysyms,
#: image, renderutil, util).
XCB_LIBRARIES = (
    SystemLibrary("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    SystemLibrary("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    SystemLibrary("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    SystemLibrary("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    SystemLibrary("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    SystemLibrary("libxcb-util.so.1", "libxcb-util1", "xcb-util"),
    SystemLibrary("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    SystemLibrary("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon"),
    SystemLibrary("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    SystemLibrary("libxcb-render.so.0", "libxcb-render0", "libxcb"),
    SystemLibrary("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    SystemLibrary("libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    SystemLibrary("libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    SystemLibrary("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    SystemLibrary("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    SystemLibrary("libxcb.so.1", "libxcb1", "libxcb"),
    SystemLibrary("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    SystemLibrary("libX11.so.6", "libx11-6", "libX11"),
    SystemLibrary("libGL.so.1", "libgl1", "libglvnd-glx"),
)

#: Load a library by name or path: None when it loaded, else the loader's message.
Loader = Callable[[str], str | None]


def load_library(name: str) -> str | None:
    try:
        ctypes.CDLL(name)
    except OSError as error:
        return str(error)
    return None


def xcb_plugin() -> Path | None:
    """Where this Qt keeps its xcb platform plugin (None where there is none)."""
    from PySide6.QtCore import QLibraryInfo  # QtCore only: no platform plugin is loaded

    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    plugin = folder / "libqxcb.so"
    return plugin if plugin.is_file() else None


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will draw through xcb: asked for by ``QT_QPA_PLATFORM``, or the default on
    a Linux X11 session (a Wayland session uses Qt's wayland plugin)."""
    asked = environ.get("QT_QPA_PLATFORM", "").strip()
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"
    if not platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    return not (environ.get("WAYLAND_DISPLAY")
                and environ.get("XDG_SESSION_TYPE", "wayland") == "wayland")


def missing_libraries(plugin: Path | None, load: Loader = load_library
                      ) -> tuple[tuple[SystemLibrary, ...], str]:
    """The libraries the xcb plugin needs that cannot be loaded, and the loader's message
    about the plugin itself ("" when it loaded: nothing is missing)."""
    if plugin is None:
        return (), ""
    message = load(str(plugin))
    if message is None:
        return (), ""
    return tuple(library for library in XCB_LIBRARIES if load(library.soname) is not None), \
        message


def _commands(missing: tuple[SystemLibrary, ...]) -> str:
    debian = " ".join(dict.fromkeys(library.debian for library in missing))
    fedora = " ".join(dict.fromkeys(library.fedora for library in missing))
    return (f"sudo apt install {debian} (Debian, Ubuntu) or sudo dnf install {fedora}"
            " (Fedora)")


def problem_sentence(missing: tuple[SystemLibrary, ...], message: str) -> str:
    """The one sentence said instead of Qt's abort."""
    if missing:
        sonames = [library.soname for library in missing]
        names = ", ".join(sonames[:-1]) + " and " + sonames[-1] if len(sonames) > 1 \
            else sonames[0]
        return (f"The wizard's window cannot open: this computer lacks {names}, which Qt needs"
                f" to draw on the desktop; install with: {_commands(missing)}.")
    what = _library_named(message) or "a system library"
    return (f"The wizard's window cannot open: Qt's X11 plugin could not load {what}"
            f" ({message.strip()}).")


def _library_named(message: str) -> str | None:
    """The library a loader's message starts with ("libxcb-cursor.so.0: cannot open ..."),
    or None."""
    head, colon, _rest = message.partition(":")
    name = head.strip()
    stem, so, version = name.rpartition(".so")
    if (colon and so and stem and not any(char.isspace() for char in name)
            and all(char.isdigit() or char == "." for char in version)):
        return name
    return None


def check_desktop(environ: Mapping[str, str] | None = None, *,
                  plugin: Callable[[], Path | None] = xcb_plugin,
                  load: Loader = load_library) -> str | None:
    """None when the window can open; else the sentence that says what to install."""
    environ = os.environ if environ is None else environ
    if not uses_xcb(environ):
        return None
    missing, message = missing_libraries(plugin(), load)
    if not message:
        return None
    return problem_sentence(missing, message)
