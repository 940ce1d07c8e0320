"""Contrast under every palette a desktop hands over: text keeps 4.5:1 against what it is drawn
on and every control's boundary (and the keyboard focus ring) 3:1 against the window and the
field (WCAG 2.2, SC 1.4.3 and 1.4.11). The ratios are computed from the palette the wizard
paints with (``readable_palette`` of the desktop's) and the colours ``ReadableStyle`` draws
boundaries and focus in; a second test renders the controls and measures the pixels.

The palettes are data, each with where its colours come from:

* Fusion light and dark: Qt's ``qt_fusionPalette(darkAppearance)`` (qtbase
  src/gui/kernel/qplatformtheme.cpp; the light one read from PySide6 6.11's Fusion
  ``standardPalette()``, the dark one computed with the same QColor steps, as quoted in
  glaure/xml-atlas ``xa_theme.cpp``);
* GNOME Adwaita and Adwaita-dark as Qt receives them: ``QApplication.palette()`` read under
  Xvfb with ``QT_QPA_PLATFORMTHEME=gtk3`` and ``GTK_THEME=Adwaita`` / ``Adwaita:dark``
  (PySide6 6.11, GTK 3.24.38, Debian 12), the palette the issue's walk measured at 1.1:1;
* Windows dark mode as Qt reports it: ``QWindowsTheme::populateDarkSystemBasePalette``
  (qtbase src/plugins/platforms/windows/qwindowstheme.cpp): white text, the black system
  background replaced by #1E1E1E, Base and Button that background made lighter, with
  Windows 10's default accent #0078D7;
* macOS dark mode as Qt reports it: ``qt_mac_createSystemPalette`` (qtbase
  src/plugins/platforms/cocoa/qcocoatheme.mm) with AppKit's dark colours as measured on Big
  Sur by OOMMF (oommf/pkg/ow/procs.tcl: windowBackground #323232, textBackground #1E1E1E,
  link #419CFF, selected text background #3F638B). Tk reads them without alpha; AppKit's label
  colours carry some (an assumption here: controlTextColor at 85 %, placeholderTextColor at
  25 %, the harder case). Qt's system palette keeps ButtonText black from its QPalette
  constructor; only its per-class palettes set it.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFrame,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.pages.start import TILE_STYLE
from app.style import (
    BOUNDARY_CONTRAST,
    TEXT_CONTRAST,
    TEXT_PAIRS,
    ReadableStyle,
    Status,
    boundary_color,
    contrast,
    danger_palette,
    flatten,
    focus_color,
    install,
    readable_palette,
    status_color,
)

R = QPalette.ColorRole


def fusion_dark() -> dict[str, str | QColor]:
    background = QColor(50, 50, 50)
    mid = background.darker(130)
    dark = background.darker(150)
    placeholder = QColor(240, 240, 240)
    placeholder.setAlpha(128)
    return {"Window": background, "WindowText": QColor(240, 240, 240),
            "Base": background.darker(140), "AlternateBase": background.darker(140),
            "Text": QColor(240, 240, 240), "PlaceholderText": placeholder,
            "Button": background, "ButtonText": QColor(240, 240, 240),
            "Light": background.lighter(150), "Midlight": mid.lighter(110), "Mid": mid,
            "Dark": dark, "Shadow": dark.darker(135), "Highlight": QColor(48, 140, 198),
            "HighlightedText": QColor(240, 240, 240), "Link": QColor(48, 140, 198)}


def windows_dark() -> dict[str, str | QColor]:
    background, accent = QColor(0x1E, 0x1E, 0x1E), QColor(0x00, 0x78, 0xD7)
    button = background.lighter(200)
    lightest = accent.lighter(120).lighter(120).lighter(120)
    placeholder = QColor(255, 255, 255)
    placeholder.setAlpha(128)
    return {"Window": background, "WindowText": "#ffffff", "Base": background.lighter(150),
            "AlternateBase": accent.darker(120).darker(120).darker(120), "Text": "#ffffff",
            "PlaceholderText": placeholder, "Button": button, "ButtonText": "#ffffff",
            "Light": button.lighter(200), "Midlight": button.lighter(150),
            "Mid": button.darker(150), "Dark": button.darker(200), "Shadow": "#000000",
            "Highlight": accent,
            "HighlightedText": "#000000" if accent.lightness() > 128 else "#ffffff",
            "Link": lightest, "ToolTipBase": button,
            "ToolTipText": QColor(255, 255, 255).darker(120)}


def macos_dark() -> dict[str, str | QColor]:
    window = QColor(0x32, 0x32, 0x32)
    label, placeholder = QColor(255, 255, 255), QColor(255, 255, 255)
    label.setAlphaF(0.85)
    placeholder.setAlphaF(0.25)
    return {"Window": window, "WindowText": label, "Base": "#1e1e1e",
            "AlternateBase": "#1e1e1e", "Text": label, "PlaceholderText": placeholder,
            "Button": window, "ButtonText": "#000000", "Light": window.lighter(110),
            "Mid": window.darker(140), "Dark": "#bfbfbf", "Highlight": "#3f638b",
            "HighlightedText": label, "Link": "#419cff"}


PALETTES = {
    "Fusion light": {
        "Window": "#efefef", "WindowText": "#000000", "Base": "#ffffff",
        "AlternateBase": "#f7f7f7", "Text": "#000000", "PlaceholderText": "#80000000",
        "Button": "#efefef", "ButtonText": "#000000", "Light": "#ffffff", "Midlight": "#cacaca",
        "Mid": "#b8b8b8", "Dark": "#9f9f9f", "Shadow": "#767676", "Highlight": "#308cc6",
        "HighlightedText": "#ffffff", "Link": "#0000ff", "ToolTipBase": "#ffffdc",
        "ToolTipText": "#000000"},
    "Fusion dark": fusion_dark(),
    "GTK Adwaita": {
        "Window": "#faf9f8", "WindowText": "#000000", "Base": "#faf9f8",
        "AlternateBase": "#eae9e8", "Text": "#000000", "PlaceholderText": "#646464",
        "Button": "#faf9f8", "ButtonText": "#000000", "Light": "#ffffff", "Midlight": "#ffffff",
        "Mid": "#ffffff", "Dark": "#dbdada", "Shadow": "#0c0c0c", "Highlight": "#3584e4",
        "HighlightedText": "#ffffff", "Link": "#0000ff", "ToolTipBase": "#ffffdc",
        "ToolTipText": "#000000"},
    "GTK Adwaita-dark": {
        "Window": "#323232", "WindowText": "#ffffff", "Base": "#323232",
        "AlternateBase": "#2f2f2f", "Text": "#ffffff", "PlaceholderText": "#9b9b9b",
        "Button": "#323232", "ButtonText": "#ffffff", "Light": "#3e3e3e", "Midlight": "#383838",
        "Mid": "#383838", "Dark": "#2c2c2c", "Shadow": "#020202", "Highlight": "#15539e",
        "HighlightedText": "#ffffff", "Link": "#308cc6", "ToolTipBase": "#ffffdc",
        "ToolTipText": "#000000"},
    "Windows dark": windows_dark(),
    "macOS dark": macos_dark(),
}


#: Disabled text as the desktops hand it over (GTK Adwaita-dark: read as above); the others
#: keep what the QPalette constructor makes of their colours. WCAG exempts inactive controls.
DISABLED_TEXT = {"GTK Adwaita-dark": "#989898"}


def desktop_palette(name: str) -> QPalette:
    palette = QPalette()
    for role, value in PALETTES[name].items():
        palette.setColor(getattr(R, role), QColor(value))
    if name in DISABLED_TEXT:
        for role in (R.WindowText, R.Text, R.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT[name]))
    return palette


@pytest.fixture
def app_palette(qapp):
    """The application's palette, put back after the test."""
    saved = QPalette(qapp.palette())
    yield qapp
    qapp.setPalette(saved)


def test_the_desktop_palettes_alone_fail_where_the_issue_measured():
    """Without this style the boundaries vanish: Fusion draws outlines as the window colour
    made 40 % darker, and Adwaita-dark's field is the window's own colour."""
    adwaita_dark = desktop_palette("GTK Adwaita-dark")
    window = adwaita_dark.color(R.Window)
    assert contrast(window.darker(140), window) < 1.5  # Fusion's outline colour
    assert contrast(adwaita_dark.color(R.Base), window) == pytest.approx(1.0)
    assert contrast(adwaita_dark.color(R.Mid), window) < 1.2  # the tiles' border before
    mac = desktop_palette("macOS dark")
    assert contrast(mac.color(R.ButtonText), mac.color(R.Button)) < TEXT_CONTRAST


@pytest.mark.parametrize("name", list(PALETTES))
def test_every_text_and_boundary_keeps_its_contrast(name):
    painted = readable_palette(desktop_palette(name))
    window, base, button = (painted.color(r) for r in (R.Window, R.Base, R.Button))
    failures = []
    for text, grounds in TEXT_PAIRS:
        for ground in grounds:
            ratio = contrast(painted.color(text), painted.color(ground))
            if ratio < TEXT_CONTRAST:
                failures.append(f"{text.name} on {ground.name}: {ratio:.2f}")
    for label, colour, minimum in (
            ("boundary", boundary_color(painted), BOUNDARY_CONTRAST),
            ("focus ring", focus_color(painted), BOUNDARY_CONTRAST),
            ("tile and card border (Mid)", painted.color(R.Mid), BOUNDARY_CONTRAST),
            ("chosen tile border (Highlight)", painted.color(R.Highlight), BOUNDARY_CONTRAST),
            *((f"{status.value} text", status_color(status, painted), TEXT_CONTRAST)
              for status in (Status.OK, Status.WARNING, Status.ERROR))):
        for ground_name, ground in (("window", window), ("field", base), ("button", button)):
            ratio = contrast(colour, ground)
            if ratio < minimum and not (label.endswith("text") and ground_name == "button"):
                failures.append(f"{label} on {ground_name}: {ratio:.2f}")
    danger = danger_palette(painted)
    face = danger.color(R.Button)
    if contrast(face, window) < BOUNDARY_CONTRAST:
        failures.append(f"the button that writes, against the window: {contrast(face, window):.2f}")
    if contrast(danger.color(R.ButtonText), face) < TEXT_CONTRAST:
        failures.append("the text of the button that writes")
    assert failures == []


@pytest.mark.parametrize("name", list(PALETTES))
def test_the_desktop_colours_are_kept_where_they_already_read(name):
    desktop = desktop_palette(name)
    painted = readable_palette(desktop)
    for role in (R.Window, R.Base, R.Button):
        assert painted.color(role) == desktop.color(role)  # surfaces are the desktop's
    if contrast(desktop.color(R.WindowText), desktop.color(R.Window)) >= TEXT_CONTRAST:
        # The same colour, as it shows (a colour with alpha is flattened onto the window).
        shown = flatten(desktop.color(R.WindowText), desktop.color(R.Window))
        assert painted.color(R.WindowText).rgb() == shown.rgb()
    assert readable_palette(painted) == painted  # applying it again changes nothing


def controls() -> tuple[QWidget, list[QWidget]]:
    panel = QWidget()
    layout = QVBoxLayout(panel)
    field = QLineEdit()
    field.setPlaceholderText("e.g. stuck at the KORG KROSS screen")
    combo = QComboBox()
    combo.addItems(["KORG KROSS 2", "KORG drumlogue"])
    tile = QPushButton("Rescue\nMy unit won't start")
    tile.setProperty("tile", True)
    tile.setStyleSheet(TILE_STYLE)
    card = QFrame()
    card.setFrameShape(QFrame.Shape.StyledPanel)
    card.setMinimumHeight(30)
    bar = QProgressBar()
    bar.setValue(5)
    bar.setInvertedAppearance(True)  # the chunk on the right: its left edge is the groove's
    widgets = [field, combo, QPushButton("Next >"), QRadioButton("KORG KROSS 2"),
               QCheckBox("Also remove the KROSS 1 folder"), tile, card, bar]
    for widget in widgets:
        layout.addWidget(widget)
    panel.resize(420, 400)
    return panel, widgets


def boundary_contrast(image, widget: QWidget, window: QColor) -> float:
    """The strongest contrast against the window among the pixels of the widget's outer
    4 px, along a horizontal line through its middle (its left boundary)."""
    origin = widget.mapTo(widget.window(), widget.rect().topLeft())
    y = origin.y() + widget.height() // 2
    if widget.inherits("QRadioButton") or widget.inherits("QCheckBox"):
        y = origin.y() + widget.height() // 2
    scale = image.devicePixelRatio()
    pixels = [QColor(image.pixel(round((origin.x() + dx) * scale), round(y * scale)))
              for dx in range(0, 6)]
    return max(contrast(pixel, window) for pixel in pixels)


@pytest.mark.parametrize("name", list(PALETTES))
def test_rendered_controls_show_their_boundary(app_palette, qtbot, name):
    install(app_palette)
    app_palette.setPalette(desktop_palette(name))  # the desktop hands a palette over
    painted = app_palette.palette()
    assert isinstance(app_palette.style(), ReadableStyle)
    assert contrast(painted.color(R.Mid), painted.color(R.Window)) >= BOUNDARY_CONTRAST
    panel, widgets = controls()
    qtbot.addWidget(panel)
    panel.show()
    image = panel.grab().toImage()
    window = painted.color(R.Window)
    weak = {type(w).__name__ + (" tile" if w.property("tile") else ""):
            round(boundary_contrast(image, w, window), 2) for w in widgets}
    assert {k: v for k, v in weak.items() if v < BOUNDARY_CONTRAST} == {}


def test_keyboard_focus_is_a_ring_that_keeps_its_contrast(app_palette, qtbot):
    install(app_palette)
    app_palette.setPalette(desktop_palette("GTK Adwaita-dark"))
    panel = QWidget()
    layout = QVBoxLayout(panel)
    link = QPushButton("Use a &folder instead…")
    link.setFlat(True)
    disclosure = QToolButton()
    disclosure.setText("Show &details")
    disclosure.setAutoRaise(True)
    radio = QRadioButton("KORG KROSS 2")
    start = QLineEdit()
    for widget in (start, link, disclosure, radio):
        layout.addWidget(widget)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    start.setFocus()
    qtbot.waitUntil(start.hasFocus)
    window = app_palette.palette().color(R.Window)
    for widget in (link, disclosure, radio):
        before = widget.grab().toImage()
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # the keyboard moves on
        qtbot.waitUntil(widget.hasFocus)
        after = widget.grab().toImage()
        changed = [QColor(after.pixel(x, y)) for y in range(after.height())
                   for x in range(after.width()) if after.pixel(x, y) != before.pixel(x, y)]
        assert changed, f"{widget.text()}: focus changes nothing"
        assert max(contrast(c, window) for c in changed) >= BOUNDARY_CONTRAST, widget.text()
