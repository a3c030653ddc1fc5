"""The agency's details that documents print: one setting, one reader, one writer.

Why it exists: the patient handout (contact block), the visit summary (header) and
the FHIR export (Patient identifier system, Encounter service provider) all show
what the nurse typed once in the profile dialog.  Keeping the key, the field list
and the validation here means those documents cannot read different settings
(an earlier version stored the contact block as one setting while the visit
summary looked for separate keys, so its header stayed blank).

Keys of the stored dict: those of :data:`nurse_app.reports.handout.CONTACT_FIELDS`
(``agency``, ``nurse``, ``phone``, ``after_hours``) plus ``address`` and
``mrn_system``.  Empty values are left out.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from nurse_app.core.errors import InputError
from nurse_app.reports.handout_text import CONTACT_FIELDS

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


def agency_details(store) -> dict[str, str]:
    """Every agency detail that is set, keyed as :data:`AGENCY_FIELDS`."""
    stored = store.get_setting(AGENCY_SETTING, {}) or {}
    if not isinstance(stored, Mapping):
        return {}
    return {key: str(stored[key]).strip() for key, _ in AGENCY_FIELDS
            if str(stored.get(key) or "").strip()}


def handout_contact(store) -> dict[str, str]:
    """The subset the patient handout prints (:data:`CONTACT_FIELDS`).

    Without a "nurse on handouts" detail the nurse profile's name and credentials are used,
    so a handout never prints an empty "Your nurse" line once the nurse is known.
    """
    details = agency_details(store)
    from nurse_app.core.policy import policy_contacts
    for key, value in policy_contacts().items():     # the agency policy file fills what is left blank
        details.setdefault(key, value)
    if "nurse" not in details:
        profile = store.nurse_profile()
        if profile:
            details["nurse"] = profile["display"]
    return {key: details[key] for key, _ in CONTACT_FIELDS if key in details}


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
            raise AgencyDetailError(f"{labels[key]} is too long (at most {MAX_LENGTH} characters).",
                                    field=key)
        if key == MRN_SYSTEM and not _URI.match(text):
            raise AgencyDetailError(
                "MRN identifier system must be a URI, e.g. urn:oid:2.16.840.1.113883.x.y or "
                "https://records.example-agency.org/mrn (ask the agency's records team).",
                field=key)
        cleaned[key] = text
    return cleaned


def save_agency_details(store, details: Mapping[str, Any]) -> dict[str, str]:
    """Replace the stored details with ``details`` (validated first); returns what was stored."""
    cleaned = clean_details(details)
    store.set_setting(AGENCY_SETTING, cleaned)
    return cleaned
