"""The printable week sheet (PDF): the schedule grouped by day, with a tick box per item.

Every page carries "Contains patient information", the date range and "Page x of y".
The sheet shows full names and MRNs (it is a working paper for the nurse's bag); the
items come from :func:`nurse_app.services.schedule.build_schedule`, like the Week page.
"""

from __future__ import annotations

import os
from itertools import groupby
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from nurse_app.reports.common import (
    BOLD,
    FONT,
    escape,
    fit,
    pdf_document,
    write_atomically,
)

WARNING = "Contains patient information: keep it with you and shred it when done."
_MARGIN = 0.5 * inch
_ACCENT = colors.HexColor("#1f4e79")
_ALERT = colors.HexColor("#b00020")
_STATUS_COLOURS = {
    "late": _ALERT,
    "missed": _ALERT,
    "due": colors.HexColor("#8a5a00"),
    "done": colors.HexColor("#2e7d32"),
    "partial": colors.HexColor("#8a5a00"),
}


def _decorate(schedule, nurse: str):
    span = f"{schedule.start:%a %d %b %Y} to {schedule.end.fromordinal(schedule.end.toordinal() - 1):%a %d %b %Y}"

    def draw(canvas, page: int, total: int) -> None:
        width, height = canvas._pagesize
        left, right, top = _MARGIN, width - _MARGIN, height - 0.45 * inch
        canvas.setFillColor(_ACCENT)
        canvas.setFont(BOLD, 14)
        canvas.drawString(left, top, "Week sheet: visits and calls")
        canvas.setFillColor(colors.black)
        canvas.setFont(FONT, 9)
        canvas.drawString(left, top - 13, fit(f"{span}   Nurse: {nurse or 'not set'}", right - left - 80, 9))
        canvas.setFont(BOLD, 9)
        canvas.drawRightString(right, top, f"Page {page} of {total}")
        canvas.setFillColor(_ALERT)
        canvas.drawRightString(right, top - 13, WARNING)
        canvas.setStrokeColor(_ACCENT)
        canvas.line(left, top - 19, right, top - 19)
        canvas.setFillColor(colors.grey)
        canvas.setFont(FONT, 7.5)
        canvas.drawString(left, 0.3 * inch, WARNING)
        canvas.drawRightString(right, 0.3 * inch, f"Page {page} of {total}")

    return draw


def _story(schedule, width: float) -> list:
    heading = ParagraphStyle(
        "day", fontName=BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=3, textColor=_ACCENT
    )
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5)
    story: list = []
    if not schedule.items:
        story.append(Paragraph("Nothing is scheduled in these days.", cell))
        return story
    cols = [0.3 * inch, 0.75 * inch, 1.5 * inch, 0.8 * inch]
    cols.append(width - sum(cols))
    for day, group in groupby(schedule.items, key=lambda i: i.date):
        items = list(group)
        title = f"{day:%A %d %B %Y}"
        if day < schedule.start:
            title += " (overdue from before this week)"
        elif day == schedule.today:
            title += " (today)"
        rows: list[list[str | Paragraph]] = [["", "Status", "Patient", "What", "Details"]]
        styles: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, 0), BOLD, 8),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ]
        for n, item in enumerate(items, start=1):
            what = "Visit" if item.kind == "course-day" else (item.title or item.kind)
            detail = item.label.split(": ", 1)[-1]
            rows.append(
                [
                    "\u2610",
                    item.status,
                    Paragraph(escape(f"{item.patient_name} ({item.mrn})"), cell),
                    Paragraph(escape(what), cell),
                    Paragraph(escape(detail), cell),
                ]
            )
            colour = _STATUS_COLOURS.get(item.status)
            if colour is not None:
                styles.append(("TEXTCOLOR", (1, n), (1, n), colour))
        styles.append(("FONT", (0, 1), (1, -1), FONT, 8.5))
        table = Table(rows, colWidths=cols, repeatRows=1)
        table.setStyle(TableStyle(styles))
        story.append(KeepTogether([Paragraph(escape(title), heading), table]))
        story.append(Spacer(1, 4))
    return story


def week_sheet_bytes(schedule, *, nurse: str = "", pagesize=landscape(LETTER)) -> tuple[bytes, int]:
    return pdf_document(
        lambda width: _story(schedule, width),
        _decorate(schedule, nurse),
        pagesize=pagesize,
        margins=(_MARGIN, _MARGIN, 0.95 * inch, 0.55 * inch),
        title="Week sheet (contains patient information)",
        author=nurse or "nurse-app",
    )


def write_week_sheet(schedule, out: str | os.PathLike, *, nurse: str = "") -> int:
    data, pages = week_sheet_bytes(schedule, nurse=nurse)
    write_atomically(data, out, "week sheet")
    return pages
