"""The agency's details that documents print: the fields, the setting's key and the rules.

Why it exists: the patient handout (contact block), the visit summary (header) and
the FHIR export (Patient identifier system, Encounter service provider) all show
what the nurse typed once in the profile dialog.  Keeping the key, the field list
and the validation here means those documents cannot read different settings
(an earlier version stored the contact block as one setting while the visit
summary looked for separate keys, so its header stayed blank).

Keys of the stored dict: those of :data:`CONTACT_FIELDS` (``agency``, ``nurse``, ``phone``,
``after_hours``: the handout's contact block) plus ``address`` and ``mrn_system``.  Empty
values are left out.

This module is pure (no store): :mod:`nurse_app.services.agency` reads and writes the
setting (the profile dialog, the Guides page, the CLI); documents built from a store read it
with :func:`details_from_setting`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nurse_app.core.errors import InputError

# The handout's contact block: settings key -> printed label.  Unset keys print a blank line.
CONTACT_FIELDS: tuple[tuple[str, str], ...] = (
    ("agency", "Infusion agency"),
    ("nurse", "Your nurse"),
    ("phone", "Phone"),
    ("after_hours", "After hours"),
)

# One settings entry holds every agency detail (its historic name, kept so existing records keep theirs).
AGENCY_SETTING = "handout_contact"
ADDRESS, MRN_SYSTEM = "address", "mrn_system"
# (key, label) of every detail, in the order forms show them.
AGENCY_FIELDS: tuple[tuple[str, str], ...] = (
    *CONTACT_FIELDS,
    (ADDRESS, "Agency address"),
    (MRN_SYSTEM, "MRN identifier system"),
)
MAX_LENGTH = 200
# FHIR Identifier.system is a URI: an OID or UUID URN, or a web address the agency owns.
_URI = re.compile(r"^(urn:[a-z0-9][a-z0-9-]{0,31}:\S+|https?://[^\s/]+\S*)$", re.IGNORECASE)


class AgencyDetailError(InputError):
    """A detail the documents cannot use; ``field`` names it (a key of :data:`AGENCY_FIELDS`)."""


def details_from_setting(stored: object) -> dict[str, str]:
    """Every agency detail that is set in the stored setting, keyed as :data:`AGENCY_FIELDS`
    (anything else in the setting is ignored; a setting that is not a mapping gives none)."""
    if not isinstance(stored, Mapping):
        return {}
    return {key: str(stored[key]).strip() for key, _ in AGENCY_FIELDS if str(stored.get(key) or "").strip()}


def handout_contact_from(
    details: Mapping[str, str], policy_contacts: Mapping[str, str], nurse_display: str | None
) -> dict[str, str]:
    """The handout's contact block: the agency details, then the agency policy file's contacts
    for what is left blank, then the nurse profile's name for "Your nurse"."""
    merged = dict(details)
    for key, value in policy_contacts.items():
        merged.setdefault(key, value)
    if "nurse" not in merged and nurse_display:
        merged["nurse"] = nurse_display
    return {key: merged[key] for key, _ in CONTACT_FIELDS if key in merged}


def clean_details(details: Mapping[str, Any]) -> dict[str, str]:
    """Validated details (stripped, empty ones dropped); raises :class:`AgencyDetailError`."""
    labels = dict(AGENCY_FIELDS)
    cleaned = {}
    for key, value in details.items():
        if key not in labels:
            raise AgencyDetailError(f"Unknown agency detail {key!r}.", field=key)
        text = " ".join(str(value or "").split())
        if not text:
            continue
        if len(text) > MAX_LENGTH:
            raise AgencyDetailError(
                f"{labels[key]} is too long (at most {MAX_LENGTH} characters).", field=key
            )
        if key == MRN_SYSTEM and not _URI.match(text):
            raise AgencyDetailError(
                "MRN identifier system must be a URI, e.g. urn:oid:2.16.840.1.113883.x.y or "
                "https://records.example-agency.org/mrn (ask the agency's records team).",
                field=key,
            )
        cleaned[key] = text
    return cleaned
