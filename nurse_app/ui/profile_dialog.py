"""The nurse profile: who is documenting, and the contact block printed on handouts.

Why it exists: every clinical entry, signature and audit row is stamped with the
nurse's name and credentials, so the store refuses writes until a profile is set
(:class:`~nurse_app.store.NoNurseProfileError`).  The same form keeps the agency
contact details that patient handouts print (the keys of
:data:`nurse_app.reports.handout.CONTACT_FIELDS`), stored as one setting so the
guides page and the handout read exactly what the nurse typed here.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel

from nurse_app.core.errors import NurseAppError
from nurse_app.reports.handout import CONTACT_FIELDS
from nurse_app.store import Store
from nurse_app.ui.forms import FormDialog
from nurse_app.ui.widgets import FieldWithError, Section

# Settings key of the handout contact block: {"agency": ..., "nurse": ..., "phone": ..., "after_hours": ...}.
HANDOUT_CONTACT_SETTING = "handout_contact"
CONTACT_MAX_LENGTH = 200
# Form label (with mnemonic) and placeholder per contact key; any key without one uses its handout label.
_CONTACT_FORM = {
    "agency": ("Infusion &agency", "as printed on handouts"),
    "nurse": ("Nurse on &handouts", "e.g. Maria Santos, RN"),
    "phone": ("&Phone", "the number patients call"),
    "after_hours": ("After &hours", "number or instructions out of hours"),
}


def handout_contact(store: Store) -> dict[str, str]:
    """The contact block for handouts, keyed as :data:`CONTACT_FIELDS` (unset keys left out)."""
    stored = store.get_setting(HANDOUT_CONTACT_SETTING, {}) or {}
    if not isinstance(stored, dict):
        return {}
    return {key: str(stored[key]).strip() for key, _ in CONTACT_FIELDS
            if str(stored.get(key) or "").strip()}


class NurseProfileDialog(FormDialog):
    """Name and credentials (stamped on every entry) and the handout contact details."""

    def __init__(self, store: Store, parent=None):
        super().__init__("Nurse profile", parent)
        self.setObjectName("nurse_profile_dialog")
        self.store = store
        intro = QLabel("Every entry you record and every visit you sign is stamped with your name "
                       "and credentials.")
        intro.setWordWrap(True)
        self.layout_.insertWidget(0, intro)

        self.name = FieldWithError("name", "first and last name")
        self.credentials = FieldWithError("credentials", "e.g. RN, IgCN")
        self.add_row("Your &name", "name", self.name)
        self.add_row("&Credentials", "credentials", self.credentials)

        contact = Section("On patient handouts")
        contact.setObjectName("contact_section")
        self.contact_fields: dict[str, FieldWithError] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        contact.body.addLayout(form)
        for key, label in CONTACT_FIELDS:
            caption, placeholder = _CONTACT_FORM.get(key, (label, ""))
            field = FieldWithError(f"contact_{key}", placeholder)
            field.edit.setMaxLength(CONTACT_MAX_LENGTH)
            field.edit.setAccessibleName(caption.replace("&", ""))
            label_widget = QLabel(caption)
            label_widget.setBuddy(field.edit)
            form.addRow(label_widget, field)
            self.contact_fields[key] = field
            self.fields[f"contact_{key}"] = field
            self.watch(field)
        self.layout_.addWidget(contact)
        self.finish_layout()
        self.setMinimumWidth(460)
        self._load()
        self.mark_unmodified()

    def _load(self) -> None:
        profile = self.store.nurse_profile()
        if profile:
            self.name.edit.setText(profile["name"])
            self.credentials.edit.setText(profile["credentials"])
        contact = handout_contact(self.store)
        for key, field in self.contact_fields.items():
            field.edit.setText(contact.get(key, ""))
        if "nurse" in self.contact_fields and not contact.get("nurse") and profile:
            self.contact_fields["nurse"].edit.setText(profile["display"])

    def contact(self) -> dict[str, str]:
        """The contact block as typed (empty fields left out)."""
        return {key: field.text() for key, field in self.contact_fields.items() if field.text()}

    def save(self) -> bool:
        self.clear_errors()
        if not self.name.text():
            self.set_field_error("name", "Your name is required: it is stamped on every entry.")
            self.name.edit.setFocus()
            return False
        try:
            with self.store.transaction():
                self.store.set_nurse_profile(self.name.text(), self.credentials.text())
                self.store.set_setting(HANDOUT_CONTACT_SETTING, self.contact())
        except NurseAppError as exc:   # show_error marks the named field, else the banner
            self.show_error(exc)
            return False
        return True

