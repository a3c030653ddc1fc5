"""The Guides page: instant search, the rendered guide, and the patient handout.

Typing searches as you go (the FTS5 index answers in about a millisecond; a
100 ms debounce only avoids redrawing the list on every keystroke).  Enter opens
the first result, Down moves into the list.  The guide is shown in a
QTextBrowser from HTML that markdown-it-py renders in core; ``guide:`` links open
another guide, ``regimen:`` links emit :attr:`GuidesPage.open_calculator`, and
citations jump to the sources at the end.

The handout PDF is made by reportlab off the GUI thread (the one job helper,
:mod:`nurse_app.ui.tasks`; a busy bar shows meanwhile), so the window never freezes.
"Print handout…" prints the same reportlab PDF (:func:`nurse_app.ui.printing.print_pdf`),
so the paper shows what "Save handout as PDF" writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path

import shiboken6
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QDesktopServices, QKeyEvent, QPalette, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core.errors import NurseAppError
from nurse_app.core.guides import Guide, guide_html, load_guides, section_anchor
from nurse_app.store.guide_index import ALIASES_LABEL, GuideIndex
from nurse_app.ui.tasks import run_job
from nurse_app.ui.widgets import fit_placeholder, is_dark

GUIDE_ID_ROLE = Qt.ItemDataRole.UserRole
SECTION_ROLE = Qt.ItemDataRole.UserRole + 1
HTML_ROLE = Qt.ItemDataRole.UserRole + 2
# Guide viewer (heading, link) colours: navy reads on a light palette but is under 2:1 contrast on
# a dark one, where light tints of the same blues are used.
_VIEWER_COLOURS = {False: ("#1f4e79", "#0b5cad"), True: ("#9cc3e6", "#7db8f0")}
SEARCH_DELAY_MS = 100


def _regimen_names() -> dict[str, str]:
    from nurse_app.core.catalogue import load_catalogue

    return {rid: regimen.name for rid, regimen in load_catalogue().regimens.items()}


def _language_choices() -> list[tuple[str, str]]:
    """(label, handout language spec) for every handout language, and each bilingual pairing."""
    from nurse_app.core.languages import ENGLISH, load_languages

    languages = load_languages()
    out = [("English", ENGLISH)]
    for code in sorted(languages.wording):
        if code == ENGLISH:
            continue
        language = languages.get(code)
        native = language.native if language else code
        out.append((f"{native} ({language.name if language else code})", code))
        out.append((f"{native} + English (bilingual)", f"{code}+{ENGLISH}"))
    return out


class _SearchBox(QLineEdit):
    """A line edit that reports the Down arrow (to move into the results)."""

    down_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            return
        super().keyPressEvent(event)


class _HitDelegate(QStyledItemDelegate):
    """Paints a result's rich text (title, section, snippet with the match in bold)."""

    def _document(self, option: QStyleOptionViewItem, index) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(4)
        doc.setHtml(index.data(HTML_ROLE) or escape(index.data() or ""))
        doc.setTextWidth(max(option.rect.width(), 120))
        return doc

    def paint(self, painter, option, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        doc = self._document(opt, index)
        context = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        context.palette.setColor(QPalette.ColorRole.Text, opt.palette.color(role))
        painter.save()
        painter.translate(opt.rect.topLeft())
        painter.setClipRect(0, 0, opt.rect.width(), opt.rect.height())
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        doc = self._document(opt, index)
        return QSize(int(doc.idealWidth()), int(doc.size().height()) + 2)


class GuidesPage(QWidget):
    """Search the condition guides, read one, save or print its patient handout."""

    open_calculator = Signal(str)  # regimen id, from a regimen: link
    guide_opened = Signal(str)  # guide id
    handout_saved = Signal(str)  # path of the PDF written
    handout_failed = Signal(str)  # message for the nurse

    def __init__(
        self,
        parent: QWidget | None = None,
        settings_contact: dict | None = None,
        guides_folder: Path | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("GuidesPage")
        self.load_error = None
        try:
            self.guides = load_guides(guides_folder)
            self.index = GuideIndex(self.guides)
        except NurseAppError as exc:  # a broken content file: say so here, keep the app running
            self.load_error = str(exc)
            self.guides = {}
            self.index = GuideIndex({})
        self.contact = dict(settings_contact or {})
        self.current: Guide | None = None
        self._titles = {gid: g.title for gid, g in self.guides.items()}
        try:
            self._regimen_names = _regimen_names()
        except NurseAppError:
            self._regimen_names = {}
        self._jobs: set[object] = set()  # the handout being written (one at a time)
        self._build()
        self.show_results("")
        if self.load_error:
            self.search_box.setEnabled(False)
            self.viewer.setPlainText(f"The condition guides could not be loaded.\n\n{self.load_error}")

    def set_contact(self, contact: Mapping[str, str] | None) -> None:
        """New agency/nurse details from settings, used by the next handout."""
        self.contact = dict(contact or {})

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.search_box = _SearchBox()
        self.search_box.setPlaceholderText("Search conditions, symptoms, side effects… (e.g. DM, blisters)")
        fit_placeholder(self.search_box)
        self.search_box.setAccessibleName("Search guides")
        self.search_box.setAccessibleDescription(
            "Results update as you type. Enter opens the first result; Down arrow moves to the results."
        )
        self.search_box.setClearButtonEnabled(True)

        self.results = QListWidget()
        self.results.setAccessibleName("Search results")
        self.results.setItemDelegate(_HitDelegate(self.results))
        self.results.setWordWrap(True)
        self.results.setUniformItemSizes(False)
        self.results.setResizeMode(QListWidget.ResizeMode.Adjust)  # re-wrap snippets on resize
        self.results.setMinimumWidth(260)

        self.viewer = QTextBrowser()
        self.viewer.setAccessibleName("Guide")
        self.viewer.setOpenLinks(False)
        self._style_viewer()
        self.viewer.setPlaceholderText("Choose a guide on the left.")

        # Mnemonics: Tab walks every citation link of the guide before it reaches these buttons.
        self.save_button = QPushButton("&Save handout as PDF…")
        self.save_button.setAccessibleName("Save patient handout as PDF")
        self.print_button = QPushButton("&Print handout…")
        self.print_button.setAccessibleName("Print patient handout")
        self.language = QComboBox()
        self.language.setObjectName("handout_language")
        self.language.setAccessibleName("Handout language")
        for label, spec in _language_choices():
            self.language.addItem(label, spec)
        self.language_label = QLabel("Handout &language")
        self.language_label.setBuddy(self.language)
        self.language_note = QLabel()
        self.language_note.setObjectName("handout_language_note")
        self.language_note.setWordWrap(True)
        self.language.currentIndexChanged.connect(lambda _i: self._show_language_note())
        self.language_note.hide()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setAccessibleName("Creating handout")
        self.busy.hide()
        self.status = QLabel()
        self.status.setAccessibleName("Handout status")
        self.status.setWordWrap(True)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search_box)
        left_layout.addWidget(self.results)

        buttons = QHBoxLayout()
        buttons.addWidget(self.language_label)
        buttons.addWidget(self.language)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.busy)
        buttons.addWidget(self.status, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.viewer)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.language_note)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([320, 880])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search_now)
        self.search_box.textChanged.connect(lambda _text: self._timer.start())
        self.search_box.returnPressed.connect(self.open_first_result)
        self.search_box.down_pressed.connect(self._enter_results)
        self.results.currentItemChanged.connect(self._on_current_changed)
        self.results.itemActivated.connect(self._on_current_changed)
        self.viewer.anchorClicked.connect(self._on_link)
        self.save_button.clicked.connect(self.save_handout)
        self.print_button.clicked.connect(self.print_handout)
        self._update_buttons()

    # ------------------------------------------------------------------ search
    def _search_now(self) -> None:
        self.show_results(self.search_box.text())

    def show_results(self, query: str) -> None:
        """Fill the list for ``query`` (all guides, alphabetically, when blank)."""
        self.results.blockSignals(True)
        self.results.clear()
        if query.strip():
            entries = [
                (
                    h.guide_id,
                    h.section,
                    h.title,
                    f"<b>{escape(h.title)}</b><br/><i>{escape(h.section)}:</i> {h.snippet_html()}",
                    f"{h.title}. {h.section}: {h.snippet_plain()}",
                )
                for h in self.index.search(query)
            ]
        else:
            entries = [
                (
                    g.id,
                    None,
                    g.title,
                    f"<b>{escape(g.title)}</b>"
                    + (
                        f"<br/><i>{ALIASES_LABEL}:</i> {escape(', '.join(g.aliases[:3]))}"
                        if g.aliases
                        else ""
                    ),
                    g.title,
                )
                for g in sorted(self.guides.values(), key=lambda g: g.title.lower())
            ]
        for guide_id, section, _title, html, plain in entries:
            item = QListWidgetItem(plain)
            item.setData(GUIDE_ID_ROLE, guide_id)
            item.setData(SECTION_ROLE, section)
            item.setData(HTML_ROLE, html)
            item.setToolTip(plain)
            self.results.addItem(item)
        if not entries:
            item = QListWidgetItem(
                f"No guide matches “{query.strip()}”." if query.strip() else "No guides available."
            )
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.results.addItem(item)
        self.results.blockSignals(False)

    def _first_hit(self) -> QListWidgetItem | None:
        item = self.results.item(0)
        return item if item is not None and item.data(GUIDE_ID_ROLE) else None

    def open_first_result(self) -> None:
        self._timer.stop()
        self._search_now()
        item = self._first_hit()
        if item is not None:
            self.results.setCurrentItem(item)  # opens it through currentItemChanged

    def _enter_results(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self._search_now()
        item = self._first_hit()
        if item is not None:
            self.results.setFocus(Qt.FocusReason.TabFocusReason)
            self.results.setCurrentItem(item)

    def _on_current_changed(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None and item.data(GUIDE_ID_ROLE):
            self.open_guide(item.data(GUIDE_ID_ROLE), item.data(SECTION_ROLE))

    # ------------------------------------------------------------------ viewer
    def open_guide(self, guide_id: str, section: str | None = None) -> None:
        guide = self.guides.get(guide_id)
        if guide is None:
            self.status.setText(f"No guide called “{guide_id}”.")
            return
        self.current = guide
        self.viewer.setHtml(self._guide_html(guide))
        if section and section in {s.title for s in guide.sections}:
            self.viewer.scrollToAnchor(section_anchor(section))
        else:
            self.viewer.verticalScrollBar().setValue(0)
        self.status.clear()
        self._update_buttons()
        self.guide_opened.emit(guide_id)

    def _guide_html(self, guide: Guide) -> str:
        return guide_html(guide, guide_titles=self._titles, regimen_names=self._regimen_names)

    def _style_viewer(self) -> None:
        """Heading and link colours for the current palette (light or dark system theme)."""
        heading, link = _VIEWER_COLOURS[is_dark(self.palette())]
        css = (
            f"h1 {{ color: {heading}; }} h2 {{ color: {heading}; margin-top: 14px; }} a {{ color: {link}; }}"
        )
        document = self.viewer.document()
        if css == document.defaultStyleSheet():
            return
        document.setDefaultStyleSheet(css)
        if self.current is not None:  # a default style sheet applies only to HTML set after it
            scroll = self.viewer.verticalScrollBar().value()
            self.viewer.setHtml(self._guide_html(self.current))
            self.viewer.verticalScrollBar().setValue(scroll)

    def changeEvent(self, event) -> None:
        """The system switched between light and dark: recolour the open guide."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "viewer"):
            self._style_viewer()

    def _on_link(self, url: QUrl) -> None:
        scheme = url.scheme()
        if scheme == "guide":
            self.open_guide(url.path())
        elif scheme == "regimen":
            self.open_calculator.emit(url.path())
        elif not scheme and url.hasFragment():
            self.viewer.scrollToAnchor(url.fragment())
        elif scheme in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)

    # ------------------------------------------------------------------ handout
    def _update_buttons(self) -> None:
        idle = not self._jobs
        self.save_button.setEnabled(self.current is not None and idle)
        self.print_button.setEnabled(self.current is not None)

    # ------------------------------------------------------------------ handout language
    def set_handout_language(self, preferred: str | None) -> None:
        """Offer the handout in ``preferred`` (a patient's language) when it has handouts, else English."""
        from nurse_app.core.languages import handout_languages

        spec = "+".join(handout_languages(preferred))
        index = self.language.findData(spec)
        self.language.setCurrentIndex(max(index, 0))

    def handout_language(self) -> str:
        return str(self.language.currentData() or "en")

    def _show_language_note(self) -> None:
        from nurse_app.core.languages import TRANSLATION_NOT_REVIEWED

        translated = self.handout_language() != "en"
        self.language_note.setText(
            f"The Spanish handout is a {TRANSLATION_NOT_REVIEWED}: your agency approves it with the "
            "clinical content (File ▸ Clinical content…)."
            if translated
            else ""
        )
        self.language_note.setVisible(translated)

    def _handout_parts(self) -> tuple[Guide, Guide | None]:
        """The current guide in the chosen language(s): (first, then) for a bilingual copy."""
        from nurse_app.core.guides import handout_guide
        from nurse_app.core.languages import parse_handout_languages

        assert self.current is not None
        langs = parse_handout_languages(self.handout_language())
        parts = [handout_guide(self.current.id, lang) for lang in langs]
        return parts[0], parts[1] if len(parts) > 1 else None

    def save_handout(self) -> None:
        if self.current is None:
            return
        from nurse_app.ui.file_dialogs import remember_folder, start_path

        path, _filter = QFileDialog.getSaveFileName(
            self,
            "Save patient handout",
            start_path(self, "handout", f"{self.current.id}-handout-{self.handout_language()}.pdf"),
            "PDF files (*.pdf)",
        )
        if path:
            remember_folder(self, "handout", path)
            if not path.lower().endswith(".pdf"):
                path += ".pdf"
            self.save_handout_to(path)

    def save_handout_to(self, path: str) -> None:
        """Write the current guide's handout to ``path`` on a worker thread."""
        if self.current is None or self._jobs:
            return
        try:
            guide, then = self._handout_parts()
        except NurseAppError as exc:
            self.status.setText(str(exc))
            return
        contact = dict(self.contact)

        def work(_progress) -> int:
            from nurse_app.reports.handout import write_handout_pdf  # reportlab: loaded on first print

            return write_handout_pdf(guide, path, contact, then=then)

        token = object()  # this handout, until it reports
        self._jobs.add(token)
        self.busy.show()
        self.status.setText("Creating the handout…")
        self._update_buttons()
        # The one job helper keeps the job until it reports; the callbacks run on the GUI thread.
        run_job(
            work,
            failure="Could not create the handout",
            on_done=lambda pages: self._job_done(token, path, pages),
            on_failed=lambda message: self._job_failed(token, message),
        )

    def _job_finished(self, token: object) -> bool:
        """Forget the handout job; False when the page itself is gone (closed meanwhile)."""
        self._jobs.discard(token)
        if not shiboken6.isValid(self):
            return False
        self.busy.hide()
        self._update_buttons()
        return True

    def _job_done(self, token: object, path: str, pages: int) -> None:
        if not self._job_finished(token):
            return
        self.status.setText(f"Saved {path} ({pages} page{'s' if pages != 1 else ''}).")
        self.handout_saved.emit(path)

    def _job_failed(self, token: object, message: str) -> None:
        if not self._job_finished(token):
            return
        self.status.setText(message)
        self.handout_failed.emit(message)
        if self.isVisible():
            QMessageBox.warning(self, "Handout not saved", message)

    def print_handout(self) -> None:
        if self.current is None:
            return
        from nurse_app.ui.printing import locale_page_size

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if not printer.printerName():  # no configured printer: the locale's paper
            printer.setPageSize(locale_page_size())
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Print patient handout")
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            self.print_handout_to(printer)

    def print_handout_to(self, printer: QPrinter) -> None:
        """Print the current guide's handout: the same reportlab PDF as "Save handout as PDF"
        (one layout), on the printer's paper."""
        if self.current is None:
            return
        from nurse_app.reports.handout import handout_pdf_bytes
        from nurse_app.ui.printing import print_pdf, reportlab_page_size

        guide, then = self._handout_parts()
        data, _pages = handout_pdf_bytes(
            guide, self.contact, pagesize=reportlab_page_size(printer.pageLayout().pageSize()), then=then
        )
        print_pdf(data, printer)
        self.status.setText("Handout sent to the printer.")
