"""Screenshot of the main window for the README (``make screenshots``).

Opens the real app window offscreen on a demo record (25 patients, the generator's
fixed seed), selects the third patient on the Patients page and saves the window to
``docs/main-window.png``.  The record and the window settings are temporary.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "main-window.png"


def main() -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from nurse_app.store import Store
    from nurse_app.store.demo import generate
    from nurse_app.ui.app import get_app
    from nurse_app.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        app = get_app()
        store = Store.open(Path(tmp) / "demo.db")
        generate(store, patients=25, seed=1)
        window = MainWindow(store=store, settings=QSettings(str(Path(tmp) / "ui.ini"), QSettings.IniFormat))
        window.resize(1280, 760)
        window.show()
        window.show_page("patients")
        table = window.patients.table
        table.selectRow(2)
        for _ in range(20):
            app.processEvents()
        TARGET.parent.mkdir(exist_ok=True)
        if not window.grab().save(str(TARGET)):
            print(f"could not write {TARGET}", file=sys.stderr)
            return 1
        window.close()
        store.close()
        QApplication.processEvents()
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
