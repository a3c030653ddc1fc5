"""Did the app close unexpectedly last time? A run marker and a fault log in the logs folder.

At start (``run_gui``), :func:`begin` looks for the markers earlier runs left: a marker whose
process is gone is a run that never reached its clean exit (a fatal error, a kill, a power
cut). It writes this run's marker (its process id and start time, nothing about patients) and
turns on :mod:`faulthandler` into ``crash.log``, so a fatal error leaves its Python stack there
(files, lines and functions only). :func:`end` removes the marker at a clean exit.
"""

from __future__ import annotations

import datetime as _dt
import faulthandler
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CRASH_LOG = "crash.log"
_PREFIX = "run-"
_SUFFIX = ".marker"


@dataclass(frozen=True)
class PreviousRun:
    """A run that ended without its clean exit."""

    started_at: _dt.datetime | None
    fault_log: Path | None  # its fatal-error stack, kept beside crash.log, if it left one


@dataclass
class _Current:
    marker: Path
    log: IO[str]


_current: _Current | None = None


def default_folder() -> Path:
    from nurse_app.store.location import error_log_path

    return error_log_path().parent


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _read(marker: Path) -> tuple[int, _dt.datetime | None]:
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        started = data.get("started_at")
        return int(data["pid"]), _dt.datetime.fromisoformat(started) if started else None
    except (OSError, ValueError, KeyError, TypeError):
        return -1, None


def begin(folder: Path | None = None) -> PreviousRun | None:
    """Record that a run has started; return the last run that ended abnormally, if any."""
    global _current
    folder = Path(folder) if folder is not None else default_folder()
    folder.mkdir(parents=True, exist_ok=True)
    previous: PreviousRun | None = None
    for marker in sorted(folder.glob(f"{_PREFIX}*{_SUFFIX}")):
        pid, started = _read(marker)
        if pid > 0 and _alive(pid):
            continue  # another window is open on this computer
        marker.unlink(missing_ok=True)
        if previous is None or (started and previous.started_at and started > previous.started_at):
            previous = PreviousRun(started, None)
    log_path = folder / CRASH_LOG
    if previous is not None and log_path.exists() and log_path.stat().st_size:
        kept = folder / "crash-previous.log"
        os.replace(log_path, kept)
        previous = PreviousRun(previous.started_at, kept)
    marker = folder / f"{_PREFIX}{os.getpid()}{_SUFFIX}"
    now = _dt.datetime.now().astimezone()
    marker.write_text(json.dumps({"pid": os.getpid(), "started_at": now.isoformat()}), encoding="utf-8")
    log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for faulthandler until end()
    faulthandler.enable(file=log, all_threads=True)
    _current = _Current(marker, log)
    return previous


def end() -> None:
    """The clean exit: no marker is left behind, and the fault log is closed."""
    global _current
    if _current is None:
        return
    faulthandler.disable()
    _current.log.close()
    _current.marker.unlink(missing_ok=True)
    _current = None


def notice(previous: PreviousRun) -> str:
    """What the nurse reads at the next start (no patient detail)."""
    when = (
        f" (the window opened at {previous.started_at:%H:%M} on {previous.started_at:%d %b})"
        if (previous.started_at)
        else ""
    )
    text = (
        f"IVIG Nurse Companion closed unexpectedly last time{when}.\n\n"
        "Every entry is saved as it is made, so what you recorded is in the record. The visit "
        "that needs you (a running infusion, or today's unsigned visit) is open again: check its "
        "infusion clock and the time of the last vital signs."
    )
    if previous.fault_log is not None:
        text += f"\n\nDetails for support were written to:\n{previous.fault_log}"
    return text
