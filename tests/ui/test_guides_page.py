"""The Guides page driven with pytest-qt: typing, keyboard, links, handout save and print."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog
from repo_paths import GUIDE_FIXTURES

from nurse_app.core.guides import load_guides
from nurse_app.reports.handout import CALL_TITLE
from nurse_app.ui.guides_page import GUIDE_ID_ROLE, SECTION_ROLE, GuidesPage

CONTACT = {"nurse": "Zoë Ødegård-Müller", "phone": "555-0142"}


@pytest.fixture
def page(qtbot):
    widget = GuidesPage(settings_contact=CONTACT)
    qtbot.addWidget(widget)
    widget.resize(1100, 750)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def result_ids(page: GuidesPage) -> list[str]:
    return [page.results.item(i).data(GUIDE_ID_ROLE) for i in range(page.results.count())]


def type_query(qtbot, page: GuidesPage, text: str) -> None:
    page.search_box.setFocus()
    page.search_box.clear()
    qtbot.keyClicks(page.search_box, text)


def test_constructible_standalone_lists_every_guide(qtbot):
    widget = GuidesPage()
    qtbot.addWidget(widget)
    assert sorted(result_ids(widget)) == sorted(load_guides())
    assert not widget.save_button.isEnabled()
    assert widget.search_box.accessibleName() == "Search guides"
    assert widget.results.accessibleName() and widget.viewer.accessibleName()


def test_typing_shows_live_results_and_enter_opens_the_first(qtbot, page):
    type_query(qtbot, page, "PV")
    qtbot.waitUntil(lambda: result_ids(page)[:1] == ["pemphigus"], timeout=2000)
    first = page.results.item(0)
    assert first.data(SECTION_ROLE)
    assert "Pemphigus" in first.text()
    with qtbot.waitSignal(page.guide_opened, timeout=2000) as opened:
        qtbot.keyClick(page.search_box, Qt.Key.Key_Return)
    assert opened.args == ["pemphigus"]
    guide = load_guides()["pemphigus"]
    shown = page.viewer.toPlainText()
    assert guide.title in shown
    for section in guide.sections:
        assert section.title in shown
    assert "Sources" in shown and guide.sources[0].citation[:30] in shown
    assert page.save_button.isEnabled() and page.print_button.isEnabled()


def test_results_follow_each_keystroke(qtbot, page):
    type_query(qtbot, page, "kawa")
    qtbot.waitUntil(lambda: result_ids(page)[:1] == ["kawasaki-disease"], timeout=2000)
    qtbot.keyClicks(page.search_box, "saki zzqxv")
    qtbot.waitUntil(lambda: result_ids(page)[:1] == ["kawasaki-disease"], timeout=2000)
    page.search_box.clear()
    qtbot.keyClicks(page.search_box, "zzqxv")
    qtbot.waitUntil(lambda: page.results.item(0).text().startswith("No guide matches"), timeout=2000)
    assert result_ids(page) == [None]


def test_down_arrow_moves_into_the_results(qtbot, page):
    type_query(qtbot, page, "blisters")
    qtbot.keyClick(page.search_box, Qt.Key.Key_Down)
    assert page.results.hasFocus()
    assert page.results.currentRow() == 0
    assert page.current is not None and page.current.id == result_ids(page)[0]
    qtbot.keyClick(page.results, Qt.Key.Key_Down)
    assert page.current.id == result_ids(page)[1]


@pytest.mark.parametrize("text", ['"((', "NEAR(", "*", "-", ")", "title:DM AND", "'"])
def test_hostile_typing_never_breaks_the_page(qtbot, page, text):
    type_query(qtbot, page, text)
    qtbot.keyClick(page.search_box, Qt.Key.Key_Return)
    assert page.results.count() >= 1


def click_link(qtbot, page: GuidesPage, prefix: str) -> str:
    """Click the first link whose target starts with ``prefix``; returns the target."""
    document = page.viewer.document()
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            href = fragment.charFormat().anchorHref()
            if href.startswith(prefix):
                cursor = QTextCursor(document)
                cursor.setPosition(fragment.position() + max(1, fragment.length() // 2))
                page.viewer.setTextCursor(cursor)
                page.viewer.ensureCursorVisible()
                point = page.viewer.cursorRect(cursor).center()
                point.setX(point.x() - 2)
                qtbot.mouseClick(page.viewer.viewport(), Qt.MouseButton.LeftButton, pos=point)
                return href
            it += 1
        block = block.next()
    raise AssertionError(f"no {prefix} link in the guide")


def test_clicking_a_regimen_link_asks_for_the_calculator(qtbot, page):
    page.open_guide("dermatomyositis")
    with qtbot.waitSignal(page.open_calculator, timeout=2000) as signal:
        href = click_link(qtbot, page, "regimen:")
    assert signal.args == [href.split(":", 1)[1]]
    assert signal.args[0] in load_guides()["dermatomyositis"].regimens


def test_clicking_a_guide_link_opens_that_guide(qtbot, page):
    page.open_guide("dermatomyositis")
    with qtbot.waitSignal(page.guide_opened, timeout=2000) as signal:
        href = click_link(qtbot, page, "guide:")
    assert signal.args == [href.split(":", 1)[1]]
    assert page.current.id == signal.args[0]


def test_save_handout_runs_off_the_gui_thread_with_a_busy_bar(qtbot, page, tmp_path):
    page.open_guide("itp")
    target = tmp_path / "itp.pdf"
    with qtbot.waitSignal(page.handout_saved, timeout=10000) as saved:
        page.save_handout_to(str(target))
        assert page.busy.isVisible()  # the result arrives through the event loop
        assert not page.save_button.isEnabled()
    assert saved.args == [str(target)]
    assert not page.busy.isVisible() and page.save_button.isEnabled()
    text = "\n".join(p.extract_text() for p in PdfReader(str(target)).pages)
    assert load_guides()["itp"].title in " ".join(text.split())
    assert "Zoë Ødegård-Müller" in text
    assert str(target) in page.status.text()


def test_save_button_asks_for_a_file_name(qtbot, page, tmp_path, monkeypatch):
    target = tmp_path / "chosen"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PDF files (*.pdf)"))
    page.open_guide("pemphigoid")
    with qtbot.waitSignal(page.handout_saved, timeout=10000) as saved:
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert saved.args == [str(target) + ".pdf"]
    assert Path(saved.args[0]).read_bytes().startswith(b"%PDF")


def test_failed_save_reports_a_message(qtbot, tmp_path):
    widget = GuidesPage()  # not shown: no modal message box in a test
    qtbot.addWidget(widget)
    widget.open_guide("itp")
    with qtbot.waitSignal(widget.handout_failed, timeout=10000) as failed:
        widget.save_handout_to(str(tmp_path / "missing" / "itp.pdf"))
    assert "Could not save the handout" in failed.args[0]
    assert widget.status.text() == failed.args[0]
    assert widget.save_button.isEnabled()


def test_print_handout_prints_the_same_content(qtbot, page, tmp_path):
    """Print and Save as PDF are one layout: the printed pages are the handout PDF's pages."""
    from pdf_compare import differs, render

    from nurse_app.reports.handout import handout_pdf_bytes

    page.open_guide("kawasaki-disease")
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    target = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(target))
    page.print_handout_to(printer)
    size = printer.pageLayout().pageSize()
    from nurse_app.ui.printing import reportlab_page_size

    reference, pages = handout_pdf_bytes(page.current, page.contact, pagesize=reportlab_page_size(size))
    assert len(PdfReader(str(target)).pages) == pages
    for index in range(pages):
        assert differs(render(target, index), render(reference, index, via=300)) < 4
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(reference)).pages).split())
    guide = load_guides()["kawasaki-disease"]
    assert guide.title in text and CALL_TITLE in text
    assert "Zoë Ødegård-Müller" in text


def test_broken_guide_file_is_reported_on_the_page_not_a_crash(qtbot, tmp_path):
    fixture = GUIDE_FIXTURES / "dermatomyositis.md"
    (tmp_path / "dermatomyositis.md").write_text(
        fixture.read_text(encoding="utf-8").replace("## Usual treatment", "## Treatment"), encoding="utf-8"
    )
    widget = GuidesPage(guides_folder=tmp_path)
    qtbot.addWidget(widget)
    message = widget.viewer.toPlainText()
    assert "could not be loaded" in message
    assert "dermatomyositis.md: unexpected section '## Treatment'" in message
    assert not widget.search_box.isEnabled()
    assert widget.results.item(0).text() == "No guides available."


def test_page_can_show_a_fixture_folder(qtbot):
    widget = GuidesPage(guides_folder=GUIDE_FIXTURES)
    qtbot.addWidget(widget)
    assert result_ids(widget) == ["dermatomyositis"]
    type_query(qtbot, widget, "JDM")
    widget.open_first_result()
    assert widget.current.id == "dermatomyositis"


def test_contact_from_settings_reaches_the_next_handout(qtbot, tmp_path):
    widget = GuidesPage()
    qtbot.addWidget(widget)
    widget.set_contact({"agency": "Soins à domicile Éloïse"})
    widget.open_guide("multifocal-motor-neuropathy")
    target = tmp_path / "mmn.pdf"
    with qtbot.waitSignal(widget.handout_saved, timeout=10000):
        widget.save_handout_to(str(target))
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(str(target)).pages).split())
    assert "Infusion agency Soins à domicile Éloïse" in text


def test_the_handout_is_saved_in_the_language_chosen(qtbot, page, tmp_path):
    page.open_guide("pemphigus")
    assert page.handout_language() == "en" and not page.language_note.isVisible()
    page.language.setCurrentIndex(page.language.findData("es"))
    assert page.language_note.isVisible() and "not yet reviewed" in page.language_note.text()
    target = tmp_path / "es.pdf"
    with qtbot.waitSignal(page.handout_saved, timeout=10000):
        page.save_handout_to(str(target))
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(str(target)).pages).split())
    assert "Pénfigo (vulgar y foliáceo)" in text and "Llame al 911 si" in text and "Call 911 if" not in text
    page.set_handout_language("es")  # a Spanish-speaking patient: Spanish is offered
    assert page.handout_language() == "es"
    page.set_handout_language("ko")  # a language without handouts: English
    assert page.handout_language() == "en"
    page.language.setCurrentIndex(page.language.findData("es+en"))
    both = tmp_path / "both.pdf"
    with qtbot.waitSignal(page.handout_saved, timeout=10000):
        page.save_handout_to(str(both))
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(str(both)).pages).split())
    assert text.index("Llame al 911 si") < text.index("Call 911 if")
