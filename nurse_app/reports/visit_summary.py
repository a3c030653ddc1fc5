"""The visit summary PDF: what a nurse hands over or files at the end of an IVIG visit.

Lays out a :class:`~nurse_app.reports.visit_data.VisitSummary` (the data step,
kept apart in :mod:`nurse_app.reports.visit_data` so the printed page shows the
same thing) with reportlab.  Every page carries the header (agency, nurse, title,
patient, visit date and time range, "Page x of y") and a footer; an unsigned visit
gets a diagonal DRAFT watermark on every page, so a draft can never pass for the
signed record.  Text is real PDF text in an embedded TrueType font (accented names
print); the vital-signs and checklist tables repeat their header row on every page.

Rendering is kept fast (a 60-reading visit in about 45 ms, see
``benchmarks/bench_visit_pdf.py``): table cells are plain strings, and only text
that must wrap becomes a Paragraph.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from nurse_app.core.formatting import fmt_number
from nurse_app.reports.common import (
    BOLD,
    FONT,
    escape,
    fit,
    pdf_document,
    write_atomically,
)
from nurse_app.reports.visit_data import DRAFT_MARK, NO_VALUE, TableData, VisitSummary, reactions_table

_ACCENT = colors.HexColor("#1f4e79")
_ALERT = colors.HexColor("#a4262c")
_ALERT_BG = colors.HexColor("#fdf3f3")
_GREY = colors.HexColor("#555555")
_RULE = colors.HexColor("#b8c4d0")
_HEAD_BG = colors.HexColor("#e8eef5")
_TOTAL_BG = colors.HexColor("#f4f6f8")
_MARGIN = 0.6 * inch
# Header and footer stay at least 0.5 in from the paper's edges (printers cannot print nearer).
_TOP = 1.45 * inch  # room for the page header
_BOTTOM = 0.85 * inch
BODY_PT = 9
TABLE_PT = 8.5
# Blocks taller than this are stacked instead of placed side by side (half a page body).
_STACK_ABOVE = 4.5 * inch
# A table cell longer than this (characters) may be taller than a page: its row may split.
_LONG_CELL = 500


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body", fontName=FONT, fontSize=BODY_PT, leading=BODY_PT * 1.3, spaceAfter=3, bulletFontName=FONT
    )
    cell = ParagraphStyle("cell", parent=body, fontSize=TABLE_PT, leading=TABLE_PT * 1.25, spaceAfter=0)
    return {
        "body": body,
        "cell": cell,
        "label": ParagraphStyle("label", parent=cell, fontName=BOLD, textColor=_GREY),
        "h1": ParagraphStyle(
            "h1",
            parent=body,
            fontName=BOLD,
            fontSize=12.5,
            leading=16,
            textColor=_ACCENT,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=BOLD,
            fontSize=10,
            leading=13,
            textColor=_ACCENT,
            spaceBefore=6,
            spaceAfter=3,
        ),
        "small": ParagraphStyle(
            "small", parent=body, fontSize=7.5, leading=9.5, textColor=_GREY, spaceAfter=2
        ),
        "formula": ParagraphStyle(
            "formula", parent=body, fontSize=8, leading=10.5, leftIndent=10, bulletIndent=2, spaceAfter=1
        ),
        "alert": ParagraphStyle("alert", parent=body, fontName=BOLD, textColor=_ALERT),
    }


def _grid(
    data: list[list],
    widths: Sequence[float | None],
    *,
    header: bool = True,
    repeat: bool = True,
    total: bool = False,
    extra: Iterable = (),
    split_rows: bool = False,
) -> Table:
    """A ruled table: light header band, thin horizontal rules, optional total row.

    ``split_rows``: a row may split across pages (needed when a cell holds text that can
    be taller than a page, e.g. a 4,000-character reaction note; otherwise rows stay whole).
    """
    table = Table(
        data,
        colWidths=list(widths),
        repeatRows=1 if header and repeat else 0,
        hAlign="LEFT",
        splitInRow=1 if split_rows else 0,
    )
    style: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), TABLE_PT),
        ("LEADING", (0, 0), (-1, -1), TABLE_PT * 1.25),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, _RULE),
    ]
    if header:
        style += [
            ("FONTNAME", (0, 0), (-1, 0), BOLD),
            ("BACKGROUND", (0, 0), (-1, 0), _HEAD_BG),
            ("TEXTCOLOR", (0, 0), (-1, 0), _ACCENT),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, _ACCENT),
        ]
    if total:
        style += [
            ("FONTNAME", (0, -1), (-1, -1), BOLD),
            ("BACKGROUND", (0, -1), (-1, -1), _TOTAL_BG),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, _GREY),
        ]
    style += list(extra)
    table.setStyle(TableStyle(style))
    return table


def _table(
    data: TableData,
    widths: Sequence[float | None],
    st,
    *,
    wrap: Iterable[int] = (),
    right: Iterable[int] = (),
    two_line_headers: bool = False,
) -> Table:
    """A :class:`TableData` as a reportlab table; ``wrap`` columns become Paragraphs
    (only those: plain string cells are what keeps rendering fast).  With
    ``two_line_headers`` a header breaks at its first space ("Temp" over "°C")."""
    wrap, right = set(wrap), set(right)
    rows: list[list[str | Paragraph]] = [
        [h.replace(" ", "\n", 1) if two_line_headers else h for h in data.headers]
    ]
    for row in data.rows:
        rows.append(
            [
                Paragraph(escape(text), st["cell"]) if c in wrap and text else text
                for c, text in enumerate(row)
            ]
        )
    if data.total:
        rows.append(list(data.total))
    extra: list[tuple[Any, ...]] = [("ALIGN", (c, 0), (c, -1), "RIGHT") for c in right]
    for r, c in data.flagged:
        extra += [("FONTNAME", (c, r + 1), (c, r + 1), BOLD), ("TEXTCOLOR", (c, r + 1), (c, r + 1), _ALERT)]
    return _grid(
        rows,
        widths,
        total=data.total is not None,
        extra=extra,
        split_rows=_has_long_text(row[c] for row in data.rows for c in wrap),
    )


def _pairs(pairs: Sequence[tuple[str, str]], width: float, st, label_width: float = 1.2 * inch) -> Table:
    rows = [[Paragraph(escape(k), st["label"]), Paragraph(escape(v), st["cell"])] for k, v in pairs]
    return _grid(
        rows, [label_width, width - label_width], header=False, split_rows=_has_long_text(v for _, v in pairs)
    )


def _has_long_text(cells: Iterable) -> bool:
    return any(isinstance(c, str) and len(c) > _LONG_CELL for c in cells)


def _height(flowables, width: float) -> float:
    return sum(f.wrap(width, 1e9)[1] for f in (flowables if isinstance(flowables, list) else [flowables]))


def _side_by_side(
    left: Callable[[float], list],
    right: Callable[[float], list],
    width: float,
    gap: float = 0.2 * inch,
    split: float = 0.5,
) -> list:
    """Two blocks side by side, each built for its column width; stacked at full width
    instead when either is too tall to sit beside the other (a 2,000-character allergy
    list, 50 lots): a table row cannot split across pages, and must never crash the
    summary."""
    lw = (width - gap) * split
    rw = width - gap - lw
    left_block, right_block = left(lw), right(rw)
    if max(_height(left_block, lw), _height(right_block, rw)) > _STACK_ABOVE:
        return [*left(width), Spacer(1, 4), *right(width)]
    table = Table([[left_block, "", right_block]], colWidths=[lw, gap, width - gap - lw])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [table]


def _titled(title: str, flowable, st) -> list:
    return [Paragraph(escape(title), st["h2"]), flowable]


def _titled_pairs(title: str, pairs, st) -> Callable[[float], list]:
    return lambda w: _titled(title, _pairs(pairs, w, st), st)


def _banner(text: str, st, width: float) -> Table:
    table = Table([[Paragraph(escape(text), st["alert"])]], colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, _ALERT),
                ("BACKGROUND", (0, 0), (-1, -1), _ALERT_BG),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return table


def _heading(text: str, st, level: str = "h1", room: float = 1.2 * inch) -> list:
    """A heading that starts a new page unless ``room`` is left for what follows.

    (reportlab's keepWithNext would push a whole long table to the next page,
    leaving a blank half page; a conditional break only needs a few rows' room.)
    """
    return [CondPageBreak(room), Paragraph(escape(text), st[level])]


def _bullets(lines: Iterable[str], st, mark: str = "•") -> list:
    return [Paragraph(escape(line), st["formula"], bulletText=mark) for line in lines]


def _lines(text: str, st, empty: str) -> list:
    return [Paragraph(escape(line), st["body"]) for line in text.splitlines() if line.strip()] or [
        Paragraph(escape(empty), st["body"])
    ]


def _dose_story(s: VisitSummary, width: float, st) -> list:
    story = _heading("Dose calculation as used", st)
    d = s.dose
    if d is None:
        story.append(Paragraph("No dose calculation was saved with this visit.", st["body"]))
    else:
        story += _side_by_side(
            _titled_pairs("Weights", d.weights, st), _titled_pairs("Dose", d.dose, st), width
        )
        for title, lines, mark in (
            ("How it was worked out", d.formulas, "•"),
            ("Warnings at calculation", d.warnings, "!"),
            ("Notes on the calculation", d.notes, "•"),
        ):
            if lines:
                story += _heading(title, st, "h2", 0.6 * inch) + _bullets(lines, st, mark)
    plan = (
        _table(d.vial_plan, [None] * 4, st, right=(2, 3))
        if d and d.vial_plan
        else Paragraph("No vial plan.", st["body"])
    )
    lots = (
        _table(
            s.lots,
            [None, 0.85 * inch, 0.65 * inch, 0.45 * inch, 0.55 * inch, 0.9 * inch],
            st,
            wrap=(0, 5),
            right=(2, 3, 4),
        )
        if s.lots
        else Paragraph("No lots recorded.", st["body"])
    )
    story.append(Spacer(1, 4))
    story.append(
        KeepTogether(
            [
                *_side_by_side(
                    lambda w: _titled("Vial plan (per day)", plan, st),
                    lambda w: _titled("Lots dispensed", lots, st),
                    width,
                    split=0.37,
                ),
                Spacer(1, 3),
                Paragraph(escape(s.lots_check), st["alert"] if s.lots_alert else st["body"]),
            ]
        )
    )
    if d and d.rates:
        story.append(
            KeepTogether(
                [
                    Paragraph("Rate schedule", st["h2"]),
                    _table(d.rates, [1.2 * inch, 0.9 * inch, 0.9 * inch, 0.9 * inch], st, right=(1, 2, 3)),
                    Spacer(1, 2),
                    Paragraph(escape(d.rate_note), st["small"]),
                ]
            )
        )
    return story


def _story(s: VisitSummary, width: float) -> list:
    st = _styles()
    story: list = []
    if s.evv_line:  # the six EVV items head the summary
        story += [Paragraph(escape(s.evv_line), st["label"]), Spacer(1, 4)]
    if s.draft:
        story += [
            _banner(
                f"{DRAFT_MARK}: this visit is not signed. The summary may still change "
                f"and is not the signed record.",
                st,
                width,
            ),
            Spacer(1, 6),
        ]
    story += _side_by_side(
        _titled_pairs("Patient", s.patient, st), _titled_pairs("Order", s.order, st), width
    )
    if s.visit_times:
        story += _titled(
            "Visit: arrival, departure and place",
            _pairs((*s.visit_times, ("Where", s.location or NO_VALUE)), width, st, 1.9 * inch),
            st,
        )
    story += _dose_story(s, width, st)

    story += _heading("Checklist", st, room=1.6 * inch)
    for phase in s.checklist:
        story += _heading(phase.title, st, "h2", 0.8 * inch)
        story.append(_table(phase.table, [width * 0.5, 1.05 * inch, 0.75 * inch, None], st, wrap=(0, 3)))
    if not s.checklist:
        story.append(Paragraph("No checklist.", st["body"]))

    story += _heading("Vital signs", st, room=1.6 * inch)
    if s.vitals.rows:
        story.append(
            _table(
                s.vitals,
                [0.75 * inch, 0.6 * inch, 0.7 * inch, 0.85 * inch, 0.65 * inch, 0.6 * inch, 0.7 * inch, None],
                st,
                wrap=(7,),
                right=range(1, 7),
                two_line_headers=True,
            )
        )
    else:
        story.append(Paragraph("No vital signs recorded.", st["body"]))
    story.append(Spacer(1, 3))
    story += [Paragraph(escape(line), st["small"]) for line in s.vitals_legend]
    if s.vital_flags:
        story += _heading(f"Abnormal values ({fmt_number(len(s.vital_flags), 0)})", st, "h2", 0.6 * inch)
        story += _bullets(s.vital_flags, st)

    if s.access:
        story += _heading("IV access (vascular access device)", st, room=1.4 * inch)
        story.append(
            _table(
                s.access,
                [1.1 * inch, 0.55 * inch, 0.95 * inch, 0.95 * inch, 0.95 * inch, 0.55 * inch, None],
                st,
                wrap=(0, 1, 2, 3, 4, 6),
                two_line_headers=True,
            )
        )
        if s.access_checks:
            story += _heading("Site assessments and flushes", st, "h2", 0.8 * inch)
            story.append(
                _table(s.access_checks, [0.6 * inch, 1.5 * inch, 1.5 * inch, None], st, wrap=(1, 2, 3))
            )
        story.append(Spacer(1, 3))
        story += [Paragraph(escape(line), st["small"]) for line in s.access_notes]

    story += _heading("Infusion timeline", st, room=1.4 * inch)
    if s.infusion:
        story.append(_table(s.infusion, [0.6 * inch, 0.8 * inch, 3.1 * inch, None], st, wrap=(2, 3)))
        story.append(Spacer(1, 3))
    else:
        story.append(Paragraph("No infusion events recorded.", st["body"]))
    story += [Paragraph(escape(line), st["body"]) for line in s.infusion_lines]

    story += _heading("Reactions", st)
    if s.reactions:
        story.append(
            _table(
                reactions_table(s),
                [0.65 * inch, 1.3 * inch, 0.65 * inch, 0.75 * inch, None, None],
                st,
                wrap=(1, 4, 5),
                two_line_headers=True,
            )
        )
    else:
        story.append(Paragraph("No reactions recorded.", st["body"]))

    story += _heading("Notes", st, room=0.8 * inch) + _lines(s.notes, st, "No notes.")
    if s.followup_calls:
        story += _heading("Follow-up calls since the previous visit", st, room=0.8 * inch)
        for lines in s.followup_calls:
            story.append(
                KeepTogether(
                    [
                        Paragraph(escape(lines[0]), st["h2"]),
                        *_lines("\n".join(line.strip() for line in lines[1:]), st, ""),
                    ]
                )
            )
    if s.addenda:
        story += _heading("Addenda", st)
        for n, a in enumerate(s.addenda, 1):
            story.append(
                KeepTogether(
                    [
                        Paragraph(escape(f"Addendum {n}: {a.when}, {a.author}"), st["h2"]),
                        *_lines(a.text, st, ""),
                    ]
                )
            )

    # Who signed and when, side by side; the seal (hash, check) below at full width.
    signer_rows = tuple(r for r in s.signature if r[0] in ("Signed by", "Signed at", "Status"))
    seal_rows = tuple(r for r in s.signature if r not in signer_rows)

    def nurse_block(w: float) -> list:
        return _titled("Nurse", _pairs(signer_rows, w, st, 1.0 * inch), st)

    def patient_block(w: float) -> list:
        block = _titled("Patient or caregiver", _pairs(s.patient_signature, w, st, 1.0 * inch), st)
        if s.patient_signature_png:
            block += [Spacer(1, 3), _signature_image(s.patient_signature_png, w)]
        return block

    signature: list = [Paragraph("Signatures", st["h1"])]
    if s.patient_signature:
        signature += _side_by_side(nurse_block, patient_block, width)
    else:
        signature += nurse_block(width)
    if seal_rows:
        signature += [Spacer(1, 4), _pairs(seal_rows, width, st)]
    if s.signature_alert:
        signature += [Spacer(1, 4), Paragraph(escape(s.signature_alert), st["alert"])]
    story.append(KeepTogether(signature))
    return story


def _signature_image(png: bytes, width: float):
    """The patient's signature as drawn (the PNG rendered from its strokes), at most 1 in high."""
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    reader = ImageReader(io.BytesIO(png))
    w, h = reader.getSize()
    scale = min(width / w, 1.0 * inch / h)
    image = Image(io.BytesIO(png), width=w * scale, height=h * scale)
    image.hAlign = "LEFT"
    return image


def _decorate(s: VisitSummary):
    """Header, footer and (drafts) watermark for every page."""

    def draw(canvas, page: int, total: int) -> None:
        width, height = canvas._pagesize
        left, right = _MARGIN, width - _MARGIN
        half = (right - left) / 2 - 6
        top = height - 0.7 * inch  # the 14 pt title's ascent stays below 0.5 in
        # Left: agency and nurse.
        canvas.setFillColor(colors.black)
        y = top
        lines = [*s.agency_lines, f"Nurse: {s.nurse or NO_VALUE}"]
        if s.agency_lines:  # the agency's name stands out; unset, the nurse line leads
            canvas.setFont(BOLD, 11)
            canvas.drawString(left, y, fit(lines.pop(0), half, 11, BOLD))
            y -= 11
        canvas.setFont(FONT, 8.5)
        for line in lines:
            canvas.drawString(left, y, fit(line, half, 8.5))
            y -= 11
        y += 11
        # Right: title, patient, visit time, page.
        canvas.setFillColor(_ACCENT)
        canvas.setFont(BOLD, 14)
        canvas.drawRightString(right, top, s.title)
        canvas.setFillColor(colors.black)
        canvas.setFont(BOLD, 9)
        canvas.drawRightString(right, top - 14, fit(s.patient_line, half, 9, BOLD))
        canvas.setFont(FONT, 8.5)
        canvas.drawRightString(right, top - 26, fit(s.when, half, 8.5))
        canvas.setFont(BOLD, 8.5)
        canvas.drawRightString(right, top - 38, f"Page {page} of {total}")
        rule = min(y, top - 38) - 7
        canvas.setStrokeColor(_ACCENT)
        canvas.setLineWidth(0.8)
        canvas.line(left, rule, right, rule)
        # Footer.
        canvas.setStrokeColor(_GREY)
        canvas.setLineWidth(0.4)
        canvas.line(left, 0.7 * inch, right, 0.7 * inch)
        canvas.setFillColor(_ALERT if s.draft else _GREY)
        canvas.setFont(FONT, 7.5)
        canvas.drawString(left, 0.56 * inch, fit(s.footer, right - left - 60, 7.5))
        canvas.setFillColor(_GREY)
        canvas.drawRightString(right, 0.56 * inch, f"Page {page} of {total}")
        if s.draft:
            canvas.saveState()
            canvas.setFillColor(_ALERT)
            canvas.setFillAlpha(0.13)
            canvas.translate(width / 2, height / 2)
            canvas.rotate(45)
            canvas.setFont(BOLD, 150)
            canvas.drawCentredString(0, -50, DRAFT_MARK)
            canvas.restoreState()

    return draw


def summary_pdf_bytes(summary: VisitSummary, *, pagesize=LETTER) -> tuple[bytes, int]:
    """The summary as PDF bytes and its page count."""
    # No frame padding: the body lines up with the page header drawn at the margins.
    return pdf_document(
        lambda width: _story(summary, width),
        _decorate(summary),
        pagesize=pagesize,
        margins=(_MARGIN, _MARGIN, _TOP, _BOTTOM),
        title=f"{summary.title}: {summary.patient_line}",
        subject=f"Visit {summary.visit_id}, {summary.when}",
        author=summary.nurse or "nurse-app",
    )


def write_summary_pdf(summary: VisitSummary, out: str | os.PathLike, **kwargs) -> int:
    """Write the summary PDF to ``out`` (atomically) and return its page count."""
    data, pages = summary_pdf_bytes(summary, **kwargs)
    write_atomically(data, out, "visit summary")
    return pages
