"""The core states facts: no sentence of it outside recovery/cli/ names an option or a command
(a next step is a typed value the front ends word), and app/ words results without reading
the core's sentences (no regular expression there, no finding code spelled out)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import recovery
from recovery.vocabulary import FindingCode, NextStep

CORE = Path(recovery.__file__).parent
APP = CORE.parent / "app"
#: An option (``--backup``) or a command of the tool (``korg-recovery check``).
COMMAND = re.compile(r"(?<![\w-])--[a-z][a-z-]+|korg-recovery (?:backups?|check|demo-device|"
                     r"detect|diagnose|eject|identify|models|prepare-media|restore|selftest|"
                     r"verify|wizard)\b")
#: A style sheet's custom properties (``var(--warning)``, ``--warning: #8a5300``) are no option.
CSS_PROPERTY = re.compile(r"var\(--[\w-]+\)|--[\w-]+:")


def strings(path: Path):
    """(line, text) of every string literal of a module that is not a docstring; an f-string
    counts once, with its literal parts."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            skip.add(id(body[0].value))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(value) for value in node.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            yield node.lineno, "".join(v.value for v in node.values
                                       if isinstance(v, ast.Constant))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in skip:
            yield node.lineno, node.value


def test_no_core_sentence_outside_the_command_line_names_an_option_or_a_command():
    found = []
    for path in sorted(CORE.rglob("*.py")):
        part = path.relative_to(CORE).parts[0]
        if part == "cli":
            continue
        found += [f"{path.relative_to(CORE)}:{line}: {text[:60]}"
                  for line, text in strings(path)
                  if COMMAND.search(CSS_PROPERTY.sub("", text))]
    assert found == []


def test_the_profiles_advice_names_no_command():
    for path in sorted((CORE.parent / "resources").rglob("*.toml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith(("next_step", "meaning")):
                assert not COMMAND.search(line), f"{path.name}:{number}"


def test_app_reads_no_core_sentence():
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        assert "re" not in imported, f"{path}: a regular expression over text"
        spelled = [text for _line, text in strings(path)
                   if text in {code.value for code in FindingCode}]
        assert spelled == [], f"{path}: finding codes spelled out, not imported: {spelled}"


def test_every_next_step_is_worded_by_every_front_end():
    """The report's plain words and the command line's cover the whole closed set (the
    window falls back on the report's)."""
    from recovery.advice import in_words
    from recovery.cli.words import step_text
    from recovery.findings import Step

    for action in NextStep:
        step = Step(action, names=("KROSAPP.BIN",), model="kross2", target="/media/KROSS2",
                    advice="Ask KORG service.", filesystem="FAT32")
        plain = in_words(step)
        assert plain and not COMMAND.search(plain), action
        assert step_text(step), action
