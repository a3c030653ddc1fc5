"""Checklist tab: the visit's template by phase; each answer is saved and time-stamped at once."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStyledItemDelegate,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core.checklists import (
    DONE,
    NOT_APPLICABLE,
    NOT_DONE,
    clock,
    missing_evidence,
    rest_to_mark_done,
)
from nurse_app.ui.timers import call_soon
from nurse_app.ui.visit.common import VisitContext, attempt, error_label, local_time
from nurse_app.ui.widgets import ATTENTION_COLOUR, Section, is_dark, text_colour, two_panes


class _WrapDelegate(QStyledItemDelegate):
    """Item text wraps to the column width (QTreeView's own row heights ignore wrapping)."""

    def __init__(self, tree: QTreeWidget):
        super().__init__(tree)
        self.tree = tree

    def sizeHint(self, option, index):
        size = super().sizeHint(option, index)
        if index.column() != 0 or not index.parent().isValid():
            return size
        depth_indent = self.tree.indentation() * 2
        width = max(80, self.tree.columnWidth(0) - depth_indent - 28)  # 28: check box and margins
        text = index.data(Qt.DisplayRole) or ""
        rect = QFontMetrics(option.font).boundingRect(QRect(0, 0, width, 10_000), Qt.TextWordWrap, text)
        return QSize(size.width(), max(size.height(), rect.height() + 6))


STATUS_TEXT = {DONE: "Done", NOT_APPLICABLE: "Not applicable", NOT_DONE: "Not done", None: ""}
ITEM_ROLE = Qt.UserRole


class ChecklistTab(QWidget):
    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("checklist_tab")
        self.ctx = ctx
        self._updating = False
        self.tree = QTreeWidget()
        self.tree.setObjectName("checklist_tree")
        self.tree.setAccessibleName("Visit checklist")
        self.tree.setHeaderLabels(["Item", "Answer", "Time", "Note"])
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setWordWrap(True)
        self.tree.setTextElideMode(Qt.ElideNone)  # the nurse must read the whole item: wrap, never cut
        self.tree.setItemDelegate(_WrapDelegate(self.tree))
        self.tree.setUniformRowHeights(False)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.Interactive)
        header.resizeSection(3, 130)
        # Row heights of wrapped text depend on the column width: re-lay out when it changes.
        header.sectionResized.connect(lambda *_: self.tree.scheduleDelayedItemsLayout())
        self.tree.itemChanged.connect(self._checked)
        self.tree.currentItemChanged.connect(self._selected)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        self.progress = QLabel()
        self.progress.setObjectName("checklist_progress")
        self.progress.setWordWrap(True)
        side_layout.addWidget(self.progress)
        details = Section("Selected item")
        self.item_text = QLabel("Select an item on the left.")
        self.item_text.setWordWrap(True)
        self.help_text = QLabel()
        self.help_text.setObjectName("checklist_help")
        self.help_text.setWordWrap(True)
        self.help_text.setTextFormat(Qt.RichText)
        self.note = QLineEdit()
        self.note.setObjectName("checklist_note")
        self.note.setAccessibleName("Reason or note for the selected item")
        # The keys are said beside the field, not in the placeholder: it was cut to "Enter saves, Es…"
        # at 1280×720 and 1366×768.
        self.note.setPlaceholderText("Reason or note (required for 'not done')")
        self.note.setToolTip("Enter saves; Esc puts the saved note back")
        self.note_keys = QLabel("<small>Enter saves · Esc cancels</small>")
        self.note_keys.setObjectName("checklist_note_keys")
        # Enter saves the answer the reason is for; Escape puts the saved note back (one hand).
        self._pending: str | None = None  # the answer waiting for its reason
        self.note.returnPressed.connect(self._note_entered)
        QShortcut(QKeySequence(Qt.Key_Escape), self.note, self._note_cancelled, context=Qt.WidgetShortcut)
        buttons = QHBoxLayout()
        self.buttons = {}
        for status, label in ((DONE, "&Done"), (NOT_APPLICABLE, "Not &applicable"), (NOT_DONE, "&Not done")):
            b = QPushButton(label)
            b.setObjectName(f"answer_{status}")
            b.clicked.connect(lambda _=False, s=status: self._answer(s))
            buttons.addWidget(b)
            self.buttons[status] = b
        self.clear_button = QPushButton("&Clear")
        self.clear_button.setObjectName("answer_clear")
        self.clear_button.clicked.connect(self._clear)
        buttons.addWidget(self.clear_button)
        self.phase_button = QPushButton("Mark the rest of this &phase done (required items)")
        self.phase_button.setObjectName("phase_done")
        self.phase_button.clicked.connect(self._phase_done)
        self.error = error_label("checklist_error")
        # The buttons sit above the help text, whose length changes with the item and the answer
        # ("Answered by ..."): answering never moves them under the nurse's finger or pointer.
        self.lock_text = QLabel()
        self.lock_text.setObjectName("checklist_lock")
        self.lock_text.setWordWrap(True)
        # Everything of variable height (the item's own text, its lock, its help) comes after them.
        details.body.addWidget(self.note)
        details.body.addWidget(self.note_keys)
        details.body.addLayout(buttons)
        details.body.addWidget(self.phase_button)
        details.body.addWidget(self.error)
        for w in (self.item_text, self.lock_text, self.help_text):
            details.body.addWidget(w)
        side_layout.addWidget(details)
        side_layout.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(two_panes(self.tree, side, stretch=(3, 1), sizes=(820, 340)))
        # A time-gated item unlocks by itself when its time comes (not only on reload).
        self.unlock_timer = QTimer(self)
        self.unlock_timer.setSingleShot(True)
        self.unlock_timer.timeout.connect(self.refresh)
        self._shape: list[str] = []
        ctx.changed.connect(lambda what: self.refresh() if what in ("visit", "events") else None)
        self.refresh()

    # ------------------------------------------------------------------ display
    def _outline_empty_boxes(self) -> None:
        """Fusion outlines a tick box a shade darker than the window: on a dark palette's base it
        vanishes, and an open item shows no box at all.  There, draw empty boxes with a border
        halfway between the text and base colours (ticked items keep their tick)."""
        css = ""
        palette = self.tree.palette()
        if is_dark(palette):
            text, base = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
            border = QColor(
                (text.red() + base.red()) // 2,
                (text.green() + base.green()) // 2,
                (text.blue() + base.blue()) // 2,
            )
            css = (
                f"QTreeView::indicator:unchecked {{ border: 1px solid {border.name()}; border-radius: 2px; "
                "background: palette(base); width: 12px; height: 12px; }"
            )
        if self.tree.styleSheet() != css:
            self.tree.setStyleSheet(css)

    def refresh(self) -> None:
        """Show the store's answers.  The tree is rebuilt only when the items themselves change
        (another visit, another template, a conditional item); an answer updates its row in place,
        so the scroll position, the selection and every row stay where they are."""
        self._outline_empty_boxes()
        items = self.ctx.store.visit_checklist(self.ctx.visit_id)
        shape = [i["item_id"] for i in items]
        if shape == self._shape and self.tree.topLevelItemCount():
            self._items = {i["item_id"]: i for i in items}
            self._updating = True
            for row in self._rows():
                self._fill_row(row, self._items[row.data(0, ITEM_ROLE)])
            self._updating = False
        else:
            self._rebuild(items)
        self._shape = shape
        self._show_progress(items)
        self.set_read_only(self.ctx.signed)
        self._selected(self.tree.currentItem(), keep_typing=True)
        self._arm_unlock_timer(items)

    def _rows(self):
        for i in range(self.tree.topLevelItemCount()):
            phase = self.tree.topLevelItem(i)
            for j in range(phase.childCount()):
                yield phase.child(j)

    def _fill_row(self, row: QTreeWidgetItem, i: dict) -> None:
        text = ("* " if i["required"] else "") + i["text"]
        row.setText(0, text)
        row.setText(2, local_time(i["answered_at"]))
        row.setText(3, i["note"] or "")
        row.setCheckState(0, Qt.Checked if i["status"] == DONE else Qt.Unchecked)
        row.setToolTip(
            0, i["text"] + (f"\n{i['lock_text'][0].upper()}{i['lock_text'][1:]}" if i.get("locked") else "")
        )
        if i.get("locked") and i["status"] is None:
            row.setText(1, "Locked")
            row.setToolTip(1, i["lock_text"])
            row.setForeground(1, self.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        elif i["required"] and i["status"] is None:
            row.setForeground(
                1, QBrush(QColor(text_colour(ATTENTION_COLOUR)) if is_dark() else Qt.GlobalColor.darkYellow)
            )
            row.setText(1, "Required")
            row.setToolTip(1, "")
        else:
            row.setText(1, STATUS_TEXT[i["status"]])
            row.setData(1, Qt.ForegroundRole, None)
            row.setToolTip(1, "")

    def _arm_unlock_timer(self, items: list[dict]) -> None:
        times = [i["unlocks_at"] for i in items if i.get("locked") and i.get("unlocks_at")]
        if not times:
            self.unlock_timer.stop()
            return
        wait_ms = (min(times) - clock()).total_seconds() * 1000
        self.unlock_timer.start(max(0, min(int(wait_ms) + 250, 60_000)))  # re-check at least every minute

    def _rebuild(self, items: list[dict]) -> None:
        selected = self._selected_item_id()
        self._updating = True
        self.tree.clear()
        self._items = {i["item_id"]: i for i in items}
        phases: dict[str, QTreeWidgetItem] = {}
        bold = QFont()
        bold.setBold(True)
        for i in items:
            phase = phases.get(i["phase_id"])
            if phase is None:
                phase = QTreeWidgetItem([i["phase_title"]])
                phase.setFont(0, bold)
                phase.setFlags(Qt.ItemIsEnabled)
                phases[i["phase_id"]] = phase
                self.tree.addTopLevelItem(phase)
            row = QTreeWidgetItem(["", "", "", ""])
            row.setData(0, ITEM_ROLE, i["item_id"])
            row.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsUserCheckable)
            row.setTextAlignment(0, Qt.AlignLeft | Qt.AlignTop)
            self._fill_row(row, i)
            phase.addChild(row)
            if i["item_id"] == selected:
                self.tree.setCurrentItem(row)
        self.tree.expandAll()
        self._updating = False

    def _show_progress(self, items: list[dict]) -> None:
        required = [i for i in items if i["required"]]
        open_required = [i for i in required if i["status"] is None]
        answered = sum(1 for i in items if i["status"] is not None)
        # Nothing open: no colour at all, so the palette's text colour applies (Qt has no "inherit").
        style = f" style='color:{text_colour(ATTENTION_COLOUR)}'" if open_required else ""
        self.progress.setText(
            f"{answered} of {len(items)} items answered. "
            f"<span{style}>{len(open_required)} required item"
            f"{'s' if len(open_required) != 1 else ''} still open</span> (marked *)."
        )

    def _selected_item_id(self) -> str | None:
        current = self.tree.currentItem() if hasattr(self, "tree") else None
        return current.data(0, ITEM_ROLE) if current else None

    def _selected(self, current, _previous=None, keep_typing: bool = False) -> None:
        """Show the selected item.  ``keep_typing``: a refresh (an answer saved, a time gate
        opening) leaves a reason the nurse is typing in the note box alone."""
        item_id = current.data(0, ITEM_ROLE) if current else None
        info = self._items.get(item_id) if item_id else None
        if item_id != getattr(self, "_pending_item", None):
            self._pending = None
        if info is None:
            self.item_text.setText("Select an item on the left.")
            self.help_text.setText("")
            self.lock_text.hide()
            self.buttons[DONE].setEnabled(not self.ctx.signed)
            return
        self.item_text.setText(f"<b>{info['text']}</b>{' (required)' if info['required'] else ''}")
        locked = bool(info.get("locked")) and info["status"] is None
        self.lock_text.setText(
            f"Locked: {info.get('lock_text', '')}. Not done or not applicable "
            "can still be recorded with a reason."
            if locked
            else ""
        )
        self.lock_text.setVisible(locked)
        self.buttons[DONE].setEnabled(not self.ctx.signed and not info.get("locked"))
        help_text = info["help"] or ""
        if info["unverified"]:
            help_text += " <i>(UNVERIFIED: not confirmed in a source; follow agency policy.)</i>"
        wording = info.get("source_wording") or []
        if wording:
            help_text += f"<br><small>Sources: {'; '.join(wording)}</small>"
        if info["recorded_by"]:
            help_text += f"<br><small>Answered by {info['recorded_by']} at {local_time(info['answered_at'], True)}</small>"
        self.help_text.setText(help_text)
        if not (keep_typing and self.note.isModified() and self.note.hasFocus()):
            self.note.setText(info["note"] or "")

    # ------------------------------------------------------------------ answers
    def _save(self, item_id: str, status: str, note: str) -> None:
        self._pending = None
        missing = missing_evidence(self._items[item_id], status, self._readings())
        if missing:  # e.g. "Baseline vital signs recorded" before any reading exists
            self.error.setText(missing)
            self.error.show()
            self.refresh()
            return
        if attempt(
            self.error,
            lambda: self.ctx.store.set_checklist_item(self.ctx.visit_id, item_id, status, note=note),
        ):
            self.ctx.changed.emit("checklist")
        self.refresh()

    def _note_entered(self) -> None:
        """Enter in the reason box saves: the answer waiting for this reason, or the item's own
        answer with the new note."""
        item_id = self._selected_item_id()
        info = self._items.get(item_id) if item_id else None
        if info is None or self.note.isReadOnly():
            return
        status = self._pending or info["status"]
        if status is None:
            self.error.setText("Choose Done, Not applicable or Not done for this item.")
            self.error.show()
            return
        self._answer(status)

    def _note_cancelled(self) -> None:
        """Escape: forget the typed reason and the answer waiting for it."""
        self._pending = None
        item_id = self._selected_item_id()
        info = self._items.get(item_id) if item_id else None
        self.note.setText((info or {}).get("note") or "")
        self.error.hide()

    def _checked(self, row: QTreeWidgetItem, column: int) -> None:
        if self._updating or column != 0 or row.data(0, ITEM_ROLE) is None:
            return
        item_id = row.data(0, ITEM_ROLE)
        checked = row.checkState(0) == Qt.Checked
        # Saving rebuilds the tree, which deletes ``row`` while Qt is still inside its
        # itemChanged signal (a crash): finish the signal first, then save.
        call_soon(self, lambda: self._apply_check(item_id, checked))  # dropped if the tab is gone

    def _apply_check(self, item_id: str, checked: bool) -> None:
        self._select(item_id)
        if checked:
            self._save(item_id, DONE, self._items[item_id]["note"] or "")
        else:
            self._clear()

    def _select(self, item_id: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            phase = self.tree.topLevelItem(i)
            for j in range(phase.childCount()):
                if phase.child(j).data(0, ITEM_ROLE) == item_id:
                    self.tree.setCurrentItem(phase.child(j))
                    return

    def _answer(self, status: str) -> None:
        item_id = self._selected_item_id()
        if item_id is None:
            self.error.setText("Select an item first.")
            self.error.show()
            return
        note = self.note.text().strip()
        needs_reason = {
            NOT_APPLICABLE: "Give the reason it does not apply in the note box, then press Not applicable.",
            NOT_DONE: "Give the reason it was not done in the note box, then press Not done.",
        }
        if status in needs_reason and not note:
            self.error.setText(needs_reason[status] + " (Enter saves, Esc cancels.)")
            self.error.show()
            self._pending, self._pending_item = status, item_id
            self.note.setFocus()
            return
        self._save(item_id, status, note)

    def _clear(self) -> None:
        item_id = self._selected_item_id()
        if item_id and attempt(
            self.error, lambda: self.ctx.store.clear_checklist_item(self.ctx.visit_id, item_id)
        ):
            self.ctx.changed.emit("checklist")
        self.refresh()

    def _phase_done(self) -> None:
        """Mark the phase's open REQUIRED items done (not optional ones, not locked ones), after
        a confirmation that says how many and which; recorded like any answer (time, nurse, audit)."""
        item_id = self._selected_item_id()
        if item_id is None:
            self.error.setText("Select an item of the phase first.")
            self.error.show()
            return
        phase = self._items[item_id]["phase_id"]
        in_phase = [i for i in self._items.values() if i["phase_id"] == phase]
        readings = self._readings()
        waiting = [i for i in rest_to_mark_done(in_phase) if missing_evidence(i, DONE, readings)]
        marking = [i for i in rest_to_mark_done(in_phase) if i not in waiting]
        optional = [i for i in in_phase if not i["required"] and i["status"] is None]
        locked = [i for i in in_phase if i["required"] and i["status"] is None and i.get("locked")]
        title = in_phase[0]["phase_title"]
        left = []
        if optional:
            one = len(optional) == 1
            left.append(
                f"{len(optional)} optional item{'' if one else 's'} {'stays' if one else 'stay'} open"
            )
        if locked:
            one = len(locked) == 1
            left.append(
                f"{len(locked)} locked item{'' if one else 's'} {'waits' if one else 'wait'} for their time"
            )
        for item in waiting:
            left.append(f"\u201c{item['text']}\u201d waits for a reading on the Infusion tab")
        if not marking:
            self.error.setText(
                f"No open required item in '{title}'." + (f" ({'; '.join(left)}.)" if left else "")
            )
            self.error.show()
            return
        listing = "\n".join(f"\u2022 {i['text']}" for i in marking)
        question = (
            f"Mark {len(marking)} required item{'s' if len(marking) != 1 else ''} of '{title}' done?\n\n"
            f"{listing}" + (f"\n\n{'; '.join(left).capitalize()}." if left else "")
        )
        if (
            QMessageBox.question(
                self, "Mark required items done", question, QMessageBox.Yes | QMessageBox.No, QMessageBox.No
            )
            != QMessageBox.Yes
        ):
            return
        answers = {i["item_id"]: DONE for i in marking}
        if attempt(self.error, lambda: self.ctx.store.set_checklist_items(self.ctx.visit_id, answers)):
            self.ctx.changed.emit("checklist")
        self.refresh()

    def _readings(self) -> int:
        return len(self.ctx.store.visit_vitals(self.ctx.visit_id))

    def set_read_only(self, read_only: bool) -> None:
        for b in (*self.buttons.values(), self.clear_button, self.phase_button):
            b.setEnabled(not read_only)
            b.setVisible(not read_only)  # a signed checklist is a record, not a form with grey buttons
        self.note.setReadOnly(read_only)
        self.note.setPlaceholderText("No note" if read_only else "Reason or note (required for 'not done')")
        self.note_keys.setVisible(not read_only)
        self._updating = True  # setFlags emits itemChanged: not an answer
        for child in self._rows():
            flags = Qt.ItemIsEnabled | Qt.ItemIsSelectable
            info = self._items.get(child.data(0, ITEM_ROLE)) or {}
            checkable = not read_only and not (info.get("locked") and info.get("status") is None)
            flags = flags | Qt.ItemIsUserCheckable if checkable else flags
            if child.flags() != flags:
                child.setFlags(flags)
        self._updating = False
