"""Issue 9 §1: the kind of a reaction decides its severity.

Anaphylaxis, TRALI and clot/stroke signs are always severe; a kind that can be mild or
severe offers only the tiers that fit it.  One rule (core.reactions) read by the
Reactions tab, enforced by the store (so no screen, command, script or demo data can
record anaphylaxis as mild), and shown in the summary and the FHIR export.
"""

from __future__ import annotations

import copy
import tomllib

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from qt_helpers import click_when_shown

from nurse_app.core.errors import InputError, ResourceError
from nurse_app.core.reactions import (
    check_reaction,
    load_reactions,
    parse_reactions,
    severity_label,
    tiers_for,
)
from nurse_app.core.resources import resource_path
from nurse_app.store import RecordValueError, Store
from nurse_app.store.demo import generate
from nurse_app.ui.main_window import MainWindow

ALWAYS_SEVERE = ("anaphylaxis", "trali", "thrombosis")


def raw_reactions() -> dict:
    return tomllib.loads(resource_path("reactions.toml").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ core rule


@pytest.mark.parametrize("kind", ALWAYS_SEVERE)
def test_always_severe_kinds_force_the_severe_tier(kind):
    rule = tiers_for(kind)
    assert rule.allowed == ("severe",) and rule.forced == "severe"
    assert rule.reason, "the nurse is told why"
    for tier in ("mild", "moderate"):
        with pytest.raises(InputError, match="cannot be recorded as " + tier):
            check_reaction(kind, tier)
    assert check_reaction(kind, "severe") == kind


def test_the_severe_tier_stops_gives_epinephrine_calls_911_and_never_restarts():
    severe = load_reactions().severities["severe"]
    text = " ".join(severe.actions).lower()
    assert severe.stop_infusion and severe.call_emergency
    for words in ("stop the infusion", "epinephrine", "call 911", "do not restart"):
        assert words in text


def test_kinds_that_can_be_mild_or_severe_offer_only_the_tiers_that_fit():
    assert tiers_for("infusion-reaction").allowed == ("mild", "moderate", "severe")
    assert tiers_for("infusion-reaction").forced is None
    # Reference 2.3/2.5/2.6/2.9: each needs the prescriber (report, review, labs), so never mild.
    for kind in ("aseptic-meningitis", "renal", "haemolysis", "volume-overload"):
        rule = tiers_for(kind)
        assert rule.allowed == ("moderate", "severe") and rule.forced is None, kind
        with pytest.raises(InputError):
            check_reaction(kind, "mild")
    # Haemolysis with dark urine is reported with labs (2.6), not an emergency: not forced.
    assert check_reaction("haemolysis", "moderate") == "haemolysis"


def test_every_kind_has_tiers_and_a_reason():
    for kind in load_reactions().kinds.values():
        assert kind.tiers and kind.tier_reason, kind.id


def test_a_kind_is_found_by_its_title_and_an_unknown_kind_is_refused():
    assert check_reaction("Anaphylaxis or severe hypersensitivity", "severe") == "anaphylaxis"
    with pytest.raises(InputError, match="Unknown kind of reaction"):
        check_reaction("Chills", "mild")


def test_forced_severity_is_labelled_as_set_by_the_kind():
    assert severity_label("anaphylaxis", "severe") == "Severe (always severe for this kind)"
    assert severity_label("infusion-reaction", "severe") == "Severe"
    assert severity_label("a legacy free-text kind", "mild") == "Mild"


def test_anaphylaxis_guidance_gives_what_the_reference_gives_and_marks_the_gaps():
    kind = load_reactions().kinds["anaphylaxis"]
    actions = kind.actions
    adult = next(a for a in actions if "0.3 mg" in a)
    assert "agency" in adult and "example" in adult
    child = next(a for a in actions if a.startswith("Child"))
    assert "junior" in child and "UNVERIFIED" in child
    for topic in ("Repeat epinephrine", "Positioning"):
        line = next(a for a in actions if a.startswith(topic))
        assert "agency protocol" in line and "UNVERIFIED" in line, topic
    assert {"N7", "N9"} <= set(kind.sources)


# ------------------------------------------------------------------ the TOML file is validated


def test_a_kind_without_tiers_is_refused():
    data = raw_reactions()
    del data["kind"][0]["tiers"]
    with pytest.raises(ResourceError, match=r"kind\[0\].*tiers"):
        parse_reactions(data, "resources/reactions.toml")


@pytest.mark.parametrize(
    "tiers, message",
    [
        ([], "at least one"),
        (
            ["severe", "critical"],
            r"tiers\[1\]: Input should be 'mild', 'moderate' or 'severe', got 'critical'",
        ),
        (["severe", "severe"], "twice"),
    ],
)
def test_bad_tiers_are_refused(tiers, message):
    data = raw_reactions()
    data["kind"][1]["tiers"] = tiers
    with pytest.raises(ResourceError, match=message):
        parse_reactions(data, "resources/reactions.toml")


def test_the_shipped_file_parses():
    parsed = parse_reactions(copy.deepcopy(raw_reactions()), "resources/reactions.toml")
    assert parsed.kinds["anaphylaxis"].forced_tier == "severe"


# ------------------------------------------------------------------ the store refuses a forbidden pair


@pytest.fixture
def store_visit(tmp_path):
    store = Store.open(tmp_path / "record.db")
    store.set_nurse_profile("Maria Santos", "RN")
    pid = store.create_patient(
        mrn="MRN-1",
        name="Ann Smith",
        date_of_birth="1960-01-01",
        sex="female",
        height_cm=165,
        indication="pi",
    )
    visit = store.create_visit(pid, weight_kg=70, course_day=1, course_days=1)
    yield store, visit
    store.close()


def test_store_refuses_anaphylaxis_recorded_as_mild(store_visit):
    store, visit = store_visit
    with pytest.raises(RecordValueError, match="cannot be recorded as mild") as caught:
        store.add_reaction(visit, kind="anaphylaxis", severity="mild", action_taken="x")
    assert caught.value.field == "severity"
    assert store.visit_reactions(visit) == []
    rid = store.add_reaction(visit, kind="anaphylaxis", severity="severe", action_taken="Stopped")
    [row] = store.visit_reactions(visit)
    assert (row["id"], row["kind"], row["severity"]) == (rid, "anaphylaxis", "severe")


def test_store_refuses_to_downgrade_a_forced_severity_or_change_the_kind_under_it(store_visit):
    store, visit = store_visit
    trali = store.add_reaction(visit, kind="trali", severity="severe")
    with pytest.raises(RecordValueError):
        store.update_reaction(trali, severity="moderate")
    mild = store.add_reaction(visit, kind="infusion-reaction", severity="mild")
    with pytest.raises(RecordValueError):
        store.update_reaction(mild, kind="thrombosis")  # a clot is never mild
    assert [r["severity"] for r in store.visit_reactions(visit)] == ["severe", "mild"]


def test_store_refuses_a_kind_outside_the_list_and_stores_a_title_as_its_id(store_visit):
    store, visit = store_visit
    with pytest.raises(RecordValueError, match="Unknown kind"):
        store.add_reaction(visit, kind="Anaphylaxis-ish", severity="mild")
    store.add_reaction(visit, kind="Lung injury (TRALI)", severity="severe")
    assert store.visit_reactions(visit)[0]["kind"] == "trali"


def test_demo_data_never_records_a_forbidden_pair(tmp_path):
    with Store.open(tmp_path / "demo.db") as store:
        generate(store, patients=40, seed=3)
        rows = store.db.execute("SELECT kind, severity FROM reactions").fetchall()
    assert rows, "the demo makes some reactions"
    for kind, severity in rows:
        check_reaction(kind, severity)


# ------------------------------------------------------------------ the Reactions tab, real main window


@pytest.fixture
def visit_page(qtbot, tmp_path):
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        pid = store.create_patient(
            mrn="MRN-4242",
            name="Zoë Ødegård",
            date_of_birth="1958-03-14",
            sex="female",
            height_cm=168,
            allergies="Penicillin (rash)",
            indication="pemphigus",
            prescriber="Dr. A. Lind",
        )
        store.add_weight(pid, 70, measured_on="2026-01-05")
        store.create_order(
            pid,
            product_id="gamunex-c",
            regimen_id="pemphigus",
            start_date="2026-01-06",
            prescriber="Dr. A. Lind",
        )
    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.show_page("patients")  # the Week page opens first (issue 16)
    window.patients.table.setFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key_V, Qt.AltModifier)  # start today's visit
    qtbot.waitUntil(lambda: window.current_page() == "visit", timeout=2000)
    yield window, store, window.visit_page
    window.close()
    store.close()


def test_reactions_tab_forces_severe_for_anaphylaxis_and_records_it(qtbot, visit_page):
    _window, store, vp = visit_page
    vp.tabs.setCurrentWidget(vp.reactions_tab)
    rx = vp.reactions_tab
    buttons = rx.severity_buttons

    # A mild infusion reaction first: then the kind changes to anaphylaxis.
    rx.kind.setCurrentIndex(rx.kind.findData("infusion-reaction"))
    click_when_shown(qtbot, buttons["mild"], near_left_edge=True)
    assert buttons["mild"].isChecked()
    assert "Slow to the last tolerated rate" in rx.guidance.text()

    rx.kind.setCurrentIndex(rx.kind.findData("anaphylaxis"))
    assert not buttons["mild"].isEnabled() and not buttons["moderate"].isEnabled()
    assert buttons["severe"].isChecked() and not buttons["severe"].isEnabled(), "selected and locked"
    click_when_shown(qtbot, buttons["mild"], near_left_edge=True)  # a click on a disabled tier does nothing
    assert buttons["severe"].isChecked() and not buttons["mild"].isChecked()
    assert "Always severe for this kind" in rx.tier_reason.text()
    guidance = rx.guidance.text()
    assert "Slow to the last tolerated rate" not in guidance and "Step the rate up" not in guidance
    for words in (
        "Stop the infusion",
        "epinephrine",
        "Call 911",
        "Do not restart",
        "junior-strength",
        "UNVERIFIED",
    ):
        assert words in guidance, words

    rx.action.setText("Stopped; epinephrine 0.3 mg IM per protocol; 911 called")
    click_when_shown(qtbot, rx.add_button)
    [reaction] = store.visit_reactions(vp.visit_id)
    assert (reaction["kind"], reaction["severity"]) == ("anaphylaxis", "severe")
    assert rx.table.item(0, 1).text() == "Anaphylaxis or severe hypersensitivity"
    assert rx.table.item(0, 2).text() == "Severe (always severe for this kind)"

    # Back to a kind the nurse grades: the tiers that fit are offered again, and only those.
    rx.kind.setCurrentIndex(rx.kind.findData("haemolysis"))
    assert rx._severity() is None, "the severe that anaphylaxis forced is not carried over as a choice"
    assert "Choose the severity" in rx.guidance.text()
    assert not buttons["mild"].isEnabled()
    assert buttons["moderate"].isEnabled() and buttons["severe"].isEnabled()
    rx.kind.setCurrentIndex(rx.kind.findData("infusion-reaction"))
    assert all(b.isEnabled() for b in buttons.values())


# ------------------------------------------------------------------ the record in the documents


def test_summary_pdf_and_fhir_show_the_kind_title_and_that_the_kind_forced_severe(tmp_path):
    from fhir.resources.R4B.bundle import Bundle
    from pypdf import PdfReader

    from nurse_app.reports.fhir import bundle_json, visit_bundle
    from nurse_app.reports.visit_data import summarize
    from nurse_app.reports.visit_summary import write_summary_pdf
    from nurse_app.services.visit_record import load_visit

    with Store.open(tmp_path / "record.db") as store:
        store.set_nurse_profile("Maria Santos", "RN")
        pid = store.create_patient(
            mrn="MRN-7",
            name="Ann Smith",
            date_of_birth="1960-01-01",
            sex="female",
            height_cm=165,
            indication="pi",
        )
        visit = store.create_visit(pid, weight_kg=70, course_day=1, course_days=1)
        store.add_reaction(visit, kind="anaphylaxis", severity="severe", action_taken="Stopped; 911 called")
        store.add_reaction(visit, kind="infusion-reaction", severity="mild", action_taken="Slowed")
        write_summary_pdf(summarize(load_visit(store, visit)), tmp_path / "summary.pdf")
        bundle = Bundle.model_validate_json(bundle_json(visit_bundle(load_visit(store, visit))))
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(str(tmp_path / "summary.pdf")).pages).split()
    )
    section = text[text.index("Reactions Time") :]
    assert "Anaphylaxis or severe hypersensitivity" in section and "infusion-reaction" not in section
    assert "Severe (always severe for this kind)" in section
    assert "Infusion (rate-related) reaction Mild" in section
    events = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "AdverseEvent"]
    by_kind = {e.event.text: e for e in events}
    anaphylaxis = by_kind["Anaphylaxis or severe hypersensitivity"]
    assert [c.code for c in anaphylaxis.severity.coding] == ["severe"]
    assert "always severe for this kind" in anaphylaxis.text.div
    assert "always" not in by_kind["Infusion (rate-related) reaction"].text.div
