"""Spanish patient handouts: every English warning, number and source has its Spanish counterpart,
the PDF keeps Spanish letters, bilingual copies, the language-access tagline, and readability."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest
from pdf_fonts import pdf_text as _pdf_text

from nurse_app.core.errors import InputError
from nurse_app.core.guides import (
    CITATION,
    cited_keys,
    handout_guide,
    load_guides,
    load_translations,
    markdown_blocks,
)
from nurse_app.core.languages import handout_wording, parse_handout_languages
from nurse_app.reports.handout import handout_pdf_bytes

GUIDES = sorted(load_guides())


def pdf_text(data: bytes) -> str:
    import io

    return " ".join(_pdf_text(io.BytesIO(data)).split())  # one space for every line break


SPANISH = load_translations()["es"]
NUMBER = re.compile(r"\d+")


def _call_boxes(guide):
    """(911 box, call-your-nurse box): each a list of (citation keys, numbers) per item."""
    boxes = {True: [], False: []}
    for block in guide.handout_blocks():
        if block.kind == "call":
            for child in block.children:
                for item in child.items:
                    boxes[block.emergency].append(item)
    return boxes[True], boxes[False]


def _numbers(markdown: str) -> Counter:
    return Counter(NUMBER.findall(CITATION.sub("", markdown)))


def test_every_guide_has_a_spanish_handout():
    assert sorted(SPANISH) == GUIDES


@pytest.mark.parametrize("guide_id", GUIDES)
def test_the_spanish_handout_matches_the_english_one_sign_for_sign(guide_id):
    english, spanish = load_guides()[guide_id], SPANISH[guide_id]
    en_911, en_call = _call_boxes(english)
    es_911, es_call = _call_boxes(spanish)
    assert len(es_911) == len(en_911), "the same 911 signs, one for one"
    assert len(es_call) == len(en_call), "the same call-your-nurse signs, one for one"
    raw = {b: list(markdown_blocks(g.handout.markdown)) for b, g in (("en", english), ("es", spanish))}
    assert [b.kind for b in raw["es"]] == [b.kind for b in raw["en"]], (
        "the same headings, paragraphs and lists"
    )
    assert [len(b.items) for b in raw["es"]] == [len(b.items) for b in raw["en"]]
    # the same citations on the same lines: every list item and paragraph cites what the English one cites
    en_lines = [line for line in english.handout.markdown.splitlines() if line.strip()]
    es_lines = [line for line in spanish.handout.markdown.splitlines() if line.strip()]
    assert [cited_keys(line) for line in es_lines] == [cited_keys(line) for line in en_lines]
    assert _numbers(spanish.handout.markdown) == _numbers(english.handout.markdown), "the same numbers"
    assert spanish.handout_sources() == english.handout_sources(), "the same printed sources"
    assert spanish.translation_status == "unreviewed"


def test_the_911_heading_comes_first_and_no_breathing_sign_is_under_call_your_nurse():
    for spanish in SPANISH.values():
        parts = spanish.handout_parts()
        assert [c.emergency for c in parts.calls] == [True, False]
        _es_911, es_call = _call_boxes(spanish)
        assert not any(re.search(r"respir|garganta|labio|lengua", item, re.I) for item in es_call), spanish.id


def test_a_broken_translation_is_refused_with_its_file_named():
    from nurse_app.core.errors import ResourceError
    from nurse_app.core.guides import parse_translation
    from nurse_app.core.resources import resource_path

    english = load_guides()["itp"]
    text = resource_path("guides/es/itp.md").read_text(encoding="utf-8")
    with pytest.raises(ResourceError, match=r"cites \[S99\]"):
        parse_translation(text.replace("[S18]", "[S99]", 1), "es/itp.md", "itp", "es", english)
    with pytest.raises(ResourceError, match="reviewed again"):
        parse_translation(text.replace("2026-11-24", "2025-01-01", 1), "es/itp.md", "itp", "es", english)
    moved = text.replace("### Llame al 911 si", "### Llame ahora si", 1)
    with pytest.raises(ResourceError, match="Llame al 911 si"):
        parse_translation(moved, "es/itp.md", "itp", "es", english)
    with pytest.raises(ResourceError, match="belongs under"):
        parse_translation(
            text.replace(
                "- Ve sangre en la orina", "- Le cuesta respirar un poco\n- Ve sangre en la orina", 1
            ),
            "es/itp.md",
            "itp",
            "es",
            english,
        )


def test_spanish_letters_survive_the_pdf():
    guide = dataclasses.replace(SPANISH["pemphigus"], title="¡Pénfigo! ¿Qué es? Ñandú, acción, baño")
    data, _pages = handout_pdf_bytes(guide, {"phone": "555-0100"})
    text = pdf_text(data)
    for word in ("¡Pénfigo!", "¿Qué es?", "Ñandú", "acción", "baño", "ampollas", "días", "médico"):
        assert word in text, word
    for ch in "áéíóúñ¿¡":
        assert ch in text, ch


def test_the_911_box_is_first_and_the_tagline_carries_the_agency_phone_in_both_languages():
    data, pages = handout_pdf_bytes(SPANISH["itp"], {"phone": "555-0100", "agency": "Casa Infusión"})
    text = pdf_text(data)
    assert (
        text.index("Llame al 911 si")
        < text.index("Llame a su enfermera o médico si")
        < text.index("Su equipo")
    )
    assert "tiene a su disposición servicios gratuitos de asistencia lingüística. Llame al 555-0100." in text
    assert "free language help is available to you. Call 555-0100." in text
    assert "Página 1 de" in text and pages >= 1
    english, _ = handout_pdf_bytes(load_guides()["itp"], {})
    english_text = pdf_text(english)
    assert "Ask your nurse or your infusion agency." in english_text  # no phone set: never a blank number
    assert "asistencia lingüística" in english_text  # the Spanish tagline is on the English handout too


def test_a_bilingual_copy_is_spanish_then_english_each_whole():
    spanish, english = SPANISH["kawasaki-disease"], load_guides()["kawasaki-disease"]
    data, pages = handout_pdf_bytes(spanish, {}, then=english)
    text = pdf_text(data)
    assert (
        text.index("Llame al 911 si")
        < text.index("Call 911 if")
        < text.rindex("Call your nurse or doctor if")
    )
    assert "síndrome de Reye" in text and "Reye syndrome" in text
    _alone, alone_pages = handout_pdf_bytes(spanish, {})
    assert pages > alone_pages
    with pytest.raises(ValueError):
        handout_pdf_bytes(spanish, {}, then=SPANISH["itp"])


def test_handout_languages_are_parsed_and_refused_in_words():
    assert parse_handout_languages("es") == ("es",)
    assert parse_handout_languages("es+en") == ("es", "en")
    for bad in ("", "fr", "es+es", "es+en+en", "+en"):
        with pytest.raises(InputError):
            parse_handout_languages(bad)
    assert handout_guide("itp", "es") is SPANISH["itp"]
    with pytest.raises(InputError):
        handout_guide("itp", "ko")  # a listed language without handouts


def test_clinical_numbers_keep_a_decimal_point_in_spanish_wording():
    wording = handout_wording("es")
    assert wording.date(load_guides()["itp"].last_reviewed) == "24 nov 2026"
    for spanish in SPANISH.values():
        assert not re.search(r"\d,\d", spanish.handout.markdown), spanish.file  # never 0,4 for 0.4


@pytest.mark.parametrize("guide_id", GUIDES)
def test_spanish_handouts_read_easily(guide_id):
    """Fernández-Huerta (textstat): 70 or more reads as 'fairly easy' or easier."""
    textstat = pytest.importorskip("textstat")
    textstat.set_lang("es")
    text = SPANISH[guide_id].handout.text
    assert textstat.fernandez_huerta(text) >= 70
