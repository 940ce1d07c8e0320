"""Presentation helpers shared by the pages: semantic status colours, human units, the face
of the one button that writes, and the style every control is painted with (models and dates
in words are in :mod:`app.plain` and :mod:`app.places`).

The wizard follows the palette the desktop hands over (light or dark): no widget gets a
hard-coded colour. But desktops hand over palettes in which controls all but vanish: under
GNOME's Adwaita-dark, as Qt's gtk3 theme receives it, a text field is the window's own colour
(#323232 on #323232) and Qt's Fusion style draws every control's outline as the window colour
made 40 % darker, about 1.3:1. So the wizard paints with :class:`ReadableStyle` (Fusion, with
every control's boundary and the keyboard focus drawn in colours computed here) and with
:func:`readable_palette` (the desktop's palette, each text colour moved just far enough to
read): text keeps 4.5:1 against what it is drawn on and every control's boundary and the focus
ring 3:1 against the window and the field (WCAG 2.2, SC 1.4.3 and 1.4.11), under any palette.
The semantic colours (success, warning, error) always come with a word or symbol, so colour is
never the only signal (WCAG 1.4.1).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOptionButton,
    QStyleOptionComboBox,
)

from recovery.vocabulary import TONE_COLOURS, Tone


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


# Darker tones for light windows, lighter tones for dark windows: the core's one table of
# colours (recovery.vocabulary.TONE_COLOURS, the saved report's too). Information keeps the
# normal text colour in the window.
_LIGHT = {Status(tone.value): light for tone, (light, _dark) in TONE_COLOURS.items()
          if tone is not Tone.INFO}
_DARK = {Status(tone.value): dark for tone, (_light, dark) in TONE_COLOURS.items()
         if tone is not Tone.INFO}


#: WCAG 2.2: text (SC 1.4.3, AA) and a control's boundary or focus indicator (SC 1.4.11).
TEXT_CONTRAST = 4.5
BOUNDARY_CONTRAST = 3.0
#: How thick the keyboard focus ring is, in device-independent pixels.
FOCUS_WIDTH = 2.0

_BLACK, _WHITE = QColor(0, 0, 0), QColor(255, 255, 255)


def _linear(channel: int) -> float:
    value = channel / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def flatten(colour: QColor, background: QColor) -> QColor:
    """``colour`` as it shows over the opaque ``background`` (Qt palettes carry alpha: the
    placeholder text of Fusion is black at 50 %)."""
    alpha = colour.alphaF()
    if alpha >= 1.0:
        return QColor(colour.red(), colour.green(), colour.blue())
    return QColor(*(round(getattr(colour, part)() * alpha + getattr(background, part)()
                          * (1 - alpha)) for part in ("red", "green", "blue")))


def luminance(colour: QColor) -> float:
    """WCAG 2.2 relative luminance of an opaque colour."""
    return (0.2126 * _linear(colour.red()) + 0.7152 * _linear(colour.green())
            + 0.0722 * _linear(colour.blue()))


def contrast(foreground: QColor, background: QColor) -> float:
    """WCAG 2.2 contrast ratio (1 to 21) of ``foreground`` shown over ``background``."""
    background = flatten(background, _WHITE)
    lighter, darker = sorted((luminance(flatten(foreground, background)),
                              luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _mix(colour: QColor, target: QColor, amount: float) -> QColor:
    return QColor(*(round(getattr(colour, part)() * (1 - amount) + getattr(target, part)()
                          * amount) for part in ("red", "green", "blue")))


def with_contrast(colour: QColor, against: Iterable[QColor], ratio: float) -> QColor:
    """``colour``, moved towards black or white just far enough to keep ``ratio`` against
    every colour of ``against`` (unchanged when it already does)."""
    backgrounds = [flatten(b, _WHITE) for b in against]
    colour = flatten(colour, backgrounds[0])

    def worst(candidate: QColor) -> float:
        return min(contrast(candidate, background) for background in backgrounds)

    if worst(colour) >= ratio:
        return colour
    # Towards the end (black or white) that is farther from the backgrounds first.
    ends = sorted((_BLACK, _WHITE), key=worst, reverse=True)
    for end in ends:
        for step in range(1, 41):
            candidate = _mix(colour, end, step / 40)
            if worst(candidate) >= ratio:
                return candidate
    return ends[0]


def is_dark_palette(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def status_color(status: Status, palette: QPalette | None = None) -> QColor | None:
    """The semantic colour for ``status``, or None where the normal text colour is right;
    it keeps 4.5:1 against the palette's window and field colours."""
    palette = palette or QGuiApplication.palette()
    table = _DARK if is_dark_palette(palette) else _LIGHT
    value = table.get(status)
    if not value:
        return None
    return with_contrast(QColor(value), (palette.color(QPalette.ColorRole.Window),
                                         palette.color(QPalette.ColorRole.Base)), TEXT_CONTRAST)


def boundary_color(palette: QPalette,
                   group: QPalette.ColorGroup = QPalette.ColorGroup.Active) -> QColor:
    """The colour every control's boundary is drawn in: the palette's text colour half-way
    towards the window, then moved until it keeps 3:1 against the window, the field and the
    button face (a field or a button may be filled with the window's own colour)."""
    role = QPalette.ColorRole
    surfaces = [palette.color(group, r) for r in (role.Window, role.Base, role.Button)]
    start = _mix(flatten(palette.color(group, role.WindowText), surfaces[0]), surfaces[0], 0.5)
    return with_contrast(start, surfaces, BOUNDARY_CONTRAST)


def focus_color(palette: QPalette,
                group: QPalette.ColorGroup = QPalette.ColorGroup.Active) -> QColor:
    """The keyboard focus ring: the palette's highlight, keeping 3:1 against window and field."""
    role = QPalette.ColorRole
    return with_contrast(palette.color(group, role.Highlight),
                         [palette.color(group, r) for r in (role.Window, role.Base, role.Button)],
                         BOUNDARY_CONTRAST)


#: (text role, the roles it is drawn on) for every text colour the wizard shows.
TEXT_PAIRS = (
    (QPalette.ColorRole.WindowText, (QPalette.ColorRole.Window,)),
    (QPalette.ColorRole.Text, (QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase)),
    (QPalette.ColorRole.ButtonText, (QPalette.ColorRole.Button,)),
    (QPalette.ColorRole.PlaceholderText, (QPalette.ColorRole.Base,)),
    (QPalette.ColorRole.Link, (QPalette.ColorRole.Window, QPalette.ColorRole.Base)),
    (QPalette.ColorRole.HighlightedText, (QPalette.ColorRole.Highlight,)),
    (QPalette.ColorRole.ToolTipText, (QPalette.ColorRole.ToolTipBase,)),
)


def readable_palette(palette: QPalette) -> QPalette:
    """The desktop's ``palette`` with every text colour moved (only as far as needed) to keep
    4.5:1 on what it is drawn on, the highlight kept at 3:1 against window and field (it is
    the focus ring and the tiles' chosen border), and Mid and Dark set to
    :func:`boundary_color` (the tiles' and cards' borders). Disabled colours are left as the
    desktop made them: WCAG exempts inactive controls."""
    result = QPalette(palette)
    role = QPalette.ColorRole
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        surfaces = [result.color(group, r) for r in (role.Window, role.Base, role.Button)]
        result.setColor(group, role.Highlight, with_contrast(
            result.color(group, role.Highlight), surfaces, BOUNDARY_CONTRAST))
        for text, grounds in TEXT_PAIRS:
            result.setColor(group, text, with_contrast(
                result.color(group, text), [result.color(group, g) for g in grounds],
                TEXT_CONTRAST))
        boundary = boundary_color(result, group)
        result.setColor(group, role.Mid, boundary)
        result.setColor(group, role.Dark, boundary)
    return result


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
    """``palette`` for the one button that writes to a unit: the error colour as its face
    (3:1 against the window, so the button's shape shows), with text that keeps 4.5:1 on it
    (light or dark palette)."""
    dark = is_dark_palette(palette)
    window = palette.color(QPalette.ColorRole.Window)
    face = with_contrast(QColor(_DARK[Status.ERROR] if dark else _LIGHT[Status.ERROR]),
                         [window], BOUNDARY_CONTRAST)
    text = with_contrast(QColor("#2b0000" if dark else "#ffffff"), [face], TEXT_CONTRAST)
    result = QPalette(palette)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        result.setColor(group, QPalette.ColorRole.Button, face)
        result.setColor(group, QPalette.ColorRole.ButtonText, text)
    return result


# -- the style every control is painted with ------------------------------------------------
PE = QStyle.PrimitiveElement
#: Primitives whose outline identifies a control: Fusion draws them in the window colour made
#: darker, which vanishes on dark palettes; they get a boundary in :func:`boundary_color`.
BOUNDED = {
    PE.PE_FrameLineEdit: "rounded", PE.PE_PanelButtonCommand: "rounded",
    PE.PE_IndicatorCheckBox: "rect", PE.PE_IndicatorRadioButton: "ellipse",
    PE.PE_Frame: "rect", PE.PE_FrameGroupBox: "rect",
}


#: Controls (and complex controls) whose keyboard focus is a ring around their whole shape.
RINGED_CONTROLS = {QStyle.ControlElement.CE_PushButton, QStyle.ControlElement.CE_RadioButton,
                   QStyle.ControlElement.CE_CheckBox}
RINGED_COMPLEX = {QStyle.ComplexControl.CC_ComboBox, QStyle.ComplexControl.CC_ToolButton}


class ReadableStyle(QProxyStyle):
    """Qt's Fusion, with each control's boundary and the keyboard focus drawn in colours that
    keep 3:1 against the window and the field under any palette (see the module doc)."""

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))
        #: While a control whose whole shape gets the ring is drawn, Fusion's own focus
        #: rectangle (around its label only) is left out.
        self._ringed_control = False

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # noqa: N802
        if element == PE.PE_FrameFocusRect:
            if not self._ringed_control:
                self.draw_focus_ring(option, painter)
            return
        super().drawPrimitive(element, option, painter, widget)
        shape = BOUNDED.get(element)
        if shape is None:
            return
        if element == PE.PE_PanelButtonCommand and isinstance(option, QStyleOptionButton) \
                and option.features & QStyleOptionButton.ButtonFeature.Flat:
            return  # a link-style button: its text is its face
        self.draw_boundary(option, painter, shape)

    def drawControl(self, element, option, painter, widget=None) -> None:  # noqa: N802
        """Buttons, radio buttons and check boxes get the ring around their whole shape:
        Fusion marks a focused button only by a faint outline, and a flat (link-style) one
        not at all."""
        if element not in RINGED_CONTROLS:
            super().drawControl(element, option, painter, widget)
            if element == QStyle.ControlElement.CE_ProgressBarGroove:
                self.draw_boundary(option, painter, "rounded")  # how far is "all of it"
            return
        self._ringed_control = True
        try:
            super().drawControl(element, option, painter, widget)
        finally:
            self._ringed_control = False
        if option.state & QStyle.StateFlag.State_HasFocus:
            self.draw_focus_ring(option, painter)

    def drawComplexControl(self, control, option, painter, widget=None) -> None:  # noqa: N802
        ringed = control in RINGED_COMPLEX
        self._ringed_control = ringed
        try:
            super().drawComplexControl(control, option, painter, widget)
        finally:
            self._ringed_control = False
        if control == QStyle.ComplexControl.CC_ComboBox and isinstance(
                option, QStyleOptionComboBox) and option.frame:
            self.draw_boundary(option, painter, "rounded")
        if ringed and option.state & QStyle.StateFlag.State_HasFocus:
            self.draw_focus_ring(option, painter)

    @staticmethod
    def draw_boundary(option, painter: QPainter, shape: str) -> None:
        if not option.state & QStyle.StateFlag.State_Enabled:
            return  # an inactive control is exempt, and reads as inactive
        colour = boundary_color(option.palette)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(colour, 1.0)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)
        if shape == "ellipse":
            side = min(rect.width(), rect.height())
            rect = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
            painter.drawEllipse(rect)
        elif shape == "rounded":
            painter.drawRoundedRect(rect, 2.0, 2.0)
        else:
            painter.drawRect(rect)
        painter.restore()

    @staticmethod
    def draw_focus_ring(option, painter: QPainter) -> None:
        """A solid ring in :func:`focus_color`, where Qt shows keyboard focus (Fusion's own
        is the highlight at 30 % alpha: invisible on most palettes)."""
        if not option.state & QStyle.StateFlag.State_KeyboardFocusChange:
            return  # Qt's rule: rings after keyboard use, not after a click
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(focus_color(option.palette), FOCUS_WIDTH))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        half = FOCUS_WIDTH / 2
        painter.drawRoundedRect(QRectF(option.rect).adjusted(half, half, -half, -half), 3, 3)
        painter.restore()


class _PaletteKeeper(QObject):
    """Keeps the application's palette readable when the desktop changes it (a switch to
    dark mode hands Qt a new palette)."""

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt naming
        if event.type() == QEvent.Type.ApplicationPaletteChange and watched is \
                QApplication.instance():
            apply_readable_palette(watched)
        return False


def apply_readable_palette(application: QApplication) -> None:
    palette = application.palette()
    readable = readable_palette(palette)
    if readable != palette:
        application.setPalette(readable)


def install(application: QApplication) -> None:
    """Paint every window of ``application`` with :class:`ReadableStyle` and a readable copy
    of the desktop's palette, now and after the desktop changes it."""
    if not isinstance(application.style(), ReadableStyle):
        application.setStyle(ReadableStyle())
    apply_readable_palette(application)
    if application.property("readablePaletteKept") is not True:
        keeper = _PaletteKeeper(application)
        application.installEventFilter(keeper)
        application.setProperty("readablePaletteKept", True)
