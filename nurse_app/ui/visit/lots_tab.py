"""Product lots: lot number, expiry, vial size and count; compared with the day's vial plan."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from nurse_app.core.catalogue import CONFIRM_WITH_INSERT, load_catalogue
from nurse_app.core.dates import parse_expiry
from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_date, fmt_qty
from nurse_app.core.lots import OTHER_PRODUCT, check_lots, next_vials_from_plan
from nurse_app.core.times import today_local
from nurse_app.store.api import lots_product_name
from nurse_app.ui.visit.common import EntryFormTab, RowRemoval, VisitContext, attempt, error_label
from nurse_app.ui.widgets import ATTENTION_COLOUR, ERROR_COLOUR, OK_COLOUR, Section, text_colour


class LotsTab(EntryFormTab):
    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("lots_tab")
        self.ctx = ctx
        layout = QVBoxLayout(self)

        self.form_box = Section("Add a lot (check the expiry date and the storage history first)")
        form = QFormLayout()
        self.lot_number = QLineEdit()
        self.lot_number.setObjectName("lot_number")
        self.lot_number.setAccessibleName("Lot number")
        # typed as printed on the carton (core.dates), never prefilled nor copied from the last lot
        self.expiry = QLineEdit()
        self.expiry.setObjectName("lot_expiry")
        self.expiry.setAccessibleName("Expiry date")
        self.expiry.setPlaceholderText("as on the carton, e.g. 15 Mar 2027")
        self.expiry.setToolTip(
            "Type the expiry as printed on the carton: 2027-03-15, 15 Mar 2027, 03/2027 or "
            "MAR 2027 (a month alone means its last day)."
        )
        self.expiry_understood = QLabel()
        self.expiry_understood.setObjectName("lot_expiry_understood")
        self.expiry.textChanged.connect(self._expiry_typed)
        self.vial_size = QComboBox()
        self.vial_size.setObjectName("lot_vial_size")
        self.vial_size.setAccessibleName("Vial size")
        self.count = QSpinBox()
        self.count.setObjectName("lot_count")
        self.count.setAccessibleName("Number of vials")
        self.count.setRange(1, 99)
        self.add_button = QPushButton("&Add lot")
        self.add_button.setObjectName("add_lot")
        self.add_button.clicked.connect(self._add)  # Enter in any field of the form adds too (EntryFormTab)
        form.addRow("&Lot number", self.lot_number)
        form.addRow("&Expiry", self.expiry)
        form.addRow("", self.expiry_understood)
        form.addRow("&Vial size", self.vial_size)
        form.addRow("&Count", self.count)
        self.form_box.body.addLayout(form)
        self.error = error_label("lot_error")
        for edit in (self.lot_number, self.expiry):  # the message goes once the nurse corrects
            edit.textChanged.connect(lambda _t: self.error.hide())
        self.vial_size.currentIndexChanged.connect(lambda _i: self.error.hide())
        self.count.valueChanged.connect(lambda _v: self.error.hide())
        self.form_box.body.addWidget(self.error)
        self.form_box.body.addWidget(self.add_button, 0, Qt.AlignLeft)

        self.table = QTableWidget(0, 5)
        self.table.setObjectName("lots_table")
        self.table.setHorizontalHeaderLabels(["Lot", "Expiry", "Vial size", "Count", "Grams"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows choose the lot)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.remove_button = QPushButton("&Remove selected lot…")
        self.remove_button.setObjectName("remove_lot")
        self.comparison = QLabel()
        self.comparison.setObjectName("lot_comparison")
        self.comparison.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.form_box, 1)
        recorded = Section("Lots given today")
        recorded.body.addWidget(self.table)
        recorded.body.addWidget(self.comparison)
        recorded.body.addWidget(self.remove_button, 0, Qt.AlignLeft)
        top.addWidget(recorded, 2)
        layout.addLayout(top)
        layout.addStretch(1)
        self._lots: list[dict] = []
        self.removal = RowRemoval(
            ctx,
            self.table,
            self.remove_button,
            self.error,
            "lots",
            describe=lambda row: (
                f"lot {self._lots[row]['lot_number']} ({self._lots[row]['vial_count']} × "
                f"{fmt_qty(self._lots[row]['vial_size_g'], 'g')})"
            ),
            delete=lambda row: ctx.store.delete_lot(self._lots[row]["id"]),
        )
        ctx.changed.connect(lambda what: self.refresh() if what in ("visit", "lots") else None)
        self.refresh()

    def _product_id(self) -> str | None:
        """The visit's product: the order's (else the calculation's)."""
        order = self.ctx.record.order
        return order["product_id"] if order else self.ctx.record.calculation.get("product")

    def _product(self):
        product_id = self._product_id()
        return load_catalogue().products.get(product_id) if product_id else None

    def refresh(self) -> None:
        product = self._product()
        current = self.vial_size.currentData()
        self.vial_size.clear()
        if product:
            for v in product.vials:
                mark = "" if v.verified else f" ({CONFIRM_WITH_INSERT})"
                self.vial_size.addItem(f"{fmt_qty(v.grams, 'g')} / {fmt_qty(v.ml, 'mL')}{mark}", v.grams)
        if self.vial_size.count() == 0:
            self.vial_size.addItem("Size not in catalogue: confirm with the package insert", None)
        lots = self.ctx.record.lots
        self._lots = lots
        planned = next_vials_from_plan(self.ctx.visit.get("calculation"), lots)
        changed = planned != getattr(self, "_planned", None)  # not on every save elsewhere
        self._planned = planned
        if changed and planned is not None and self.vial_size.findData(planned[0]) >= 0:
            self.vial_size.setCurrentIndex(self.vial_size.findData(planned[0]))  # from the vial plan
            self.count.setValue(planned[1])
        elif current is not None and self.vial_size.findData(current) >= 0:
            self.vial_size.setCurrentIndex(self.vial_size.findData(current))
        self.table.setRowCount(len(lots))
        for row, lot in enumerate(lots):
            cells = [
                lot["lot_number"],
                fmt_date(lot["expiry_date"]),
                fmt_qty(lot["vial_size_g"], "g"),
                str(lot["vial_count"]),
                fmt_qty(lot["vial_size_g"] * lot["vial_count"], "g"),
            ]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        record = self.ctx.record
        result = check_lots(  # core.lots: the one lot check
            lots,
            record.calculation,
            product_id=record.order["product_id"] if record.order else None,
            visit_day=record.visit_day or today_local(),
            product_name=lots_product_name,
        )
        colour = text_colour(
            ERROR_COLOUR if result.alert else OK_COLOUR if result.matches_plan else ATTENTION_COLOUR
        )
        self.comparison.setText(
            f"<span style='color:{colour}'>{'⚠ ' if result.alert else ''}{result.message}</span>"
        )
        self.comparison.setAccessibleName(result.message)
        bad = {
            lot["lot_number"]
            for lot in lots
            if result.has(OTHER_PRODUCT) and lot["product_id"] != self._product_id()
        }
        for row, lot in enumerate(lots):
            if lot["lot_number"] in bad:
                for col in range(self.table.columnCount()):
                    self.table.item(row, col).setForeground(QBrush(QColor(text_colour(ERROR_COLOUR))))
                    self.table.item(row, col).setToolTip("Not the product of this visit")
        self.set_read_only(self.ctx.signed)

    def _expiry_typed(self, text: str) -> None:
        """Show what the typed expiry was understood as (or nothing while it is not a date)."""
        if not text.strip():
            self.expiry_understood.setText("")
            return
        try:
            self.expiry_understood.setText(f"Understood as {parse_expiry(text).shown}")
        except InputError:
            self.expiry_understood.setText("Not a date yet")

    def _add(self) -> None:
        product = self._product()
        size = self.vial_size.currentData()
        if product is None or size is None:
            self.error.setText("Start from an order with a product whose vial sizes are known.")
            self.error.show()
            return
        try:
            expiry = parse_expiry(self.expiry.text()).day
        except InputError as exc:
            self.error.setText(str(exc))
            self.error.show()
            self.expiry.setFocus()
            return
        if attempt(
            self.error,
            lambda: self.ctx.store.add_lot(
                self.ctx.visit_id,
                product_id=product.id,
                lot_number=self.lot_number.text(),
                expiry_date=expiry,
                vial_size_g=size,
                vial_count=self.count.value(),
            ),
        ):
            self.lot_number.clear()
            self.expiry.clear()  # each lot's own expiry is typed, never copied
            self.count.setValue(1)
            self.ctx.changed.emit("lots")
            self.lot_number.setFocus()
