"""Reaction kinds and the guidance for each severity (``resources/reactions.toml``).

The kind of a reaction decides which severity tiers fit it: each kind in the file lists
its ``tiers``.  A kind with one tier forces it (anaphylaxis, TRALI and clot/stroke signs
are always severe).  :func:`tiers_for` is the one place that rule is read, and
:func:`check_reaction` the one place it is enforced -- the Reactions tab offers only the
allowed tiers, and the store refuses a pair the rule forbids whoever asks (GUI, CLI, demo
data, scripts).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nurse_app.core.errors import InputError
from nurse_app.core.resources import Fields, load_toml

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
    tiers: tuple[str, ...] = SEVERITY_ORDER   # the severities that fit this kind, mildest first
    tier_reason: str = ""                     # why (shown to the nurse)
    actions: tuple[str, ...] = ()             # steps for this kind, before the tier's steps

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


def parse_reactions(data: dict[str, Any], name: str) -> ReactionGuide:
    """Validate the parsed reactions file; raises ``ResourceError`` naming the file and field."""
    top = Fields(data, name)
    sources = top.sources_table()
    severities = {}
    for f in top.tables("severity"):
        f.unknown_keys({"id", "title", "examples", "actions", "stop_infusion", "call_prescriber",
                        "call_emergency", "sources"})
        s = Severity(f.text("id", choices=SEVERITY_ORDER), f.text("title"), f.text("examples"),
                     tuple(f.text_list("actions")), f.boolean("stop_infusion"),
                     f.boolean("call_prescriber"), f.boolean("call_emergency"),
                     f.source_keys("sources", sources))
        severities[s.id] = s
    for required in SEVERITY_ORDER:
        if required not in severities:
            top.fail(f"severity {required!r} is missing", "severity")
    kinds = {}
    for f in top.tables("kind"):
        f.unknown_keys({"id", "title", "signs", "tiers", "tier_reason", "actions", "sources"})
        kind_id = f.text("id")
        if kind_id in kinds:
            f.fail(f"kind {kind_id!r} is listed twice", "id")
        if not f.has("tiers"):
            f.fail("every kind must list the severities that fit it (tiers = [...])", "tiers")
        tiers = f.text_list("tiers")
        for tier in tiers:
            if tier not in SEVERITY_ORDER:
                f.fail(f"unknown severity {tier!r} (known: {', '.join(SEVERITY_ORDER)})", "tiers")
        if len(set(tiers)) != len(tiers):
            f.fail("a severity is listed twice", "tiers")
        kinds[kind_id] = ReactionKind(
            kind_id, f.text("title"), f.text("signs"), f.source_keys("sources", sources),
            tuple(t for t in SEVERITY_ORDER if t in tiers), f.text("tier_reason"),
            tuple(f.text_list("actions", [], non_empty=False)))
    return ReactionGuide(severities, kinds, top.boolean("grading_verified"), top.text("grading_note"), sources)


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
    return next((k for k in guide.kinds.values()
                 if folded in (k.id.casefold(), k.title.casefold())), None)


def tiers_for(kind: str, guide: ReactionGuide | None = None) -> KindTiers:
    """The severities that fit a kind, the one it forces (if any), and why.

    Raises :class:`InputError` for a kind that is not in the list.
    """
    guide = guide or load_reactions()
    found = find_kind(kind, guide)
    if found is None:
        raise InputError(f"Unknown kind of reaction {kind!r}: choose one of "
                         f"{', '.join(k.title for k in guide.kinds.values())} "
                         "(use Other and describe it in the note).", field="kind")
    return KindTiers(found.tiers, found.forced_tier, found.tier_reason)


def check_reaction(kind: str, severity: str, guide: ReactionGuide | None = None) -> str:
    """Refuse a kind/severity pair the rule forbids; returns the kind's id.

    Anaphylaxis recorded as mild (from any screen, command or script) ends here.
    """
    guide = guide or load_reactions()
    rule = tiers_for(kind, guide)
    found = find_kind(kind, guide)
    if severity not in rule.allowed:
        allowed = " or ".join(rule.allowed)
        raise InputError(f"{found.title} cannot be recorded as {severity}: it is {allowed}. "
                         f"{rule.reason}", field="severity")
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
