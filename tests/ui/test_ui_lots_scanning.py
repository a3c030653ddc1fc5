"""Scanning cartons on the Lots tab of the real main window: a handheld scanner's keystroke burst
(wherever the focus is), a picture, the camera's frames, and every refusal writing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter
from qt_helpers import open_main_window
from store_helpers import pemphigus_record

PRIVIGEN_40 = "00344206439401"  # NDC 44206-439-40
OCTAGAM_10_5G = "00300696550026"  # NDC 0069-6550-02
NEXT_YEAR = dt.date.today().year + 1


def code(gtin=PRIVIGEN_40, expiry=f"{NEXT_YEAR % 100:02d}1200", lot="ABC123", serial="S0001"):
    return f"]d201{gtin}17{expiry}10{lot}\x1d21{serial}"


@pytest.fixture
def record(tmp_path):
    return pemphigus_record(tmp_path / "record.db")


@pytest.fixture
def lots(qtbot, record, tmp_path):
    window, store = open_main_window(qtbot, record, tmp_path)
    pid = store.find_patients("")[0]["id"]
    window.start_visit(pid)
    tab = window.visit_page.lots_tab
    window.visit_page.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(tab.isVisible, timeout=2000)
    yield tab, store, window.visit_page.visit_id
    window.close()
    store.close()


def burst(qtbot, widget, text):
    """A keyboard-mode scanner: every character at once, then Enter (GS as Ctrl+], as scanners send
    it), into whatever has the focus (``widget`` is focused first unless it is None)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    if widget is not None:
        widget.setFocus()
    widget = QApplication.focusWidget()

    for chunk in text.split("\x1d"):
        if chunk is not text.split("\x1d")[0]:
            for kind in (QEvent.KeyPress, QEvent.KeyRelease):
                QApplication.sendEvent(
                    widget, QKeyEvent(kind, Qt.Key_BracketRight, Qt.ControlModifier, "\x1d")
                )
        qtbot.keyClicks(widget, chunk)
    qtbot.keyClick(widget, Qt.Key_Return)


def test_a_scanner_burst_fills_a_row_never_typing_into_the_focused_field(qtbot, lots):
    tab, store, vid = lots
    tab.lot_number.setFocus()
    qtbot.keyClicks(tab.lot_number, "X")  # the nurse had started typing
    burst(qtbot, tab.lot_number, code())
    assert tab.lot_number.text() == "X"  # not one character of the burst landed in the field
    assert "Privigen 10 % 40 g / 400 mL" in tab.scan_result.text()
    assert "lot ABC123" in tab.scan_result.text() and "serial S0001" in tab.scan_result.text()
    assert store.visit_lots(vid) == []  # the nurse confirms first
    assert tab.scan_accept.isVisible() and tab.scan_accept.hasFocus()
    qtbot.keyClick(tab.scan_accept, Qt.Key_Return)  # one key
    [row] = store.visit_lots(vid)
    assert (row["lot_number"], row["expiry_date"], row["vial_size_g"], row["vial_count"]) == (
        "ABC123",
        f"{NEXT_YEAR}-12-31",  # day 00: the end of the month
        40,
        1,
    )
    assert (row["source"], row["serial"], row["gtin"]) == ("scanned", "S0001", PRIVIGEN_40)
    assert tab.table.item(0, 5).text() == "scanned (serial S0001)"
    assert not tab.scan_result.isVisible()


def test_a_burst_with_the_focus_in_the_expiry_field_and_gs_shown_as_text(qtbot, lots):
    tab, store, vid = lots
    tab.expiry.setFocus()
    burst(qtbot, tab.expiry, code(serial="S2").replace("\x1d", "<GS>").replace("]d2", ""))
    assert tab.expiry.text() == ""
    qtbot.keyClick(tab.scan_accept, Qt.Key_Return)
    assert [r["serial"] for r in store.visit_lots(vid)] == ["S2"]


def test_a_person_typing_a_zero_is_not_a_scan(qtbot, lots):
    tab, _store, _vid = lots
    tab.lot_number.setFocus()
    qtbot.keyClicks(tab.lot_number, "0123AB", delay=120)  # a person's pace
    qtbot.waitUntil(lambda: tab.lot_number.text() == "0123AB", timeout=2000)
    assert not tab.scan_result.isVisible()


@pytest.mark.parametrize(
    ("scanned", "reason"),
    [
        (
            code(gtin=OCTAGAM_10_5G),
            "Wrong product: this carton is Octagam 10%, the order is for Privigen 10 %",
        ),
        (code(expiry="200131"), "Expired carton: lot ABC123 expired on 31 Jan 2020"),
        (code(gtin="00344206439409"), "fails its check digit"),
        (code(gtin="00312345678906"), "Unknown product code (GTIN 00312345678906)"),
    ],
)
def test_refused_scans_say_why_and_write_nothing(qtbot, lots, scanned, reason):
    tab, store, vid = lots
    tab.lot_number.setFocus()
    burst(qtbot, tab.lot_number, scanned)
    assert reason in tab.scan_result.text() and tab.scan_result.text().startswith("⚠ Refused")
    assert not tab.scan_accept.isVisible()
    qtbot.keyClick(tab.scan_discard, Qt.Key_Return)
    assert store.visit_lots(vid) == [] and tab.lot_number.text() == ""


def test_the_same_serial_twice_is_refused(qtbot, lots):
    tab, store, vid = lots
    burst(qtbot, tab.lot_number, code(serial="S9"))
    qtbot.keyClick(tab.scan_accept, Qt.Key_Return)
    burst(qtbot, None, code(serial="S9"))  # focus is back in the lot number field
    assert "already scanned in this visit" in tab.scan_result.text()
    assert len(store.visit_lots(vid)) == 1
    qtbot.keyClick(tab.scan_discard, Qt.Key_Return)
    burst(qtbot, None, code(serial="S10"))  # the next carton of the same lot is fine
    qtbot.keyClick(tab.scan_accept, Qt.Key_Return)
    assert [r["serial"] for r in store.visit_lots(vid)] == ["S9", "S10"]


def _datamatrix(text: str, scale: int = 6) -> QImage:
    import zxingcpp

    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.DataMatrix, gs1=True).to_image(scale=scale)
    view = memoryview(symbol)
    height, width = view.shape
    return QImage(view.tobytes(), width, height, width, QImage.Format.Format_Grayscale8).copy()


def test_a_picture_of_the_code_fills_the_row(qtbot, lots, tmp_path, monkeypatch):
    tab, store, vid = lots
    picture = tmp_path / "carton.png"
    assert _datamatrix(f"(01){PRIVIGEN_40}(17){NEXT_YEAR % 100:02d}0630(10)PIC1(21)P1").save(str(picture))
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(picture), ""))
    qtbot.mouseClick(tab.picture_button, Qt.LeftButton)
    assert "lot PIC1" in tab.scan_result.text()
    qtbot.keyClick(tab.scan_accept, Qt.Key_Return)
    assert store.visit_lots(vid)[0]["expiry_date"] == f"{NEXT_YEAR}-06-30"


def test_a_camera_frame_is_decoded(qtbot, lots):
    """A synthetic 640×480 camera frame: the symbol small, off-centre, on a grey background."""
    from nurse_app.ui.visit.camera_scan import CameraScanDialog

    frame = QImage(640, 480, QImage.Format.Format_RGB32)
    frame.fill(QColor(170, 165, 160))
    painter = QPainter(frame)
    painter.drawImage(
        380, 200, _datamatrix(f"(01){PRIVIGEN_40}(17){NEXT_YEAR % 100:02d}1231(10)CAM1(21)C1", scale=4)
    )
    painter.end()
    dialog = CameraScanDialog.__new__(CameraScanDialog)  # the decode path alone: no camera here
    seen = {}
    dialog.accept = lambda: seen.setdefault("accepted", True)
    assert CameraScanDialog.handle_image(dialog, frame)
    assert seen == {"accepted": True} and dialog.code.startswith("]d201" + PRIVIGEN_40)
    tab, _store, _vid = lots
    tab.take_scan(dialog.code)
    assert "lot CAM1" in tab.scan_result.text()


def test_without_a_camera_the_nurse_is_told_in_one_sentence(qtbot, lots, monkeypatch):
    tab, _store, _vid = lots
    from nurse_app.ui.visit import camera_scan

    monkeypatch.setattr(camera_scan, "camera_support", lambda: (None, camera_scan.NO_CAMERA))
    qtbot.mouseClick(tab.camera_button, Qt.LeftButton)
    assert tab.scan_result.text() == camera_scan.NO_CAMERA


def test_the_summary_says_how_each_lot_was_recorded(qtbot, lots):
    tab, store, vid = lots
    burst(qtbot, tab.lot_number, code(serial="SUM1"))
    qtbot.keyClick(tab.scan_accept, Qt.Key_Return)
    store.add_lot(
        vid,
        product_id="privigen",
        lot_number="T1",
        expiry_date=f"{NEXT_YEAR}-01-31",
        vial_size_g=40,
        vial_count=1,
    )
    from nurse_app.reports.visit_data import summarize
    from nurse_app.services.visit_record import load_visit

    summary = summarize(load_visit(store, vid))
    assert [row[-1] for row in summary.lots.rows] == ["scanned (serial SUM1)", "typed"]


def test_the_fhir_export_codes_the_scanned_carton_and_names_its_serial(qtbot, lots):
    tab, store, vid = lots
    burst(qtbot, tab.lot_number, code(serial="FHIR7"))
    qtbot.keyClick(tab.scan_accept, Qt.Key_Return)
    import json

    from nurse_app.reports.fhir import GTIN_SYSTEM, NDC_SYSTEM, SERIAL_SYSTEM, bundle_json
    from nurse_app.services.handoff import store_visit_bundle

    bundle = json.loads(bundle_json(store_visit_bundle(store, vid)))
    [medication] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Medication"]
    codes = {(c["system"], c["code"]) for c in medication["code"]["coding"]}
    assert (NDC_SYSTEM, "44206-439-40") in codes and (GTIN_SYSTEM, PRIVIGEN_40) in codes
    assert medication["identifier"] == [{"system": SERIAL_SYSTEM, "value": "FHIR7"}]
    assert medication["batch"]["lotNumber"] == "ABC123"
    assert medication["extension"][0]["valueString"] == "scanned (serial FHIR7)"
