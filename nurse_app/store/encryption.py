"""Upgrading plain records to encrypted ones, and changing the passphrase.

Called when a record is opened (:func:`ensure_encrypted`): a record made before
encryption existed is encrypted with the unlocked passphrase (the app asked the nurse
to choose one: see ``ui/unlock.py``), and so is every plain backup of it in the
backups folder.  The backups are checked on every open, so a conversion interrupted
between the record and its backups is completed the next time.
"""

from __future__ import annotations

from pathlib import Path

from nurse_app.store import crypto, keys
from nurse_app.store.backup import list_backups


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
    todo = plain_files(path)
    if not todo:
        return []
    try:
        passphrase = keys.current()
    except keys.Locked:
        raise crypto.RecordLockedError() from None
    for file in todo:
        crypto.encrypt_plain_file(file, passphrase)
    return todo


def change_passphrase(path: Path, old: str, new: str) -> list[tuple[Path, str]]:
    """Rekey the record and every backup it can open; returns ``(backup, problem)`` left.

    Each backup encrypted with ``old`` is rekeyed to ``new``, so all of them stay
    openable with the one passphrase the nurse knows.  Backups under another, older
    passphrase are left as they are and listed, so the nurse can be told which
    passphrase they need.  The record itself is rekeyed first; the unlocked passphrase
    becomes ``new``.
    """
    crypto.rekey_file(Path(path), old, new)
    keys.unlock(new)
    left = []
    for backup in list_backups(path):
        try:
            crypto.rekey_file(backup.path, old, new)
        except crypto.WrongPassphraseError:
            left.append((backup.path, "needs the passphrase it was made with"))
    return left
