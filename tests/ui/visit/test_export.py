"""The Visit page's export helpers driven with pytest-qt: save as PDF, print, FHIR.

Modal dialogs are replaced (QFileDialog, QPrintDialog); printing goes to a QPrinter
in PDF format, read back with pypdf.
"""

from __future__ import annotations

import os
import threading

import pytest
import shiboken6
from fhir.resources.R4B.bundle import Bundle
from pdf_compare import differs as _differs
from pdf_compare import render as _render
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget
from visit_export_helpers import ACCENTED_NAME, flat, make_visit, open_record, read_pdf

import nurse_app.reports.visit_summary as visit_summary_module
from nurse_app.ui.visit import export as visit_export

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
    [(title, start, filter_)] = asked
    assert title.startswith("Save visit summary") and "health information" in title
    assert os.path.basename(start) == f"visit-{draft}-summary.pdf" and filter_ == "PDF files (*.pdf)"
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

    def setWindowTitle(self, title):
        self.title = title

    def exec(self):
        return QPrintDialog.DialogCode.Accepted if self.accept else QPrintDialog.DialogCode.Rejected


@pytest.mark.parametrize(
    "which, locale, paper", [("draft", "en_US", (612, 792)), ("signed", "de_DE", (595.3, 841.9))]
)
def test_print_summary_prints_the_reportlab_pdf(
    qtbot, monkeypatch, parent, record, tmp_path, which, locale, paper
):
    """Print and Save as PDF are one layout: the printed pages are the reportlab PDF's pages, on
    the locale's paper (Letter in the US, A4 in Germany), with margins of at least 0.5 in."""
    from PySide6.QtCore import QLocale

    from nurse_app.reports.visit_data import visit_summary
    from nurse_app.reports.visit_summary import summary_pdf_bytes
    from nurse_app.store import Store

    path, draft, signed = record
    visit = draft if which == "draft" else signed
    QLocale.setDefault(QLocale(locale))
    try:
        FakePrintDialog.target = tmp_path / "printed.pdf"
        FakePrintDialog.accept = True
        monkeypatch.setattr(visit_export, "QPrintDialog", FakePrintDialog)
        task = visit_export.print_summary(parent, path, visit)
        with qtbot.waitSignal(task.finished, timeout=WAIT_MS) as finished:
            pass
    finally:
        QLocale.setDefault(QLocale.system())
    assert finished.args[0] is True, finished.args
    with Store.open(path) as store:
        reference, pages = summary_pdf_bytes(visit_summary(store, visit), pagesize=paper)
    assert finished.args[1].startswith(f"Sent {pages} page")
    from pypdf import PdfReader

    printed = PdfReader(tmp_path / "printed.pdf")
    assert len(printed.pages) == pages and pages >= (3 if which == "signed" else 1)
    for index in range(pages):
        box = printed.pages[index].mediabox
        assert abs(float(box.width) - paper[0]) < 1.5 and abs(float(box.height) - paper[1]) < 1.5
        mine, theirs = _render(tmp_path / "printed.pdf", index), _render(reference, index, via=300)
        other = _render(reference, (index + 1) % pages, via=300) if pages > 1 else None
        if other is not None:  # the check can tell pages apart
            assert _differs(mine, other) > 3 * _differs(mine, theirs)
        assert _differs(mine, theirs) < 4, f"page {index + 1} differs from the saved PDF"
        width, height, rows, _size = mine
        half_inch = 40 // 2
        ink = [(x, y) for y, row in enumerate(rows) for x, v in enumerate(row) if v < 128]
        assert ink, "the page is blank"
        if which == "signed":  # (a draft's watermark crosses the page)
            assert all(
                half_inch <= x < width - half_inch and half_inch <= y < height - half_inch for x, y in ink
            ), "printed inside the 0.5 in margin"
    # and the reference really is the summary (text read back from the saved layout)
    import io

    text = flat("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(reference)).pages))
    assert ACCENTED_NAME in text and "Vital signs" in text and ("DRAFT" in text) == (which == "draft")


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
        "Patient",
        "Encounter",
        "MedicationAdministration",
    ]


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
