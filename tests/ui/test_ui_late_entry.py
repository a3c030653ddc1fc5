"""Issue 27, major: charting after the fact (and, minor, 37.0 °C kept as measured). A reading's time can be set back within the visit,
never into the future; the flowsheet and the visit summary PDF show the time of care and the
time it was entered (late entry) — through the real main window."""

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from qt_helpers import open_main_window
from visit_export_helpers import flat, read_pdf
from walk_helpers import make_record, open_infusion

from nurse_app.reports.visit_data import visit_summary
from nurse_app.reports.visit_summary import write_summary_pdf


def _typed_reading(qtbot, tab, taken_at: str, temp: str = "37.0") -> None:
    tab.inputs["temperature_c"].setText(temp)
    tab.inputs["heart_rate"].setText("72")
    tab.vital_time.setText(taken_at)
    qtbot.keyClick(tab.vital_time, Qt.Key_Return)


def test_a_reading_charted_later_keeps_its_time_of_care_and_shows_when_it_was_entered(qtbot, tmp_path):
    now = dt.datetime.now().astimezone()
    if (now - dt.timedelta(minutes=45)).date() != now.date() or (
        now + dt.timedelta(minutes=15)
    ).date() != now.date():
        pytest.skip("the times typed below must fall on today's date")
    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    vid = open_infusion(window, pid)
    store.update_visit(vid, started_at=(now - dt.timedelta(minutes=40)).astimezone(dt.UTC).isoformat())
    window.visit_page.ctx.changed.emit("visit")
    tab = window.visit_page.infusion_tab
    readings = len(store.visit_vitals(vid))

    _typed_reading(qtbot, tab, f"{now + dt.timedelta(minutes=10):%H:%M}")
    assert "in the future" in tab.vitals_error.text() and tab.vitals_error.isVisible()
    _typed_reading(qtbot, tab, f"{now - dt.timedelta(minutes=44):%H:%M}")
    assert "before this visit started" in tab.vitals_error.text()
    _typed_reading(qtbot, tab, "9h7x")
    assert "HH:MM" in tab.vitals_error.text()
    assert len(store.visit_vitals(vid)) == readings  # nothing recorded

    taken = now - dt.timedelta(minutes=10)
    _typed_reading(qtbot, tab, f"{taken:%H:%M}")
    assert not tab.vitals_error.isVisible()
    late = [v for v in store.visit_vitals(vid) if v["temperature_c"] == 37.0]
    assert len(late) == 1
    care = dt.datetime.fromisoformat(late[0]["recorded_at"]).astimezone()
    assert (care.hour, care.minute) == (taken.hour, taken.minute)
    times = [tab.sheet.item(r, 0).text() for r in range(tab.sheet.rowCount())]
    assert f"{taken:%H:%M} (entered {now:%H:%M})" in times or any(
        t.startswith(f"{taken:%H:%M} (entered ") for t in times
    ), times
    assert tab.vital_time.text() == ""  # the next reading is "now" again
    # a measured value keeps its measured precision (the no-trailing-zero rule is for doses)
    temps = [tab.sheet.item(r, 1).text() for r in range(tab.sheet.rowCount())]
    assert "37.0" in temps and "36.8" in temps, temps

    pdf = tmp_path / "summary.pdf"
    write_summary_pdf(visit_summary(store, vid), pdf)
    text = flat(" ".join(read_pdf(pdf)))
    assert "late entry: entered" in text
    assert " 37.0 " in f" {text} "
