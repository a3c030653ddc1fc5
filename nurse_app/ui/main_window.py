"""The main window: a sidebar of pages, menus with standard shortcuts, a status bar.

Pages are added with :meth:`MainWindow.add_page`; geometry (per screen) and the last page
are kept in QSettings; the first start on a screen opens maximised.  Later features (patients, visit) add pages here.

Pages are built the first time they are shown (or used: ``window.calculator``,
``window.guides``, ``window.patients``, ``window.visit_page`` build theirs on first
access), so start-up builds only the page the window opens on; the Guides page, which
parses every guide and indexes them, costs nothing until the nurse opens it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nurse_app import __version__
from nurse_app.ui.timers import call_soon


class MainWindow(QMainWindow):
    """``store`` None: only the calculator and guides (self-test, no record file)."""

    def __init__(
        self,
        store=None,
        settings: QSettings | None = None,
        parent=None,
        unlock_failures: list[float] | None = None,
    ):
        super().__init__(parent)
        self.store = store
        self.settings = settings or QSettings()
        self.setWindowTitle("IVIG Nurse Companion")
        from nurse_app.ui.assets import app_icon

        self.setWindowIcon(app_icon())
        self.setObjectName("main_window")
        self.setMinimumSize(QSize(1000, 640))
        self.first_start = True
        from nurse_app.ui.keyboard import install_alt_letter_guard

        install_alt_letter_guard()  # Alt+letter never types into a field
        from nurse_app.ui import none_guard

        none_guard.install()  # the clocks below make void calls every second (see none_guard)

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName("Pages")
        self.nav.setFixedWidth(170)
        self.nav.setSpacing(2)
        self.stack = QStackedWidget()
        self.nav.currentRowChanged.connect(self._show_row)
        # Vital signs due: a strip over every page and tab (and "!" in the title), not only
        # a banner inside the Infusion tab.
        self.due_strip = QLabel()
        self.due_strip.setObjectName("vitals_due_strip")
        self.due_strip.setWordWrap(True)
        self.due_strip.setStyleSheet("background: #b35900; color: white; padding: 6px; font-weight: bold;")
        self.due_strip.setTextFormat(Qt.RichText)
        self.due_strip.linkActivated.connect(lambda _link: self.go_to_vitals())
        self.due_strip.hide()
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.due_strip)
        layout = QHBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addLayout(self._with_content_banner(self.stack), 1)
        outer.addLayout(layout, 1)
        self.setCentralWidget(central)
        self._title = "IVIG Nurse Companion"

        self.pages: dict[str, QWidget] = {}
        self._factories: dict[str, Callable[[], QWidget]] = {}
        self._go_menu = None
        self._build_menus()
        if store is not None:
            self._add_record_pages()
        self.add_page("calculator", "Calculator", self._make_calculator)
        self._add_optional_pages()
        where = f"Record: {store.path}" if store is not None else "No record file open"
        self.statusBar().showMessage(f"Offline: everything stays on this computer. {where}")
        self.refresh_content_banner()
        self._restore()
        self.locker = None
        self.record_processes: list = []  # windows of other records started from here
        if store is not None:
            from nurse_app.ui.lock import LockController

            self.locker = LockController(self, start_failures=unlock_failures)
        self.due_clock = QTimer(self, interval=1000)
        self.due_clock.timeout.connect(self.update_due)
        self.due_clock.start()
        self.update_due()

    def update_due(self) -> None:
        """Show when vital signs are due, whatever page or tab is showing."""
        tab = getattr(self.visit_page, "infusion_tab", None) if self.is_built("visit") else None
        message, since = (None, None)
        if tab is not None and self.visit_page.visit_id is not None:
            try:
                message, since = tab.due_message()
            except Exception:  # noqa: BLE001 - a closing record: no strip rather than an error every second
                message = None
        if message:
            from html import escape

            who = getattr(self.visit_page, "patient_name", "") or ""
            text = f"Vital signs due since {since.astimezone().strftime('%H:%M')}" + (
                f" for {who}" if who else ""
            )
            self.due_strip.setText(
                f'{escape(text)}: {escape(message)} <a href="vitals" style="color: white;">Record them…</a>'
            )
        self.due_strip.setVisible(bool(message))
        locker = getattr(self, "locker", None)
        locked = locker is not None and locker.locked
        from nurse_app.ui.lock import LOCKED_TITLE

        self.setWindowTitle(("! " if message else "") + (LOCKED_TITLE if locked else self._title))

    def go_to_vitals(self) -> None:
        """The strip's link: the open visit's Infusion tab, the cursor in Temp."""
        if not self.is_built("visit") or self.visit_page.visit_id is None:
            return
        self.show_page("visit")
        self.visit_page.tabs.setCurrentWidget(self.visit_page.infusion_tab)
        self.visit_page.infusion_tab.focus_first_field()

    # ------------------------------------------------------------------ pages
    def add_page(self, key: str, title: str, widget: QWidget | Callable[[], QWidget]) -> None:
        """Add a page: a widget, or a function that builds it when the page is first shown."""
        if not isinstance(widget, QWidget):
            self._factories[key] = widget
            widget = QWidget()  # placeholder until first shown
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

    def page(self, key: str) -> QWidget:
        """The page ``key``, built now if it has not been shown yet."""
        factory = self._factories.pop(key, None)
        if factory is not None:
            placeholder = self.pages[key]
            widget = factory()
            self.pages[key] = widget
            current = self.stack.currentWidget()
            self.stack.insertWidget(self.stack.indexOf(placeholder), widget)
            if current is placeholder:
                self.stack.setCurrentWidget(widget)
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
        return self.pages[key]

    def is_built(self, key: str) -> bool:
        return key in self.pages and key not in self._factories

    calculator = property(lambda self: self.page("calculator"))
    patients = property(lambda self: self.page("patients"))
    visit_page = property(lambda self: self.page("visit"))
    guides = property(lambda self: self.page("guides"))

    def _make_calculator(self) -> QWidget:
        from nurse_app.ui.calculator_page import CalculatorPage

        return CalculatorPage()

    def _add_record_pages(self) -> None:
        self.add_page("week", "Week", self._make_week)
        self.add_page("patients", "Patients", self._make_patients)
        self.add_page("visit", "Visit", self._make_visit)
        # The sidebar's late count, also when the window opens on another page.
        call_soon(self, self._count_late_if_not_built)

    week = property(lambda self: self.page("week"))

    def _make_week(self) -> QWidget:
        from nurse_app.ui.week_page import WeekPage

        week = WeekPage(self.store)
        week.start_visit_requested.connect(self.start_visit)
        week.open_visit_requested.connect(self.open_visit)
        week.late_count_changed.connect(self._show_late_count)
        week.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._show_late_count(week.schedule.late_count if week.schedule else 0)
        return week

    def _count_late_if_not_built(self) -> None:
        if self.store is None or self.is_built("week"):
            return
        from nurse_app.core.errors import NurseAppError
        from nurse_app.services.schedule import build_schedule

        with contextlib.suppress(NurseAppError):  # the count is a hint; the Week page shows the error
            self._show_late_count(build_schedule(self.store, with_doses=False).late_count)

    def _show_late_count(self, count: int) -> None:
        """The Week entry of the sidebar says how many items are late or missed."""
        item = self.nav.item(0)
        if item is None or item.data(Qt.UserRole) != "week":
            return
        item.setText(f"Week ({count} late)" if count else "Week")
        item.setToolTip(f"{count} visits, calls or reviews late or missed" if count else "")

    def _make_patients(self) -> QWidget:
        from nurse_app.ui.patients_page import PatientsPage

        patients = PatientsPage(self.store)
        patients.start_visit_requested.connect(self.start_visit)
        patients.open_visit_requested.connect(self.open_visit)
        patients.load_demo_requested.connect(self.load_demo_data)
        patients.status_message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        return patients

    def _make_visit(self) -> QWidget:
        from nurse_app.ui.visit import VisitPage

        visit_page = VisitPage(self.store)
        visit_page.visit_opened.connect(lambda vid: self.settings.setValue(self._visit_key(), vid))
        visit_page.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        visit_page.record_changed.connect(self._visit_changed)
        return visit_page

    def start_visit(self, patient_id: int) -> None:
        from nurse_app.core.errors import NurseAppError

        try:
            if self.visit_page.start_for_patient(patient_id) is None:
                return  # cancelled: a start warning or a same-day reason
        except NurseAppError as exc:
            QMessageBox.warning(self, "Cannot start the visit", str(exc))
            return
        self.show_page("visit")
        visit = self.visit_page.ctx.visit
        if self.visit_page.reopened:
            self.statusBar().showMessage(
                f"Today's visit reopened: day {visit['course_day']} of {visit['course_days']}.", 8000
            )
            return
        self.statusBar().showMessage(
            f"Visit started: day {visit['course_day']} of {visit['course_days']}. Type today's weight first.",
            8000,
        )
        self.visit_page.focus_first_step()

    def open_visit(self, visit_id: int) -> None:
        from nurse_app.core.errors import NurseAppError

        try:
            self.visit_page.open_visit(visit_id)
        except NurseAppError as exc:
            QMessageBox.warning(self, "Cannot open the visit", str(exc))
            return
        self.show_page("visit")

    def load_demo_data(self) -> None:
        from nurse_app.store import Store
        from nurse_app.store.demo import generate
        from nurse_app.ui.tasks import run_in_background

        path = self.store.path

        def work(progress):
            with Store.open(path) as other:
                return generate(other, patients=25, seed=1, progress=progress, week_examples=True)

        def done(_summary):
            if self.is_built("patients"):
                self.patients.refresh()
            if self.is_built("week"):
                self.week.refresh()
            else:
                self._count_late_if_not_built()
            self.show_page("patients")
            self.statusBar().showMessage("Demo patients loaded.", 5000)

        run_in_background(self, "Load demo data", "Creating demo patients, orders and visits…", work, done)

    # ------------------------------------------------------------------ other records
    def _launch_record(self, path: Path, *, demo: bool = False) -> None:
        from nurse_app.ui import record_windows

        try:
            process = record_windows.launch(path, demo=demo)
        except OSError as exc:
            QMessageBox.warning(
                self, "Cannot open the record", f"The app could not start a new window ({exc})."
            )
            return
        self.record_processes.append(process)
        self.statusBar().showMessage(
            f"{path.name} opens in a new window: type its passphrase there. This window keeps {self.store.path.name}.",
            10000,
        )

    def open_other_record(self) -> None:
        """File ▸ Open record…: another record file, in its own window with its own passphrase."""
        from PySide6.QtWidgets import QFileDialog

        chosen, _ = QFileDialog.getOpenFileName(
            self,
            "Open another record (it opens in a new window and asks for its own passphrase)",
            str(Path(self.store.path).parent),
            "Records (*.db)",
        )
        if not chosen:
            return
        path = Path(chosen).absolute()
        if path == Path(self.store.path).absolute():
            self.statusBar().showMessage("That record is the one open in this window.", 8000)
            return
        self._launch_record(path)

    def new_record(self) -> None:
        """File ▸ New record…: a new, empty record file; its window has the nurse choose its passphrase."""
        from PySide6.QtWidgets import QFileDialog

        chosen, _ = QFileDialog.getSaveFileName(
            self,
            "New record (it opens in a new window, where you choose its passphrase)",
            str(Path(self.store.path).parent / "nurse-app-new.db"),
            "Records (*.db)",
        )
        if not chosen:
            return
        path = Path(chosen if chosen.endswith(".db") else f"{chosen}.db").absolute()
        if path.exists() and path.stat().st_size:
            QMessageBox.warning(
                self,
                "Not a new record",
                f"{path.name} already exists. A new record is a new file: choose another name, or use "
                f"Open record… to open that one.",
            )
            return
        self._launch_record(path)

    def try_demo_data(self) -> None:
        """File ▸ Try demo data…: into this record while it is empty; otherwise into a separate
        demo record, opened side by side in its own window (nothing mixed with real patients)."""
        from nurse_app.ui import record_windows

        if not self.store.find_patients(""):
            self.load_demo_data()
            return
        self._launch_record(record_windows.demo_record_path(Path(self.store.path)), demo=True)

    def back_up(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from nurse_app.store import backup_now
        from nurse_app.ui.file_dialogs import HEALTH_INFORMATION, remember_folder, start_path
        from nurse_app.ui.tasks import run_in_background

        target, _ = QFileDialog.getSaveFileName(
            self,
            f"Back up the record to (a backup {HEALTH_INFORMATION})",
            start_path(self, "backup", "nurse-app-backup.db"),
            "Record backups (*.db)",
        )
        if not target:
            return
        remember_folder(self, "backup", target)
        path = self.store.path
        run_in_background(
            self,
            "Back up",
            "Copying the record…",
            lambda _p: backup_now(path, target),
            lambda _r: self.statusBar().showMessage(f"Backed up to {target}.", 8000),
        )

    def _with_content_banner(self, widget: QWidget):
        """A quiet line above the pages while the clinical content lacks the agency's approval."""
        from PySide6.QtWidgets import QLabel, QVBoxLayout

        box = QVBoxLayout()
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        self.content_banner = QLabel()
        self.content_banner.setObjectName("content_banner")
        self.content_banner.setStyleSheet(
            "padding: 4px 10px; color: palette(window-text); background: palette(alternate-base);"
        )
        self.content_banner.setTextFormat(Qt.RichText)
        self.content_banner.linkActivated.connect(lambda _link: self.review_content())
        self.content_banner.hide()
        box.addWidget(self.content_banner)
        box.addWidget(widget, 1)
        return box

    def refresh_content_banner(self) -> None:
        if self.store is None:
            return
        from nurse_app.ui.content_dialog import approval_state

        try:
            approved, text = approval_state(self.store)
        except Exception as exc:  # noqa: BLE001 - a banner must never stop the window opening
            approved, text = False, f"Clinical content could not be checked ({exc})"
        self.content_banner.setText(f'{text}. <a href="review">Review…</a>' if text else "")
        self.content_banner.setAccessibleName(text)
        self.content_banner.setVisible(not approved)

    def review_content(self) -> None:
        from nurse_app.ui.content_dialog import ContentDialog

        try:
            dialog = ContentDialog(self.store, self)
        except Exception as exc:  # noqa: BLE001 - shown, never a traceback
            QMessageBox.warning(self, "Clinical content", str(exc))
            return
        dialog.approved.connect(
            lambda version: self.statusBar().showMessage(
                f"Approval of clinical content version {version} recorded.", 8000
            )
        )
        dialog.exec()
        self.refresh_content_banner()

    def edit_profile(self) -> None:
        from nurse_app.services.agency import handout_contact
        from nurse_app.ui.profile_dialog import NurseProfileDialog

        if not NurseProfileDialog(self.store, self).exec():
            return
        if self.is_built("patients"):
            self.patients.refresh()  # the empty page no longer asks for the profile
        if self.is_built("guides"):
            self.guides.set_contact(handout_contact(self.store))

    def edit_security(self) -> None:
        from nurse_app.ui.lock import SecurityDialog

        SecurityDialog(self.locker, self).exec()

    def _add_optional_pages(self) -> None:
        self.add_page("guides", "Guides", self._make_guides)

    def _make_guides(self) -> QWidget:
        from nurse_app.ui.guides_page import GuidesPage

        contact = None
        if self.store is not None:
            from nurse_app.services.agency import handout_contact

            contact = handout_contact(self.store)
        guides = GuidesPage(settings_contact=contact)
        guides.open_calculator.connect(self.open_calculator_with_regimen)
        return guides

    def show_page(self, key: str) -> None:
        keys = list(self.pages)
        if key in keys:
            self.nav.setCurrentRow(keys.index(key))

    def current_page(self) -> str:
        return list(self.pages)[self.stack.currentIndex()]

    def _show_row(self, row: int) -> None:
        if row >= 0:
            key = list(self.pages)[row]
            built = self.is_built(key)
            self.page(key)
            self.stack.setCurrentIndex(row)
            if key == "week" and built:
                self.week.refresh()  # visits signed and calls made since count now
            if key == "patients" and getattr(self, "_patients_stale", False):
                self._refresh_patients()

    def _visit_changed(self) -> None:
        """A visit saved something: the Patients page rereads the record when it is next shown
        (now, if it is showing), so its visits, course days and weights are never stale."""
        self._patients_stale = True
        if self.is_built("patients") and self.stack.currentWidget() is self.pages["patients"]:
            self._refresh_patients()

    def _refresh_patients(self) -> None:
        self._patients_stale = False
        if self.is_built("patients"):
            self.patients.refresh(self.patients.current_patient_id())

    def open_calculator_with_regimen(self, regimen_id: str) -> None:
        self.calculator.load_regimen(regimen_id)
        self.show_page("calculator")
        self.statusBar().showMessage(f"Calculator set to regimen {regimen_id}.", 5000)

    # ------------------------------------------------------------------ menus
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        if self.store is not None:
            for text, shortcut, slot in (
                ("&New patient…", "Ctrl+N", lambda: self._on_patients("new_patient")),
                ("&Open record…", None, self.open_other_record),
                ("New reco&rd…", None, self.new_record),
                ("Try &demo data…", None, self.try_demo_data),
                ("&Back up now…", None, self.back_up),
                ("Nurse profile and a&gency…", None, self.edit_profile),
                ("C&linical content…", None, self.review_content),
                ("Loc&k now", "Ctrl+L", lambda: self.locker.request_lock()),
                ("Securit&y and passphrase…", None, self.edit_security),
            ):
                action = QAction(text, self)
                if shortcut:
                    action.setShortcut(QKeySequence(shortcut))
                action.triggered.connect(slot)
                file_menu.addAction(action)
            file_menu.addSeparator()
        print_action = QAction("&Print…", self)
        print_action.setShortcut(QKeySequence("Ctrl+P"))
        print_action.triggered.connect(self.print_current)
        file_menu.addAction(print_action)
        for text, keys, kind in (
            ("&Save visit summary as PDF…", "Ctrl+Shift+S", "pdf"),
            ("&Export visit for the agency (FHIR)…", "Ctrl+E", "fhir"),
        ):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _=False, kind=kind: self.export_visit(kind))
            file_menu.addAction(action)
        find_action = QAction("&Find", self)
        find_action.setShortcut(QKeySequence("Ctrl+F"))
        find_action.triggered.connect(self.find_current)
        file_menu.addAction(find_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.setShortcutContext(Qt.ApplicationShortcut)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self._go_menu = self.menuBar().addMenu("&Go")
        help_menu = self.menuBar().addMenu("&Help")
        guide = QAction("&User guide", self)
        guide.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        guide.triggered.connect(self.show_user_guide)
        help_menu.addAction(guide)
        about = QAction("&About", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _on_patients(self, method: str) -> None:
        self.show_page("patients")
        getattr(self.patients, method)()

    def print_current(self) -> None:
        page = self.pages.get(self.current_page())
        if self.current_page() == "visit" and self.visit_page.visit_id is not None:
            self.visit_page.export("print")
        elif hasattr(page, "print_handout"):
            page.print_handout()

    def export_visit(self, kind: str) -> None:
        """File menu: save or export the open visit (the same as the buttons in its header)."""
        if self.visit_page.visit_id is None:
            self.statusBar().showMessage(
                "Open a visit first: select a patient, then Start or Resume visit.", 8000
            )
            return
        self.show_page("visit")
        self.visit_page.export(kind)

    def find_current(self) -> None:
        page = self.pages.get(self.current_page())
        if hasattr(page, "search_box"):
            page.search_box.setFocus()
            page.search_box.selectAll()
            return
        for name in ("focus_search", "focus_filter"):
            if hasattr(page, name):
                getattr(page, name)()
                return
        if "patients" in self.pages:
            self.show_page("patients")
            self.patients.focus_search()

    def show_user_guide(self) -> None:
        from nurse_app.ui.user_guide import UserGuideDialog

        UserGuideDialog(self).exec()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About IVIG Nurse Companion",
            f"<b>IVIG Nurse Companion</b> {__version__}<br>Offline companion for home IVIG "
            f"infusion nurses. The prescriber's order always wins: this app checks and converts.",
        )

    # ------------------------------------------------------------------ settings
    def _geometry_key(self) -> str:
        """``window/geometry/<screen name>-<width>x<height>``: each screen (laptop panel, big
        monitor at the office) keeps the window where the nurse last put it on that screen."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        size = screen.size()
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", screen.name() or "screen")
        return f"window/geometry/{name}-{size.width()}x{size.height()}"

    def _restore_geometry(self) -> None:
        """The geometry saved for this screen; on first start the window fills the available
        screen (and :meth:`show_window` shows it maximised)."""
        geometry = self.settings.value(self._geometry_key())
        if isinstance(geometry, QByteArray) and not geometry.isEmpty() and self.restoreGeometry(geometry):
            self.first_start = False
            return
        self.first_start = True
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        self.setGeometry(
            available.x(),
            available.y(),
            max(available.width(), self.minimumWidth()),
            max(available.height(), self.minimumHeight()),
        )

    def show_window(self) -> None:
        """Show as the nurse left it on this screen; the first time on a screen, maximised."""
        if self.first_start:
            self.showMaximized()
        else:
            self.show()

    def _restore(self) -> None:
        self._restore_geometry()
        self._reopened_infusion = False
        if self.store is not None:
            self._reopen_visit()
        page = "visit" if self._reopened_infusion else self.settings.value("window/page")
        self.show_page(str(page or ("week" if self.store else "calculator")))
        if self.nav.currentRow() < 0:
            self.nav.setCurrentRow(0)

    def _visit_key(self) -> str:
        """The open visit is remembered per record file (a visit id means nothing in another)."""
        import hashlib

        digest = hashlib.sha256(str(Path(self.store.path).resolve()).encode("utf-8")).hexdigest()[:16]
        return f"visit/current/{digest}"

    def _reopen_visit(self) -> None:
        """A restart opens the visit that needs the nurse (an infusion in progress, else today's
        unsigned draft: services.visits.visit_needing_nurse); otherwise the visit last open in
        this record file, unless it was voided since."""
        from nurse_app.core.errors import NurseAppError
        from nurse_app.services import visits

        key = self._visit_key()
        try:
            visit_id = visits.visit_needing_nurse(self.store)
        except NurseAppError:
            visit_id = None
        if visit_id is None:
            visit_id = self.settings.value(key)
        if visit_id is None:
            return
        try:
            if self.store.get_visit(int(visit_id))["status"] == visits.VOIDED:
                self.settings.remove(key)
                return
            self.visit_page.open_visit(int(visit_id))
        except (NurseAppError, ValueError, TypeError):
            self.settings.remove(key)
            self.visit_page.close_visit()
            return
        if self.visit_page.infusion_running():
            self.visit_page.tabs.setCurrentWidget(self.visit_page.infusion_tab)
            self._reopened_infusion = True

    def report_unexpected_close(self, previous) -> None:
        """The last run ended without its clean exit (ui.run_marker): say so once the window
        shows, on the visit that needs the nurse."""
        from nurse_app.ui import run_marker

        if (
            self.visit_page.visit_id is not None
            and self.store.get_visit(self.visit_page.visit_id)["status"] == "draft"
        ):
            self.show_page("visit")
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Closed unexpectedly", run_marker.notice(previous), parent=self
        )
        box.setObjectName("unexpected_close")
        call_soon(self, box.exec)

    def infusion_running(self) -> bool:
        """An infusion is running on the open visit (False when the record can no longer say)."""
        from nurse_app.core.errors import NurseAppError

        tab = getattr(self.visit_page, "infusion_tab", None) if self.is_built("visit") else None
        try:
            return bool(tab is not None and self.visit_page.visit_id is not None and tab.running())
        except NurseAppError:  # the record was closed under the window: nothing to ask about
            return False

    def closeEvent(self, event) -> None:
        if self.store is not None and self.infusion_running():
            answer = QMessageBox.question(
                self,
                "An infusion is running",
                "An infusion is running on the open visit. Quit anyway?\n\nEverything recorded is saved, and "
                "the infusion clock is worked out from the recorded events, so it carries on when you reopen "
                "the record.",
                QMessageBox.Yes | QMessageBox.No,
                QMessageBox.No,
            )
            if answer != QMessageBox.Yes:
                event.ignore()
                return
        self.due_clock.stop()
        if self.is_built("visit"):
            self.visit_page.shutdown()
        if self.locker is not None:
            self.locker.shutdown()
        self.settings.setValue(self._geometry_key(), self.saveGeometry())
        self.settings.setValue("window/page", self.current_page())
        self.settings.sync()
        super().closeEvent(event)
