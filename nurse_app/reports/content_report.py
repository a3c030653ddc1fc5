"""The clinical content report as PDF: every figure and statement, grouped, for sign-off.

The items come from :mod:`nurse_app.core.content_report`; this module only lays them out:
a cover block (content version, agency policy, approval state, the status rule, counts),
one table per group (item, value, unit, sources with their class, status; rows changed
since the approved version marked CHANGED), the sources cited, and a sign-off block.
Every page carries the content version and "Page x of y".
"""

from __future__ import annotations

import os
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import (
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from nurse_app.core.content_report import AGENCY_POLICY, GROUPS, UNVERIFIED, ContentReport
from nurse_app.core.resources import SOURCE_CLASS_NAMES
from nurse_app.reports.common import BOLD, FONT, escape, pdf_document, register_fonts, write_atomically

TITLE = "Clinical content report"
SIGN_OFF = "Educator sign-off"
NOT_APPROVED = "Not yet approved by your agency."
CHANGED = "CHANGED"
STATUS_RULE = (
    "Status: <b>verified</b> = backed by at least one FDA label / manufacturer prescribing "
    "information, guideline or peer-reviewed source; <b>unverified</b> = marked UNVERIFIED in "
    "the content or supported only by secondary sources; <b>agency policy</b> = set by the "
    "agency policy file, or an app default (local policy default) for the agency to confirm. "
    "Source classes: " + "; ".join(f"<b>{k}</b> = {v}" for k, v in SOURCE_CLASS_NAMES.items()) + "."
)


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=18, leading=22, spaceAfter=6),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=BOLD, fontSize=13, leading=16, spaceBefore=10, spaceAfter=4
        ),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9.2),
        "cellb": ParagraphStyle("cellb", parent=body, fontName=BOLD, fontSize=7.5, leading=9.2),
        "small": ParagraphStyle("small", parent=body, fontSize=7, leading=8.6),
    }


def _sources_text(item) -> str:
    return ", ".join(f"{s.key} ({s.source_class})" for s in item.sources) or "-"


def _group_table(items, st, changed: set[str], width: float) -> LongTable:
    header = ["Item", "Value", "Unit", "Sources (class)", "Status / from"]
    rows = [[Paragraph(h, st["cellb"]) for h in header]]
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for n, it in enumerate(items, start=1):
        mark = f"<b>{CHANGED}</b> " if it.id in changed else ""
        value = escape(it.value)
        if it.note:
            value += f"<br/><font size=6.5 color='#555555'>{escape(it.note)}</font>"
        status = f"{escape(it.status)}<br/><font size=6.5>from {escape(it.origin)}</font>"
        rows.append(
            [
                Paragraph(mark + escape(it.title), st["cell"]),
                Paragraph(value, st["cell"]),
                Paragraph(escape(it.unit or "-"), st["cell"]),
                Paragraph(escape(_sources_text(it)), st["cell"]),
                Paragraph(status, st["cell"]),
            ]
        )
        if it.id in changed:
            style.append(("BACKGROUND", (0, n), (-1, n), colors.HexColor("#fff4ce")))
        elif it.status == UNVERIFIED:
            style.append(("TEXTCOLOR", (4, n), (4, n), colors.HexColor("#a4262c")))
        elif it.status == AGENCY_POLICY:
            style.append(("TEXTCOLOR", (4, n), (4, n), colors.HexColor("#0b5394")))
    fractions = (0.2, 0.43, 0.07, 0.17, 0.13)
    table = LongTable(rows, colWidths=[f * width for f in fractions], repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


def _story(report: ContentReport, width: float) -> list:
    st = _styles()
    story: list = [Paragraph(TITLE, st["title"])]
    facts = [
        f"<b>Content version:</b> {escape(report.version)} (a hash of the app's content files and the "
        f"agency policy file)",
        f"<b>Generated:</b> {escape(report.generated_on)}",
        f"<b>Agency policy file:</b> {escape(report.policy_file) or 'none (app defaults in force)'}",
    ]
    if report.agency:
        facts.append(f"<b>Agency:</b> {escape(report.agency)}")
    if report.approval is None:
        facts.append(f"<b>Approval:</b> {NOT_APPROVED}")
    else:
        a = report.approval
        who = ", ".join(x for x in (a.get("approver_name"), a.get("approver_credentials")) if x)
        state = "this version" if report.approved else f"version {a.get('content_version')} (not this one)"
        facts.append(
            f"<b>Approval:</b> {escape(who)} on {escape(str(a.get('approved_on')))}, {escape(state)}"
        )
        if report.changes is not None and report.changes.any:
            c = report.changes
            facts.append(
                f"<b>Changed since the approved version:</b> {len(c.changed)} changed, {len(c.added)} new, "
                f"{len(c.removed)} removed (rows marked {CHANGED})"
                + (f"; removed: {escape(', '.join(c.removed))}" if c.removed else "")
            )
    v = report.verification
    if v:
        facts.append(
            f"<b>Reference-pack UNVERIFIED items re-checked against primary sources:</b> {v['items']}; "
            f"confirmed {v['confirmed']}, partly confirmed {v['partly']}, still unverified {v['unverified']}; "
            f"data changed for {v['data_changed']} (resources/verification.toml)"
        )
    story += [
        Paragraph("<br/>".join(facts), st["body"]),
        Spacer(1, 6),
        Paragraph(STATUS_RULE, st["small"]),
        Spacer(1, 6),
    ]
    count_rows = [["Group", "Items", "Verified", "Unverified", "Agency policy"]]
    for group in GROUPS:
        tally = report.counts.get(group)
        if tally:
            count_rows.append(
                [
                    group,
                    str(sum(tally.values())),
                    str(tally["verified"]),
                    str(tally["unverified"]),
                    str(tally["agency policy"]),
                ]
            )
    counts = Table(count_rows, hAlign="LEFT")
    counts.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8),
                ("FONT", (0, 0), (-1, 0), BOLD, 8),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ]
        )
    )
    story.append(counts)
    changed = report.changed_ids()
    for group in GROUPS:
        items = [it for it in report.items if it.group == group]
        if not items:
            continue
        story.append(Paragraph(f"{escape(group)} ({len(items)})", st["h2"]))
        story.append(_group_table(items, st, changed, width))
    story.append(PageBreak())
    story.append(Paragraph("Sources cited", st["h2"]))
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for it in report.items:
        for s in it.sources:
            seen.setdefault((it.file, s.key), (s.source_class, s.citation))
    for (file, key), (cls, citation) in sorted(seen.items()):
        story.append(
            Paragraph(
                f"<b>{escape(file)} [{escape(key)}]</b> ({escape(cls)}) {escape(citation)}", st["small"]
            )
        )
    story.append(Spacer(1, 14))
    lines = [
        ["Content version", report.version],
        ["Approved by (name)", ""],
        ["Credentials", ""],
        ["Signature", ""],
        ["Date", ""],
    ]
    sign = Table(
        lines, colWidths=[1.8 * inch, 4.5 * inch], rowHeights=[0.32 * inch] * len(lines), hAlign="LEFT"
    )
    sign.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 10),
                ("FONT", (0, 0), (0, -1), BOLD, 10),
                ("LINEBELOW", (1, 1), (1, -1), 0.8, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ]
        )
    )
    story.append(
        KeepTogether(
            [
                Paragraph(SIGN_OFF, st["h2"]),
                Paragraph(
                    "I have reviewed every item in this report for use by our nurses. Record this approval in the app "
                    "(File > Clinical content) with the same content version.",
                    st["body"],
                ),
                Spacer(1, 6),
                sign,
            ]
        )
    )
    return story


def content_report_pdf(report: ContentReport) -> tuple[bytes, int]:
    pagesize = landscape(LETTER)
    margin = 0.5 * inch

    def decorate(canvas, page: int, total: int) -> None:
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(
            margin,
            0.35 * inch,
            f"{TITLE} - content version {report.version} - generated {report.generated_on}",
        )
        canvas.drawRightString(pagesize[0] - margin, 0.35 * inch, f"Page {page} of {total}")

    return pdf_document(
        lambda _width: _story(report, pagesize[0] - 2 * margin),
        decorate,
        pagesize=pagesize,
        margins=(margin, margin, margin, 0.6 * inch),
        title=TITLE,
        subject=f"Content version {report.version}",
        author="IVIG Nurse Companion",
        padding=6,  # reportlab's usual frame padding, as the report was laid out
    )


def write_content_report_pdf(report: ContentReport, out: str | os.PathLike) -> int:
    data, pages = content_report_pdf(report)
    write_atomically(data, out, "content report")
    return pages
