"""Paper and printing shared by every page that prints (the visit summary, the handout).

* :func:`locale_page_size` - the paper the nurse's printer most likely holds (US Letter in the
  Letter countries, A4 elsewhere), and :func:`reportlab_page_size` - the same as reportlab points;
* :func:`print_pdf` - prints a reportlab PDF page by page (pdfium renders each page at the
  printer's resolution), so the paper shows exactly what "Save as PDF" writes.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale, QRectF
from PySide6.QtGui import QImage, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from nurse_app.core.errors import NurseAppError

# --------------------------------------------------------------------------- paper

# Countries whose paper is US Letter (the rest of the world uses A4).
_LETTER_TERRITORIES = {
    "UnitedStates",
    "Canada",
    "Mexico",
    "Philippines",
    "Chile",
    "Colombia",
    "Venezuela",
    "CostaRica",
    "Guatemala",
    "Panama",
    "DominicanRepublic",
    "ElSalvador",
    "Nicaragua",
    "PuertoRico",
}


def locale_page_size(locale: QLocale | None = None) -> QPageSize:
    """US Letter in the Americas' Letter countries (and wherever measurement is US customary), A4
    elsewhere: the paper the nurse's printer most likely holds."""
    locale = locale or QLocale()
    territory = locale.territory().name if hasattr(locale, "territory") else locale.country().name
    if (
        territory in _LETTER_TERRITORIES
        or locale.measurementSystem() == QLocale.MeasurementSystem.ImperialUSSystem
    ):
        return QPageSize(QPageSize.PageSizeId.Letter)
    return QPageSize(QPageSize.PageSizeId.A4)


def reportlab_page_size(page_size: QPageSize) -> tuple[float, float]:
    """A Qt page size as reportlab's (width, height) in points, portrait."""
    size = page_size.size(QPageSize.Unit.Millimeter)  # exact for A4 and Letter (points are rounded)
    width, height = (round(side * 72 / 25.4, 2) for side in (size.width(), size.height()))
    return (min(width, height), max(width, height))


# Rendering resolution for printing (pdfium renders the reportlab PDF to the printer).
PRINT_DPI_MAX = 300


def print_pdf(data: bytes, printer: QPrinter) -> int:
    """Print every page of a PDF on ``printer`` (GUI thread) and return the page count.

    Each page is rendered by pdfium at the printer's resolution (at most PRINT_DPI_MAX) and
    painted on the whole sheet: the PDF carries its own margins (at least 0.5 in), header, footer
    and watermark, so the paper shows exactly what "Save as PDF" writes.
    """
    import pypdfium2 as pdfium

    printer.setFullPage(True)
    document = pdfium.PdfDocument(data)
    painter = QPainter()
    try:
        total = len(document)
        if not painter.begin(printer):
            raise NurseAppError("The printer could not be started; check that it is connected and try again.")
        try:
            paper = printer.pageLayout().fullRectPixels(printer.resolution())
            for index in range(total):
                if index:
                    printer.newPage()
                page = document[index]
                width_pt, height_pt = page.get_size()
                scale = min(paper.width() / width_pt, paper.height() / height_pt)
                dpi = min(PRINT_DPI_MAX, printer.resolution())
                bitmap = page.render(scale=dpi / 72, draw_annots=False, prefer_bgrx=True)
                image = _to_qimage(bitmap)
                target = QRectF(0, 0, width_pt * scale, height_pt * scale)
                painter.drawImage(target, image)
                bitmap.close()
                page.close()
        finally:
            painter.end()
    finally:
        document.close()
    return total


def _to_qimage(bitmap) -> QImage:
    """A pdfium bitmap (BGRA/BGRx) as a QImage that owns its pixels."""
    buffer = bytes(bitmap.buffer)
    fmt = QImage.Format.Format_RGB32 if bitmap.n_channels in (3, 4) else QImage.Format.Format_Grayscale8
    return QImage(buffer, bitmap.width, bitmap.height, bitmap.stride, fmt).copy()
