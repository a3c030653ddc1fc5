"""The Visit page's export helpers driven with pytest-qt: save as PDF, print, FHIR.

Modal dialogs are replaced (QFileDialog, QPrintDialog); printing goes to a QPrinter
in PDF format, read back with pypdf.
"""

from __future__ import annotations

import re
import threading

import pytest
import shiboken6
from fhir.resources.R4B.bundle import Bundle
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget
from visit_export_helpers import (ACCENTED_NAME, flat, make_visit, open_record, read_pdf,  # noqa: F401
                                  toronto_time)

import nurse_app.reports.visit_summary as visit_summary_module
from nurse_app.ui import visit_export

WAIT_MS = 20_000
pytestmark = pytest.mark.usefixtures("toronto_time")


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    path = tmp_path_factory.mktemp("ui") / "record.db"
    with open_record(path) as store:
        draft = make_visit(store, readings=6)
        signed = make_visit(store, mrn="MRN-0077", readings=30, sign=True)
    return path, draft, signed


@pytest.fixture
def parent(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def choose_file(monkeypatch, path):
    """The nurse picks ``path`` in the save dialog (the filter chosen is ignored)."""
    asked = []

    def fake(parent, title, suggested, filter_):
        asked.append((title, suggested, filter_))
        return str(path), filter_
    monkeypatch.setattr(visit_export.QFileDialog, "getSaveFileName", staticmethod(fake))
    return asked


def test_save_summary_pdf_off_the_gui_thread_with_a_busy_dialog(qtbot, monkeypatch, parent, record, tmp_path):
    path, draft, _ = record
    asked = choose_file(monkeypatch, tmp_path / "summary")  # no suffix typed
    threads = []
    original = visit_summary_module.write_summary_pdf

    def spy(summary, out, **kwargs):
        threads.append(threading.current_thread())
        return original(summary, out, **kwargs)
    monkeypatch.setattr(visit_summary_module, "write_summary_pdf", spy)

    task = visit_export.save_summary_pdf(parent, path, draft)
    task.finished.connect(lambda *_: threads.append(("finished", threading.current_thread())))
    busy = parent.findChildren(QProgressDialog)
    assert busy and busy[0].isVisible() and "Creating the visit summary" in busy[0].labelText()
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS) as finished:
        pass
    assert finished.args == [True, str(tmp_path / "summary.pdf")]
    assert asked == [("Save visit summary", f"visit-{draft}-summary.pdf", "PDF files (*.pdf)")]
    assert threads[0] is not threading.main_thread(), "the PDF is written on a worker"
    assert threads[1] == ("finished", threading.main_thread()), "results come back to the GUI thread"
    qtbot.waitUntil(lambda: not any(d.isVisible() for d in parent.findChildren(QProgressDialog)))
    text = flat("\n".join(read_pdf(tmp_path / "summary.pdf")))
    assert ACCENTED_NAME in text and "DRAFT" in text and "Vital signs" in text


def test_cancelling_the_save_dialog_does_nothing(monkeypatch, parent, record, tmp_path):
    choose_file(monkeypatch, "")
    assert visit_export.save_summary_pdf(parent, record[0], record[1]) is None
    assert visit_export.export_fhir(parent, record[0], record[1]) is None
    assert not parent.findChildren(QProgressDialog)


def test_errors_are_a_message_box_not_a_traceback(qtbot, monkeypatch, parent, record, tmp_path):
    choose_file(monkeypatch, tmp_path / "x.pdf")
    task = visit_export.save_summary_pdf(parent, record[0], 999)
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS) as finished:
        pass
    assert finished.args == [False, "Visit 999 does not exist (it may have been deleted)."]
    box = task.message_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert box.windowTitle() == "Visit summary not saved" and box.text() == finished.args[1]
    box.close()
    assert not (tmp_path / "x.pdf").exists()
    choose_file(monkeypatch, tmp_path / "missing-folder" / "x.json")
    task = visit_export.export_fhir(parent, record[0], record[1])
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS) as finished:
        pass
    assert finished.args[0] is False
    assert finished.args[1].startswith("Could not save the FHIR export to")
    task.message_box.close()


class FakePrintDialog:
    """Accepts at once and sends the printer's output to a PDF file."""

    target = None
    accept = True

    def __init__(self, printer: QPrinter, parent=None):
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(self.target))

    def setWindowTitle(self, title):  # noqa: N802 - Qt API
        self.title = title

    def exec(self):
        return QPrintDialog.DialogCode.Accepted if self.accept else QPrintDialog.DialogCode.Rejected


@pytest.mark.parametrize("which", ["draft", "signed"])
def test_print_summary_prints_the_same_summary(qtbot, monkeypatch, parent, record, tmp_path, which):
    path, draft, signed = record
    FakePrintDialog.target = tmp_path / "printed.pdf"
    FakePrintDialog.accept = True
    monkeypatch.setattr(visit_export, "QPrintDialog", FakePrintDialog)
    task = visit_export.print_summary(parent, path, draft if which == "draft" else signed)
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS) as finished:
        pass
    assert finished.args[0] is True, finished.args
    pages = read_pdf(tmp_path / "printed.pdf")
    assert finished.args[1].startswith(f"Sent {len(pages)} page")
    for number, page in enumerate(pages, 1):
        page = flat(page)
        assert f"Page {number} of {len(pages)}" in page
        assert ACCENTED_NAME in page and "IVIG visit summary" in page
        assert ("DRAFT" in page) == (which == "draft")
    text = flat("\n".join(pages))
    for block in ("Patient", "Order", "Dose calculation as used", "Lots dispensed", "Rate schedule",
                  "Checklist", "Vital signs", "Reactions", "Notes", "Signature", "M2417A",
                  "Chills and fever"):
        assert block in text, block
    assert re.search(r"09:55 38\.4 H ?Δ 75", text), "the fever is marked"  # Qt may split "HΔ"
    if which == "signed":
        assert len(pages) >= 3
        vitals_pages = [flat(p) for p in pages if " 36.7 7" in flat(p)]
        assert len(vitals_pages) >= 2 and all("Temp °C" in p for p in vitals_pages)


def test_cancelling_print_does_nothing(monkeypatch, parent, record, tmp_path):
    FakePrintDialog.target = tmp_path / "never.pdf"
    FakePrintDialog.accept = False
    monkeypatch.setattr(visit_export, "QPrintDialog", FakePrintDialog)
    assert visit_export.print_summary(parent, record[0], record[1]) is None
    assert not (tmp_path / "never.pdf").exists()


def test_export_fhir_writes_a_bundle(qtbot, monkeypatch, parent, record, tmp_path):
    path, _, signed = record
    choose_file(monkeypatch, tmp_path / "visit")
    task = visit_export.export_fhir(parent, path, signed)
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS) as finished:
        pass
    assert finished.args == [True, str(tmp_path / "visit.json")]
    bundle = Bundle.model_validate_json((tmp_path / "visit.json").read_text(encoding="utf-8"))
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds.count("Observation") == 30 * 5 + 1 and kinds[:3] == [
        "Patient", "Encounter", "MedicationAdministration"]


def test_closing_the_page_mid_export_still_finishes_the_file(qtbot, monkeypatch, record, tmp_path):
    page = QWidget()
    page.show()
    choose_file(monkeypatch, tmp_path / "late.pdf")
    task = visit_export.save_summary_pdf(page, record[0], record[2])
    page.deleteLater()  # the nurse closes the visit while the PDF is being made
    page_alive = []
    task.finished.connect(lambda *_: page_alive.append(shiboken6.isValid(page)))
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS) as finished:
        pass
    assert page_alive == [False]
    assert finished.args == [True, str(tmp_path / "late.pdf")]
    assert ACCENTED_NAME in read_pdf(tmp_path / "late.pdf")[0]


def _root_headings(document):
    block = document.begin()
    while block.isValid():
        if block.blockFormat().headingLevel() and document.frameAt(block.position()).parentFrame() is None:
            yield block
        block = block.next()


def _page_of(document, block) -> int:
    return int(document.documentLayout().blockBoundingRect(block).top() // document.pageSize().height())


def _room_below(document, block) -> float:
    """Space between the bottom of ``block`` and the end of its page (None at a page top)."""
    height = document.pageSize().height()
    rect = document.documentLayout().blockBoundingRect(block)
    top_on_page = rect.top() % height
    return None if top_on_page == 0 else height - top_on_page - rect.height()


def test_a_heading_never_ends_a_printed_page(qapp):
    from PySide6.QtCore import QSizeF
    from PySide6.QtGui import QTextDocument
    room = 60.0

    def document_with(lines: int) -> QTextDocument:
        document = QTextDocument()
        document.setDocumentMargin(0)
        filler = "".join(f"<p>line {n}</p>" for n in range(lines))
        document.setHtml(f"{filler}<h2>Checklist</h2><p>first row</p><p>second row</p>{filler}"
                         f"<h3>Vital signs</h3><p>row</p>")
        document.setPageSize(QSizeF(400, 400))
        return document

    # The first filler length that leaves the heading with less room than it needs.
    document = next(d for d in map(document_with, range(1, 80))
                    if 0 <= (_room_below(d, next(_root_headings(d))) or room) < room)
    checklist = next(_root_headings(document))
    page_before = _page_of(document, checklist)
    assert visit_export.keep_headings_with_next(document, room) >= 1
    assert _page_of(document, checklist) == page_before + 1               # moved to the next page
    assert _room_below(document, checklist) > document.pageSize().height() - room
    for block in _root_headings(document):
        assert block.layout().lineCount(), block.text()                     # still prints
        assert (_room_below(document, block) or room) >= room, block.text()
    assert visit_export.keep_headings_with_next(document, room) == 0        # settled


def test_printed_summary_keeps_each_heading_with_its_table(qapp, record, toronto_time):
    from nurse_app.reports.visit_data import visit_summary
    from nurse_app.store import Store
    path, _draft, signed = record
    with Store.open(path) as store:
        summary = visit_summary(store, signed)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    document, _header, _footer = visit_export.summary_document(summary, printer)
    room = visit_export.HEADING_ROOM_INCHES * printer.resolution()
    headings = list(_root_headings(document))
    titles = [b.text() for b in headings]
    assert len(summary.checklist) >= 7
    for phase in summary.checklist:                               # every phase title is still there
        assert phase.title in titles
    for block in headings:
        assert block.layout().lineCount(), block.text()
        room_below = _room_below(document, block)
        assert room_below is None or room_below >= room, block.text()
