"""Scan a carton with the laptop's camera: a live preview, DataMatrix decoded from the frames.

Qt Multimedia (PySide6-Addons) gives the camera and the preview; each frame is decoded with
zxing-cpp (:func:`nurse_app.services.carton.decode_image`), at most every :data:`DECODE_EVERY_MS`
so the preview stays smooth.  The first GS1 code read closes the dialog with it.  Without Qt
Multimedia, without a camera, or without permission to use it, the nurse gets one sentence
saying so and can scan with the handheld scanner, a picture or the keyboard instead.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from nurse_app.services.carton import decode_image

DECODE_EVERY_MS = 150
NO_CAMERA = (
    "No camera was found on this computer (or the app may not use it): scan with the handheld "
    "scanner, use a picture of the code, or type the lot."
)


def camera_support() -> tuple[object | None, str | None]:
    """The Qt Multimedia module and the default camera, or why there is none (one sentence)."""
    try:
        from PySide6 import QtMultimedia
    except ImportError as exc:
        return None, f"Camera scanning is not available here (Qt Multimedia did not load: {exc}). {NO_CAMERA}"
    if not QtMultimedia.QMediaDevices.videoInputs():
        return None, NO_CAMERA
    return QtMultimedia, None


class CameraScanDialog(QDialog):
    """The preview and the decoding; :attr:`code` is the first carton code read (or None)."""

    def __init__(self, multimedia, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Scan the carton with the camera")
        self.code: str | None = None
        self.failure: str | None = None
        self._last_decode = 0.0
        layout = QVBoxLayout(self)
        from PySide6.QtMultimediaWidgets import QVideoWidget

        self.preview = QVideoWidget()
        self.preview.setMinimumSize(480, 360)
        layout.addWidget(self.preview, 1)
        self.status = QLabel("Hold the carton's square code in front of the camera, about a hand away.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.camera = multimedia.QCamera(multimedia.QMediaDevices.defaultVideoInput())
        self.camera.errorOccurred.connect(self._camera_error)
        self.session = multimedia.QMediaCaptureSession(self)
        self.session.setCamera(self.camera)
        self.session.setVideoOutput(self.preview)
        self.preview.videoSink().videoFrameChanged.connect(self._frame)
        self.camera.start()

    def _camera_error(self, _error, text: str) -> None:
        self.failure = f"The camera could not be used ({text}). {NO_CAMERA}"
        self.reject()

    def _frame(self, frame) -> None:
        now = time.monotonic() * 1000
        if now - self._last_decode < DECODE_EVERY_MS or not frame.isValid():
            return
        self._last_decode = now
        self.handle_image(frame.toImage())

    def handle_image(self, image: QImage) -> bool:
        """Decode one frame; the first carton code closes the dialog.  True when one was read."""
        if image.isNull():
            return False
        grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
        codes = decode_image(grey)
        if not codes:
            return False
        self.code = codes[0]
        self.accept()
        return True

    def done(self, result: int) -> None:
        self.camera.stop()
        super().done(result)


def scan_with_camera(parent: QWidget) -> tuple[str | None, str | None]:
    """(the code read, None), or (None, why not): the camera dialog, or the sentence without one."""
    multimedia, why_not = camera_support()
    if multimedia is None:
        return None, why_not
    dialog = CameraScanDialog(multimedia, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    dialog.exec()
    return dialog.code, dialog.failure
