"""Issue 11 §5: save dialogs start in the folder last used for that kind of file, suggest a name
with the visit date and course day (never the patient's name) and say that a visit summary holds
health information.  Driven through the real main window's Visit page buttons."""

import os

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog
from visit_export_helpers import ACCENTED_NAME, make_visit, open_record

from nurse_app.ui.main_window import MainWindow
from nurse_app.ui.visit import export as visit_export

pytestmark = pytest.mark.usefixtures("toronto_time")


@pytest.fixture
def window(qtbot, tmp_path):
    store = open_record(tmp_path / "record.db")
    visit = make_visit(store)  # day 3 of 5, started 4 Mar 2025 09:00 Toronto
    win = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    win.open_visit(visit)
    yield win
    win.close()
    store.close()


def save_as(monkeypatch, chosen):
    asked = []

    def fake(parent, title, start, filter_):
        asked.append((title, start))
        return (str(chosen.pop(0)), filter_) if chosen else ("", filter_)

    monkeypatch.setattr(visit_export.QFileDialog, "getSaveFileName", staticmethod(fake))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake))
    return asked


def test_summary_and_fhir_dialogs_remember_their_own_folder_and_suggest_date_and_day(
    qtbot, window, monkeypatch, tmp_path
):
    summaries, exports = tmp_path / "summaries", tmp_path / "agency"
    summaries.mkdir(), exports.mkdir()
    asked = save_as(monkeypatch, [summaries / "first.pdf", exports / "first.json"])
    vp = window.visit_page
    vp.export_buttons["pdf"].click()
    qtbot.waitUntil(lambda: (summaries / "first.pdf").exists(), timeout=20_000)
    qtbot.waitUntil(lambda: "saved to" in window.statusBar().currentMessage(), timeout=20_000)
    vp.export_buttons["fhir"].click()
    qtbot.waitUntil(lambda: "exported to" in window.statusBar().currentMessage(), timeout=20_000)
    vp.export_buttons["pdf"].click()  # cancelled: only the start is checked
    vp.export_buttons["fhir"].click()
    (title1, start1), (_t2, start2), (_t3, start3), (_t4, start4) = asked
    assert os.path.basename(start1) == "visit-2025-03-04-day3-summary.pdf"
    assert os.path.basename(start2) == "visit-2025-03-04-day3-fhir.json"
    assert "health information" in title1
    for start in asked:
        assert "Ana" not in start[1] and ACCENTED_NAME.split()[0] not in start[1]
    assert start3 == str(summaries / "visit-2025-03-04-day3-summary.pdf")  # the summary folder ...
    assert start4 == str(exports / "visit-2025-03-04-day3-fhir.json")  # ... and the FHIR one


def test_backup_and_handout_dialogs_remember_their_folders(qtbot, window, monkeypatch, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    asked = save_as(monkeypatch, [backups / "b.db"])
    window.back_up()
    qtbot.waitUntil(lambda: (backups / "b.db").exists(), timeout=20_000)
    window.back_up()
    assert asked[1][1] == str(backups / "nurse-app-backup.db")
    assert "health information" in asked[0][0]
    settings = window.settings
    assert settings.value("folders/backup") == str(backups)
    assert settings.value("folders/summary") is None  # each kind keeps its own folder


def test_handout_dialog_starts_in_its_own_last_folder(qtbot, window, monkeypatch, tmp_path):
    handouts = tmp_path / "handouts"
    handouts.mkdir()
    asked = save_as(monkeypatch, [handouts / "h.pdf"])
    window.show_page("guides")
    guides = window.guides
    guides.search_box.setText("pemphigus")
    qtbot.waitUntil(lambda: guides.results.count() > 0, timeout=5000)
    guides.results.setCurrentRow(0)
    qtbot.waitUntil(guides.save_button.isEnabled, timeout=5000)
    guides.save_handout()
    qtbot.waitUntil(lambda: (handouts / "h.pdf").exists(), timeout=20_000)
    qtbot.waitUntil(guides.save_button.isEnabled, timeout=20_000)
    guides.save_handout()  # cancelled: only where it starts is checked
    assert os.path.dirname(asked[1][1]) == str(handouts)
    assert window.settings.value("folders/handout") == str(handouts)
