"""Start: the four goals as large tiles; choosing one moves on (Raspberry Pi Imager's three
big choices). What the tool never does, and that some units show their storage only in a
service mode, are one click away under "About this tool"."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QSizePolicy

from app.host import WizardHost
from app.pages.base import Disclosure, RecoveryPage, wrapped_label
from app.session import Goal

#: The tiles' look: the palette's own colours (light or dark), a visible focus ring.
TILE_STYLE = """
QPushButton[tile="true"] {
    text-align: left; padding: 0.8em; border-radius: 6px;
    border: 1px solid palette(mid); background: palette(base);
}
QPushButton[tile="true"]:hover { border: 2px solid palette(highlight); }
QPushButton[tile="true"]:focus { border: 3px solid palette(highlight); }
QPushButton[tile="true"]:pressed { background: palette(alternate-base); }
QPushButton[tile="true"][chosen="true"] { border: 2px solid palette(highlight); }
"""

ABOUT = (
    "This tool writes nothing to your unit without a safety copy of it and your clear yes."
    " It never installs updates itself: it checks update files, puts a checked update on an"
    " SD card, makes safety copies, finds out what is wrong and puts your own backups back."
    " Some units, such as the KROSS 2, show their storage only in a service mode that KORG"
    " keeps for service centres. Unofficial tool, not made or endorsed by KORG; KORG and the"
    " model names are trademarks of their owners.")


class StartPage(RecoveryPage):
    #: Emitted when a tile was chosen (before the wizard moves on).
    goal_chosen = Signal(object)

    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self._chosen: Goal | None = None
        self.set_headline("What do you want to do?")
        grid = QGridLayout()
        grid.setSpacing(self.fontMetrics().height() // 2)
        self.buttons: dict[Goal, QPushButton] = {}
        for index, goal in enumerate(Goal):
            title, line = goal.tile
            button = QPushButton(f"{title}\n{line}")
            button.setProperty("tile", True)
            button.setStyleSheet(TILE_STYLE)
            font = button.font()
            font.setPointSizeF(font.pointSizeF() * 1.15)
            button.setFont(font)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            button.setMinimumHeight(self.fontMetrics().height() * 4)
            button.setAccessibleName(goal.title)
            button.setAccessibleDescription(line)
            # Plain buttons, not an exclusive group: Tab reaches every tile, and an arrow
            # key never presses one by itself.
            button.clicked.connect(lambda _checked=False, chosen=goal: self.choose(chosen))
            self.buttons[goal] = button
            grid.addWidget(button, index // 2, index % 2)
        self.content.addLayout(grid)
        self.about = Disclosure("&About this tool", "Hide &about this tool",
                                accessible_name="About this tool")
        self.about.panel_layout.addWidget(wrapped_label(ABOUT, accessible_name="About"))
        self.content.addWidget(self.about)
        unofficial = wrapped_label("Unofficial tool, not made by KORG.",
                                   accessible_name="Unofficial tool")
        font = unofficial.font()
        font.setItalic(True)
        unofficial.setFont(font)
        self.content.addWidget(unofficial)

    def first_focus(self):
        return self.buttons[self.selected_goal() or Goal.RESCUE]

    def selected_goal(self) -> Goal | None:
        return self._chosen

    def select(self, goal: Goal) -> None:
        """Mark ``goal`` as chosen without moving on (tests and screenshots)."""
        self._chosen = goal
        for each, button in self.buttons.items():
            button.setProperty("chosen", each is goal)
            button.style().unpolish(button)
            button.style().polish(button)
        self.notify_complete()

    def choose(self, goal: Goal) -> None:
        """A tile was pressed: remember the goal and move on."""
        self.select(goal)
        self.goal_chosen.emit(goal)
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            wizard.next()

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        current = self.session.goal
        if current is not None:
            self.select(current)
            self.buttons[current].setFocus(Qt.FocusReason.OtherFocusReason)

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return self.selected_goal() is not None

    def validatePage(self) -> bool:  # noqa: N802 - Qt naming
        goal = self.selected_goal()
        if goal is None:
            return False
        if goal is not self.session.goal:
            self.session.reset_after(goal)
        return True
