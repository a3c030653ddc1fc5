"""Wrong passphrase attempts, counted per record and kept beside it: one throttle for the
window and the command line, surviving a restart.

The file ``.<record name>.unlock-failures`` in the record's folder (0600) holds the times
of the wrong attempts since the last unlock and the earliest time the next attempt is
allowed, as JSON.  Nothing secret is in it: no passphrase, no key, no patient detail.  The
delay after each failure is the policy's (:func:`nurse_app.core.security.throttle_delay`).
After the next successful unlock the attempts are written to the audit log
(``Store.record_security_event``) and the file is removed.

Someone who can delete the file can reset the count; they can also copy the record away
and guess offline, which SQLCipher's slow key derivation is there to resist.  The throttle
is against guessing through the app itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from nurse_app.core.security import throttle_delay

if TYPE_CHECKING:
    from nurse_app.store.api import Store

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

SUFFIX = ".unlock-failures"


def throttle_file(db_path: Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(f".{db_path.name}{SUFFIX}")


class Throttle:
    """The wrong-attempt count of one record (``clock``: wall-clock seconds, for tests)."""

    def __init__(self, db_path: Path, clock: Callable[[], float] = time.time):
        self.path = throttle_file(db_path)
        self._clock = clock

    def _read(self) -> tuple[list[float], float]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            failures = [float(t) for t in data.get("failures", [])]
            return failures, float(data.get("next_allowed_at", 0.0))
        except (OSError, ValueError, TypeError, AttributeError):
            return [], 0.0

    def _write(self, failures: list[float], next_allowed_at: float) -> None:
        data = json.dumps({"failures": failures, "next_allowed_at": next_allowed_at}).encode("ascii")
        with contextlib.suppress(OSError):  # a read-only folder: the record cannot be opened anyway
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def failures(self) -> list[float]:
        return self._read()[0]

    def seconds_to_wait(self) -> float:
        """How long before the next attempt is allowed (0: now)."""
        return max(0.0, self._read()[1] - self._clock())

    def record_failure(self) -> float:
        """Count one wrong attempt; returns the seconds to wait before the next."""
        with self._locked():
            failures, _ = self._read()
            failures.append(self._clock())
            delay = throttle_delay(len(failures))
            self._write(failures, self._clock() + delay)
        return delay

    def take_failures(self) -> list[float]:
        """The wrong attempts since the last unlock (for the audit log); the count restarts."""
        with self._locked():
            failures, _ = self._read()
            self.path.unlink(missing_ok=True)
        return failures


def audit_failures(store: Store, failures: list[float]) -> None:
    """Write wrong attempts into the audit log of the record just unlocked (one entry)."""
    if not failures:
        return
    import datetime as _dt

    from nurse_app.store.times import utc_text

    def stamp(moment: float) -> str:
        return utc_text(_dt.datetime.fromtimestamp(moment, _dt.UTC))

    store.record_security_event(
        "wrong passphrase attempts",
        {"count": len(failures), "first_at": stamp(failures[0]), "last_at": stamp(failures[-1])},
    )
