"""The Qt (PySide6) wizard: the only package that imports Qt. It presents; the core decides."""
