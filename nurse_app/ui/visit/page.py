"""The Visit page: a header for the patient and order, and a tab per stage of the visit."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core.allergies import allergies
from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.formatting import fmt_date
from nurse_app.services import visits
from nurse_app.store import Store
from nurse_app.ui.visit.checklist_tab import ChecklistTab
from nurse_app.ui.visit.common import VisitContext, local_time, now_utc
from nurse_app.ui.visit.dose_tab import DoseTab
from nurse_app.ui.visit.infusion_tab import InfusionTab
from nurse_app.ui.visit.lots_tab import LotsTab
from nurse_app.ui.visit.notes_tab import NotesTab
from nurse_app.ui.visit.reactions_tab import ReactionsTab
from nurse_app.ui.visit.sign_tab import SignTab
from nurse_app.ui.widgets import ERROR_COLOUR, OK_COLOUR, allergy_colour


def start_visit(
    store: Store, patient_id: int, acknowledged: list[dict] | None = None, same_day_reason: str | None = None
) -> int:
    """Today's visit for the patient: today's draft reopened, else a new draft (see
    :func:`nurse_app.services.visits.start_or_reopen`); ``acknowledged`` start warnings are
    recorded with a new visit."""
    return visits.start_or_reopen(
        store, patient_id, same_day_reason=same_day_reason, acknowledged=acknowledged
    ).visit_id


class VisitPage(QWidget):
    visit_opened = Signal(int)
    status_message = Signal(str)  # for the status bar (an export finished)
    record_changed = Signal()  # anything saved on the open visit (other pages refresh)

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self.setObjectName("visit_page")
        self.store = store
        self.ctx: VisitContext | None = None
        self.patient_name = ""
        self.reopened = False  # the last Start visit reopened today's draft
        self.stack = QStackedWidget()
        empty = QLabel(
            "<h2>No visit open</h2><p>Choose a patient on the <b>Patients</b> page and press "
            "<b>Start visit</b>, or open one of their visits.</p>"
        )
        empty.setObjectName("visit_empty")
        empty.setAlignment(Qt.AlignCenter)
        empty.setWordWrap(True)
        self.stack.addWidget(empty)
        self.body = QWidget()
        self.stack.addWidget(self.body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.stack)

        self.title = QLabel()
        self.title.setObjectName("visit_title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("visit_subtitle")
        self.subtitle.setWordWrap(True)
        self.allergies = QLabel()
        self.allergies.setObjectName("visit_allergies")
        self.allergies.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("visit_status")
        self.export_buttons: dict[str, QPushButton] = {}
        header = QHBoxLayout()
        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(self.subtitle)
        text.addWidget(self.allergies)
        header.addLayout(text, 1)
        header.addWidget(self.status, 0, Qt.AlignTop)
        for key, label in (("pdf", "Save summary as PDF…"), ("print", "Print…"), ("fhir", "Export FHIR…")):
            b = QPushButton(label)
            b.setObjectName(f"export_{key}")
            b.clicked.connect(lambda _=False, k=key: self.export(k))
            header.addWidget(b, 0, Qt.AlignTop)
            self.export_buttons[key] = b
        self.void_button = QPushButton("Void draft…")
        self.void_button.setObjectName("void_visit")
        self.void_button.setToolTip(
            "A visit entered by mistake: keep it in the record, read-only, and no longer a day of the course."
        )
        self.void_button.clicked.connect(self.void_current)
        # Under the patient's name, left: never where the Patients page's Start visit was (top
        # right), so a second click on a slow page switch cannot open it.
        text.addWidget(self.void_button, 0, Qt.AlignLeft)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("visit_tabs")
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(header)
        body.addWidget(self.tabs, 1)

    # ------------------------------------------------------------------ opening
    @property
    def visit_id(self) -> int | None:
        return self.ctx.visit_id if self.ctx else None

    def start_for_patient(self, patient_id: int) -> int | None:
        """Reopen today's draft, or start a visit.  A second visit the same day asks for a
        reason; a new course sooner than the order's interval asks for an acknowledgement
        (recorded with the visit).  None: the nurse cancelled."""
        reason = None
        try:
            started = visits.start_or_reopen(self.store, patient_id, dry_run=True)
        except visits.SameDayVisitError as exc:
            reason, ok = QInputDialog.getText(
                self, "Another visit today", f"{exc}\n\nReason:", QLineEdit.Normal, ""
            )
            if not ok or not reason.strip():
                return None
            started = None
        acknowledged = None
        if started is None or not started.reopened:  # a new visit: check the interval
            _order, _day, _days, warning = visits.plan_visit(self.store, patient_id)
            if warning is not None:
                box = QMessageBox(
                    QMessageBox.Icon.Warning,
                    "New course sooner than the order's interval",
                    warning.message,
                    parent=self,
                )
                box.setObjectName("interval_warning")
                go = box.addButton("Acknowledge and start the visit", QMessageBox.ButtonRole.AcceptRole)
                go.setObjectName("acknowledge_interval")
                box.addButton(QMessageBox.StandardButton.Cancel)
                box.setDefaultButton(QMessageBox.StandardButton.Cancel)
                box.exec()
                if box.clickedButton() is not go:
                    self.status_message.emit(
                        "Visit not started: the new course would be sooner than the order's interval."
                    )
                    return None
                acknowledged = [
                    {
                        "code": warning.code,
                        "message": warning.message,
                        "acknowledged_at": now_utc().isoformat(),
                    }
                ]
        started = visits.start_or_reopen(
            self.store, patient_id, same_day_reason=reason, acknowledged=acknowledged
        )
        self.open_visit(started.visit_id)
        self.reopened = started.reopened
        self.record_changed.emit()
        return started.visit_id

    def infusion_running(self) -> bool:
        """An infusion is in progress on the open draft (started, not finished nor stopped)."""
        tab = getattr(self, "infusion_tab", None)
        return self.ctx is not None and tab is not None and tab.running()

    def shutdown(self) -> None:
        """Stop timers before the record closes (window closing)."""
        notes = getattr(self, "notes_tab", None)
        if notes is not None:
            notes.save()  # typed notes are never lost on close
        tab = getattr(self, "infusion_tab", None)
        if tab is not None:
            tab.stop()

    def close_visit(self) -> None:
        """Back to the empty page (the open visit no longer exists in this record)."""
        self.shutdown()
        self.ctx = None
        self.patient_name = ""
        self._clear_tabs()
        self.stack.setCurrentIndex(0)

    def _clear_tabs(self) -> None:
        while self.tabs.count():
            widget = self.tabs.widget(0)
            self.tabs.removeTab(0)
            widget.deleteLater()
        for name in (
            "dose_tab",
            "lots_tab",
            "checklist_tab",
            "infusion_tab",
            "reactions_tab",
            "sign_tab",
            "notes_tab",
        ):
            self.__dict__.pop(name, None)

    def open_visit(self, visit_id: int) -> None:
        """Open ``visit_id``; a visit that is not in this record raises NotFoundError and
        leaves the page as it was (never half-built). A busy cursor meanwhile, and no click or
        key given while it opens acts on the page it opens (ui.busy)."""
        from nurse_app.ui.busy import busy

        self.store.get_visit(visit_id)  # NotFoundError before anything changes
        with busy():
            self._open_visit(visit_id)

    def _open_visit(self, visit_id: int) -> None:
        self.shutdown()
        self.ctx = VisitContext(self.store, visit_id)
        self.ctx.changed.connect(lambda _what: self._update_header())
        self.ctx.changed.connect(lambda _what: self.record_changed.emit())
        self._clear_tabs()
        try:
            self.dose_tab = DoseTab(self.ctx)
            self.lots_tab = LotsTab(self.ctx)
            self.checklist_tab = ChecklistTab(self.ctx)
            self.infusion_tab = InfusionTab(self.ctx)
            self.reactions_tab = ReactionsTab(
                self.ctx,
                rate_now=lambda: self.infusion_tab.progress().current_rate_ml_h,
                infusion_event=lambda kind, rate, note: self.infusion_tab.record_event(kind, rate, note),
            )
            self.sign_tab = SignTab(self.ctx)
            self.notes_tab = NotesTab(self.ctx)
        except BaseException:
            self.close_visit()
            raise
        for title, tab in (
            ("&1 Dose", self.dose_tab),
            ("&2 Lots", self.lots_tab),
            ("&3 Checklist", self.checklist_tab),
            ("&4 Infusion and vitals", self.infusion_tab),
            ("&5 Reactions", self.reactions_tab),
            ("&6 Sign", self.sign_tab),
            ("&7 Notes", self.notes_tab),
        ):
            self.tabs.addTab(tab, title)
        self.tabs.currentChanged.connect(self._tab_shown)
        self.sign_tab.signed.connect(self._after_signing)
        self.sign_tab.sign_button.pressed.connect(self.notes_tab.save)  # signed with the notes typed
        self._show_read_only(self.ctx.signed)
        if self.ctx.visit["status"] == visits.VOIDED:
            self._set_read_only()
        self._update_header()
        if self.infusion_running():  # a running infusion opens where it is watched
            self.tabs.setCurrentWidget(self.infusion_tab)
        self.stack.setCurrentIndex(1)
        self.visit_opened.emit(visit_id)

    def void_current(self) -> bool:
        """Void the open draft (asks for the reason); True when voided."""
        if self.ctx is None or self.ctx.visit["status"] != visits.DRAFT:
            return False
        if visits.infusion_in_progress(self.store, self.ctx.visit_id):
            QMessageBox.warning(self, "Not voided", visits.RUNNING_AT_VOID)
            return False
        reason, ok = QInputDialog.getText(
            self,
            "Void this draft visit",
            "Void a visit entered by mistake. It stays in the record (read-only, with who, when "
            "and why) and no longer counts as a day of the course.\n\nReason:",
            QLineEdit.Normal,
            "",
        )
        if not ok:
            return False
        from nurse_app.core.errors import NurseAppError

        try:
            visits.void_draft(self.store, self.ctx.visit_id, reason)
        except NurseAppError as exc:
            QMessageBox.warning(self, "Not voided", str(exc))
            return False
        self._set_read_only()  # its clocks stop with it
        self._update_header()
        self.ctx.changed.emit("visit")
        self.status_message.emit("Visit voided: kept in the record, read-only, not a course day.")
        return True

    def _set_read_only(self) -> None:
        self.notes_tab.save()
        for tab in (
            self.dose_tab,
            self.lots_tab,
            self.checklist_tab,
            self.infusion_tab,
            self.reactions_tab,
            self.notes_tab,
        ):
            tab.set_read_only(True)
        self.sign_tab.setEnabled(False)
        self._show_read_only(True)

    def _update_header(self) -> None:
        store, visit = self.store, self.ctx.visit
        patient = store.get_patient(visit["patient_id"])
        self.patient_name = patient["name"]  # the vital-signs strip names whom they are due for
        order = store.get_order(visit["order_id"]) if visit["order_id"] else None
        self.title.setText(f"{patient['name']}  ·  MRN {patient['mrn']}")
        parts = [f"Born {fmt_date(patient['date_of_birth'])}"]
        if order:
            cat = load_catalogue()
            product = cat.products.get(order["product_id"])
            parts.append(product.display_name if product else order["product_id"])
            if order.get("regimen_id") and order["regimen_id"] in cat.regimens:
                parts.append(cat.regimens[order["regimen_id"]].name.split(":")[0])
        parts.append(f"day {visit['course_day']} of {visit['course_days']}")
        parts.append(
            f"started {local_time(visit['started_at'], True)}" if visit["started_at"] else "not started"
        )
        self.subtitle.setText("  ·  ".join(parts))
        state = allergies(patient.get("allergies"))  # core.allergies: the one rule and wording
        # One colour per state on every page (ui.widgets.allergy_colour): "none known" green here too.
        self.allergies.setText(
            f"<b style='color:{allergy_colour(state)}'>Allergies: {escape(state.text)}</b>"
        )
        status = visit["status"]
        colour = {"signed": OK_COLOUR, visits.VOIDED: ERROR_COLOUR}.get(status, "#757575")
        self.status.setText(
            f"<span style='background:{colour}; color:white; padding:4px 10px; "
            f"border-radius:4px'><b>{status.upper()}</b></span>"
        )
        if status == visits.VOIDED:
            self.status.setToolTip(f"Voided by {visit['voided_by']}: {visit['void_reason']}")
        # Never offered while an infusion is in progress (it is stopped first, with its volume).
        self.void_button.setVisible(
            status == visits.DRAFT and not visits.infusion_in_progress(store, self.ctx.visit_id)
        )

    def _tab_shown(self, _index: int) -> None:
        if self.tabs.currentWidget() is getattr(self, "infusion_tab", None):
            self.infusion_tab.focus_first_field()

    def focus_first_step(self) -> None:
        """A new visit starts on the Dose tab with the cursor in today's weight (if still editable)."""
        if self.ctx is None:
            return
        self.tabs.setCurrentWidget(self.dose_tab)
        weight = self.dose_tab.calculator.weight.edit
        if weight.isEnabled() and self.dose_tab.calculator.isEnabled():
            weight.setFocus()

    def _after_signing(self) -> None:
        for tab in (
            self.dose_tab,
            self.lots_tab,
            self.checklist_tab,
            self.infusion_tab,
            self.reactions_tab,
            self.notes_tab,
        ):
            tab.set_read_only(True)
        self._show_read_only(True)
        self._update_header()
        self.record_changed.emit()

    def _show_read_only(self, signed: bool) -> None:
        """A signed visit reads in normal contrast (its fields refuse edits, not legibility)."""
        from nurse_app.ui.widgets import readable_when_read_only

        for index in range(self.tabs.count()):
            readable_when_read_only(self.tabs.widget(index), signed)

    # ------------------------------------------------------------------ exports
    def export(self, kind: str) -> None:
        if self.ctx is None:
            return
        from nurse_app.ui.visit import export as visit_export

        action = {
            "pdf": visit_export.save_summary_pdf,
            "print": visit_export.print_summary,
            "fhir": visit_export.export_fhir,
        }[kind]
        done = {"pdf": "Visit summary saved to {}.", "print": "{}", "fhir": "Visit exported to {}."}[kind]
        if kind == "print":
            task = action(self, str(self.store.path), self.ctx.visit_id)
        else:  # visit-2026-11-26-day2-summary.pdf: date and course day, never the patient's name
            from nurse_app.ui.file_dialogs import visit_file_name

            name = visit_file_name(
                self.ctx.visit, *{"pdf": ("summary", "pdf"), "fhir": ("fhir", "json")}[kind]
            )
            task = action(self, str(self.store.path), self.ctx.visit_id, suggested_name=name)
        if task is not None:  # None: the nurse cancelled; a failure shows its own message box
            task.finished.connect(
                lambda ok, text: self.status_message.emit(done.format(text)) if ok else None
            )
