"""Issue 11 §4: one date format everywhere (core.formatting.fmt_date) and human labels, never ids
or ISO dates, on every page and visit tab of the demo record and in its visit summary PDF."""

import io
import re

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QModelIndex, QSettings
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel

from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.formatting import fmt_date
from nurse_app.reports.visit_data import summarize
from nurse_app.reports.visit_summary import summary_pdf_bytes
from nurse_app.services.visit_record import load_visit
from nurse_app.store import Store
from nurse_app.store.demo import generate
from nurse_app.ui.main_window import MainWindow

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def ids() -> set[str]:
    """Machine ids a nurse must never read: products, regimens, reaction kinds."""
    from nurse_app.core import reactions

    cat = load_catalogue()
    found = {i for i in [*cat.products, *cat.regimens] if "-" in i}
    rules = reactions.load_reactions() if hasattr(reactions, "load_reactions") else None
    kinds = getattr(rules, "kinds", None) or {}
    found |= {k for k in kinds if "-" in k} | {"infusion-reaction", "aseptic-meningitis"}
    return found


def test_fmt_date_is_the_one_format():
    import datetime as dt

    assert fmt_date("2025-03-04") == "4 Mar 2025"
    assert fmt_date(dt.date(1961, 8, 23)) == "23 Aug 1961"
    assert fmt_date("2025-03-04T14:00:00Z") == "4 Mar 2025"
    assert fmt_date(None) == "" and fmt_date("not a date") == "not a date"


def _texts(window):
    for label in window.findChildren(QLabel):
        if label.isVisible():
            yield f"label {label.objectName()}", label.text()
    for view in window.findChildren(QAbstractItemView):
        if not view.isVisible() or view.model() is None or not hasattr(view, "horizontalHeader"):
            continue
        model = view.model()
        for row in range(min(model.rowCount(QModelIndex()), 40)):
            for col in range(view.horizontalHeader().count()):
                yield f"cell {view.objectName()}", str(model.index(row, col).data() or "")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("fmt") / "demo.db"
    with Store.open(path) as store:
        generate(store, patients=6, seed=1)
    return path


def test_no_page_or_visit_tab_shows_an_iso_date_or_an_id(qtbot, tmp_path, demo):
    store = Store.open(demo)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    bad_ids = ids()
    found = []
    try:
        seen = []
        for key in list(window.pages):  # every page (the visit is opened below)
            if key == "visit":
                continue
            window.show_page(key)
            QApplication.processEvents()
            seen += [(f"{key} {w}", t) for w, t in _texts(window)]
        visits = [r[0] for r in store.db.execute("SELECT id FROM visits ORDER BY id LIMIT 3")]
        for visit in visits:
            window.open_visit(visit)
            for index in range(window.visit_page.tabs.count()):
                window.visit_page.tabs.setCurrentIndex(index)
                QApplication.processEvents()
                seen += list(_texts(window))
        for where, text in seen:
            if ISO_DATE.search(text):
                found.append(f"{where}: ISO date in {text[:90]!r}")
            for i in bad_ids:
                if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text):
                    found.append(f"{where}: id {i!r} in {text[:90]!r}")
        assert any("Born" in t or "born" in t for _w, t in seen)
    finally:
        window.close()
        store.close()
    assert found == [], "\n".join(found)


def test_the_summary_pdf_has_no_iso_date_or_id(demo):
    bad_ids = ids()
    with Store.open(demo) as store:
        visits = [
            r[0]
            for r in store.db.execute(
                "SELECT DISTINCT v.id FROM visits v JOIN reactions r ON r.visit_id = v.id LIMIT 2"
            )
        ] or [1]
        visits.append(1)
        for visit in visits:
            data, _pages = summary_pdf_bytes(summarize(load_visit(store, visit)))
            text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
            assert not ISO_DATE.search(text), ISO_DATE.search(text)
            for i in bad_ids:
                assert not re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text), i


def _colour_of(html_or_sheet: str) -> str:
    match = re.search(r"color:\s*(#[0-9a-fA-F]{6})", html_or_sheet)
    return match.group(1).lower() if match else ""


@pytest.mark.parametrize("typed", ["none known", "NKDA", "Penicillin (rash)", ""])
def test_the_allergy_line_has_one_colour_on_every_page(qtbot, tmp_path, typed):
    store = Store.open(tmp_path / "r.db")
    store.set_nurse_profile("Maria Santos", "RN")
    patient = store.create_patient(
        mrn="M-1", name="Ana Lima", date_of_birth="1970-01-01", sex="female", height_cm=160.0, allergies=typed
    )
    store.create_order(
        patient,
        product_id="privigen",
        regimen_id="cidp-maintenance",
        course_days=1,
        interval_days=21,
        start_date="2025-03-02",
        prescriber="Dr. L. Moreau",
    ) if "privigen" in load_catalogue().products else None
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        window.patients.select_patient(patient)
        on_patients = _colour_of(window.patients.allergy_label.styleSheet())
        visit = store.create_visit(patient, course_day=1, course_days=1)
        window.open_visit(visit)
        in_visit = _colour_of(window.visit_page.allergies.text())
    finally:
        window.close()
        store.close()
    assert on_patients and on_patients == in_visit, (on_patients, in_visit)


def test_one_display_name_per_product_on_every_page_and_the_pdf(qtbot, tmp_path):
    cat = load_catalogue()
    product = next(p for p in cat.products.values() if "%" not in p.brand)  # e.g. Privigen
    name = product.display_name
    assert product.brand in name and "%" in name
    store = Store.open(tmp_path / "r.db")
    store.set_nurse_profile("Maria Santos", "RN")
    patient = store.create_patient(
        mrn="M-1",
        name="Ana Lima",
        date_of_birth="1970-01-01",
        sex="female",
        height_cm=160.0,
        allergies="none known",
    )
    regimen = next(iter(cat.regimens))
    store.create_order(
        patient,
        product_id=product.id,
        regimen_id=regimen,
        course_days=1,
        interval_days=21,
        start_date="2025-03-02",
        prescriber="Dr. L. Moreau",
    )
    visit = store.create_visit(
        patient, course_day=1, course_days=1, order_id=store.db.execute("SELECT id FROM orders").fetchone()[0]
    )
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        window.patients.select_patient(patient)
        texts = {
            "patients": window.patients.findChild(QLabel, "order_product").text()
            if window.patients.findChild(QLabel, "order_product")
            else " ".join(lbl.text() for lbl in window.patients.findChildren(QLabel))
        }
        window.open_visit(visit)
        texts["visit header"] = window.visit_page.subtitle.text()
        combo = window.calculator.product
        texts["calculator"] = combo.itemText(combo.findData(product.id))
        data, _pages = summary_pdf_bytes(summarize(load_visit(store, visit)))
        texts["pdf"] = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    finally:
        window.close()
        store.close()
    for where, text in texts.items():
        assert name in text, (where, text[:200])


def test_fhir_display_text_has_no_ids(demo):
    """Human labels in the FHIR export too: every "display" and "text" a reader sees."""
    import json

    from nurse_app.reports.fhir import bundle_json, visit_bundle
    from nurse_app.services.visit_record import load_visit

    bad_ids = ids()
    shown = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("display", "text") and isinstance(value, str):
                    shown.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    with Store.open(demo) as store:
        visits = [
            r[0]
            for r in store.db.execute("SELECT DISTINCT visit_id FROM reactions ORDER BY visit_id LIMIT 2")
        ] + [1]
        for visit in visits:
            walk(json.loads(bundle_json(visit_bundle(load_visit(store, visit)))))
    assert shown
    for text in shown:
        for i in bad_ids:
            assert not re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text), (i, text[:120])
