"""Issue 11 §4: nothing is clipped at 1280×720, 1366×768 and 1920×1080; the window fills the
screen on first start and remembers its geometry per screen; the patient list grows with the window.

Every page and every visit tab (a signed and a draft visit from the realistic demo record) is
shown in the real main window at each size and checked with :func:`layout_check.problems`.
"""

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from layout_check import problems
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
            "GROUP BY v.id ORDER BY COUNT(x.id) DESC, v.id").fetchall()
    signed = next(vid for vid, status in rows if status == "signed")
    draft = next(vid for vid, status in rows if status == "draft")
    return path, signed, draft


def settle(qtbot):
    for _ in range(3):
        QApplication.processEvents()
    qtbot.wait(10)


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
            if key == "patients":       # the patient with the most visits, detail filled in
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
    assert keys == [f"window/geometry/{screen.name() or 'screen'}-{screen.size().width()}x{screen.size().height()}"
                    .replace(" ", "_")]
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
    path, signed, _draft = demo
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
            columns = (0, 3) if size == (1920, 1080) else (0,)     # names always; indications when wide
            cut += [(size, model.index(r, c).data()) for r in range(model.rowCount()) for c in columns
                    if metrics.horizontalAdvance(str(model.index(r, c).data())) + 6 > header.sectionSize(c)]
            # (6 px: the item view's text margins, 3 px each side)
    finally:
        window.close()
        store.close()
    assert widths[(1920, 1080)] >= widths[(1280, 720)] + 200, widths
    assert cut == [], "names (or, at 1920×1080, indications) cut short"
