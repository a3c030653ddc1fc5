"""Reading back which fonts a PDF embeds (shared by the font and frozen-build tests)."""

from __future__ import annotations

from pypdf import PdfReader


def embedded_fonts(source) -> dict[str, bool]:
    """BaseFont name (subset prefix removed) -> whether the font program is embedded."""
    fonts: dict[str, bool] = {}
    for page in PdfReader(source).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            name = str(font["/BaseFont"]).lstrip("/").split("+")[-1]
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and "/FontFile2" in descriptor.get_object()
            fonts[name] = fonts.get(name, False) or embedded
    return fonts


def pdf_text(source) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(source).pages)
