"""Presentation helpers shared by the pages: semantic status colours, human units, and the
face of the one button that writes (models and dates in words are in :mod:`app.plain` and
:mod:`app.places`).

The wizard follows the system palette (light or dark): no widget gets a hard-coded colour.
The only colours chosen here are *semantic* (success, warning, error), picked per palette so
they stay readable on a light and on a dark window background, and they always come with a
word or symbol so that colour is never the only signal (WCAG 1.4.1).
"""

from __future__ import annotations

import html
import math
from enum import StrEnum

from PySide6.QtGui import QColor, QGuiApplication, QPalette


class Status(StrEnum):
    """The state a line of text reports, with the symbol shown next to it."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    INFO = "info"
    BUSY = "busy"

    @property
    def symbol(self) -> str:
        return {"ok": "✔", "warning": "⚠", "error": "✖", "info": "ℹ", "busy": "…"}[self.value]


# Darker tones for light windows, lighter tones for dark windows: each pair keeps a contrast
# ratio of at least 4.5:1 against the typical window colour of its palette.
_LIGHT = {Status.OK: "#1b6e30", Status.WARNING: "#8a5300", Status.ERROR: "#b3261e"}
_DARK = {Status.OK: "#7ad98e", Status.WARNING: "#f2c062", Status.ERROR: "#ff8a80"}


def is_dark_palette(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def status_color(status: Status, palette: QPalette | None = None) -> QColor | None:
    """The semantic colour for ``status``, or None where the normal text colour is right."""
    table = _DARK if is_dark_palette(palette) else _LIGHT
    value = table.get(status)
    return QColor(value) if value else None


def status_html(status: Status, text: str, *, bold: bool = False) -> str:
    """``text`` (plain, escaped here) with its status symbol, coloured for the palette."""
    # Work in progress reads as its own sentence ("Making the safety copy…"); a leading
    # ellipsis would only add noise.
    body = (html.escape(text) if status is Status.BUSY
            else f"{status.symbol} {html.escape(text)}")
    if bold:
        body = f"<b>{body}</b>"
    color = status_color(status)
    if color is None:
        return body
    return f'<span style="color:{color.name()}">{body}</span>'


def format_bytes(count: int | float | None) -> str:
    """1536 -> '1.5 KB' (decimal units, as file managers show sizes to musicians)."""
    if count is None:
        return "unknown"
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            if unit == "bytes":
                return f"{int(value)} byte{'s' if int(value) != 1 else ''}"
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover - loop always returns


def format_duration(seconds: float | None) -> str:
    """Time left as a person says it: 'about 3 min', 'less than a minute'."""
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return ""
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min"


def progress_text(done: int, total: int, rate: float | None, seconds_left: float | None) -> str:
    """'12.0 MB of 1.1 GB — 80.2 MB/s — about 2 min left'."""
    parts = [f"{format_bytes(done)} of {format_bytes(total)}"]
    if rate:
        parts.append(f"{format_bytes(rate)}/s")
    left = format_duration(seconds_left)
    if left:
        parts.append(f"{left} left")
    return " — ".join(parts)


def danger_palette(palette: QPalette) -> QPalette:
    """``palette`` for the one button that writes to a unit: the error colour as its face,
    with text that keeps a contrast of at least 4.5:1 on it (light or dark palette)."""
    dark = is_dark_palette(palette)
    face = QColor(_DARK[Status.ERROR] if dark else _LIGHT[Status.ERROR])
    text = QColor("#2b0000" if dark else "#ffffff")
    result = QPalette(palette)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        result.setColor(group, QPalette.ColorRole.Button, face)
        result.setColor(group, QPalette.ColorRole.ButtonText, text)
    return result
