"""Upgrading plain records to encrypted ones, and changing the passphrase.

Called when a record is opened (:func:`ensure_encrypted`): a record made before
encryption existed is encrypted with the unlocked passphrase (the app asked the nurse
to choose one: see ``ui/unlock.py``), and so is every plain backup of it in the
backups folder.  The backups are checked on every open, so a conversion interrupted
between the record and its backups is completed the next time.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from nurse_app.store import crypto, keys
from nurse_app.store.backup import list_backups
from nurse_app.store.errors import StoreError


def plain_files(path: Path) -> list[Path]:
    """The record (if plain) and its plain backups: what encryption still has to cover."""
    path = Path(path)
    found = [path] if crypto.is_plain(path) else []
    return found + [b.path for b in list_backups(path) if crypto.is_plain(b.path)]


def ensure_encrypted(path: Path) -> list[Path]:
    """Encrypt the plain record at ``path`` and its plain backups; returns what was converted.

    Raises :class:`~nurse_app.store.crypto.RecordLockedError` when there is something
    to encrypt but no passphrase.
    """
    if not plain_files(path):
        return []
    try:
        passphrase = keys.current()
    except keys.Locked:
        raise crypto.RecordLockedError() from None
    with converting(Path(path)):
        todo = plain_files(path)  # another process may have done it while this one waited
        for file in todo:
            crypto.encrypt_plain_file(file, passphrase)
    return todo


_held = threading.local()


@contextlib.contextmanager
def converting(path: Path) -> Iterator[None]:
    """One conversion at a time per folder: a second process opening the same plain record
    waits here (an exclusive ``flock`` on the folder, released by the kernel if the holder
    dies) and then finds it already encrypted.  Re-entrant within a thread."""
    depth = int(getattr(_held, "depth", 0))
    if fcntl is None or depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _held.depth = 1
        yield
    finally:
        _held.depth = 0
        os.close(fd)


def change_passphrase(path: Path, old: str, new: str) -> list[tuple[Path, str]]:
    """Rekey the record and every backup it can open; returns ``(backup, problem)`` left.

    Each backup encrypted with ``old`` is rekeyed to ``new``, so all of them stay
    openable with the one passphrase the nurse knows.  Backups under another, older
    passphrase are left as they are and listed, so the nurse can be told which
    passphrase they need.  The record itself is rekeyed first; the unlocked passphrase
    becomes ``new``.
    """
    path = Path(path)
    try:
        crypto.rekey_file(path, old, new)
    except crypto.WrongPassphraseError:
        raise
    except StoreError as exc:
        if _opens_with(path, old):
            raise StoreError(
                f"The passphrase could not be changed ({exc}); the record and its backups "
                f"all keep the old passphrase."
            ) from None
        raise
    if not _opens_with(path, new, check=True):
        if _opens_with(path, old):
            raise StoreError(
                "The passphrase could not be changed: the record did not take the new one (a "
                "damaged record, or a full disk). The record and its backups all keep the old "
                "passphrase."
            )
        raise StoreError(
            f"The record {path} opens with neither passphrase after the change: it is "
            f"damaged. Its backups keep the old passphrase; restore one with: nurse-app restore FILE."
        )
    keys.unlock(new)
    left = []
    for backup in list_backups(path):
        try:
            crypto.rekey_file(backup.path, old, new)
        except crypto.WrongPassphraseError:
            left.append((backup.path, "needs the passphrase it was made with"))
            continue
        except StoreError as exc:
            left.append((backup.path, f"could not be changed ({exc}); it keeps the old passphrase"))
            continue
        if not _opens_with(backup.path, new):
            left.append((backup.path, "did not take the new passphrase; it keeps the old one"))
    return left


def _opens_with(path: Path, passphrase: str, *, check: bool = False) -> bool:
    """True if ``passphrase`` opens ``path`` (``check``: and SQLite's quick check passes)."""
    try:
        conn = crypto.connect(path, passphrases=[passphrase], isolation_level=None)
    except StoreError:
        return False
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return not check or conn.execute("PRAGMA quick_check(1)").fetchone()[0] == "ok"
    except Exception:  # noqa: BLE001 - any failure to read means "does not open"
        return False
    finally:
        conn.close()
