"""Private files: the record, its companions and backups are readable by this user only.

The record holds protected health information, so whatever the user's umask (022 on
most systems makes new files readable by everyone), the record folder and backups
folder are 0700 and the record, its ``-wal``/``-shm`` companions, backups and
before-restore copies are 0600.  SQLite creates ``-wal``/``-shm`` with the same mode
as the record file, so creating the record 0600 *before* SQLite opens it covers them;
:func:`tighten` also fixes the modes of files made by older versions.

On Windows (no POSIX modes) these calls do nothing harmful: the user profile folder is
already private there.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700
COMPANIONS = ("-wal", "-shm", "-journal")


def _chmod(path: Path, mode: int) -> None:
    # Not ours to change (another user's folder, a read-only mount): leave as is.
    with contextlib.suppress(OSError, NotImplementedError):
        os.chmod(path, mode)


def make_folder(folder: Path) -> None:
    """Create ``folder`` (and missing parents) with the new last level private (0700)."""
    folder = Path(folder)
    existed = folder.exists()
    folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    if not existed:
        _chmod(folder, FOLDER_MODE)  # mkdir's mode is filtered by the umask; make it exact


def private_folder(folder: Path) -> None:
    """Make ``folder`` (created if needed) private: 0700."""
    make_folder(folder)
    _chmod(Path(folder), FOLDER_MODE)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (then only its mode is set).

    Done before SQLite opens a new file, so the file and its journal companions are
    never readable by others, not even for a moment.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    _chmod(path, FILE_MODE)


def tighten(path: Path) -> None:
    """Set the record ``path`` and any companion files present to 0600."""
    path = Path(path)
    for candidate in (path, *(path.with_name(path.name + s) for s in COMPANIONS)):
        if candidate.exists():
            _chmod(candidate, FILE_MODE)
