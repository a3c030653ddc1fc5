"""Render resources/icons/nurse-app.svg to the PNG sizes desktops and installers use.

    .venv/bin/python packaging/render_icons.py      # rewrites resources/icons/nurse-app-<N>.png

The PNGs are committed (the build does not need Qt's SVG renderer); run this again
after changing the SVG.  Uses Qt's own SVG renderer, offscreen.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256)
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - needed by QPainter on images with text/paths
    renderer = QSvgRenderer(str(ICONS / "nurse-app.svg"))
    if not renderer.isValid():
        print("nurse-app.svg is not a valid SVG", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
        image.fill(Qt.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setRenderHint(QPainter.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        target = ICONS / f"nurse-app-{size}.png"
        if not image.save(str(target)):
            print(f"could not write {target}", file=sys.stderr)
            return 1
        print(f"wrote {target.relative_to(ICONS.parents[1])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
