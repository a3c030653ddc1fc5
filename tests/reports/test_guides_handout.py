"""Patient handout PDFs, read back with pypdf: text, type size, footer, contact block, fonts."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from nurse_app.core.errors import InputError
from nurse_app.core.guides import load_guides
from nurse_app.reports.common import font_files
from nurse_app.reports.handout import CALL_TITLE, CARE_TEAM, CONTACT_FIELDS, SOURCES_TITLE, write_handout_pdf

GUIDES = load_guides()
CONTACT = {
    "agency": "Clinique Sainte-Anne Home Infusion",
    "nurse": "Zoë Ødegård-Müller, RN",
    "phone": "555-0142",
    "after_hours": "555-0199 (José Núñez, on call)",
}


def flat(text: str) -> str:
    """Whitespace-normalised text, as a PDF line-wraps it."""
    return " ".join(text.split())


def plain(markup: str) -> str:
    return flat(html.unescape(re.sub(r"<[^>]+>", "", markup)))


def read(path: Path) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(str(path))
    return reader, [page.extract_text() for page in reader.pages]


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("handouts")
    result = {}
    for guide_id, guide in GUIDES.items():
        path = folder / f"{guide_id}.pdf"
        pages = write_handout_pdf(guide, path, CONTACT)
        result[guide_id] = (path, pages)
    return result


@pytest.mark.parametrize("guide_id", sorted(GUIDES))
def test_handout_text_has_title_sections_call_list_and_contact(pdfs, guide_id):
    guide = GUIDES[guide_id]
    path, pages = pdfs[guide_id]
    reader, texts = read(path)
    assert len(reader.pages) == pages
    text = flat("\n".join(texts))
    assert text.startswith(flat(guide.title))
    for block in guide.handout_blocks():
        if block.kind == "heading":
            assert plain(block.html) in text
    assert CALL_TITLE in text
    assert guide.call_list()
    for item in guide.call_list():
        assert plain(item) in text, item
    assert CARE_TEAM in text
    for key, label in CONTACT_FIELDS:
        assert f"{label} {CONTACT[key]}" in text
    assert SOURCES_TITLE in text
    for source in guide.handout_sources():
        assert flat(source.citation)[:40] in text
    assert reader.metadata.title == f"{guide.title}: patient information"


@pytest.mark.parametrize("guide_id", sorted(GUIDES))
def test_every_page_has_page_x_of_y_and_review_date(pdfs, guide_id):
    guide = GUIDES[guide_id]
    path, pages = pdfs[guide_id]
    _, texts = read(path)
    assert len(texts) == pages
    for number, page_text in enumerate(texts, start=1):
        assert f"Page {number} of {pages}" in page_text
        assert f"Last reviewed {guide.reviewed_text}" in flat(page_text)


@pytest.mark.parametrize("guide_id", sorted(GUIDES))
def test_handout_body_is_at_least_12_point(pdfs, guide_id):
    """Everything before the sources list, except the page footer, is 12 pt or larger."""
    path, _ = pdfs[guide_id]
    fragments: list[tuple[float, str]] = []
    for page in PdfReader(str(path)).pages:
        page.extract_text(
            visitor_text=lambda text, cm, tm, font, size: (
                fragments.append((size * tm[0], text)) if text.strip() else None
            )
        )
    footer = ("Page ", "Sources are listed", "Last reviewed")
    body_sizes = []
    for size, text in fragments:
        if SOURCES_TITLE in text:
            break
        if not text.strip().startswith(footer):
            body_sizes.append((size, text))
    assert len(body_sizes) > 10
    small = [(size, text) for size, text in body_sizes if size < 12]
    assert not small


def test_fonts_are_embedded_truetype_with_accents(pdfs):
    path, _ = pdfs["pemphigus"]
    reader, texts = read(path)
    assert "Zoë Ødegård-Müller, RN" in "\n".join(texts)
    assert "José Núñez" in "\n".join(texts)
    used = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if font["/Subtype"] == "/TrueType":
                assert "/FontFile2" in font["/FontDescriptor"].get_object()
                used.add(str(font["/BaseFont"]).split("+")[-1])
    expected = Path(font_files()[""]).stem.replace("-", "")  # the regular font the handout embeds
    assert any(name.replace("-", "").startswith(expected) for name in used), used


def test_unset_contact_prints_labels_with_blank_lines(tmp_path):
    path = tmp_path / "blank.pdf"
    write_handout_pdf(GUIDES["itp"], path)
    text = flat("\n".join(read(path)[1]))
    for _key, label in CONTACT_FIELDS:
        assert label in text
    first_heading = next(plain(b.html) for b in GUIDES["itp"].handout_parts().body if b.kind == "heading")
    # The care team ends at the first body heading, or at the page footer when the two urgent
    # boxes (Call 911, Call your nurse) fill page 1.
    end = min(
        i for i in (text.find(first_heading), text.find("Page 1 of"), text.find("Last reviewed")) if i > 0
    )
    care_team = text[text.index(CARE_TEAM) : end]
    assert flat(care_team) == flat(f"{CARE_TEAM} " + " ".join(label for _k, label in CONTACT_FIELDS))
    assert "None" not in text


def test_extra_contact_fields_are_not_dropped(tmp_path):
    path = tmp_path / "extra.pdf"
    write_handout_pdf(GUIDES["itp"], path, {"nurse": "Ana", "pharmacy_phone": "555-0123"})
    text = flat("\n".join(read(path)[1]))
    assert "Pharmacy phone 555-0123" in text
    assert "Your nurse Ana" in text


def test_write_replaces_an_existing_file(tmp_path):
    path = tmp_path / "out.pdf"
    path.write_bytes(b"old")
    write_handout_pdf(GUIDES["kawasaki-disease"], path)
    assert path.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["out.pdf"]


def test_unwritable_destination_is_a_clear_error_and_leaves_nothing(tmp_path):
    target = tmp_path / "missing-folder" / "out.pdf"
    with pytest.raises(InputError, match=r"Could not save the handout to .*out\.pdf"):
        write_handout_pdf(GUIDES["kawasaki-disease"], target)
    assert list(tmp_path.iterdir()) == []
    directory = tmp_path / "a-folder.pdf"
    directory.mkdir()
    with pytest.raises(InputError, match="Could not save the handout"):
        write_handout_pdf(GUIDES["kawasaki-disease"], directory)
    assert [p.name for p in tmp_path.iterdir()] == ["a-folder.pdf"]


@pytest.mark.parametrize("guide_id", sorted(GUIDES))
def test_call_box_and_care_team_come_first_then_the_guide_order(pdfs, guide_id):
    guide = GUIDES[guide_id]
    text = flat("\n".join(read(pdfs[guide_id][0])[1]))
    parts = guide.handout_parts()
    positions = [text.index(CALL_TITLE), text.index(CARE_TEAM)]
    positions += [text.index(plain(b.html)) for b in parts.body if b.kind == "heading"]
    positions.append(text.index(SOURCES_TITLE))
    assert positions == sorted(positions)
    for block in parts.intro:
        assert text.index(plain(block.html)) < text.index(CALL_TITLE)
