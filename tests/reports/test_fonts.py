"""The app's own DejaVu Sans prints every name: reportlab and Qt use the packaged files.

"Łucja Wójcik" needs a font with Central European letters: reportlab's built-in Vera has no
"ł" and Windows/macOS have no DejaVu, so the font must come from the package, never from
/usr/share.  Read back with pypdf: the text survives and the embedded font is DejaVu Sans.
"""

from __future__ import annotations

from pathlib import Path

from pdf_fonts import embedded_fonts, pdf_text
from visit_export_helpers import make_visit, open_record

from nurse_app.cli import main as cli
from nurse_app.core.resources import resource_root
from nurse_app.reports.common import font_files

NAME = "Łucja Wójcik"
FONT_DIR = Path(str(resource_root())) / "fonts"


def test_report_fonts_are_the_packaged_dejavu_files():
    files = font_files()
    assert set(files) == {"", "-Bold", "-Oblique", "-BoldOblique"}
    for path in files.values():
        assert Path(path).parent == FONT_DIR, f"{path} is not the packaged font"
        assert Path(path).name.startswith("DejaVuSans") and Path(path).is_file()
    licence = (FONT_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "Bitstream" in licence and "DejaVu" in licence


def test_visit_summary_prints_lucja_wojcik_in_the_packaged_font(tmp_path, capsys):
    db = tmp_path / "record.db"
    with open_record(db) as store:
        visit = make_visit(store, name=NAME, sign=True)
    out = tmp_path / "summary.pdf"
    assert cli(["--db", str(db), "visit-pdf", str(visit), "--out", str(out)]) == 0
    assert NAME in pdf_text(out)
    fonts = embedded_fonts(out)
    assert fonts, "the summary embeds no font"
    assert all(name.startswith("DejaVuSans") for name in fonts), fonts
    assert all(fonts.values()), f"a font is referenced but not embedded: {fonts}"


def test_handout_prints_lucja_wojcik_in_the_packaged_font(tmp_path, capsys):
    out = tmp_path / "handout.pdf"
    assert cli(["handout", "itp", "--out", str(out), "--nurse", NAME]) == 0
    assert NAME in pdf_text(out)
    fonts = embedded_fonts(out)
    assert fonts and all(n.startswith("DejaVuSans") and e for n, e in fonts.items()), fonts


def test_qt_registers_the_packaged_font(qapp):
    from PySide6.QtGui import QFont, QFontDatabase, QFontInfo

    from nurse_app.ui.assets import FONT_FAMILY, register_fonts

    assert FONT_FAMILY in register_fonts()
    assert FONT_FAMILY in QFontDatabase.families()
    font = QFont(FONT_FAMILY)
    font.setPointSizeF(10)
    assert QFontInfo(font).family() == FONT_FAMILY
