"""``nurse-app guides search|show`` and ``nurse-app handout``: the condition guides, headless."""

from __future__ import annotations

import sys

from nurse_app.cli.common import print_json
from nurse_app.core.agency import CONTACT_FIELDS
from nurse_app.core.errors import InputError
from nurse_app.core.guides import Guide, load_guides
from nurse_app.store.guide_index import GuideIndex


def register(subparsers) -> None:
    guides = subparsers.add_parser(
        "guides",
        help="search and read the condition guides",
        description="Search and read the condition guides.",
    )
    sub = guides.add_subparsers(
        dest="guides_command", metavar="ACTION", required=True, parser_class=type(guides)
    )
    search = sub.add_parser(
        "search",
        help="full-text search (abbreviations, word stems, prefixes)",
        description="Search titles, abbreviations and every section of the guides. "
        "Matches are shown in [brackets].",
    )
    search.add_argument("query", nargs="+", metavar="QUERY", help="words to look for, e.g. DM rash")
    search.add_argument("--limit", type=int, default=10, metavar="N", help="at most N results (10)")
    search.add_argument("--json", action="store_true", help="print a JSON list of results")
    search.set_defaults(func=run_search)

    show = sub.add_parser("show", help="print one guide as Markdown", description="Print one guide.")
    show.add_argument("id", metavar="ID", help="guide id, e.g. dermatomyositis (see `guides search`)")
    show.set_defaults(func=run_show)

    handout = subparsers.add_parser(
        "handout",
        help="write a guide's patient handout as PDF",
        description="Write the patient handout of one guide as a PDF. Contact details left out "
        "print as blank lines to fill in by hand.",
    )
    handout.add_argument("id", metavar="ID", help="guide id, e.g. pemphigus")
    handout.add_argument("--out", required=True, metavar="FILE.pdf", help="where to write the PDF")
    handout.add_argument(
        "--lang",
        default="en",
        metavar="LANG",
        help="en (default), es, or two for a bilingual copy, e.g. es+en (Spanish, then English)",
    )
    for key, label in CONTACT_FIELDS:
        handout.add_argument(
            f"--{key.replace('_', '-')}",
            dest=key,
            metavar="TEXT",
            help=f"{label.lower()} for the contact block",
        )
    handout.set_defaults(func=run_handout)


def find_guide(guide_id: str) -> Guide:
    guides = load_guides()
    try:
        return guides[guide_id]
    except KeyError:
        raise InputError(f"No guide called {guide_id!r}. Guides: {', '.join(sorted(guides))}.") from None


def run_search(args) -> int:
    if args.limit < 1:
        raise InputError("--limit must be 1 or more.")
    hits = GuideIndex(load_guides()).search(" ".join(args.query), limit=args.limit)
    if args.json:
        print_json(
            [
                {
                    "id": h.guide_id,
                    "title": h.title,
                    "section": h.section,
                    "snippet": h.snippet_plain(),
                    "snippet_marked": h.snippet_marked(),
                    "score": round(h.score, 6),
                }
                for h in hits
            ],
        )
        return 0
    if not hits:
        print("No guide matches.", file=sys.stderr)
        return 1
    for hit in hits:
        print(f"{hit.guide_id}: {hit.title}\n    {hit.section}: {hit.snippet_marked()}")
    return 0


def guide_markdown(guide: Guide) -> str:
    """The guide as one Markdown document (front matter facts, sections, sources)."""
    lines = [f"# {guide.title}", ""]
    if guide.aliases:
        lines.append(f"Also called: {', '.join(guide.aliases)}  ")
    lines.append(f"ICD-10: {', '.join(guide.icd10)}  ")
    lines.append(f"Last reviewed: {guide.reviewed_text}  ")
    if guide.regimens:
        lines.append(f"Dose calculator regimens: {', '.join(guide.regimens)}  ")
    if guide.related:
        lines.append(f"See also: {', '.join(guide.related)}")
    for section in guide.sections:
        lines += ["", f"## {section.title}", "", section.markdown]
    lines += ["", "## Sources", ""]
    lines += [
        f"- [{s.key}] {s.citation}" + (f" {s.url}" if s.url else "") + f" ({s.nurse_wording})"
        for s in guide.sources
    ]
    return "\n".join(lines)


def run_show(args) -> int:
    print(guide_markdown(find_guide(args.id)))
    return 0


def run_handout(args) -> int:
    from nurse_app.core.guides import handout_guide
    from nurse_app.core.languages import parse_handout_languages

    find_guide(args.id)
    langs = parse_handout_languages(args.lang)
    parts = [handout_guide(args.id, lang) for lang in langs]
    from nurse_app.core.policy import policy_contacts

    contact = {key: value for key, value in policy_contacts().items() if key in dict(CONTACT_FIELDS)}
    contact.update({key: getattr(args, key) for key, _ in CONTACT_FIELDS if getattr(args, key)})
    from nurse_app.reports.handout import write_handout_pdf  # reportlab: only for this command

    pages = write_handout_pdf(parts[0], args.out, contact, then=parts[1] if len(parts) > 1 else None)
    print(f"Wrote {args.out} ({pages} page{'s' if pages != 1 else ''}).")
    return 0
