"""The agency's details in the record: one setting, one reader, one writer (no Qt).

The patient handout (contact block), the visit summary (header) and the FHIR export
(Patient identifier system, Encounter service provider) all show what the nurse typed once
in the profile dialog; the fields and rules are :mod:`nurse_app.core.agency`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nurse_app.core.agency import AGENCY_SETTING, clean_details, details_from_setting, handout_contact_from
from nurse_app.core.policy import policy_contacts
from nurse_app.store import Store


def agency_details(store: Store) -> dict[str, str]:
    """Every agency detail that is set, keyed as :data:`~nurse_app.core.agency.AGENCY_FIELDS`."""
    return details_from_setting(store.get_setting(AGENCY_SETTING, {}))


def handout_contact(store: Store) -> dict[str, str]:
    """The subset the patient handout prints (:data:`~nurse_app.core.agency.CONTACT_FIELDS`).

    What the agency details leave blank comes from the agency policy file; without a "nurse on
    handouts" detail the nurse profile's name and credentials are used, so a handout never
    prints an empty "Your nurse" line once the nurse is known.
    """
    details = agency_details(store)
    nurse = None
    if "nurse" not in details and "nurse" not in policy_contacts():
        profile: Mapping[str, Any] | None = store.nurse_profile()
        nurse = str(profile["display"]) if profile else None
    return handout_contact_from(details, policy_contacts(), nurse)


def save_agency_details(store: Store, details: Mapping[str, Any]) -> dict[str, str]:
    """Replace the stored details with ``details`` (validated first); returns what was stored."""
    cleaned = clean_details(details)
    store.set_setting(AGENCY_SETTING, cleaned)
    return cleaned
