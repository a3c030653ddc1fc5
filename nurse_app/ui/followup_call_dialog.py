"""The follow-up call form: when, reached or not, the rule's questions, advice, escalation.

Every change is saved at once as a draft (autosave, audited by the store); Sign makes the
record read-only, like a visit note.  The questions, the advice and why the call is made
come from the rule in ``resources/followups.toml``.
"""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core.errors import NurseAppError
from nurse_app.services import schedule as service
from nurse_app.store.times import parse_utc
from nurse_app.ui.widgets import ERROR_COLOUR, text_colour

_ANSWERS = (("", "—"), ("yes", "Yes"), ("no", "No"), ("unknown", "Unknown"))
_AUTOSAVE_MS = 300


class FollowupCallDialog(QDialog):
    def __init__(self, store, call_id: int, parent=None):
        super().__init__(parent)
        self.setObjectName("followup_call_dialog")
        self.store = store
        self.call_id = call_id
        self.call = store.get_followup_call(call_id)
        self.rule = service.call_rule(self.call)
        patient = store.get_patient(self.call["patient_id"])
        title = self.rule.title if self.rule else self.call["rule_id"]
        self.setWindowTitle(f"{title}: {patient['name']}")
        self._loading = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_AUTOSAVE_MS)
        self._timer.timeout.connect(self.save_now)

        outer = QVBoxLayout(self)
        head = QLabel(
            f"<h3>{title}</h3><p><b>{patient['name']}</b> ({patient['mrn']})"
            + (f", due from {self.call['due_date']}" if self.call.get("due_date") else "")
            + "</p>"
        )
        head.setWordWrap(True)
        outer.addWidget(head)
        if self.rule:
            why = QLabel(self.rule.why + (f" <b>{self.rule.note}</b>" if self.rule.note else ""))
            why.setObjectName("call_why")
            why.setWordWrap(True)
            outer.addWidget(why)

        body = QWidget()
        form = QFormLayout(body)
        self.called_at = QDateTimeEdit()
        self.called_at.setObjectName("called_at")
        self.called_at.setCalendarPopup(True)
        self.called_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        form.addRow("Call time", self.called_at)
        self.reached = QComboBox()
        self.reached.setObjectName("reached")
        for data, text in ((None, "—"), (True, "Reached the patient"), (False, "Not reached")):
            self.reached.addItem(text, data)
        form.addRow("Reached", self.reached)

        self.answer_boxes: dict[str, QComboBox] = {}
        self.note_edits: dict[str, QLineEdit] = {}
        self.text_edits: dict[str, QLineEdit] = {}
        questions = QGroupBox("Questions")
        qform = QFormLayout(questions)
        for q in self.rule.questions if self.rule else ():
            row = QHBoxLayout()
            if q.answer == "text":
                edit = QLineEdit()
                edit.setObjectName(f"text_{q.id}")
                edit.setAccessibleName(q.text)
                self.text_edits[q.id] = edit
                row.addWidget(edit, 1)
            else:
                box = QComboBox()
                box.setObjectName(f"answer_{q.id}")
                box.setAccessibleName(q.text)
                for data, text in _ANSWERS:
                    box.addItem(text, data)
                note = QLineEdit()
                note.setObjectName(f"note_{q.id}")
                note.setPlaceholderText("note")
                self.answer_boxes[q.id], self.note_edits[q.id] = box, note
                row.addWidget(box)
                row.addWidget(note, 1)
            label = QLabel(q.text)
            label.setWordWrap(True)
            qform.addRow(label, row)
        form.addRow(questions)

        self.advice = QPlainTextEdit()
        self.advice.setObjectName("advice")
        self.advice.setFixedHeight(70)
        form.addRow("Advice given", self.advice)
        self.escalated = QCheckBox("Prescriber told")
        self.escalated.setObjectName("escalated")
        self.escalated_to = QLineEdit()
        self.escalated_to.setObjectName("escalated_to")
        self.escalated_to.setPlaceholderText(patient.get("prescriber") or "who")
        self.escalated_at = QDateTimeEdit()
        self.escalated_at.setObjectName("escalated_at")
        self.escalated_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        esc = QHBoxLayout()
        esc.addWidget(self.escalated)
        esc.addWidget(self.escalated_to, 1)
        esc.addWidget(self.escalated_at)
        form.addRow("Escalation", esc)
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("call_notes")
        self.notes.setFixedHeight(60)
        form.addRow("Notes", self.notes)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        self.status = QLabel()
        self.status.setObjectName("call_status")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)
        buttons = QDialogButtonBox()
        self.sign_button = buttons.addButton("Sign call record", QDialogButtonBox.AcceptRole)
        self.sign_button.setObjectName("sign_call")
        self.sign_button.clicked.connect(self.sign)
        close = buttons.addButton(QDialogButtonBox.Close)
        close.clicked.connect(self.accept)
        outer.addWidget(buttons)

        self._load()
        for w in (self.called_at, self.escalated_at):
            w.dateTimeChanged.connect(self._changed)
        for w in (self.reached, *self.answer_boxes.values()):
            w.currentIndexChanged.connect(self._changed)
        for w in (self.escalated_to, *self.note_edits.values(), *self.text_edits.values()):
            w.textChanged.connect(self._changed)
        for w in (self.advice, self.notes):
            w.textChanged.connect(self._changed)
        self.escalated.toggled.connect(self._changed)
        self.resize(640, 680)

    # ------------------------------------------------------------------ data
    def _load(self) -> None:
        c = self.call
        self._loading = True
        self.called_at.setDateTime(self._qt(c.get("called_at")) or QDateTime.currentDateTime())
        self.reached.setCurrentIndex(
            self.reached.findData(c.get("reached")) if c.get("reached") is not None else 0
        )
        answers = c.get("answers") or {}
        for qid, box in self.answer_boxes.items():
            entry = answers.get(qid) or {}
            box.setCurrentIndex(max(0, box.findData(entry.get("answer") or "")))
            self.note_edits[qid].setText(entry.get("note", ""))
        for qid, edit in self.text_edits.items():
            edit.setText((answers.get(qid) or {}).get("text", ""))
        self.advice.setPlainText(c.get("advice") or "")
        self.escalated.setChecked(bool(c.get("escalated_to")))
        self.escalated_to.setText(c.get("escalated_to") or "")
        self.escalated_at.setDateTime(self._qt(c.get("escalated_at")) or QDateTime.currentDateTime())
        self.notes.setPlainText(c.get("notes") or "")
        signed = c["status"] == "signed"
        for kind in (QComboBox, QLineEdit, QDateTimeEdit, QCheckBox):
            for w in self.findChildren(kind):
                w.setEnabled(not signed)
        for w in (self.advice, self.notes):
            w.setReadOnly(signed)
        self.sign_button.setEnabled(not signed)
        if signed:
            self._say(f"Signed by {c['signed_by']} at {c['signed_at']}: read-only.")
        else:
            self._say("Draft: every change is saved as you type.")
        self._loading = False

    @staticmethod
    def _qt(text: str | None) -> QDateTime | None:
        if not text:
            return None
        local = parse_utc(text).astimezone()
        return QDateTime.fromString(local.strftime("%Y-%m-%dT%H:%M:%S"), Qt.ISODate)

    @staticmethod
    def _aware(edit: QDateTimeEdit):
        return edit.dateTime().toPython().astimezone()

    def values(self) -> dict:
        answers = {}
        for qid, box in self.answer_boxes.items():
            entry = {"answer": box.currentData() or None}
            if self.note_edits[qid].text().strip():
                entry["note"] = self.note_edits[qid].text().strip()
            answers[qid] = entry
        for qid, edit in self.text_edits.items():
            if edit.text().strip():
                answers[qid] = {"answer": None, "text": edit.text().strip()}
        told = self.escalated.isChecked()
        return {
            "called_at": self._aware(self.called_at),
            "reached": self.reached.currentData(),
            "answers": answers,
            "advice": self.advice.toPlainText(),
            "escalated_to": self.escalated_to.text().strip() if told else "",
            "escalated_at": self._aware(self.escalated_at) if told else None,
            "notes": self.notes.toPlainText(),
        }

    def _changed(self, *_args) -> None:
        if not self._loading:
            self._say("Saving…")
            self._timer.start()

    def save_now(self) -> bool:
        self._timer.stop()
        if self.call["status"] == "signed":
            return True
        try:
            self.call = service.save_call(
                self.store,
                self.call_id,
                if_unchanged={"updated_at": self.call["updated_at"]},
                **self.values(),
            )
        except NurseAppError as exc:
            self._say(str(exc), error=True)
            return False
        self._say("Saved (draft).")
        return True

    def sign(self) -> None:
        if not self.save_now():
            return
        try:
            self.call = service.sign_call(self.store, self.call_id)
        except NurseAppError as exc:
            self._say(str(exc), error=True)
            return
        self._load()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {text_colour(ERROR_COLOUR)};" if error else "")

    def done(self, result: int) -> None:
        if self.call["status"] != "signed" and self._timer.isActive():
            self.save_now()
        super().done(result)


def open_call(parent, store, call_id: int) -> dict:
    """Show the form (modal); returns the record as saved."""
    dialog = FollowupCallDialog(store, call_id, parent)
    dialog.exec()
    try:
        return store.get_followup_call(call_id)
    except NurseAppError as exc:
        QMessageBox.warning(parent, "Follow-up call", str(exc))
        return {}
