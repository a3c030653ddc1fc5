"""Finds what a nurse could not read on the screen: clipped labels, buttons and check boxes, and
lists or logs whose content overflows without a scroll bar (issue 11 §4)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QCheckBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTabBar,
    QWidget,
)


def _inside_scroll_area(widget: QWidget, top: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _visible_rect(widget: QWidget, top: QWidget) -> QRect:
    """The part of ``widget`` its ancestors (up to ``top``) leave on the screen, in its coordinates."""
    rect = widget.rect()
    child, parent = widget, widget.parentWidget()
    offset = QPoint(0, 0)
    while parent is not None:
        offset += child.pos()
        rect = rect.intersected(parent.rect().translated(-offset))
        if parent is top:
            break
        child, parent = parent, parent.parentWidget()
    return rect


def _name(widget: QWidget) -> str:
    text = getattr(widget, "text", lambda: "")()
    return f"{type(widget).__name__}({widget.objectName() or '-'}: {text[:40]!r})"


def problems(top: QWidget) -> list[str]:
    """Every visible QLabel, QPushButton and QCheckBox under ``top`` narrower (or, wrapped, lower)
    than it needs, or cut off by its parents outside a scroll area; every scrollable view whose
    content overflows with its scroll bar turned off."""
    found: list[str] = []
    for widget in top.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not top.window():
            continue
        if isinstance(widget, (QPushButton, QCheckBox)):
            if isinstance(widget.parentWidget(), QTabBar):
                continue
            hint = (
                widget.minimumSizeHint()
                if isinstance(widget, QCheckBox) and not widget.text()
                else widget.sizeHint()
            )
            if widget.width() < hint.width() or widget.height() < min(hint.height(), widget.maximumHeight()):
                found.append(
                    f"{_name(widget)} is {widget.width()}x{widget.height()}, needs "
                    f"{hint.width()}x{hint.height()}"
                )
        elif isinstance(widget, QLabel) and (widget.text() or widget.pixmap() is not None):
            if widget.wordWrap():
                needed = widget.heightForWidth(widget.width())
                if needed > widget.height() + 1:
                    found.append(f"{_name(widget)} is {widget.height()} px high, its text needs {needed}")
            elif widget.width() < widget.minimumSizeHint().width():
                found.append(
                    f"{_name(widget)} is {widget.width()} px wide, needs {widget.minimumSizeHint().width()}"
                )
        elif (
            isinstance(widget, QLineEdit)
            and not widget.text()
            and widget.placeholderText()
            and not isinstance(widget.parentWidget(), QAbstractScrollArea.__mro__[0])
            and type(widget.parentWidget()).__name__
            not in ("QAbstractSpinBox", "QDoubleSpinBox", "QSpinBox", "QComboBox", "QDateEdit")
        ):
            needed = widget.fontMetrics().horizontalAdvance(widget.placeholderText()) + 12
            if widget.width() < needed:  # the hint would show as "w…"
                found.append(
                    f"QLineEdit({widget.objectName() or '-'}: placeholder "
                    f"{widget.placeholderText()!r}) is {widget.width()} px wide, needs {needed}"
                )
            continue
        else:
            if isinstance(widget, QAbstractScrollArea):
                for bar, policy, name in (
                    (widget.verticalScrollBar(), widget.verticalScrollBarPolicy(), "vertical"),
                    (widget.horizontalScrollBar(), widget.horizontalScrollBarPolicy(), "horizontal"),
                ):
                    if bar.maximum() > 0 and policy == Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
                        found.append(f"{_name(widget)} overflows with no {name} scroll bar")
            continue
        if not _inside_scroll_area(widget, top):
            seen = _visible_rect(widget, top)
            if seen.width() < widget.width() - 1 or seen.height() < widget.height() - 1:
                found.append(
                    f"{_name(widget)} is cut off: {seen.width()}x{seen.height()} of "
                    f"{widget.width()}x{widget.height()} shown"
                )
    return found
