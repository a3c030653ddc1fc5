"""The passphrase of the benchmarks' records (encrypted, like every record).

It comes from ``NURSE_APP_PASSPHRASE``; ``run_all.py`` (``make bench``) sets a throw-away one
for its run.  A script run on its own without it makes one up for the records it creates in
that run (give the variable to reopen a record kept with ``--keep``).  It is never printed.
"""

from __future__ import annotations

import os
import secrets

ENV_VAR = "NURSE_APP_PASSPHRASE"


def throwaway() -> str:
    return "benchmark " + secrets.token_urlsafe(18)


def unlock() -> str:
    """Unlock this process with the benchmark passphrase (child processes inherit it); returns it."""
    from nurse_app.store import keys

    value = os.environ.get(ENV_VAR) or throwaway()
    os.environ[ENV_VAR] = value
    keys.unlock(value)
    return value
