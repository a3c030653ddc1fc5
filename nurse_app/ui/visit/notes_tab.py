"""The visit's notes: free text, saved as it is typed (a short pause), never lost on close.

The text goes to ``visits.notes`` (printed under "Notes" on the visit summary).  Each save
checks that nobody else changed the notes meanwhile (``if_unchanged``); a signed or voided
visit shows them read-only.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

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
        # Whether an interpreter was used, and who (agencies document both): saved as changed.
        self.interpreter_used = QCheckBox("An interpreter was &used at this visit")
        self.interpreter_used.setObjectName("interpreter_used")
        self.interpreter = QLineEdit()
        self.interpreter.setObjectName("interpreter")
        self.interpreter.setAccessibleName("Interpreter: name or ID, or the phone line")
        self.interpreter.setPlaceholderText("name or ID, or the phone line and its call number")
        who = QLabel("&Who")
        who.setBuddy(self.interpreter)
        interpreter_row = QHBoxLayout()
        interpreter_row.addWidget(self.interpreter_used)
        interpreter_row.addWidget(who)
        interpreter_row.addWidget(self.interpreter, 1)
        visit = ctx.visit
        self._interpreter_saved = (visit.get("interpreter_used"), visit.get("interpreter"))
        self.interpreter_used.setChecked(bool(visit.get("interpreter_used")))
        self.interpreter.setText(visit.get("interpreter") or "")
        self.interpreter_used.toggled.connect(lambda _on: self.save_interpreter())
        self.interpreter.editingFinished.connect(self.save_interpreter)

        layout = QVBoxLayout(self)
        layout.addLayout(interpreter_row)
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

    def save_interpreter(self) -> bool:
        """Save whether an interpreter was used and who, if either changed since it was shown."""
        if self.editor.isReadOnly():
            return True
        used = self.interpreter_used.isChecked()
        who = self.interpreter.text().strip() or None
        shown_used, shown_who = self._interpreter_saved
        unchanged = (shown_used is not None and bool(shown_used) == used) or (shown_used is None and not used)
        if unchanged and shown_who == who:
            return True  # as shown (an unticked box and no name on a new visit: still not recorded)
        if attempt(
            self.error,
            lambda: self.ctx.store.update_visit(
                self.ctx.visit_id,
                interpreter_used=used,
                interpreter=who,
                if_unchanged={"interpreter_used": shown_used, "interpreter": shown_who},
            ),
        ):
            self._interpreter_saved = (int(used), who)
            self.ctx.changed.emit("visit")
            return True
        return False

    def set_read_only(self, read_only: bool) -> None:
        self.interpreter_used.setEnabled(not read_only)
        self.interpreter.setReadOnly(read_only)
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
