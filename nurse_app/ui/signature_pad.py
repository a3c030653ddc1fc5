"""A signature pad: the patient or caregiver signs with a mouse, touchpad, touch screen or stylus.

Each stroke is kept as its points (vector, stored with the visit) and drawn as a
:class:`QPainterPath`; :meth:`SignaturePad.png` renders the strokes to a PNG for the summary.
Mouse, tablet (stylus) and touch events all add to the same strokes.  From the keyboard:
Delete or Backspace clears the pad, Enter says the signature is done (``done``), as the
tab's Clear and Done buttons do.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

# A readable size for a signature on a laptop screen (pixels), and its line width.
MIN_WIDTH, MIN_HEIGHT = 480, 170
PEN_WIDTH = 2.5


class SignaturePad(QWidget):
    changed = Signal()  # a stroke was added or the pad cleared
    done = Signal()  # Enter pressed on the pad

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("signature_pad")
        self.setAccessibleName("Signature pad: sign with the mouse, a finger or a stylus")
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)
        self.setMaximumWidth(960)  # wider than this is no easier to sign
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAttribute(Qt.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WA_StaticContents, True)
        self.setCursor(Qt.CrossCursor)
        self._strokes: list[list[QPointF]] = []
        self._drawing = False
        self._read_only = False

    def sizeHint(self) -> QSize:
        return QSize(MIN_WIDTH + 120, MIN_HEIGHT)

    # ------------------------------------------------------------------ content
    def is_empty(self) -> bool:
        return not any(self._strokes)

    def clear(self) -> None:
        self._strokes = []
        self._drawing = False
        self.update()
        self.changed.emit()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.setCursor(Qt.ArrowCursor if read_only else Qt.CrossCursor)

    def strokes(self) -> list[list[list[float]]]:
        """The strokes as lists of [x, y] in pad pixels (what the record stores)."""
        return [[[round(p.x(), 1), round(p.y(), 1)] for p in s] for s in self._strokes if s]

    def set_strokes(self, strokes: list[list[list[float]]]) -> None:
        self._strokes = [[QPointF(x, y) for x, y in s] for s in strokes or ()]
        self.update()

    def png(self) -> bytes:
        """The strokes rendered black on white at the pad's size, as PNG bytes."""
        size = self.size().expandedTo(QSize(MIN_WIDTH, MIN_HEIGHT))
        image = QImage(size, QImage.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        self._paint_strokes(painter, QColor("black"))
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())

    # ------------------------------------------------------------------ drawing
    def _begin(self, point: QPointF) -> None:
        if self._read_only:
            return
        self._drawing = True
        self._strokes.append([point])
        self.update()

    def _extend(self, point: QPointF) -> None:
        if self._drawing and self._strokes:
            self._strokes[-1].append(point)
            self.update()

    def _end(self, point: QPointF | None = None) -> None:
        if not self._drawing:
            return
        if point is not None and point != self._strokes[-1][-1]:
            self._strokes[-1].append(point)
        if len(self._strokes[-1]) == 1:  # a tap is a dot
            p = self._strokes[-1][0]
            self._strokes[-1].append(QPointF(p.x() + 0.5, p.y() + 0.5))
        self._drawing = False
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton:
            self.setFocus(Qt.MouseFocusReason)
            self._begin(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.LeftButton:
            self._extend(event.position())

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.LeftButton:
            self._end(event.position())

    def tabletEvent(self, event) -> None:
        kind = event.type()
        if kind == QEvent.TabletPress:
            self._begin(event.position())
        elif kind == QEvent.TabletMove:
            self._extend(event.position())
        elif kind == QEvent.TabletRelease:
            self._end(event.position())
        event.accept()  # no synthesized mouse events: the stroke is drawn once

    def event(self, event) -> bool:
        kind = event.type()
        if kind in (QEvent.TouchBegin, QEvent.TouchUpdate, QEvent.TouchEnd, QEvent.TouchCancel):
            points = event.points()
            if points:
                where = points[0].position()
                if kind == QEvent.TouchBegin:
                    self._begin(where)
                elif kind == QEvent.TouchUpdate:
                    self._extend(where)
                else:
                    self._end(where)
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if self._read_only:
            super().keyPressEvent(event)
            return
        if event.key() in (Qt.Key_Delete, Qt.Key_Backspace, Qt.Key_Escape):
            self.clear()
            return
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self.done.emit()
            return
        super().keyPressEvent(event)

    def _paint_strokes(self, painter: QPainter, colour: QColor) -> None:
        painter.setRenderHint(QPainter.Antialiasing)
        pen = QPen(colour, PEN_WIDTH, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
        painter.setPen(pen)
        for stroke in self._strokes:
            if not stroke:
                continue
            path = QPainterPath(stroke[0])
            for p in stroke[1:]:
                path.lineTo(p)
            painter.drawPath(path)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.fillRect(rect, QColor("white"))
        frame = QColor("#1f4e79") if self.hasFocus() else QColor("#8a8a8a")
        painter.setPen(QPen(frame, 2 if self.hasFocus() else 1))
        painter.drawRect(rect)
        base = self.height() - 36
        painter.setPen(QPen(QColor("#b0b0b0"), 1, Qt.DashLine))
        painter.drawLine(24, base, self.width() - 24, base)
        painter.setPen(QColor("#707070"))
        painter.drawText(24, base + 20, "Sign above the line" if not self._read_only else "Signed")
        self._paint_strokes(painter, QColor("black"))
        painter.end()
