"""Condition guides: load, validate and render ``resources/guides/<id>.md``.

A guide is Markdown with TOML front matter between ``+++`` lines (the contract is
in the team's GUIDE_FORMAT).  Loading validates every rule that keeps a guide safe
to show a nurse or hand to a patient -- required sections in order and non-empty,
sources present and every ``[S1]`` citation resolving, the "Call 911 if" list
followed by the "Call your nurse or doctor if" list in the patient handout (and no
trouble breathing or throat, lip or tongue swelling in the nurse list), ``guide:`` and ``regimen:`` links pointing
at something real -- and raises :class:`ResourceError` naming the file and the
problem, so a broken guide never reaches a screen.

Markdown is parsed with markdown-it-py (CommonMark, raw HTML disabled), never by
hand: the same token stream gives the section split, the links to check, the
plain text for the search index, the HTML for the guide viewer and the blocks for
the patient handout.  Nothing here knows about Qt or SQLite.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from nurse_app.core.errors import ResourceError
from nurse_app.core.resources import (
    PATIENT_SOURCE_CLASSES,
    SOURCE_CLASS_NAMES,
    nurse_source_wording,
    resource_path,
    validate,
)

REQUIRED_SECTIONS = (
    "What it is",
    "Signs and symptoms",
    "Causes and risk factors",
    "Usual treatment",
    "Role of IVIG and typical regimen",
    "What the nurse monitors",
    "Patient handout",
)
HANDOUT_SECTION = "Patient handout"
CALL_HEADING = "Call your nurse or doctor if"
EMERGENCY_HEADING = "Call 911 if"
# Signs that belong under "Call 911 if", never under "Call your nurse or doctor if"
# (issue 9: trouble breathing, throat or lip swelling; an item that says "call 911").
EMERGENCY_SIGNS = re.compile(r"\b(breath\w*|throat|lips?|tongue|911)\b", re.IGNORECASE)

# The front matter's fields (keys, ICD-10 and source-key shapes) are checked by
# nurse_app.core.resource_models.GuideFrontMatter.
GUIDE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# "[S1]", "[S1, S2]" or "[S1; S3]" -- not followed by "(" (that would be a link).
CITATION = re.compile(r"\[((?:[A-Z]{1,3}\d{1,3})(?:\s*[,;]\s*[A-Z]{1,3}\d{1,3})*)\](?!\()")
_CITATION_AND_SPACE = re.compile(r"\s*" + CITATION.pattern)
CITATION_KEY = re.compile(r"[A-Z]{1,3}\d{1,3}")
WEB_SCHEMES = ("http://", "https://", "mailto:")

_MD = MarkdownIt("commonmark", {"html": False})


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Source:
    key: str
    citation: str
    url: str | None = None
    source_class: str = "secondary"  # one of resources.SOURCE_CLASSES (required in the file)

    @property
    def class_name(self) -> str:
        """The class as the resources' authors read it (content report)."""
        return SOURCE_CLASS_NAMES[self.source_class]

    @property
    def nurse_wording(self) -> str:
        """The class as a nurse reads it (:func:`nurse_app.core.resources.nurse_source_wording`)."""
        return nurse_source_wording(self.source_class)

    @property
    def fit_for_patients(self) -> bool:
        return self.source_class in PATIENT_SOURCE_CLASSES


@dataclass(frozen=True)
class Section:
    title: str
    markdown: str
    line: int  # 1-based line of the heading in the file, for error messages

    @property
    def text(self) -> str:
        """Plain text (no Markdown syntax, no citation marks), for search and terminals."""
        return markdown_to_text(self.markdown)


@dataclass(frozen=True)
class Block:
    """One block of simplified Markdown for print layouts (handout PDF and print).

    ``html`` and ``items`` hold inline markup limited to ``<b>``, ``<i>`` and
    escaped text, which both reportlab paragraphs and Qt rich text understand.
    ``urgent`` marks a call heading ("Call 911 if", "Call your nurse or doctor if") and every
    block under it; ``emergency`` marks the "Call 911 if" one and its blocks.
    """

    kind: str  # "heading" | "paragraph" | "bullets" | "numbers" | "call"
    html: str = ""
    items: tuple[str, ...] = ()
    urgent: bool = False
    children: tuple[Block, ...] = ()  # kind "call": the blocks under the call heading
    emergency: bool = False


@dataclass(frozen=True)
class HandoutParts:
    intro: tuple[Block, ...]  # text before the first heading ("For parents and carers")
    calls: tuple[Block, ...]  # the "call" blocks: "Call 911 if" first, then "Call your nurse..."
    body: tuple[Block, ...]  # everything else, in the guide's order


@dataclass(frozen=True)
class Guide:
    """One validated guide; ``file`` is the name used in error messages."""

    id: str
    title: str
    aliases: tuple[str, ...]
    icd10: tuple[str, ...]
    last_reviewed: _dt.date
    regimens: tuple[str, ...]
    related: tuple[str, ...]
    sources: tuple[Source, ...]
    sections: tuple[Section, ...]
    file: str
    lang: str = "en"
    # "source" for the English guide; a translation is "unreviewed" until a qualified medical
    # translator has checked it, then "reviewed"
    translation_status: str = "source"

    def section(self, title: str) -> Section:
        for section in self.sections:
            if section.title == title:
                return section
        raise KeyError(title)

    @property
    def handout(self) -> Section:
        return self.section(HANDOUT_SECTION)

    def handout_blocks(self) -> list[Block]:
        """The handout for print layouts: each call heading ("Call 911 if", "Call your nurse
        or doctor if") and everything under it (up to the next heading) become one ``call`` block."""
        blocks: list[Block] = []
        for block in markdown_blocks(self.handout.markdown):
            if block.urgent and block.kind == "heading":
                blocks.append(Block("call", html=block.html, urgent=True, emergency=block.emergency))
            elif block.urgent and blocks and blocks[-1].kind == "call":
                call = blocks[-1]
                blocks[-1] = Block(
                    "call",
                    html=call.html,
                    urgent=True,
                    emergency=call.emergency,
                    children=(*call.children, block),
                )
            else:
                blocks.append(block)
        return blocks

    def handout_parts(self) -> HandoutParts:
        """The handout in print order: opening text, the call box(es), then the rest.

        Print layouts put the urgent list (and the care team's numbers) right under the
        title so a patient finds it fast; the other blocks keep the guide's order.
        """
        blocks = self.handout_blocks()
        n = 0
        while n < len(blocks) and blocks[n].kind not in ("heading", "call"):
            n += 1
        return HandoutParts(
            intro=tuple(blocks[:n]),
            calls=tuple(b for b in blocks if b.kind == "call"),
            body=tuple(b for b in blocks[n:] if b.kind != "call"),
        )

    def handout_sources(self) -> tuple[Source, ...]:
        """Sources a patient handout prints: those cited in the handout (all the guide's sources
        if it cites none), keeping only label, guideline, peer-reviewed and patient-organisation
        ones -- a secondary source or an AI summary is never printed for a patient."""
        keys = cited_keys(self.handout.markdown)
        cited = tuple(s for s in self.sources if s.key in keys) or self.sources
        return tuple(s for s in cited if s.fit_for_patients)

    def call_list(self) -> tuple[str, ...]:
        """The urgent "Call your nurse or doctor if" items, as inline markup."""
        return self._call_items(emergency=False)

    def emergency_list(self) -> tuple[str, ...]:
        """The "Call 911 if" items, as inline markup."""
        return self._call_items(emergency=True)

    def _call_items(self, *, emergency: bool) -> tuple[str, ...]:
        for block in self.handout_blocks():
            if block.kind == "call" and block.emergency == emergency:
                return tuple(item for child in block.children for item in child.items)
        return ()

    @property
    def reviewed_text(self) -> str:
        if self.lang != "en":
            from nurse_app.core.languages import handout_wording

            return handout_wording(self.lang).date(self.last_reviewed)
        return format_date(self.last_reviewed)


def format_date(day: _dt.date) -> str:
    """``24 November 2026``: unambiguous for readers of either day/month order."""
    return f"{day.day} {day:%B %Y}"


# --------------------------------------------------------------------------- Markdown helpers


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def cited_keys(markdown: str) -> set[str]:
    """Source keys cited in a Markdown fragment."""
    return {key for match in CITATION.finditer(markdown) for key in CITATION_KEY.findall(match.group(1))}


def strip_citations(text: str) -> str:
    """Remove ``[S1]`` marks and the space before them."""
    return _CITATION_AND_SPACE.sub("", text) if "[" in text else text


def markdown_to_text(markdown: str) -> str:
    """Plain text of a Markdown fragment: one line per block, no citation marks."""
    lines = []
    for token in _MD.parse(markdown):
        if token.type == "inline":
            lines.append(strip_citations(_inline_text(token)).strip())
    return "\n".join(line for line in lines if line)


def _inline_markup(token: Token) -> str:
    """Inline content as minimal markup (``<b>``, ``<i>``, escaped text); links keep their text."""
    out = []
    tags = {"strong_open": "<b>", "strong_close": "</b>", "em_open": "<i>", "em_close": "</i>"}
    for child in token.children or ():
        if child.type in tags:
            out.append(tags[child.type])
        elif child.type in ("text", "code_inline"):
            out.append(html.escape(child.content, quote=False))
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("<br/>")
    return re.sub(r"\s+", " ", strip_citations("".join(out))).strip()


def markdown_blocks(markdown: str) -> list[Block]:
    """Headings, paragraphs and lists of a Markdown fragment (nested lists are flattened)."""
    tokens = _MD.parse(markdown)
    blocks: list[Block] = []
    urgent = emergency = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            text = _inline_markup(tokens[i + 1])
            urgent = _is_call_heading(_inline_text(tokens[i + 1]))
            emergency = _is_emergency_heading(_inline_text(tokens[i + 1]))
            blocks.append(Block("heading", html=text, urgent=urgent, emergency=emergency))
            i += 3
            continue
        if token.type in ("bullet_list_open", "ordered_list_open"):
            end = _closing(tokens, i)
            items = _list_items(tokens[i : end + 1])
            kind = "bullets" if token.type == "bullet_list_open" else "numbers"
            blocks.append(Block(kind, items=tuple(items), urgent=urgent, emergency=emergency))
            i = end + 1
            continue
        if token.type == "paragraph_open":  # top level or in a block quote (lists are consumed above)
            blocks.append(
                Block("paragraph", html=_inline_markup(tokens[i + 1]), urgent=urgent, emergency=emergency)
            )
            i += 3
            continue
        i += 1
    return blocks


def _closing(tokens: list[Token], start: int) -> int:
    """Index of the token closing ``tokens[start]`` (same level, nesting -1)."""
    level = tokens[start].level
    for j in range(start + 1, len(tokens)):
        if tokens[j].nesting == -1 and tokens[j].level == level:
            return j
    return len(tokens) - 1


def _list_items(tokens: list[Token]) -> list[str]:
    top = tokens[0].level + 1
    items: list[list[str]] = []
    for token in tokens[1:]:
        if token.type == "list_item_open" and token.level == top:
            items.append([])
        elif token.type == "inline" and items:
            items[-1].append(_inline_markup(token))
    return [" ".join(part for part in item if part) for item in items]


def _heading_words(text: str) -> str:
    return text.strip().rstrip(".:…").strip()


@lru_cache(maxsize=1)
def _call_headings() -> tuple[frozenset[str], frozenset[str]]:
    """(every call heading, the 911 ones) in every handout language (core.languages)."""
    from nurse_app.core.languages import load_languages

    wording = load_languages().wording.values()
    emergency = {EMERGENCY_HEADING, *(w.emergency_heading for w in wording)}
    calls = {CALL_HEADING, *(w.call_heading for w in wording)}
    return frozenset(emergency | calls), frozenset(emergency)


def _is_call_heading(text: str) -> bool:
    """A heading that opens an urgent list: "Call 911 if" or "Call your nurse or doctor if" (or the
    same headings of a translated handout)."""
    return _heading_words(text) in _call_headings()[0]


def _is_emergency_heading(text: str) -> bool:
    return _heading_words(text) in _call_headings()[1]


# --------------------------------------------------------------------------- HTML for the viewer


def _link_citations(markdown: str) -> str:
    """``[S1, S2]`` -> ``\\[[S1](#source-S1), [S2](#source-S2)\\]`` so citations jump to the source."""

    def repl(match: re.Match[str]) -> str:
        keys = CITATION_KEY.findall(match.group(1))
        return "\\[" + ", ".join(f"[{k}](#source-{k})" for k in keys) + "\\]"

    return CITATION.sub(repl, markdown)


def section_anchor(title: str) -> str:
    return "section-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def guide_html(
    guide: Guide,
    *,
    guide_titles: Mapping[str, str] | None = None,
    regimen_names: Mapping[str, str] | None = None,
) -> str:
    """The whole guide as HTML for a rich-text viewer (Qt's QTextBrowser subset).

    Links keep their ``guide:`` and ``regimen:`` targets for the viewer to route;
    citations link to ``#source-<key>`` anchors in the Sources list at the end.
    """
    titles = guide_titles or {}
    names = regimen_names or {}
    esc = html.escape
    parts = [f"<h1>{esc(guide.title)}</h1>"]
    facts = []
    if guide.aliases:
        facts.append(f"<b>Also called:</b> {esc(', '.join(guide.aliases))}")
    facts.append(f"<b>ICD-10:</b> {esc(', '.join(guide.icd10))}")
    facts.append(f"<b>Last reviewed:</b> {esc(guide.reviewed_text)}")
    parts.append("<p>" + "<br/>".join(facts) + "</p>")
    if guide.regimens:
        links = ", ".join(f'<a href="regimen:{esc(r)}">{esc(names.get(r, r))}</a>' for r in guide.regimens)
        parts.append(f"<p><b>Dose calculator:</b> {links}</p>")
    if guide.related:
        links = ", ".join(f'<a href="guide:{esc(g)}">{esc(titles.get(g, g))}</a>' for g in guide.related)
        parts.append(f"<p><b>See also:</b> {links}</p>")
    for section in guide.sections:
        parts.append(f'<h2><a name="{section_anchor(section.title)}"></a>{esc(section.title)}</h2>')
        parts.append(_MD.render(_link_citations(section.markdown)))
    parts.append('<h2><a name="sources"></a>Sources</h2>')
    parts.append(
        "<p><i>Each source shows its class. Patient handouts print only label, guideline, "
        "peer-reviewed and patient-organisation sources.</i></p>"
    )
    for source in guide.sources:
        url = f' <a href="{esc(source.url)}">{esc(source.url)}</a>' if source.url else ""
        colour = "#555555" if source.fit_for_patients else "#a4262c"
        parts.append(
            f'<p><a name="source-{esc(source.key)}"></a><b>[{esc(source.key)}]</b> '
            f'<span style="color:{colour}">[{esc(source.nurse_wording)}]</span> '
            f"{esc(source.citation)}{url}</p>"
        )
    return "\n".join(parts)


# --------------------------------------------------------------------------- loading


def _split_front_matter(text: str, name: str) -> tuple[str, str, int]:
    """(front matter TOML, body, line number where the body starts)."""
    lines = text.lstrip("\ufeff").split("\n")
    if not lines or lines[0].strip() != "+++":
        raise ResourceError(f"{name}: must start with a '+++' line opening the TOML front matter.")
    for i in range(1, len(lines)):
        if lines[i].strip() == "+++":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    raise ResourceError(f"{name}: the front matter opened with '+++' is never closed.")


def _split_sections(body: str, first_line: int, name: str) -> list[Section]:
    tokens = _MD.parse(body)
    lines = body.split("\n")
    heads = [
        (t.map[0], t.map[1], t.tag, _inline_text(tokens[k + 1]).strip())
        for k, t in enumerate(tokens)
        if t.map is not None and t.type == "heading_open" and t.tag in ("h1", "h2") and t.level == 0
    ]
    for start, _, tag, title in heads:
        if tag == "h1":
            raise ResourceError(
                f"{name}: line {first_line + start}: level-1 heading '# {title}' "
                "is not allowed (the title comes from the front matter)."
            )
    if "\n".join(lines[: heads[0][0]] if heads else lines).strip():
        raise ResourceError(f"{name}: text before the first '## What it is' heading.")
    sections = []
    for n, (start, body_start, _, title) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        sections.append(Section(title, "\n".join(lines[body_start:end]).strip("\n"), first_line + start))
    return sections


def _check_sections(sections: list[Section], name: str) -> None:
    titles = [s.title for s in sections]
    for title in titles:
        if title not in REQUIRED_SECTIONS:
            raise ResourceError(
                f"{name}: unexpected section '## {title}' (allowed: {', '.join(REQUIRED_SECTIONS)})."
            )
    for title in REQUIRED_SECTIONS:
        if title not in titles:
            raise ResourceError(f"{name}: required section '## {title}' is missing.")
    if len(set(titles)) != len(titles):
        dup = next(t for t in titles if titles.count(t) > 1)
        raise ResourceError(f"{name}: section '## {dup}' appears more than once.")
    if tuple(titles) != REQUIRED_SECTIONS:
        raise ResourceError(f"{name}: sections are out of order; expected {' / '.join(REQUIRED_SECTIONS)}.")
    for section in sections:
        if not section.text.strip():
            raise ResourceError(f"{name}: line {section.line}: section '## {section.title}' is empty.")


def _check_call_list(
    handout: Section,
    name: str,
    *,
    call_heading: str = CALL_HEADING,
    emergency_heading: str = EMERGENCY_HEADING,
    emergency_signs: re.Pattern[str] = EMERGENCY_SIGNS,
) -> None:
    """Both urgent lists, 911 first; nothing that needs 911 in the call-your-nurse list."""
    CALL_HEADING, EMERGENCY_HEADING, EMERGENCY_SIGNS = call_heading, emergency_heading, emergency_signs
    tokens = _MD.parse(handout.markdown)
    found: dict[str, int] = {}
    for k, token in enumerate(tokens):
        if token.type != "heading_open" or token.tag != "h3":
            continue
        words = _heading_words(_inline_text(tokens[k + 1]))
        if words not in (CALL_HEADING, EMERGENCY_HEADING):
            continue
        following = tokens[k + 3] if k + 3 < len(tokens) else None
        if following is None or following.type != "bullet_list_open":
            raise ResourceError(
                f"{name}: '### {words}' must be followed directly by a bullet list of urgent signs."
            )
        found.setdefault(words, k)
    for heading in (CALL_HEADING, EMERGENCY_HEADING):
        if heading not in found:
            raise ResourceError(
                f"{name}: the '## {HANDOUT_SECTION}' section has no "
                f"'### {heading}' heading with a bullet list."
            )
    if found[EMERGENCY_HEADING] > found[CALL_HEADING]:
        raise ResourceError(
            f"{name}: '### {EMERGENCY_HEADING}' must come before "
            f"'### {CALL_HEADING}' (the most urgent list first)."
        )
    for block in markdown_blocks(handout.markdown):
        if block.urgent and not block.emergency and block.kind != "heading":
            for text in block.items or (block.html,):
                match = EMERGENCY_SIGNS.search(text)
                if match:
                    raise ResourceError(
                        f"{name}: '### {CALL_HEADING}' lists {html.unescape(text)!r}: "
                        f"'{match.group(0)}' belongs under '### {EMERGENCY_HEADING}' (trouble "
                        "breathing and throat, lip or tongue swelling need 911, not a call to the nurse)."
                    )


def _links(markdown: str) -> Iterator[str]:
    for token in _MD.parse(markdown):
        for child in token.children or ():
            if child.type == "link_open":
                yield str(child.attrGet("href") or "")


def _front_matter(data: dict[str, Any], name: str) -> dict[str, Any]:
    validate("guide", data, name)
    sources = tuple(Source(f["key"], f["citation"], f.get("url"), f["class"]) for f in data["sources"])
    return dict(
        id=data["id"],
        title=data["title"],
        aliases=tuple(data.get("aliases", ())),
        icd10=tuple(data["icd10"]),
        last_reviewed=data["last_reviewed"],
        regimens=tuple(data.get("regimens", ())),
        related=tuple(data.get("related", ())),
        sources=sources,
    )


def parse_guide(text: str, name: str, file_id: str, regimen_ids: Iterable[str]) -> Guide:
    """Parse and validate one guide file (cross-guide links are checked by :func:`load_guides`)."""
    regimen_ids = set(regimen_ids)
    front, body, body_line = _split_front_matter(text, name)
    try:
        data = tomllib.loads(front)
    except tomllib.TOMLDecodeError as exc:
        raise ResourceError(f"{name}: front matter is not valid TOML ({exc}).") from exc
    fields = _front_matter(data, name)
    if fields["id"] != file_id:
        raise ResourceError(f"{name}: id {fields['id']!r} must equal the file name ({file_id!r}).")
    if not GUIDE_ID.match(file_id):
        raise ResourceError(f"{name}: id {file_id!r} must be lowercase letters, digits and hyphens.")
    sections = _split_sections(body, body_line, name)
    _check_sections(sections, name)

    keys = {s.key for s in fields["sources"]}
    cited = set()
    for section in sections:
        for key in sorted(cited_keys(section.markdown)):
            if key not in keys:
                raise ResourceError(
                    f"{name}: section '## {section.title}' cites [{key}], "
                    f"which is not in the sources (have {', '.join(sorted(keys))})."
                )
            cited.add(key)
    if not cited:
        raise ResourceError(f"{name}: the text cites none of its sources (add [S1]-style citations).")

    _check_call_list(sections[-1], name)

    for regimen in fields["regimens"]:
        if regimen not in regimen_ids:
            raise ResourceError(
                f"{name}: regimens: unknown regimen id {regimen!r} (known: {', '.join(sorted(regimen_ids))})."
            )
    for section in sections:
        for href in _links(section.markdown):
            if href.startswith("regimen:"):
                if href[len("regimen:") :] not in regimen_ids:
                    raise ResourceError(
                        f"{name}: section '## {section.title}' links to unknown "
                        f"regimen {href!r} (known: {', '.join(sorted(regimen_ids))})."
                    )
            elif not href.startswith("guide:") and not href.startswith(WEB_SCHEMES):
                raise ResourceError(
                    f"{name}: section '## {section.title}' has link {href!r}; use "
                    "guide:<id>, regimen:<id> or a web address."
                )
    return Guide(sections=tuple(sections), file=name, **fields)


def guide_links(guide: Guide) -> set[str]:
    """Ids of guides this guide links to (``guide:`` links in the body)."""
    return {
        href[len("guide:") :]
        for s in guide.sections
        for href in _links(s.markdown)
        if href.startswith("guide:")
    }


def known_regimen_ids() -> frozenset[str]:
    """Regimen ids of the dose catalogue (the targets of ``regimen:`` links)."""
    from nurse_app.core.catalogue import load_catalogue

    return frozenset(load_catalogue().regimens)


def load_guides(
    folder: Path | Traversable | None = None, *, regimen_ids: Iterable[str] | None = None
) -> dict[str, Guide]:
    """Every ``*.md`` guide in ``folder`` (default: the packaged ``resources/guides``), by id.

    Raises :class:`ResourceError` for the first broken guide, naming its file.
    ``regimen_ids`` defaults to the dose catalogue's regimens.
    """
    if folder is None and regimen_ids is None:
        return dict(_bundled_guides())
    return _load(folder, regimen_ids)


@lru_cache(maxsize=1)
def _bundled_guides() -> tuple[tuple[str, Guide], ...]:
    return tuple(_load(None, None).items())


def _load(folder: Path | Traversable | None, regimen_ids: Iterable[str] | None) -> dict[str, Guide]:
    if folder is None:
        folder, prefix = resource_path("guides"), "resources/guides/"
    else:
        prefix = f"{folder}/"
    if not folder.is_dir():
        raise ResourceError(f"{prefix.rstrip('/')}: the guides folder is missing.")
    ids = known_regimen_ids() if regimen_ids is None else frozenset(regimen_ids)
    guides: dict[str, Guide] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".md") or not entry.is_file():
            continue
        name = prefix + entry.name
        try:
            text = entry.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ResourceError(f"{name}: not UTF-8 text ({exc}).") from exc
        guides[entry.name[:-3]] = parse_guide(text, name, entry.name[:-3], ids)
    if not guides:
        raise ResourceError(f"{prefix.rstrip('/')}: no guides (*.md files) found.")
    for guide in guides.values():
        for other in sorted(set(guide.related) | guide_links(guide)):
            if other not in guides:
                raise ResourceError(
                    f"{guide.file}: refers to guide {other!r}, which does not exist "
                    f"(have {', '.join(sorted(guides))})."
                )
    return guides


# --------------------------------------------------------------------------- translated handouts


def parse_translation(text: str, name: str, file_id: str, lang: str, english: Guide) -> Guide:
    """A translated patient handout (front matter + the handout's Markdown), as a guide whose only
    section is its handout, citing the English guide's sources by the same keys."""
    from nurse_app.core.languages import handout_wording

    front, body, body_line = _split_front_matter(text, name)
    try:
        data = tomllib.loads(front)
    except tomllib.TOMLDecodeError as exc:
        raise ResourceError(f"{name}: front matter is not valid TOML ({exc}).") from exc
    validate("guide-translation", data, name)
    if data["id"] != file_id or data["lang"] != lang:
        raise ResourceError(
            f"{name}: id and lang must be {file_id!r} and {lang!r} (the file's name and folder)."
        )
    if data["translated_from_reviewed"] != english.last_reviewed:
        raise ResourceError(
            f"{name}: translated from the version of {english.file} reviewed on "
            f"{data['translated_from_reviewed']}, but that guide was reviewed again on {english.last_reviewed}: "
            "update the translation."
        )
    handout = Section(HANDOUT_SECTION, body, body_line)
    if not handout.text.strip():
        raise ResourceError(f"{name}: the handout is empty.")
    keys = {s.key for s in english.sources}
    for key in sorted(cited_keys(body)):
        if key not in keys:
            raise ResourceError(f"{name}: cites [{key}], which is not a source of {english.file}.")
    wording = handout_wording(lang)
    _check_call_list(
        handout,
        name,
        call_heading=wording.call_heading,
        emergency_heading=wording.emergency_heading,
        emergency_signs=re.compile(wording.emergency_signs, re.IGNORECASE),
    )
    return Guide(
        id=english.id,
        title=data["title"],
        aliases=(),
        icd10=english.icd10,
        last_reviewed=english.last_reviewed,
        regimens=english.regimens,
        related=english.related,
        sources=english.sources,
        sections=(handout,),
        file=name,
        lang=lang,
        translation_status=data["status"],
    )


def load_translations() -> dict[str, dict[str, Guide]]:
    """Every translated handout in ``resources/guides/<lang>/``: language -> guide id -> guide.

    A language folder needs handout wording in resources/languages.toml; a translation needs its
    English guide (and is refused when that guide was reviewed again since it was translated).
    """
    return {lang: dict(guides) for lang, guides in _bundled_translations()}


@lru_cache(maxsize=1)
def _bundled_translations() -> tuple[tuple[str, tuple[tuple[str, Guide], ...]], ...]:
    from nurse_app.core.languages import load_languages

    english = load_guides()
    root = resource_path("guides")
    out = []
    for folder in sorted(
        (e for e in root.iterdir() if e.is_dir() and not e.name.startswith(("_", "."))), key=lambda e: e.name
    ):
        lang = folder.name
        if not load_languages().has_handouts(lang) or lang == "en":
            raise ResourceError(
                f"resources/guides/{lang}/: no handout wording for {lang!r} in resources/languages.toml."
            )
        guides = []
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".md") or not entry.is_file():
                continue
            file_id = entry.name[:-3]
            name = f"resources/guides/{lang}/{entry.name}"
            if file_id not in english:
                raise ResourceError(f"{name}: there is no English guide {file_id!r} to translate.")
            guides.append(
                (
                    file_id,
                    parse_translation(
                        entry.read_text(encoding="utf-8"), name, file_id, lang, english[file_id]
                    ),
                )
            )
        out.append((lang, tuple(guides)))
    return tuple(out)


def handout_guide(guide_id: str, lang: str = "en") -> Guide:
    """The handout of ``guide_id`` in ``lang`` (the English guide itself for ``en``)."""
    english = load_guides()
    if guide_id not in english:
        raise ResourceError(f"No guide {guide_id!r}.")
    if lang == "en":
        return english[guide_id]
    translated = load_translations().get(lang, {}).get(guide_id)
    if translated is None:
        from nurse_app.core.errors import InputError

        raise InputError(f"The {english[guide_id].title} handout has no {lang!r} translation yet.", "lang")
    return translated


GENERAL_GUIDE = "ivig-therapy"  # the handout for a patient whose condition has no guide of its own


def guide_for_regimen(regimen_id: str | None) -> str:
    """The guide a patient on ``regimen_id`` takes home: the one that lists that regimen, else the
    general IVIG therapy guide."""
    if regimen_id:
        for guide in load_guides().values():
            if regimen_id in guide.regimens:
                return guide.id
    return GENERAL_GUIDE
