"""Product lots: lot number, expiry, vial size and count; compared with the day's vial plan."""

from __future__ import annotations

import itertools

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
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
from nurse_app.core.lots import OTHER_PRODUCT, check_lots, next_vials_from_plan, recorded_as
from nurse_app.core.times import today_local
from nurse_app.services import carton
from nurse_app.store.api import lots_product_name
from nurse_app.ui.visit.common import EntryFormTab, RowRemoval, VisitContext, attempt, error_label
from nurse_app.ui.visit.scanner import ScannerBurst
from nurse_app.ui.widgets import ATTENTION_COLOUR, ERROR_COLOUR, OK_COLOUR, Section, text_colour


class LotsTab(EntryFormTab):
    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("lots_tab")
        self.ctx = ctx
        layout = QVBoxLayout(self)

        self.scan_box = self._build_scan_box()
        layout.addWidget(self.scan_box)
        self.scanner = ScannerBurst(self)
        self.scanner.scanned.connect(self.take_scan)
        self._pending_scan: carton.CartonRead | None = None

        self.form_box = Section("Or type the lot (check the expiry date and the storage history first)")
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

        self.table = QTableWidget(0, 6)
        self.table.setObjectName("lots_table")
        self.table.setHorizontalHeaderLabels(["Lot", "Expiry", "Vial size", "Count", "Grams", "Recorded"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows choose the lot)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        # "scanned (serial …)" is read whole, never cut
        for column in (1, 5):
            self.table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeToContents)
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
        # A handheld scan works wherever the focus is, so the tab opens in the lot number field.
        chain = [self.lot_number, self.expiry, self.vial_size, self.count, self.add_button]
        chain += [
            self.camera_button,
            self.picture_button,
            self.clipboard_button,
            self.scan_accept,
            self.scan_discard,
        ]
        for first, second in itertools.pairwise(chain):
            self.setTabOrder(first, second)
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
                recorded_as(lot),
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
        self.scan_box.setVisible(not self.ctx.signed)

    # ------------------------------------------------------------------ scanning
    def _build_scan_box(self) -> Section:
        box = Section("Scan the carton")
        box.setObjectName("scan_box")
        hint = QLabel(
            "Scan the square code on the carton with the handheld scanner at any time on this tab: "
            "product, lot, expiry and serial are read and checked against the order."
        )
        hint.setWordWrap(True)
        box.body.addWidget(hint)
        buttons = QHBoxLayout()
        self.camera_button = QPushButton("Scan with ca&mera…")
        self.camera_button.setObjectName("scan_camera")
        self.camera_button.clicked.connect(self._scan_with_camera)
        self.picture_button = QPushButton("From a p&icture…")
        self.picture_button.setObjectName("scan_picture")
        self.picture_button.clicked.connect(self._scan_picture_file)
        self.clipboard_button = QPushButton("Paste from clip&board")
        self.clipboard_button.setObjectName("scan_clipboard")
        self.clipboard_button.clicked.connect(self._scan_clipboard)
        for button in (self.camera_button, self.picture_button, self.clipboard_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        box.body.addLayout(buttons)
        self.scan_result = QLabel()
        self.scan_result.setObjectName("scan_result")
        self.scan_result.setWordWrap(True)
        self.scan_result.setTextFormat(Qt.TextFormat.PlainText)
        self.scan_result.hide()
        box.body.addWidget(self.scan_result)
        confirm = QHBoxLayout()
        self.scan_accept = QPushButton("Add this lot (Enter)")
        self.scan_accept.setObjectName("scan_accept")
        self.scan_accept.clicked.connect(self._accept_scan)
        self.scan_discard = QPushButton("Discard (Esc)")
        self.scan_discard.setObjectName("scan_discard")
        self.scan_discard.clicked.connect(self._discard_scan)
        confirm.addWidget(self.scan_accept)
        confirm.addWidget(self.scan_discard)
        confirm.addStretch(1)
        box.body.addLayout(confirm)
        self.scan_accept.hide()
        self.scan_discard.hide()
        escape = QShortcut(
            QKeySequence(Qt.Key.Key_Escape), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut
        )
        escape.activated.connect(self._discard_scan)
        return box

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.ctx.signed:
            self.scanner.start()

    def hideEvent(self, event) -> None:
        self.scanner.stop()
        super().hideEvent(event)

    def take_scan(self, text: str) -> None:
        """A scan from any source: show what was read, or why it is refused (nothing is written)."""
        if self.ctx.signed:
            return
        read = carton.read_for_visit(self.ctx.store, self.ctx.visit_id, text)
        self._show_scan(read)

    def _show_scan(self, read: carton.CartonRead) -> None:
        colour = text_colour(OK_COLOUR if read.accepted else ERROR_COLOUR)
        self.scan_result.setStyleSheet(f"color: {colour}")
        if read.accepted:
            self._pending_scan = read
            self.scan_result.setText(f"Read from the carton: {read.describe()}. Add it as a lot of 1 vial?")
            self.scan_accept.show()
            self.scan_discard.show()
            self.scan_accept.setDefault(True)
            self.scan_accept.setFocus()
        else:
            self._pending_scan = None
            read_part = f"\nRead: {read.describe()}" if read.code is not None else ""
            self.scan_result.setText(f"⚠ Refused: {read.refused}{read_part}")
            self.scan_accept.hide()
            self.scan_discard.show()
        self.scan_result.setAccessibleName(self.scan_result.text())
        self.scan_result.show()

    def _accept_scan(self) -> None:
        read = self._pending_scan
        if read is None:
            return
        if attempt(self.error, lambda: carton.record_scan(self.ctx.store, self.ctx.visit_id, read)):
            self._clear_scan()
            self.ctx.changed.emit("lots")

    def _discard_scan(self) -> None:
        self._clear_scan()

    def _clear_scan(self) -> None:
        had_focus = self.scan_accept.hasFocus() or self.scan_discard.hasFocus()
        self._pending_scan = None
        self.scan_result.hide()
        self.scan_accept.hide()
        self.scan_discard.hide()
        if had_focus:
            self.lot_number.setFocus()  # ready for the next carton, scanned or typed

    def _take_image(self, image: object, where: str) -> None:
        try:
            codes = carton.decode_image(image)
        except InputError as exc:
            self._show_message(str(exc))
            return
        if not codes:
            self._show_message(
                f"No carton code was found in {where}: photograph the square code closer and flat."
            )
            return
        self.take_scan(codes[0])

    def _show_message(self, text: str) -> None:
        self._pending_scan = None
        self.scan_result.setStyleSheet(f"color: {text_colour(ERROR_COLOUR)}")
        self.scan_result.setText(text)
        self.scan_result.show()
        self.scan_accept.hide()
        self.scan_discard.show()

    def _scan_picture_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Picture of the carton's code", "", "Pictures (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff)"
        )
        if path:
            self._take_image(path, "that picture")

    def _scan_clipboard(self) -> None:
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            text = QGuiApplication.clipboard().text().strip()
            if text:
                self.take_scan(text)
                return
            self._show_message(
                "The clipboard holds no picture or code: copy a photo of the carton's code first."
            )
            return
        self._take_image(image, "the clipboard picture")

    def _scan_with_camera(self) -> None:
        from nurse_app.ui.visit.camera_scan import scan_with_camera

        code, message = scan_with_camera(self)
        if code:
            self.take_scan(code)
        elif message:
            self._show_message(message)

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
