"""Issue 11 §4: nothing is clipped at 1280×720, 1366×768 and 1920×1080; the window fills the
screen on first start and remembers its geometry per screen; the patient list grows with the window.

Every page and every visit tab (a signed and a draft visit from the realistic demo record) is
shown in the real main window at each size and checked with :func:`layout_check.problems`.
"""

import pytest
from layout_check import problems
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from nurse_app.store import Store
from nurse_app.store.demo import generate
from nurse_app.ui.main_window import MainWindow

SIZES = [(1280, 720), (1366, 768), (1920, 1080)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("layout") / "demo.db"
    with Store.open(path) as store:
        generate(store, patients=25, seed=1)
        rows = store.db.execute(
            "SELECT v.id, v.status FROM visits v LEFT JOIN vitals x ON x.visit_id = v.id "
            "GROUP BY v.id ORDER BY COUNT(x.id) DESC, v.id"
        ).fetchall()
    signed = next(vid for vid, status in rows if status == "signed")
    draft = next(vid for vid, status in rows if status == "draft")
    return path, signed, draft


def settle(qtbot):
    for _ in range(3):
        QApplication.processEvents()
    qtbot.wait(10)


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_nothing_is_clipped_on_any_page_or_visit_tab(qtbot, tmp_path, demo, size, monkeypatch):
    path, signed, draft = demo
    # the demo's draft has a running infusion: closing the window asks "Quit anyway?" — Yes
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    settle(qtbot)
    assert (window.width(), window.height()) == size
    found = []
    try:
        for key in window.pages:
            if key == "visit":
                continue
            window.show_page(key)
            if key == "patients":  # the patient with the most visits, detail filled in
                window.patients.select_patient(store.get_visit(signed)["patient_id"])
            settle(qtbot)
            found += [f"{key}: {p}" for p in problems(window)]
        for label, visit in (("signed", signed), ("draft", draft)):
            window.open_visit(visit)
            tabs = window.visit_page.tabs
            for index in range(tabs.count()):
                tabs.setCurrentIndex(index)
                settle(qtbot)
                found += [f"{label} visit, tab {tabs.tabText(index)}: {p}" for p in problems(window)]
    finally:
        window.close()
        store.close()
    assert found == [], "\n".join(found)


def test_first_start_fills_the_screen_then_the_geometry_is_remembered_per_screen(qtbot, tmp_path):
    settings_path = str(tmp_path / "ui.ini")
    window = MainWindow(settings=QSettings(settings_path, QSettings.IniFormat))
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()
    assert window.first_start
    assert window.width() >= min(available.width(), 1000) and window.height() >= min(available.height(), 640)
    window.show_window()
    qtbot.waitUntil(window.isMaximized, timeout=2000)
    window.showNormal()
    window.setGeometry(40, 50, 1100, 700)
    qtbot.waitUntil(lambda: not window.isMaximized(), timeout=2000)
    left_at = window.size()
    window.close()
    stored = QSettings(settings_path, QSettings.IniFormat)
    keys = [k for k in stored.allKeys() if k.startswith("window/geometry/")]
    screen = window.screen()
    assert keys == [
        f"window/geometry/{screen.name() or 'screen'}-{screen.size().width()}x{screen.size().height()}".replace(
            " ", "_"
        )
    ]
    again = MainWindow(settings=QSettings(settings_path, QSettings.IniFormat))
    qtbot.addWidget(again)
    assert not again.first_start
    again.show_window()
    # Restored, not maximised (Qt fits the width to the 800×600 offscreen screen, within the minimum).
    assert not again.isMaximized() and again.height() == left_at.height() == 700
    assert again.width() in (1000, left_at.width())
    # Another screen (another name or size) has no geometry yet: it starts filling that screen.
    other = QSettings(settings_path, QSettings.IniFormat)
    other.setValue(keys[0].replace("window/geometry/", "window/geometry/other-"), other.value(keys[0]))
    other.remove(keys[0])
    other.sync()
    third = MainWindow(settings=QSettings(settings_path, QSettings.IniFormat))
    qtbot.addWidget(third)
    assert third.first_start
    again.close(), third.close()


def test_the_patient_list_grows_with_the_window(qtbot, tmp_path, demo):
    path, _signed, _draft = demo
    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    widths, cut = {}, []
    try:
        for size in ((1280, 720), (1920, 1080)):
            window.resize(*size)
            window.show()
            window.show_page("patients")
            settle(qtbot)
            widths[size] = window.patients.table.width()
            table = window.patients.table
            model, header = table.model(), table.horizontalHeader()
            metrics = table.fontMetrics()
            columns = (0, 3) if size == (1920, 1080) else (0,)  # names always; indications when wide
            cut += [
                (size, model.index(r, c).data())
                for r in range(model.rowCount())
                for c in columns
                if metrics.horizontalAdvance(str(model.index(r, c).data())) + 6 > header.sectionSize(c)
            ]
            # (6 px: the item view's text margins, 3 px each side)
    finally:
        window.close()
        store.close()
    assert widths[(1920, 1080)] >= widths[(1280, 720)] + 200, widths
    assert cut == [], "names (or, at 1920×1080, indications) cut short"


def _running_draft(store, signed_visit: int) -> int:
    """A draft started an hour ago with its infusion running (the plan's first two steps given)."""
    import datetime as dt

    order = store.get_order(store.get_visit(signed_visit)["order_id"])
    calc = store.get_visit(signed_visit)["calculation"]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    visit = store.create_visit(
        order["patient_id"],
        order_id=order["id"],
        started_at=now - dt.timedelta(minutes=75),
        course_day=1,
        course_days=order["course_days"],
        weight_kg=70,
        calculation=calc,
    )
    for index, step in enumerate(calc["rate_steps"][:2]):
        at = now - dt.timedelta(minutes=60) + dt.timedelta(minutes=step["start_min"])
        store.add_infusion_event(
            visit,
            kind="start" if index == 0 else "rate_change",
            rate_ml_h=round(step["ml_per_h"], 1),
            occurred_at=at,
        )
        store.add_vitals(
            visit,
            recorded_at=at,
            temperature_c=36.8,
            heart_rate=74,
            systolic_mmhg=124,
            diastolic_mmhg=78,
            respiratory_rate=16,
            spo2_percent=98,
            infusion_rate_ml_h=round(step["ml_per_h"], 1),
        )
    return visit


def test_at_1280x720_the_infusion_tab_shows_every_plan_step_and_the_whole_vitals_sheet(
    qtbot, tmp_path, demo, monkeypatch
):
    """The last look: the rate plan showed 2½ rows and scrolled, the flowsheet needed a
    horizontal scroll bar (screens-2026-11-26)."""
    import shutil

    path, signed, _draft = demo
    path = shutil.copy(path, tmp_path / "demo.db")  # the shared demo stays as it was
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    try:
        # the demo's signed visit stopped for a reaction (four plan steps), and a running draft on its order
        signed = store.db.execute(
            "SELECT v.id FROM visits v JOIN infusion_events e ON e.visit_id = v.id "
            "WHERE v.status = 'signed' AND e.kind = 'stop' ORDER BY v.id LIMIT 1"
        ).fetchone()[0]
        draft = _running_draft(store, signed)
        window.resize(1280, 720)
        window.show()
        for visit in (draft, signed):
            window.open_visit(visit)
            tab = window.visit_page.infusion_tab
            window.visit_page.tabs.setCurrentWidget(tab)
            settle(qtbot)
            plan, sheet = tab.plan, tab.sheet
            assert plan.rowCount() >= 3
            last = plan.visualRect(plan.model().index(min(plan.rowCount(), 6) - 1, 0))
            assert last.bottom() <= plan.viewport().height(), (
                f"visit {visit}: rate plan shows {plan.viewport().height()} px of {last.bottom()}"
            )
            assert sheet.horizontalScrollBar().maximum() == 0, (
                f"visit {visit}: the vitals sheet scrolls sideways"
            )
    finally:
        window.close()
        store.close()


def test_a_signed_visit_shows_no_empty_entry_form_on_the_lots_reactions_and_infusion_tabs(
    qtbot, tmp_path, demo, monkeypatch
):
    """Read-only in normal contrast must not read as "fill me in": the signed visit's Reactions tab
    showed the whole "Record a reaction" form (white fields, 0 mL/h), Lots an empty lot form, the
    Infusion tab the rate controls and an empty vital-signs row."""
    from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit

    path, signed, draft = demo
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    shown = {}
    try:
        for label, visit in (("signed", signed), ("draft", draft)):
            window.open_visit(visit)
            page = window.visit_page
            for tab in (page.lots_tab, page.reactions_tab, page.infusion_tab):
                page.tabs.setCurrentWidget(tab)
                settle(qtbot)
                shown[label, tab.objectName() or type(tab).__name__] = [
                    w.objectName() or type(w).__name__
                    for w in tab.findChildren(QWidget)
                    if w.isVisible()
                    and isinstance(w, (QLineEdit, QAbstractSpinBox, QComboBox))
                    and not isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox))
                ]
    finally:
        window.close()
        store.close()
    assert {k: v for k, v in shown.items() if k[0] == "signed" and v} == {}
    assert all(v for k, v in shown.items() if k[0] == "draft"), shown  # the draft keeps its forms


def test_a_signed_visit_s_checklist_and_notes_do_not_invite_typing(qtbot, tmp_path, demo, monkeypatch):
    """The signed checklist showed a row of grey answer buttons under "Reason or note (required
    for 'not done')"; the signed notes said "saved as you type" over "Anything else about this visit…"."""
    from PySide6.QtWidgets import QLabel, QPushButton

    path, signed, draft = demo
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    seen = {}
    try:
        for label, visit in (("signed", signed), ("draft", draft)):
            window.open_visit(visit)
            page = window.visit_page
            page.tabs.setCurrentWidget(page.checklist_tab)
            settle(qtbot)
            checklist = page.checklist_tab
            seen[label, "buttons"] = sorted(
                b.text() for b in checklist.findChildren(QPushButton) if b.isVisible()
            )
            seen[label, "checklist note"] = checklist.note.placeholderText()
            page.tabs.setCurrentWidget(page.notes_tab)
            settle(qtbot)
            notes = page.notes_tab
            seen[label, "notes"] = (
                notes.editor.placeholderText(),
                *(text.text() for text in notes.findChildren(QLabel) if text.isVisible()),
            )
    finally:
        window.close()
        store.close()
    assert seen["signed", "buttons"] == [], seen
    assert "required" not in seen["signed", "checklist note"]
    assert not any("as you type" in t or "Anything else" in t for t in seen["signed", "notes"]), seen
    assert "&Done" in seen["draft", "buttons"] and any(
        "as you type" in t for t in seen["draft", "notes"]
    )  # the draft's form
