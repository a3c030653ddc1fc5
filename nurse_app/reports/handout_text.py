"""The fixed wording of patient handouts, without reportlab.

Kept apart from :mod:`nurse_app.reports.handout` (which builds the PDF with reportlab)
so the nurse-profile form, the agency details and the Guides page can use the contact
fields and headings without importing reportlab at start-up.
"""

from nurse_app.core.agency import CONTACT_FIELDS  # noqa: F401 - the contact block rows (agency details)

CALL_TITLE = "Call your nurse or doctor if…"
EMERGENCY_TITLE = "Call 911 if…"
SUBTITLE = "Information for you and your family"
CARE_TEAM = "Your care team"
SOURCES_TITLE = "Where this information comes from"
REVIEWED_NOTE = "Last reviewed {date}. This handout does not replace advice from your own doctor or nurse."


def call_title(call) -> str:
    """The printed title of a guide's ``call`` block (core.guides.Block): "Call 911 if…" or
    "Call your nurse or doctor if…"."""
    return EMERGENCY_TITLE if call.emergency else CALL_TITLE
