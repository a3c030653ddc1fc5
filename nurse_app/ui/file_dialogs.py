"""Save dialogs that start where the nurse saved last time, with a name that says what the file is.

Each kind of file (visit summary, FHIR export, patient handout, record backup) remembers its own
last-used folder in QSettings (``folders/<kind>``; the main window's settings when the dialog has
one, else the application's).  Visit files are named from the visit date and course day, never
from the patient's name (a file name is seen in folder listings, mail attachments and recent-file
lists): ``visit-2026-11-26-day2-summary.pdf``.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QWidget

KINDS = ("summary", "fhir", "handout", "backup")
HEALTH_INFORMATION = "contains patient health information"


def _settings(parent: QWidget | None) -> QSettings:
    window = parent.window() if parent is not None else None
    settings = getattr(window, "settings", None)
    return settings if isinstance(settings, QSettings) else QSettings()


def last_folder(parent: QWidget | None, kind: str) -> str:
    """The folder the nurse last saved this kind of file in (if it still exists), else Documents."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of file: {kind!r}")
    folder = _settings(parent).value(f"folders/{kind}")
    if folder and os.path.isdir(str(folder)):
        return str(folder)
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return documents if documents and os.path.isdir(documents) else str(Path.home())


def start_path(parent: QWidget | None, kind: str, name: str) -> str:
    """What to pass a save dialog as its start: the last-used folder of ``kind`` and ``name``."""
    return os.path.join(last_folder(parent, kind), name)


def remember_folder(parent: QWidget | None, kind: str, path: str) -> None:
    """Note the folder of a file the nurse chose, for the next dialog of the same kind."""
    settings = _settings(parent)
    settings.setValue(f"folders/{kind}", str(Path(path).parent))
    settings.sync()


def visit_file_name(visit: dict, what: str, extension: str) -> str:
    """``visit-2026-11-26-day2-summary.pdf``: the visit's local date and course day, no patient detail."""
    from nurse_app.store import to_local

    when = visit.get("started_at") or visit.get("created_at")
    date = to_local(when).date().isoformat() if when else "undated"
    return f"visit-{date}-day{int(visit.get('course_day') or 1)}-{what}.{extension}"
