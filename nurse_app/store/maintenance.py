"""Backup, restore and health check of the record file (the ``nurse-app`` store commands).

Restoring never destroys anything: the backup is validated first (SQLite header,
full ``integrity_check``, nurse-app application id, not from a newer version), and
the current file is kept - as a proper backup when it is healthy, or moved aside
unchanged (with its ``-wal``/``-shm`` companions) when it is damaged.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from nurse_app.store import audit_chain, schema
from nurse_app.store.api import Store
from nurse_app.store.backup import (BackupInfo, backups_folder, copy_database, list_backups,
                                    new_backup_path)
from nurse_app.store.database import (BUSY_TIMEOUT_MS, UnusableFile, diagnose, inspect,
                                      read_only_connection, translated)
from nurse_app.store.errors import (CorruptDatabaseError, DatabaseBusyError, DatabaseNewerError,
                                    StoreError)
from nurse_app.store.location import ensure_folder

_SIDE_FILES = ("-wal", "-shm")


def backup_now(db_path: Path, dest: Path | None = None) -> Path:
    """Copy the record (backup API) to ``dest`` or the backups folder; verify the copy."""
    db_path = Path(db_path)
    if dest is not None:
        dest = Path(dest).absolute()
        if dest.exists():
            raise StoreError(f"{dest} already exists; choose a new file name for the backup.")
        if not dest.parent.is_dir():
            raise StoreError(f"The folder {dest.parent} does not exist; create it or choose "
                             f"another place for the backup.")
    if not db_path.exists():
        raise StoreError(f"There is no record file at {db_path} to back up.")
    with Store.open(db_path) as store:
        target = dest or new_backup_path(db_path, "manual")
        try:
            with translated(db_path):
                copy_database(store.db.conn, target)
        except OSError as exc:
            raise StoreError(f"The backup could not be written to {target} "
                             f"({exc.strerror or exc}).") from None
    try:
        diagnose(target, full_check=True)
    except UnusableFile as exc:
        raise StoreError(f"The backup written to {target} failed its check ({exc.problem}); "
                         f"do not rely on it.") from None
    return target


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    kept_previous: Path | None      # backup of (or the set-aside) file that was replaced
    previous_was_damaged: bool


def _validate_backup(source: Path) -> None:
    if not source.is_file():
        raise StoreError(f"The backup file {source} does not exist.")
    try:
        found = diagnose(source, full_check=True)
    except UnusableFile as exc:
        raise StoreError(f"{source} cannot be restored: it {exc.problem}.") from None
    except DatabaseNewerError:
        raise StoreError(f"{source} cannot be restored: it was written by a newer version of "
                         f"nurse-app.") from None
    if found.is_new:
        raise StoreError(f"{source} cannot be restored: it is an empty database, not a "
                         f"nurse-app backup.")


def _set_aside(db_path: Path) -> Path:
    """Move a damaged record and its companions into the backups folder, unchanged."""
    target = new_backup_path(db_path, "set-aside").with_suffix(".db.unusable")
    os.replace(db_path, target)
    for suffix in _SIDE_FILES:
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


def restore_backup(db_path: Path, source: Path, *, create_folder: bool = False) -> RestoreResult:
    """Replace the record at ``db_path`` with the backup ``source`` (validated first).

    Refused while another window has the record open (it would keep writing to the
    old content).  The restored file is then opened normally, which upgrades an older
    backup's schema.  ``create_folder``: create a missing folder (the default location
    on a new laptop).
    """
    db_path, source = Path(db_path).absolute(), Path(source).absolute()
    _validate_backup(source)
    if db_path.exists() and source.samefile(db_path):
        raise StoreError("The backup to restore is the record file itself; choose a backup copy.")
    ensure_folder(db_path, create=create_folder)
    kept, damaged = None, False
    if db_path.exists():
        try:
            inspect(db_path)
        except (CorruptDatabaseError, DatabaseNewerError):
            kept, damaged = _set_aside(db_path), True
        else:
            with Store.open(db_path) as current:
                kept = copy_database(current.db.conn, new_backup_path(db_path, "before-restore"))
    src = read_only_connection(source)
    dest = sqlite3.connect(db_path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        with translated(db_path):
            # Leaving WAL mode needs the file to ourselves: this fails while it is open elsewhere.
            mode = dest.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            if mode.lower() != "delete":
                raise DatabaseBusyError("Close every nurse-app window using the record, then "
                                        "restore again.")
            src.backup(dest)
    finally:
        dest.close()
        src.close()
    Store.open(db_path).close()
    return RestoreResult(restored_from=source, kept_previous=kept, previous_was_damaged=damaged)


@dataclass
class CheckReport:
    path: Path
    size_bytes: int
    schema_version: int
    integrity: list[str]
    foreign_key_problems: int
    counts: dict[str, int]
    signed_visits: int
    broken_seals: list[int]
    backups: list[BackupInfo] = field(default_factory=list)
    # The app's own triggers and views compared with this file's ("missing: ...").
    object_problems: list[str] = field(default_factory=list)
    # The audit hash chain (None: the file predates it, version 5 or older).
    chain_entries: int | None = None
    chain_unchained: int = 0
    chain_problems: list[str] = field(default_factory=list)
    seal_details: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (self.integrity == ["ok"] and not self.foreign_key_problems
                and not self.broken_seals and not self.object_problems
                and not self.chain_problems)

    def lines(self) -> list[str]:
        current = schema.CURRENT_VERSION
        upgrade = "" if self.schema_version == current else \
            f" (this app uses {current}; the file is upgraded, after a backup, when opened)"
        out = [f"Record file: {self.path} ({self.size_bytes:,} bytes)",
               f"Schema version: {self.schema_version}{upgrade}",
               "Integrity check: " + "; ".join(self.integrity[:5]),
               f"Foreign key problems: {self.foreign_key_problems}"]
        out += [f"{table}: {count:,}" for table, count in self.counts.items()]
        seals = ("all intact" if not self.broken_seals else
                 f"CONTENT CHANGED AFTER SIGNING in {'visit' if len(self.broken_seals) == 1 else 'visits'} "
                 f"{', '.join(map(str, self.broken_seals))}")
        out.append(f"Signed visits: {self.signed_visits:,} ({seals})")
        out += [f"  visit {vid}: {why}" for vid, why in list(self.seal_details.items())[:10]]
        if self.chain_entries is None:
            out.append("Audit chain: not built yet (it is built when nurse-app opens the file)")
        elif not self.chain_problems:
            out.append(f"Audit chain: intact ({self.chain_entries:,} entries)")
        else:
            out.append(f"Audit chain: BROKEN ({len(self.chain_problems):,} "
                       f"{'problem' if len(self.chain_problems) == 1 else 'problems'})")
            out += [f"  {p}" for p in self.chain_problems[:10]]
        if self.chain_unchained:
            out.append(f"  {self.chain_unchained:,} audit "
                       f"{'entry was' if self.chain_unchained == 1 else 'entries were'} written "
                       f"by another program since nurse-app last saved (chained at its next save)")
        if self.object_problems:
            out.append("Triggers and views: DIFFER FROM THE APP'S OWN (" + "; ".join(
                self.object_problems) + "); nurse-app reinstalls its own when it opens the file")
        else:
            out.append("Triggers and views: as the app installs them")
        out.append(f"Backups in {backups_folder(self.path)}: {len(self.backups)}"
                   + (f", newest {self.backups[0].path.name}" if self.backups else ""))
        out.append("Result: OK" if self.ok else "Result: PROBLEMS FOUND")
        return out


def check_database(db_path: Path) -> CheckReport:
    """Integrity, schema and seal report, read-only (nothing in the file changes)."""
    db_path = Path(db_path).absolute()
    if not db_path.exists():
        raise StoreError(f"There is no record file at {db_path}.")
    found = inspect(db_path)
    conn = read_only_connection(db_path)
    store = Store(conn, db_path, [], None)
    try:
        with translated(db_path):
            integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            fk_problems = len(conn.execute("PRAGMA foreign_key_check").fetchall())
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in (*schema.CLINICAL_TABLES, "audit_log") if t in tables}
            signed = [r[0] for r in conn.execute("SELECT id FROM visits WHERE status = 'signed'")] \
                if "visits" in tables else []
            details = {vid: why for vid in signed if (why := store.seal_problem(vid))}
            objects = schema.object_differences(conn, found.version).lines() \
                if 0 < found.version <= schema.CURRENT_VERSION else []
            chain = audit_chain.verify(conn) if "audit_log" in tables and \
                audit_chain.has_chain(conn) else None
            if chain is not None:
                for vid, seal in conn.execute(
                        "SELECT id, content_hash FROM visits WHERE status = 'signed'"):
                    why = chain.visit_problem(vid, seal)
                    if why and vid not in details:
                        details[vid] = why
    finally:
        conn.close()
    return CheckReport(path=db_path, size_bytes=db_path.stat().st_size,
                       schema_version=found.version, integrity=integrity,
                       foreign_key_problems=fk_problems, counts=counts,
                       signed_visits=len(signed), broken_seals=sorted(details),
                       backups=list_backups(db_path), object_problems=objects,
                       chain_entries=chain.entries if chain else None,
                       chain_unchained=chain.unchained_tail if chain else 0,
                       chain_problems=chain.problems if chain else [],
                       seal_details=dict(sorted(details.items())))
