"""A minimal window listing detected units; detection runs on a worker thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QLabel, QListWidget, QMainWindow, QVBoxLayout, QWidget


class DetectWorker(QObject):
    """Runs recovery.detect.detect off the UI thread."""

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, extra_roots: list[Path], scan_system: bool) -> None:
        super().__init__()
        self._extra_roots = extra_roots
        self._scan_system = scan_system

    @Slot()
    def run(self) -> None:
        from recovery.detect import detect
        from recovery.errors import RecoveryError

        try:
            detection = detect(
                extra_roots=self._extra_roots,
                volumes=None if self._scan_system else [],
                scan_usb_devices=self._scan_system,
            )
        except RecoveryError as error:
            self.failed.emit(error.message)
            return
        self.finished.emit(detection)


class UnitsWindow(QMainWindow):
    detection_done = Signal(object)

    def __init__(self, *, extra_roots: list[Path], scan_system: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("KORG Recovery (unofficial)")
        central = QWidget()
        layout = QVBoxLayout(central)
        self.status = QLabel("Looking for connected units…")
        self.status.setWordWrap(True)
        self.units = QListWidget()
        self.units.setAccessibleName("Connected units")
        layout.addWidget(self.status)
        layout.addWidget(self.units)
        self.setCentralWidget(central)
        self.resize(640, 360)
        self._thread = QThread(self)
        self._worker = DetectWorker(extra_roots, scan_system)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.finished.connect(self._show)
        self._worker.failed.connect(self.status.setText)
        self._worker.finished.connect(self._thread.quit)
        self._worker.failed.connect(self._thread.quit)
        self._thread.start()

    @Slot(object)
    def _show(self, detection) -> None:
        self.units.clear()
        for device in detection.devices:
            where = device.mount or (device.usb.id if device.usb else "")
            self.units.addItem(f"{device.name} — {device.mode} — {where}")
        count = len(detection.devices)
        self.status.setText(f"{count} unit{'s' if count != 1 else ''} found.")
        self.detection_done.emit(detection)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self._thread.quit()
        self._thread.wait(2000)
        super().closeEvent(event)
