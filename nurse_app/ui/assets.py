"""Packaged fonts and the application icon, handed to Qt.

DejaVu Sans ships in ``resources/fonts`` (see its README and LICENSE) and is registered
with Qt here, as the PDFs register it with reportlab: printed summaries ask for
"DejaVu Sans" and get the packaged file on any computer, and a machine with no fonts
of its own still shows text.  The icon is drawn for the project
(``resources/icons/nurse-app.svg``, with PNG renderings from 16 to 256 px).
"""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QIcon

from nurse_app.core.resources import resource_file

FONT_FAMILY = "DejaVu Sans"
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf")
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)

_registered: list[str] = []


def register_fonts() -> list[str]:
    """Add the packaged font files to Qt's font database (once); returns the families added."""
    if not _registered:
        for name in FONT_FILES:
            font_id = QFontDatabase.addApplicationFont(str(resource_file(f"fonts/{name}")))
            if font_id < 0:
                raise RuntimeError(f"Qt could not load the packaged font resources/fonts/{name}")
            _registered.extend(
                f for f in QFontDatabase.applicationFontFamilies(font_id) if f not in _registered
            )
    return list(_registered)


def app_icon() -> QIcon:
    """The application icon at every packaged size (window, task bar, dialogs)."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(resource_file(f"icons/nurse-app-{size}.png")))
    return icon
