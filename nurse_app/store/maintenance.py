"""Backup, restore and health check of the record file (the ``nurse-app`` store commands).

Restoring (:mod:`nurse_app.store.restore`) never destroys anything: only a genuine
record is accepted, the current file is kept, and the swap is one atomic rename.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from nurse_app.store import audit_chain, genuine, schema, seals
from nurse_app.store.api import Store
from nurse_app.store.backup import BackupInfo, backups_folder, copy_database, list_backups, new_backup_path
from nurse_app.store.database import (
    UnusableFile,
    diagnose,
    error_kind,
    inspect,
    io_error,
    open_read_only,
    read_only_connection,
    translated,
)
from nurse_app.store.errors import StoreError
from nurse_app.store.location import ensure_folder
from nurse_app.store.restore import RestoreResult, restore_backup  # noqa: F401 - re-exported

_SIDE_FILES = ("-wal", "-shm")


def backup_now(db_path: Path, dest: Path | None = None) -> Path:
    """Copy the record (backup API) to ``dest`` or the backups folder; verify the copy.

    The record is only read (no ``-wal``/``-shm`` left behind, no migration).  A failure
    to write the copy (full disk, read-only folder) names the backup file, not the record.
    """
    db_path = Path(db_path).absolute()
    if dest is not None:
        dest = Path(dest).absolute()
        if dest.exists():
            raise StoreError(f"{dest} already exists; choose a new file name for the backup.")
        if not dest.parent.is_dir():
            raise StoreError(
                f"The folder {dest.parent} does not exist; create it or choose another place for the backup."
            )
    if not db_path.exists():
        raise StoreError(f"There is no record file at {db_path} to back up.")
    found = inspect(db_path)
    if found.is_new:
        raise StoreError(f"The record file {db_path} holds no records yet; there is nothing to back up.")
    try:
        conn = read_only_connection(db_path)
    except sqlite3.Error as exc:
        raise io_error(db_path, exc, error_kind(exc)) from None
    folder_was_there = backups_folder(db_path).is_dir()
    try:
        try:
            target = dest or new_backup_path(db_path, "manual")
        except OSError as exc:
            raise StoreError(
                f"The backups folder beside {db_path} cannot be created "
                f"({exc.strerror or exc}); choose a place with --to FILE."
            ) from None
        try:
            copy_database(conn, target)
        except (OSError, sqlite3.Error) as exc:
            if dest is None and not folder_was_there:
                with contextlib.suppress(OSError):
                    backups_folder(db_path).rmdir()  # leave no empty folder behind
            raise _target_error(target, exc) from None
    finally:
        conn.close()
    try:
        diagnose(target, full_check=True)
    except UnusableFile as exc:
        raise StoreError(
            f"The backup written to {target} failed its check ({exc.problem}); do not rely on it."
        ) from None
    return target


def _target_error(target: Path, exc: BaseException) -> StoreError:
    """Why the backup file could not be written, about the backup file (the record is fine)."""
    full = (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or (
        isinstance(exc, sqlite3.Error) and error_kind(exc) == "full"
    )
    read_only = (isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM)) or (
        isinstance(exc, sqlite3.Error) and error_kind(exc) == "readonly"
    )
    if full:
        why = "the disk it is on is full"
    elif read_only:
        why = "that place is read-only"
    else:
        why = getattr(exc, "strerror", None) or str(exc)
    return StoreError(
        f"The backup could not be written to {target}: {why}. Nothing was saved "
        f"there; the record file itself is unchanged and fine. Choose another place "
        f"with --to FILE."
    )


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
    # Tables, columns and indexes compared with the app's own schema for this version
    # (triggers and views: object_problems above).
    schema_differences: list[str] = field(default_factory=list)
    content_problems: list[str] = field(default_factory=list)  # values the API would refuse
    cannot_open: str | None = None  # why the app could not open it for editing here
    # Audit entries written by another program (whatever author they carry).
    outside_entries: list[int] = field(default_factory=list)
    # Signed follow-up calls whose seal does not hold, and rows their audit does not give.
    call_problems: dict[int, str] = field(default_factory=dict)
    replay_problems: list[str] = field(default_factory=list)
    # Compared with a seal list kept outside the record (None: no list given).
    seal_list: str | None = None
    seal_list_problems: list[str] = field(default_factory=list)
    seal_list_size: int = 0

    @property
    def ok(self) -> bool:
        return (
            self.integrity == ["ok"]
            and not self.foreign_key_problems
            and not self.broken_seals
            and not self.object_problems
            and not self.chain_problems
            and not self.schema_differences
            and not self.content_problems
            and self.cannot_open is None
            and not self.outside_entries
            and not self.call_problems
            and not self.replay_problems
            and not self.seal_list_problems
        )

    def lines(self) -> list[str]:
        current = schema.CURRENT_VERSION
        upgrade = (
            ""
            if self.schema_version == current
            else f" (this app uses {current}; the file is upgraded, after a backup, when opened)"
        )
        out = [
            f"Record file: {self.path} ({self.size_bytes:,} bytes)",
            f"Schema version: {self.schema_version}{upgrade}",
            "Integrity check: " + "; ".join(self.integrity[:5]),
            f"Foreign key problems: {self.foreign_key_problems}",
        ]
        out += [f"{table}: {count:,}" for table, count in self.counts.items()]
        seals = (
            "all intact"
            if not self.broken_seals
            else f"CONTENT CHANGED AFTER SIGNING in {'visit' if len(self.broken_seals) == 1 else 'visits'} "
            f"{', '.join(map(str, self.broken_seals))}"
        )
        out.append(f"Signed visits: {self.signed_visits:,} ({seals})")
        out += [f"  visit {vid}: {why}" for vid, why in list(self.seal_details.items())[:10]]
        if self.chain_entries is None:
            out.append("Audit chain: not built yet (it is built when nurse-app opens the file)")
        elif not self.chain_problems:
            out.append(f"Audit chain: intact ({self.chain_entries:,} entries)")
        else:
            out.append(
                f"Audit chain: BROKEN ({len(self.chain_problems):,} "
                f"{'problem' if len(self.chain_problems) == 1 else 'problems'})"
            )
            out += [f"  {p}" for p in self.chain_problems[:10]]
        if self.chain_unchained:
            out.append(
                f"  {self.chain_unchained:,} audit "
                f"{'entry was' if self.chain_unchained == 1 else 'entries were'} written "
                f"by another program since nurse-app last saved"
            )
        if self.outside_entries:
            shown = ", ".join(map(str, self.outside_entries[:10]))
            more = f" and {len(self.outside_entries) - 10:,} more" if len(self.outside_entries) > 10 else ""
            out.append(
                f"Audit entries NOT WRITTEN BY NURSE-APP: {shown}{more} (raw SQL or a forged "
                f"entry: the author they name is not proof of who made the change)"
            )
        if self.call_problems:
            out.append(f"Signed follow-up calls: SEAL BROKEN in {', '.join(map(str, self.call_problems))}")
            out += [f"  call {cid}: {why}" for cid, why in list(self.call_problems.items())[:10]]
        if self.replay_problems:
            out.append("Rows the audit log does not account for: " + str(len(self.replay_problems)))
            out += [f"  {p}" for p in self.replay_problems[:10]]
        if self.seal_list is not None:
            if self.seal_list_problems:
                out.append(
                    f"Seal list {self.seal_list}: {len(self.seal_list_problems):,} of "
                    f"{self.seal_list_size:,} NO LONGER MATCH"
                )
                out += [f"  {p}" for p in self.seal_list_problems[:50]]
            else:
                out.append(f"Seal list {self.seal_list}: all {self.seal_list_size:,} match")
        if self.object_problems:
            out.append(
                "Triggers and views: DIFFER FROM THE APP'S OWN ("
                + "; ".join(self.object_problems)
                + "); nurse-app reinstalls its own when it opens the file"
            )
        else:
            out.append("Triggers and views: as the app installs them")
        out.append(
            "Tables and indexes: "
            + (
                "as the app creates them"
                if not self.schema_differences
                else "NOT the app's own: " + "; ".join(self.schema_differences)
            )
        )
        out.append(
            "Stored values: "
            + (
                "all pass the record's field rules"
                if not self.content_problems
                else "REFUSED BY THE FIELD RULES: " + "; ".join(self.content_problems)
            )
        )
        out.append(
            "Opens for editing here: " + ("yes" if self.cannot_open is None else f"NO: {self.cannot_open}")
        )
        out.append(
            f"Backups in {backups_folder(self.path)}: {len(self.backups)}"
            + (f", newest {self.backups[0].path.name}" if self.backups else "")
        )
        out.append("Result: OK" if self.ok else "Result: PROBLEMS FOUND")
        return out


def check_database(db_path: Path, seal_list: Path | None = None) -> CheckReport:
    """Integrity, schema and seal report, read-only (nothing in the file changes).

    ``seal_list``: a list written by ``nurse-app seals --out`` (:mod:`.seals`); every
    signed item of it the record no longer matches is named.
    """
    listed = seals.read_list(seal_list) if seal_list is not None else None
    db_path = Path(db_path).absolute()
    if not db_path.exists():
        raise StoreError(f"There is no record file at {db_path}.")
    found = inspect(db_path, genuine_check=False)
    try:  # the same checks as opening the record, so "OK" here means it opens
        ensure_folder(db_path, create=False)
        inspect(db_path)
        cannot_open = None
    except StoreError as exc:
        cannot_open = str(exc).split(". ")[0].rstrip(".")
    conn = read_only_connection(db_path)
    store = Store(conn, db_path, [], None)
    try:
        with translated(db_path):
            conn.execute("PRAGMA query_only = ON")
            differences = [
                str(d)
                for d in genuine.schema_differences(conn, found.version)
                if d.kind in ("table", "index")
            ]
            content = genuine.content_problems(conn, limit=10)
            integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            fk_problems = len(conn.execute("PRAGMA foreign_key_check").fetchall())
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            counts = {
                t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in (*schema.CLINICAL_TABLES, "audit_log")
                if t in tables
            }
            signed = (
                [r[0] for r in conn.execute("SELECT id FROM visits WHERE status = 'signed'")]
                if "visits" in tables
                else []
            )
            details = {vid: why for vid in signed if (why := store.seal_problem(vid))}
            objects = (
                schema.object_differences(conn, found.version).lines()
                if 0 < found.version <= schema.CURRENT_VERSION
                else []
            )
            chain = (
                audit_chain.verify(conn) if "audit_log" in tables and audit_chain.has_chain(conn) else None
            )
            if chain is not None:
                for vid, seal in conn.execute("SELECT id, content_hash FROM visits WHERE status = 'signed'"):
                    why = chain.visit_problem(vid, seal)
                    if why and vid not in details:
                        details[vid] = why
            chained = chain is not None
            outside = audit_chain.outside_entries(conn) if chained else []
            calls = seals.call_problems(conn)
            replay = seals.replay_problems(conn) if chained else []
            list_problems = seals.compare_with_list(conn, listed) if listed is not None else []
    finally:
        conn.close()
    return CheckReport(
        path=db_path,
        size_bytes=db_path.stat().st_size,
        schema_version=found.version,
        integrity=integrity,
        foreign_key_problems=fk_problems,
        counts=counts,
        signed_visits=len(signed),
        broken_seals=sorted(details),
        backups=list_backups(db_path),
        object_problems=objects,
        chain_entries=chain.entries if chain else None,
        chain_unchained=chain.unchained_tail if chain else 0,
        chain_problems=chain.problems if chain else [],
        seal_details=dict(sorted(details.items())),
        schema_differences=differences,
        content_problems=content,
        cannot_open=cannot_open,
        outside_entries=outside,
        call_problems=calls,
        replay_problems=replay,
        seal_list=None if seal_list is None else str(seal_list),
        seal_list_problems=list_problems,
        seal_list_size=len(listed or []),
    )


def export_seal_list(db_path: Path, dest: Path) -> tuple[Path, int]:
    """Write the seal list of the record (:mod:`.seals`) to ``dest``; returns (file, count).

    ``dest`` must be a new file or a regular file (never a device or a folder).
    """
    db_path, dest = Path(db_path).absolute(), Path(dest).absolute()
    if dest.exists() and not dest.is_file():
        raise StoreError(f"{dest} is not a regular file; choose a file name for the seal list.")
    if not dest.parent.is_dir():
        raise StoreError(f"The folder {dest.parent} does not exist; choose another place for the seal list.")
    conn = open_read_only(db_path)
    try:
        with translated(db_path):
            entries = seals.seal_entries(conn)
    finally:
        conn.close()
    try:
        seals.write_list(dest, entries)
    except OSError as exc:
        why = "the disk it is on is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise StoreError(f"The seal list could not be written to {dest}: {why}.") from None
    return dest, len(entries)
