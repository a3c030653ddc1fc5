"""pytest-qt: the real main window under a dark system palette keeps its coloured text readable.

The palette a dark desktop hands to Qt (Fusion style, light text on dark greys) is applied to the
QApplication before the window is built, then restored.  The window runs over a demo record
(nurse_app.store.demo).  Every widget that colours its own text (error lines, allergy and
attention labels, the checklist, lots, reactions, signing, the calculator's "confirm with the
package insert" notes, the guide viewer) is checked the way a reader meets it: the colours Qt
resolves for the text (style sheet, rich-text fragment or item brush) against the background
actually drawn behind the widget (pixels of the rendered window), with WCAG 2's contrast ratio
(at least 4.5:1 for text, 3:1 for a tick box's outline).  The printed visit summary must stay
dark-on-white paper whatever the screen's theme.
"""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QPoint, QRect, QSettings, Qt
from PySide6.QtGui import QColor, QPalette, QTextDocument, QTextFormat
from PySide6.QtGui import Qt as GuiQt  # Qt.mightBeRichText lives in QtGui's Qt namespace
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QLabel, QStyle, QStyleOptionViewItem, QTextEdit, QWidget
from visit_export_helpers import ACCENTED_NAME, flat, make_visit, open_record, read_pdf

from nurse_app.core.checklists import DONE
from nurse_app.reports.visit_data import summarize
from nurse_app.services.visit_record import load_visit
from nurse_app.store import Store
from nurse_app.store.demo import generate
from nurse_app.ui import printing
from nurse_app.ui.main_window import MainWindow

TEXT = 4.5  # WCAG 2 AA, normal text
NON_TEXT = 3.0  # WCAG 2 AA, user-interface components (a tick box's outline)

# A dark desktop palette as Qt receives it (the roles Fusion reads).
DARK_ROLES = {
    QPalette.ColorRole.Window: "#2b2b2b",
    QPalette.ColorRole.WindowText: "#ffffff",
    QPalette.ColorRole.Base: "#1e1e1e",
    QPalette.ColorRole.AlternateBase: "#353535",
    QPalette.ColorRole.Text: "#ffffff",
    QPalette.ColorRole.Button: "#353535",
    QPalette.ColorRole.ButtonText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#353535",
    QPalette.ColorRole.ToolTipText: "#ffffff",
    QPalette.ColorRole.BrightText: "#ff5555",
    QPalette.ColorRole.Highlight: "#2a82da",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#4ea3f5",
    QPalette.ColorRole.PlaceholderText: "#9a9a9a",
    QPalette.ColorRole.Light: "#505050",
    QPalette.ColorRole.Midlight: "#404040",
    QPalette.ColorRole.Mid: "#2a2a2a",
    QPalette.ColorRole.Dark: "#1a1a1a",
    QPalette.ColorRole.Shadow: "#000000",
}


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in DARK_ROLES.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7f7f7f"))
    return palette


# --------------------------------------------------------------------------- contrast


def luminance(colour: QColor) -> float:
    """WCAG 2 relative luminance."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.red()) + 0.7152 * channel(colour.green()) + 0.0722 * channel(colour.blue())


def contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_matches_the_wcag_reference_values():
    assert contrast(QColor("black"), QColor("white")) == pytest.approx(21)
    assert contrast(QColor("#777777"), QColor("white")) == pytest.approx(4.48, abs=0.01)
    assert contrast(QColor("#d32f2f"), QColor("#2b2b2b")) < NON_TEXT  # why the light-theme red had to go


def rendered(window: QWidget, widget: QWidget, rect: QRect | None = None):
    """The pixels the window shows where ``widget`` (or ``rect`` inside it) is."""
    rect = rect or widget.rect()
    return window.grab(QRect(widget.mapTo(window, rect.topLeft()), rect.size())).toImage()


def background_behind(window: QWidget, widget: QWidget) -> QColor:
    """The colour most of the widget's area shows in the rendered window: its real background
    (a tab page, a group box, a view's base), whatever palette role painted it."""
    image = rendered(window, widget)
    counts = Counter(
        image.pixel(x, y) for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
    )
    return QColor.fromRgb(counts.most_common(1)[0][0])


def label_text_colours(label: QLabel) -> set[str]:
    """The colours Qt draws the label's text in: each rich-text fragment's own colour, or the
    label's palette text colour (after its style sheet is applied) where the fragment sets none."""
    label.ensurePolished()
    default = label.palette().color(label.foregroundRole())
    if label.textFormat() == Qt.TextFormat.PlainText or not GuiQt.mightBeRichText(label.text()):
        return {default.name()}
    document = QTextDocument()
    document.setHtml(label.text())
    return document_text_colours(document, default)


def document_text_colours(document: QTextDocument, default: QColor, *, only=None) -> set[str]:
    colours = set()
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            if fragment.text().strip() and (only is None or only(block, fmt)):
                own = fmt.hasProperty(QTextFormat.Property.ForegroundBrush)
                colours.add((fmt.foreground().color() if own else default).name())
            it += 1
        block = block.next()
    return colours


def assert_readable(window: QWidget, label: QLabel, minimum: float = TEXT) -> set[str]:
    """Every colour of the label's text against the background drawn behind it."""
    assert label.isVisible() and label.text().strip(), f"{label.objectName()} is not showing text"
    background = background_behind(window, label)
    colours = label_text_colours(label)
    for colour in colours:
        ratio = contrast(QColor(colour), background)
        assert ratio >= minimum, (
            f"{label.objectName()}: text {colour} on {background.name()} has contrast "
            f"{ratio:.2f}:1, needs {minimum}:1 ({label.text()[:80]!r})"
        )
    return colours


def assert_drawn_in(window: QWidget, label: QLabel, colour: str) -> None:
    """The rendered label really shows ``colour`` (bold text reaches full coverage somewhere)."""
    image = rendered(window, label)
    want = QColor(colour)
    near = any(
        max(abs(c.red() - want.red()), abs(c.green() - want.green()), abs(c.blue() - want.blue())) <= 24
        for c in (image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height()))
    )
    assert near, f"{label.objectName()}: no pixel of {colour} drawn"


def assert_item_readable(view, foreground: QColor, background: QColor | None = None, what: str = "") -> None:
    background = background or view.palette().color(QPalette.ColorRole.Base)
    ratio = contrast(foreground, background)
    assert ratio >= TEXT, f"{what}: {foreground.name()} on {background.name()} has contrast {ratio:.2f}:1"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def dark(qapp):
    """The application palette of a dark desktop; the original palette comes back afterwards."""
    original = QPalette(qapp.palette())
    qapp.setPalette(dark_palette())
    yield qapp.palette()
    qapp.setPalette(original)


@pytest.fixture(scope="module")
def demo_record(tmp_path_factory):
    path = tmp_path_factory.mktemp("dark") / "demo.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        generate(store, patients=25, seed=1)
    return path


@pytest.fixture
def window(qtbot, demo_record, tmp_path):
    path = tmp_path / "demo.db"
    shutil.copy(demo_record, path)
    store = Store.open(path)
    win = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.visit_page.shutdown()
    store.close()


def patients_where(store: Store, keep) -> list[dict]:
    return [p for p in store.find_patients("") if keep(p)]


def check_box_rect(tree, item) -> QRect:
    """Where the style draws the item's tick box (in viewport coordinates)."""
    option = QStyleOptionViewItem()
    option.initFrom(tree)
    index = tree.indexFromItem(item, 0)
    option.rect = tree.visualRect(index)
    tree.itemDelegate().initStyleOption(option, index)
    return tree.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, tree)


def show_tab(qtbot, window, tab: QWidget) -> None:
    window.show_page("visit")
    tabs = window.visit_page.tabs
    tabs.setCurrentWidget(tab)
    qtbot.waitUntil(tab.isVisible, timeout=2000)


# --------------------------------------------------------------------------- pages


def test_patients_page_allergy_attention_and_search_texts_read_on_dark(qtbot, dark, window):
    page, store = window.patients, window.store
    window.show_page("patients")
    allergic = patients_where(store, lambda p: (p["allergies"] or "").strip())[0]
    unrecorded = patients_where(store, lambda p: not (p["allergies"] or "").strip())[0]
    with_draft = next(
        p
        for p in store.find_patients("")
        if any(v["status"] != "signed" for v in store.patient_visits(p["id"]))
    )

    assert page.select_patient(allergic["id"])
    qtbot.waitUntil(page.allergy_label.isVisible, timeout=2000)
    [red] = assert_readable(window, page.allergy_label)
    assert_drawn_in(window, page.allergy_label, red)

    assert page.select_patient(unrecorded["id"])
    [orange] = assert_readable(window, page.allergy_label)
    assert orange != red, "a missing allergy record and a recorded allergy look different"

    assert page.select_patient(with_draft["id"])
    qtbot.waitUntil(page.draft_label.isVisible, timeout=2000)
    [colour] = assert_readable(window, page.draft_label)
    assert_drawn_in(window, page.draft_label, colour)
    draft_rows = [
        r for r in range(page.visit_table.rowCount()) if page.visit_table.item(r, 2).text() == "Draft"
    ]
    assert draft_rows
    for col in range(3):
        assert_item_readable(
            page.visit_table,
            page.visit_table.item(draft_rows[0], col).foreground().color(),
            what="draft visit row",
        )

    page.search.setText("zzzz no such patient")
    qtbot.waitUntil(lambda: "No patient matches" in page.count_label.text(), timeout=2000)
    assert_readable(window, page.count_label)


def test_visit_header_lots_sign_and_flagged_vitals_read_on_dark(qtbot, dark, window):
    store, page = window.store, window.visit_page
    allergic = patients_where(store, lambda p: (p["allergies"] or "").strip())[0]
    signed = next(v for v in store.patient_visits(allergic["id"]) if v["status"] == "signed")
    window.open_visit(signed["id"])
    qtbot.waitUntil(page.allergies.isVisible, timeout=2000)
    assert "Allergies:" in page.allergies.text()
    [red] = assert_readable(window, page.allergies)
    assert_drawn_in(window, page.allergies, red)

    show_tab(qtbot, window, page.sign_tab)
    assert "Signed" in page.sign_tab.signature.text()
    assert_readable(window, page.sign_tab.signature)

    show_tab(qtbot, window, page.lots_tab)
    assert len(label_text_colours(page.lots_tab.comparison)) == 1
    assert_readable(window, page.lots_tab.comparison)

    draft = next(
        v for p in store.find_patients("") for v in store.patient_visits(p["id"]) if v["status"] != "signed"
    )
    window.open_visit(draft["id"])
    show_tab(qtbot, window, page.sign_tab)
    assert_readable(window, page.sign_tab.problems)

    # A fever and a fast pulse typed on the Infusion tab: flagged in the sheet and spelled out below it.
    tab = page.infusion_tab
    show_tab(qtbot, window, tab)
    for field, value in (("temperature_c", "38.9"), ("heart_rate", "128"), ("spo2_percent", "90")):
        tab.inputs[field].setText(value)
    qtbot.mouseClick(tab.add_vitals_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Temperature" in tab.flags_label.text(), timeout=2000)
    [colour] = assert_readable(window, tab.flags_label)
    assert_drawn_in(window, tab.flags_label, colour)
    last = tab.sheet.rowCount() - 1
    flagged = [
        tab.sheet.item(last, c)
        for c in range(tab.sheet.columnCount())
        if tab.sheet.item(last, c)
        and tab.sheet.item(last, c).data(Qt.AccessibleDescriptionRole) == "abnormal"
    ]
    assert len(flagged) == 3
    for item in flagged:
        assert_item_readable(
            tab.sheet, item.foreground().color(), item.background().color(), "flagged vital sign"
        )


def test_checklist_open_items_show_a_tick_box_and_readable_progress_on_dark(qtbot, dark, window):
    store, page = window.store, window.visit_page
    patient = patients_where(
        store,
        lambda p: (
            p["id"]
            not in {
                v["patient_id"]
                for q in store.find_patients("")
                for v in store.patient_visits(q["id"])
                if v["status"] != "signed"
            }
        ),
    )[0]
    window.patients.select_patient(patient["id"])
    window.start_visit(patient["id"])  # a new visit: every item still open
    tab = page.checklist_tab
    show_tab(qtbot, window, tab)
    assert "required item" in tab.progress.text()
    colours = assert_readable(window, tab.progress)
    assert len(colours) == 2, "the open-items count stands out from the rest of the line"

    tree = tab.tree
    phase = tree.topLevelItem(0)
    required = next(phase.child(i) for i in range(phase.childCount()) if phase.child(i).text(1) == "Required")
    assert_item_readable(tree, required.foreground(1).color(), what="'Required' answer")

    # The empty tick box of an open item is drawn with an outline that stands out from the base.
    box = check_box_rect(tree, required)
    image = rendered(window, tree.viewport(), box)
    base = tree.palette().color(QPalette.ColorRole.Base)
    best = max(
        contrast(image.pixelColor(x, y), base) for x in range(image.width()) for y in range(image.height())
    )
    assert best >= NON_TEXT, f"the empty tick box is invisible (best contrast {best:.2f}:1)"

    # ... and a click on it still ticks the item.
    item_id = required.data(0, Qt.UserRole)
    qtbot.mouseClick(tree.viewport(), Qt.LeftButton, pos=box.center())
    qtbot.waitUntil(
        lambda: {i["item_id"]: i["status"] for i in store.visit_checklist(page.visit_id)}[item_id] == DONE,
        timeout=2000,
    )


def test_checklist_progress_without_open_items_uses_the_palette_text_colour(qtbot, dark, window):
    """Nothing left open: the count is plain text (Qt's rich text once drew "inherit" as black)."""
    store, page = window.store, window.visit_page
    # The demo's draft is still infusing: only its time-gated observation item is open (locked).
    draft = next(
        v
        for p in store.find_patients("")
        for v in store.patient_visits(p["id"])
        if v["status"] != "signed"
        and all(i["locked"] for i in store.visit_checklist(v["id"]) if i["required"] and i["status"] is None)
    )
    for item in store.visit_checklist(draft["id"]):
        if item["required"] and item["status"] is None:
            store.set_checklist_item(draft["id"], item["item_id"], "not_done", note="Patient left early")
    window.open_visit(draft["id"])
    show_tab(qtbot, window, page.checklist_tab)
    assert "0 required items still open" in page.checklist_tab.progress.text()
    assert assert_readable(window, page.checklist_tab.progress) == {"#ffffff"}


@pytest.mark.parametrize("severity", ["mild", "moderate", "severe"])
def test_reaction_guidance_and_errors_read_on_dark(qtbot, dark, window, severity):
    store, page = window.store, window.visit_page
    draft = next(
        v for p in store.find_patients("") for v in store.patient_visits(p["id"]) if v["status"] != "signed"
    )
    window.open_visit(draft["id"])
    tab = page.reactions_tab
    show_tab(qtbot, window, tab)
    button = tab.severity_buttons[severity]
    qtbot.mouseClick(button, Qt.LeftButton, pos=QPoint(6, button.height() // 2))  # on its round box
    assert tab.guide.severities[severity].title in tab.guidance.text()
    assert_readable(window, tab.guidance)
    qtbot.mouseClick(tab.add_button, Qt.LeftButton)  # no action typed: refused with an inline error
    qtbot.waitUntil(tab.error.isVisible, timeout=2000)
    [colour] = assert_readable(window, tab.error)
    assert_drawn_in(window, tab.error, colour)


def test_calculator_insert_notes_and_field_errors_read_on_dark(qtbot, dark, window):
    window.show_page("calculator")
    calc = window.calculator
    calc.set_inputs(product="privigen", regimen="pemphigus", weight="150", height="150", sex="female")
    assert "confirm with the package insert" in calc.vial_summary.text()
    assert len(assert_readable(window, calc.vial_summary)) == 2

    calc.weight.edit.clear()
    qtbot.keyClicks(calc.weight.edit, "abc")
    qtbot.waitUntil(calc.weight.error.isVisible, timeout=2000)
    [colour] = assert_readable(window, calc.weight.error)
    assert_drawn_in(window, calc.weight.error, colour)
    # the field's red outline stands out from the window around it
    edit = calc.weight.edit
    image = rendered(window, edit)
    outline = image.pixelColor(0, image.height() // 2)
    assert contrast(outline, background_behind(window, calc.weight)) >= NON_TEXT


def guide_heading_and_link_colours(viewer) -> set[str]:
    document = viewer.document()
    default = viewer.palette().color(QPalette.ColorRole.Text)
    return document_text_colours(
        document, default, only=lambda block, fmt: block.blockFormat().headingLevel() or fmt.isAnchor()
    )


def assert_guide_readable(window, guides) -> None:
    background = background_behind(window, guides.viewer.viewport())
    colours = guide_heading_and_link_colours(guides.viewer)
    assert len(colours) >= 2, colours  # headings and links each have their colour
    for colour in colours:
        assert contrast(QColor(colour), background) >= TEXT, f"guide text {colour} on {background.name()}"


def test_guide_headings_and_links_read_on_dark(qtbot, dark, window):
    window.show_page("guides")
    guides = window.guides
    guides.open_guide(sorted(guides.guides)[0])
    assert isinstance(guides.viewer, QTextEdit)
    assert_guide_readable(window, guides)


def test_open_guide_recolours_when_the_system_switches_to_dark(qtbot, qapp, window):
    window.show_page("guides")
    guides = window.guides
    guides.open_guide(sorted(guides.guides)[0])
    light = guide_heading_and_link_colours(guides.viewer)
    original = QPalette(qapp.palette())
    qapp.setPalette(dark_palette())
    try:
        qtbot.waitUntil(lambda: guide_heading_and_link_colours(guides.viewer) != light, timeout=2000)
        assert_guide_readable(window, guides)
    finally:
        qapp.setPalette(original)
    qtbot.waitUntil(lambda: guide_heading_and_link_colours(guides.viewer) == light, timeout=2000)


# --------------------------------------------------------------------------- paper


def pdf_text_fill_colours(path) -> set[tuple[float, ...]]:
    """The fill colour in force whenever the PDF shows text (what the printer inks)."""
    colours, state = set(), {"fill": (0.0, 0.0, 0.0), "stack": []}

    def before(operator, operands, _cm, _tm):
        if operator in (b"sc", b"scn", b"rg") and len(operands) >= 3:
            state["fill"] = tuple(float(v) for v in operands[:3])
        elif operator == b"g" and operands:
            state["fill"] = (float(operands[0]),) * 3
        elif operator == b"q":
            state["stack"].append(state["fill"])
        elif operator == b"Q" and state["stack"]:
            state["fill"] = state["stack"].pop()
        elif operator in (b"Tj", b"TJ", b"'", b'"'):
            colours.add(state["fill"])

    for page in PdfReader(path).pages:
        page.extract_text(visitor_operand_before=before)
    return colours


def test_printed_visit_summary_stays_dark_on_white_paper(qtbot, dark, tmp_path):
    """Print paints the reportlab PDF (the paper is what "Save as PDF" writes, whatever the
    screen's theme): its text inks are dark on white, and the printed sheet is white paper."""
    import pypdfium2 as pdfium

    from nurse_app.reports.visit_summary import summary_pdf_bytes

    with open_record(tmp_path / "record.db") as store:
        summary = summarize(load_visit(store, make_visit(store)))
    data, pages = summary_pdf_bytes(summary)
    (tmp_path / "saved.pdf").write_bytes(data)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert printing.print_pdf(data, printer) == pages >= 1
    assert ACCENTED_NAME in flat(" ".join(read_pdf(tmp_path / "saved.pdf")))
    colours = pdf_text_fill_colours(tmp_path / "saved.pdf")
    assert colours
    paper = QColor("white")
    for r, g, b in colours:
        ink = QColor.fromRgbF(r, g, b)
        assert contrast(ink, paper) >= TEXT, f"printed text in {ink.name()} on white paper"
    document = pdfium.PdfDocument(str(tmp_path / "printed.pdf"))
    bitmap = document[0].render(scale=30 / 72, grayscale=True)
    grey = bytes(bitmap.buffer)
    document.close()
    assert Counter(v >= 250 for v in grey)[True] > 0.6 * len(grey), (
        "white paper (not the dark theme's window colour)"
    )
    assert min(grey) < 60, "dark ink"
