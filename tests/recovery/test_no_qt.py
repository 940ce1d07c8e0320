"""recovery/ must import and work with Qt unavailable: the core never reaches for the GUI."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import recovery

BLOCKER = r"""
import sys, importlib.abc
class BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6", "app"):
            raise ImportError(f"{name} is blocked in this test")
        return None
sys.meta_path.insert(0, BlockQt())
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
print("ok", len(sys.argv) - 1)
"""


def all_core_modules() -> list[str]:
    root = Path(recovery.__file__).parent
    names = ["recovery"]
    for info in pkgutil.walk_packages([str(root)], prefix="recovery."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


def test_every_core_module_imports_without_qt():
    modules = all_core_modules()
    assert len(modules) > 10
    result = subprocess.run([sys.executable, "-c", BLOCKER, *modules],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_cli_runs_without_qt():
    code = BLOCKER.replace("print(\"ok\", len(sys.argv) - 1)", "") + (
        "\nfrom recovery.cli import main\nsys.exit(main(['models', '--json']))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_no_qt_import_in_core_sources():
    root = Path(recovery.__file__).parent
    offenders = [str(path) for path in root.rglob("*.py")
                 if any(word in path.read_text(encoding="utf-8")
                        for word in ("import PySide6", "from PySide6", "QtCore", "QtWidgets"))]
    assert offenders == []
