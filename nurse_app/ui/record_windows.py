"""File ▸ Open record…, New record… and the demo record: another record opens in its own window.

Each record has its own passphrase, so another record opens in a new process of the app: it
asks for that record's passphrase (or has the nurse choose one for a new record) exactly as at
start, and nothing of this window's record, key or settings reaches it. The record file is
handed over in ``NURSE_APP_DB`` (``store.location.ENV_VAR``); for the demo record,
:data:`DEMO_ENV` asks the new window to fill its new, empty record with demo patients.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nurse_app.store.location import ENV_VAR

DEMO_ENV = "NURSE_APP_DEMO_RECORD"
DEMO_FILENAME = "nurse-app-demo.db"
# Never handed to another record's window: it asks for its own passphrase.
_NOT_INHERITED = ("NURSE_APP_PASSPHRASE", DEMO_ENV)


def app_command() -> list[str]:
    """How to start the app again (the frozen build is its own executable)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "nurse_app"]


def launch(path: Path, *, demo: bool = False) -> subprocess.Popen:
    """Open ``path`` in a new window of its own (a new process); returns the process."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env[ENV_VAR] = str(Path(path).absolute())
    if demo:
        env[DEMO_ENV] = "1"
    return subprocess.Popen(
        app_command(),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # it lives on when this window closes
    )


def demo_record_path(current: Path) -> Path:
    """The demo record beside the current one (never the current record itself)."""
    current = Path(current).absolute()
    return current.with_name(DEMO_FILENAME if current.name != DEMO_FILENAME else "nurse-app-demo-2.db")


def take_demo_request() -> bool:
    """This window was opened to hold the demo record (asked once; not passed on further)."""
    return os.environ.pop(DEMO_ENV, None) == "1"
