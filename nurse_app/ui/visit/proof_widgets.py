"""Proof of visit on screen (issue 23): where the visit takes place (confirmed at arrival), the
visit's arrival and departure with corrections, and the patient's or caregiver's signature.

Thin widgets: the rules and the wording are in :mod:`nurse_app.core.visit_proof` and
:mod:`nurse_app.reports.visit_proof_text`; every change goes through the store, which checks,
audits and (once signed) refuses it.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core import visit_proof
from nurse_app.reports.visit_proof_text import patient_signature, time_lines
from nurse_app.store.times import to_local
from nurse_app.ui.signature_pad import SignaturePad
from nurse_app.ui.visit.common import VisitContext, attempt, error_label, local_time, now_utc
from nurse_app.ui.widgets import ATTENTION_COLOUR, OK_COLOUR, Section, text_colour


def _combo(name: str, choices, empty: str | None = None) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    if empty is not None:
        combo.addItem(empty, None)
    for c in choices:
        combo.addItem(c.title, c.id)
    return combo


# ----------------------------------------------------------------------------- where


class PlaceDialog(QDialog):
    """Somewhere other than the service address: the place typed, coordinates typed if asked."""

    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("place_dialog")
        self.setWindowTitle("Where the visit takes place")
        self.ctx = ctx
        rules = visit_proof.load_rules()
        self.address = QLineEdit()
        self.address.setObjectName("place_address")
        self.address.setPlaceholderText("street, city (e.g. daughter's home, 4 Elm Rd, Springfield)")
        self.latitude = QLineEdit()
        self.latitude.setObjectName("place_latitude")
        self.longitude = QLineEdit()
        self.longitude.setObjectName("place_longitude")
        needed = " (your agency's policy asks for them)" if rules.require_coordinates else " (optional)"
        note = QLabel(visit_proof.DEVICE_LOCATION_NOTE + " Coordinates are typed" + needed + ".")
        note.setWordWrap(True)
        note.setObjectName("device_location_note")
        form = QFormLayout()
        for label, edit in (
            ("&Where", self.address),
            ("&Latitude", self.latitude),
            ("L&ongitude", self.longitude),
        ):
            caption = QLabel(label)
            caption.setBuddy(edit)
            edit.setAccessibleName(label.replace("&", ""))
            form.addRow(caption, edit)
        self.error = error_label("place_error")
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.Save)
        self.ok_button.setObjectName("place_save")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def _save(self) -> None:
        if attempt(
            self.error,
            lambda: self.ctx.store.confirm_location(
                self.ctx.visit_id,
                at_service_address=False,
                address=self.address.text(),
                latitude=self.latitude.text().strip() or None,
                longitude=self.longitude.text().strip() or None,
            ),
        ):
            self.accept()


def confirm_service_address(ctx: VisitContext, error: QLabel) -> bool:
    return attempt(error, lambda: ctx.store.confirm_location(ctx.visit_id, at_service_address=True))


class ArrivalBanner(QWidget):
    """Above the visit's tabs on a draft whose place is not confirmed: the arrival time stamped
    when the visit started, and one click to confirm the service address (or type another)."""

    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("arrival_banner")
        self.ctx = ctx
        self.text = QLabel()
        self.text.setObjectName("arrival_text")
        self.text.setWordWrap(True)
        self.here_button = QPushButton("&Yes, at the service address")
        self.here_button.setObjectName("confirm_service_address")
        self.here_button.clicked.connect(self._here)
        self.elsewhere_button = QPushButton("Somewhere else…")
        self.elsewhere_button.setObjectName("other_place")
        self.elsewhere_button.clicked.connect(self._elsewhere)
        self.error = error_label("arrival_error")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        column = QVBoxLayout()
        column.addWidget(self.text)
        column.addWidget(self.error)
        row.addLayout(column, 1)
        row.addWidget(self.here_button, 0, Qt.AlignTop)
        row.addWidget(self.elsewhere_button, 0, Qt.AlignTop)
        ctx.changed.connect(lambda _what: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        visit = self.ctx.visit
        show = visit["status"] == "draft" and not visit.get("location_kind")
        self.setVisible(show)
        if not show:
            return
        patient = self.ctx.record.patient
        address = visit_proof.address_text(patient)
        arrived = f"Arrived {local_time(visit['started_at'])}. " if visit.get("started_at") else ""
        where = (
            f"Is this visit at the service address, <b>{escape(address)}</b>?"
            if address
            else "No service address on record: say where this visit takes place."
        )
        self.text.setText(
            f"<span style='color:{text_colour(ATTENTION_COLOUR)}'>{arrived}{where}</span> "
            f"<small>{escape(visit_proof.DEVICE_LOCATION_NOTE)}</small>"
        )
        self.here_button.setEnabled(bool(address))

    def _here(self) -> None:
        if confirm_service_address(self.ctx, self.error):
            self.ctx.changed.emit("visit")

    def _elsewhere(self) -> None:
        dialog = PlaceDialog(self.ctx, self.window())
        if dialog.exec() == QDialog.Accepted:
            self.ctx.changed.emit("visit")


# ----------------------------------------------------------------------------- times


class TimeCorrectionDialog(QDialog):
    """Correct the arrival or the departure of a draft, with the reason."""

    def __init__(self, ctx: VisitContext, field: str, parent=None):
        super().__init__(parent)
        self.setObjectName("time_correction_dialog")
        what = "arrival" if field == "started_at" else "departure"
        self.setWindowTitle(f"Correct the {what} time")
        self.ctx, self.field = ctx, field
        current = ctx.visit.get(field)
        self.when = QDateTimeEdit()
        self.when.setObjectName("corrected_time")
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when.setCalendarPopup(True)
        moment = to_local(current) if current else None
        self.when.setDateTime(
            QDateTime.fromSecsSinceEpoch(int(moment.timestamp())) if moment else QDateTime.currentDateTime()
        )
        self.reason = QLineEdit()
        self.reason.setObjectName("correction_reason")
        self.reason.setPlaceholderText("why (e.g. stamped late: arrived at 09:00)")
        form = QFormLayout()
        for label, edit in ((f"Correct {what} &time", self.when), ("&Reason", self.reason)):
            caption = QLabel(label)
            caption.setBuddy(edit)
            edit.setAccessibleName(label.replace("&", ""))
            form.addRow(caption, edit)
        self.error = error_label("correction_error")
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.Save)
        self.ok_button.setObjectName("correction_save")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def _save(self) -> None:
        moment = self.when.dateTime().toPython().astimezone()
        if attempt(
            self.error,
            lambda: self.ctx.store.correct_visit_time(
                self.ctx.visit_id, self.field, moment, self.reason.text()
            ),
        ):
            self.accept()


class VisitTimesBox(Section):
    """Arrival, departure, time in the home (the visit length), the infusion's own times, and
    where the visit took place; corrections with a reason while the visit is a draft."""

    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__("Arrival, departure and place (EVV)", parent)
        self.setObjectName("visit_times_box")
        self.ctx = ctx
        self.summary = QLabel()
        self.summary.setObjectName("visit_times")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.body.addWidget(self.summary)
        self.correct_arrival = QPushButton("Correct arri&val…")
        self.correct_arrival.setObjectName("correct_arrival")
        self.correct_arrival.clicked.connect(lambda: self._correct("started_at"))
        self.correct_departure = QPushButton("Correct de&parture…")
        self.correct_departure.setObjectName("correct_departure")
        self.correct_departure.clicked.connect(lambda: self._correct("ended_at"))
        self.place_button = QPushButton("Change the pla&ce…")
        self.place_button.setObjectName("change_place")
        self.place_button.clicked.connect(self._place)
        self.error = error_label("visit_times_error")
        row = QHBoxLayout()
        for b in (self.correct_arrival, self.correct_departure, self.place_button):
            row.addWidget(b)
        row.addStretch(1)
        self.buttons = QWidget()
        self.buttons.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self.body.addWidget(self.buttons)
        self.body.addWidget(self.error)

    def refresh(self) -> None:
        visit = self.ctx.visit
        rows = time_lines(visit, self.ctx.record.infusion_events)
        rows += (("Where", visit_proof.location_line(visit)),)
        self.summary.setText(
            "<table cellspacing='0' cellpadding='2'>"
            + "".join(
                f"<tr><td><b>{escape(k)}</b>&nbsp;&nbsp;</td><td>{escape(v)}</td></tr>" for k, v in rows
            )
            + "</table>"
        )
        draft = visit["status"] == "draft"
        self.buttons.setVisible(draft)
        self.correct_departure.setEnabled(bool(visit.get("ended_at")))

    def _correct(self, field: str) -> None:
        if TimeCorrectionDialog(self.ctx, field, self.window()).exec() == QDialog.Accepted:
            self.ctx.changed.emit("visit")

    def _place(self) -> None:
        if PlaceDialog(self.ctx, self.window()).exec() == QDialog.Accepted:
            self.ctx.changed.emit("visit")


# ----------------------------------------------------------------------------- signature


class PatientSignatureBox(Section):
    """The patient (or a named caregiver with their relation) signs on the pad; or the nurse
    records why nobody can, from the list plus a note."""

    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__("Patient's or caregiver's signature", parent)
        self.setObjectName("patient_signature_box")
        self.ctx = ctx
        rules = visit_proof.load_rules()
        self.recorded = QLabel()
        self.recorded.setObjectName("patient_signature_recorded")
        self.recorded.setWordWrap(True)
        self.recorded.setTextFormat(Qt.RichText)
        self.signer = QComboBox()
        self.signer.setObjectName("signer")
        self.signer.addItem("The patient", "patient")
        self.signer.addItem("A caregiver for the patient", "caregiver")
        self.caregiver_name = QLineEdit()
        self.caregiver_name.setObjectName("caregiver_name")
        self.caregiver_name.setPlaceholderText("caregiver's full name")
        self.relation = _combo("caregiver_relation", rules.relations, "Relation…")
        self.pad = SignaturePad()
        self.pad.done.connect(self._done)
        self.shown_pad = SignaturePad()  # the recorded signature, as drawn
        self.shown_pad.setObjectName("recorded_signature")
        self.shown_pad.set_read_only(True)
        self.shown_pad.setFocusPolicy(Qt.NoFocus)
        self.clear_button = QPushButton("C&lear signature")
        self.clear_button.setObjectName("clear_signature")
        self.clear_button.clicked.connect(self.pad.clear)
        self.done_button = QPushButton("Signature d&one")
        self.done_button.setObjectName("signature_done")
        self.done_button.clicked.connect(self._done)
        self.reason = _combo("no_signature_reason", rules.no_signature_reasons, "Choose why…")
        self.reason_note = QLineEdit()
        self.reason_note.setObjectName("no_signature_note")
        self.reason_note.setPlaceholderText("what happened (required for Other)")
        self.reason_button = QPushButton("Recor&d: cannot sign")
        self.reason_button.setObjectName("record_no_signature")
        self.reason_button.clicked.connect(self._no_signature)
        self.take_back = QPushButton("Take bac&k")
        self.take_back.setObjectName("take_back_signature")
        self.take_back.clicked.connect(self._take_back)
        self.error = error_label("patient_signature_error")

        self.entry = QWidget()
        entry = QVBoxLayout(self.entry)
        entry.setContentsMargins(0, 0, 0, 0)
        who = QFormLayout()
        for label, widget in (
            ("Signed &by", self.signer),
            ("Caregiver's &name", self.caregiver_name),
            ("Rela&tion", self.relation),
        ):
            caption = QLabel(label)
            caption.setBuddy(widget)
            widget.setAccessibleName(label.replace("&", ""))
            who.addRow(caption, widget)
        entry.addLayout(who)
        entry.addWidget(self.pad)
        pad_buttons = QHBoxLayout()
        pad_buttons.addWidget(self.clear_button)
        pad_buttons.addWidget(self.done_button)
        pad_buttons.addStretch(1)
        entry.addLayout(pad_buttons)
        cannot = QHBoxLayout()
        caption = QLabel("Nobody can sign: why")
        caption.setBuddy(self.reason)
        self.reason.setAccessibleName("Reason there is no signature")
        self.reason_note.setAccessibleName("Note on the missing signature")
        cannot.addWidget(caption)
        cannot.addWidget(self.reason, 1)
        cannot.addWidget(self.reason_note, 2)
        cannot.addWidget(self.reason_button)
        entry.addLayout(cannot)
        self.body.addWidget(self.recorded)
        self.body.addWidget(self.shown_pad)
        self.body.addWidget(self.entry)
        self.body.addWidget(self.take_back, 0, Qt.AlignLeft)
        self.body.addWidget(self.error)
        self.signer.currentIndexChanged.connect(lambda *_: self._signer_changed())
        self._signer_changed()

    def _signer_changed(self) -> None:
        caregiver = self.signer.currentData() == "caregiver"
        self.caregiver_name.setEnabled(caregiver)
        self.relation.setEnabled(caregiver)

    def refresh(self) -> None:
        visit = self.ctx.visit
        draft = visit["status"] == "draft"
        has = bool(visit.get("patient_signer") or visit.get("no_signature_reason"))
        shown = patient_signature(visit, None)
        if has:
            colour = OK_COLOUR if visit.get("patient_signer") else ATTENTION_COLOUR
            self.recorded.setText(
                f"<p style='color:{text_colour(colour)}'>"
                + "<br>".join(f"<b>{escape(k)}:</b> {escape(v)}" for k, v in shown.rows)
                + "</p>"
            )
        else:
            required = visit_proof.load_rules().require_patient_signature
            self.recorded.setText(
                "Ask the patient (or the caregiver) to sign below"
                + (" (your agency's policy requires it, or the reason there is none)." if required else ".")
            )
        strokes = visit.get("patient_signature_strokes")
        self.shown_pad.set_strokes(strokes or [])
        self.shown_pad.setVisible(bool(strokes))
        self.entry.setVisible(draft and not has)
        self.take_back.setVisible(draft and has)

    def _done(self) -> None:
        if self.pad.is_empty():
            self.error.setText("The signature pad is empty: ask the patient to sign, or record why not.")
            self.error.show()
            return
        caregiver = self.signer.currentData() == "caregiver"
        if attempt(
            self.error,
            lambda: self.ctx.store.record_patient_signature(
                self.ctx.visit_id,
                signer=self.signer.currentData(),
                strokes=self.pad.strokes(),
                png=self.pad.png(),
                name=self.caregiver_name.text() if caregiver else None,
                relation=self.relation.currentData() if caregiver else None,
            ),
        ):
            self.ctx.changed.emit("visit")

    def _no_signature(self) -> None:
        reason = self.reason.currentData()
        if reason is None:
            self.error.setText("Choose why nobody can sign.")
            self.error.show()
            return
        if attempt(
            self.error,
            lambda: self.ctx.store.record_no_signature(
                self.ctx.visit_id, reason=reason, note=self.reason_note.text()
            ),
        ):
            self.ctx.changed.emit("visit")

    def _take_back(self) -> None:
        if attempt(self.error, lambda: self.ctx.store.clear_patient_signature(self.ctx.visit_id)):
            self.pad.clear()
            self.ctx.changed.emit("visit")


__all__ = [
    "ArrivalBanner",
    "PatientSignatureBox",
    "PlaceDialog",
    "TimeCorrectionDialog",
    "VisitTimesBox",
    "now_utc",
]
