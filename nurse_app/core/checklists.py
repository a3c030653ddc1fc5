"""Visit checklist templates from ``resources/checklists/*.toml``.

A template is versioned: a visit records the template id and version it started with
and every answer keeps a copy of the item's text, so changing the content later never
rewrites what a nurse documented.  Released versions are never edited in place; a new
version is a new file (``<id>-v<version>.toml``) and old files stay, so an old visit can
still be shown against the template it used.

Everything is validated on load against :class:`nurse_app.core.resource_models.ChecklistFile`
(types, unique ids, known source keys, UNVERIFIED items without sources) and a broken file
raises :class:`ResourceError` naming the file and the field.  Nothing here knows about Qt or
SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from nurse_app.core.errors import InputError, ResourceError
from nurse_app.core.resources import load_toml, resource_path, validate

if TYPE_CHECKING:
    from nurse_app.core.catalogue import Product

FOLDER = "checklists"
DEFAULT_TEMPLATE_ID = "ivig-home-visit"

# Answers a nurse can give to an item.  Unanswered items have no answer at all.
DONE, NOT_DONE, NOT_APPLICABLE = "done", "not_done", "not_applicable"
ANSWERS = (DONE, NOT_DONE, NOT_APPLICABLE)


@dataclass(frozen=True)
class VisitContext:
    """What makes product- and risk-specific items appear on a visit's checklist.

    ``product_kinds``: the kinds of the product's cautions AND contraindications
    (``products.toml``), e.g. "glucose-meter" (maltose), "iga", "hereditary-fructose-intolerance"
    (sorbitol).  ``risks``: the order's risk flags (renal, thrombosis, first-infusion).
    ``known=False`` when the product could not be looked up: every conditional item is then
    shown (more to check is safer than a screening item silently missing).
    """

    product_kinds: frozenset[str] = frozenset()
    risks: frozenset[str] = frozenset()
    known: bool = True


def visit_context(product: Product | None, risks: Iterable[str] = ()) -> VisitContext:
    """The context of a visit with ``product`` (a catalogue Product, or None when unknown)."""
    if product is None:
        return VisitContext(frozenset(), frozenset(risks), known=False)
    kinds = {c.kind for c in product.cautions}
    kinds |= {c.kind for c in product.contraindications}
    return VisitContext(frozenset(kinds), frozenset(risks))


@dataclass(frozen=True)
class Condition:
    """When an item appears: the product has ANY of ``product_kinds``, or the order has ANY
    of ``risks``.  Written in the template as ``[phase.item.when]``."""

    product_kinds: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()

    def holds(self, context: VisitContext) -> bool:
        if not context.known:
            return True
        return bool(set(self.product_kinds) & context.product_kinds or set(self.risks) & context.risks)

    def describe(self) -> str:
        parts = [f"product {k}" for k in self.product_kinds] + [f"{r} risk" for r in self.risks]
        return " or ".join(parts)


# What a time-gated item waits for (``[phase.item.unlock] after``).
INFUSION_END = "infusion-end"
UNLOCK_AFTER = (INFUSION_END,)
# ``minutes = "observation"``: the observation period of resources/monitoring.toml
# ([observation] minutes, first_infusion_minutes; sourced there, an agency policy may lengthen it).
OBSERVATION = "observation"


@dataclass(frozen=True)
class Unlock:
    """A time-gated item: it can be answered "done" only ``minutes`` after ``after``.

    ``minutes`` is a number (then ``sources`` are its source keys) or ``"observation"``
    (the observation period in ``resources/monitoring.toml``, one number for every screen)."""

    after: str
    minutes: float | str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    text: str
    required: bool
    help: str
    sources: tuple[str, ...]
    unverified: bool
    phase_id: str
    when: Condition | None = None
    agency_policy: bool = False  # added by the agency policy file (no packaged source)
    unlock: Unlock | None = None  # time-gated: answerable "done" only after this
    line_rule: bool = False  # the help is followed by the visit's product's line rule
    needs: str | None = None  # "vitals": answerable "done" only once the visit holds a reading

    def applies(self, context: VisitContext | None) -> bool:
        """Shown on a visit with this context (always, for an item without a condition)."""
        return self.when is None or context is None or self.when.holds(context)


@dataclass(frozen=True)
class ChecklistPhase:
    id: str
    title: str
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class ChecklistTemplate:
    id: str
    version: int
    title: str
    phases: tuple[ChecklistPhase, ...]
    sources: dict[str, str]
    file: str
    source_classes: Mapping[str, str] = None  # type: ignore[assignment]   # key -> class

    @property
    def items(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for phase in self.phases for item in phase.items)

    @property
    def required_items(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for item in self.items if item.required)

    def items_for(self, context: VisitContext | None) -> tuple[ChecklistItem, ...]:
        """The items a visit with ``context`` shows (conditional ones only when they apply)."""
        return tuple(item for item in self.items if item.applies(context))

    def item(self, item_id: str) -> ChecklistItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise InputError(
            f"The checklist {self.title!r} (version {self.version}) has no item {item_id!r}.", field="item_id"
        )

    def phase(self, phase_id: str) -> ChecklistPhase:
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise InputError(f"The checklist {self.title!r} has no phase {phase_id!r}.", field="phase")


def _unlock(u: dict[str, Any] | None) -> Unlock | None:
    if u is None:
        return None
    return Unlock(u["after"], u["minutes"], tuple(u.get("sources", ())))


def _item(it: dict[str, Any], phase_id: str) -> ChecklistItem:
    when = it.get("when")
    return ChecklistItem(
        id=it["id"],
        text=it["text"],
        required=it["required"],
        help=it["help"],
        sources=tuple(it.get("sources", ())),
        unverified=it.get("unverified", False),
        phase_id=phase_id,
        when=None
        if when is None
        else Condition(tuple(when.get("product_kinds", ())), tuple(when.get("risks", ()))),
        agency_policy=it.get("agency_policy", False),
        unlock=_unlock(it.get("unlock")),
        line_rule=it.get("line_rule", False),
        needs=it.get("needs"),
    )


def _parse(relative: str) -> ChecklistTemplate:
    data, file = load_toml(relative)
    validate("checklist", data, file, file_name=relative.rsplit("/", 1)[-1])
    phases = tuple(
        ChecklistPhase(id=p["id"], title=p["title"], items=tuple(_item(it, p["id"]) for it in p["item"]))
        for p in data["phase"]
    )
    return ChecklistTemplate(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        phases=phases,
        sources=dict(data["sources"]),
        file=file,
        source_classes=dict(data["source_class"]),
    )


@lru_cache(maxsize=1)
def _all_templates() -> dict[tuple[str, int], ChecklistTemplate]:
    folder = resource_path(FOLDER)
    if not folder.is_dir():
        raise ResourceError(f"resources/{FOLDER}: folder is missing from the installation.")
    templates: dict[tuple[str, int], ChecklistTemplate] = {}
    for node in sorted(folder.iterdir(), key=lambda n: n.name):
        if node.name.endswith(".toml"):
            template = _parse(f"{FOLDER}/{node.name}")
            templates[(template.id, template.version)] = template
    if not templates:
        raise ResourceError(f"resources/{FOLDER}: no checklist template found.")
    return templates


def list_templates() -> list[ChecklistTemplate]:
    """Every template version shipped, sorted by id then version."""
    return [t for _, t in sorted(_all_templates().items())]


def load_template(template_id: str = DEFAULT_TEMPLATE_ID, version: int | None = None) -> ChecklistTemplate:
    """One template; ``version=None`` gives the newest version (used for new visits)."""
    versions = {v: t for (tid, v), t in _all_templates().items() if tid == template_id}
    if not versions:
        raise InputError(f"There is no checklist called {template_id!r}.", field="template")
    if version is None:
        return versions[max(versions)]
    if version not in versions:
        raise ResourceError(
            f"Checklist {template_id!r} version {version} is not part of this installation "
            f"(available: {', '.join(str(v) for v in sorted(versions))})."
        )
    return versions[version]


# --------------------------------------------------------------------------- time-gated items


def clock() -> datetime:
    """Now, in UTC: the moment a time gate is checked against (one place to read the clock)."""
    return datetime.now(UTC)


def _when(event: Mapping[str, Any]) -> datetime:
    at = event.get("at", event.get("occurred_at"))
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    return moment if moment.tzinfo else moment.astimezone()


def infusion_ended_at(events: Sequence[Mapping[str, Any]]) -> datetime | None:
    """When the visit's infusion finished or was stopped (the closing event of the timeline
    read by :func:`nurse_app.core.infusion_record.infusion_outcome`); None while it has not
    started or still runs.  Events struck through by a correction do not count."""
    from nurse_app.core import infusion_record
    from nurse_app.core.visit_logic import END, STOP

    counting = [e for e in events if not e.get("corrected_at")]
    outcome = infusion_record.infusion_outcome(counting)
    if outcome.status not in (infusion_record.COMPLETED, infusion_record.STOPPED):
        return None
    closing = [_when(e) for e in counting if e.get("kind") in (STOP, END)]
    return max(closing) if closing else None


def unlock_minutes(unlock: Unlock, context: VisitContext | None) -> float:
    """The minutes a time-gated item waits: its own sourced number, or the observation period
    of ``resources/monitoring.toml`` (the longer first-infusion period on a first infusion)."""
    if unlock.minutes != OBSERVATION:
        return float(unlock.minutes)
    from nurse_app.core.monitoring import load_monitoring

    rules = load_monitoring()
    if context is not None and "first-infusion" in context.risks:
        return max(rules.observation_minutes, rules.observation_first_infusion_minutes)
    return rules.observation_minutes


def _minutes_text(minutes: float) -> str:
    from nurse_app.core.formatting import fmt_number

    return f"{fmt_number(minutes, 1)} min"


@dataclass(frozen=True)
class ItemLock:
    """A time-gated item that cannot be answered "done" yet."""

    minutes: float
    available_at: datetime | None  # None: the infusion has not ended yet

    @property
    def text(self) -> str:
        """ "available at 11:40 (20 min after the infusion ended)" in local time."""
        wait = _minutes_text(self.minutes)
        if self.available_at is None:
            return f"available {wait} after the infusion ends"
        return f"available at {self.available_at.astimezone():%H:%M} ({wait} after the infusion ended)"


def item_lock(
    item: ChecklistItem, context: VisitContext | None, events: Sequence[Mapping[str, Any]], now: datetime
) -> ItemLock | None:
    """The lock on ``item`` at ``now`` (None when it can be answered).  The one rule: the
    checklist screen, the store and the CLI all ask this.  A visit without any infusion event
    (the timeline not kept in the app) has nothing to wait for; once the infusion is started the
    item waits for its finish or stop, then for the minutes."""
    if item.unlock is None:
        return None
    if not any(not e.get("corrected_at") for e in events):
        return None  # no infusion timeline kept on this visit: nothing to wait for
    minutes = unlock_minutes(item.unlock, context)
    ended = infusion_ended_at(events)
    if ended is None:
        return ItemLock(minutes, None)
    available = ended + timedelta(minutes=minutes)
    return ItemLock(minutes, available) if now < available else None


def refuse_locked_answer(item_text: str, status: str, lock: ItemLock | None) -> str | None:
    """Why ``status`` cannot be recorded on a locked item (None when it can).  "Done" waits for
    the time; "not done" and "not applicable" (with their reason) stay possible, e.g. when the
    infusion was never given or the patient could not stay."""
    if lock is None or status != DONE:
        return None
    return f"{item_text!r} cannot be marked done yet: {lock.text}."


NEEDS_TEXT = {"vitals": "record the reading on the Infusion tab (4) first"}


def missing_evidence(item: Mapping[str, Any], status: str | None, readings: int) -> str | None:
    """Why ``item`` (a row of the store's visit checklist) cannot be answered ``status`` yet:
    an item that ``needs`` vitals is "done" only once the visit holds a reading."""
    if status == DONE and item.get("needs") == "vitals" and readings == 0:
        return f"\u201c{item['text']}\u201d cannot be ticked yet: {NEEDS_TEXT['vitals']}."
    return None


def rest_to_mark_done(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """What "mark the rest done" marks among ``items`` (rows of the store's visit checklist):
    required items that are unanswered and not locked.  Optional items stay open for the
    nurse to answer one by one."""
    return [i for i in items if i["required"] and i["status"] is None and not i.get("locked")]


def item_help(item: ChecklistItem, product: Product | None) -> str:
    """An item's help on a visit with ``product``: for a ``line_rule`` item, followed by the
    product's own dilution and line rule (``products.toml`` ``line``)."""
    if not item.line_rule:
        return item.help
    if product is None or product.line is None:
        return (
            f"{item.help} The visit's product is not known: check its label before saline runs into the line."
        )
    mark = "" if product.line.verified else " UNVERIFIED: confirm with the package insert."
    return f"{item.help} {product.display_name}: {product.line.text}{mark}"
