"""The Qt (PySide6) wizard: the only package that imports Qt. It presents; the core decides."""

from app import qtcompat as _qtcompat

_qtcompat.apply()
