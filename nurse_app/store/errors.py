"""Errors of the patient record, each with a message a nurse can act on.

All derive from :class:`StoreError` (a :class:`NurseAppError`), so the CLI prints one
line and the GUI shows a dialog.  Invalid field values raise :class:`RecordValueError`,
which is also an :class:`InputError` carrying the field name for inline marking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nurse_app.core.errors import InputError, NurseAppError


class StoreError(NurseAppError):
    """Something went wrong with the record file or a record operation."""


class RecordValueError(StoreError, InputError):
    """A value for a record field was refused (``field`` names it)."""

    def __init__(self, message: str, field: str | None = None):
        InputError.__init__(self, message, field)


class NotFoundError(StoreError):
    """The record asked for does not exist (deleted, or a wrong id)."""


class SignedVisitError(StoreError):
    """The visit is signed: it and its entries are read-only; corrections go in addenda."""


class VoidedVisitError(SignedVisitError):
    """The visit was voided (entered by mistake): kept and audited, but read-only like a
    signed one (so every caller that handles a read-only visit handles it too)."""


class ConflictError(StoreError):
    """The record was changed elsewhere (another window or program) since it was read:
    the change was not saved, so that neither edit silently overwrites the other."""


class NoNurseProfileError(StoreError):
    """Clinical entries are stamped with the nurse's name, so a profile must exist first."""

    def __init__(self) -> None:
        super().__init__(
            "Enter your name and credentials in the nurse profile (Settings) "
            "before recording: every entry is stamped with them."
        )


class DatabaseLocationError(StoreError):
    """The folder for the record file is missing, read-only, or the path is unusable."""

    cli_hint = "Choose the record file with --db PATH or the NURSE_APP_DB environment variable."


class DatabaseBusyError(StoreError):
    """Another nurse-app window or command holds the record file for too long."""


class _FileProblem(StoreError):
    """A problem with an existing file; keeps the path and the backups one could restore."""

    def __init__(self, message: str, path: Path, backups: list[Any] | None = None) -> None:
        super().__init__(message)
        self.path = Path(path)
        self.backups = list(backups or [])


class DatabaseNewerError(_FileProblem):
    """The file was written by a newer nurse-app; it is left untouched."""


class CorruptDatabaseError(_FileProblem):
    """The file is damaged, truncated, empty or not a nurse-app database.

    It is never overwritten.  ``backups`` lists :class:`~nurse_app.store.backup.BackupInfo`
    entries the user can be offered to restore (newest first).
    """


class RecordRekeyedError(StoreError):
    """The record's passphrase was changed by another program (``nurse-app change-passphrase``)
    while this window had it open: nothing is damaged, the window needs the new passphrase."""

    def __init__(self, path: Path | str):
        super().__init__(
            f"The passphrase of the record {path} was changed elsewhere (another window or "
            f"nurse-app change-passphrase). Nothing is damaged: unlock it with the new passphrase, "
            f"then save again."
        )
        self.path = Path(path)
