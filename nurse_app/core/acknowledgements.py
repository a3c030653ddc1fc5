"""Which calculation warnings the nurse has acknowledged, and when (UTC).

Keyed by the warning's code *and* text: if a new weight changes a warning's message,
it needs acknowledging again.  Shared by the calculator page and the order form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar


class _Warning(Protocol):
    """What a calculation warning has (``dosing.Warning``, the order checks' warnings)."""

    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...


_W = TypeVar("_W", bound=_Warning)


class AcknowledgementLog:
    def __init__(self) -> None:
        self._at: dict[tuple[str, str], str] = {}

    @staticmethod
    def _key(warning: _Warning) -> tuple[str, str]:
        return warning.code, warning.message

    def set(self, warning: _Warning, acknowledged: bool) -> None:
        if acknowledged:
            self._at.setdefault(self._key(warning), datetime.now(UTC).isoformat(timespec="seconds"))
        else:
            self._at.pop(self._key(warning), None)

    def is_acknowledged(self, warning: _Warning) -> bool:
        return self._key(warning) in self._at

    def restore(self, records: Iterable[dict[str, Any]]) -> None:
        """Re-apply records saved earlier (``{"code", "message", "acknowledged_at"}``)."""
        for r in records:
            self._at[(r["code"], r["message"])] = r["acknowledged_at"]

    def pending(self, warnings: Iterable[_W]) -> list[_W]:
        return [w for w in warnings if not self.is_acknowledged(w)]

    def records(self, warnings: Iterable[_Warning]) -> list[dict[str, Any]]:
        """The acknowledged ones among ``warnings``, with their time, for the record."""
        return [
            {"code": w.code, "message": w.message, "acknowledged_at": self._at[self._key(w)]}
            for w in warnings
            if self.is_acknowledged(w)
        ]


def pending_in(calculation: Mapping[str, Any]) -> tuple[str, ...]:
    """The warnings of a saved dose calculation that need an acknowledgement and have none
    (their messages): each of the calculation's ``warning_details`` marked
    ``needs_acknowledgement`` whose code and text are not among its ``acknowledgements``.

    Worked out from the calculation itself, so it holds whoever saved it (the Dose tab, the
    CLI, a script)."""
    acknowledged = {(a.get("code"), a.get("message")) for a in calculation.get("acknowledgements") or ()}
    return tuple(
        str(w["message"])
        for w in calculation.get("warning_details") or ()
        if w.get("needs_acknowledgement") and (w.get("code"), w.get("message")) not in acknowledged
    )
