"""``nurse-app handout GUIDE --lang es|en|es+en``: the handout in the patient's language."""

from __future__ import annotations

from pdf_fonts import pdf_text


def _text(path) -> str:
    return " ".join(pdf_text(path).split())


def test_spanish_english_and_bilingual_handouts(cli, tmp_path):
    for lang in ("es", "en", "es+en"):
        out = tmp_path / f"itp-{lang}.pdf"
        result = cli("handout", "itp", "--lang", lang, "--out", out, "--phone", "555-0188")
        assert result.returncode == 0, result.stderr
        text = _text(out)
        assert ("Llame al 911 si" in text) == ("es" in lang)
        assert ("Call 911 if" in text) == ("en" in lang)
        assert "Llame al 555-0188" in text and "Call 555-0188" in text  # the tagline, in both languages
    assert cli("handout", "itp", "--out", tmp_path / "default.pdf").returncode == 0
    assert "Call 911 if" in _text(tmp_path / "default.pdf")  # English unless asked


def test_a_language_without_handouts_is_one_line(cli, tmp_path):
    result = cli("handout", "itp", "--lang", "fr", "--out", tmp_path / "x.pdf")
    assert (
        result.returncode == 2
        and result.stderr.count("\n") == 1
        and "handouts exist in en, es" in result.stderr
    )
    assert not (tmp_path / "x.pdf").exists()
    assert cli("handout", "itp", "--lang", "es+es", "--out", tmp_path / "y.pdf").returncode == 2
