"""Encryption at rest: the record is a SQLCipher 4 database (the ``sqlcipher3`` package).

* :func:`connect` opens a record with the unlocked passphrase (see :mod:`.keys`).  The
  connection behaves like the standard library's: :class:`CipherConnection` re-raises
  SQLCipher's errors as the matching ``sqlite3`` exceptions, so the store, sqlite-utils
  and every ``except sqlite3.OperationalError`` keep working unchanged.
* A wrong passphrase (or a file that is not a record at all: without the key the two
  look the same) raises :class:`WrongPassphraseError`; nothing is written to the file.
* :func:`encrypt_plain_file` turns a plain record made by an older version into an
  encrypted one (``sqlcipher_export``), verifies it and swaps it in atomically.
* :func:`rekey_file` changes the passphrase of a record or backup (``PRAGMA rekey``).

SQLCipher's own error log goes to stderr; it is switched off (``cipher_log_level``)
so nothing about keys is printed.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import sqlcipher3.dbapi2 as _sc

from nurse_app.store import keys
from nurse_app.store.errors import StoreError
from nurse_app.store.private import create_private_file

_P = ParamSpec("_P")
_T = TypeVar("_T")

SQLITE_MAGIC = b"SQLite format 3\x00"
CIPHER_PAGE_SIZE = 4096  # SQLCipher 4 default (cipher_page_size)
WRONG_PASSPHRASE = "wrong passphrase, or not a nurse-app record"


class WrongPassphraseError(StoreError):
    """The passphrase does not open the file (or the file is not a nurse-app record)."""

    def __init__(self, path: Path | str | None = None):
        where = f"{path}: " if path is not None else ""
        super().__init__(f"{where}{WRONG_PASSPHRASE}")
        self.path = None if path is None else Path(path)


class RecordLockedError(StoreError):
    """No passphrase has been given in this process, so no record can be read."""

    def __init__(self) -> None:
        super().__init__(
            "The record is locked: give its passphrase first (in the app's unlock "
            "screen, or NURSE_APP_PASSPHRASE / the prompt for commands)."
        )


# ----------------------------------------------------------------- sqlite3-compatible proxy


def _translate(exc: BaseException) -> BaseException:
    """The ``sqlite3`` exception matching a ``sqlcipher3`` one (same message)."""
    for name in (
        "IntegrityError",
        "OperationalError",
        "ProgrammingError",
        "NotSupportedError",
        "InternalError",
        "DataError",
        "InterfaceError",
        "DatabaseError",
        "Warning",
        "Error",
    ):
        if isinstance(exc, getattr(_sc, name)):
            new: BaseException = getattr(sqlite3, name)(*exc.args)
            for attr in ("sqlite_errorcode", "sqlite_errorname"):
                if hasattr(exc, attr):
                    setattr(new, attr, getattr(exc, attr))
            return new
    return exc


class _Translating:
    __slots__ = ()

    def _call(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return fn(*args, **kwargs)
        except _sc.Error as exc:
            raise _translate(exc) from None


class CipherCursor(_Translating):
    """A ``sqlcipher3`` cursor that raises ``sqlite3`` errors (``_cur``: the untyped original)."""

    __slots__ = ("_cur",)

    def __init__(self, cursor: Any):
        self._cur = cursor

    def execute(self, *args: Any, **kwargs: Any) -> CipherCursor:
        self._call(self._cur.execute, *args, **kwargs)
        return self

    def executemany(self, *args: Any, **kwargs: Any) -> CipherCursor:
        self._call(self._cur.executemany, *args, **kwargs)
        return self

    def executescript(self, *args: Any, **kwargs: Any) -> CipherCursor:
        self._call(self._cur.executescript, *args, **kwargs)
        return self

    def fetchone(self) -> Any:
        return self._call(self._cur.fetchone)

    def fetchall(self) -> list[Any]:
        rows: list[Any] = self._call(self._cur.fetchall)
        return rows

    def fetchmany(self, *args: Any) -> list[Any]:
        rows: list[Any] = self._call(self._cur.fetchmany, *args)
        return rows

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        return self._call(next, self._cur)

    def close(self) -> None:
        self._cur.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


class CipherConnection(_Translating):
    """A ``sqlcipher3`` connection that looks like a ``sqlite3`` one (errors included).

    ``salt``/``passphrase`` tell which key opened it (used to key copies of it).
    """

    __slots__ = ("passphrase", "raw", "salt")
    raw: Any  # the sqlcipher3 connection (the package ships no types)
    salt: bytes
    passphrase: str

    def __init__(self, raw: Any, salt: bytes, passphrase: str):
        object.__setattr__(self, "raw", raw)
        object.__setattr__(self, "salt", salt)
        object.__setattr__(self, "passphrase", passphrase)

    def execute(self, *args: Any, **kwargs: Any) -> CipherCursor:
        return CipherCursor(self._call(self.raw.execute, *args, **kwargs))

    def executemany(self, *args: Any, **kwargs: Any) -> CipherCursor:
        return CipherCursor(self._call(self.raw.executemany, *args, **kwargs))

    def executescript(self, *args: Any, **kwargs: Any) -> CipherCursor:
        return CipherCursor(self._call(self.raw.executescript, *args, **kwargs))

    def cursor(self, *args: Any, **kwargs: Any) -> CipherCursor:
        return CipherCursor(self._call(self.raw.cursor, *args, **kwargs))

    def commit(self) -> None:
        self._call(self.raw.commit)

    def rollback(self) -> None:
        self._call(self.raw.rollback)

    def close(self) -> None:
        self.raw.close()

    def backup(self, target: Any, *args: Any, **kwargs: Any) -> None:
        target = getattr(target, "raw", target)
        self._call(self.raw.backup, target, *args, **kwargs)

    def iterdump(self) -> Iterator[str]:
        lines: Iterator[str] = self.raw.iterdump()
        return lines

    def __enter__(self) -> CipherConnection:
        self.raw.__enter__()
        return self

    def __exit__(self, *exc: object) -> bool | None:
        try:
            result: bool | None = self.raw.__exit__(*exc)
        except _sc.Error as error:
            raise _translate(error) from None
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.raw, name, value)


def as_sqlite(conn: CipherConnection) -> sqlite3.Connection:
    """``conn`` where the store, sqlite-utils and the migrations take a ``sqlite3.Connection``.

    The proxy is a drop-in for one (same methods, same exceptions), not a subclass: a
    C-level ``sqlite3.Connection`` cannot wrap a ``sqlcipher3`` one.
    """
    return cast(sqlite3.Connection, conn)


# ----------------------------------------------------------------- opening


def _regular(path: Path) -> bool:
    """Only a regular file is opened to look at (a FIFO would wait forever)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def is_plain(path: Path) -> bool:
    """True if ``path`` is an unencrypted SQLite file (an older version's record)."""
    if not _regular(path):
        return False
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def file_salt(path: Path) -> bytes | None:
    """The salt SQLCipher keeps in the first 16 bytes, or None for a new/empty file."""
    if not _regular(path):
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(keys.SALT_BYTES)
    except (FileNotFoundError, IsADirectoryError):
        return None
    return head if len(head) == keys.SALT_BYTES else None


def _raw_connect(target: str, *, uri: bool = False, **kwargs: Any) -> Any:
    conn = _sc.connect(target, uri=uri, check_same_thread=kwargs.pop("check_same_thread", True), **kwargs)
    conn.execute("PRAGMA cipher_log_level = NONE")
    return conn


def _key(conn: Any, passphrase: str, salt: bytes, schema: str = "main") -> None:
    prefix = "" if schema == "main" else f"{schema}."
    conn.execute(f'PRAGMA {prefix}key = "{keys.raw_key(passphrase, salt)}"')


def connect(
    path: Path,
    *,
    target: str | None = None,
    uri: bool = False,
    passphrases: Iterable[str] | None = None,
    **kwargs: Any,
) -> CipherConnection:
    """Open the record file ``path`` (``target``: a URI for it) with the unlocked key.

    A new or empty file gets this process's salt.  An existing one is tried with each
    passphrase in turn (the unlocked one first); the first that reads it is kept.
    Raises :class:`RecordLockedError` or :class:`WrongPassphraseError`.
    """
    try:
        tries = list(passphrases) if passphrases is not None else keys.candidates()
    except keys.Locked:
        raise RecordLockedError() from None
    path = Path(path)
    salt = file_salt(path)
    target = str(path) if target is None else target
    for passphrase in tries:
        try:
            conn = _raw_connect(target, uri=uri, **kwargs)
        except _sc.Error as exc:
            raise _translate(exc) from None
        use = salt or keys.new_file_salt(passphrase)
        try:
            _key(conn, passphrase, use)
            if salt is not None:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except _sc.DatabaseError as exc:
            conn.close()
            if "not a database" in str(exc) or "encrypted" in str(exc):
                continue
            # Page 1 decrypted (the key is right) but later pages are damaged: the
            # caller's checks report that.
            conn = _raw_connect(target, uri=uri, **kwargs)
            _key(conn, passphrase, use)
            return CipherConnection(conn, use, passphrase)
        return CipherConnection(conn, use, passphrase)
    raise WrongPassphraseError(path)


def connect_like(source: Any, dest: Path, **kwargs: Any) -> sqlite3.Connection:
    """A connection for a new copy of ``source`` at ``dest``, keyed like ``source``.

    SQLite's backup API copies pages as they are, so the copy must use the same key.
    A plain ``source`` gives a plain ``sqlite3`` connection.
    """
    if not isinstance(source, CipherConnection):
        plain: sqlite3.Connection = sqlite3.connect(dest, **kwargs)
        return plain
    conn = _raw_connect(str(dest), **kwargs)
    _key(conn, source.passphrase, source.salt)
    return as_sqlite(CipherConnection(conn, source.salt, source.passphrase))


def memory_copy(source: CipherConnection, target: str) -> CipherConnection:
    """An unencrypted in-memory copy of the encrypted record ``target`` (a URI; read-only,
    as ``source`` opened it), for upgrading an older record format in memory only.

    SQLite's backup API cannot copy between an encrypted and a plain database, so the
    copy is made with ``sqlcipher_export`` into the memory database; nothing is written to
    the file or beside it.
    """
    mem = _raw_connect("file::memory:", uri=True, isolation_level=None)
    try:
        mem.execute(
            f'ATTACH DATABASE ? AS enc KEY "{keys.raw_key(source.passphrase, source.salt)}"', (target,)
        )
        mem.execute("SELECT sqlcipher_export('main', 'enc')")
        for pragma in ("user_version", "application_id"):
            value = int(mem.execute(f"PRAGMA enc.{pragma}").fetchone()[0])
            mem.execute(f"PRAGMA main.{pragma} = {value}")
        mem.execute("DETACH DATABASE enc")
    except _sc.Error as exc:
        mem.close()
        raise _translate(exc) from None
    return CipherConnection(mem, b"", "")


# ----------------------------------------------------------------- plain -> encrypted


def _tables(conn: sqlite3.Connection | CipherConnection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]


def content_digest(conn: sqlite3.Connection | CipherConnection) -> dict[str, tuple[int, str]]:
    """Row count and a SHA-256 over every row of every table (rowid order).

    Equal digests mean the copy holds exactly the same data -- every signed visit, its
    stored hash and everything the hash covers included.
    """
    out = {}
    for table in _tables(conn):
        digest = hashlib.sha256()
        count = 0
        try:
            rows = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
        except sqlite3.OperationalError:  # WITHOUT ROWID / virtual tables
            rows = conn.execute(f'SELECT * FROM "{table}"')
        for row in rows:
            digest.update(repr(tuple(row)).encode("utf-8"))
            count += 1
        out[table] = (count, digest.hexdigest())
    return out


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# Test hook: called with a step name between the steps of a conversion (SIGKILL tests).
_step_hook = None


def _step(name: str) -> None:
    if _step_hook is not None:
        _step_hook(name)


def encrypt_plain_file(path: Path, passphrase: str) -> None:
    """Replace the plain SQLite file ``path`` by an encrypted copy; lose nothing.

    1. The plain file is made self-contained (WAL checkpointed, rollback journal), so it
       is complete on its own whatever happens next.
    2. ``sqlcipher_export`` writes an encrypted copy to ``<name>.encrypting`` (0600).
    3. The copy is verified: ``integrity_check``, and every table's row count and
       content digest equal the original's (so every signed visit and its hash too).
    4. The copy is flushed to disk and renamed over the original (atomic), and the
       plain file's ``-shm`` is removed.

    Killed at any point, the folder holds either the complete plain file (the next
    open starts again; a stale ``.encrypting`` is discarded) or the verified encrypted
    one.  Raises :class:`StoreError` if verification fails (the plain file is kept).
    """
    path = Path(path)
    partial = path.with_name(path.name + ".encrypting")
    partial.unlink(missing_ok=True)
    plain = _raw_connect(str(path), isolation_level=None)
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        plain.execute("PRAGMA journal_mode = DELETE")
        _step("checkpointed")
        version = plain.execute("PRAGMA user_version").fetchone()[0]
        app_id = plain.execute("PRAGMA application_id").fetchone()[0]
        before = content_digest(CipherConnection(plain, b"", ""))
        create_private_file(partial)
        salt = keys.new_file_salt(passphrase)
        plain.execute(f'ATTACH DATABASE ? AS enc KEY "{keys.raw_key(passphrase, salt)}"', (str(partial),))
        plain.execute("SELECT sqlcipher_export('enc')")
        plain.execute(f"PRAGMA enc.user_version = {int(version)}")
        plain.execute(f"PRAGMA enc.application_id = {int(app_id)}")
        plain.execute("DETACH DATABASE enc")
    except _sc.Error as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"The record {path} could not be encrypted ({exc}); it was not changed.") from None
    finally:
        plain.close()
    _step("exported")
    check = connect(partial, passphrases=[passphrase], isolation_level=None)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        same = ok and content_digest(check) == before
    finally:
        check.close()
    if not same:
        partial.unlink(missing_ok=True)
        raise StoreError(
            f"The encrypted copy of {path} did not match the original, so the "
            f"original was kept unencrypted and unchanged."
        )
    _fsync(partial)
    _step("verified")
    for suffix in ("-wal", "-shm"):
        # Only the -shm can be left (the WAL was folded in and removed in step 1).
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    os.replace(partial, path)
    _fsync(path)
    _step("replaced")


def export_encrypted(source_target: str, dest: Path) -> CipherConnection:
    """Copy the plain SQLite file ``source_target`` (a read-only URI) into the new file
    ``dest``, encrypted with the unlocked passphrase; returns a connection to ``dest``.

    ``dest`` is created 0600 before the first page is written, so no plain copy of the
    record ever exists on disk, however the process ends (a restore of an older backup).
    """
    passphrase = keys.current()
    salt = keys.new_file_salt(passphrase)
    create_private_file(dest)
    plain = _raw_connect(source_target, uri=True, isolation_level=None)
    try:
        version = int(plain.execute("PRAGMA user_version").fetchone()[0])
        app_id = int(plain.execute("PRAGMA application_id").fetchone()[0])
        plain.execute(f'ATTACH DATABASE ? AS enc KEY "{keys.raw_key(passphrase, salt)}"', (str(dest),))
        plain.execute("SELECT sqlcipher_export('enc')")
        plain.execute(f"PRAGMA enc.user_version = {version}")
        plain.execute(f"PRAGMA enc.application_id = {app_id}")
        plain.execute("DETACH DATABASE enc")
    except _sc.Error as exc:
        raise _translate(exc) from None
    finally:
        plain.close()
    return connect(dest, passphrases=[passphrase], isolation_level=None)


def rekey_file(path: Path, old: str, new: str) -> None:
    """Change the passphrase of the encrypted file ``path`` (``PRAGMA rekey``).

    The salt stays, so SQLCipher's own ``PRAGMA key = 'new passphrase'`` opens it.
    SQLCipher rewrites every page inside one transaction: a crash leaves the old key.
    """
    conn = connect(path, passphrases=[old], isolation_level=None)
    try:
        conn.raw.execute(f'PRAGMA rekey = "{keys.raw_key(new, conn.salt)}"')
    except _sc.Error as exc:
        raise _translate(exc) from None
    finally:
        conn.close()


def check_length(path: Path, conn: sqlite3.Connection | CipherConnection) -> None:
    """Raise the store's "truncated" problem if an encrypted file is shorter than it says.

    The plain header check cannot read an encrypted header: a length that is not whole
    pages, or a decrypted header counting more pages than the file has, is a truncation
    (unless pages may still be in the WAL).
    """
    from nurse_app.store.database import UnusableFile

    if is_plain(path):
        return
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return
    size = path.stat().st_size
    try:
        # Reads page 1 only.  Page 1 decrypted (the key is right), so SQLite calling it
        # malformed here means the header's page count is more than the file holds.
        conn.execute("PRAGMA freelist_count").fetchone()
        short = False
    except sqlite3.DatabaseError as exc:
        short = "malformed" in str(exc)
    if size % CIPHER_PAGE_SIZE or short:
        raise UnusableFile(
            "is truncated (shorter than its own header says), probably by an interrupted copy or a full disk"
        )


def rekey_to_current(conn: object) -> None:
    """Re-encrypt the file of ``conn`` (a copy just made) with the unlocked passphrase,
    if it was made under another one (restoring an older backup)."""
    if not isinstance(conn, CipherConnection) or conn.passphrase == keys.current():
        return
    new = keys.current()
    try:
        conn.raw.execute(f'PRAGMA rekey = "{keys.raw_key(new, conn.salt)}"')
    except _sc.Error as exc:
        raise _translate(exc) from None
    object.__setattr__(conn, "passphrase", new)
