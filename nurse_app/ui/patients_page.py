"""The Patients page: find a patient, see what matters before a visit, start the visit.

Left: a live filter (name or MRN, ignoring case and accents: the store folds both)
over a sortable list.  Right: the selected patient with allergies first and loud, the
active IVIG order and what it means at the latest weight, the weight history (add a
weight in kg or lb), and past visits (Enter or double-click opens one).  An empty
record explains what to do instead of showing a blank table.

Thin by design: reads and writes go through :class:`~nurse_app.store.Store`, doses
through :mod:`nurse_app.core.dosing`, and every number through
:mod:`nurse_app.core.formatting`.
"""

from __future__ import annotations

from functools import cmp_to_key
from html import escape

from PySide6.QtCore import QAbstractTableModel, QCollator, QEvent, QLocale, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core.allergies import NONE_KNOWN, NOT_RECORDED, allergies
from nurse_app.core.catalogue import Catalogue, load_catalogue
from nurse_app.core.errors import InputError, NurseAppError
from nurse_app.core.formatting import fmt_change, fmt_date, fmt_qty
from nurse_app.core.labels import SEX_LABELS, days_text, indication_text
from nurse_app.core.units import parse_number, weight_to_kg
from nurse_app.core.visit_logic import visit_day, whole_years
from nurse_app.services.orders import order_dose_summary
from nurse_app.services.patients import LIST_LIMIT, PatientListRow, has_patients, patient_list
from nurse_app.store import Store, to_local
from nurse_app.store.demo import MRN_PREFIX
from nurse_app.store.times import today_local
from nurse_app.ui.forms import MessageBanner
from nurse_app.ui.patient_forms import OrderDialog, PatientDialog
from nurse_app.ui.profile_dialog import NurseProfileDialog
from nurse_app.ui.widgets import (
    ATTENTION_COLOUR,
    ERROR_COLOUR,
    FieldWithError,
    Section,
    allergy_colour,
    read_only_table,
    text_colour,
    two_panes,
)

ID_ROLE = Qt.UserRole + 1


class _KeyFilter(QObject):
    """Calls ``actions[key]()`` for the listed keys pressed in a widget (and eats them)."""

    def __init__(self, widget: QWidget, actions: dict[int, callable]):
        super().__init__(widget)
        self.actions = actions
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if (
            event.type() == QEvent.KeyPress
            and event.key() in self.actions
            and not event.modifiers() & ~Qt.KeypadModifier
        ):
            self.actions[event.key()]()
            return True
        return False


def _on_enter(widget: QWidget, action) -> _KeyFilter:
    return _KeyFilter(widget, {Qt.Key_Return: action, Qt.Key_Enter: action})


# ------------------------------------------------------------------ the patient list model

# data() runs some 1,400 times to paint the list; PySide6's short spelling (Qt.DisplayRole) costs
# about 7 µs a look-up against 0.1 µs for the qualified one, so the roles are looked up once.
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TEXT_ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole)
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_HORIZONTAL = Qt.Orientation.Horizontal


class PatientTableModel(QAbstractTableModel):
    """Rows of patients, sorted by the model itself (the view's header calls :meth:`sort`).

    Sorting compares with a :class:`QCollator`, so names sort as people read them (Zoë with
    Zoe, Đorđe after Dan, Łucja after Lars) and MRNs by number (DEMO-9 before DEMO-10).
    Sorting here in Python is fast enough for thousands of rows; a proxy model would call
    back into Python for every comparison.
    """

    COLUMNS = (
        ("name", "Name"),
        ("mrn", "MRN"),
        ("date_of_birth", "Born"),
        ("indication", "Indication"),
        ("last_visit", "Last visit"),
    )

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[dict] = []
        self.sort_column, self.sort_order = 0, Qt.AscendingOrder
        locale = QLocale()
        if locale.language() == QLocale.C:  # no locale set (bare session): Unicode default order
            locale = QLocale(QLocale.English)
        self.collator = QCollator(locale)
        self.collator.setNumericMode(True)
        self.collator.setCaseSensitivity(Qt.CaseInsensitive)

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = self._sorted(rows, self.sort_column, self.sort_order)
        self.endResetModel()

    def _sorted(self, rows: list[dict], column: int, order) -> list[dict]:
        key = self.COLUMNS[column][0]
        compare = self.collator.compare
        return sorted(
            rows,
            key=cmp_to_key(lambda a, b: compare(a[key] or "", b[key] or "")),
            reverse=order == Qt.DescendingOrder,
        )

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        self.sort_column, self.sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self.rows[index.row()]["id"] for index in persistent]
        self.rows = self._sorted(self.rows, column, order)
        where = {row["id"]: number for number, row in enumerate(self.rows)}
        self.changePersistentIndexList(
            persistent,
            [self.index(where[i], index.column()) for i, index in zip(ids, persistent, strict=True)],
        )
        self.layoutChanged.emit()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == _HORIZONTAL and role == _DISPLAY:
            return self.COLUMNS[section][1]
        return None

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == ID_ROLE:
            return row["id"]
        key = self.COLUMNS[index.column()][0]
        if role in _TEXT_ROLES:
            if key in ("date_of_birth", "last_visit"):  # sorted by the ISO value, shown as 4 Mar 2025
                return fmt_date(row[key]) or ("none yet" if key == "last_visit" else "")
            return row[key] or ("none yet" if key == "last_visit" else "")
        if role == _TOOLTIP and key == "indication":
            return row["indication_full"]
        return None

    def row_of(self, patient_id: int) -> int:
        return next((n for n, row in enumerate(self.rows) if row["id"] == patient_id), -1)


# ------------------------------------------------------------------ the page


class PatientsPage(QWidget):
    """Patients list and detail.  Signals carry ids; the main window wires them."""

    start_visit_requested = Signal(int)  # patient id
    open_visit_requested = Signal(int)  # visit id
    load_demo_requested = Signal()
    status_message = Signal(str)  # for the status bar
    patient_selected = Signal(int)  # patient id (0: none)

    def __init__(self, store: Store, parent=None, catalogue: Catalogue | None = None):
        super().__init__(parent)
        self.setObjectName("patients_page")
        self.store = store
        self.catalogue = catalogue or load_catalogue()
        self._patient: dict | None = None
        self._order: dict | None = None
        self._draft_visit_id: int | None = None
        self._columns_fitted = False
        self._build()
        self.refresh()

    # ================================================================== layout
    def _build(self) -> None:
        self.banner = MessageBanner("page_banner")
        self.stack = QStackedWidget()
        self.empty_state = self._build_empty_state()
        self.stack.addWidget(self.empty_state)
        # The list grows with the window too (2 : 3), so names and indications are not cut short.
        splitter = two_panes(self._build_list(), self._build_detail(), stretch=(2, 3), sizes=(540, 660))
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self.stack.addWidget(splitter)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.addWidget(self.banner)
        outer.addWidget(self.stack, 1)

    def _build_empty_state(self) -> QWidget:
        panel = QWidget()
        panel.setObjectName("empty_state")
        box = QVBoxLayout(panel)
        box.addStretch(1)
        title = QLabel("No patients yet")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignCenter)
        self.empty_text = QLabel()
        self.empty_text.setObjectName("empty_text")
        self.empty_text.setWordWrap(True)
        self.empty_text.setAlignment(Qt.AlignCenter)
        # A fixed width lets the wrapped text report its real height (a centred, width-limited
        # label in a layout is otherwise cut to its first lines).
        self.empty_text.setFixedWidth(self.fontMetrics().averageCharWidth() * 80)
        self.empty_new = QPushButton("&New patient…")
        self.empty_new.setObjectName("empty_new_patient")
        self.empty_new.clicked.connect(self.new_patient)
        self.empty_demo = QPushButton("Load de&mo data")
        self.empty_demo.setObjectName("load_demo")
        self.empty_demo.setToolTip(
            f"Fill this record with made-up patients (MRNs start with {MRN_PREFIX}) to try the app."
        )
        self.empty_demo.clicked.connect(self.load_demo_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.empty_new)
        buttons.addWidget(self.empty_demo)
        buttons.addStretch(1)
        box.addWidget(title)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addWidget(self.empty_text)
        centred.addStretch(1)
        box.addLayout(centred)
        box.addSpacing(12)
        box.addLayout(buttons)
        box.addStretch(2)
        return panel

    def _build_list(self) -> QWidget:
        panel = QWidget()
        panel.setMinimumWidth(430)
        box = QVBoxLayout(panel)
        box.setContentsMargins(0, 0, 6, 0)
        top = QHBoxLayout()
        find_label = QLabel("Fin&d")
        self.search = QLineEdit()
        self.search.setObjectName("patient_search")
        self.search.setPlaceholderText("Name or MRN (accents and case ignored)")
        self.search.setAccessibleName("Find patient by name or MRN")
        self.search.setAccessibleDescription(
            "The list filters as you type; Down arrow or Enter moves to the list."
        )
        self.search.setClearButtonEnabled(True)
        find_label.setBuddy(self.search)
        self.search.textChanged.connect(lambda *_: self._apply_filter())
        _KeyFilter(
            self.search,
            {Qt.Key_Down: self._focus_list, Qt.Key_Return: self._focus_list, Qt.Key_Enter: self._focus_list},
        )
        self.new_button = QPushButton("&New patient…")
        self.new_button.setObjectName("new_patient")
        self.new_button.clicked.connect(self.new_patient)
        top.addWidget(find_label)
        top.addWidget(self.search, 1)
        top.addWidget(self.new_button)
        box.addLayout(top)

        self.model = PatientTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("patient_table")
        self.table.setAccessibleName("Patients")
        self.table.setAccessibleDescription("Arrow keys choose a patient; Enter edits the patient.")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        # The name gets whatever room is left.  The short columns are fitted to their contents
        # when the list is loaded (not on every selection: that would re-measure every row).
        header.setSectionResizeMode(QHeaderView.Interactive)
        # Names are never cut ("Am…"): the name column fits the longest name (sampled, see the
        # precision below); the indication takes the rest and shows in full as a tooltip.
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.Stretch)
        header.setResizeContentsPrecision(200)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header.setHighlightSections(False)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.doubleClicked.connect(lambda *_: self.edit_patient())
        _on_enter(self.table, self.edit_patient)
        box.addWidget(self.table, 1)
        self.count_label = QLabel()
        self.count_label.setObjectName("count_label")
        self.count_label.setWordWrap(True)
        box.addWidget(self.count_label)
        return panel

    def _build_detail(self) -> QWidget:
        self.detail_stack = QStackedWidget()
        hint = QLabel("Select a patient in the list to see allergies, the IVIG order, weights and visits.")
        hint.setObjectName("no_selection")
        hint.setWordWrap(True)
        hint.setAlignment(Qt.AlignCenter)
        self.detail_stack.addWidget(hint)

        body = QWidget()
        body.setObjectName("patient_detail")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(8)
        layout.addLayout(self._build_header())
        self.allergy_label = QLabel()
        self.allergy_label.setObjectName("allergy_label")
        self.allergy_label.setWordWrap(True)
        self.allergy_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.allergy_label)
        self.clinical_label = QLabel()
        self.clinical_label.setObjectName("clinical_label")
        self.clinical_label.setWordWrap(True)
        self.clinical_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.clinical_label)
        layout.addWidget(self._build_order_section())
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(self._build_weight_section(), 1)
        row.addWidget(self._build_visit_section(), 1)
        layout.addLayout(row)
        layout.addWidget(self._build_call_section())
        layout.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFocusPolicy(Qt.NoFocus)  # no empty Tab stop; it still scrolls to the focused field
        scroll.setWidget(body)
        self.detail_stack.addWidget(scroll)
        self.detail_stack.setMinimumWidth(560)
        return self.detail_stack

    def _build_header(self) -> QHBoxLayout:
        header = QHBoxLayout()
        names = QVBoxLayout()
        names.setSpacing(0)
        self.name_label = QLabel()
        self.name_label.setObjectName("patient_name")
        font = self.name_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.name_label.setFont(font)
        self.name_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.demographics_label = QLabel()
        self.demographics_label.setObjectName("demographics")
        self.demographics_label.setWordWrap(True)
        self.demographics_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        names.addWidget(self.name_label)
        names.addWidget(self.demographics_label)
        header.addLayout(names, 1)
        self.edit_button = QPushButton("Ed&it patient…")
        self.edit_button.setObjectName("edit_patient")
        self.edit_button.clicked.connect(self.edit_patient)
        self.start_button = QPushButton("Start &visit")
        self.start_button.setObjectName("start_visit")
        self.start_button.setDefault(False)
        self.start_button.setStyleSheet("QPushButton { font-weight: bold; padding: 6px 14px; }")
        self.start_button.clicked.connect(self._start_visit)
        header.addWidget(self.edit_button, 0, Qt.AlignTop)
        header.addWidget(self.start_button, 0, Qt.AlignTop)
        return header

    def _build_order_section(self) -> QWidget:
        section = Section("IVIG order")
        section.setObjectName("order_section")
        self.order_form = QFormLayout()
        self.order_form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.order_values: dict[str, QLabel] = {}
        for key, label in (
            ("product", "Product"),
            ("regimen", "Regimen"),
            ("dose", "Dose"),
            ("interval", "Repeat"),
            ("prescriber", "Prescriber"),
            ("start_date", "Start date"),
        ):
            value = QLabel()
            value.setObjectName(f"order_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextSelectableByMouse)
            self.order_form.addRow(f"{label}:", value)
            self.order_values[key] = value
        self.order_holder = QWidget()
        self.order_holder.setLayout(self.order_form)
        self.order_form.setContentsMargins(0, 0, 0, 0)
        section.body.addWidget(self.order_holder)
        self.order_summary = QLabel()
        self.order_summary.setObjectName("order_summary")
        self.order_summary.setWordWrap(True)
        self.order_summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        section.body.addWidget(self.order_summary)
        buttons = QHBoxLayout()
        self.order_button = QPushButton("Add &order…")
        self.order_button.setObjectName("order_button")
        self.order_button.clicked.connect(self.edit_order)
        self.new_order_button = QPushButton("New o&rder…")
        self.new_order_button.setObjectName("new_order_button")
        self.new_order_button.setToolTip("Enter a new order; the current one becomes inactive.")
        self.new_order_button.clicked.connect(lambda: self.edit_order(new=True))
        buttons.addWidget(self.order_button)
        buttons.addWidget(self.new_order_button)
        buttons.addStretch(1)
        section.body.addLayout(buttons)
        return section

    def _build_weight_section(self) -> QWidget:
        section = Section("Weight history")
        section.setObjectName("weight_section")
        self.weight_table = self._small_table("weight_table", ["Weighed", "Weight", "Change"])
        section.body.addWidget(self.weight_table)
        add = QHBoxLayout()
        add.setSpacing(4)
        self.new_weight = FieldWithError("new_weight", "weight", units=("kg", "lb"))
        self.new_weight.edit.setAccessibleName("New weight")
        self.weighed_on = FieldWithError("weighed_on", "YYYY-MM-DD")
        self.weighed_on.edit.setAccessibleName("Date weighed")
        self.weighed_on.edit.setMinimumWidth(
            self.weighed_on.edit.fontMetrics().horizontalAdvance("0000-00-000") + 12
        )
        self.add_weight_button = QPushButton("Add &weight")
        self.add_weight_button.setObjectName("add_weight")
        self.add_weight_button.clicked.connect(self.add_weight)
        for field in (self.new_weight, self.weighed_on):
            _on_enter(field.edit, self.add_weight)
            field.changed.connect(lambda f=field: f.set_error(None))
        add.addWidget(self.new_weight, 3, Qt.AlignTop)
        add.addWidget(self.weighed_on, 2, Qt.AlignTop)
        add.addWidget(self.add_weight_button, 0, Qt.AlignTop)
        section.body.addLayout(add)
        return section

    def _build_visit_section(self) -> QWidget:
        section = Section("Visits")
        section.setObjectName("visit_section")
        self.draft_label = QLabel()
        self.draft_label.setObjectName("draft_label")
        self.draft_label.setWordWrap(True)
        self.draft_label.setStyleSheet(f"color: {text_colour(ATTENTION_COLOUR)}; font-weight: bold;")
        self.resume_button = QPushButton("&Resume open visit")
        self.resume_button.setObjectName("resume_visit")
        self.resume_button.clicked.connect(self._resume_visit)
        label = QLabel("Past visi&ts:")
        self.visit_table = self._small_table("visit_table", ["Date", "Course day", "Status"])
        self.visit_table.setFocusPolicy(Qt.StrongFocus)
        self.visit_table.setToolTip("Double-click a visit, or select it and press Enter, to open it.")
        self.visit_table.setAccessibleDescription("Enter opens the selected visit.")
        self.visit_table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.visit_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.visit_table.doubleClicked.connect(lambda *_: self._open_selected_visit())
        _on_enter(self.visit_table, self._open_selected_visit)
        label.setBuddy(self.visit_table)
        section.body.addWidget(self.draft_label)
        section.body.addWidget(self.resume_button, 0, Qt.AlignLeft)
        section.body.addWidget(label)
        section.body.addWidget(self.visit_table)
        return section

    def _build_call_section(self) -> Section:
        """Follow-up calls (rash check call, reviews; issue 16): double-click opens the form."""
        section = Section("Follow-up calls")
        self.call_table = self._small_table("call_table", ["Call time", "Follow-up", "Reached", "Status"])
        self.call_table.setMinimumHeight(90)
        self.call_table.setFocusPolicy(Qt.StrongFocus)
        self.call_table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.call_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.call_table.setToolTip("Double-click a call, or select it and press Enter, to open it.")
        self.call_table.doubleClicked.connect(lambda *_: self._open_selected_call())
        _on_enter(self.call_table, self._open_selected_call)
        section.body.addWidget(self.call_table)
        return section

    def _show_calls(self, patient_id: int) -> None:
        from nurse_app.services.schedule import call_rule

        calls = self.store.patient_followup_calls(patient_id)
        self._calls = calls
        self.call_table.setRowCount(len(calls))
        for r, call in enumerate(calls):
            rule = call_rule(call)
            when = to_local(call["called_at"]).strftime("%Y-%m-%d %H:%M") if call["called_at"] else "—"
            reached = {True: "yes", False: "no", None: "—"}[call["reached"]]
            status = f"signed by {call['signed_by']}" if call["status"] == "signed" else "draft"
            for c, text in enumerate((when, rule.title if rule else call["rule_id"], reached, status)):
                self.call_table.setItem(r, c, QTableWidgetItem(text))

    def _open_selected_call(self) -> None:
        from nurse_app.ui.followup_call_dialog import FollowupCallDialog

        row = self.call_table.currentRow()
        if 0 <= row < len(getattr(self, "_calls", [])):
            FollowupCallDialog(self.store, self._calls[row]["id"], self).exec()
            if self._patient is not None:
                self._show_calls(self._patient["id"])

    @staticmethod
    def _small_table(name: str, headers: list[str]) -> QTableWidget:
        table = read_only_table(name, headers)
        table.setTabKeyNavigation(False)
        table.setWordWrap(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        table.setMinimumHeight(150)
        table.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        return table

    # ================================================================== public
    def refresh(self, select_id: int | None = None) -> None:
        """Reload from the store (after demo data, a restore, or another window's change)."""
        self._columns_fitted = False
        self._apply_filter(select_id)

    def current_patient_id(self) -> int | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.data(index, ID_ROLE)

    def select_patient(self, patient_id: int) -> bool:
        """Select ``patient_id`` in the list (clearing the filter if it hides the patient)."""
        if not self._select(patient_id):
            self.search.clear()
            return self._select(patient_id)
        return True

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def new_patient(self) -> None:
        if not self._ensure_profile():
            return
        dialog = PatientDialog(self.store, parent=self, catalogue=self.catalogue)
        if dialog.exec() == QDialog.Accepted:
            self.search.blockSignals(True)
            self.search.clear()
            self.search.blockSignals(False)
            self.refresh(dialog.patient_id)
            self.status_message.emit(f"Patient {self._patient['name'] if self._patient else ''} added.")

    def edit_patient(self) -> None:
        patient_id = self.current_patient_id()
        if patient_id is None or not self._ensure_profile():
            return
        dialog = PatientDialog(self.store, patient_id, parent=self, catalogue=self.catalogue)
        if dialog.exec() == QDialog.Accepted:
            self.refresh(patient_id)
            self.status_message.emit("Patient saved.")

    def edit_order(self, new: bool = False) -> None:
        patient_id = self.current_patient_id()
        if patient_id is None or not self._ensure_profile():
            return
        order_id = None if new or self._order is None else self._order["id"]
        from nurse_app.ui.busy import busy

        with busy():  # building the form takes a moment: a wait cursor, no double click
            dialog = OrderDialog(self.store, patient_id, order_id, parent=self, catalogue=self.catalogue)
        if dialog.exec() == QDialog.Accepted:
            self._show_patient(patient_id)
            self.status_message.emit("IVIG order saved.")

    def add_weight(self) -> None:
        patient_id = self.current_patient_id()
        if patient_id is None:
            return
        self.new_weight.set_error(None)
        self.weighed_on.set_error(None)
        if not self.new_weight.text():
            self.new_weight.set_error("Type the weight, then press Enter.")
            self.new_weight.edit.setFocus()
            return
        if not self._ensure_profile():
            return
        fields = {"weight": self.new_weight, "weight_kg": self.new_weight, "measured_on": self.weighed_on}
        try:
            kg = weight_to_kg(
                parse_number(self.new_weight.text(), "weight", "Weight"), self.new_weight.unit_text()
            )
            self.store.add_weight(patient_id, kg, measured_on=self.weighed_on.text() or None)
        except InputError as exc:
            field = fields.get(exc.field or "", self.new_weight)
            field.set_error(str(exc))
            field.edit.setFocus()
            field.edit.selectAll()
            return
        except NurseAppError as exc:
            self.banner.show_message(str(exc))
            return
        self.new_weight.edit.clear()
        self._show_patient(patient_id)
        self.status_message.emit(f"Weight {fmt_qty(kg, 'kg')} added.")

    # ================================================================== list
    def _apply_filter(self, select_id: int | None = None) -> None:
        keep = select_id if select_id is not None else self.current_patient_id()
        query = self.search.text()
        try:
            has_any = has_patients(self.store)
            rows = patient_list(self.store, query, limit=LIST_LIMIT) if has_any else []
            self.model.set_rows([self._list_row(p) for p in rows])
        except NurseAppError as exc:
            self.banner.show_message(str(exc))
            return
        self.banner.show_message(None)
        self._update_empty_state(has_any)
        self.stack.setCurrentWidget(self.splitter if has_any else self.empty_state)
        self._update_count(len(rows), query)
        if rows and not self._columns_fitted:
            for column in (1, 2, 4):
                self.table.resizeColumnToContents(column)
            self._columns_fitted = True
        if not (keep is not None and self._select(keep)) and self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(0, 0))
        if not self.model.rowCount():
            self._show_patient(None)

    def _list_row(self, patient: PatientListRow) -> dict:
        return {
            "id": patient.id,
            "name": patient.name,
            "mrn": patient.mrn,
            "date_of_birth": patient.date_of_birth,
            "indication": indication_text(self.catalogue, patient.indication, short=True),
            "indication_full": indication_text(self.catalogue, patient.indication),
            "last_visit": patient.last_visit_day.isoformat() if patient.last_visit_day else "",
        }

    def _update_count(self, shown: int, query: str) -> None:
        if query.strip() and not shown:
            self.count_label.setText(
                f"No patient matches “{query.strip()}”. Check the spelling, try "
                f"part of the name or the MRN, or add a New patient."
            )
            self.count_label.setStyleSheet(f"color: {text_colour(ATTENTION_COLOUR)};")
        else:
            more = f" (first {LIST_LIMIT}: type to narrow)" if shown >= LIST_LIMIT else ""
            what = "match" if query.strip() else "on record"
            self.count_label.setText(f"{shown} patient{'s' if shown != 1 else ''} {what}{more}.")
            self.count_label.setStyleSheet("")

    def _update_empty_state(self, has_any: bool) -> None:
        if has_any:
            return
        profile = (
            ""
            if self.store.nurse_profile()
            else (" You will be asked for your name and credentials first: every entry is stamped with them.")
        )
        self.empty_text.setText(
            "This record holds no patients. Add your first patient with <b>New patient</b>, then "
            "their weight and IVIG order, and start a visit from here.<br><br>"
            "To try the app first, <b>Load demo data</b> fills the record with made-up patients "
            f"(their MRNs start with {MRN_PREFIX}); use a separate record file for real patients."
            + (f"<br><br>{profile.strip()}" if profile else "")
        )

    def _select(self, patient_id: int) -> bool:
        row = self.model.row_of(patient_id)
        if row < 0:
            return False
        index = self.model.index(row, 0)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        self._show_patient(patient_id)
        return True

    def _focus_list(self) -> None:
        if self.model.rowCount():
            if not self.table.currentIndex().isValid():
                self.table.setCurrentIndex(self.model.index(0, 0))
            self.table.setFocus()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_patient(self.model.data(current, ID_ROLE) if current.isValid() else None)

    # ================================================================== detail
    def _show_patient(self, patient_id: int | None) -> None:
        if patient_id is None:
            self._patient = self._order = None
            self.detail_stack.setCurrentIndex(0)
            self.patient_selected.emit(0)
            return
        try:
            patient = self.store.get_patient(patient_id)
            weights = self.store.patient_weights(patient_id)
            orders = self.store.patient_orders(patient_id, active_only=True)
            visits = self.store.patient_visits(patient_id)
        except NurseAppError as exc:
            self.banner.show_message(str(exc))
            return
        self._patient = patient
        self._order = orders[0] if orders else None
        self.detail_stack.setCurrentIndex(1)
        self.name_label.setText(patient["name"])
        self._show_demographics(patient)
        self._show_allergies(patient["allergies"])
        self._show_order(patient, self._order)
        self._show_weights(weights)
        self._show_visits(visits)
        self._show_calls(patient_id)
        if not self.weighed_on.text():
            self.weighed_on.edit.setText(today_local().isoformat())
        self.patient_selected.emit(patient_id)

    def _show_demographics(self, p: dict) -> None:
        age = whole_years(p["date_of_birth"], today_local())
        parts = [
            f"MRN {p['mrn']}",
            f"born {fmt_date(p['date_of_birth'])}" + (f" ({age} years)" if age is not None else ""),
            SEX_LABELS.get(p["sex"], p["sex"]),
        ]
        if p["height_cm"] is not None:
            parts.append(fmt_qty(p["height_cm"], "cm"))
        # Each part stays on one line: a number is never wrapped away from its unit.
        self.demographics_label.setText(" · ".join(part.replace(" ", "\u00a0") for part in parts))
        clinical = []
        regimen = self.catalogue.regimens.get(p["indication"] or "")
        indication = (
            self.catalogue.indications.get(regimen.indication, regimen.indication)
            if regimen
            else indication_text(self.catalogue, p["indication"])
        )
        clinical.append(f"<b>Indication:</b> {escape(indication) or 'not recorded'}")
        clinical.append(f"<b>Prescriber:</b> {escape(p['prescriber']) or 'not recorded'}")
        if p["notes"]:
            clinical.append(f"<b>Notes:</b> {escape(p['notes'])}")
        self.clinical_label.setText("<br>".join(clinical))

    def _show_allergies(self, typed: str) -> None:
        state = allergies(typed)  # core.allergies: the one "none known" rule and wording
        if state.state == NOT_RECORDED:
            message = f"Allergies: {state.text} (Edit patient)."
        elif state.state == NONE_KNOWN:
            message = f"Allergies: {state.text}"
        else:
            message = f"⚠ ALLERGIES: {state.text}"
        colour = allergy_colour(state)  # the same colour as the visit header
        self.allergy_label.setText(message)
        self.allergy_label.setAccessibleName(message)
        self.allergy_label.setStyleSheet(
            f"QLabel {{ border: 2px solid {colour}; border-radius: 4px; padding: 6px; color: {colour}; "
            f"font-weight: bold; font-size: 115%; }}"
        )

    def _show_order(self, patient: dict, order: dict | None) -> None:
        self.order_holder.setVisible(order is not None)
        self.new_order_button.setVisible(order is not None)
        self.order_button.setText("Edit &order…" if order else "Add &order…")
        if order is None:
            self.order_summary.setText(
                "No active IVIG order. Add the order as the prescriber wrote it "
                "before the first visit: the dose is checked against the "
                "calculator's limits."
            )
            self.order_summary.setStyleSheet(f"color: {text_colour(ATTENTION_COLOUR)};")
            return
        product = self.catalogue.products.get(order["product_id"])
        regimen = self.catalogue.regimens.get(order["regimen_id"] or "")
        v = self.order_values
        v["product"].setText(product.display_name if product else order["product_id"])
        v["regimen"].setText(regimen.name if regimen else (order["regimen_id"] or "Other (as written)"))
        dose = []
        if order["dose_g_per_kg"] is not None:
            dose.append(f"{fmt_qty(order['dose_g_per_kg'], 'g/kg')} per course")
        elif regimen and regimen.course_g_per_kg is not None:
            dose.append(f"{fmt_qty(regimen.course_g_per_kg, 'g/kg')} per course (regimen)")
        days = order["course_days"] or (regimen.usual_days(order["product_id"]) if regimen else None)
        if days:
            dose.append(f"over {days_text(days)}")
        v["dose"].setText(" ".join(dose))
        v["interval"].setText(
            f"every {days_text(order['interval_days'])}" if order["interval_days"] else "no fixed interval"
        )
        v["prescriber"].setText(order["prescriber"])
        v["start_date"].setText(fmt_date(order["start_date"]))
        self.order_summary.setStyleSheet("")
        self.order_summary.setText(self._order_meaning(patient, order))

    def _order_meaning(self, patient: dict, order: dict) -> str:
        """What the order comes to at the latest weight (or why it cannot be worked out)."""
        try:
            # The service works it out as the next visit will: the order's basis, rate cap and
            # risks, the age today, first-infusion when no signed visit gave this product yet.
            summary = order_dose_summary(self.store, patient["id"], order, catalogue=self.catalogue)
        except NurseAppError as exc:
            return f"<span style='color:{text_colour(ERROR_COLOUR)}'>This order cannot be worked out: {escape(str(exc))}</span>"
        if summary is None:
            return "Add a weight to see what this order comes to in grams."
        risks = ", ".join(summary.risk_labels)
        first_text = " First infusion of this product for the patient." if summary.first_infusion else ""
        return (
            f"{summary.weighed_text}: <b>{summary.course_text}</b>{summary.per_day_text}, "
            f"{summary.volume_text}, {summary.rates_text} ({summary.dosing_weight_text})."
            + (f" Risks: {escape(risks)}." if risks else "")
            + first_text
            + " The visit recalculates with the day's weight."
        )

    def _show_weights(self, weights: list[dict]) -> None:
        self.weight_table.setRowCount(len(weights))
        for row, w in enumerate(weights):
            previous = weights[row + 1]["weight_kg"] if row + 1 < len(weights) else None
            change = ""
            if previous is not None:
                delta = w["weight_kg"] - previous
                change = fmt_change(delta, "kg")
            cells = [fmt_date(w["measured_on"]), fmt_qty(w["weight_kg"], "kg"), change]
            tip = f"Recorded by {w['recorded_by']}" + (f": {w['note']}" if w["note"] else "")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                item.setToolTip(tip)
                self.weight_table.setItem(row, col, item)

    def _show_visits(self, visits: list[dict]) -> None:
        drafts = [v for v in visits if v["status"] == "draft"]
        self._draft_visit_id = drafts[0]["id"] if drafts else None
        self.draft_label.setVisible(bool(drafts))
        self.resume_button.setVisible(bool(drafts))
        if drafts:
            self.draft_label.setText(
                f"A visit of {fmt_date(visit_day(drafts[0]))} is still open (not signed)."
            )
        self.visit_table.setRowCount(len(visits))
        for row, v in enumerate(visits):
            cells = [
                fmt_date(visit_day(v)),
                f"Day {v['course_day']} of {v['course_days']}",
                v["status"].capitalize(),
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(ID_ROLE, v["id"])
                if v["status"] == "draft":
                    item.setForeground(QBrush(QColor(text_colour(ATTENTION_COLOUR))))
                self.visit_table.setItem(row, col, item)
        if visits:
            self.visit_table.setCurrentCell(0, 0)

    # ================================================================== actions
    def _ensure_profile(self) -> bool:
        """Records are stamped with the nurse's name: ask for it once, before the first write."""
        try:
            if self.store.nurse_profile() is not None:
                return True
        except NurseAppError as exc:
            self.banner.show_message(str(exc))
            return False
        dialog = NurseProfileDialog(self.store, self)
        return dialog.exec() == QDialog.Accepted

    def _start_visit(self) -> None:
        patient_id = self.current_patient_id()
        if patient_id is not None:
            self.start_visit_requested.emit(patient_id)

    def _resume_visit(self) -> None:
        if self._draft_visit_id is not None:
            self.open_visit_requested.emit(self._draft_visit_id)

    def _open_selected_visit(self) -> None:
        item = self.visit_table.item(self.visit_table.currentRow(), 0)
        if item is not None:
            self.open_visit_requested.emit(item.data(ID_ROLE))
