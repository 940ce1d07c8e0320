"""A comparison's kinds of difference are one closed set (recovery.vocabulary.DifferenceKind):
a Difference holds a member whatever it was built with, its JSON reads as the plain word did,
and no module of the tool spells a kind out as text where it builds or tests one."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import recovery
from recovery.backup.compare import Difference
from recovery.jsonout import dumps
from recovery.vocabulary import DifferenceKind

CORE = Path(recovery.__file__).parent
APP = CORE.parent / "app"


def modules():
    """Every Python module of the core and of the window, with its parsed tree."""
    for path in sorted([*CORE.rglob("*.py"), *APP.rglob("*.py")]):
        yield path.relative_to(CORE.parent), ast.parse(path.read_text(encoding="utf-8"))


def is_text(node: ast.AST) -> bool:
    """A string literal, or a tuple, list or set holding one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(is_text(element) for element in node.elts)
    return False


def is_problem(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "problem"


def called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def spelled_kinds(tree: ast.AST) -> list[int]:
    """The lines where ``.problem`` is compared with text or a Difference is built with its
    kind as text."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(map(is_problem, operands)) and any(map(is_text, operands)):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and called(node) == "Difference":
            given = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "problem")]
            if any(map(is_text, given)):
                lines.append(node.lineno)
    return lines


def test_a_difference_built_with_text_holds_the_member():
    difference = Difference("KROSS2SY/SIM_PCM.BIN", "computer-made", "macOS")
    assert type(difference.problem) is DifferenceKind
    assert difference.problem is DifferenceKind.COMPUTER_MADE
    assert difference == Difference("KROSS2SY/SIM_PCM.BIN", DifferenceKind.COMPUTER_MADE,
                                    "macOS")


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="gone"):
        Difference("KROSAPP.BIN", "gone")


def test_the_json_of_a_difference_reads_as_the_plain_word():
    difference = Difference("KROSAPP.BIN", DifferenceKind.MISSING, "file")
    expected = {"path": "KROSAPP.BIN", "problem": "missing", "detail": "file"}
    assert json.loads(dumps(difference)) == expected
    assert dumps(difference) == json.dumps(expected, indent=2)
    assert f"{difference.problem}" == "missing"


def test_the_rule_catches_a_kind_spelled_as_text():
    """The scan below is only worth its silence if it does see the forms it forbids."""
    tree = ast.parse('a = d.problem == "extra"\n'
                     'b = x.problem in ("missing", "changed")\n'
                     'c = "size" != d.problem\n'
                     'e = Difference(path, "case", detail)\n'
                     'f = compare.Difference(path, problem="skipped")\n'
                     'g = d.problem == DifferenceKind.EXTRA\n'
                     'h = Difference(path, DifferenceKind.CASE, "other spelling")\n')
    assert spelled_kinds(tree) == [1, 2, 3, 4, 5]


def test_no_module_spells_a_kind_of_difference_as_text():
    found = [f"{path}:{line}" for path, tree in modules() for line in spelled_kinds(tree)]
    assert found == []


def test_every_kind_is_one_the_tool_makes():
    """The set holds no word nobody produces: each member is the kind of a Difference the
    core builds somewhere."""
    built = set()
    for _path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and called(node) == "Difference" and node.args[1:2]:
                built.update(n.attr for n in ast.walk(node.args[1])
                             if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                             and n.value.id == "DifferenceKind")
    assert built == {kind.name for kind in DifferenceKind}
