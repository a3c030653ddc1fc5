"""Reactions tab: record kind and severity; the guidance for that severity is shown at once.

The kind decides the severities on offer (:func:`nurse_app.core.reactions.tiers_for`):
tiers that do not fit are disabled, a kind with one tier (anaphylaxis, TRALI, clot or
stroke signs: always severe) selects and locks it, and the tab says why."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from nurse_app.core.formatting import fmt_qty
from nurse_app.core.reactions import actions_for, kind_label, load_reactions, severity_label, tiers_for
from nurse_app.ui.visit.common import EntryFormTab, RowRemoval, VisitContext, attempt, error_label, local_time
from nurse_app.ui.widgets import ATTENTION_COLOUR, ERROR_COLOUR, Section, text_colour


class ReactionsTab(EntryFormTab):
    def __init__(self, ctx: VisitContext, rate_now=lambda: None, infusion_event=None, parent=None):
        super().__init__(parent)
        # infusion_event(kind, rate, note) -> bool: writes the rate change into the timeline.
        self.infusion_event = infusion_event
        self.setObjectName("reactions_tab")
        self.ctx = ctx
        self.guide = load_reactions()
        self.rate_now = rate_now
        self._forced_selection = False  # the checked tier was set by the kind, not chosen

        self.kind = QComboBox()
        self.kind.setObjectName("reaction_kind")
        self.kind.setAccessibleName("Kind of reaction")
        for k in self.guide.kinds.values():
            self.kind.addItem(k.title, k.id)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.severity_group = QButtonGroup(self)
        sev_row = QHBoxLayout()
        self.severity_buttons = {}
        for s in self.guide.severities.values():
            b = QRadioButton(s.title)
            b.setObjectName(f"severity_{s.id}")
            self.severity_group.addButton(b)
            self.severity_buttons[s.id] = b
            b.toggled.connect(self._show_guidance)
            sev_row.addWidget(b)
        self.tier_reason = QLabel()
        self.tier_reason.setObjectName("reaction_tier_reason")
        self.tier_reason.setWordWrap(True)
        self.action = QLineEdit()
        self.action.setObjectName("reaction_action")
        self.action.setPlaceholderText("What you did (e.g. slowed to 42 mL/h, gave acetaminophen as ordered)")
        self.outcome = QLineEdit()
        self.outcome.setObjectName("reaction_outcome")
        self.outcome.setPlaceholderText("Outcome (e.g. settled after 20 min, resumed)")
        self.note = QLineEdit()
        self.note.setObjectName("reaction_note")
        self.infusion = QComboBox()
        self.infusion.setObjectName("reaction_infusion")
        self.infusion.setAccessibleName("What happened to the infusion")
        for text, data in (
            ("Rate unchanged", ""),
            ("Slowed to the rate given", "rate_change"),
            ("Paused", "pause"),
            ("Stopped", "stop"),
        ):
            self.infusion.addItem(text, data)
        from nurse_app.ui.visit.infusion_tab import RateBox

        self.slowed_rate = RateBox()  # 42 mL/h, never 42.0 mL/h (ISMP)
        self.slowed_rate.setObjectName("reaction_slowed_rate")
        self.slowed_rate.setAccessibleName("Slowed to, mL/h")
        self.slowed_rate.setRange(0, 99999)
        self.slowed_rate.setDecimals(1)
        self.slowed_rate.setSuffix(" mL/h")
        self.slowed_rate.setEnabled(False)
        self.infusion.currentIndexChanged.connect(
            lambda *_: self.slowed_rate.setEnabled(self.infusion.currentData() == "rate_change")
        )
        infusion_row = QHBoxLayout()
        infusion_row.addWidget(self.infusion, 1)
        infusion_row.addWidget(self.slowed_rate)
        self.add_button = QPushButton("&Record reaction")
        self.add_button.setObjectName("add_reaction")
        self.add_button.clicked.connect(self._add)
        self.error = error_label("reaction_error")
        form = QFormLayout()
        form.addRow("&Kind", self.kind)
        form.addRow("Severity", sev_row)
        form.addRow("", self.tier_reason)
        form.addRow("&Action taken", self.action)
        form.addRow("Infusion", infusion_row)
        form.addRow("&Outcome", self.outcome)
        form.addRow("No&te", self.note)  # Alt+O is Outcome
        self.form_box = Section("Record a reaction")
        self.form_box.body.addLayout(form)
        self.form_box.body.addWidget(self.error)
        self.form_box.body.addWidget(self.add_button, 0, Qt.AlignLeft)

        self.guidance = QLabel()
        self.guidance.setObjectName("reaction_guidance")
        self.guidance.setWordWrap(True)
        self.guidance.setTextFormat(Qt.RichText)
        self.guidance.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        # Scrolls rather than clips: the anaphylaxis steps are long and none may be cut off.
        guidance_scroll = QScrollArea()
        guidance_scroll.setObjectName("reaction_guidance_scroll")
        guidance_scroll.setWidgetResizable(True)
        guidance_scroll.setFrameShape(QFrame.NoFrame)
        guidance_scroll.setWidget(self.guidance)
        guidance_box = self.guidance_box = Section("What to do")
        guidance_box.body.addWidget(guidance_scroll, 1)

        self.table = QTableWidget(0, 6)
        self.table.setObjectName("reactions_table")
        self.table.setHorizontalHeaderLabels(
            ["Time", "Kind", "Severity", "Rate at onset", "Action", "Outcome"]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(True)
        # rows grow to their text: an outcome is never cut to "…"
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)

        top = QHBoxLayout()
        top.addWidget(self.form_box, 3)
        top.addWidget(guidance_box, 2)
        recorded = Section("Reactions this visit")
        recorded.body.addWidget(self.table)
        self.remove_button = QPushButton("Remove selected reaction…")
        self.remove_button.setObjectName("remove_reaction")
        self.remove_button.setToolTip("For a reaction recorded by mistake (or press Delete in the table)")
        recorded.body.addWidget(self.remove_button, 0, Qt.AlignLeft)
        self._rows: list[dict] = []
        self.removal = RowRemoval(
            ctx,
            self.table,
            self.remove_button,
            self.error,
            "reactions",
            describe=lambda row: f"the reaction recorded at {local_time(self._rows[row]['occurred_at'])}",
            delete=lambda row: ctx.store.delete_reaction(self._rows[row]["id"]),
        )
        layout = QVBoxLayout(self)
        layout.addLayout(top, 2)
        layout.addWidget(recorded, 1)
        ctx.changed.connect(lambda what: self.refresh() if what in ("visit", "reactions") else None)
        self._kind_changed()
        self.refresh()

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        self.guidance_box.setVisible(not read_only)  # guidance for a new entry: none on a signed visit
        self.layout().setStretch(0, 0 if read_only else 2)  # the reactions recorded take the page

    def _severity(self) -> str | None:
        return next((sid for sid, b in self.severity_buttons.items() if b.isChecked()), None)

    def _kind_changed(self, *_) -> None:
        """Offer only the severities that fit the kind; a forced one is selected and locked."""
        rule = tiers_for(self.kind.currentData(), self.guide)
        chosen = self._severity()
        if rule.forced is not None:
            chosen = rule.forced
        elif chosen not in rule.allowed or self._forced_selection:
            chosen = None  # a tier the previous kind forced is not the nurse's choice
        self._forced_selection = rule.forced is not None
        self.severity_group.setExclusive(False)  # so no tier need stay checked
        for sid, button in self.severity_buttons.items():
            button.blockSignals(True)
            button.setChecked(sid == chosen)
            button.setEnabled(sid in rule.allowed and rule.forced is None)
            button.setToolTip(
                "" if sid in rule.allowed else f"Does not fit this kind of reaction. {rule.reason}"
            )
            button.blockSignals(False)
        self.severity_group.setExclusive(True)
        if rule.forced is not None:
            self.tier_reason.setText(f"<b>Always {rule.forced} for this kind.</b> {rule.reason}")
        else:
            self.tier_reason.setText(f"Fits this kind: {', '.join(rule.allowed)}. {rule.reason}")
        self._show_guidance()

    def _show_guidance(self, *_) -> None:
        kind = self.guide.kinds[self.kind.currentData()]
        sid = self._severity()
        parts = [f"<p><b>{kind.title}</b>: {kind.signs}</p>"]
        if sid is None:
            parts.append("<p>Choose the severity to see what to do.</p>")
        else:
            s = self.guide.severities[sid]
            product = self.ctx.product
            # No colour for a mild reaction: the palette's text colour (Qt rich text has no "inherit").
            colour = ERROR_COLOUR if s.call_emergency else ATTENTION_COLOUR if s.stop_infusion else None
            style = f" style='color:{text_colour(colour)}'" if colour else ""
            parts.append(
                f"<p{style}><b>{s.title}</b>: {s.examples}</p><ol>"
                + "".join(f"<li>{a}</li>" for a in actions_for(s.actions, product, self.guide))
                + "</ol>"
            )
            if s.stop_infusion:
                parts.append(
                    "<p><b>Press Stop on the Infusion tab</b> so the record shows when it stopped.</p>"
                )
            if kind.actions:
                parts.append(
                    f"<p><b>For {kind.title.lower()}:</b></p><ul>"
                    + "".join(f"<li>{a}</li>" for a in actions_for(kind.actions, product, self.guide))
                    + "</ul>"
                )
        if not self.guide.grading_verified:
            parts.append(f"<p><small><i>{self.guide.grading_note}</i></small></p>")
        self.guidance.setText("".join(parts))

    def refresh(self) -> None:
        rows = self._rows = self.ctx.record.reactions
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = [
                local_time(row["occurred_at"]),
                kind_label(row["kind"], self.guide),
                severity_label(row["kind"], row["severity"], self.guide),
                fmt_qty(row["rate_at_onset_ml_h"], "mL/h") if row.get("rate_at_onset_ml_h") else "",
                row.get("action_taken") or "",
                row.get("outcome") or "",
            ]
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.set_read_only(self.ctx.signed)

    def _add(self) -> None:
        sid = self._severity()
        if sid is None:
            self.error.setText("Choose the severity.")
            self.error.show()
            return
        if not self.action.text().strip():
            self.error.setText("Record the action taken (what you did).")
            self.error.show()
            self.action.setFocus()
            return
        if attempt(
            self.error,
            lambda: self.ctx.store.add_reaction(
                self.ctx.visit_id,
                kind=self.kind.currentData(),
                severity=sid,
                rate_at_onset_ml_h=self.rate_now(),
                action_taken=self.action.text().strip(),
                outcome=self.outcome.text().strip(),
                note=self.note.text().strip(),
            ),
        ):
            for w in (self.action, self.outcome, self.note):
                w.clear()
            self.ctx.changed.emit("reactions")
            self._infusion_change()

    def _infusion_change(self) -> None:
        """A reaction that slows, pauses or stops the infusion writes that into the timeline."""
        kind = self.infusion.currentData()
        if not kind or self.infusion_event is None:
            return
        rate = self.slowed_rate.value() if kind == "rate_change" else None
        if self.infusion_event(kind, rate, f"For a reaction: {self.kind.currentText()}"):
            self.infusion.setCurrentIndex(0)
