"""The visit's notes: free text, saved as it is typed (a short pause), never lost on close.

The text goes to ``visits.notes`` (printed under "Notes" on the visit summary).  Each save
checks that nobody else changed the notes meanwhile (``if_unchanged``); a signed or voided
visit shows them read-only.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from nurse_app.ui.visit.common import VisitContext, attempt, error_label

SAVE_DELAY_MS = 500  # a short pause in typing saves


class NotesTab(QWidget):
    PROMPT = "Anything else about this visit: access, how the patient felt, what was agreed, who was called…"
    INTRO = "Visit notes are saved as you type and printed on the visit summary."

    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("notes_tab")
        self.ctx = ctx
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("visit_notes")
        self.editor.setAccessibleName("Visit notes")
        self.editor.setPlaceholderText(self.PROMPT)
        self.editor.setTabChangesFocus(True)
        self.state = QLabel()
        self.state.setObjectName("notes_state")
        self.error = error_label("notes_error")
        intro = self.intro = QLabel(self.INTRO)
        intro.setWordWrap(True)
        intro.setBuddy(self.editor)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.state)
        layout.addWidget(self.error)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SAVE_DELAY_MS)
        self.timer.timeout.connect(self.save)
        self._saved = ctx.visit.get("notes") or ""
        self.editor.setPlainText(self._saved)
        self.editor.textChanged.connect(self._typed)
        self.set_read_only(ctx.signed)

    def _typed(self) -> None:
        self.state.setText("Saving…")
        self.timer.start()

    def save(self) -> bool:
        """Save now if the text changed (also called when the visit or window closes)."""
        self.timer.stop()
        text = self.editor.toPlainText()
        if text == self._saved or self.editor.isReadOnly():
            return True
        if attempt(
            self.error,
            lambda: self.ctx.store.update_visit(
                self.ctx.visit_id, notes=text, if_unchanged={"notes": self._saved}
            ),
        ):
            self._saved = text
            self.state.setText("Saved.")
            self.ctx.changed.emit("visit")
            return True
        self.state.setText("Not saved.")
        return False

    def set_read_only(self, read_only: bool) -> None:
        self.editor.setReadOnly(read_only)
        # A signed visit's notes do not invite typing ("saved as you type", "Anything else…").
        self.editor.setPlaceholderText("No visit notes were written." if read_only else self.PROMPT)
        self.intro.setText(
            "Visit notes, as signed (printed on the visit summary); corrections are addenda on the Sign tab."
            if read_only
            else self.INTRO
        )
        if read_only:
            self.state.setText("Read-only.")
