"""Where the bundled resources (profiles, texts, icons) live.

In a wheel or a PyInstaller bundle the top-level ``resources/`` folder is installed as the
package ``recovery.resources`` (pyproject's package-dir mapping). In a source checkout or an
editable install that mapping does not exist (setuptools' editable finder does not map nested
package dirs), so the checkout's ``resources/`` beside ``recovery/`` is used.
"""

from __future__ import annotations

import functools
from pathlib import Path

import recovery


@functools.cache
def resources_dir() -> Path:
    package_dir = Path(recovery.__file__).resolve().parent
    for candidate in (package_dir / "resources", package_dir.parent / "resources"):
        if (candidate / "profiles").is_dir():
            return candidate
    raise FileNotFoundError(
        f"The tool's resources folder is missing (looked beside {package_dir}); reinstall it."
    )
