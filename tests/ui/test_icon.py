"""The application icon: one SVG drawn for the project, PNG renderings, used everywhere."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from repo_paths import ROOT

ICONS = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def test_svg_is_valid_and_pngs_are_its_renderings(qapp):
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(ICONS / "nurse-app.svg"))
    assert renderer.isValid()
    for size in SIZES:
        png = QImage(str(ICONS / f"nurse-app-{size}.png"))
        assert png.size() == QSize(size, size), size
        fresh = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
        fresh.fill(Qt.transparent)
        painter = QPainter(fresh)
        painter.setRenderHint(QPainter.Antialiasing)
        renderer.render(painter)
        painter.end()
        png = png.convertToFormat(QImage.Format_ARGB32_Premultiplied)
        diff = sum(
            abs(png.pixelColor(x, y).value() - fresh.pixelColor(x, y).value())
            + abs(png.pixelColor(x, y).alpha() - fresh.pixelColor(x, y).alpha())
            for x in range(size)
            for y in range(size)
        ) / (size * size)
        assert diff < 8, f"nurse-app-{size}.png is out of date: run packaging/render_icons.py"


def test_icon_reads_at_16_px(qapp):
    """At 16 px the white bag and the cross inside it are still distinct from the background."""
    image = QImage(str(ICONS / "nurse-app-16.png"))
    centre, corner_in, bag = image.pixelColor(8, 7), image.pixelColor(2, 8), image.pixelColor(5, 5)
    assert bag.lightness() > 200  # the bag is white
    assert centre.lightness() < 150  # the cross shows through it
    assert corner_in.lightness() < 150  # the background frames it


def test_main_window_and_desktop_entry_use_the_icon(qtbot, tmp_path):
    from nurse_app.ui.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    sizes = {s.width() for s in window.windowIcon().availableSizes()}
    assert set(SIZES) <= sizes
    entry = (ROOT / "packaging" / "nurse-app.desktop").read_text(encoding="utf-8")
    assert "\nIcon=nurse-app\n" in entry


@pytest.mark.parametrize("size", SIZES)
def test_every_size_ships_in_the_package(size):
    from nurse_app.core.resources import resource_file

    assert resource_file(f"icons/nurse-app-{size}.png").is_file()
