"""Compare PDF pages as rendered by pdfium: a printed raster against the reportlab layout."""


def render(source, index: int, dpi: int = 40, via: int | None = None):
    """Page ``index`` of a PDF (path or bytes) in grey levels at ``dpi`` (pdfium): (width, height,
    rows of bytes, page size in points).  ``via``: rendered at that resolution first and scaled
    down, as a printed raster is."""
    import pypdfium2 as pdfium
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    document = pdfium.PdfDocument(str(source) if not isinstance(source, bytes) else source)
    page = document[index]
    size_pt = page.get_size()
    bitmap = page.render(scale=(via or dpi) / 72, grayscale=True)
    image = QImage(
        bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride, QImage.Format.Format_Grayscale8
    ).copy()
    document.close()
    if via:
        image = image.scaled(
            round(size_pt[0] * dpi / 72),
            round(size_pt[1] * dpi / 72),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    width, height = image.width(), image.height()
    data, stride = bytes(image.constBits()), image.bytesPerLine()
    return width, height, [data[r * stride : r * stride + width] for r in range(height)], size_pt


def differs(a, b, block: int = 5) -> float:
    """Mean absolute difference (0 to 255) of the grey level of ``block``-pixel squares of two
    renderings of the same size: the same layout gives a small number whether its text was
    drawn as vectors or as a printed raster; another page gives a large one."""
    assert (a[0], a[1]) == (b[0], b[1])
    width, height = a[0], a[1]
    total = count = 0
    for top in range(0, height - block + 1, block):
        for left in range(0, width - block + 1, block):
            sa = sum(a[2][y][x] for y in range(top, top + block) for x in range(left, left + block))
            sb = sum(b[2][y][x] for y in range(top, top + block) for x in range(left, left + block))
            total += abs(sa - sb) / block**2
            count += 1
    return total / count
