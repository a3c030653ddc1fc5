"""Reaction kinds and the guidance for each severity (``resources/reactions.toml``).

The kind of a reaction decides which severity tiers fit it: each kind in the file lists
its ``tiers``.  A kind with one tier forces it (anaphylaxis, TRALI and clot/stroke signs
are always severe).  :func:`tiers_for` is the one place that rule is read, and
:func:`check_reaction` the one place it is enforced -- the Reactions tab offers only the
allowed tiers, and the store refuses a pair the rule forbids whoever asks (GUI, CLI, demo
data, scripts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from nurse_app.core.errors import InputError
from nurse_app.core.resources import load_toml, validate

if TYPE_CHECKING:
    from nurse_app.core.catalogue import Product

SEVERITY_ORDER = ("mild", "moderate", "severe")


@dataclass(frozen=True)
class Severity:
    id: str
    title: str
    examples: str
    actions: tuple[str, ...]
    stop_infusion: bool
    call_prescriber: bool
    call_emergency: bool
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ReactionKind:
    id: str
    title: str
    signs: str
    sources: tuple[str, ...]
    tiers: tuple[str, ...] = SEVERITY_ORDER  # the severities that fit this kind, mildest first
    tier_reason: str = ""  # why (shown to the nurse)
    actions: tuple[str, ...] = ()  # steps for this kind, before the tier's steps

    @property
    def forced_tier(self) -> str | None:
        """The one severity this kind always has (``None`` when the nurse chooses)."""
        return self.tiers[0] if len(self.tiers) == 1 else None


@dataclass(frozen=True)
class KindTiers:
    """What the rule allows for one kind: ``allowed`` tiers, the ``forced`` one (if any), why."""

    allowed: tuple[str, ...]
    forced: str | None
    reason: str


@dataclass(frozen=True)
class ReactionGuide:
    severities: dict[str, Severity]
    kinds: dict[str, ReactionKind]
    grading_verified: bool
    grading_note: str
    sources: dict[str, str]
    # {token: {saline class or "unknown": wording}}: the steps that put saline in the line.
    line_steps: dict[str, dict[str, str]] | None = None


def parse_reactions(data: dict[str, Any], name: str) -> ReactionGuide:
    """Validate the parsed reactions file; raises ``ResourceError`` naming the file and field."""
    validate("reactions.toml", data, name)
    severities = {}
    for s in data["severity"]:
        severities[s["id"]] = Severity(
            s["id"],
            s["title"],
            s["examples"],
            tuple(s["actions"]),
            s["stop_infusion"],
            s["call_prescriber"],
            s["call_emergency"],
            tuple(s["sources"]),
        )
    kinds = {}
    for k in data["kind"]:
        kinds[k["id"]] = ReactionKind(
            k["id"],
            k["title"],
            k["signs"],
            tuple(k["sources"]),
            tuple(t for t in SEVERITY_ORDER if t in k["tiers"]),
            k["tier_reason"],
            tuple(k.get("actions", ())),
        )
    line_steps = {token: dict(words) for token, words in data["line_step"].items()}
    return ReactionGuide(
        severities, kinds, data["grading_verified"], data["grading_note"], dict(data["sources"]), line_steps
    )


@lru_cache(maxsize=1)
def load_reactions() -> ReactionGuide:
    data, name = load_toml("reactions.toml")
    return parse_reactions(data, name)


def find_kind(kind: str, guide: ReactionGuide | None = None) -> ReactionKind | None:
    """The kind for an id (or its title, any case); ``None`` for text that names no kind
    (a record made before kinds were checked)."""
    guide = guide or load_reactions()
    if kind in guide.kinds:
        return guide.kinds[kind]
    folded = kind.strip().casefold()
    return next((k for k in guide.kinds.values() if folded in (k.id.casefold(), k.title.casefold())), None)


def tiers_for(kind: str, guide: ReactionGuide | None = None) -> KindTiers:
    """The severities that fit a kind, the one it forces (if any), and why.

    Raises :class:`InputError` for a kind that is not in the list.
    """
    found = _known_kind(kind, guide or load_reactions())
    return KindTiers(found.tiers, found.forced_tier, found.tier_reason)


def _known_kind(kind: str, guide: ReactionGuide) -> ReactionKind:
    found = find_kind(kind, guide)
    if found is None:
        raise InputError(
            f"Unknown kind of reaction {kind!r}: choose one of "
            f"{', '.join(k.title for k in guide.kinds.values())} "
            "(use Other and describe it in the note).",
            field="kind",
        )
    return found


def check_reaction(kind: str, severity: str, guide: ReactionGuide | None = None) -> str:
    """Refuse a kind/severity pair the rule forbids; returns the kind's id.

    Anaphylaxis recorded as mild (from any screen, command or script) ends here.
    """
    guide = guide or load_reactions()
    rule = tiers_for(kind, guide)
    found = _known_kind(kind, guide)
    if severity not in rule.allowed:
        allowed = " or ".join(rule.allowed)
        raise InputError(
            f"{found.title} cannot be recorded as {severity}: it is {allowed}. {rule.reason}",
            field="severity",
        )
    return found.id


def severity_label(kind: str, severity: str, guide: ReactionGuide | None = None) -> str:
    """The severity as a record shows it: "Mild", or "Severe (always severe for this kind)"
    when the kind forced it -- the same words on the screen, the PDF and the FHIR narrative."""
    found = find_kind(kind, guide) if kind else None
    text = severity.capitalize()
    if found is not None and found.forced_tier == severity:
        return f"{text} (always {severity} for this kind)"
    return text


def kind_label(kind: str, guide: ReactionGuide | None = None) -> str:
    """The kind's human title (a stored id such as "infusion-reaction" never reaches a page)."""
    found = find_kind(kind, guide) if kind else None
    return found.title if found is not None else kind


_LINE_TOKEN = re.compile(r"\{([a-z0-9-]+)\}")


def line_step(token: str, product: Product | None, guide: ReactionGuide | None = None) -> str:
    """One step that puts saline in the line, worded by the product's line rule
    (``products.toml`` ``line``): never "keep the line open with saline" for a product whose
    label forbids saline.  ``product`` None: the visit's product is not known."""
    from nurse_app.core.catalogue import load_catalogue

    guide = guide or load_reactions()
    words = (guide.line_steps or {})[token]
    never = ", ".join(
        p.display_name for p in load_catalogue().products.values() if p.line and p.line.saline == "never"
    )
    if product is None or product.line is None:
        return words["unknown"].format(never=never)
    return words[product.line.saline].format(brand=product.display_name, rule=product.line.text, never=never)


def actions_for(
    actions: tuple[str, ...], product: Product | None, guide: ReactionGuide | None = None
) -> tuple[str, ...]:
    """A severity's or a kind's steps for a visit with ``product``: each ``{line-step}`` token
    replaced by :func:`line_step`.  The Reactions tab and every other place that shows the steps call this."""
    guide = guide or load_reactions()
    return tuple(
        _LINE_TOKEN.sub(lambda m: line_step(m.group(1), product, guide), action) for action in actions
    )
