"""Patient handout PDF for one condition guide (reportlab).

What a patient keeps on the fridge: the guide's title; first, each kept whole, the
"Call 911 if" list and the "Call your nurse or doctor if" list in boxes that stand out, with the agency and
nurse contact details under it (blank lines to write them in when unset); then the
rest of the plain-language "Patient handout" section in large type (12 pt body);
then the sources the handout cites.  Every page has a footer with the review date,
the title and "Page x of y".  The text is real PDF text (searchable, readable by
screen readers), never an image.

Fonts, page numbering and safe saving are shared with the other reports
(:mod:`nurse_app.reports.common`): the packaged DejaVu Sans is embedded so accented
names ("José Müller", "Zoë", "Łucja") print.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from nurse_app.core.guides import Block, Guide
from nurse_app.core.languages import HandoutWording, handout_wording, load_languages
from nurse_app.reports.common import FONT, decorated_canvas, write_atomically
from nurse_app.reports.common import escape as _escape
from nurse_app.reports.common import fit as _fit
from nurse_app.reports.common import register_fonts as _register_fonts

# The wording lives in handout_text (no reportlab) so forms can use it without loading reportlab.
from nurse_app.reports.handout_text import (  # noqa: F401
    CALL_TITLE,
    CARE_TEAM,
    CONTACT_FIELDS,
    EMERGENCY_TITLE,
    REVIEWED_NOTE,
    SOURCES_TITLE,
    SUBTITLE,
    call_title,
)

BODY_PT = 12

_ACCENT = colors.HexColor("#1f4e79")
_URGENT = colors.HexColor("#a4262c")
_URGENT_BG = colors.HexColor("#fdf3f3")
_GREY = colors.HexColor("#555555")


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body", fontName=FONT, fontSize=BODY_PT, leading=BODY_PT * 1.35, spaceAfter=6, alignment=TA_LEFT
    )
    return {
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=FONT + "-Bold",
            fontSize=24,
            leading=29,
            textColor=_ACCENT,
            spaceAfter=4,
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontSize=14, leading=18, textColor=_GREY, spaceAfter=14
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName=FONT + "-Bold",
            fontSize=16,
            leading=20,
            textColor=_ACCENT,
            spaceBefore=12,
            spaceAfter=6,
            keepWithNext=1,
        ),
        "body": body,
        "bullet": ParagraphStyle(
            "bullet",
            parent=body,
            spaceAfter=4,
            leftIndent=22,
            bulletIndent=6,
            bulletFontName=FONT,
            bulletFontSize=BODY_PT,
        ),
        "call_title": ParagraphStyle(
            "call_title",
            parent=body,
            fontName=FONT + "-Bold",
            fontSize=16,
            leading=21,
            textColor=_URGENT,
            spaceAfter=2,
        ),
        "call_item": ParagraphStyle(
            "call_item",
            parent=body,
            fontName=FONT + "-Bold",
            leftIndent=18,
            bulletIndent=2,
            spaceAfter=2,
            bulletFontName=FONT,
            bulletFontSize=BODY_PT,
        ),
        "call_note": ParagraphStyle(
            "call_note", parent=body, fontName=FONT + "-Bold", spaceBefore=4, spaceAfter=2
        ),
        "contact_label": ParagraphStyle("contact_label", parent=body, fontName=FONT + "-Bold"),
        "sources_title": ParagraphStyle(
            "sources_title",
            parent=body,
            fontName=FONT + "-Bold",
            fontSize=12,
            leading=15,
            spaceBefore=16,
            textColor=_GREY,
            keepWithNext=1,
        ),
        "source": ParagraphStyle(
            "source", parent=body, fontSize=8.5, leading=11, spaceAfter=3, textColor=_GREY, splitLongWords=1
        ),
    }


def _marks(block: Block) -> list[str]:
    if block.kind == "numbers":
        return [f"{n}." for n in range(1, len(block.items) + 1)]
    return ["•"] * len(block.items)


def _list(block: Block, style: ParagraphStyle) -> list[Paragraph]:
    """List items as bulleted paragraphs: a heading's keepWithNext then holds its first item
    (reportlab will not keep a heading with a ListFlowable)."""
    return [
        Paragraph(item, style, bulletText=mark) for item, mark in zip(block.items, _marks(block), strict=True)
    ]


def _call_box(call: Block, st: dict[str, ParagraphStyle], wording: HandoutWording) -> Table:
    """An urgent subsection as a boxed table, one row per sign or note."""
    title = wording.emergency_title if call.emergency else wording.call_title
    rows = [[Paragraph(_escape(title), st["call_title"])]]
    for block in call.children:
        if block.kind == "paragraph":
            rows.append([Paragraph(block.html, st["call_note"])])
        else:
            rows += [[item] for item in _list(block, st["call_item"])]
    table = Table(rows, colWidths=["100%"], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT),  # not reportlab's Helvetica (unembedded, no "ł")
                ("BOX", (0, 0), (-1, -1), 2.5, _URGENT),
                ("BACKGROUND", (0, 0), (-1, -1), _URGENT_BG),
                ("LEFTPADDING", (0, 0), (-1, -1), 12),
                ("RIGHTPADDING", (0, 0), (-1, -1), 12),
                ("TOPPADDING", (0, 0), (-1, 0), 10),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 10),
            ]
        )
    )
    return table


def _contact_block(
    contact: Mapping[str, str], st: dict[str, ParagraphStyle], wording: HandoutWording
) -> KeepTogether:
    """Care-team details; a missing value becomes a ruled blank line to write on."""
    fields = [(key, wording.contact_labels.get(key, label)) for key, label in CONTACT_FIELDS]
    known = {key for key, _ in fields}
    fields += [(key, key.replace("_", " ").capitalize()) for key in contact if key not in known]
    rows, blanks = [], []
    for n, (key, label) in enumerate(fields):
        value = str(contact.get(key) or "").strip()
        rows.append([Paragraph(label, st["contact_label"]), Paragraph(_escape(value), st["body"])])
        if not value:
            blanks.append(n)
    table = Table(rows, colWidths=[2.2 * inch, None], rowHeights=[BODY_PT * 2.2] * len(rows))
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ]
    style += [("LINEBELOW", (1, n), (1, n), 0.8, colors.black) for n in blanks]
    table.setStyle(TableStyle(style))
    return KeepTogether([Paragraph(_escape(wording.care_team), st["heading"]), table, Spacer(1, 8)])


def _taglines(first: str, contact: Mapping[str, str], st: dict[str, ParagraphStyle]) -> KeepTogether:
    """The language-access notice (ACA Section 1557 style) in every handout language, the
    handout's own first, with the agency's phone number."""
    phone = str(contact.get("phone") or "").strip() or None
    langs = [first, *sorted(code for code in load_languages().wording if code != first)]
    rows: list = []
    for code in langs:
        wording = handout_wording(code)
        rows.append(Paragraph(_escape(wording.tagline_title), st["sources_title"]))
        rows.append(Paragraph(_escape(wording.tagline_text(phone)), st["body"]))
    return KeepTogether(rows)


def _story(guide: Guide, contact: Mapping[str, str]) -> list:
    """Title and any opening line; then the boxed urgent list with the care team's numbers
    under it -- what a patient must find fast, kept whole on page 1; then the rest of the
    handout in the guide's order; then its sources and the language-access notice."""
    st = _styles()
    wording = handout_wording(guide.lang)
    story: list = [
        Paragraph(_escape(guide.title), st["title"]),
        Paragraph(_escape(wording.subtitle), st["subtitle"]),
    ]
    parts = guide.handout_parts()
    story += _flowables(parts.intro, st)
    for call in parts.calls:
        story += [KeepTogether(_call_box(call, st, wording)), Spacer(1, 4)]
    story.append(_contact_block(contact, st, wording))
    story += _flowables(parts.body, st)
    story.append(Paragraph(_escape(wording.sources_title), st["sources_title"]))
    cited = [
        Paragraph(
            f"[{_escape(source.key)}] {_escape(source.citation)}{f' {_escape(source.url)}' if source.url else ''}",
            st["source"],
        )
        for source in guide.handout_sources()
    ]
    # The closing note goes with the last citation: a page never holds the note and the footer alone.
    closing: list[Flowable] = [
        *cited[-1:],
        Paragraph(_escape(wording.reviewed_note.format(date=guide.reviewed_text)), st["source"]),
    ]
    story += [*cited[:-1], KeepTogether(closing)]
    story.append(_taglines(guide.lang, contact, st))
    return story


def _flowables(blocks: tuple[Block, ...], st: dict[str, ParagraphStyle]) -> list:
    """Headings, paragraphs and lists (``call`` blocks are placed by :func:`_story`)."""
    story: list = []
    for block in blocks:
        if block.kind == "heading":
            story.append(Paragraph(block.html, st["heading"]))
        elif block.kind == "paragraph":
            story.append(Paragraph(block.html, st["body"]))
        elif block.kind in ("bullets", "numbers"):
            story += _list(block, st["bullet"])
    return story


def _numbered_canvas(footer_lines: tuple[str, ...], result: dict, page_text: str = "Page {page} of {total}"):
    """A canvas class that knows the page total when it writes each footer."""

    def footer(canvas, page: int, total: int) -> None:
        width, _ = canvas._pagesize
        canvas.setStrokeColor(_GREY)
        canvas.setLineWidth(0.5)
        canvas.line(_MARGIN, 0.72 * inch, width - _MARGIN, 0.72 * inch)
        canvas.setFillColor(_GREY)
        canvas.setFont(FONT + "-Bold", 10)
        canvas.drawRightString(width - _MARGIN, 0.52 * inch, page_text.format(page=page, total=total))
        room = width - 2 * _MARGIN - 1.2 * inch
        canvas.setFont(FONT, 9)
        for n, text in enumerate(footer_lines):
            canvas.drawString(_MARGIN, (0.52 - 0.17 * n) * inch, _fit(text, room, 9))

    return decorated_canvas(footer, result)


_MARGIN = 0.75 * inch


def handout_pdf_bytes(
    guide: Guide, contact: Mapping[str, str] | None = None, *, pagesize=LETTER, then: Guide | None = None
) -> tuple[bytes, int]:
    """The handout as PDF bytes and its page count, in ``guide``'s language; with ``then`` (the
    same guide in another language) a bilingual copy: the first language, then the second from
    a new page, each whole with its own call boxes and care-team block."""
    _register_fonts()
    contact = dict(contact or {})
    parts = [guide] if then is None else [guide, then]
    if len({g.id for g in parts}) != 1 or len({g.lang for g in parts}) != len(parts):
        raise ValueError("a bilingual handout is one guide in two languages")
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=0.7 * inch,
        bottomMargin=0.95 * inch,
        title=" / ".join(f"{g.title}: {handout_wording(g.lang).title_suffix}" for g in parts),
        subject=" / ".join(handout_wording(g.lang).subtitle for g in parts),
        author=str(contact.get("agency") or "nurse-app"),
        creator="nurse-app",
    )
    result: dict = {}
    first = handout_wording(guide.lang)
    footer = (
        " / ".join(f"{_reviewed_word(g)} {g.reviewed_text} · {g.title}" for g in parts),
        " / ".join(handout_wording(g.lang).footer_sources for g in parts),
    )
    story: list = []
    for n, part in enumerate(parts):
        if n:
            story.append(PageBreak())
        story += _story(part, contact)
    doc.build(story, canvasmaker=_numbered_canvas(footer, result, first.page))
    return buffer.getvalue(), result["pages"]


def _reviewed_word(guide: Guide) -> str:
    """ "Last reviewed" in the guide's language: the reviewed note's words before its date."""
    return handout_wording(guide.lang).reviewed_note.split("{date}")[0].strip().rstrip(".,:")


def write_handout_pdf(
    guide: Guide, out: str | os.PathLike, contact: Mapping[str, str] | None = None, **kwargs: Any
) -> int:
    """Write the handout to ``out`` and return its page count.

    Written to a temporary file beside ``out`` and renamed into place, so a full disk
    or a crash never leaves a half-written PDF where a good one was.
    """
    data, pages = handout_pdf_bytes(guide, contact, **kwargs)
    write_atomically(data, out, "handout", private=False)
    return pages
