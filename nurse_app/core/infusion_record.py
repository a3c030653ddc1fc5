"""What the recorded infusion events say happened on a visit: the one rule.

A visit's infusion timeline (store table ``infusion_events``: start, rate_change, pause,
resume, stop, end) decides its outcome:

* ``not-started``: no start recorded;
* ``running``: started (or resumed) and neither stopped nor finished; a pause is still
  running for this purpose (the infusion is expected to resume);
* ``completed``: the last halting event is "end" (the infusion finished);
* ``stopped``: the last halting event is "stop" (stopped before finishing, e.g. for a
  reaction) with no restart after it.

A visit whose infusion was stopped is a *partly given* day: it counts as given, but
partial (course calendar, week page, summaries).  The volume given will be added here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from nurse_app.core.visit_logic import END, RESUME, START, STOP

NOT_STARTED, RUNNING, COMPLETED, STOPPED = "not-started", "running", "completed", "stopped"
OUTCOMES = (NOT_STARTED, RUNNING, COMPLETED, STOPPED)
OUTCOME_LABELS = {NOT_STARTED: "not started", RUNNING: "running", COMPLETED: "completed",
                  STOPPED: "stopped before finishing"}
# Event kinds that change the outcome (rate changes and pauses do not).
DECISIVE_KINDS = (START, RESUME, STOP, END)


@dataclass(frozen=True)
class InfusionOutcome:
    status: str

    @property
    def partial(self) -> bool:
        """A day stopped before finishing: given, but only partly."""
        return self.status == STOPPED

    @property
    def given(self) -> bool:
        return self.status != NOT_STARTED

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.status]


def _moment(event: Mapping[str, Any]) -> Any:
    return event.get("at", event.get("occurred_at")) or ""


def infusion_outcome(events: Sequence[Mapping[str, Any]]) -> InfusionOutcome:
    """The outcome of a visit's infusion from its events (``kind`` and ``occurred_at`` or
    ``at``; any order: sorted by time here, ties in the given order)."""
    ordered = sorted(enumerate(events), key=lambda pair: (str(_moment(pair[1])), pair[0]))
    status = NOT_STARTED
    for _, event in ordered:
        kind = event.get("kind")
        if kind in (START, RESUME):
            status = RUNNING
        elif kind == STOP and status != NOT_STARTED:
            status = STOPPED
        elif kind == END and status != NOT_STARTED:
            status = COMPLETED
    return InfusionOutcome(status)


def outcome_from_kinds(kinds: Sequence[str]) -> InfusionOutcome:
    """:func:`infusion_outcome` of event kinds already in time order (a bulk query)."""
    return infusion_outcome([{"kind": k, "at": f"{i:08d}"} for i, k in enumerate(kinds)])
