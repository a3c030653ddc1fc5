"""Where the record file lives, and whether the folder can hold it.

Order of precedence: ``--db PATH`` on the command line, then the ``NURSE_APP_DB``
environment variable, then ``nurse-app.db`` in the user data folder from platformdirs
(e.g. ``~/.local/share/nurse-app`` on Linux).  Only the default folder is created
automatically; an explicitly chosen folder that does not exist is reported (a typo in
a path must not silently start an empty record somewhere else).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from platformdirs import user_data_dir

from nurse_app.store.errors import DatabaseLocationError
from nurse_app.store.private import make_folder

APP_NAME = "nurse-app"
DB_FILENAME = "nurse-app.db"
ENV_VAR = "NURSE_APP_DB"
# Shown in the GUI too, so no command-line flag here; the CLI adds DatabaseLocationError.cli_hint.
_CHOOSE = "Use a record file in a folder you can write to."


def default_db_path() -> Path:
    return Path(user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME


def error_log_path() -> Path:
    """Where unexpected errors are logged (tracebacks only, never field values)."""
    return Path(user_data_dir(APP_NAME, appauthor=False)) / "logs" / "errors.log"


def resolve_db_path(cli_value: str | os.PathLike[str] | None = None) -> tuple[Path, bool]:
    """The record file to use and whether it is the default location."""
    for value in (cli_value, os.environ.get(ENV_VAR)):
        if value is not None and str(value).strip():
            return Path(os.path.expanduser(str(value).strip())).absolute(), False
    return default_db_path(), True


def ensure_folder(path: Path, *, create: bool) -> None:
    """Raise :class:`DatabaseLocationError` unless ``path``'s folder exists and is writable.

    SQLite needs to create companion files (``-wal``, ``-shm``) beside the record, so
    the folder itself must be writable, not just the file.
    """
    folder = path.parent
    require_regular(path)
    if not folder.exists():
        if not create:
            raise DatabaseLocationError(
                f"The folder {folder} for the record file does not exist. Create it first, or "
                f"check the path for a typing mistake. {_CHOOSE}"
            )
        try:
            make_folder(folder)  # 0700: the record is health information
        except OSError as exc:
            raise DatabaseLocationError(
                f"The folder {folder} for the record file cannot be created ({exc.strerror}). {_CHOOSE}"
            ) from None
    if not folder.is_dir():
        raise DatabaseLocationError(f"{folder} is not a folder. {_CHOOSE}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise read_only_error(path)
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseLocationError(
            f"The record file {path} is read-only (or not readable) for this user, so nothing "
            f"could be saved. Ask for write permission, or {_CHOOSE[0].lower()}{_CHOOSE[1:]}"
        )


def read_only_error(path: Path) -> DatabaseLocationError:
    return DatabaseLocationError(
        f"The folder {path.parent} is read-only, so nurse-app cannot save the record there "
        f"(it needs to write the file and its companion files). {_CHOOSE}"
    )


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


def require_regular(path: Path, what: str = "record file") -> None:
    """Raise :class:`DatabaseLocationError` if ``path`` exists and is not a regular file."""
    kind = special_file(path)
    if kind is not None:
        raise DatabaseLocationError(f"{path} is {kind}, not a {what}. {_CHOOSE}")


def folder_privacy(path: Path) -> str | None:
    """Make the record's folder private (0700) if it is this user's and holds nothing but
    the record's own files; otherwise a sentence saying who else can look in (None: private).

    The record and its backups are 0600 whatever the folder, but a folder others can read
    shows them the file names, sizes and times of every backup.
    """
    folder = Path(path).parent
    try:
        info = os.stat(folder)
    except OSError:
        return None
    if os.name != "posix" or not info.st_mode & 0o077:
        return None
    own = Path(path).name
    dedicated = info.st_uid == os.geteuid() and all(
        entry.name.startswith((own, f".{own}")) or entry.name == "backups" for entry in folder.iterdir()
    )
    if dedicated:
        try:
            os.chmod(folder, 0o700)
            return None
        except OSError:
            pass
    return (
        f"the folder {folder} can be listed by other users of this computer (mode "
        f"{stat.S_IMODE(info.st_mode):o}); the record itself is private, but keep it in a folder of its own"
    )
