"""Reaction kinds and the guidance for each severity (``resources/reactions.toml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from nurse_app.core.resources import Fields, load_toml


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


@dataclass(frozen=True)
class ReactionGuide:
    severities: dict[str, Severity]
    kinds: dict[str, ReactionKind]
    grading_verified: bool
    grading_note: str
    sources: dict[str, str]


@lru_cache(maxsize=1)
def load_reactions() -> ReactionGuide:
    data, name = load_toml("reactions.toml")
    top = Fields(data, name)
    sources = top.sources_table()
    severities = {}
    for f in top.tables("severity"):
        f.unknown_keys({"id", "title", "examples", "actions", "stop_infusion", "call_prescriber",
                        "call_emergency", "sources"})
        s = Severity(f.text("id"), f.text("title"), f.text("examples"), tuple(f.text_list("actions")),
                     f.boolean("stop_infusion"), f.boolean("call_prescriber"), f.boolean("call_emergency"),
                     f.source_keys("sources", sources))
        severities[s.id] = s
    for required in ("mild", "moderate", "severe"):
        if required not in severities:
            top.fail(f"severity {required!r} is missing", "severity")
    kinds = {}
    for f in top.tables("kind"):
        f.unknown_keys({"id", "title", "signs", "sources"})
        k = ReactionKind(f.text("id"), f.text("title"), f.text("signs"), f.source_keys("sources", sources))
        kinds[k.id] = k
    return ReactionGuide(severities, kinds, top.boolean("grading_verified"), top.text("grading_note"), sources)
