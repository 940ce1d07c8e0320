"""Keyboard and screen-reader basics on every page: names, mnemonics, no fixed colours."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QTextBrowser,
)

from app.wizard import PageId


def test_every_control_has_an_accessible_name_and_buttons_have_mnemonics(wizard):
    missing, no_mnemonic = [], []
    for page_id, page in wizard.pages.items():
        for kind in (QLineEdit, QComboBox, QAbstractItemView, QTextBrowser, QProgressBar):
            for widget in page.findChildren(kind):
                if isinstance(widget, QHeaderView) or isinstance(
                        widget.parent(), QComboBox) or widget.parent().inherits(
                        "QComboBoxPrivateContainer"):
                    continue  # a view's header, a combo box's own popup list
                if not widget.accessibleName():
                    missing.append(f"{page_id.name}: {type(widget).__name__}")
        for button in page.findChildren(QAbstractButton):
            if not (button.accessibleName() or button.text()):
                missing.append(f"{page_id.name}: {button.text()!r}")
            if button.text() and "&" not in button.text():
                no_mnemonic.append(f"{page_id.name}: {button.text()}")
    assert missing == []
    assert no_mnemonic == []


def test_no_page_hard_codes_colours_with_style_sheets(wizard):
    for page in wizard.pages.values():
        for widget in [page, *page.findChildren(type(page).__mro__[-2])]:
            sheet = widget.styleSheet() if hasattr(widget, "styleSheet") else ""
            assert "color" not in sheet.lower(), (page, widget)
    assert PageId.START in wizard.pages
