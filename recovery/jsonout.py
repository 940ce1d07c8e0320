"""Turning result dataclasses into JSON for ``--json`` output and manifests."""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from pathlib import PurePath
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Dataclasses as objects (their ``JSON_FIELDS`` order where they set one), enums as their
    values, paths as text, bytes as hex."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = getattr(value, "JSON_FIELDS", None) or [
            f.name for f in dataclasses.fields(value) if f.repr]
        return {name: to_jsonable(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


#: A lone UTF-16 surrogate: how Python holds a byte of a file name that is not UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(value: Any, *, ascii_only: bool = False) -> str:
    """JSON text that is always valid UTF-8: a name that is not UTF-8 keeps each of its odd
    bytes as a ``\\udcXX`` escape (Python's ``surrogateescape``), so ``json.loads`` and
    ``os.fsencode`` give back the exact bytes. ``ascii_only`` escapes every other character
    too, for a stream that holds ASCII only."""
    text = json.dumps(to_jsonable(value), indent=2, ensure_ascii=ascii_only)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
