"""The nurse profile: who is documenting, and the agency details documents print.

Why it exists: every clinical entry, signature and audit row is stamped with the
nurse's name and credentials, so the store refuses writes until a profile is set
(:class:`~nurse_app.store.NoNurseProfileError`).  The same form keeps the agency
details (:mod:`nurse_app.services.agency`): the contact block patient handouts
print, the address on visit summaries and the MRN identifier system of FHIR
exports, so every document reads exactly what the nurse typed here.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel

from nurse_app.core.agency import ADDRESS, AGENCY_FIELDS, CONTACT_FIELDS, MAX_LENGTH, MRN_SYSTEM
from nurse_app.core.errors import NurseAppError
from nurse_app.services.agency import agency_details, save_agency_details
from nurse_app.store import Store
from nurse_app.ui.forms import FormDialog
from nurse_app.ui.widgets import FieldWithError, Section

# Form label (with mnemonic) and placeholder per agency detail; any key without one uses its label.
_DETAIL_FORM = {
    "agency": ("Infusion &agency", "as printed on handouts and summaries"),
    "nurse": ("Nurse on &handouts", "e.g. Maria Santos, RN"),
    "phone": ("&Phone", "the number patients call"),
    "after_hours": ("After hou&rs", "number or instructions out of hours"),
    ADDRESS: ("Agency a&ddress", "street, town, postcode (visit summary header)"),
    MRN_SYSTEM: ("&MRN system", "e.g. urn:oid:… from the agency's records team"),
}
# (object name, title, detail keys) of the form's sections.
_SECTIONS = (
    ("contact_section", "On patient handouts", [key for key, _ in CONTACT_FIELDS]),
    ("records_section", "On visit summaries and record exports", [ADDRESS, MRN_SYSTEM]),
)


class NurseProfileDialog(FormDialog):
    """Name and credentials (stamped on every entry) and the handout contact details."""

    def __init__(self, store: Store, parent=None):
        super().__init__("Nurse profile", parent)
        self.setObjectName("nurse_profile_dialog")
        self.store = store
        intro = QLabel(
            "Every entry you record and every visit you sign is stamped with your name and credentials."
        )
        intro.setWordWrap(True)
        self.layout_.insertWidget(0, intro)

        self.name = FieldWithError("name", "first and last name")
        self.credentials = FieldWithError("credentials", "e.g. RN, IgCN")
        self.add_row("Your &name", "name", self.name)
        self.add_row("&Credentials", "credentials", self.credentials)
        self.npi = FieldWithError("npi", "optional: National Provider Identifier, 10 digits")
        self.add_row("NP&I", "npi", self.npi)

        labels = dict(AGENCY_FIELDS)
        self.contact_fields: dict[str, FieldWithError] = {}
        captions = []
        for object_name, title, keys in _SECTIONS:
            section = Section(title)
            section.setObjectName(object_name)
            form = QFormLayout()
            form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
            section.body.addLayout(form)
            for key in keys:
                caption, placeholder = _DETAIL_FORM.get(key, (labels[key], ""))
                field = FieldWithError(f"contact_{key}", placeholder)
                field.edit.setMaxLength(MAX_LENGTH)
                field.edit.setAccessibleName(caption.replace("&", ""))
                label_widget = QLabel(caption)
                label_widget.setBuddy(field.edit)
                captions.append(label_widget)
                form.addRow(label_widget, field)
                self.contact_fields[key] = field
                self.fields[key] = field
                self.watch(field)
            self.layout_.addWidget(section)
        widest = max(label.sizeHint().width() for label in captions)
        for label in captions:  # the sections' fields line up
            label.setMinimumWidth(widest)
        self.finish_layout()
        self.setMinimumWidth(460)
        self._load()
        self.mark_unmodified()

    def _load(self) -> None:
        profile = self.store.nurse_profile()
        if profile:
            self.name.edit.setText(profile["name"])
            self.credentials.edit.setText(profile["credentials"])
            self.npi.edit.setText(profile.get("npi") or "")
        contact = agency_details(self.store)
        for key, field in self.contact_fields.items():
            field.edit.setText(contact.get(key, ""))
        if "nurse" in self.contact_fields and not contact.get("nurse") and profile:
            self.contact_fields["nurse"].edit.setText(profile["display"])

    def contact(self) -> dict[str, str]:
        """The agency details as typed (empty fields left out)."""
        return {key: field.text() for key, field in self.contact_fields.items() if field.text()}

    def save(self) -> bool:
        self.clear_errors()
        if not self.name.text():
            self.set_field_error("name", "Your name is required: it is stamped on every entry.")
            self.name.edit.setFocus()
            return False
        try:
            with self.store.transaction():
                self.store.set_nurse_profile(self.name.text(), self.credentials.text(), npi=self.npi.text())
                save_agency_details(self.store, self.contact())
        except NurseAppError as exc:  # show_error marks the named field (agency details too), else the banner
            self.show_error(exc)
            return False
        return True
