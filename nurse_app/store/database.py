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
import errno
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nurse_app.core.formatting import fmt_count
from nurse_app.store import crypto, encryption, expected_schema, genuine, keys, schema
from nurse_app.store.backup import (
    copy_database,
    crash_point,
    fsync_folder,
    list_backups,
    new_backup_path,
    remove_stale_temporaries,
)
from nurse_app.store.errors import (
    CorruptDatabaseError,
    DatabaseBusyError,
    DatabaseLocationError,
    DatabaseNewerError,
    RecordRekeyedError,
    RecordValueError,
    SignedVisitError,
    StoreError,
    VoidedVisitError,
)
from nurse_app.store.location import ensure_folder, read_only_error, special_file
from nurse_app.store.private import create_private_file, tighten

BUSY_TIMEOUT_MS = 5000
_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Inspection:
    exists: bool
    version: int  # PRAGMA user_version (0: new or empty)
    is_new: bool  # no file, or an SQLite file without any table yet


def backup_offer(path: Path) -> str:
    """One sentence offering the newest backup, for messages about a damaged file."""
    backups = list_backups(path)
    if not backups:
        return (
            f"No automatic backup was found in {path.parent / 'backups'}; if you have a "
            f"backup file, restore it with: nurse-app restore FILE."
        )
    return (
        f"{fmt_count(len(backups), 'backup')} found; the newest is {backups[0].path} "
        f"({backups[0].created_at}). Restore one with: nurse-app restore FILE."
    )


def corrupt_error(path: Path, problem: str) -> CorruptDatabaseError:
    return CorruptDatabaseError(
        f"The record file {path} {problem}. It has not been changed or overwritten. {backup_offer(path)}",
        path,
        list_backups(path),
    )


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
    if not header.startswith(_MAGIC) and size % 512 == 0 and any(header[:16]):
        return  # encrypted (SQLCipher): the key, then SQLCipher's page checks, tell the rest
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
        raise UnusableFile(
            "is truncated (shorter than its own header says), probably by an interrupted copy or a full disk"
        )


def _roll_back_hot_journal(path: Path) -> None:
    """Finish what SQLite itself does on the next normal open: roll back a change that a
    crash interrupted (a non-empty ``-journal``), so the read-only checks see the file as
    it was before that change.  Without it a read-only look cannot read the file at all."""
    journal = path.with_name(path.name + "-journal")
    try:
        if not journal.exists() or journal.stat().st_size == 0:
            return
    except OSError:
        return
    try:
        conn = (
            sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
            if crypto.is_plain(path)
            else crypto.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        )
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        kind = error_kind(exc)
        if kind in ("full", "io"):
            raise io_error(path, exc, kind) from None
        if kind == "readonly":
            raise DatabaseLocationError(
                f"The record file {path} has an unfinished change from an interrupted save "
                f"(its -journal file) that SQLite must undo, and its folder is read-only. Open "
                f"it once where it can be written."
            ) from None
        # anything else: the checks that follow report it


def _read_only_target(path: Path) -> str:
    """The URI that reads ``path`` without writing anything, not even companions."""
    side = [path.with_name(path.name + s) for s in ("-wal", "-journal")]
    quiet = "&immutable=1" if not any(p.exists() for p in side) else ""
    return f"{path.resolve().as_uri()}?mode=ro{quiet}"


def read_only_connection(path: Path) -> sqlite3.Connection:
    """Read without writing anything, not even the ``-wal``/``-shm`` companions.

    When no companion journal exists, nobody has the file open and nothing is pending,
    so it is opened ``immutable`` (SQLite then creates no side files).  Otherwise a
    plain read-only connection reads the pending WAL content too.
    """
    target = _read_only_target(path)
    if not crypto.is_plain(path):
        conn = crypto.as_sqlite(crypto.connect(path, target=target, uri=True, timeout=BUSY_TIMEOUT_MS / 1000))
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn
    conn = sqlite3.connect(target, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def error_kind(exc: sqlite3.Error) -> str:
    """ "full", "io", "corrupt", "busy", "readonly" or "other" for an sqlite3 error.

    A full disk or a failing drive is not a damaged record: the file itself may be
    perfectly healthy, and advice to restore a backup would be wrong.
    """
    name = getattr(exc, "sqlite_errorname", "") or ""
    message = str(exc)
    if name.startswith("SQLITE_FULL") or "disk is full" in message:
        return "full"
    if (
        name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
        or "malformed" in message
        or "not a database" in message
    ):
        return "corrupt"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in message or "busy" in message:
        return "busy"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or "readonly" in message:
        return "readonly"
    if name.startswith("SQLITE_IOERR") or "disk I/O" in message:
        return "io"
    return "other"


def _disk_full(path: Path) -> bool:
    """SQLite reports some writes on a full disk (the ``-shm`` map) as a plain I/O error."""
    try:
        return shutil.disk_usage(path.parent).free < 64 * 1024
    except OSError:
        return False


def io_error(path: Path, exc: BaseException, kind: str, *, creating: bool = False) -> StoreError:
    """A full disk or a drive error, said as such (the record is not called damaged)."""
    if kind == "io" and _disk_full(path):
        kind = "full"
    if creating:
        what = "the disk is full" if kind == "full" else f"the drive reported an error ({exc})"
        return StoreError(
            f"A new record file could not be created at {path}: {what}. Nothing "
            f"was left there; free some disk space (or check the drive) and try again."
        )
    if kind == "full":
        return StoreError(
            f"The disk holding {path} is full, so nothing could be saved there "
            f"({exc}). Free some disk space and try again; the record file itself "
            f"is fine and everything saved before is safe."
        )
    return StoreError(
        f"The drive holding {path} reported a read or write error ({exc}). Check "
        f"the drive (or free space), then try again; the record file itself was "
        f"not found to be faulty."
    )


def _whole_file_checks(path: Path, full_check: bool, version: int) -> bool:
    """Whether opening reads the whole file: SQLite's page check and every stored value.

    Done for ``full_check`` (check-db, restore), before a migration (the one time an older
    record is rewritten) and for a plain file (an older version's record, about to be
    encrypted).  An encrypted record's every page carries an HMAC that SQLCipher checks
    whenever the page is read, so a damaged page is reported as damage the first time
    anything reads it (:func:`translated`), and the values another program wrote are found
    through the audit log's tail (:func:`genuine.outside_changes`); neither needs every
    page decrypted at each start, which made opening a large record several times slower
    than the plain file.  ``check-db`` still runs everything.
    """
    return full_check or crypto.is_plain(path) or 0 < version < schema.CURRENT_VERSION


def diagnose(
    path: Path, *, full_check: bool = False, genuine_check: bool = True, strict: bool = False
) -> Inspection:
    """Check ``path`` without writing to it.

    Raises :class:`UnusableFile` (damaged, empty, foreign, or a schema that is not exactly
    the app's own for its version), :class:`DatabaseNewerError`,
    :class:`DatabaseBusyError`, or :class:`StoreError` for a full disk or drive error.
    ``full_check`` runs ``integrity_check`` instead of the faster ``quick_check``; an
    encrypted record at the current version runs neither (see :func:`_whole_file_checks`).

    Any table, index, trigger or view that is not the app's own refuses the file.  The
    app's own triggers and views found missing or altered are let through for opening,
    which reinstalls them (:func:`schema.reinstall_own_objects`, logged); ``strict``
    (a backup about to be restored) refuses those too.
    """
    kind = special_file(path)
    if kind is not None:
        raise DatabaseLocationError(
            f"{path} is {kind}, not a record file. Choose the record "
            f"file itself with --db PATH or NURSE_APP_DB."
        )
    if not path.exists():
        return Inspection(exists=False, version=0, is_new=True)
    try:
        _check_header(path)
    except OSError as exc:
        raise UnusableFile(f"cannot be read ({exc.strerror or exc})") from None
    _roll_back_hot_journal(path)
    try:
        conn = read_only_connection(path)
    except sqlite3.Error as exc:
        if error_kind(exc) in ("full", "io"):
            raise io_error(path, exc, error_kind(exc)) from None
        raise UnusableFile(f"cannot be read ({exc})") from None
    except UnusableFile:
        raise
    try:
        crypto.check_length(path, conn)
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        # What reads the whole file is done only where it is needed (see _whole_file_checks).
        whole = _whole_file_checks(path, full_check, version)
        check = (
            conn.execute("PRAGMA integrity_check(1)" if full_check else "PRAGMA quick_check(1)").fetchone()[0]
            if whole
            else "ok"
        )
        if (
            check == "ok"
            and genuine_check
            and app_id == schema.APPLICATION_ID
            and 0 < version <= schema.CURRENT_VERSION
        ):
            found = genuine.schema_differences(conn, version)
            diffs = found if strict else [d for d in found if not genuine.reinstalled_on_open(d)]
            if diffs:
                raise UnusableFile("is not a genuine nurse-app record: its schema " + genuine.describe(diffs))
            # With the app's own triggers in place every outside change is in the audit
            # log's unchained tail; with any of them missing, every row is checked.
            only = None if whole or found else genuine.outside_changes(conn)
            bad = genuine.quick_content_problems(conn, only=only)
            if bad:
                raise UnusableFile(
                    "holds values the app would refuse, written by another program: " + "; ".join(bad[:3])
                )
    except sqlite3.Error as exc:
        kind = error_kind(exc)
        if kind == "busy":
            raise DatabaseBusyError(
                f"The record file {path} is busy in another nurse-app window; try again."
            ) from None
        if kind in ("full", "io"):
            raise io_error(path, exc, kind) from None
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
            f"been changed. Update nurse-app to open it.",
            path,
            list_backups(path),
        )
    if version == 0:
        raise UnusableFile(
            "is not a genuine nurse-app record: it is marked as one but holds no record format version"
        )
    return Inspection(exists=True, version=version, is_new=False)


def inspect(path: Path, *, full_check: bool = False, genuine_check: bool = True) -> Inspection:
    """:func:`diagnose` for the record itself: problems become :class:`CorruptDatabaseError`."""
    try:
        return diagnose(path, full_check=full_check, genuine_check=genuine_check)
    except UnusableFile as exc:
        raise corrupt_error(path, exc.problem) from None


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the record's settings (autocommit: every statement commits)."""
    create_private_file(path)  # new: 0600 before SQLite writes; old: its mode tightened
    try:
        cipher = crypto.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.OperationalError:
        raise read_only_error(path) from None
    if keys.is_variant(cipher.passphrase):
        # Made before passphrases were normalised (NFC), and opened with the form as typed:
        # from now on it takes the normalised one, whichever way the accents are typed.
        try:
            crypto.rekey_to_current(cipher)
        except BaseException:
            cipher.close()
            raise
    conn = crypto.as_sqlite(cipher)
    try:
        with translated(path):
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise DatabaseLocationError(
                    f"The record file {path} cannot use SQLite's write-ahead log here (got "
                    f"{mode!r}); put it on a local disk, not a network share."
                )
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            # A REPLACE's implicit delete then fires the delete triggers (audit, signed).
            # Per connection only: the schema's own guards hold for other programs too.
            conn.execute("PRAGMA recursive_triggers = ON")
        tighten(path)  # -wal/-shm left by an older version
    except BaseException:
        conn.close()
        raise
    return conn


def _side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal")]


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _create_new(path: Path) -> None:
    """Build a new, empty record beside ``path`` and move it into place in one step.

    A full disk or a crash half-way leaves no file at ``path`` (never a 0-byte or
    half-made record that every later start would refuse), only a temporary file that
    is removed on failure.  If another window created the record meanwhile, theirs is kept.
    """
    remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
    for leftover in (tmp, *_side_files(tmp)):
        leftover.unlink(missing_ok=True)
    try:
        conn = crypto.as_sqlite(crypto.connect(tmp, isolation_level=None))  # encrypted from the first page
        try:
            conn.execute("PRAGMA journal_mode = WAL")  # as the record will be used
            expected_schema.create_current(conn)  # the final schema at once, not every migration
        finally:
            conn.close()  # folds the WAL into the file
        crash_point("create-before-rename")
        fsync_file(tmp)
        try:
            os.link(tmp, path)  # fails if the record appeared meanwhile: keep that one
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
        fsync_folder(path.parent)
    except sqlite3.Error as exc:
        kind = error_kind(exc)
        raise (
            io_error(path, exc, kind, creating=True)
            if kind in ("full", "io", "other")
            else read_only_error(path)
        ) from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise io_error(path, exc, "full", creating=True) from None
        raise DatabaseLocationError(
            f"A new record file could not be created at {path} ({exc.strerror or exc})."
        ) from None
    finally:
        for leftover in (tmp, *_side_files(tmp)):
            leftover.unlink(missing_ok=True)


def open_connection(
    path: Path, *, create_folder: bool = False
) -> tuple[sqlite3.Connection, list[int], Path | None]:
    """Inspect, connect and migrate; returns (connection, versions applied, backup made)."""
    path = Path(path)
    ensure_folder(path, create=create_folder)
    remove_stale_temporaries(path)
    if crypto.is_plain(path):
        # An older version's plain record: one process encrypts it, any other opening it at
        # the same moment waits, then opens the encrypted result.
        with encryption.converting(path):
            found = inspect(path)
            encryption.ensure_encrypted(path)
    else:
        found = inspect(path)
        if not found.exists:
            _create_new(path)
        encryption.ensure_encrypted(path)  # plain backups of an older version
    conn = connect(path)
    backup = None
    try:
        with translated(path):
            if 0 < found.version < schema.CURRENT_VERSION:
                backup = copy_database(conn, new_backup_path(path, f"before-migration-v{found.version}"))
                crash_point("migrate-after-backup")
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
                "last change was not saved yet; try again in a moment."
            ) from None
        if "readonly" in message or "unable to open" in message:
            raise read_only_error(path) from None
        if error_kind(exc) in ("full", "io"):
            raise io_error(path, exc, error_kind(exc)) from None
        if message.startswith(("SIGNED:", "VOIDED:", "APPEND-ONLY:", "REPLACE:", "DUPLICATE-MRN:")):
            raise _integrity_error(message) from None
        raise StoreError(f"The record file {path} could not be used ({message}).") from None
    except sqlite3.DatabaseError as exc:
        if error_kind(exc) in ("full", "io"):
            raise io_error(path, exc, error_kind(exc)) from None
        if rekeyed_elsewhere(path):
            raise RecordRekeyedError(path) from None
        raise corrupt_error(path, f"is damaged ({exc})") from None


def rekeyed_elsewhere(path: Path) -> bool:
    """True if the unlocked passphrase no longer opens the encrypted record at ``path`` (its
    first page, the salt unchanged): another process changed the passphrase under this one.
    Only asked after a read failed, so it costs nothing while all is well."""
    try:
        if crypto.is_plain(path) or crypto.file_salt(path) is None:
            return False
        conn = crypto.connect(path, passphrases=[keys.current()], isolation_level=None)
    except crypto.WrongPassphraseError:
        return True
    except (keys.Locked, StoreError, OSError, sqlite3.Error):
        return False
    conn.close()
    return False


def open_read_only(path: Path) -> sqlite3.Connection:
    """A query-only connection for commands that only read (check-db, backup, exports).

    Nothing is written beside the record (no ``-wal``/``-shm`` when none exist) and an
    older record format is not migrated in place: a copy is upgraded in memory instead.
    """
    path = Path(path)
    found = inspect(path)
    if not found.exists or found.is_new:
        raise DatabaseLocationError(f"There is no patient record at {path}; check --db or NURSE_APP_DB.")
    try:
        conn = read_only_connection(path)
    except sqlite3.Error as exc:
        raise io_error(path, exc, error_kind(exc)) from None
    try:
        with translated(path):
            if found.version < schema.CURRENT_VERSION:
                if isinstance(conn, crypto.CipherConnection):  # (no backup API across keys)
                    memory = crypto.memory_copy(conn, _read_only_target(path))
                else:
                    memory = sqlite3.connect(":memory:", isolation_level=None)
                    conn.backup(memory)
                conn.close()
                conn = memory
                schema.migrate(conn)
            conn.execute("PRAGMA query_only = ON")
            conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    conn.isolation_level = None
    return conn


def _integrity_error(message: str) -> StoreError:
    if message.startswith("VOIDED:"):
        return VoidedVisitError(message.removeprefix("VOIDED:").strip())
    if message.startswith("SIGNED:"):
        return SignedVisitError(message.removeprefix("SIGNED:").strip())
    if message.startswith("APPEND-ONLY:"):
        return StoreError(message.removeprefix("APPEND-ONLY:").strip())
    if message.startswith("REPLACE:"):
        return StoreError(message.removeprefix("REPLACE:").strip())
    if message.startswith("DUPLICATE-MRN:"):
        return RecordValueError(message.removeprefix("DUPLICATE-MRN:").strip(), field="mrn")
    if "UNIQUE constraint failed: patients.mrn" in message:
        return RecordValueError(
            "A patient with this medical record number (MRN) already exists.", field="mrn"
        )
    if "FOREIGN KEY constraint failed" in message:
        return StoreError(
            "The change was refused: the record it refers to does not exist, or "
            "other records (visits, orders) still depend on it."
        )
    if message.startswith("NOT NULL constraint failed:"):
        column = message.rsplit(".", 1)[-1]
        return RecordValueError(f"{column.replace('_', ' ').capitalize()} is required.", field=column)
    return RecordValueError(f"A value was refused by the record file's own checks ({message}).")
