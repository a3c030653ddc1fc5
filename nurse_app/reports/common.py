"""What every PDF report shares: fonts, "Page x of y" decoration, text fitting, safe saving.

Fonts: a TrueType font is embedded so accented names ("José Müller", "Zoë", "Łucja
Wójcik") print.  The app ships DejaVu Sans (with its licence) in ``resources/fonts``
and registers it from there, so a PDF looks the same on every computer and never
depends on the fonts installed on it (Windows and macOS have no DejaVu; reportlab's
own Vera has no "ł").

Page numbers: reportlab only knows the page total once the whole story is laid
out, so :func:`decorated_canvas` keeps every page until ``save`` and then lets the
report draw its header/footer/watermark on each one with the total known.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas

from nurse_app.core.errors import InputError
from nurse_app.core.resources import resource_file
from nurse_app.store.location import special_file

FONT = "NurseSans"
BOLD = FONT + "-Bold"

_FONT_FILES = {
    "": "DejaVuSans.ttf",
    "-Bold": "DejaVuSans-Bold.ttf",
    "-Oblique": "DejaVuSans-Oblique.ttf",
    "-BoldOblique": "DejaVuSans-BoldOblique.ttf",
}

# decorate(canvas, page_number, page_total), called once per page when the PDF is saved.
Decorator = Callable[[rl_canvas.Canvas, int, int], None]


def font_files() -> dict[str, str]:
    """Regular/bold/italic files of the packaged DejaVu Sans (``resources/fonts``)."""
    return {suffix: str(resource_file(f"fonts/{name}")) for suffix, name in _FONT_FILES.items()}


def register_fonts() -> None:
    """Register the report font family once per process (``FONT``, ``BOLD``...)."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for suffix, path in font_files().items():
        pdfmetrics.registerFont(TTFont(FONT + suffix, path))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=BOLD, italic=FONT + "-Oblique", boldItalic=FONT + "-BoldOblique"
    )


def escape(text: str) -> str:
    """Text made safe for a reportlab Paragraph (which reads a small XML markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, width: float, size: float, font: str = FONT) -> str:
    """``text`` shortened with an ellipsis so it fits ``width`` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def decorated_canvas(decorate: Decorator, result: dict) -> type[rl_canvas.Canvas]:
    """A canvas class that calls ``decorate`` on every page once the page total is known.

    Pass it as ``doc.build(story, canvasmaker=...)``; ``result["pages"]`` is set to
    the page count.  The decoration is drawn over the page content.
    """

    class DecoratedCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            if not kwargs.get("initialFontName"):
                # reportlab's default, Helvetica, is not embedded and has no "ł": never reference it.
                register_fonts()
                kwargs["initialFontName"] = FONT
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # reportlab's page reset, missing from its stubs

        def save(self):
            total = len(self._pages)
            result["pages"] = total
            for state in self._pages:
                self.__dict__.update(state)
                self.saveState()
                decorate(self, self._pageNumber, total)  # type: ignore[attr-defined]  # as above
                self.restoreState()
                super().showPage()
            super().save()

    return DecoratedCanvas


def write_atomically(data: bytes, out: str | os.PathLike, what: str, *, private: bool = True) -> Path:
    """Write ``data`` to ``out`` through a temporary file renamed into place.

    ``private`` (the default, for anything with patient data: visit summaries, FHIR
    exports): the file is readable by this user only (0600), whatever the umask.
    ``private=False`` (patient handouts: no patient data) gives the usual 0644.

    A full disk or a crash never leaves a half-written file where a good one was.
    Failure raises :class:`InputError` "Could not save the {what} to {out}: reason."
    """
    target = Path(out)
    kind = special_file(target)
    if kind is not None:  # a device, FIFO or folder is never replaced by a file
        raise InputError(
            f"Could not save the {what} to {target}: it is {kind}; choose a file name.", field="out"
        )
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".nurse-app-", suffix=target.suffix, dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600 if private else 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        reason = (
            "the disk is full, so nothing was saved; free some space or choose another place"
            if exc.errno == errno.ENOSPC
            else exc.strerror or exc
        )
        raise InputError(f"Could not save the {what} to {target}: {reason}.", field="out") from exc
    return target
