"""Small reusable widgets: an input with an inline error line, a section box, a value tile.

Colours come from the palette (light or dark system theme) except the accents for "invalid",
"needs attention" and "fine".  As backgrounds (banners with white text) the saturated accents
read on either theme; as text colours they need a lighter tint on a dark palette, which
:func:`text_colour` picks.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

# The regimen combo boxes' "Other order" entry (the calculator and the order form).
CUSTOM_REGIMEN = "__custom__"

ERROR_COLOUR = "#d32f2f"
ATTENTION_COLOUR = "#e65100"
OK_COLOUR = "#2e7d32"
# The same accents as text on a dark palette: the shades above fall under 3:1 contrast on dark
# greys; these tints reach 4.5:1 (WCAG AA) even on Fusion's lighter tab-page grey (#434343).
_TEXT_ON_DARK = {ERROR_COLOUR: "#ffa4a4", ATTENTION_COLOUR: "#ffb74d", OK_COLOUR: "#8fd694"}


def is_dark(palette: QPalette | None = None) -> bool:
    """True when ``palette`` (default: the application's) puts light text on a dark window."""
    palette = palette or QApplication.palette()
    return (
        palette.color(QPalette.ColorRole.Window).lightness()
        < palette.color(QPalette.ColorRole.WindowText).lightness()
    )


def text_colour(accent: str, palette: QPalette | None = None) -> str:
    """``accent`` as a text (or thin border) colour that reads on ``palette``'s window and base.

    Read when the text is shown, so a widget built or refreshed under a dark system theme gets
    the light tint; as a banner background keep the accent itself (with white text).
    """
    return _TEXT_ON_DARK.get(accent, accent) if is_dark(palette) else accent


def error_label(name: str, parent: QWidget | None = None) -> QLabel:
    """The one-line inline error shown under a field (hidden until there is a message)."""
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {text_colour(ERROR_COLOUR)};")
    label.hide()
    return label


def read_only_table(name: str, headers: list[str]) -> QTableWidget:
    """A display-only table: no editing, no selection, no focus stop, no row numbers."""
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setAccessibleName(name.replace("_", " "))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.NoSelection)
    table.setFocusPolicy(Qt.NoFocus)
    return table


def fit_placeholder(edit: QLineEdit) -> None:
    """Never narrower than its hint text: a placeholder cut to "w…" tells the nurse nothing."""
    if edit.placeholderText():
        edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(edit.placeholderText()) + 14)


class FieldWithError(QWidget):
    """An editor (line edit, optionally with a unit combo) and a one-line inline error below it."""

    changed = Signal()

    def __init__(self, name: str, placeholder: str = "", units: tuple[str, ...] = (), parent=None):
        super().__init__(parent)
        self.setObjectName(f"field_{name}")
        self.edit = QLineEdit(self)
        self.edit.setObjectName(f"{name}_edit")
        self.edit.setPlaceholderText(placeholder)
        fit_placeholder(self.edit)
        self.edit.setAccessibleName(name.replace("_", " "))
        self.edit.textChanged.connect(self.changed)
        self.unit: QComboBox | None = None
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        if units:
            self.unit = QComboBox(self)
            self.unit.setObjectName(f"{name}_unit")
            self.unit.addItems(list(units))
            self.unit.setAccessibleName(f"{name.replace('_', ' ')} unit")
            self.unit.currentIndexChanged.connect(self.changed)
            row.addWidget(self.unit)
        self.error = error_label(f"{name}_error", self)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addLayout(row)
        box.addWidget(self.error)

    def text(self) -> str:
        return self.edit.text().strip()

    def unit_text(self) -> str | None:
        return self.unit.currentText() if self.unit else None

    def set_error(self, message: str | None) -> None:
        if message:
            self.error.setText(message)
            self.error.show()
            self.edit.setStyleSheet(
                f"QLineEdit {{ border: 2px solid {text_colour(ERROR_COLOUR)}; border-radius: 3px; }}"
            )
            self.edit.setToolTip(message)
        else:
            self.error.hide()
            self.edit.setStyleSheet("")
            self.edit.setToolTip("")


class Section(QGroupBox):
    def __init__(self, title: str, parent=None):
        super().__init__(title, parent)
        self.body = QVBoxLayout(self)
        self.body.setSpacing(6)


class Tile(QFrame):
    """A headline figure: small caption, large value, small detail."""

    def __init__(self, name: str, caption: str, parent=None):
        super().__init__(parent)
        self.setObjectName(f"tile_{name}")
        self.setFrameShape(QFrame.StyledPanel)
        # As high as its wrapped detail needs at its width (a fixed height cut the second line off
        # at 1280×720).
        policy = QSizePolicy(QSizePolicy.Expanding, QSizePolicy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.caption = QLabel(caption, self)
        self.value = QLabel("–", self)
        self.value.setObjectName(f"{name}_value")
        self.value.setTextInteractionFlags(Qt.TextSelectableByMouse)
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        self.detail = QLabel("", self)
        self.detail.setObjectName(f"{name}_detail")
        self.detail.setWordWrap(True)
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 6, 10, 6)
        box.setSpacing(0)
        box.addWidget(self.caption)
        box.addWidget(self.value)
        box.addWidget(self.detail)

    def set(self, value: str, detail: str = "") -> None:
        self.value.setText(value)
        self.detail.setText(detail)
        self.setAccessibleName(f"{self.caption.text()}: {value} {detail}".strip())


class WithError(QWidget):
    """Any editor (combo box, text box, check box) with the same inline error line as
    :class:`FieldWithError`, so every field of a form reports problems in one way."""

    def __init__(self, name: str, editor: QWidget, parent=None):
        super().__init__(parent)
        self.setObjectName(f"field_{name}")
        self.editor = editor
        editor.setParent(self)
        self.error = error_label(f"{name}_error", self)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(editor)
        box.addWidget(self.error)

    def set_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))
        self.editor.setToolTip(message or "")


def two_panes(left: QWidget, right: QWidget, stretch: tuple[int, int], sizes: tuple[int, int]) -> QSplitter:
    """Left and right panes the nurse can resize: ``stretch`` shares extra width, ``sizes`` is
    the split at 1366 px wide."""
    splitter = QSplitter(Qt.Horizontal)
    splitter.addWidget(left)
    splitter.addWidget(right)
    for index, factor in enumerate(stretch):
        splitter.setStretchFactor(index, factor)
    splitter.setSizes(list(sizes))
    return splitter


def readable_when_read_only(widget: QWidget, read_only: bool) -> None:
    """A signed (read-only) record in normal contrast, not disabled grey on grey.

    Its fields stay refused for editing (disabled), but their text, labels, tick boxes and
    selections are painted with the normal colours; only buttons keep the greyed text that says
    "not available now".  Turning it off returns to the application's palette.
    """
    if not read_only:
        widget.setPalette(QPalette())
        widget.setAttribute(Qt.WidgetAttribute.WA_SetPalette, False)
        return
    palette = QPalette(widget.palette())
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Base,
        QPalette.ColorRole.Window,
        QPalette.ColorRole.HighlightedText,
        QPalette.ColorRole.Highlight,
        QPalette.ColorRole.PlaceholderText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, palette.color(QPalette.ColorGroup.Active, role))
    widget.setPalette(palette)
    # Drop-down lists and table headers draw their text as "button text": readable too.
    from PySide6.QtWidgets import QHeaderView

    for child in [*widget.findChildren(QComboBox), *widget.findChildren(QHeaderView)]:
        own = QPalette(child.palette())
        own.setColor(
            QPalette.ColorGroup.Disabled,
            QPalette.ColorRole.ButtonText,
            own.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText),
        )
        child.setPalette(own)


def allergy_colour(state, palette: QPalette | None = None) -> str:
    """The one colour of an allergy line on every page (core.allergies decides the state):
    listed allergies red, not recorded orange, "none known" green; readable on the theme."""
    from nurse_app.core.allergies import NONE_KNOWN, NOT_RECORDED

    accent = {NOT_RECORDED: ATTENTION_COLOUR, NONE_KNOWN: OK_COLOUR}.get(state.state, ERROR_COLOUR)
    return text_colour(accent, palette)
