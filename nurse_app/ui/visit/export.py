"""Visit page actions: "Save summary as PDF…", "Print…" and "Export for the agency (FHIR)…".

Each helper takes the record's *path*, not an open Store: the slow part (reading
the visit, laying out the PDF, building the FHIR Bundle) runs on a QThreadPool
worker, and an SQLite connection must stay on the thread that opened it, so the
worker opens its own Store.  A busy indicator shows meanwhile; errors reach the
nurse as a message box with a sentence, never a traceback.

Each helper returns an :class:`ExportTask` (or None when the nurse cancels the
file or print dialog) whose ``finished(ok, text)`` signal fires once: ``text`` is
the file written (or "printed") on success, the error message otherwise.

Printing: "Print…" prints the *same* reportlab PDF as "Save summary as PDF…" (one layout):
pdfium (pypdfium2) renders each page to the printer, on the printer's paper size, which starts
as the locale's (US Letter in the US, A4 elsewhere); the PDF's margins are at least 0.5 in.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QProgressDialog, QWidget

from nurse_app.core.errors import NurseAppError
from nurse_app.reports.visit_data import VisitSummary
from nurse_app.ui.printing import locale_page_size, print_pdf, reportlab_page_size
from nurse_app.ui.tasks import Job, run_job


class ExportTask(QObject):
    """One save, export or print in progress; ``finished(ok, text)`` fires once.

    The job helper (:func:`nurse_app.ui.tasks.run_job`) calls its slots on the GUI thread,
    where the result is handled and any message box is shown.
    After a failure ``message_box`` is the (non-blocking) warning shown to the nurse.
    """

    finished = Signal(bool, str)

    def __init__(
        self,
        parent: QWidget | None,
        error_title: str,
        failure: str,
        on_done: Callable[[object], str],
        progress: QProgressDialog,
    ):
        super().__init__()  # no Qt parent: it must outlive a page closed mid-export
        self.message_box: QMessageBox | None = None
        self._parent, self._error_title, self._failure = parent, error_title, failure
        self._on_done, self._progress = on_done, progress
        self._job: Job | None = None

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
        self._job = None  # the job helper keeps the job (and so this task) until it has reported
        if not ok:
            parent = self._parent if self._parent is not None and shiboken6.isValid(self._parent) else None
            box = QMessageBox(
                QMessageBox.Icon.Warning, self._error_title, text, QMessageBox.StandardButton.Ok, parent
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()  # not exec(): never blocks, and tests can find and close it
            self.message_box = box
        self.finished.emit(ok, text)


def _start(
    parent: QWidget | None,
    busy_text: str,
    error_title: str,
    failure: str,
    work: Callable[[], object],
    on_done: Callable[[object], str],
) -> ExportTask:
    """Run ``work`` off the GUI thread with a busy dialog; ``on_done`` (GUI thread)
    turns its result into the success text, or raises NurseAppError."""
    progress = QProgressDialog(busy_text, None, 0, 0, parent)
    progress.setWindowTitle("nurse-app")
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(0)
    progress.setAutoClose(False)
    progress.show()
    task = ExportTask(parent, error_title, failure, on_done, progress)
    # The one job helper: results come back on the GUI thread, to the task's slots.
    task._job = run_job(lambda _progress: work(), on_done=task._done, on_failed=task._failed, failure=failure)
    return task


_KIND_BY_SUFFIX = {".pdf": "summary", ".json": "fhir"}


def _ask_path(parent: QWidget | None, title: str, suggested: str, filter_: str, suffix: str) -> str | None:
    """The save dialog starts in the folder last used for this kind of file and says that the
    file holds health information; the folder chosen is remembered."""
    from nurse_app.ui.file_dialogs import HEALTH_INFORMATION, remember_folder, start_path

    kind = _KIND_BY_SUFFIX[suffix]
    if "health information" not in title:
        title = f"{title} ({HEALTH_INFORMATION})"
    start = suggested if os.path.isabs(suggested) else start_path(parent, kind, suggested)
    path, _ = QFileDialog.getSaveFileName(parent, title, start, filter_)
    if not path:
        return None
    remember_folder(parent, kind, path)
    return path if path.lower().endswith(suffix) else path + suffix


def _load_summary(store_path: str, visit_id: int) -> VisitSummary:
    """On the worker thread: a Store of its own, closed before returning."""
    from nurse_app.reports.visit_data import summarize
    from nurse_app.services.visit_record import load_visit
    from nurse_app.store import Store

    with Store.open(store_path) as store:
        record = load_visit(store, visit_id)
    return summarize(record)


# --------------------------------------------------------------------------- save as PDF


def save_summary_pdf(
    parent: QWidget | None, store_path, visit_id: int, suggested_name: str | None = None
) -> ExportTask | None:
    """Ask where to save, then write the visit summary PDF off the GUI thread."""
    path = _ask_path(
        parent,
        "Save visit summary (contains patient health information; the file is readable by you only)",
        suggested_name or f"visit-{visit_id}-summary.pdf",
        "PDF files (*.pdf)",
        ".pdf",
    )
    if path is None:
        return None

    pagesize = reportlab_page_size(locale_page_size())  # Letter in the US, A4 elsewhere

    def work() -> str:
        from nurse_app.reports.visit_summary import write_summary_pdf

        write_summary_pdf(_load_summary(str(store_path), visit_id), path, pagesize=pagesize)
        return path

    return _start(
        parent,
        "Creating the visit summary…",
        "Visit summary not saved",
        "Could not create the visit summary",
        work,
        str,
    )


# --------------------------------------------------------------------------- FHIR


def export_fhir(
    parent: QWidget | None, store_path, visit_id: int, suggested_name: str | None = None
) -> ExportTask | None:
    """Ask where to save, then write the visit as a FHIR R4 Bundle (JSON)."""
    path = _ask_path(
        parent,
        "Export visit for the agency record (FHIR; contains patient health "
        "information; the file is readable by you only)",
        suggested_name or f"visit-{visit_id}-fhir.json",
        "FHIR JSON (*.json)",
        ".json",
    )
    if path is None:
        return None

    def work() -> str:
        from nurse_app.reports.common import write_atomically
        from nurse_app.reports.fhir import bundle_json
        from nurse_app.services.handoff import store_visit_bundle
        from nurse_app.store import Store

        with Store.open(str(store_path)) as store:
            bundle = store_visit_bundle(store, visit_id)
        write_atomically(bundle_json(bundle).encode("utf-8"), path, "FHIR export")
        return path

    return _start(
        parent, "Exporting the visit (FHIR)…", "Visit not exported", "Could not export the visit", work, str
    )


# --------------------------------------------------------------------------- print

# What the printer queue shows: no patient detail.
PRINT_JOB_NAME = "nurse-app visit summary"


def print_summary(parent: QWidget | None, store_path, visit_id: int) -> ExportTask | None:
    """Ask for a printer (QPrintDialog), then print the *same* reportlab PDF as "Save as PDF",
    laid out on the printer's paper (Letter or A4 from the printer or the locale)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if not printer.printerName():  # no configured printer to say: the locale's paper
        printer.setPageSize(locale_page_size())
    printer.setDocName(PRINT_JOB_NAME)  # what the printer queue shows: no patient detail
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print visit summary")
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    pagesize = reportlab_page_size(printer.pageLayout().pageSize())

    def work() -> bytes:
        from nurse_app.reports.visit_summary import summary_pdf_bytes

        data, _pages = summary_pdf_bytes(_load_summary(str(store_path), visit_id), pagesize=pagesize)
        return data

    def on_done(data: bytes) -> str:
        pages = print_pdf(data, printer)
        return f"Sent {pages} page{'s' if pages != 1 else ''} to {printer.printerName() or printer.outputFileName() or 'the printer'}."

    return _start(
        parent,
        "Preparing the visit summary for printing…",
        "Visit summary not printed",
        "Could not print the visit summary",
        work,
        on_done,
    )
