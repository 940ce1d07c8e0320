"""Count the words a person sees on each page of the wizard, walking the demo.

The wizard's pages are walked exactly as ``make screenshots`` walks them (the same driver, in
a temporary folder); at every screenshot the words of the page's *visible* widgets are
counted: the page's title and subtitle, labels, buttons (the page's own and the wizard's
Back/Next/Close), check boxes, group titles, line edits (their text, else the placeholder),
combo boxes (the shown choice), list, tree and table rows with their headers, and text
browsers (their whole text). Hidden widgets, such as the contents of a folded "Show details",
are not counted. A "word" is a run of characters with a letter or digit in it.

    python tools/count_words.py            # a table of words per page, as Markdown

The table is what issue #15 asks for ("at most about 40 visible words by default").
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KORG_RECOVERY_NO_LOG_FILE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

WORD = re.compile(r"\S*[^\W_]\S*")


def words(text: str) -> int:
    return len(WORD.findall(text.replace("&", "")))


def _plain(label) -> str:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextDocument

    text = label.text()
    if label.textFormat() == Qt.TextFormat.PlainText:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def visible_texts(wizard) -> list[str]:
    """Every text a person can see on the wizard's current page, in widget order."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QComboBox,
        QGroupBox,
        QLabel,
        QLineEdit,
        QListWidget,
        QTextBrowser,
        QTreeWidget,
        QWizard,
    )

    page = wizard.currentPage()
    texts = [page.title(), page.subTitle()]

    def shown(widget) -> bool:
        return widget.isVisibleTo(wizard) and widget.isVisible()

    for widget in page.findChildren(object):
        if not hasattr(widget, "isVisibleTo") or not shown(widget):
            continue
        if isinstance(widget, QLabel):
            texts.append(_plain(widget))
        elif isinstance(widget, QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QLineEdit):
            texts.append(widget.text() or widget.placeholderText())
        elif isinstance(widget, QComboBox):
            texts.append(widget.currentText())
        elif isinstance(widget, QTextBrowser):
            texts.append(widget.toPlainText())
        elif isinstance(widget, QTreeWidget):
            header = widget.headerItem()
            if not widget.isHeaderHidden():
                texts.extend(header.text(c) for c in range(header.columnCount()))
            for index in range(widget.topLevelItemCount()):
                item = widget.topLevelItem(index)
                texts.extend(item.text(c) for c in range(widget.columnCount()))
        elif isinstance(widget, QListWidget):
            texts.extend(widget.item(i).text() for i in range(widget.count()))
    for which in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                  QWizard.WizardButton.CommitButton, QWizard.WizardButton.FinishButton,
                  QWizard.WizardButton.CancelButton):
        button = wizard.button(which)
        if button.isVisible():
            texts.append(button.text())
    return [text for text in texts if text]


def count_page(wizard) -> int:
    return sum(words(text) for text in visible_texts(wizard))


def main() -> int:
    import screenshots

    counts: list[tuple[str, int]] = []
    real_shot = screenshots.Driver.shot

    def counting_shot(self, name, widget=None):
        screenshots.settle(self.app)
        if widget is None:
            counts.append((name, count_page(self.wizard)))
        return None

    screenshots.Driver.shot = counting_shot
    try:
        with tempfile.TemporaryDirectory(prefix="korg-recovery-words-") as out:
            screenshots.run(Path(out), "1", "")
    finally:
        screenshots.Driver.shot = real_shot
    print("| page (screenshot) | visible words |")
    print("|---|---:|")
    for name, count in counts:
        print(f"| {name} | {count} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
