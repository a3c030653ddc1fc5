"""Visit page actions: "Save summary as PDF…", "Print…" and "Export for the agency (FHIR)…".

Each helper takes the record's *path*, not an open Store: the slow part (reading
the visit, laying out the PDF, building the FHIR Bundle) runs on a QThreadPool
worker, and an SQLite connection must stay on the thread that opened it, so the
worker opens its own Store.  A busy indicator shows meanwhile; errors reach the
nurse as a message box with a sentence, never a traceback.

Each helper returns an :class:`ExportTask` (or None when the nurse cancels the
file or print dialog) whose ``finished(ok, text)`` signal fires once: ``text`` is
the file written (or "printed") on success, the error message otherwise.

Printing: PySide6-Essentials has no QtPdf to rasterise the PDF, so "Print…" lays
out an HTML rendering of the *same* :class:`VisitSummary` in a QTextDocument and
paints it page by page with the same header ("Page x of y"), footer and DRAFT
watermark as the PDF.  Table header rows repeat on every page (``<thead>``), and a
heading that would end a page moves to the next one (:func:`keep_headings_with_next`).
"""

from __future__ import annotations

import math
from html import escape
from typing import Callable

import shiboken6
from PySide6.QtCore import QObject, QPointF, QRectF, QRunnable, QSizeF, Qt, Signal, Slot
from PySide6.QtGui import (QAbstractTextDocumentLayout, QColor, QFont, QPainter, QPalette, QTextCursor,
                           QTextDocument, QTextFormat)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QProgressDialog, QWidget

from nurse_app.core.errors import NurseAppError
from nurse_app.reports.visit_data import DRAFT_MARK, TableData, VisitSummary, reactions_table
from nurse_app.ui.tasks import start_job

_ACCENT = "#1f4e79"
_ALERT = "#a4262c"
# Lengths are CSS pixels; Qt scales them to the printer's resolution.
_CSS = (f"h2 {{ color: {_ACCENT}; font-size: 12pt; margin-top: 14px; margin-bottom: 4px; }}"
        f"h3 {{ color: {_ACCENT}; font-size: 9.5pt; margin-top: 9px; margin-bottom: 3px; }}"
        "p { margin-top: 2px; margin-bottom: 2px; }"
        f"th {{ background-color: #e8eef5; color: {_ACCENT}; text-align: left; }}"
        f".flag {{ color: {_ALERT}; font-weight: bold; }} .alert {{ color: {_ALERT}; font-weight: bold; }}"
        ".small { color: #555555; font-size: 7pt; } td.label { color: #555555; font-weight: bold; }")

# Space a heading needs below it on its page (a few table rows), or it moves to the next page.
HEADING_ROOM_INCHES = 0.6

# Tasks still running (kept alive here until they report back).
_RUNNING: set["ExportTask"] = set()


class ExportTask(QObject):
    """One save, export or print in progress; ``finished(ok, text)`` fires once.

    It lives on the GUI thread, so the worker's signals reach its slots queued, on
    the GUI thread, where the result is handled and any message box is shown.
    After a failure ``message_box`` is the (non-blocking) warning shown to the nurse.
    """

    finished = Signal(bool, str)

    def __init__(self, parent: QWidget | None, error_title: str, failure: str,
                 on_done: Callable[[object], str], progress: QProgressDialog):
        super().__init__()  # no Qt parent: it must outlive a page closed mid-export
        self.message_box: QMessageBox | None = None
        self._parent, self._error_title, self._failure = parent, error_title, failure
        self._on_done, self._progress = on_done, progress
        self._job: _Job | None = None

    @Slot(object)
    def _done(self, result: object) -> None:
        try:
            text = self._on_done(result)
        except NurseAppError as exc:
            self._finish(False, str(exc))
        except Exception as exc:  # noqa: BLE001 - the nurse gets a sentence, not a crash
            self._finish(False, f"{self._failure}: {exc}")
        else:
            self._finish(True, text)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._finish(False, message)

    def _finish(self, ok: bool, text: str) -> None:
        if shiboken6.isValid(self._progress):  # gone with its parent if the page was closed
            self._progress.close()
            self._progress.deleteLater()
        _RUNNING.discard(self)
        self._job = None
        if not ok:
            parent = self._parent if self._parent is not None and shiboken6.isValid(self._parent) else None
            box = QMessageBox(QMessageBox.Icon.Warning, self._error_title, text,
                              QMessageBox.StandardButton.Ok, parent)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()  # not exec(): never blocks, and tests can find and close it
            self.message_box = box
        self.finished.emit(ok, text)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str)


class _Job(QRunnable):
    """Runs ``work`` on a pool thread; the result or error comes back through signals."""

    def __init__(self, work: Callable[[], object], failure: str):
        super().__init__()
        self.setAutoDelete(False)  # Python owns it until it reports back
        self.signals = _Signals()
        self._work, self._failure = work, failure

    def run(self) -> None:
        try:
            result = self._work()
        except NurseAppError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - the nurse gets a sentence, not a crash
            self.signals.failed.emit(f"{self._failure}: {exc}")
        else:
            self.signals.done.emit(result)


def _start(parent: QWidget | None, busy_text: str, error_title: str, failure: str,
           work: Callable[[], object], on_done: Callable[[object], str]) -> ExportTask:
    """Run ``work`` off the GUI thread with a busy dialog; ``on_done`` (GUI thread)
    turns its result into the success text, or raises NurseAppError."""
    progress = QProgressDialog(busy_text, None, 0, 0, parent)
    progress.setWindowTitle("nurse-app")
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(0)
    progress.setAutoClose(False)
    progress.show()
    task = ExportTask(parent, error_title, failure, on_done, progress)
    job = _Job(work, failure)
    job.signals.done.connect(task._done)
    job.signals.failed.connect(task._failed)
    task._job = job
    _RUNNING.add(task)
    start_job(job)   # collects garbage on the GUI thread first
    return task


def _ask_path(parent: QWidget | None, title: str, suggested: str, filter_: str, suffix: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filter_)
    if not path:
        return None
    return path if path.lower().endswith(suffix) else path + suffix


def _load_summary(store_path: str, visit_id: int) -> VisitSummary:
    """On the worker thread: a Store of its own, closed before returning."""
    from nurse_app.reports.visit_data import visit_summary
    from nurse_app.store import Store
    with Store.open(store_path) as store:
        return visit_summary(store, visit_id)


# --------------------------------------------------------------------------- save as PDF

def save_summary_pdf(parent: QWidget | None, store_path, visit_id: int,
                     suggested_name: str | None = None) -> ExportTask | None:
    """Ask where to save, then write the visit summary PDF off the GUI thread."""
    path = _ask_path(parent, "Save visit summary", suggested_name or f"visit-{visit_id}-summary.pdf",
                     "PDF files (*.pdf)", ".pdf")
    if path is None:
        return None

    def work() -> str:
        from nurse_app.reports.visit_summary import write_summary_pdf
        write_summary_pdf(_load_summary(str(store_path), visit_id), path)
        return path

    return _start(parent, "Creating the visit summary…", "Visit summary not saved",
                  "Could not create the visit summary", work, str)


# --------------------------------------------------------------------------- FHIR

def export_fhir(parent: QWidget | None, store_path, visit_id: int,
                suggested_name: str | None = None) -> ExportTask | None:
    """Ask where to save, then write the visit as a FHIR R4 Bundle (JSON)."""
    path = _ask_path(parent, "Export visit for the agency record (FHIR)",
                     suggested_name or f"visit-{visit_id}-fhir.json", "FHIR JSON (*.json)", ".json")
    if path is None:
        return None

    def work() -> str:
        from nurse_app.reports.common import write_atomically
        from nurse_app.reports.fhir import bundle_json, visit_bundle
        from nurse_app.reports.visit_data import load_visit
        from nurse_app.store import Store
        with Store.open(str(store_path)) as store:
            record = load_visit(store, visit_id)
        write_atomically(bundle_json(visit_bundle(record)).encode("utf-8"), path, "FHIR export")
        return path

    return _start(parent, "Exporting the visit (FHIR)…", "Visit not exported",
                  "Could not export the visit", work, str)


# --------------------------------------------------------------------------- print

def print_summary(parent: QWidget | None, store_path, visit_id: int) -> ExportTask | None:
    """Ask for a printer (QPrintDialog), read the visit off the GUI thread, then print it."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print visit summary")
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None

    def on_done(summary: VisitSummary) -> str:
        pages = print_to(summary, printer)
        return f"Sent {pages} page{'s' if pages != 1 else ''} to {printer.printerName() or printer.outputFileName() or 'the printer'}."

    return _start(parent, "Preparing the visit summary for printing…", "Visit summary not printed",
                  "Could not print the visit summary",
                  lambda: _load_summary(str(store_path), visit_id), on_done)


def summary_document(summary: VisitSummary, printer: QPrinter) -> tuple[QTextDocument, float, float]:
    """The summary laid out in ``printer`` units, paginated to the body area of its pages.

    Returns the document and the header and footer heights left around the body.
    """
    dpi = printer.resolution()
    page = printer.pageLayout().paintRectPixels(dpi)
    header_h, footer_h = 0.95 * dpi, 0.35 * dpi
    document = QTextDocument()
    document.documentLayout().setPaintDevice(printer)  # lay out in printer units
    font = QFont("DejaVu Sans")
    font.setPointSizeF(8.5)
    document.setDefaultFont(font)
    document.setDefaultStyleSheet(_CSS)
    document.setDocumentMargin(0)
    document.setHtml(summary_html(summary))
    document.setPageSize(QSizeF(page.width(), page.height() - header_h - footer_h))
    keep_headings_with_next(document, HEADING_ROOM_INCHES * dpi)
    return document, header_h, footer_h


def print_to(summary: VisitSummary, printer: QPrinter) -> int:
    """Paint the summary on ``printer`` (GUI thread) and return the page count."""
    dpi = printer.resolution()
    page = printer.pageLayout().paintRectPixels(dpi)
    document, header_h, footer_h = summary_document(summary, printer)
    body = QRectF(QPointF(0, 0), document.pageSize())
    total = document.pageCount()
    # Body text in black: paper is white whatever the screen's theme (drawContents() would take
    # the application palette's text colour, which is white under a dark system theme).
    context = QAbstractTextDocumentLayout.PaintContext()
    context.palette.setColor(QPalette.ColorRole.Text, QColor("black"))
    painter = QPainter()
    if not painter.begin(printer):
        raise NurseAppError("The printer could not be started; check that it is connected and "
                            "try again.")
    try:
        for index in range(total):
            if index:
                printer.newPage()
            _page_furniture(painter, summary, index + 1, total, page.width(), page.height(),
                            header_h, footer_h, dpi)
            painter.save()
            painter.translate(0, header_h - index * body.height())
            clip = QRectF(0, index * body.height(), body.width(), body.height())
            painter.setClipRect(clip)
            context.clip = clip
            document.documentLayout().draw(painter, context)
            painter.restore()
    finally:
        painter.end()
    return total


def keep_headings_with_next(document: QTextDocument, room: float) -> int:
    """Move a heading that would end a page to the next one; return how many moved.

    A heading with less than ``room`` (document units) between its bottom and the end of its
    page would print alone with its table on the next page (reportlab's keepWithNext does this
    for the PDF).  Each such heading gets a page break before it; a move shifts everything after
    it, so passes repeat until nothing moves.  Headings inside table cells are left alone.
    """
    height = document.pageSize().height()
    layout = document.documentLayout()
    moved = 0
    for _ in range(document.blockCount()):
        block, pushed = document.begin(), False
        while block.isValid():
            fmt = block.blockFormat()
            if (fmt.headingLevel() and document.frameAt(block.position()).parentFrame() is None
                    and not fmt.pageBreakPolicy() & QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore):
                rect = layout.blockBoundingRect(block)
                top_on_page = rect.top() - math.floor(rect.top() / height) * height
                if top_on_page > 0 and height - (top_on_page + rect.height()) < room:
                    fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
                    QTextCursor(block).setBlockFormat(fmt)
                    # Lay the rest out again now: Qt's incremental relayout can otherwise leave
                    # later blocks without lines (they would not print).
                    document.markContentsDirty(block.position(), document.characterCount() - block.position())
                    moved, pushed = moved + 1, True
                    break           # the layout below this heading has changed: start again
            block = block.next()
        if not pushed:
            return moved
    return moved


def _page_furniture(painter: QPainter, s: VisitSummary, page: int, total: int, width: float,
                    height: float, header_h: float, footer_h: float, dpi: int) -> None:
    """Header, footer and (drafts) watermark: the same furniture as the PDF."""
    pt = dpi / 72

    def text(x: float, y: float, w: float, line: str, size: float, *, bold=False, color="#000000",
             align=Qt.AlignmentFlag.AlignLeft) -> None:
        font = QFont("DejaVu Sans")
        font.setPointSizeF(size)
        font.setBold(bold)
        painter.setFont(font)
        painter.setPen(QColor(color))
        rect = QRectF(x, y, w, size * 1.5 * pt)
        painter.drawText(rect, int(align | Qt.AlignmentFlag.AlignTop),
                         painter.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, int(w)))

    half = width / 2 - 6 * pt
    right = Qt.AlignmentFlag.AlignRight
    lines = [*s.agency_lines, f"Nurse: {s.nurse or '—'}"]
    y = 0.0
    if s.agency_lines:
        text(0, y, half, lines.pop(0), 11, bold=True)
        y += 15 * pt
    for line in lines:
        text(0, y, half, line, 8.5)
        y += 11 * pt
    text(width / 2, 0, width / 2, s.title, 14, bold=True, color=_ACCENT, align=right)
    text(width / 2, 19 * pt, width / 2, s.patient_line, 9, bold=True, align=right)
    text(width / 2, 31 * pt, width / 2, s.when, 8.5, align=right)
    text(width / 2, 43 * pt, width / 2, f"Page {page} of {total}", 8.5, bold=True, align=right)
    painter.setPen(QColor(_ACCENT))
    rule = max(y, 56 * pt) + 2 * pt
    painter.drawLine(0, int(rule), int(width), int(rule))
    foot = height - footer_h + 8 * pt
    text(0, foot, width - 70 * pt, s.footer, 7.5, color=_ALERT if s.draft else "#555555")
    text(width - 70 * pt, foot, 70 * pt, f"Page {page} of {total}", 7.5, color="#555555", align=right)
    if s.draft:
        painter.save()
        painter.translate(width / 2, height / 2)
        painter.rotate(-45)
        font = QFont("DejaVu Sans")
        font.setPointSizeF(130)
        font.setBold(True)
        painter.setFont(font)
        color = QColor(_ALERT)
        color.setAlphaF(0.13)
        painter.setPen(color)
        painter.drawText(QRectF(-width, -height / 4, 2 * width, height / 2),
                         int(Qt.AlignmentFlag.AlignCenter), DRAFT_MARK)
        painter.restore()


# --------------------------------------------------------------------------- HTML

def _pairs_html(pairs) -> str:
    rows = "".join(f'<tr><td class="label" width="32%">{escape(k)}</td><td>{escape(v)}</td></tr>'
                   for k, v in pairs)
    return f'<table width="100%" cellpadding="2" cellspacing="0">{rows}</table>'


def _table_html(table: TableData, right: set[int] = frozenset(),
                widths: tuple[int, ...] = ()) -> str:
    """A table whose header row repeats on every printed page (``<thead>``)."""
    def cell(tag: str, text: str, col: int, cls: str = "") -> str:
        align = ' align="right"' if col in right else ""
        klass = f' class="{cls}"' if cls else ""
        width = f' width="{widths[col]}%"' if tag == "th" and col < len(widths) else ""
        return f"<{tag}{align}{klass}{width}>{escape(text)}</{tag}>"

    head = "".join(cell("th", h, c) for c, h in enumerate(table.headers))
    body = "".join(
        "<tr>" + "".join(cell("td", t, c, "flag" if (r, c) in table.flagged else "")
                         for c, t in enumerate(row)) + "</tr>"
        for r, row in enumerate(table.rows))
    if table.total:
        body += "<tr>" + "".join(cell("td", t, c, "label") for c, t in enumerate(table.total)) + "</tr>"
    return (f'<table width="100%" border="0.5" cellpadding="3" cellspacing="0" '
            f'style="border-collapse: collapse; border-color: #b8c4d0">'
            f"<thead><tr>{head}</tr></thead>{body}</table>")


def summary_html(s: VisitSummary) -> str:
    """The summary as Qt rich text: the same blocks, in the same order, as the PDF."""
    out: list[str] = []
    if s.draft:
        out.append(f'<p class="alert">{DRAFT_MARK}: this visit is not signed. The summary may still '
                   f"change and is not the signed record.</p>")
    out.append('<table width="100%" cellspacing="0" cellpadding="0"><tr>'
               f'<td width="49%"><h3>Patient</h3>{_pairs_html(s.patient)}</td><td width="2%"></td>'
               f'<td width="49%"><h3>Order</h3>{_pairs_html(s.order)}</td></tr></table>')
    out.append("<h2>Dose calculation as used</h2>")
    d = s.dose
    if d is None:
        out.append("<p>No dose calculation was saved with this visit.</p>")
    else:
        out.append('<table width="100%" cellspacing="0" cellpadding="0"><tr>'
                   f'<td width="49%"><h3>Weights</h3>{_pairs_html(d.weights)}</td><td width="2%"></td>'
                   f'<td width="49%"><h3>Dose</h3>{_pairs_html(d.dose)}</td></tr></table>')
        for title, lines in (("How it was worked out", d.formulas),
                             ("Warnings at calculation", d.warnings),
                             ("Notes on the calculation", d.notes)):
            if lines:
                out.append(f"<h3>{title}</h3><ul>" + "".join(f"<li>{escape(x)}</li>" for x in lines)
                           + "</ul>")
        out.append("<h3>Vial plan (per day)</h3>" + (_table_html(d.vial_plan, {2, 3}, (30, 25, 20, 25)) if d.vial_plan
                                                     else "<p>No vial plan.</p>"))
    out.append("<h3>Lots dispensed</h3>" + (_table_html(s.lots, {2, 3, 4}, (30, 25, 15, 15, 15)) if s.lots else ""))
    lots_class = ' class="alert"' if s.lots_alert else ""
    out.append(f"<p{lots_class}>{escape(s.lots_check)}</p>")
    if d is not None and d.rates:
        out.append("<h3>Rate schedule</h3>" + _table_html(d.rates, {1, 2, 3}, (31, 23, 23, 23))
                   + f'<p class="small">{escape(d.rate_note)}</p>')
    out.append("<h2>Checklist</h2>")
    for phase in s.checklist:
        out.append(f"<h3>{escape(phase.title)}</h3>" + _table_html(phase.table, widths=(52, 13, 9, 26)))
    out.append("<h2>Vital signs</h2>")
    out.append(_table_html(s.vitals, set(range(1, 7)), (9, 8, 9, 11, 9, 8, 10, 36)) if s.vitals.rows
               else "<p>No vital signs recorded.</p>")
    out += [f'<p class="small">{escape(line)}</p>' for line in s.vitals_legend]
    if s.vital_flags:
        out.append(f"<h3>Abnormal values ({len(s.vital_flags)})</h3><ul>"
                   + "".join(f"<li>{escape(m)}</li>" for m in s.vital_flags) + "</ul>")
    out.append("<h2>Reactions</h2>")
    if s.reactions:
        out.append(_table_html(reactions_table(s), widths=(8, 18, 9, 11, 29, 25)))
    else:
        out.append("<p>No reactions recorded.</p>")
    out.append("<h2>Notes</h2>" + ("".join(f"<p>{escape(line)}</p>" for line in s.notes.splitlines()
                                           if line.strip()) or "<p>No notes.</p>"))
    if s.addenda:
        out.append("<h2>Addenda</h2>")
        for n, a in enumerate(s.addenda, 1):
            out.append(f"<h3>Addendum {n}: {escape(a.when)}, {escape(a.author)}</h3>"
                       + "".join(f"<p>{escape(line)}</p>" for line in a.text.splitlines()))
    out.append("<h2>Signature</h2>" + _pairs_html(s.signature))
    if s.signature_alert:
        out.append(f'<p class="alert">{escape(s.signature_alert)}</p>')
    return "\n".join(out)
