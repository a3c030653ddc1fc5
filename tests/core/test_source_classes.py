"""Issue 15 §1: every source carries a class; handouts never print a secondary one; nurses
see the class beside each citation."""

from __future__ import annotations

import copy

import pytest
from pypdf import PdfReader

from nurse_app.core import catalogue, checklists, monitoring, reactions, vitals
from nurse_app.core.errors import ResourceError
from nurse_app.core.guides import load_guides
from nurse_app.core.resources import (
    PATIENT_SOURCE_CLASSES,
    SOURCE_CLASSES,
    load_toml,
    nurse_source_wording,
    resource_root,
)
from nurse_app.reports.handout import write_handout_pdf

GUIDES = load_guides()


def toml_files() -> list[str]:
    root = resource_root()
    names = [e.name for e in root.iterdir() if e.name.endswith(".toml")]
    names += [f"checklists/{e.name}" for e in (root / "checklists").iterdir() if e.name.endswith(".toml")]
    return sorted(n for n in names if "sources" in load_toml(n)[0])


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", toml_files())
def test_every_source_in_every_resource_file_has_a_class(name):
    data, _ = load_toml(name)
    assert set(data["source_class"]) == set(data["sources"])
    assert set(data["source_class"].values()) <= set(SOURCE_CLASSES)
    text = (resource_root() / name).read_text(encoding="utf-8")
    assert text.startswith("# Source classes"), "the classification rule is documented at the top"


def test_every_guide_source_has_a_class():
    for guide in GUIDES.values():
        for source in guide.sources:
            assert source.source_class in SOURCE_CLASSES
    # An AI summary and a staging copy are secondary, never authoritative.
    ai = [
        s
        for g in GUIDES.values()
        for s in g.sources
        if "AI-generated" in s.citation or "staging." in (s.url or "")
    ]
    assert ai and all(s.source_class == "secondary" for s in ai)


# (module with the loader, the loader's cache-holding function, file it reads)
LOADERS = [
    (catalogue, lambda: catalogue.load_catalogue, "products.toml"),
    (catalogue, lambda: catalogue.load_catalogue, "regimens.toml"),
    (catalogue, lambda: catalogue.load_catalogue, "limits.toml"),
    (vitals, lambda: vitals.vital_measures, "vitals.toml"),
    (monitoring, lambda: monitoring.load_monitoring, "monitoring.toml"),
    (reactions, lambda: reactions.load_reactions, "reactions.toml"),
    (checklists, lambda: checklists._all_templates, "checklists/ivig-home-visit-v1.toml"),
]


@pytest.mark.parametrize("module,loader,target", LOADERS, ids=[t for _, _, t in LOADERS])
@pytest.mark.parametrize("fault", ["no class", "unknown class", "no table"])
def test_a_source_without_a_valid_class_is_refused(monkeypatch, module, loader, target, fault):
    real = module.load_toml

    def edited(name):
        data, display = real(name)
        if name != target:
            return data, display
        data = copy.deepcopy(data)
        key = next(iter(data["sources"]))
        if fault == "no class":
            del data["source_class"][key]
        elif fault == "unknown class":
            data["source_class"][key] = "blog"
        else:
            del data["source_class"]
        return data, display

    monkeypatch.setattr(module, "load_toml", edited)
    fn = loader()
    fn.cache_clear()
    try:
        with pytest.raises(ResourceError) as info:
            fn()
    finally:
        monkeypatch.undo()
        fn.cache_clear()
    message = str(info.value)
    assert f"resources/{target}" in message
    assert {
        "no class": "has no class",
        "unknown class": "Input should be 'label', 'guideline'",
        "no table": "[source_class] table is missing",
    }[fault] in message


@pytest.fixture(scope="module")
def handout_texts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("handouts")
    texts = {}
    for guide_id, guide in GUIDES.items():
        path = folder / f"{guide_id}.pdf"
        write_handout_pdf(guide, path, {"nurse": "A Nurse", "phone": "555-0100"})
        texts[guide_id] = flat(" ".join(p.extract_text() for p in PdfReader(str(path)).pages))
    return texts


@pytest.mark.parametrize("guide_id", sorted(GUIDES))
def test_handout_pdf_never_prints_a_secondary_source(handout_texts, guide_id):
    guide = GUIDES[guide_id]
    text = handout_texts[guide_id]
    printed = guide.handout_sources()
    assert printed, "every handout still cites at least one source fit for patients"
    for source in guide.sources:
        marker = f"[{source.key}] {flat(source.citation)[:40]}"
        if source.source_class in PATIENT_SOURCE_CLASSES:
            if source in printed:
                assert marker in text
        else:
            assert marker not in text and f"[{source.key}]" not in text
            assert flat(source.citation)[:60] not in text
    assert "droracle" not in text and "AI-generated" not in text and "staging." not in text


def test_the_handout_filter_removes_a_secondary_source_a_handout_cites():
    """Before issue 15 the handouts printed secondary sources (AI summaries, practice blogs); since
    issue 20 no handout cites one, so the filter is checked on a guide that does."""
    import dataclasses

    guide = GUIDES["itp"]
    secondary = next(s for s in guide.sources if not s.fit_for_patients)
    handout = guide.handout
    cited = dataclasses.replace(handout, markdown=handout.markdown + f"\n\nA claim [{secondary.key}].\n")
    edited = dataclasses.replace(guide, sections=tuple(cited if s is handout else s for s in guide.sections))
    assert secondary.key in _cited(edited)
    assert secondary not in edited.handout_sources() and edited.handout_sources()


def test_every_key_a_handout_cites_is_a_printable_source(handout_texts):
    """Issue 20 §3: no printed claim rests on a source the handout leaves off its list (the seed
    page, a pharmacy blog, a consumer drug page); each cited source is printed."""
    for guide_id, guide in GUIDES.items():
        by_key = {s.key: s for s in guide.sources}
        for key in _cited(guide):
            source = by_key[key]
            assert source.fit_for_patients, (
                f"{guide_id}: the handout cites [{key}], a {source.source_class} source"
            )
            assert f"[{key}] {flat(source.citation)[:40]}" in handout_texts[guide_id]
    # The dermatomyositis timings of the seed page ("about 2 months ... 4 months") are gone; what
    # is printed rests on the label and the trial.
    dm = handout_texts["dermatomyositis"]
    assert "about 2 months" not in dm and "week 16" in dm


def _cited(guide):
    from nurse_app.core.guides import cited_keys

    return cited_keys(guide.handout.markdown)


def test_guides_page_shows_the_class_beside_each_citation(qtbot):
    from nurse_app.ui.guides_page import GuidesPage

    page = GuidesPage()
    qtbot.addWidget(page)
    guide = GUIDES["guillain-barre-syndrome"]
    page.open_guide(guide.id)
    shown = flat(page.viewer.toPlainText())
    for source in guide.sources:
        assert (
            f"[{source.key}] [{nurse_source_wording(source.source_class)}] {flat(source.citation)[:30]}"
            in shown
        )
    # GBS cites AI summaries: a nurse reads what that means for her, not the authors' class name.
    assert "[unverified \u2014 follow agency policy]" in shown and "[secondary / unverified]" not in shown


def test_verification_record_of_the_reference_pack_unverified_items():
    """resources/verification.toml: every re-checked item has a status; a confirmation names a
    primary source with its class; a data change names the resource, and the data carry it."""
    from nurse_app.core.catalogue import load_catalogue
    from nurse_app.core.content_report import build_report
    from nurse_app.core.resources import read_toml

    data, _ = read_toml("verification.toml")
    items = data["item"]
    assert len({i["id"] for i in items}) == len(items) >= 40
    for item in items:
        assert item["status"] in ("confirmed", "partly", "unverified") and item["pack"]
        if item["status"] != "unverified":
            assert item["source"] and item["source_class"] in ("label", "guideline", "peer-reviewed")
        if item.get("changed"):
            assert item["resource"]
    catalogue = load_catalogue()
    classes = read_toml("products.toml")[0]["source_class"]
    for item in (i for i in items if i.get("changed") and i["resource"].startswith("products.toml product ")):
        product = catalogue.products[item["resource"].split()[2].rstrip(":")]
        confirmed = [
            v
            for v in product.vials
            if v.verified
            and classes[v.source] == "label"
            and v.source in {"P49", "P50", "P51", "P52", "P53", "P54"}
        ]
        assert confirmed, item["id"]
    assert [(v.grams, v.ml) for v in catalogue.products["gammaplex-5"].vials] == [(5, 100), (10, 200)]
    counts = build_report().verification
    assert (
        counts["items"] == len(items)
        and counts["partly"] + counts["confirmed"] == counts["data_changed"] == 5
    )


def test_one_class_per_source_across_every_file():
    """Issue 20 §3: a paper or page cited in several files has one class everywhere (Vecchietti 2006
    was "secondary" in the IVIG-therapy guide and "peer-reviewed" in the others)."""
    from nurse_app.core.source_identity import class_conflicts, same_source_groups

    assert class_conflicts() == []
    vecchietti = next(g for g in same_source_groups() if any(s.citation.startswith("Vecchietti") for s in g))
    files = {s.file for s in vecchietti}
    assert {
        "reactions.toml",
        "followups.toml",
        "guides/ivig-therapy.md",
        "guides/dermatomyositis.md",
    } <= files
    assert {s.source_class for s in vecchietti} == {"peer-reviewed"}


def test_the_class_check_names_both_files_of_a_conflict():
    from nurse_app.core.source_identity import CitedSource, class_conflicts

    a = CitedSource(
        "reactions.toml", "N48", "peer-reviewed", "Vecchietti G et al. Severe eczematous. Arch Dermatol 2006."
    )
    b = CitedSource(
        "guides/x.md",
        "S5",
        "secondary",
        "Vecchietti G, et al. Other words. 2006.",
        "https://pubmed.ncbi.nlm.nih.gov/1/",
    )
    c = CitedSource("guides/y.md", "S1", "label", "A page.", "https://www.example.org/page/")
    d = CitedSource("limits.toml", "P1", "secondary", "The page again. http://example.org/page")
    [first, second] = class_conflicts([a, b, c, d])
    assert "reactions.toml N48 = peer-reviewed" in first and "guides/x.md S5 = secondary" in first
    assert "guides/y.md S1 = label" in second and "limits.toml P1 = secondary" in second
