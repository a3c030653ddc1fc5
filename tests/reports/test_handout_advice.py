"""Issue 20 §3: what the ITP and Kawasaki handouts tell a patient to do, read back from the PDF.

The boxes are found by their printed titles: "Call 911 if…" comes first, then "Call your nurse
or doctor if…", then the care team's numbers."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from nurse_app.core.guides import load_guides
from nurse_app.reports.handout import CALL_TITLE, CARE_TEAM, EMERGENCY_TITLE, write_handout_pdf

GUIDES = load_guides()


def flat(text: str) -> str:
    return " ".join(text.split())


def boxes(tmp_path, guide_id: str) -> tuple[str, str, str]:
    """(the Call 911 box, the Call your nurse box, the whole text) of the printed handout."""
    path = tmp_path / f"{guide_id}.pdf"
    write_handout_pdf(GUIDES[guide_id], path)
    text = flat(" ".join(p.extract_text() for p in PdfReader(str(path)).pages))
    start_911, start_nurse, care = text.index(EMERGENCY_TITLE), text.index(CALL_TITLE), text.index(CARE_TEAM)
    assert start_911 < start_nurse < care
    return text[start_911:start_nurse], text[start_nurse:care], text


@pytest.mark.parametrize(
    "sign", ["bleeding that will not stop", "very bad headache"], ids=["bleeding", "headache"]
)
def test_itp_handout_puts_uncontrolled_bleeding_and_a_very_bad_headache_under_call_911(tmp_path, sign):
    box_911, box_nurse, _ = boxes(tmp_path, "itp")
    assert sign in box_911
    assert sign not in box_nurse


def test_kawasaki_handout_says_flu_or_chickenpox_on_aspirin_means_calling_the_doctor(tmp_path):
    _, box_nurse, text = boxes(tmp_path, "kawasaki-disease")
    assert "aspirin" in box_nurse and "flu" in box_nurse and "chickenpox" in box_nurse
    assert "Reye syndrome" in box_nurse and "doctor" in box_nurse
    # The source the item cites is printed (the AHA statement, a guideline).
    assert "McCrindle BW" in text


def page_body(text: str, guide) -> str:
    """A page's text without its footer (review date and title, "Sources are listed…", "Page x of
    y") and without the closing "Last reviewed … does not replace advice" note."""
    from nurse_app.reports.handout import REVIEWED_NOTE

    body = flat(text)
    for fixed in (
        f"Last reviewed {guide.reviewed_text} · {guide.title}",
        "Sources are listed at the end of this handout.",
        REVIEWED_NOTE.format(date=guide.reviewed_text),
    ):
        body = body.replace(flat(fixed), "")
    import re

    return re.sub(r"Page \d+ of \d+", "", body).strip()


@pytest.mark.parametrize("guide_id", sorted(GUIDES))
def test_no_handout_page_holds_only_the_footer(tmp_path, guide_id):
    """The IVIG-therapy handout's page 3 held only the closing note and the footer."""
    guide = GUIDES[guide_id]
    path = tmp_path / f"{guide_id}.pdf"
    write_handout_pdf(guide, path)
    pages = PdfReader(str(path)).pages
    for n, page in enumerate(pages, 1):
        assert page_body(page.extract_text(), guide), (
            f"{guide_id}: page {n} of {len(pages)} holds only the footer"
        )
