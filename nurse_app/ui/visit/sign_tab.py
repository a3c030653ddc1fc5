"""Sign tab: what is still incomplete, signing, and addenda once signed."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nurse_app.services.signing import add_addendum, sign_visit
from nurse_app.store.times import now_utc
from nurse_app.ui.visit.common import VisitContext, attempt, error_label, local_time
from nurse_app.ui.visit.proof_widgets import PatientSignatureBox, VisitTimesBox
from nurse_app.ui.widgets import ATTENTION_COLOUR, OK_COLOUR, Section, text_colour

# The store's words for a visit without a departure (Store.signing_problems).
NO_DEPARTURE = "the end time is not recorded"


class SignTab(QWidget):
    signed = Signal()

    # (guide id, handout language spec): the nurse asked for the patient's handout
    handout_requested = Signal(str, str)

    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("sign_tab")
        self.ctx = ctx
        self.problems = QLabel()
        self.problems.setObjectName("signing_problems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.RichText)
        self.end_button = QPushButton("Leaving now: set the d&eparture time")
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

        self.handout_box = Section("Leave with the patient")
        self.handout_note = QLabel()
        self.handout_note.setObjectName("handout_note")
        self.handout_note.setWordWrap(True)
        self.handout_button = QPushButton("Handout to leave at ho&me…")
        self.handout_button.setObjectName("patient_handout")
        self.handout_button.clicked.connect(self._ask_for_handout)
        self.handout_box.body.addWidget(self.handout_note)
        self.handout_box.body.addWidget(self.handout_button, 0, Qt.AlignLeft)

        self.times_box = VisitTimesBox(ctx)
        self.patient_box = PatientSignatureBox(ctx)
        content = QWidget()
        content.setObjectName("sign_content")
        layout = QVBoxLayout(content)
        layout.addWidget(self.times_box)
        layout.addWidget(self.patient_box)
        layout.addWidget(self.ready_box)
        layout.addWidget(self.signature)
        layout.addWidget(self.handout_box)
        layout.addWidget(self.addendum_box)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("sign_scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        # The handout's title comes from the guides: read when the tab is first shown, so a
        # start that reopens a visit (a running infusion) does not parse every guide.
        self._handout_shown = False
        ctx.changed.connect(lambda _what: self.refresh())
        self.refresh()

    def showEvent(self, event) -> None:
        if not self._handout_shown:
            self._handout_shown = True
            self._show_handout_choice()
        super().showEvent(event)

    def refresh(self) -> None:
        record = self.ctx.record
        visit = record.visit
        signed = visit["status"] == "signed"
        self.times_box.refresh()
        self.patient_box.refresh()
        self.ready_box.setVisible(not signed)
        self.addendum_box.setVisible(signed)
        self.signature.setToolTip(f"Content hash {visit['content_hash']}" if signed else "")
        if signed:
            ok = record.seal_ok
            seal = "content verified against its hash" if ok else "WARNING: content does not match its hash"
            self.signature.setText(
                f"<p style='color:{text_colour(OK_COLOUR)}'><b>Signed</b> by {visit['signed_by']} on "
                f"{local_time(visit['signed_at'], True)}. This visit is read-only; corrections are addenda.</p>"
                f"<p><small>Seal {visit['content_hash'][:12]} ({seal}).</small></p>"
            )
            addenda = record.addenda
            self.addenda.setText(
                "".join(
                    f"<p><b>{local_time(a['written_at'], True)}, {a['author']}:</b> {a['text']}</p>"
                    for a in addenda
                )
                or "No addenda."
            )
            return
        self.signature.setText("")
        state = record.signing
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
        # Signing without a departure time asks for it (see _sign), so that alone does not block.
        others = [p for p in state.problems if p != NO_DEPARTURE]
        self.sign_button.setEnabled(not state.signed and not others and not state.pending_warnings)

    def _set_end(self) -> None:
        if attempt(self.error, lambda: self.ctx.store.update_visit(self.ctx.visit_id, ended_at=now_utc())):
            self.ctx.changed.emit("visit")
            if self.sign_button.isEnabled():  # this button is now disabled: focus fell out to the page list
                self.sign_button.setFocus()

    def _sign(self, confirm: bool = True) -> None:
        if not self.ctx.visit.get("ended_at"):
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "No departure time",
                "The departure time is not recorded. Are you leaving the home now?\n\n"
                "(If you left earlier, set it now and correct it with the reason on this tab.)",
                parent=self,
            )
            box.setObjectName("departure_question")
            leave = box.addButton("Leaving now: record the departure", QMessageBox.ButtonRole.AcceptRole)
            leave.setObjectName("record_departure")
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.setDefaultButton(leave)
            box.exec()
            if box.clickedButton() is not leave:
                return
            if not attempt(
                self.error, lambda: self.ctx.store.update_visit(self.ctx.visit_id, ended_at=now_utc())
            ):
                return
            self.ctx.changed.emit("visit")
            if not self.sign_button.isEnabled():
                return
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

    # ------------------------------------------------------------------ the patient's handout
    def _handout_choice(self) -> tuple[str, str]:
        """(guide id, handout language) for this visit's patient: the guide of their indication, in
        their preferred language when it has handouts (bilingual with English), else English."""
        from nurse_app.core.guides import guide_for_regimen
        from nurse_app.core.languages import handout_languages

        patient = self.ctx.record.patient
        langs = handout_languages(patient.get("preferred_language"))
        return guide_for_regimen(patient.get("indication")), "+".join(langs)

    def _show_handout_choice(self) -> None:
        from nurse_app.core.guides import load_guides
        from nurse_app.core.languages import language_text

        guide_id, lang = self._handout_choice()
        patient = self.ctx.record.patient
        title = load_guides()[guide_id].title
        in_language = "English" if lang == "en" else f"the patient's language ({language_text(patient)})"
        self.handout_note.setText(f"The {title} handout, in {in_language}.")

    def _ask_for_handout(self) -> None:
        self.handout_requested.emit(*self._handout_choice())
