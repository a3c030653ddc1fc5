"""Restoring a backup: only a genuine record, in one atomic step, recorded in the audit log.

1. The backup is checked read-only: SQLite header, full ``integrity_check``, the
   nurse-app application id and version, a schema identical to the app's own for that
   version (no extra trigger or view, none missing or altered) and every stored value
   passing the store API's field rules.  Anything else is refused with a message naming
   what differs; neither file is touched.
2. The current record is kept: copied to the backups folder when healthy, or copied
   aside unchanged (with its ``-wal``/``-shm``) when damaged.
3. The new record is built beside the old one (``.<name>.restoring-<pid>``): the backup
   is copied in, upgraded to the current format, and the audit entries the current
   record made after the backup are carried into its log, followed by one entry for
   the restore itself.  The file is fsynced and then renamed over the record, so a
   crash or a SIGKILL at any moment leaves either the old record or the new one,
   never a half-restored file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nurse_app.store import audit_chain, crypto, genuine, schema, seals
from nurse_app.store.backup import (
    copy_database,
    crash_point,
    fsync_folder,
    new_backup_path,
    remove_stale_temporaries,
)
from nurse_app.store.database import (
    BUSY_TIMEOUT_MS,
    UnusableFile,
    _read_only_target,
    diagnose,
    error_kind,
    fsync_file,
    inspect,
    io_error,
    read_only_connection,
    translated,
)
from nurse_app.store.errors import CorruptDatabaseError, DatabaseBusyError, DatabaseNewerError, StoreError
from nurse_app.store.location import ensure_folder, special_file
from nurse_app.store.private import create_private_file
from nurse_app.store.times import now_text

_SIDE_FILES = ("-wal", "-shm")
_AUDIT_COLUMNS = ("at", "author", "table_name", "row_id", "action", "before", "after")
RESTORE_EVENT = "restore"


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    kept_previous: Path | None  # backup of (or the copy set aside of) the replaced file
    previous_was_damaged: bool
    carried_audit_entries: int = 0  # audit entries made after the backup, kept in the log


def validate_backup(source: Path) -> int:
    """Refuse anything but a genuine, healthy nurse-app record; returns its version."""
    kind = special_file(source)
    if kind is not None:
        raise StoreError(
            f"{source} cannot be restored: it is {kind}, not a backup file. Nothing was changed."
        )
    if not source.is_file():
        raise StoreError(f"The backup file {source} does not exist.")
    try:
        found = diagnose(source, full_check=True, strict=True)
    except UnusableFile as exc:
        raise StoreError(f"{source} cannot be restored: it {exc.problem}. Nothing was changed.") from None
    except DatabaseNewerError:
        raise StoreError(
            f"{source} cannot be restored: it was written by a newer version of nurse-app."
        ) from None
    if found.is_new:
        raise StoreError(f"{source} cannot be restored: it is an empty database, not a nurse-app backup.")
    conn = read_only_connection(source)
    try:
        problems = genuine.content_problems(conn)
        broken = seals.record_problems(conn, limit=3)
    except sqlite3.Error as exc:
        raise StoreError(f"{source} cannot be restored: it cannot be read ({exc}).") from None
    finally:
        conn.close()
    if problems:
        raise StoreError(
            f"{source} cannot be restored: it holds values the app would refuse: "
            + "; ".join(problems[:3])
            + (" (and more)" if len(problems) > 3 else "")
            + ". Nothing was changed."
        )
    if broken:
        raise StoreError(
            f"{source} cannot be restored: its seals or audit chain do not hold: "
            + "; ".join(broken[:3])
            + ". Nothing was changed."
        )
    return found.version


def _copy_aside(db_path: Path) -> Path:
    """Copy a damaged record and its companions into the backups folder, unchanged."""
    target = new_backup_path(db_path, "set-aside").with_suffix(".db.unusable")
    for suffix in ("", *_SIDE_FILES):
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            dest = target.with_name(target.name + suffix)
            with open(side, "rb") as src, open(dest, "wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
    fsync_folder(target.parent)
    return target


def _leave_wal_mode(db_path: Path) -> None:
    """Fold the old record's WAL into the file and stop using one.

    Its ``-wal`` must not outlive the rename (SQLite would replay it into the new
    file).  Leaving WAL mode needs the file to ourselves, so this also refuses while
    another window has the record open.
    """
    conn = (
        sqlite3.connect(db_path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        if crypto.is_plain(db_path)
        else crypto.connect(db_path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    )
    try:
        with translated(db_path):
            mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    finally:
        conn.close()
    if mode.lower() != "delete":
        raise DatabaseBusyError("Close every nurse-app window using the record, then restore again.")


def _audit_rows(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    if not schema.existing_tables(conn, ("audit_log",)):
        return []
    return conn.execute(f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit_log ORDER BY id").fetchall()


def _author(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT name, credentials FROM nurse_profile WHERE id = 1").fetchone()
    if row is None:
        return None
    return f"{row[0]}, {row[1]}" if row[1] else row[0]


def _carry_audit(
    dest: sqlite3.Connection, previous: list[tuple[Any, ...]], author: str | None, event: dict[str, Any]
) -> int:
    """Append the previous record's audit entries missing from the restored log, then one
    entry recording the restore; returns how many entries were carried.

    A carried entry is kept whole, with its time and author, inside an entry of the
    audit log itself (``table_name`` "audit_log", ``after`` = the original entry marked
    ``carried_by_restore``): it describes rows the restore took back, so it must not
    pass for a change of the restored rows (a signing entry of a visit that no longer
    exists would contradict the restored visit of the same id).  Carried entries and the
    restore event join the hash chain like any other entry.
    """
    restored = set(_audit_rows(dest))
    carried = [row for row in previous if row not in restored]
    placeholders = ", ".join("?" * len(_AUDIT_COLUMNS))
    insert = f"INSERT INTO audit_log ({', '.join(_AUDIT_COLUMNS)}) VALUES ({placeholders})"
    dest.execute("BEGIN IMMEDIATE")
    try:
        for number, row in enumerate(carried, 1):
            original = dict(zip(_AUDIT_COLUMNS, row, strict=True))
            for key in ("before", "after"):
                if original[key] is not None:
                    original[key] = json.loads(original[key])
            dest.execute(
                insert,
                [
                    original["at"],
                    original["author"],
                    "audit_log",
                    number,
                    "insert",
                    None,
                    json.dumps({"carried_by_restore": True, **original}, ensure_ascii=False, sort_keys=True),
                ],
            )
        event["carried_audit_entries"] = len(carried)
        next_id = dest.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM audit_log").fetchone()[0]
        dest.execute(
            insert,
            [
                now_text(),
                author or _author(dest) or "(no nurse profile)",
                "audit_log",
                next_id,
                "insert",
                None,
                json.dumps(event, ensure_ascii=False, sort_keys=True),
            ],
        )
        if audit_chain.has_chain(dest):
            audit_chain.seal(dest)  # the carried entries and the restore join the chain
        dest.execute("COMMIT")
    except BaseException:
        if dest.in_transaction:
            dest.execute("ROLLBACK")
        raise
    return len(carried)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def restore_backup(db_path: Path, source: Path, *, create_folder: bool = False) -> RestoreResult:
    """Replace the record at ``db_path`` with the backup ``source`` (validated first).

    Refused while another window has the record open (it would keep writing to the
    old content).  An older backup is upgraded to the current format.
    ``create_folder``: create a missing folder (the default location on a new laptop).
    """
    from nurse_app.store.api import Store

    db_path, source = Path(db_path).absolute(), Path(source).absolute()
    validate_backup(source)
    if db_path.exists() and source.samefile(db_path):
        raise StoreError("The backup to restore is the record file itself; choose a backup copy.")
    ensure_folder(db_path, create=create_folder)
    kept, damaged, previous_audit, author = None, False, [], None
    if db_path.exists():
        try:
            # The whole file is read (every page, every value): damage anywhere in the
            # record moves it aside instead of refusing the restore that would repair it.
            inspect(db_path, full_check=True)
            with Store.open(db_path) as current:
                with translated(db_path):
                    previous_audit = _audit_rows(current.db.conn)
                    author = _author(current.db.conn)
                try:
                    kept = copy_database(current.db.conn, new_backup_path(db_path, "before-restore"))
                except (OSError, sqlite3.Error) as exc:
                    raise StoreError(
                        f"The current record could not be kept as a backup before "
                        f"restoring ({exc}); nothing was changed."
                    ) from None
        except (CorruptDatabaseError, DatabaseNewerError, crypto.WrongPassphraseError):
            previous_audit, author = [], None
            kept, damaged = _copy_aside(db_path), True
        else:
            crash_point("restore-after-keeping-old")
            _leave_wal_mode(db_path)
    crash_point("restore-before-building")
    remove_stale_temporaries(db_path)
    tmp = db_path.with_name(f".{db_path.name}.restoring-{os.getpid()}")
    leftovers = [tmp, *(tmp.with_name(tmp.name + s) for s in ("-journal", *_SIDE_FILES))]
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    try:
        create_private_file(tmp)  # 0600 before the first page is written
        src = read_only_connection(source)
        if crypto.is_plain(source):  # an older, unencrypted backup: encrypted as it is copied
            src.close()
            src = dest = crypto.as_sqlite(crypto.export_encrypted(_read_only_target(source), tmp))
        else:
            dest = crypto.connect_like(src, tmp, isolation_level=None)  # same key as the backup
        try:
            if src is not dest:
                src.backup(dest)
                crypto.rekey_to_current(dest)  # a backup made under another passphrase
            crash_point("restore-after-copy")
            dest.execute("PRAGMA journal_mode = DELETE")
            dest.execute("PRAGMA synchronous = FULL")
            schema.migrate(dest)
            crash_point("restore-after-upgrade")
            event = {
                "event": RESTORE_EVENT,
                "restored_from": str(source),
                "restored_file_sha256": _sha256(source),
                "previous_record_kept_as": str(kept) if kept else None,
                "previous_record_damaged": damaged,
            }
            carried = _carry_audit(dest, previous_audit, author, event)
            # Already in WAL mode when it takes the record's name: the first open then has
            # no journal-mode change to make (that change, interrupted, would leave a hot
            # journal beside the record).  Closing folds the WAL back into the file.
            dest.execute("PRAGMA journal_mode = WAL")
        finally:
            dest.close()
            src.close()
        crash_point("restore-before-fsync")
        fsync_file(tmp)
        crash_point("restore-before-rename")
        for suffix in _SIDE_FILES:  # a damaged record's companions were copied aside above
            db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
        os.replace(tmp, db_path)
        fsync_folder(db_path.parent)
    except sqlite3.Error as exc:
        kind = error_kind(exc)
        raise (
            io_error(db_path, exc, kind)
            if kind in ("full", "io")
            else StoreError(
                f"The restore could not be completed ({exc}); the record at {db_path} was not replaced."
            )
        ) from None
    except OSError as exc:
        raise StoreError(
            f"The restore could not be completed ({exc.strerror or exc}); the "
            f"record at {db_path} was not replaced."
        ) from None
    finally:
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
    crash_point("restore-after-rename")
    Store.open(db_path).close()
    return RestoreResult(
        restored_from=source, kept_previous=kept, previous_was_damaged=damaged, carried_audit_entries=carried
    )
