"""Settings > Clinical content: the content version, its approval, and the educator's sign-off.

The nurse educator reviews the content report (saved as PDF from here) and records the
approval of this content version: name, credentials and date go into the record (the
``content_approvals`` table, audited) with the approved value of every item, so a later
content change is marked item by item and the main window's banner returns.
"""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from nurse_app.core.content_report import approval_values, build_report
from nurse_app.core.errors import NurseAppError

BANNER_TEXT = "Clinical content not yet approved by your agency"
BANNER_CHANGED = "Clinical content changed since your agency approved it"


def approval_state(store) -> tuple[bool, str]:
    """(approved, banner text) for the content in force; cheap (hashes the files only)."""
    from nurse_app.core.content_report import content_version

    approval = store.latest_content_approval() if store is not None else None
    if approval is None:
        return False, BANNER_TEXT
    if approval["content_version"] != content_version():
        return False, f"{BANNER_TEXT} ({BANNER_CHANGED.lower()}, version {approval['content_version']})"
    return True, ""


class ContentDialog(QDialog):
    approved = Signal(str)  # content version

    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.setObjectName("content_dialog")
        self.setWindowTitle("Clinical content")
        self.store = store
        self.report = build_report(store.latest_content_approval())
        layout = QVBoxLayout(self)
        r = self.report
        lines = [
            f"<b>Content version:</b> {r.version}",
            f"<b>Agency policy file:</b> {r.policy_file or 'none (app defaults in force)'}",
            f"<b>Items:</b> {len(r.items)} ("
            + ", ".join(
                f"{sum(c[s] for c in r.counts.values())} {s}"
                for s in ("verified", "unverified", "agency policy")
            )
            + ")",
        ]
        if r.approval is None:
            lines.append(f"<b>Approval:</b> {BANNER_TEXT}.")
        else:
            a = r.approval
            who = ", ".join(x for x in (a["approver_name"], a["approver_credentials"]) if x)
            if r.approved:
                lines.append(f"<b>Approved</b> by {who} on {a['approved_on']}.")
            else:
                c = r.changes
                lines.append(
                    f"<b>Approved version {a['content_version']}</b> by {who} on {a['approved_on']}; "
                    f"since then {len(c.changed)} items changed, {len(c.added)} new, "
                    f"{len(c.removed)} removed (marked CHANGED in the report)."
                )
        self.summary = QLabel("<br/>".join(lines))
        self.summary.setObjectName("content_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.summary)

        self.save_report_button = QPushButton("&Save content report as PDF…")
        self.save_report_button.setObjectName("save_content_report")
        self.save_report_button.clicked.connect(self.save_report)
        layout.addWidget(self.save_report_button)

        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setObjectName("approver_name")
        self.name.setAccessibleName("Approver's name")
        self.credentials = QLineEdit()
        self.credentials.setObjectName("approver_credentials")
        self.credentials.setAccessibleName("Approver's credentials")
        self.credentials.setPlaceholderText("e.g. RN, MSN, nurse educator")
        self.date = QDateEdit(QDate.currentDate())
        self.date.setObjectName("approval_date")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        form.addRow("Educator's &name", self.name)
        form.addRow("&Credentials", self.credentials)
        form.addRow("&Date reviewed", self.date)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("content_error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.approve_button = buttons.addButton(
            "&Record approval of this version", QDialogButtonBox.AcceptRole
        )
        self.approve_button.setObjectName("record_approval")
        self.approve_button.setEnabled(not r.approved)
        buttons.accepted.connect(self.record_approval)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 360)

    def save_report(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save content report", f"content-report-{self.report.version}.pdf", "PDF (*.pdf)"
        )
        if path:
            self.save_report_to(path)

    def save_report_to(self, path: str) -> int:
        from nurse_app.reports.content_report import write_content_report_pdf

        try:
            return write_content_report_pdf(self.report, path)
        except NurseAppError as exc:
            QMessageBox.warning(self, "Could not save the report", str(exc))
            return 0

    def record_approval(self) -> None:
        try:
            self.store.record_content_approval(
                self.report.version,
                self.name.text(),
                self.credentials.text(),
                self.date.date().toString("yyyy-MM-dd"),
                items=approval_values(self.report.items),
                policy_file=self.report.policy_file,
            )
        except NurseAppError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.approved.emit(self.report.version)
        self.accept()
