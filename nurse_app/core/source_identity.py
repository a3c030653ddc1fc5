"""One class per source across every content file.

The same paper or page is cited under different keys in many files (the Vecchietti 2006
case series is ``N48`` in reactions.toml and ``S2`` … ``S16`` in the guides).  A source is
recognised across files by its primary address (the guide's ``url``, else the first address
in a TOML citation, without scheme, ``www.`` or a trailing slash) or by its first author and
year ("Vecchietti G et al. … 2006").  :func:`class_conflicts` lists every source that two
files classify differently; the tests keep the list empty."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from nurse_app.core.guides import load_guides
from nurse_app.core.resources import load_toml, resource_root

_URL = re.compile(r"https?://[^\s;)\"]+")
_HOST_PREFIX = re.compile(r"^(?:www|webmail|mail|dailymed-beta)\.")
# "Vecchietti G et al. ... 2006" / "McCrindle BW et al. ... 2017": surname, initials, then a year.
_AUTHOR_YEAR = re.compile(r"^([A-Z][A-Za-zÀ-ÿ'\-]+),? [A-Z]{1,3}\b.*?\b((?:19|20)\d\d)\b")


@dataclass(frozen=True)
class CitedSource:
    file: str  # e.g. "reactions.toml", "guides/itp.md"
    key: str
    source_class: str
    citation: str
    url: str | None = None

    def identities(self) -> frozenset[str]:
        found = set()
        primary = self.url or next(iter(_URL.findall(self.citation)), None)
        if primary:
            address = re.sub(r"^https?://", "", primary.lower()).rstrip(".,/")
            found.add("url:" + _HOST_PREFIX.sub("", address).rstrip("/"))
        match = _AUTHOR_YEAR.match(self.citation)
        if match:
            found.add(f"author:{match.group(1).lower()}:{match.group(2)}")
        return frozenset(found)


def all_sources() -> list[CitedSource]:
    """Every cited source of every content file: the ``[sources]`` of each TOML file (checklist
    templates included) and the sources of each guide."""
    root = resource_root()
    names = sorted(e.name for e in root.iterdir() if e.name.endswith(".toml"))
    names += sorted(
        f"checklists/{e.name}" for e in (root / "checklists").iterdir() if e.name.endswith(".toml")
    )
    out: list[CitedSource] = []
    for name in names:
        data, _ = load_toml(name)
        classes = data.get("source_class", {})
        for key, citation in data.get("sources", {}).items():
            out.append(CitedSource(name, key, str(classes.get(key, "secondary")), str(citation)))
    for guide in load_guides().values():
        for s in guide.sources:
            out.append(CitedSource(f"guides/{guide.id}.md", s.key, s.source_class, s.citation, s.url))
    return out


def same_source_groups(sources: list[CitedSource] | None = None) -> list[list[CitedSource]]:
    """The sources grouped by identity (a group holds the citations of one paper or page)."""
    sources = all_sources() if sources is None else sources
    parent = list(range(len(sources)))

    def root_of(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, source in enumerate(sources):
        for identity in source.identities():
            if identity in first:
                parent[root_of(i)] = root_of(first[identity])
            else:
                first[identity] = i
    groups: dict[int, list[CitedSource]] = defaultdict(list)
    for i, source in enumerate(sources):
        groups[root_of(i)].append(source)
    return list(groups.values())


def class_conflicts(sources: list[CitedSource] | None = None) -> list[str]:
    """One line per source that files classify differently, naming each file, key and class."""
    lines = []
    for group in same_source_groups(sources):
        if len({s.source_class for s in group}) > 1:
            where = "; ".join(f"{s.file} {s.key} = {s.source_class}" for s in group)
            lines.append(f"{group[0].citation[:60]}…: {where}")
    return lines
