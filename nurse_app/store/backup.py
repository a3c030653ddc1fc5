"""Backup copies of the record file, made with SQLite's online backup API.

The backup API copies a consistent snapshot page by page while the app keeps running
(a plain file copy of a WAL database can catch it half-written).  A copy is written to
a ``.partial`` name and renamed only when complete, so a crash or a full disk never
leaves something that looks like a good backup.  The copy is switched to the classic
rollback journal so it is one self-contained file that can be mailed or archived.

Automatic backups (before a migration, before a restore) go to a ``backups`` folder
beside the record, named ``<record name>-<UTC time>-<reason>.db``;
:func:`list_backups` finds them for the "restore a backup?" offer.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; stale temporaries are then only found by pid
    fcntl = None  # type: ignore[assignment]

from nurse_app.store import crypto
from nurse_app.store.private import create_private_file, private_folder
from nurse_app.store.times import UTC, utc_text

BACKUP_FOLDER = "backups"
_STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}T\d{12}Z)-(?P<reason>[a-z0-9-]+)\.db$")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created_at: str  # ISO-8601 UTC text
    reason: str  # e.g. "before-migration-v1", "before-restore", "manual"
    size_bytes: int


def backups_folder(db_path: Path) -> Path:
    return Path(db_path).parent / BACKUP_FOLDER


def new_backup_path(db_path: Path, reason: str) -> Path:
    """A fresh, unused name in the backups folder (created if needed)."""
    folder = backups_folder(db_path)
    private_folder(folder)
    stamp = _dt.datetime.now(UTC).strftime(_STAMP_FORMAT)
    candidate = folder / f"{Path(db_path).stem}-{stamp}-{reason}.db"
    counter = 1
    while candidate.exists():  # two backups in the same microsecond
        candidate = folder / f"{Path(db_path).stem}-{stamp}-{reason}-{counter}.db"
        counter += 1
    return candidate


def list_backups(db_path: Path) -> list[BackupInfo]:
    """Automatic and manual backups of ``db_path`` in its backups folder, newest first."""
    folder = backups_folder(db_path)
    if not folder.is_dir():
        return []
    found = []
    stem = Path(db_path).stem
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if not match or match["stem"] != stem or not entry.is_file():
            continue
        moment = _dt.datetime.strptime(match["stamp"], _STAMP_FORMAT).replace(tzinfo=UTC)
        found.append(BackupInfo(entry, utc_text(moment), match["reason"], entry.stat().st_size))
    return sorted(found, key=lambda b: b.created_at, reverse=True)


def fsync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX); harmless where folders cannot be opened."""
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


CRASH_ENV = "NURSE_APP_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    """Test hook: ``NURSE_APP_TEST_CRASH_AT=<name>`` kills the process here with SIGKILL.

    Lets the reliability tests stop a restore, a migration or a record creation at each
    named step exactly, as a power cut would.  Does nothing unless the variable is set.
    """
    if os.environ.get(CRASH_ENV) == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: not ours to judge
    return True


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the temporary file ``path`` while it is being written,
    so :func:`remove_stale_temporaries` can tell a file still being made from one left by a
    killed process (the kernel drops the lock when the process dies)."""
    if fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _abandoned(path: Path) -> bool:
    """True if nobody holds :func:`writing`'s lock on ``path``."""
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def remove_stale_temporaries(db_path: Path) -> list[Path]:
    """Remove half-made files that a process killed mid-way left beside the record:
    ``.<name>.creating-<pid>``, ``.<name>.restoring-<pid>`` (with their journals),
    ``<name>.encrypting`` and ``*.partial`` backups.  Files of a process still at work stay
    (its pid is alive, or it holds the file's :func:`writing` lock).  Returns what was removed.
    """
    db_path = Path(db_path)
    pattern = re.compile(rf"^\.{re.escape(db_path.name)}\.(creating|restoring)-(\d+)(-journal|-wal|-shm)?$")
    encrypting = re.compile(rf"^{re.escape(db_path.name)}\.encrypting(-journal|-wal|-shm)?$")
    partial = re.compile(r"^.+\.db\.partial(-journal|-wal|-shm)?$")
    removed: list[Path] = []
    for folder, names in ((db_path.parent, (pattern, encrypting)), (backups_folder(db_path), (partial,))):
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            for name in names:
                match = name.match(entry.name)
                if not match:
                    continue
                if name is pattern:
                    stale = not _pid_alive(int(match[2]))
                elif name is partial:  # copy_database holds the lock while it writes
                    owner = entry.with_name(entry.name.split(".partial")[0] + ".partial")
                    stale = not owner.exists() or _abandoned(owner)
                else:  # encryption holds the folder's lock while it converts
                    stale = _abandoned(db_path.parent)
                if stale:
                    try:
                        entry.unlink()
                    except FileNotFoundError:
                        continue
                    except OSError:
                        continue
                    removed.append(entry)
                break
    return removed


def copy_database(source: sqlite3.Connection, dest: Path) -> Path:
    """Snapshot ``source`` into a new single-file database at ``dest`` (must not exist)."""
    dest = Path(dest)
    if dest.exists():
        raise FileExistsError(dest)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private_file(partial)  # 0600 before any page is written
    with writing(partial):
        target = crypto.connect_like(source, partial, isolation_level=None)  # same key as the record
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
            target.execute("PRAGMA synchronous=FULL")
        except BaseException:
            target.close()
            partial.unlink(missing_ok=True)
            raise
        target.close()
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, dest)
    fsync_folder(dest.parent)
    return dest
