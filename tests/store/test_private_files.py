"""Issue 13 §3: the record, its companions, backups and exports are private to the user.

Every check runs under the usual umask (022: new files readable by everyone) and a
strict one (077): the modes must be the same either way.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from visit_export_helpers import make_visit, open_record

from nurse_app import cli
from nurse_app.core.guides import load_guides
from nurse_app.reports.handout import write_handout_pdf
from nurse_app.store import Store, backup_now, restore_backup


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_record_folder_file_and_companions_are_private(tmp_path, monkeypatch, umask):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("NURSE_APP_DB", raising=False)
    with Store.open() as store:
        store.set_nurse_profile("Ana Núñez", "RN")
        store.create_patient(mrn="MRN-1", name="Zoë Ölund", date_of_birth="1962-05-17", sex="female")
        path = store.path
        assert mode(path.parent) == 0o700
        assert mode(path) == 0o600
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            assert side.exists() and mode(side) == 0o600, suffix


def test_backups_and_before_restore_copies_are_private(tmp_path, umask):
    path = tmp_path / "record.db"
    with open_record(path) as store:
        make_visit(store, readings=2)
    backup = backup_now(path)
    assert mode(backup.parent) == 0o700 and mode(backup) == 0o600
    manual = backup_now(path, tmp_path / "manual.db")
    assert mode(manual) == 0o600
    result = restore_backup(path, backup)
    assert mode(result.kept_previous) == 0o600
    assert mode(path) == 0o600


def test_a_record_made_readable_by_an_older_version_is_tightened_on_open(tmp_path):
    path = tmp_path / "record.db"
    with open_record(path):
        pass
    os.chmod(path, 0o644)
    with Store.open(path):
        assert mode(path) == 0o600
        assert mode(path.with_name(path.name + "-wal")) == 0o600


def test_visit_exports_are_private_and_handouts_are_not(tmp_path, umask, monkeypatch):
    path = tmp_path / "record.db"
    with open_record(path) as store:
        visit = make_visit(store, readings=2)
    pdf, fhir = tmp_path / "visit.pdf", tmp_path / "visit.json"
    assert cli.main(["--db", str(path), "visit-pdf", str(visit), "--out", str(pdf)]) == 0
    assert cli.main(["--db", str(path), "visit-fhir", str(visit), "--out", str(fhir)]) == 0
    assert mode(pdf) == 0o600 and mode(fhir) == 0o600
    handout = tmp_path / "handout.pdf"
    write_handout_pdf(next(iter(load_guides().values())), handout)
    assert mode(handout) == 0o644  # no patient data: may be handed around


def test_the_save_dialogs_say_the_export_holds_health_information(qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QWidget

    from nurse_app.ui.visit import export as visit_export

    asked = []

    def fake(parent, title, suggested, filter_):
        asked.append(title)
        return "", filter_  # the nurse cancels

    monkeypatch.setattr(visit_export.QFileDialog, "getSaveFileName", staticmethod(fake))
    parent = QWidget()
    qtbot.addWidget(parent)
    assert visit_export.save_summary_pdf(parent, tmp_path / "r.db", 1) is None
    assert visit_export.export_fhir(parent, tmp_path / "r.db", 1) is None
    assert len(asked) == 2 and all("health information" in title for title in asked)


def test_the_printer_queue_shows_no_patient_detail(qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QDialog, QWidget

    from nurse_app.ui.visit import export as visit_export

    seen = []

    class Cancelled:
        def __init__(self, printer, parent):
            seen.append(printer.docName())

        def setWindowTitle(self, title):
            pass

        def exec(self):
            return QDialog.DialogCode.Rejected

    monkeypatch.setattr(visit_export, "QPrintDialog", Cancelled)
    parent = QWidget()
    qtbot.addWidget(parent)
    assert visit_export.print_summary(parent, tmp_path / "r.db", 1) is None
    assert seen == ["nurse-app visit summary"]


def test_printing_and_exporting_leave_no_patient_data_in_temporary_files(qtbot, monkeypatch, tmp_path):
    """Issue 13 §3: the print job and the exports go through memory or a temporary file
    renamed into place; once done (and the window closed) nothing with patient data is
    left in the temporary folder or beside the exported files."""
    import tempfile

    from PySide6.QtPrintSupport import QPrintDialog, QPrinter
    from PySide6.QtWidgets import QWidget
    from visit_export_helpers import ACCENTED_NAME

    from nurse_app.ui.visit import export as visit_export

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # Qt's and Python's temporary folder
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    record = tmp_path / "record" / "record.db"
    record.parent.mkdir()
    with open_record(record) as store:
        visit = make_visit(store, mrn="MRN-55107", readings=4)
    out = tmp_path / "out"
    out.mkdir()
    printed = out / "printed.pdf"

    class ToPdf:
        def __init__(self, printer: QPrinter, parent=None):
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(str(printed))

        def setWindowTitle(self, title):
            pass

        def exec(self):
            return QPrintDialog.DialogCode.Accepted

    monkeypatch.setattr(visit_export, "QPrintDialog", ToPdf)
    answers = iter([out / "summary.pdf", out / "visit.json"])
    monkeypatch.setattr(
        visit_export.QFileDialog, "getSaveFileName", staticmethod(lambda *args: (str(next(answers)), ""))
    )
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    for start in (visit_export.print_summary, visit_export.save_summary_pdf, visit_export.export_fhir):
        task = start(parent, record, visit)
        with qtbot.waitSignal(task.finished, timeout=20_000) as finished:
            pass
        assert finished.args[0] is True, finished.args
    parent.close()
    assert sorted(p.name for p in out.iterdir()) == ["printed.pdf", "summary.pdf", "visit.json"]
    secrets = [ACCENTED_NAME.encode(), b"MRN-55107"]
    left = [
        p
        for p in temp.rglob("*")
        if p.is_file() and (p.name.startswith(".nurse-app") or any(s in p.read_bytes() for s in secrets))
    ]
    assert left == []
    assert sorted(p.name for p in record.parent.iterdir() if not p.name.startswith("record.db")) == []
