"""The yardstick for ``startup.py``: a bare PySide6 QMainWindow, ready when painted and idle.

It uses the same readiness rule as ``nurse-app --smoke-test`` (first paint of the central
widget, then a zero timer: every pending event processed) and prints the same kind of line.
"""

import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


class Probe(QObject):
    def __init__(self, widget, app):
        super().__init__(widget)
        self.widget, self.app, self.painted = widget, app, False
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 - Qt API
        if obj is self.widget and event.type() == QEvent.Paint and not self.painted:
            self.painted = True
            QTimer.singleShot(0, self.ready)
        return False

    def ready(self):
        print("ready", flush=True)
        self.app.exit(0)


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    label = QLabel("bare window")
    window.setCentralWidget(label)
    window.resize(1280, 760)
    window.show()
    Probe(label, app)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
