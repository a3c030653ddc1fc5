"""Opening the record file safely: inspect, refuse, back up, migrate, connect.

Opening never damages a file it does not understand:

1. The folder must exist (the default one is created) and be writable.
2. The file is inspected read-only before anything writes to it: empty, not SQLite,
   truncated, damaged, another program's database, or written by a newer nurse-app
   each raise an error and leave the file byte-for-byte untouched.  Damage errors
   carry the list of backups so the user can be offered a restore.
3. An older schema is backed up with the SQLite backup API, then migrated.
4. Every connection runs in WAL mode with ``synchronous=FULL`` (a committed edit
   survives a crash or power cut), foreign keys on, and a busy timeout so a second
   window waits instead of failing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from nurse_app.core.formatting import fmt_count
from nurse_app.store import schema
from nurse_app.store.backup import copy_database, list_backups, new_backup_path
from nurse_app.store.errors import (CorruptDatabaseError, DatabaseBusyError, DatabaseLocationError,
                                    DatabaseNewerError, RecordValueError, SignedVisitError,
                                    StoreError)
from nurse_app.store.location import ensure_folder, read_only_error

BUSY_TIMEOUT_MS = 5000
_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Inspection:
    exists: bool
    version: int        # PRAGMA user_version (0: new or empty)
    is_new: bool        # no file, or an SQLite file without any table yet


def backup_offer(path: Path) -> str:
    """One sentence offering the newest backup, for messages about a damaged file."""
    backups = list_backups(path)
    if not backups:
        return (f"No automatic backup was found in {path.parent / 'backups'}; if you have a "
                f"backup file, restore it with: nurse-app restore FILE.")
    return (f"{fmt_count(len(backups), 'backup')} found; the newest is {backups[0].path} "
            f"({backups[0].created_at}). Restore one with: nurse-app restore FILE.")


def corrupt_error(path: Path, problem: str) -> CorruptDatabaseError:
    return CorruptDatabaseError(
        f"The record file {path} {problem}. It has not been changed or overwritten. "
        f"{backup_offer(path)}", path, list_backups(path))


class UnusableFile(Exception):
    """Internal: why a file cannot be used (``problem`` completes "The file X ...")."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def _check_header(path: Path) -> None:
    size = path.stat().st_size
    if size == 0:
        raise UnusableFile("is empty (0 bytes), so it holds no records")
    with open(path, "rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(_MAGIC):
        raise UnusableFile("is not a nurse-app record file (it is not an SQLite database)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise UnusableFile("has a damaged header")
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return  # pages may legitimately still live in the WAL; SQLite checks the rest
    pages = int.from_bytes(header[28:32], "big")
    header_size_valid = header[24:28] == header[92:96] and pages > 0
    if size % page_size or (header_size_valid and size < pages * page_size):
        raise UnusableFile("is truncated (shorter than its own header says), probably by an "
                           "interrupted copy or a full disk")


def read_only_connection(path: Path) -> sqlite3.Connection:
    """Read without writing anything, not even the ``-wal``/``-shm`` companions.

    When no companion journal exists, nobody has the file open and nothing is pending,
    so it is opened ``immutable`` (SQLite then creates no side files).  Otherwise a
    plain read-only connection reads the pending WAL content too.
    """
    side = [path.with_name(path.name + s) for s in ("-wal", "-journal")]
    quiet = "&immutable=1" if not any(p.exists() for p in side) else ""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro{quiet}", uri=True,
                           timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def diagnose(path: Path, *, full_check: bool = False) -> Inspection:
    """Check ``path`` without writing to it.

    Raises :class:`UnusableFile` (damaged, empty, foreign...), :class:`DatabaseNewerError`
    or :class:`DatabaseBusyError`.  ``full_check`` runs ``integrity_check`` instead of the
    faster ``quick_check``.
    """
    if not path.exists():
        return Inspection(exists=False, version=0, is_new=True)
    _check_header(path)
    try:
        conn = read_only_connection(path)
    except sqlite3.Error as exc:
        raise UnusableFile(f"cannot be read ({exc})") from None
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        check = conn.execute("PRAGMA integrity_check(1)" if full_check
                             else "PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DatabaseBusyError(
                f"The record file {path} is busy in another nurse-app window; try again.") from None
        raise UnusableFile(f"is damaged ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise UnusableFile(f"is damaged ({exc})") from None
    finally:
        conn.close()
    if check != "ok":
        raise UnusableFile(f"is damaged (SQLite reports: {check})")
    if app_id == 0 and version == 0 and tables == 0:
        return Inspection(exists=True, version=0, is_new=True)
    if app_id != schema.APPLICATION_ID:
        raise UnusableFile("is an SQLite database of another program, not a nurse-app record")
    if version > schema.CURRENT_VERSION:
        raise DatabaseNewerError(
            f"The record file {path} was written by a newer version of nurse-app (record "
            f"format {version}; this version reads up to {schema.CURRENT_VERSION}). It has not "
            f"been changed. Update nurse-app to open it.", path, list_backups(path))
    return Inspection(exists=True, version=version, is_new=False)


def inspect(path: Path, *, full_check: bool = False) -> Inspection:
    """:func:`diagnose` for the record itself: problems become :class:`CorruptDatabaseError`."""
    try:
        return diagnose(path, full_check=full_check)
    except UnusableFile as exc:
        raise corrupt_error(path, exc.problem) from None


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the record's settings (autocommit: every statement commits)."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.OperationalError:
        raise read_only_error(path) from None
    try:
        with translated(path):
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise DatabaseLocationError(
                    f"The record file {path} cannot use SQLite's write-ahead log here (got "
                    f"{mode!r}); put it on a local disk, not a network share.")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            # A REPLACE's implicit delete then fires the delete triggers (audit, signed).
            # Per connection only: the schema's own guards hold for other programs too.
            conn.execute("PRAGMA recursive_triggers = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def open_connection(path: Path, *, create_folder: bool = False
                    ) -> tuple[sqlite3.Connection, list[int], Path | None]:
    """Inspect, connect and migrate; returns (connection, versions applied, backup made)."""
    path = Path(path)
    ensure_folder(path, create=create_folder)
    found = inspect(path)
    conn = connect(path)
    backup = None
    try:
        with translated(path):
            if 0 < found.version < schema.CURRENT_VERSION:
                backup = copy_database(conn, new_backup_path(path, f"before-migration-v{found.version}"))
            applied = schema.migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn, applied, backup


@contextlib.contextmanager
def translated(path: Path) -> Iterator[None]:
    """Turn sqlite3 errors into the store's nurse-readable errors."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise _integrity_error(str(exc)) from None
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if "locked" in message or "busy" in message:
            raise DatabaseBusyError(
                "The record file is busy: another nurse-app window or command is saving. Your "
                "last change was not saved yet; try again in a moment.") from None
        if "readonly" in message or "unable to open" in message:
            raise read_only_error(path) from None
        if "disk is full" in message or "disk I/O" in message:
            raise StoreError(
                f"The last change could not be saved to {path} ({message}). Free disk space or "
                f"check the drive; everything saved before is safe.") from None
        if message.startswith(("SIGNED:", "APPEND-ONLY:", "REPLACE:", "DUPLICATE-MRN:")):
            raise _integrity_error(message) from None
        raise StoreError(f"The record file {path} could not be used ({message}).") from None
    except sqlite3.DatabaseError as exc:
        raise corrupt_error(path, f"is damaged ({exc})") from None


def _integrity_error(message: str) -> StoreError:
    if message.startswith("SIGNED:"):
        return SignedVisitError(message.removeprefix("SIGNED:").strip())
    if message.startswith("APPEND-ONLY:"):
        return StoreError(message.removeprefix("APPEND-ONLY:").strip())
    if message.startswith("REPLACE:"):
        return StoreError(message.removeprefix("REPLACE:").strip())
    if message.startswith("DUPLICATE-MRN:"):
        return RecordValueError(message.removeprefix("DUPLICATE-MRN:").strip(), field="mrn")
    if "UNIQUE constraint failed: patients.mrn" in message:
        return RecordValueError("A patient with this medical record number (MRN) already "
                                "exists.", field="mrn")
    if "FOREIGN KEY constraint failed" in message:
        return StoreError("The change was refused: the record it refers to does not exist, or "
                          "other records (visits, orders) still depend on it.")
    if message.startswith("NOT NULL constraint failed:"):
        column = message.rsplit(".", 1)[-1]
        return RecordValueError(f"{column.replace('_', ' ').capitalize()} is required.",
                                field=column)
    return RecordValueError(f"A value was refused by the record file's own checks ({message}).")
