"""``nurse-app guides search|show`` and ``nurse-app handout`` through the entry point ``cli.main``."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from nurse_app.core.guides import load_guides


def test_search_json_puts_the_abbreviated_guide_first(cli):
    result = cli("guides", "search", "PV", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits[0]["id"] == "pemphigus"
    assert set(hits[0]) == {"id", "title", "section", "snippet", "snippet_marked", "score"}
    assert "[" in hits[0]["snippet_marked"] and "\x02" not in hits[0]["snippet"]


def test_search_text_output_names_guide_section_and_match(cli):
    result = cli("guides", "search", "delayed", "eczematous", "reaction")
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    assert first == "ivig-therapy: IVIG therapy"
    section, snippet = second.strip().split(": ", 1)
    assert section in {s.title for s in load_guides()["ivig-therapy"].sections}
    assert "[delayed" in snippet.lower() and "eczematous]" in snippet.lower()


def test_search_without_matches_exits_1_with_a_message(cli):
    result = cli("guides", "search", "zzqxv")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "No guide matches."


@pytest.mark.parametrize("query", ['"((', "NEAR(", "*", "-", "title:DM"])
def test_search_with_hostile_text_never_crashes(cli, query):
    result = cli("guides", "search", "--json", "--", query)
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), list)
    assert "Traceback" not in result.stderr


def test_show_prints_the_whole_guide(cli):
    guide = load_guides()["pemphigus"]
    result = cli("guides", "show", "pemphigus")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"# {guide.title}\n")
    for section in guide.sections:
        assert f"\n## {section.title}\n" in result.stdout
    assert "\n## Sources\n" in result.stdout
    for source in guide.sources:
        assert f"[{source.key}] {source.citation}" in result.stdout


def test_handout_writes_a_pdf_with_the_contact(cli, tmp_path):
    out = tmp_path / "pemphigoid handout.pdf"
    result = cli(
        "handout", "pemphigoid", "--out", str(out), "--nurse", "Zoë Ødegård-Müller", "--phone", "555-0142"
    )
    assert result.returncode == 0, result.stderr
    pages = len(PdfReader(str(out)).pages)
    assert result.stdout.strip() == f"Wrote {out} ({pages} page{'s' if pages != 1 else ''})."
    text = "\n".join(page.extract_text() for page in PdfReader(str(out)).pages)
    assert load_guides()["pemphigoid"].title in " ".join(text.split())
    assert "Zoë Ødegård-Müller" in text and "555-0142" in text


@pytest.mark.parametrize(
    "args",
    [
        ("guides", "show", "lupus"),
        ("handout", "lupus", "--out", "x.pdf"),
    ],
)
def test_unknown_guide_id_exits_2_with_one_line(cli, args):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "No guide called 'lupus'" in lines[0] and "pemphigus" in lines[0]


def test_handout_to_an_unwritable_place_exits_2_with_one_line(cli, tmp_path):
    result = cli("handout", "itp", "--out", str(tmp_path / "no-such-folder" / "itp.pdf"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Could not save the handout" in lines[0]


@pytest.mark.parametrize(
    "args", [("guides",), ("handout", "itp"), ("guides", "search", "DM", "--limit", "0")]
)
def test_usage_errors_exit_2_without_traceback(cli, args):
    result = cli(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
