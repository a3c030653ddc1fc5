"""The guide loader: parsing a good guide, and every validation rule firing on a broken one.

Each broken guide is the sample fixture with one deliberate fault, written to a
temporary folder; the error must be a ResourceError naming the file and the fault.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from repo_paths import GUIDE_FIXTURES

from nurse_app.core.errors import ResourceError
from nurse_app.core.guides import REQUIRED_SECTIONS, guide_html, load_guides, markdown_to_text, section_anchor

FIXTURES = GUIDE_FIXTURES
SAMPLE = (FIXTURES / "dermatomyositis.md").read_text(encoding="utf-8")
REGIMENS = {"dermatomyositis", "pemphigus"}


def load_sample(tmp_path: Path, text: str, name: str = "dermatomyositis.md"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_guides(tmp_path, regimen_ids=REGIMENS)


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"fixture changed: {old!r} not found exactly once"
    return text.replace(old, new)


def test_sample_guide_parses_all_fields():
    guide = load_guides(FIXTURES, regimen_ids=REGIMENS)["dermatomyositis"]
    assert guide.title == "Dermatomyositis"
    assert guide.aliases == ("DM", "JDM")
    assert guide.icd10 == ("M33.10", "M33.90")
    assert guide.last_reviewed == dt.date(2026, 11, 24)
    assert guide.reviewed_text == "24 November 2026"
    assert guide.regimens == ("dermatomyositis",)
    assert [s.key for s in guide.sources] == ["S1", "S2"]
    assert guide.sources[1].url == "https://example.org/vecchietti-2006"
    assert tuple(s.title for s in guide.sections) == REQUIRED_SECTIONS
    assert guide.file.endswith("dermatomyositis.md")
    assert guide.emergency_list() == ("You find it hard to breathe or swallow.",)
    assert guide.call_list() == ("You get small itchy blisters on your hands or feet.",)
    # The handout lists the sources its own section cites (both here), but never a secondary
    # one: S1 (a provider's seed page) is "secondary", S2 (a journal paper) "peer-reviewed".
    assert [(s.key, s.source_class) for s in guide.sources] == [("S1", "secondary"), ("S2", "peer-reviewed")]
    assert [s.key for s in guide.handout_sources()] == ["S2"]


def test_handout_blocks_group_the_call_list():
    guide = load_guides(FIXTURES, regimen_ids=REGIMENS)["dermatomyositis"]
    kinds = [b.kind for b in guide.handout_blocks()]
    assert kinds == ["heading", "paragraph", "call", "call"]
    emergency, call = guide.handout_blocks()[-2:]
    assert (emergency.html, emergency.emergency) == ("Call 911 if", True)
    assert (call.html, call.emergency) == ("Call your nurse or doctor if", False)
    assert call.children[0].kind == "bullets"
    assert guide.handout_parts().calls == (emergency, call)


def test_plain_text_drops_markdown_and_citations():
    text = markdown_to_text("- A **purple** rash [S1].\n- Weak [muscles](guide:x) [S1, S2].\n")
    assert text == "A purple rash.\nWeak muscles."


def test_html_links_guides_regimens_and_citations():
    guide = load_guides(FIXTURES, regimen_ids=REGIMENS)["dermatomyositis"]
    html = guide_html(guide, regimen_names={"dermatomyositis": "DM regimen 2 g/kg"})
    assert '<a href="regimen:dermatomyositis">DM regimen 2 g/kg</a>' in html
    assert '<a href="regimen:dermatomyositis">open in calculator</a>' in html
    assert '<a href="#source-S2">S2</a>' in html
    assert '<a name="source-S2"></a>' in html
    for title in REQUIRED_SECTIONS:
        assert f'<a name="{section_anchor(title)}"></a>{title}</h2>' in html
    assert "<li>You find it hard to breathe or swallow.</li>" in html


def test_links_between_guides_resolve(tmp_path):
    shutil.copy(FIXTURES / "dermatomyositis.md", tmp_path)
    other = replace_once(SAMPLE, 'id = "dermatomyositis"', 'id = "pemphigus"')
    other = replace_once(other, "related = []", 'related = ["dermatomyositis"]')
    other = replace_once(
        other, "A rare disease", "Like [dermatomyositis](guide:dermatomyositis), a rare disease"
    )
    guides = load_sample(tmp_path, other, "pemphigus.md")
    assert sorted(guides) == ["dermatomyositis", "pemphigus"]
    assert guides["pemphigus"].related == ("dermatomyositis",)


BROKEN = {
    "no front matter": (lambda t: t.replace("+++\n", "", 1), "must start with a '+++' line"),
    "front matter never closed": (lambda t: t.replace("+++\n\n## What", "\n## What", 1), "never closed"),
    "front matter not TOML": (
        lambda t: replace_once(t, 'title = "Dermatomyositis"', "title = Dermato"),
        "front matter is not valid TOML",
    ),
    "id differs from file name": (
        lambda t: replace_once(t, 'id = "dermatomyositis"', 'id = "dm"'),
        "must equal the file name",
    ),
    "missing title": (
        lambda t: replace_once(t, 'title = "Dermatomyositis"\n', ""),
        "title: required field is missing",
    ),
    "unknown front matter key": (
        lambda t: replace_once(t, "related = []", "related = []\nicd11 = []"),
        "icd11: unknown field (typo?)",
    ),
    "ICD-10 code implausible": (
        lambda t: replace_once(t, '"M33.90"', '"33.90"'),
        "does not look like an ICD-10 code",
    ),
    "no ICD-10 code": (
        lambda t: replace_once(t, 'icd10 = ["M33.10", "M33.90"]', "icd10 = []"),
        "icd10: expected at least one entry",
    ),
    "last_reviewed not a date": (
        lambda t: replace_once(t, "last_reviewed = 2026-11-24", 'last_reviewed = "24/11/2026"'),
        "last_reviewed: expected a TOML date",
    ),
    "last_reviewed a date-time": (
        lambda t: replace_once(t, "last_reviewed = 2026-11-24", "last_reviewed = 2026-11-24T10:00:00"),
        "last_reviewed: expected a TOML date",
    ),
    "no sources": (
        lambda t: t[: t.index("[[sources]]")] + "sources = []\n" + t[t.index("+++\n\n##") :],
        "sources: expected at least one entry",
    ),
    "source without citation": (
        lambda t: replace_once(
            t, 'citation = "Home infusion provider, Dermatomyositis and IVIG (seed document), n.d."\n', ""
        ),
        "sources[0].citation: required field is missing",
    ),
    "source without class": (
        lambda t: replace_once(t, 'class = "secondary"\n', ""),
        "sources[0].class: required field is missing",
    ),
    "source with an unknown class": (
        lambda t: replace_once(t, 'class = "secondary"', 'class = "blog"'),
        "sources[0].class: Input should be 'label', 'guideline'",
    ),
    "duplicate source key": (
        lambda t: replace_once(t, 'key = "S2"', 'key = "S1"'),
        "sources[1].key: source key 'S1' appears twice",
    ),
    "citation of an unknown source": (
        lambda t: replace_once(t, "weakness [S1].", "weakness [S7]."),
        "cites [S7], which is not in the sources",
    ),
    "reference-pack tag copied": (
        lambda t: replace_once(t, "weakness [S1].", "weakness [C1]."),
        "cites [C1]",
    ),
    "no citation at all": (
        lambda t: (
            t[: t.index("+++\n\n##")] + t[t.index("+++\n\n##") :].replace(" [S1]", "").replace(" [S2]", "")
        ),
        "cites none of its sources",
    ),
    "required section missing": (
        lambda t: replace_once(
            t,
            "## Usual treatment\n\nSteroids by mouth come first; other drugs that calm the immune system "
            "may be added [S1].\n\n",
            "",
        ),
        "required section '## Usual treatment' is missing",
    ),
    "sections out of order": (
        lambda t: replace_once(
            replace_once(t, "## What it is", "## TMP"), "## Signs and symptoms", "## What it is"
        ).replace("## TMP", "## Signs and symptoms"),
        "sections are out of order",
    ),
    "empty section": (
        lambda t: replace_once(
            t, "The exact cause is not known; the immune system attacks the body's own tissue [S1].\n", ""
        ),
        "section '## Causes and risk factors' is empty",
    ),
    "section with only whitespace markup": (
        lambda t: replace_once(
            t, "The exact cause is not known; the immune system attacks the body's own tissue [S1].", "-"
        ),
        "section '## Causes and risk factors' is empty",
    ),
    "unexpected section": (
        lambda t: replace_once(t, "## Usual treatment", "## Treatment"),
        "unexpected section '## Treatment'",
    ),
    "duplicated section": (lambda t: t + "\n## What it is\n\nAgain [S1].\n", "appears more than once"),
    "level-1 heading": (
        lambda t: replace_once(t, "+++\n\n## What it is", "+++\n\n# Dermatomyositis\n\n## What it is"),
        "level-1 heading '# Dermatomyositis' is not allowed",
    ),
    "text before the first section": (
        lambda t: replace_once(t, "+++\n\n## What it is", "+++\n\nIntro.\n\n## What it is"),
        "text before the first",
    ),
    "no call-your-nurse heading": (
        lambda t: replace_once(t, "### Call your nurse or doctor if", "### When to get help"),
        "has no '### Call your nurse or doctor if' heading",
    ),
    "call heading without a list": (
        lambda t: replace_once(
            t, "### Call your nurse or doctor if\n\n- You get", "### Call your nurse or doctor if\n\nYou get"
        ),
        "must be followed directly by a bullet list",
    ),
    # Issue 9: trouble breathing, throat or lip swelling go under "Call 911 if", never the nurse list.
    "no call-911 heading": (
        lambda t: replace_once(t, "### Call 911 if\n\n- You find it hard to breathe or swallow.\n\n", ""),
        "has no '### Call 911 if' heading",
    ),
    "breathing under call your nurse": (
        lambda t: replace_once(
            t,
            "- You get small itchy blisters",
            "- You find it hard to breathe.\n- You get small itchy blisters",
        ),
        "'breathe' belongs under '### Call 911 if'",
    ),
    "lip swelling under call your nurse": (
        lambda t: replace_once(
            t, "- You get small itchy blisters", "- Your lips swell.\n- You get small itchy blisters"
        ),
        "'lips' belongs under '### Call 911 if'",
    ),
    "call 911 told under call your nurse": (
        lambda t: t + "\nIf your throat feels tight, call 911 first.\n",
        "belongs under '### Call 911 if'",
    ),
    "911 list after the nurse list": (
        lambda t: (
            replace_once(t, "### Call 911 if\n\n- You find it hard to breathe or swallow.\n\n", "")
            + "\n### Call 911 if\n\n- You find it hard to breathe or swallow.\n"
        ),
        "must come before",
    ),
    "call list outside the handout": (
        lambda t: replace_once(
            replace_once(t, "### Call your nurse or doctor if", "### Danger signs"),
            "## What the nurse monitors\n",
            "## What the nurse monitors\n\n### Call your nurse or doctor if\n\n- Fever.\n",
        ),
        "has no '### Call your nurse or doctor if' heading",
    ),
    "unknown regimen link": (
        lambda t: replace_once(t, "(regimen:dermatomyositis)", "(regimen:dm-2g)"),
        "links to unknown regimen 'regimen:dm-2g'",
    ),
    "unknown regimen id": (
        lambda t: replace_once(t, 'regimens = ["dermatomyositis"]', 'regimens = ["dm"]'),
        "regimens: unknown regimen id 'dm'",
    ),
    "unknown guide link": (
        lambda t: replace_once(t, "A rare disease", "A rare [disease](guide:myositis)"),
        "refers to guide 'myositis', which does not exist",
    ),
    "unknown related guide": (
        lambda t: replace_once(t, "related = []", 'related = ["ivig-therapy"]'),
        "refers to guide 'ivig-therapy', which does not exist",
    ),
    "relative file link": (
        lambda t: replace_once(t, "A rare disease", "A rare [disease](pemphigus.md)"),
        "has link 'pemphigus.md'",
    ),
}


@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_each_rule_fires_on_a_broken_guide(tmp_path, fault):
    mutate, expected = BROKEN[fault]
    broken = mutate(SAMPLE)
    assert broken != SAMPLE
    with pytest.raises(ResourceError) as info:
        load_sample(tmp_path, broken)
    message = str(info.value)
    assert "dermatomyositis.md" in message
    assert expected in message


def test_non_utf8_guide_is_named(tmp_path):
    (tmp_path / "dermatomyositis.md").write_bytes(SAMPLE.encode("utf-8") + "Ã©".encode("latin-1") + b"\xff")
    with pytest.raises(ResourceError, match=r"dermatomyositis\.md: not UTF-8"):
        load_guides(tmp_path, regimen_ids=REGIMENS)


def test_bad_guide_id_characters(tmp_path):
    text = replace_once(SAMPLE, 'id = "dermatomyositis"', 'id = "Derm_1"')
    with pytest.raises(ResourceError, match=r"Derm_1\.md: id 'Derm_1' must be lowercase"):
        load_sample(tmp_path, text, "Derm_1.md")


def test_empty_and_missing_folders(tmp_path):
    with pytest.raises(ResourceError, match="no guides"):
        load_guides(tmp_path, regimen_ids=REGIMENS)
    with pytest.raises(ResourceError, match="guides folder is missing"):
        load_guides(tmp_path / "nowhere", regimen_ids=REGIMENS)


def test_regimen_ids_default_to_the_dose_catalogue(tmp_path):
    """Without regimen_ids the catalogue decides: 'dermatomyositis' is a catalogue regimen."""
    from nurse_app.core.catalogue import load_catalogue

    assert "dermatomyositis" in load_catalogue().regimens
    shutil.copy(FIXTURES / "dermatomyositis.md", tmp_path)
    assert "dermatomyositis" in load_guides(tmp_path)
    (tmp_path / "dermatomyositis.md").write_text(
        replace_once(SAMPLE, "(regimen:dermatomyositis)", "(regimen:not-in-catalogue)"), encoding="utf-8"
    )
    with pytest.raises(ResourceError, match="unknown regimen 'regimen:not-in-catalogue'"):
        load_guides(tmp_path)


def test_handout_lists_only_the_sources_it_cites(tmp_path):
    text = replace_once(SAMPLE, "It takes a few hours [S1].", "It takes a few hours.")
    guide = load_sample(tmp_path, text)["dermatomyositis"]
    assert [s.key for s in guide.handout_sources()] == ["S2"]
