"""Sign tab: what is still incomplete, signing, and addenda once signed."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nurse_app.services.signing import add_addendum, sign_visit, signing_state
from nurse_app.store.times import now_utc
from nurse_app.ui.visit.common import VisitContext, attempt, error_label, local_time
from nurse_app.ui.widgets import ATTENTION_COLOUR, OK_COLOUR, Section, text_colour


class SignTab(QWidget):
    signed = Signal()

    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("sign_tab")
        self.ctx = ctx
        self.problems = QLabel()
        self.problems.setObjectName("signing_problems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.RichText)
        self.end_button = QPushButton("Set the visit &end time to now")
        self.end_button.setObjectName("set_end_time")
        self.end_button.clicked.connect(self._set_end)
        self.sign_button = QPushButton("&Sign visit")
        self.sign_button.setObjectName("sign_visit")
        self.sign_button.setMinimumHeight(40)
        # Not connect(self._sign): clicked(bool) would pass checked=False as ``confirm`` and sign
        # without asking.
        self.sign_button.clicked.connect(lambda: self._sign())
        self.error = error_label("sign_error")
        self.signature = QLabel()
        self.signature.setObjectName("signature")
        self.signature.setWordWrap(True)
        self.signature.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.ready_box = Section("Before you sign")
        self.ready_box.body.addWidget(self.problems)
        row = QHBoxLayout()
        row.addWidget(self.end_button)
        row.addWidget(self.sign_button)
        row.addStretch(1)
        self.ready_box.body.addLayout(row)
        self.ready_box.body.addWidget(self.error)

        self.addendum_box = Section("Addenda (corrections and late entries; they cannot be changed)")
        self.addenda = QLabel()
        self.addenda.setObjectName("addenda_list")
        self.addenda.setWordWrap(True)
        self.addenda.setTextFormat(Qt.RichText)
        self.addendum_text = QPlainTextEdit()
        self.addendum_text.setObjectName("addendum_text")
        self.addendum_text.setAccessibleName("Addendum text")
        self.addendum_text.setPlaceholderText("Write the correction or late entry here.")
        self.addendum_text.setMaximumHeight(90)
        self.addendum_text.setTabChangesFocus(True)  # Tab moves on to Add addendum, no tab character
        self.addendum_button = QPushButton("&Add addendum")
        self.addendum_button.setObjectName("add_addendum")
        self.addendum_button.clicked.connect(self._add_addendum)
        self.addendum_error = error_label("addendum_error")
        for w in (self.addenda, self.addendum_text, self.addendum_error):
            self.addendum_box.body.addWidget(w)
        self.addendum_box.body.addWidget(self.addendum_button, 0, Qt.AlignLeft)

        layout = QVBoxLayout(self)
        layout.addWidget(self.ready_box)
        layout.addWidget(self.signature)
        layout.addWidget(self.addendum_box)
        layout.addStretch(1)
        ctx.changed.connect(lambda _what: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        store, vid = self.ctx.store, self.ctx.visit_id
        visit = self.ctx.visit
        signed = visit["status"] == "signed"
        self.ready_box.setVisible(not signed)
        self.addendum_box.setVisible(signed)
        self.signature.setToolTip(f"Content hash {visit['content_hash']}" if signed else "")
        if signed:
            ok = store.verify_visit(vid)
            seal = "content verified against its hash" if ok else "WARNING: content does not match its hash"
            self.signature.setText(
                f"<p style='color:{text_colour(OK_COLOUR)}'><b>Signed</b> by {visit['signed_by']} on "
                f"{local_time(visit['signed_at'], True)}. This visit is read-only; corrections are addenda.</p>"
                f"<p><small>Seal {visit['content_hash'][:12]} ({seal}).</small></p>"
            )
            addenda = store.visit_addenda(vid)
            self.addenda.setText(
                "".join(
                    f"<p><b>{local_time(a['written_at'], True)}, {a['author']}:</b> {a['text']}</p>"
                    for a in addenda
                )
                or "No addenda."
            )
            return
        self.signature.setText("")
        state = signing_state(store, vid, visit)
        items = [f"<li>{p[0].upper() + p[1:]}</li>" for p in state.problems]
        items += [f"<li>Calculation warning not acknowledged: {w}</li>" for w in state.pending_warnings]
        if state.missing_calculation:
            items.append("<li>No dose calculation saved: enter today's weight on the Dose tab.</li>")
        if items:
            self.problems.setText(
                f"<p style='color:{text_colour(ATTENTION_COLOUR)}'><b>Still to do:</b></p>"
                f"<ul>{''.join(items)}</ul>"
            )
        else:
            self.problems.setText(
                f"<p style='color:{text_colour(OK_COLOUR)}'><b>Ready to sign.</b> Check the patient education "
                f"items, including the itchy blistering rash that can appear 8 to 10 days after "
                f"IVIG.</p>"
            )
        self.end_button.setEnabled(not visit.get("ended_at"))
        self.sign_button.setEnabled(state.can_sign)

    def _set_end(self) -> None:
        if attempt(self.error, lambda: self.ctx.store.update_visit(self.ctx.visit_id, ended_at=now_utc())):
            self.ctx.changed.emit("visit")
            if self.sign_button.isEnabled():  # this button is now disabled: focus fell out to the page list
                self.sign_button.setFocus()

    def _sign(self, confirm: bool = True) -> None:
        if confirm:
            answer = QMessageBox.question(
                self,
                "Sign this visit?",
                "After signing, this visit and its entries cannot be changed. "
                "Corrections are added as addenda.\n\nSign now?",
                QMessageBox.Yes | QMessageBox.No,
                QMessageBox.No,
            )
            if answer != QMessageBox.Yes:
                return
        if attempt(self.error, lambda: sign_visit(self.ctx.store, self.ctx.visit_id)):
            self.ctx.changed.emit("visit")
            self.signed.emit()

    def _add_addendum(self) -> None:
        text = self.addendum_text.toPlainText()
        if attempt(self.addendum_error, lambda: add_addendum(self.ctx.store, self.ctx.visit_id, text)):
            self.addendum_text.clear()
            self.ctx.changed.emit("addenda")

    def set_read_only(self, read_only: bool) -> None:
        pass  # the tab shows signing or addenda according to the visit's status
