"""The yardstick for ``startup.py``: a bare PySide6 QMainWindow, ready when painted and idle.

It uses the same readiness rule as ``nurse-app --smoke-test`` (first paint of the central
widget, then a zero timer: every pending event processed) and prints the same kind of line.

``--table``: the central widget is a QTableView over a small Python table model (25 rows,
4 columns) instead of a label -- the least any window listing records does.  Qt calls the
model's ``headerData`` with a ``Qt.Orientation``, so this window also pays for creating
the ``Qt`` namespace's Python enums (some 10-20 ms here) which the bare label never
touches.  It is a reference row only: the goal stays measured against the bare label.
"""

import sys

from PySide6.QtCore import QAbstractTableModel, QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTableView


class TableModel(QAbstractTableModel):
    def rowCount(self, parent=None):
        return 25

    def columnCount(self, parent=None):
        return 4

    def data(self, index, role=0):
        return f"row {index.row()} col {index.column()}" if role == 0 else None

    def headerData(self, section, orientation, role=0):
        return f"column {section}" if role == 0 else None


class Probe(QObject):
    def __init__(self, widget, app):
        super().__init__(widget)
        self.widget, self.app, self.painted = widget, app, False
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
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
    if "--table" in sys.argv[1:]:
        label = QTableView()
        label.setModel(TableModel(label))
    else:
        label = QLabel("bare window")
    window.setCentralWidget(label)
    window.resize(1280, 760)
    window.show()
    Probe(label, app)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
