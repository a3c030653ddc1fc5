"""Issue 20 §3: saline in the line follows the product (products.toml ``line``), one rule read by
the Reactions tab's steps and the Checklist tab's dilution item, through the real main window.

Gammaplex 5 % must not be mixed with anything, normal saline included [P46]: its moderate
reaction steps never say "keep the line open with saline"; Privigen's label allows a saline
flush [P1], so its steps do."""

from __future__ import annotations

import copy
import tomllib

import pytest
from qt_helpers import click_when_shown, open_main_window

from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.errors import ResourceError
from nurse_app.core.reactions import parse_reactions
from nurse_app.core.resources import resource_path
from nurse_app.store import Store

KEEP_OPEN_WITH_SALINE = "keep the line open with"


def start_visit(qtbot, tmp_path, product_id: str):
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        pid = store.create_patient(
            mrn="MRN-2020",
            name="Ana Lund",
            date_of_birth="1970-05-02",
            sex="female",
            height_cm=165,
            allergies="",
            indication="pi",
            prescriber="Dr. A. Lind",
        )
        store.add_weight(pid, 60, measured_on="2026-01-05")
        store.create_order(
            pid,
            product_id=product_id,
            regimen_id="pi-replacement",
            dose_g_per_kg=0.4,
            start_date="2026-01-06",
            prescriber="Dr. A. Lind",
        )
    window, store = open_main_window(qtbot, path, tmp_path)
    window.patients.select_patient(pid)
    window.start_visit(pid)
    qtbot.waitUntil(lambda: window.current_page() == "visit", timeout=3000)
    return window, store, window.visit_page


@pytest.fixture
def visit(qtbot, tmp_path, request):
    window, store, vp = start_visit(qtbot, tmp_path, request.param)
    yield store, vp
    window.close()
    store.close()


def moderate_steps(qtbot, vp) -> str:
    vp.tabs.setCurrentWidget(vp.reactions_tab)
    rx = vp.reactions_tab
    rx.kind.setCurrentIndex(rx.kind.findData("infusion-reaction"))
    click_when_shown(qtbot, rx.severity_buttons["moderate"], near_left_edge=True)
    return " ".join(rx.guidance.text().split())


@pytest.mark.parametrize("visit", ["gammaplex-5"], indirect=True)
def test_gammaplex_5_moderate_reaction_never_keeps_the_line_open_with_saline(qtbot, visit):
    _store, vp = visit
    text = moderate_steps(qtbot, vp)
    assert "Stop the infusion" in text
    assert KEEP_OPEN_WITH_SALINE not in text
    assert "do not run saline into the Gammaplex 5% line" in text
    assert "normal saline included" in text
    # The severe tier's saline step follows the same rule.
    click_when_shown(qtbot, vp.reactions_tab.severity_buttons["severe"], near_left_edge=True)
    severe = " ".join(vp.reactions_tab.guidance.text().split())
    assert "Disconnect the Gammaplex 5% before any saline runs" in severe
    assert "Run saline as ordered" not in severe


@pytest.mark.parametrize("visit", ["privigen"], indirect=True)
def test_privigen_moderate_reaction_keeps_the_line_open_with_saline_as_its_label_allows(qtbot, visit):
    _store, vp = visit
    text = moderate_steps(qtbot, vp)
    assert "keep the line open with normal saline" in text
    assert "flushed with D5W or normal saline" in text


@pytest.mark.parametrize("visit", ["gamunex-c"], indirect=True)
def test_a_product_the_reference_is_silent_on_says_unverified(qtbot, visit):
    _store, vp = visit
    text = moderate_steps(qtbot, vp)
    assert "UNVERIFIED: confirm with the package insert" in text


@pytest.mark.parametrize("visit", ["gammaplex-5"], indirect=True)
def test_checklist_dilution_item_shows_the_visits_own_product_rule(qtbot, visit):
    store, vp = visit
    vp.tabs.setCurrentWidget(vp.checklist_tab)
    tab = vp.checklist_tab
    row = next(r for r in tab._rows() if r.data(0, 0x0100) == "no-dilution")
    tab.tree.setCurrentItem(row)
    shown = " ".join(tab.help_text.text().split())
    assert "Gammaplex 5%: Do not mix with other IV drugs, normal saline included." in shown
    assert "Privigen" not in shown, "only this visit's product"
    item = next(i for i in store.visit_checklist(vp.visit_id) if i["item_id"] == "no-dilution")
    assert "normal saline included" in item["help"]


def test_every_product_has_a_sourced_line_rule():
    for product in load_catalogue().products.values():
        rule = product.line
        assert rule is not None and rule.sources and rule.text, product.id
        assert rule.saline in ("flush-allowed", "never", "not-stated")
        assert rule.verified == (rule.saline != "not-stated"), product.id
    products = load_catalogue().products
    assert products["gammaplex-5"].line.saline == "never" and products["gammaplex-5"].line.sources == ("P46",)
    assert products["privigen"].line.saline == "flush-allowed" and "P1" in products["privigen"].line.sources
    assert products["octagam-10"].line.saline == "flush-allowed"


def test_a_reaction_step_that_names_saline_outside_the_line_rule_is_refused():
    data = tomllib.loads(resource_path("reactions.toml").read_text(encoding="utf-8"))
    edited = copy.deepcopy(data)
    moderate = next(s for s in edited["severity"] if s["id"] == "moderate")
    moderate["actions"][0] = "Stop the infusion and keep the line open with saline."
    with pytest.raises(ResourceError, match="saline in the line follows the product"):
        parse_reactions(edited, "resources/reactions.toml")
    parse_reactions(data, "resources/reactions.toml")


def test_no_resource_file_advises_saline_in_the_line_without_the_product():
    """The guides' and checklists' words on keeping a line open with saline name the products'
    rule; the only unconditional wording is in reactions.toml's [line_step] for a product that allows it."""
    root = resource_path("guides").parent
    for path in [*root.glob("guides/*.md"), *root.glob("checklists/ivig-home-visit-v4.toml")]:
        text = path.read_text(encoding="utf-8").lower()
        assert "keep the line open with saline," not in text, path.name
        assert "line open with saline." not in text, path.name
