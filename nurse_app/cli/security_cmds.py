"""``nurse-app change-passphrase``: rekey the record and its backups, headless.

The current passphrase comes from ``NURSE_APP_PASSPHRASE`` (or a hidden prompt), the
new one from ``NURSE_APP_NEW_PASSPHRASE`` (or a hidden prompt, typed twice); never
from the command line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from nurse_app.core.errors import InputError

NEW_ENV_VAR = "NURSE_APP_NEW_PASSPHRASE"


def register(subparsers) -> None:
    change = subparsers.add_parser(
        "change-passphrase",
        help="change the record's passphrase (backups are re-encrypted)",
        description=f"Rekey the record and every backup in its backups folder made with the current "
        f"passphrase. The new passphrase is read from {NEW_ENV_VAR} or asked for twice.",
    )
    change.set_defaults(func=run_change_passphrase)


def _new_passphrase() -> str:
    from nurse_app.cli.passphrase import _prompt

    value = os.environ.get(NEW_ENV_VAR)
    if value:
        return value
    if not sys.stdin.isatty():
        raise InputError(
            f"Set {NEW_ENV_VAR} or run the command in a terminal to be asked for the new passphrase."
        )
    value = _prompt("New passphrase: ")
    if value != _prompt("Type the new passphrase again: "):
        raise InputError("The two passphrases differ; nothing was changed.")
    return value


def run_change_passphrase(args) -> int:
    from nurse_app.core.security import passphrase_problem
    from nurse_app.store import Store, keys, resolve_db_path

    path, _ = resolve_db_path(args.db)
    if not Path(path).is_file():
        raise InputError(f"There is no patient record at {path}; check --db or NURSE_APP_DB.")
    new = _new_passphrase()
    problem = passphrase_problem(new)
    if problem:
        raise InputError(f"The new passphrase is refused: {problem}")
    with Store.open(path) as store:  # proves the current passphrase first
        left = store.change_passphrase(keys.current(), new)
    print(f"Passphrase changed for {path} and its backups.")
    for backup, problem in left:
        print(f"Not changed: {backup} {problem}.")
    return 0
