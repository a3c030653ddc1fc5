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

from dataclasses import dataclass
from functools import lru_cache

from nurse_app.core.errors import InputError, ResourceError
from nurse_app.core.resources import load_toml, resource_path, validate

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


def visit_context(product, risks=()) -> VisitContext:
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
    agency_policy: bool = False      # added by the agency policy file (no packaged source)

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
        raise InputError(f"The checklist {self.title!r} (version {self.version}) has no item "
                         f"{item_id!r}.", field="item_id")

    def phase(self, phase_id: str) -> ChecklistPhase:
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise InputError(f"The checklist {self.title!r} has no phase {phase_id!r}.", field="phase")


def _item(it: dict, phase_id: str) -> ChecklistItem:
    when = it.get("when")
    return ChecklistItem(id=it["id"], text=it["text"], required=it["required"], help=it["help"],
                         sources=tuple(it.get("sources", ())), unverified=it.get("unverified", False),
                         phase_id=phase_id,
                         when=None if when is None else Condition(tuple(when.get("product_kinds", ())),
                                                                  tuple(when.get("risks", ()))),
                         agency_policy=it.get("agency_policy", False))


def _parse(relative: str) -> ChecklistTemplate:
    data, file = load_toml(relative)
    validate("checklist", data, file, file_name=relative.rsplit("/", 1)[-1])
    phases = tuple(ChecklistPhase(id=p["id"], title=p["title"],
                                  items=tuple(_item(it, p["id"]) for it in p["item"]))
                   for p in data["phase"])
    return ChecklistTemplate(id=data["id"], version=data["version"], title=data["title"],
                             phases=phases, sources=dict(data["sources"]), file=file)


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


def load_template(template_id: str = DEFAULT_TEMPLATE_ID, version: int | None = None
                  ) -> ChecklistTemplate:
    """One template; ``version=None`` gives the newest version (used for new visits)."""
    versions = {v: t for (tid, v), t in _all_templates().items() if tid == template_id}
    if not versions:
        raise InputError(f"There is no checklist called {template_id!r}.", field="template")
    if version is None:
        return versions[max(versions)]
    if version not in versions:
        raise ResourceError(
            f"Checklist {template_id!r} version {version} is not part of this installation "
            f"(available: {', '.join(str(v) for v in sorted(versions))}).")
    return versions[version]
