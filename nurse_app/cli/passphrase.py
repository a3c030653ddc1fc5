"""The record's passphrase for headless commands: environment variable, or a hidden prompt.

Never a command-line argument (other users can read a process's arguments).  The
passphrase stays in this process's memory only.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from nurse_app.core.errors import InputError

ENV_VAR = "NURSE_APP_PASSPHRASE"
BACKUP_ENV_VAR = "NURSE_APP_BACKUP_PASSPHRASE"
# Commands that read or write the record.
RECORD_COMMANDS = frozenset(
    {
        "backup",
        "restore",
        "check-db",
        "demo-data",
        "visit-pdf",
        "visit-fhir",
        "visit-void",
        "visit-addendum",
        "patients",
        "change-passphrase",
        "schedule",
        "content-approve",
        "seals",
    }
)
# Commands that read the record only when it exists (no passphrase needed without one).
RECORD_IF_PRESENT_COMMANDS = frozenset({"content-report"})


def _prompt(question: str) -> str:
    return getpass.getpass(question)


def unlock(record: Path) -> None:
    """Make the record's passphrase available: ``NURSE_APP_PASSPHRASE`` or a prompt.

    For a record that does not exist yet, or a plain one about to be encrypted, the
    passphrase must pass the rules for a new passphrase (and is asked twice at a prompt).
    """
    from nurse_app.core.security import passphrase_problem
    from nurse_app.store import crypto, keys

    new = not Path(record).exists() or crypto.is_plain(Path(record))
    value = os.environ.get(ENV_VAR)
    if not value:
        if keys.is_unlocked():
            return
        if not sys.stdin.isatty():
            raise InputError(
                f"The record is encrypted: set {ENV_VAR} or run the command in a "
                f"terminal to be asked for the passphrase."
            )
        value = _prompt("New passphrase for the record: " if new else "Record passphrase: ")
        if new and value != _prompt("Type the new passphrase again: "):
            raise InputError("The two passphrases differ; nothing was changed.")
    if new:
        problem = passphrase_problem(value)
        if problem:
            raise InputError(f"The passphrase for the new record is refused: {problem}")
    keys.unlock(value)


def backup_passphrase(backup: Path) -> str:
    """The passphrase of a backup the record's passphrase does not open."""
    from nurse_app.store import crypto

    value = os.environ.get(BACKUP_ENV_VAR)
    if value:
        return value
    if not sys.stdin.isatty():
        raise crypto.WrongPassphraseError(backup)
    return _prompt(f"Passphrase of the backup {Path(backup).name}: ")


def unlock_backup(backup: str | Path) -> None:
    """Before a restore: if the record's passphrase does not open ``backup``, ask for its own.

    ``NURSE_APP_BACKUP_PASSPHRASE`` or a hidden prompt; the restored record is then
    re-encrypted with the record's passphrase.
    """
    from nurse_app.store import crypto, keys
    from nurse_app.store.database import read_only_connection

    backup = Path(backup).absolute()
    if not backup.is_file() or crypto.is_plain(backup):
        return
    for attempt in range(2):
        try:
            read_only_connection(backup).close()
            return
        except crypto.WrongPassphraseError:
            if attempt:
                raise
            keys.add_alternate(backup_passphrase(backup))
