"""The process that holds the passphrase: no core dump, no ptrace by other processes.

A core dump of a running command holds the passphrase, the derived keys and whatever
patient rows were in memory.  :func:`harden` sets the core size limit to 0
(``RLIMIT_CORE``) and, on Linux, marks the process not dumpable (``PR_SET_DUMPABLE`` 0
through ``prctl``), which also stops other processes of the same user from attaching a
debugger.  Called when the command line starts and whenever a passphrase is unlocked;
doing it twice is harmless, and a platform without these calls is left as it is.
"""

from __future__ import annotations

import contextlib
import sys

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3
_done = False


def harden() -> None:
    """Switch core dumps off for this process (idempotent)."""
    global _done
    if _done:
        return
    _done = True
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def dumpable() -> bool | None:
    """Whether the kernel would write a core dump of this process (None: cannot tell)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return bool(ctypes.CDLL(None).prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
    except (OSError, AttributeError):
        return None
