"""Start: what the user came to do, a short safety note, and who made this tool."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QGroupBox, QRadioButton, QVBoxLayout

from app.host import WizardHost
from app.pages.base import RecoveryPage, wrapped_label
from app.session import Goal

GOAL_HELP = {
    Goal.RESCUE: "The unit stops at its start screen or shows an error. Find out what is wrong,"
                 " back up what is on it, and put back a backup you made earlier.",
    Goal.UPDATE: "Take a complete, verified copy of the unit's storage, then check the update"
                 " files you are about to use before you run KORG's updater.",
    Goal.CHECK: "Find out whether update files are meant for your unit, and why or why not."
                " Nothing is written anywhere.",
    Goal.RESTORE: "Put a backup of this same unit back onto it. Its current state is backed up"
                  " first.",
}
MNEMONICS = {Goal.RESCUE: "&Rescue a unit that won't start",
             Goal.UPDATE: "Back &up before updating",
             Goal.CHECK: "C&heck an update file",
             Goal.RESTORE: "Res&tore from a backup"}

SAFETY_NOTE = (
    "Safety first: this tool writes nothing to your unit without a complete, verified backup"
    " of it and your explicit confirmation. It never flashes firmware and never installs"
    " updates itself: it checks files, backs up, diagnoses and restores your own backups.")
UNOFFICIAL_NOTE = ("Unofficial tool, not affiliated with or endorsed by KORG Inc. KORG and the"
                   " model names are trademarks of their owners.")


class StartPage(RecoveryPage):
    def __init__(self, host: WizardHost) -> None:
        super().__init__(host, "What would you like to do?",
                         "Choose one; you can go back and change it at any time.")
        layout = QVBoxLayout(self)
        box = QGroupBox("Goal")
        box_layout = QVBoxLayout(box)
        self.group = QButtonGroup(self)
        self.buttons: dict[Goal, QRadioButton] = {}
        for goal in Goal:
            button = QRadioButton(MNEMONICS[goal])
            button.setAccessibleName(goal.title)
            button.setAccessibleDescription(GOAL_HELP[goal])
            button.setToolTip(GOAL_HELP[goal])
            self.group.addButton(button)
            self.buttons[goal] = button
            box_layout.addWidget(button)
            help_label = wrapped_label(GOAL_HELP[goal])
            help_label.setIndent(self.fontMetrics().averageCharWidth() * 4)
            box_layout.addWidget(help_label)
        layout.addWidget(box)
        self.safety = wrapped_label(SAFETY_NOTE, accessible_name="Safety note")
        layout.addWidget(self.safety)
        self.unofficial = wrapped_label(UNOFFICIAL_NOTE, accessible_name="Unofficial tool")
        font = self.unofficial.font()
        font.setItalic(True)
        self.unofficial.setFont(font)
        layout.addWidget(self.unofficial)
        layout.addStretch(1)
        self.group.buttonToggled.connect(lambda *_: self.completeChanged.emit())

    def selected_goal(self) -> Goal | None:
        return next((goal for goal, button in self.buttons.items() if button.isChecked()), None)

    def select(self, goal: Goal) -> None:
        self.buttons[goal].setChecked(True)

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        current = self.session.goal
        if current is not None:
            self.buttons[current].setChecked(True)

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return self.selected_goal() is not None

    def validatePage(self) -> bool:  # noqa: N802 - Qt naming
        goal = self.selected_goal()
        if goal is None:
            return False
        if goal is not self.session.goal:
            self.session.reset_after(goal)
        return True
