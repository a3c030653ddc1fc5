"""Full-text search over the condition guides (SQLite FTS5, in memory).

One FTS5 row per guide, one column per field: title, aliases, ICD-10 codes and
each required section.  Keeping a guide in one row lets a multi-word query match
words spread over several sections, while per-column ``bm25`` weights rank a hit
in the title or an abbreviation far above a passing mention in some other guide,
and per-column ``snippet`` calls tell which section matched.

The index is rebuilt from the loaded guides every time the app starts: eleven
guides index in a few milliseconds, so there is no cache file to go stale when
the resources change.

What the user types is never handed to FTS5's query language.  It is split into
words, each word is double-quoted (so quotes, hyphens, ``*``, parentheses,
``AND``/``NEAR`` are plain text), and the query is assembled here:

* the last word is also matched as a prefix (the user is still typing), plus a few
  whole words from the guides that start with it -- the porter stemmer turns
  "blisterin" into nothing useful, but "blistering" into "blister";
* a word that is an alias of a guide ("DM", "PV", "CIDP") also matches that
  guide's name, so "DM" finds a guide that only writes "dermatomyositis";
* all words must match (AND), and a guide holding them as an exact phrase counts
  double in the ranking; if no guide has all the words, any word may match (OR).
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

import sqlite_utils

from nurse_app.core.errors import ResourceError
from nurse_app.core.guides import REQUIRED_SECTIONS, Guide

HIT_START, HIT_END = "\x02", "\x03"
ALIASES_LABEL = "Also called"
CODES_LABEL = "ICD-10"

# Column order of the FTS table and the bm25 weight of each column.
_FIELDS = ("title", "aliases", "codes", *(f"s{i}" for i in range(len(REQUIRED_SECTIONS))))
_WEIGHTS = (12.0, 8.0, 4.0, 1.5) + (1.0,) * (len(REQUIRED_SECTIONS) - 1)
_SNIPPET_TOKENS = 12
_COMPLETIONS = 8  # whole-word completions added for the word being typed
_MIN_COMPLETION_PREFIX = 3
_PHRASE_BOOST = 2.0  # bm25 multiplier for a guide holding the query as an exact phrase
_RANKED = 100  # rows ranked before the limit is applied (far more than guides exist)

_WORD = re.compile(r"[^\W_]+")


def _fold(word: str) -> str:
    """Lower case without accents, as FTS5's unicode61 tokenizer sees a word."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class SearchHit:
    guide_id: str
    title: str
    section: str  # the section the snippet comes from, or "Also called" / "ICD-10"
    snippet: str  # text with matches between HIT_START and HIT_END
    score: float  # bm25: lower is better

    def snippet_marked(self, start: str = "[", end: str = "]") -> str:
        return self.snippet.replace(HIT_START, start).replace(HIT_END, end)

    def snippet_plain(self) -> str:
        return self.snippet_marked("", "")

    def snippet_html(self) -> str:
        return escape(self.snippet).replace(HIT_START, "<b>").replace(HIT_END, "</b>")


class GuideIndex:
    """An in-memory FTS5 index of ``guides``; :meth:`search` never raises on user text."""

    def __init__(self, guides: Mapping[str, Guide]):
        self._guides = list(guides.values())
        self._db = sqlite_utils.Database(memory=True)
        columns = ", ".join(_FIELDS)
        try:
            self._db.execute(
                f"CREATE VIRTUAL TABLE guide_fts USING fts5({columns}, "
                "tokenize='porter unicode61', prefix='2 3')"
            )
        except sqlite3.OperationalError as exc:
            raise ResourceError(
                f"Guide search needs SQLite with FTS5, which this Python lacks ({exc})."
            ) from exc
        rows = [
            (rowid, g.title, ", ".join(g.aliases), " ".join(g.icd10), *(s.text for s in g.sections))
            for rowid, g in enumerate(self._guides)
        ]
        marks = ", ".join("?" * (len(_FIELDS) + 1))
        with self._db.conn:
            self._db.conn.executemany(f"INSERT INTO guide_fts(rowid, {columns}) VALUES ({marks})", rows)
        self._aliases = self._alias_map()
        counts = Counter(_fold(w) for row in rows for text in row[1:] for w in _WORD.findall(str(text)))
        self._vocabulary = sorted(counts)
        self._frequency = counts
        snippets = ", ".join(
            f"snippet(guide_fts, {i}, char(2), char(3), '…', {_SNIPPET_TOKENS})"
            for i in range(1, len(_FIELDS))
        )
        weights = ", ".join(str(w) for w in _WEIGHTS)
        self._sql = (
            f"SELECT rowid, bm25(guide_fts, {weights}) AS score, {snippets} "
            "FROM guide_fts WHERE guide_fts MATCH ? ORDER BY score LIMIT ?"
        )

    def _alias_map(self) -> dict[str, set[str]]:
        """One-word alias ("DM") -> names it stands for (guide titles without their bracketed part)."""
        result: dict[str, set[str]] = {}
        for guide in self._guides:
            name = guide.title.split("(")[0].strip()
            for alias in guide.aliases:
                if len(_WORD.findall(alias)) == 1:
                    result.setdefault(_fold(alias), set()).add(name)
        return result

    def _completions(self, prefix: str) -> list[str]:
        if len(prefix) < _MIN_COMPLETION_PREFIX:
            return []
        start = bisect_left(self._vocabulary, prefix)
        words = []
        for word in self._vocabulary[start:]:
            if not word.startswith(prefix):
                break
            words.append(word)
        words.sort(key=lambda w: -self._frequency[w])
        return words[:_COMPLETIONS]

    def match_expression(self, query: str, operator: str = "AND") -> str | None:
        """The FTS5 MATCH expression for ``query`` (None if it has no words)."""
        words = [_fold(w) for w in _WORD.findall(query)]
        if not words:
            return None
        typing = not query[-1:].isspace()
        terms = []
        for n, word in enumerate(words):
            options = [f'"{word}"']
            options += [f'"{" ".join(_WORD.findall(name))}"' for name in sorted(self._aliases.get(word, ()))]
            if typing and n == len(words) - 1:
                options.append(f'"{word}"*')
                options += [f'"{w}"' for w in self._completions(word) if w != word]
            terms.append("(" + " OR ".join(dict.fromkeys(options)) + ")")
        return f" {operator} ".join(terms)

    def phrase_expression(self, query: str) -> str | None:
        """The words of ``query`` as one FTS5 phrase (last word as a prefix while typing)."""
        words = [_fold(w) for w in _WORD.findall(query)]
        if len(words) < 2:
            return None
        return f'"{" ".join(words)}"' + ("*" if not query[-1:].isspace() else "")

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Guides matching ``query``, best first; ``[]`` for blank or unmatched text.

        Guides with all the words (AND) are ranked by bm25, counting double for guides
        that hold the words as an exact phrase; only if no guide has all the words,
        guides with any of them (OR).
        """
        hits = self._run(self.match_expression(query), max(limit, _RANKED))
        if hits:
            phrase = {h.guide_id for h in self._run(self.phrase_expression(query), _RANKED)}
            hits.sort(key=lambda h: h.score * (_PHRASE_BOOST if h.guide_id in phrase else 1))
        elif len(_WORD.findall(query)) > 1:
            hits = self._run(self.match_expression(query, "OR"), limit)
        return hits[:limit]

    def _run(self, expression: str | None, limit: int) -> list[SearchHit]:
        if expression is None:
            return []
        try:
            rows = self._db.execute(self._sql, (expression, limit)).fetchall()
        except sqlite3.OperationalError:
            return []  # cannot happen with quoted words; never let search text crash the app
        return [self._hit(row) for row in rows]

    def _hit(self, row: tuple[Any, ...]) -> SearchHit:
        rowid, score, aliases, codes, *sections = row
        guide = self._guides[rowid]
        counts = [s.count(HIT_START) for s in sections]
        best = max(range(len(sections)), key=lambda i: (counts[i], -i))
        if counts[best]:
            section, snippet = REQUIRED_SECTIONS[best], sections[best]
        elif HIT_START in aliases:
            section, snippet = ALIASES_LABEL, aliases
        elif HIT_START in codes:
            section, snippet = CODES_LABEL, codes
        else:  # only the title matched: show how the guide begins
            section, snippet = REQUIRED_SECTIONS[0], sections[0]
        return SearchHit(guide.id, guide.title, section, " ".join(snippet.split()), score)
