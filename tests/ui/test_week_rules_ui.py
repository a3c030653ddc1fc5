"""Issue 20 §4 where the nurse sees it: the Week page of the real main window lists the
dermatomyositis review at 4 months, the kidney check of a patient over 65, and one row
"order may be inactive — confirm with the pharmacy" for an order without visits for months."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QMessageBox
from qt_helpers import open_main_window
from week_helpers import add_week20_patients

from nurse_app.store import Store

TODAY = dt.date.today()


def test_week_page_shows_the_new_rules_where_the_nurse_looks(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        add_week20_patients(store, TODAY)
    window, store = open_main_window(qtbot, path, tmp_path)
    try:
        assert window.current_page() == "week"
        page = window.week
        table = page.table

        def rows(name):
            out = []
            for r in range(table.rowCount()):
                cells = [
                    table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())
                ]
                if any(name in c for c in cells):
                    out.append(cells)
            return out

        ivo = rows("Ivo Stale")
        assert len(ivo) == 1, ivo
        assert "Order may be inactive" in ivo[0] and any("confirm with the pharmacy" in c for c in ivo[0])
        assert any("Response review at 4 months" in " ".join(r) for r in rows("Dora Mill"))
        olga = [r for r in rows("Olga Grey") if any("Kidney" in c for c in r)]
        assert olga and any("age over 65" in c for c in olga[0])
        assert not [r for r in rows("Piet Long") if "Rash check call" in r]

        # The filter has the new kind; Enter on the row says what to do, and opens no call form.
        page.filter.setCurrentIndex(page.filter.findText("Orders to confirm"))
        assert [i.patient_name for i in page.shown] == ["Ivo Stale"]
        told = []
        monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: told.append(text))
        page.activate_row(0)
        assert told and "Confirm with the pharmacy" in told[0]
        assert store.schedule_rows()[2] == [], "no call record was made"
    finally:
        window.close()
        store.close()
