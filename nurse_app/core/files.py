"""Writing a file so that a crash or a full disk never leaves half of it: the one mechanism.

:func:`write_atomically` writes beside the target into a temporary file, flushes it to the disk
(``fsync``), renames it over the target and flushes the folder, so the rename itself survives a
power cut.  :func:`replace_durably` does the last two steps for a file another writer made
(a backup copy, an encrypted copy of the record).  The folder flush is skipped where a folder
cannot be opened (Windows).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a written file's content to the disk."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Make a rename in ``folder`` durable (POSIX); harmless where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_durably(written: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Flush ``written`` and rename it over ``target`` (same folder), then flush the folder."""
    fsync_file(written)
    os.replace(written, target)
    fsync_folder(Path(target).parent)


def write_atomically(data: bytes, target: str | os.PathLike[str], *, mode: int = 0o600) -> Path:
    """Write ``data`` to ``target`` through a flushed temporary file renamed into place, with
    permission ``mode`` whatever the umask.  Raises ``OSError``; the temporary file is removed."""
    path = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=".nurse-app-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_folder(path.parent)
    return path


def special_file(path: str | os.PathLike[str]) -> str | None:
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
