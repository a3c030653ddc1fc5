"""Keep ``None`` alive under a Qt binding that loses a reference to it on every void call.

PySide6 6.12.0 on CPython 3.11 hands back ``None`` from a C++ method that returns nothing
(``label.setText``, ``widget.setVisible``, ``table.item()`` finding no item, ...) without
taking the reference the caller then releases: every such call leaves ``None``'s reference
count one lower. The window's once-a-second clocks (the Infusion tab's ``_tick``, the
vital-signs strip, the lock screen) make a few dozen such calls a second, so after some
minutes the count reaches zero and CPython aborts the process with ``Fatal Python error:
none_dealloc`` — wherever the last call happens to be, most often in the Infusion tab's clock.
CPython 3.12 made ``None`` immortal (PEP 683): there the same binding is harmless.

``pyproject.toml`` excludes that release on CPython 3.11. This guard covers an installation
that has an affected binding anyway (an upgrade by hand, a build made from an older lock): at
start it measures whether a void call costs ``None`` a reference and, only if it does, keeps
the count far from zero from a timer on the GUI thread. ``None`` is never freed in a healthy
interpreter, so extra references to it change nothing else.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QCoreApplication, QObject, QTimer

_OBJECT_NAME = "nurse_app_none_guard"
_PROBE_CALLS = 64
# In place: topped up by 2**30 below 2**28 references (no program makes that many void calls
# between two checks). Held in a list: a million at a time below 100 000 (8 MB each time).
IN_PLACE = (1 << 28, 1 << 30)
IN_LIST = (100_000, 1_000_000)
CHECK_INTERVAL_MS = 10_000


def binding_leaks_none() -> bool:
    """True when a void Qt call leaves ``None`` one reference short (never on CPython 3.12+)."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")  # returns void
    return sys.getrefcount(None) <= before - _PROBE_CALLS // 2


class _Held:
    """References to ``None``: counted in place where the object layout is the plain one, else
    held in a list (the same effect, 8 bytes a reference)."""

    def __init__(self) -> None:
        self._list: list[None] = []
        self._count = ctypes.c_ssize_t.from_address(id(None))
        # sys.getrefcount adds one for its own argument: a plain layout reads one less.
        self._in_place = self._count.value == sys.getrefcount(None) - 1
        self.floor, self.step = IN_PLACE if self._in_place else IN_LIST

    def add(self, n: int) -> None:
        if self._in_place:
            self._count.value += n
        else:
            self._list.extend([None] * n)


class NoneGuard(QObject):
    """Owned by the application; tops ``None``'s reference count up whenever it runs low."""

    def __init__(self, app: QCoreApplication):
        super().__init__(app)
        self.setObjectName(_OBJECT_NAME)
        self.active = binding_leaks_none()
        self.top_ups = 0
        self._held: _Held | None = None
        if self.active:
            self._held = _Held()
            self.check()
            self._timer = QTimer(self)
            self._timer.setInterval(CHECK_INTERVAL_MS)
            self._timer.timeout.connect(self.check)
            self._timer.start()

    def check(self) -> None:
        held = self._held
        if held is not None and sys.getrefcount(None) < held.floor:
            held.add(held.step)
            self.top_ups += 1


def install(app: QCoreApplication | None = None) -> NoneGuard | None:
    """Start the guard for ``app`` (the running application); idempotent. None without an app."""
    app = app or QCoreApplication.instance()
    if app is None:
        return None
    existing = app.findChild(NoneGuard, _OBJECT_NAME)
    return existing if existing is not None else NoneGuard(app)
