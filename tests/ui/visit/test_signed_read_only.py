"""Issue 11 §4: a signed visit reads in normal contrast (not disabled grey on grey), and its
fields still refuse edits.  Measured on the pixels the real main window paints (WCAG ratio)."""

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from visit_export_helpers import make_visit, open_record

from nurse_app.ui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("toronto_time")
TEXT = 4.5  # WCAG 2 AA, normal text


def luminance(colour: QColor) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.red()) + 0.7152 * channel(colour.green()) + 0.0722 * channel(colour.blue())


def contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def painted_contrast(widget) -> float:
    """Contrast between the darkest and the most common (background) pixel the widget paints."""
    image = widget.grab().toImage()
    counts, darkest = {}, None
    for y in range(2, image.height() - 2):
        for x in range(4, image.width() - 4):
            colour = image.pixelColor(x, y)
            counts[colour.rgb()] = counts.get(colour.rgb(), 0) + 1
            if darkest is None or luminance(colour) < luminance(darkest):
                darkest = colour
    background = QColor.fromRgb(max(counts, key=counts.get))
    return contrast(darkest, background)


@pytest.fixture
def window(qtbot, tmp_path):
    store = open_record(tmp_path / "record.db")
    visit = make_visit(store, sign=True)
    win = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    win.open_visit(visit)
    QApplication.processEvents()
    yield win
    win.close()
    store.close()


def test_a_signed_visit_reads_in_normal_contrast(qtbot, window):
    calc = window.visit_page.dose_tab.calculator
    weight, product = calc.weight.edit, calc.product
    assert not calc.isEnabled() or weight.isReadOnly()  # still refuses edits
    for widget in (weight, product, calc.height.edit):
        assert widget.isVisible()
        assert painted_contrast(widget) >= TEXT, widget.objectName()


def test_the_read_only_palette_is_dropped_for_a_draft(qtbot, window, tmp_path):
    store = window.store
    draft = make_visit(store, mrn="MRN-0099")
    window.open_visit(draft)
    QApplication.processEvents()
    calc = window.visit_page.dose_tab.calculator
    assert calc.isEnabled() and calc.weight.edit.isEnabled()
    assert painted_contrast(calc.weight.edit) >= TEXT


def test_warnings_acknowledged_before_signing_show_as_acknowledged(qtbot, window):
    from PySide6.QtWidgets import QCheckBox

    store = window.store
    draft = make_visit(store, mrn="MRN-0101")
    window.open_visit(draft)
    calc = window.visit_page.dose_tab.calculator
    qtbot.waitUntil(lambda: bool(calc._current_warnings), timeout=5000)
    boxes = [b for b in calc.warnings_box.findChildren(QCheckBox) if b.objectName().startswith("ack_")]
    assert boxes
    for box in boxes:
        box.setChecked(True)  # the nurse ticks each acknowledgement
    qtbot.waitUntil(lambda: "acknowledged" in calc.banner.text(), timeout=5000)
    store.update_visit(draft, ended_at="2025-03-04T18:00:00Z")
    store.sign_visit(draft)
    window.open_visit(draft)  # reopened, signed
    calc = window.visit_page.dose_tab.calculator
    from PySide6.QtCore import QEvent

    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # rows of an earlier pass
    assert "need" not in calc.banner.text() and "acknowledged" in calc.banner.text(), calc.banner.text()
    boxes = [b for b in calc.warnings_box.findChildren(QCheckBox) if b.objectName().startswith("ack_")]
    assert boxes and all(b.isChecked() for b in boxes)


def test_demo_signed_visits_show_their_warnings_as_acknowledged(qtbot, tmp_path):
    """Load demo data gives signed visits whose warnings were acknowledged before signing."""
    from PySide6.QtCore import QEvent

    from nurse_app.store import Store
    from nurse_app.store.demo import generate

    store = Store.open(tmp_path / "demo.db")
    generate(store, patients=3, seed=1)
    signed = [r[0] for r in store.db.execute("SELECT id FROM visits WHERE status = 'signed' ORDER BY id")]
    win = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    try:
        shown = 0
        for visit in signed[:4]:
            win.open_visit(visit)
            QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            calc = win.visit_page.dose_tab.calculator
            if calc._current_warnings:
                shown += 1
                assert "need" not in calc.banner.text() and "acknowledged" in calc.banner.text(), (
                    calc.banner.text()
                )
        assert shown
    finally:
        win.close()
        store.close()
