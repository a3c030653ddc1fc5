"""The frame shared by the record forms (patient, order, nurse profile).

Why a shared frame: every form must behave the same for a nurse with one hand busy.
Enter saves, Esc cancels, Ctrl+Enter saves even from a notes box, each label has a
mnemonic (Alt+letter) and is the accessible name of its input, and a refused value is
shown *under its own field* (the store and the dose engine name the field in their
errors), never in a pop-up per typo.  Errors that belong to no field go in a banner at
the top of the form.  Esc on a form with typing in it asks before discarding it.
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core.errors import InputError, NurseAppError
from nurse_app.ui.timers import call_soon
from nurse_app.ui.widgets import ATTENTION_COLOUR, ERROR_COLOUR, FieldWithError, WithError


class MessageBanner(QLabel):
    """A coloured, wrapped message line; hidden while empty."""

    COLOURS: ClassVar[dict[str, str]] = {"error": ERROR_COLOUR, "attention": ATTENTION_COLOUR}

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.hide()

    def show_message(self, text: str | None, kind: str = "error") -> None:
        self.setText(text or "")
        self.setStyleSheet(
            f"background: {self.COLOURS[kind]}; color: white; padding: 6px; "
            f"border-radius: 4px; font-weight: bold;"
        )
        self.setAccessibleName(text or "")
        self.setVisible(bool(text))


def editor_of(field: QWidget) -> QWidget:
    """The input inside a form field (the widget that takes focus and the label's buddy)."""
    if isinstance(field, FieldWithError):
        return field.edit
    if isinstance(field, WithError):
        return field.editor
    return field


def notes_box(name: str) -> WithError:
    """A multi-line notes box where Tab moves on (so the keyboard never gets stuck in it)."""
    box = QPlainTextEdit()
    box.setObjectName(f"{name}_edit")
    box.setTabChangesFocus(True)
    box.setFixedHeight(64)
    return WithError(name, box)


class FormDialog(QDialog):
    """A form: rows of labelled fields with inline errors, a banner, Save and Cancel.

    Subclasses add rows with :meth:`add_row` (``name`` is the field name the store or
    the dose engine uses in its errors) and implement :meth:`save`, returning True when
    the record was written.  :meth:`show_error` routes an error to its field.
    """

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.fields: dict[str, QWidget] = {}
        self.banner = MessageBanner("form_banner")
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.DontWrapRows)
        # Parented at once: Save registers as the dialog's default only inside the dialog.  Without
        # that, the first button to get focus (Cancel, when Save is still disabled or the nurse
        # Shift+Tabs from the first field) became the default, and Enter closed the form.
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel, self)
        self.save_button = self.buttons.button(QDialogButtonBox.Save)
        self.save_button.setText("&Save")
        self.save_button.setObjectName("save_button")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Save (Enter or Ctrl+Enter)")
        self.buttons.button(QDialogButtonBox.Cancel).setToolTip("Close without saving (Esc)")
        self.buttons.accepted.connect(self.try_save)
        self.buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.try_save)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(self.banner)
        # The form is the left column; a form with a live preview adds it on the right,
        # which keeps the dialog short enough for a 768-pixel-high laptop screen.
        self.columns = QHBoxLayout()  # its spacing would be inherited by the form's rows
        left = QVBoxLayout()
        left.addLayout(self.form)
        left.addStretch(1)
        self.columns.addLayout(left, 1)
        self.layout_.addLayout(self.columns)

    def finish_layout(self) -> None:
        """Call once every row is added: buttons go last."""
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.buttons)

    def first_field(self) -> QWidget | None:
        """The input of the first row that can take typing (what the cursor starts in)."""
        for field in self.fields.values():
            editor = editor_of(field)
            if editor.isEnabled() and editor.focusPolicy() != Qt.NoFocus:
                return editor
        return None

    def showEvent(self, event) -> None:
        """Open with the cursor in the first field, never on a button: typing at once fills
        the field, and a Space typed in a name does not press Save."""
        super().showEvent(event)
        first = self.first_field()
        if first is not None and not event.spontaneous():
            self.activateWindow()
            first.setFocus(Qt.ActiveWindowFocusReason)

    def grow_to_fit(self) -> None:
        """Grow (never shrink) to the content after messages appear, within the screen."""
        self.layout_.activate()
        wanted = self.sizeHint().expandedTo(self.size())
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is not None:
            wanted = wanted.boundedTo(screen.size())
        if wanted != self.size():
            self.resize(wanted)

    # ------------------------------------------------------------------ rows
    def add_row(self, label: str, name: str | None, field: QWidget) -> QLabel:
        """A row whose label (with an ``&`` mnemonic) names and focuses the input."""
        caption = QLabel(label)
        editor = editor_of(field)
        caption.setBuddy(editor)
        editor.setAccessibleName(label.replace("&", ""))
        self.watch(field)
        self.form.addRow(caption, field)
        if name:
            self.fields[name] = field
        return caption

    # ------------------------------------------------------------------ unsaved typing
    def watch(self, field: QWidget) -> None:
        """Note when the nurse changes ``field``, so closing the form can ask first."""
        editor = editor_of(field)
        signal = getattr(field, "changed", None) or next(
            getattr(editor, name)
            for name in ("textChanged", "currentIndexChanged", "toggled")
            if hasattr(editor, name)
        )
        signal.connect(self._mark_modified)
        if hasattr(field, "set_error"):  # a red message goes once the nurse corrects the field
            signal.connect(lambda *_: field.set_error(None))
        self._modified = False

    def _mark_modified(self, *_) -> None:
        self._modified = True

    def mark_unmodified(self) -> None:
        """Call after filling the form from the record: nothing typed yet."""
        self._modified = False

    def reject(self) -> None:
        """Esc or the close button: a form with typing in it asks before throwing it away."""
        if getattr(self, "_modified", False):
            answer = QMessageBox.question(
                self,
                "Discard what you typed?",
                "Close this form without saving? What you typed in it will be lost.",
                QMessageBox.Discard | QMessageBox.Cancel,
                QMessageBox.Cancel,
            )
            if answer != QMessageBox.Discard:
                return
        super().reject()

    def closeEvent(self, event) -> None:
        """The window's close button asks like Esc; a close() from the program does not."""
        if not event.spontaneous():
            self._modified = False
        super().closeEvent(event)

    # ------------------------------------------------------------------ errors
    def set_field_error(self, name: str, message: str | None) -> bool:
        """Show ``message`` under field ``name``; False if the form has no such field."""
        field = self.fields.get(name)
        if field is None or not hasattr(field, "set_error"):
            return False
        field.set_error(message)
        if message and self.isVisible():
            # A long message wraps over several lines; the dialog does not grow for wrapped text
            # by itself, so the message would be cut off.
            call_soon(self, self.grow_to_fit)
        return True

    def clear_errors(self) -> None:
        for field in self.fields.values():
            if hasattr(field, "set_error"):
                field.set_error(None)
        self.banner.show_message(None)

    def show_error(self, exc: NurseAppError) -> None:
        """Mark the field the error names and focus it; otherwise use the banner."""
        name = exc.field if isinstance(exc, InputError) else None
        if name and self.set_field_error(name, str(exc)):
            editor_of(self.fields[name]).setFocus()
            if isinstance(editor_of(self.fields[name]), QLineEdit):
                editor_of(self.fields[name]).selectAll()
            return
        self.banner.show_message(str(exc))

    def has_field_errors(self) -> bool:
        return any(
            getattr(f, "error", None) is not None and not f.error.isHidden() for f in self.fields.values()
        )

    # ------------------------------------------------------------------ saving
    def try_save(self) -> None:
        if not self.save_button.isEnabled():
            return
        if self.save():
            self.accept()

    def save(self) -> bool:  # pragma: no cover - every form overrides it
        raise NotImplementedError
