"""The main window: a sidebar of pages, menus with standard shortcuts, a status bar.

Pages are added with :meth:`MainWindow.add_page`; geometry and the last page are kept
in QSettings.  Later features (patients, visit) add pages here.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QHBoxLayout, QListWidget, QListWidgetItem, QMainWindow, QMessageBox,
                               QStackedWidget, QWidget)

from nurse_app import __version__
from nurse_app.ui.calculator_page import CalculatorPage


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings or QSettings()
        self.setWindowTitle("IVIG Nurse Companion")
        self.setObjectName("main_window")
        self.setMinimumSize(QSize(1000, 640))

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName("Pages")
        self.nav.setFixedWidth(170)
        self.nav.setSpacing(2)
        self.stack = QStackedWidget()
        self.nav.currentRowChanged.connect(self._show_row)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.pages: dict[str, QWidget] = {}
        self._go_menu = None
        self._build_menus()
        self.calculator = CalculatorPage()
        self.add_page("calculator", "Calculator", self.calculator)
        self._add_optional_pages()
        self.statusBar().showMessage("Offline: everything stays on this computer.")
        self._restore()

    # ------------------------------------------------------------------ pages
    def add_page(self, key: str, title: str, widget: QWidget) -> None:
        self.pages[key] = widget
        self.stack.addWidget(widget)
        item = QListWidgetItem(title)
        item.setData(Qt.UserRole, key)
        item.setSizeHint(QSize(150, 36))
        self.nav.addItem(item)
        index = self.nav.count()
        action = QAction(title, self)
        action.setShortcut(QKeySequence(f"Ctrl+{index}"))
        action.triggered.connect(lambda: self.show_page(key))
        self._go_menu.addAction(action)

    def _add_optional_pages(self) -> None:
        try:
            from nurse_app.ui.guides_page import GuidesPage
        except ImportError:
            return
        guides = GuidesPage()
        guides.open_calculator.connect(self.open_calculator_with_regimen)
        self.add_page("guides", "Guides", guides)

    def show_page(self, key: str) -> None:
        keys = list(self.pages)
        if key in keys:
            self.nav.setCurrentRow(keys.index(key))

    def current_page(self) -> str:
        return list(self.pages)[self.stack.currentIndex()]

    def _show_row(self, row: int) -> None:
        if row >= 0:
            self.stack.setCurrentIndex(row)

    def open_calculator_with_regimen(self, regimen_id: str) -> None:
        self.calculator.load_regimen(regimen_id)
        self.show_page("calculator")
        self.statusBar().showMessage(f"Calculator set to regimen {regimen_id}.", 5000)

    # ------------------------------------------------------------------ menus
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.setShortcutContext(Qt.ApplicationShortcut)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self._go_menu = self.menuBar().addMenu("&Go")
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _about(self) -> None:
        QMessageBox.about(self, "About IVIG Nurse Companion",
                          f"<b>IVIG Nurse Companion</b> {__version__}<br>Offline companion for home IVIG "
                          f"infusion nurses. The prescriber's order always wins: this app checks and converts.")

    # ------------------------------------------------------------------ settings
    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 760)
        self.show_page(str(self.settings.value("window/page", "calculator")))
        if self.nav.currentRow() < 0:
            self.nav.setCurrentRow(0)

    def closeEvent(self, event) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/page", self.current_page())
        self.settings.sync()
        super().closeEvent(event)
