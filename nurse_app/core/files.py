"""What a path is, asked without opening it (no Qt, no SQL): the record, its backups and every export
write only to regular files."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def special_file(path: Path) -> str | None:
    """What ``path`` is when it exists but is not a regular file ("a named pipe (FIFO)", "a
    folder", "a device", "a socket"); None for a regular file or nothing there.

    Only ``stat`` is used: opening a FIFO to look inside would wait for a writer forever.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"
