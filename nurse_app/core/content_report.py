"""Every clinical figure and statement the app uses, for the educator's sign-off (issue 15 §2).

:func:`content_items` walks every resource file (with the agency policy applied, exactly as
the screens see it) and returns one :class:`ContentItem` per product, rate row, vial,
caution, contraindication, regimen, limit, checklist item, reaction tier and kind, vital
sign, monitoring rule, follow-up rule, guide and agency-policy setting: its value, unit,
sources with their class, a status and where the value came from.  :func:`content_version`
is a short hash of resources/ plus the agency policy file; an approval records it with the
items' values so a later report can say what changed since (:func:`changes_since`).

Status rule (printed on the report):
* ``agency policy`` -- set by the agency policy file, or an app default the app marks
  "local policy default" (origin ``app default``) for the agency to confirm;
* ``unverified`` -- marked UNVERIFIED / verified = false in the content, or supported only
  by secondary sources (no label, guideline or peer-reviewed source);
* ``verified`` -- backed by at least one label, guideline or peer-reviewed source.

Qt-free; the PDF is :mod:`nurse_app.reports.content_report`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from nurse_app.core import policy as _policy
from nurse_app.core.resources import SOURCE_CLASS_NAMES, load_toml, resource_root

VERIFIED = "verified"
UNVERIFIED = "unverified"
AGENCY_POLICY = "agency policy"
STRONG_CLASSES = ("label", "guideline", "peer-reviewed")
LOCAL = "local policy default"

GROUPS = (
    "Agency policy settings",
    "Products",
    "Regimens",
    "Limits",
    "Vital-sign flags",
    "Monitoring",
    "Checklist",
    "Reactions",
    "Follow-up rules",
    "Guides",
    "Translations",
)
# Resource files the report walks (followups.toml and security.toml when the installation has them).
_SKIP_KEYS = {"sources", "source_class", "schema_version"}


@dataclass(frozen=True)
class Source:
    key: str
    source_class: str
    citation: str


@dataclass(frozen=True)
class ContentItem:
    id: str  # stable across versions (natural ids, not positions)
    group: str
    title: str
    value: str
    unit: str
    status: str  # verified | unverified | agency policy
    origin: str  # label | guideline | peer-reviewed | patient-org | secondary | app default | agency policy
    file: str  # resources/<file>
    path: str  # where in the file, e.g. product[2].rate[0]
    sources: tuple[Source, ...] = ()
    note: str = ""

    def as_agency_policy(self) -> ContentItem:
        """The same item, set by the agency's policy file (status and origin say so)."""
        return replace(self, status=AGENCY_POLICY, origin=_policy.AGENCY)

    def fingerprint(self) -> str:
        """What an approval records for this item: value, unit, sources and status."""
        keys = ",".join(f"{s.key}:{s.source_class}" for s in self.sources)
        return f"{self.value} | {self.unit} | {keys} | {self.status} | {self.origin}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = [asdict(s) for s in self.sources]
        return data


# ----------------------------------------------------------------------------- helpers


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 0.001 else f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def _source_keys(table: dict[str, Any]) -> list[str]:
    keys: list[str] = []
    for name, value in table.items():
        if name.endswith("sources") and isinstance(value, list):
            keys += [v for v in value if isinstance(v, str)]
        elif name == "source" and isinstance(value, str):
            keys.append(value)
        elif isinstance(value, dict) and name not in _SKIP_KEYS:
            keys += _source_keys(value)
    return list(dict.fromkeys(keys))


def _texts(table: dict[str, Any]) -> Iterable[str]:
    for value in table.values():
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))
        elif isinstance(value, dict):
            yield from _texts(value)


def _scalars(table: dict[str, Any], skip: Iterable[str] = ()) -> str:
    skip = set(skip)
    parts = []
    for name, value in table.items():
        if name in skip or name.endswith("sources") or name in ("source", "note", "basis", "verified"):
            continue
        if isinstance(value, (dict,)) or (isinstance(value, list) and value and isinstance(value[0], dict)):
            continue
        parts.append(f"{name.replace('_', ' ')} {_fmt(value)}")
    return "; ".join(parts)


class _File:
    """One resource file (policy applied) with its sources and classes."""

    def __init__(self, relative: str):
        self.relative = relative
        self.data, self.name = load_toml(relative)
        self.citations: dict[str, str] = self.data.get("sources", {})
        self.classes: dict[str, str] = self.data.get("source_class", {})

    def sources(self, keys: Iterable[str]) -> tuple[Source, ...]:
        return tuple(Source(k, self.classes.get(k, "secondary"), self.citations.get(k, "")) for k in keys)


def _status(table: dict[str, Any], sources: tuple[Source, ...]) -> tuple[str, str]:
    """(status, origin) for an item from its own markings and its sources' classes."""
    texts = " ".join(_texts(table))
    unverified = (
        table.get("verified") is False
        or table.get("unverified") is True
        or str(table.get("status", "")).upper() == "UNVERIFIED"
        or "UNVERIFIED" in str(table.get("label_status", "")).upper()
        or "UNVERIFIED" in texts
    )
    local = any(table.get(k) == LOCAL for k in ("basis", "flag_basis", "range_basis")) or LOCAL in texts
    classes = [s.source_class for s in sources]
    best = next(
        (c for c in (*STRONG_CLASSES, "patient-org", "agency-policy", "secondary") if c in classes), ""
    )
    if unverified:
        return UNVERIFIED, best or "app default"
    if local and not any(c in STRONG_CLASSES for c in classes):
        return AGENCY_POLICY, "app default"
    if any(c in STRONG_CLASSES for c in classes):
        return VERIFIED, best
    if "agency-policy" in classes or (local and not classes):
        return AGENCY_POLICY, "app default"
    return UNVERIFIED, best or "none"


def _item(
    f: _File,
    group: str,
    item_id: str,
    title: str,
    value: str,
    unit: str,
    path: str,
    table: dict[str, Any],
    note: str = "",
) -> ContentItem:
    sources = f.sources(_source_keys(table))
    status, origin = _status(table, sources)
    return ContentItem(
        item_id,
        group,
        title,
        value,
        unit,
        status,
        origin,
        f.name,
        path,
        sources,
        note or str(table.get("note", "") or ""),
    )


# ----------------------------------------------------------------------------- per file


def _products(f: _File) -> list[ContentItem]:
    out = []
    for i, c in enumerate(f.data.get("common_contraindication", [])):
        out.append(
            _item(
                f,
                "Products",
                f"products/common_contraindication/{c.get('kind', i)}",
                "All products: contraindication",
                c.get("text", ""),
                "",
                f"common_contraindication[{i}]",
                c,
            )
        )
    for i, p in enumerate(f.data.get("product", [])):
        pid, brand = p["id"], p.get("brand", p["id"])
        base = f"products/product/{pid}"
        out.append(
            _item(
                f,
                "Products",
                base,
                f"{brand}",
                f"{p.get('concentration_percent')} % {p.get('form', '')}, {p.get('manufacturer', '')}; "
                f"label indications {_fmt(p.get('label_indications', []))}",
                "",
                f"product[{i}]",
                {
                    k: v
                    for k, v in p.items()
                    if not isinstance(v, list) or k.endswith("sources") or k == "label_indications"
                },
            )
        )
        for j, r in enumerate(p.get("rate", [])):
            unit = r.get("rate_unit", "")
            steps = f"; steps {_fmt(r['steps'])}" if "steps" in r else ""
            first = (
                f"; first infusion at most {_fmt(r['first_infusion_max'])}"
                if "first_infusion_max" in r
                else ""
            )
            timing = "".join(
                f"; {k.replace('_', ' ')} {_fmt(r[k])} min"
                for k in ("initial_minutes", "step_minutes")
                if k in r
            )
            out.append(
                _item(
                    f,
                    "Products",
                    f"{base}/rate/{'+'.join(r.get('indications', [str(j)]))}",
                    f"{brand}: infusion rate ({_fmt(r.get('indications', []))})",
                    f"initial {_fmt(r['initial'])}, maximum {_fmt(r['max'])}{steps}{timing}{first}",
                    unit,
                    f"product[{i}].rate[{j}]",
                    r,
                    r.get("label_text", ""),
                )
            )
        for j, v in enumerate(p.get("vial", [])):
            out.append(
                _item(
                    f,
                    "Products",
                    f"{base}/vial/{_fmt(v.get('grams'))}g-{_fmt(v.get('ml'))}ml",
                    f"{brand}: vial",
                    f"{_fmt(v.get('grams'))} g in {_fmt(v.get('ml'))} mL",
                    "",
                    f"product[{i}].vial[{j}]",
                    v,
                )
            )
        line = p.get("line")
        if line:
            out.append(
                _item(
                    f,
                    "Products",
                    f"{base}/line",
                    f"{brand}: dilution and line rule (saline {line.get('saline', '')})",
                    line.get("text", ""),
                    "",
                    f"product[{i}].line",
                    line,
                )
            )
        for key in ("cautions", "contraindications"):
            for j, c in enumerate(p.get(key, [])):
                out.append(
                    _item(
                        f,
                        "Products",
                        f"{base}/{key}/{j}-{c.get('kind', '')}",
                        f"{brand}: {key[:-1]} ({c.get('kind', '')})",
                        c.get("text", ""),
                        "",
                        f"product[{i}].{key}[{j}]",
                        c,
                    )
                )
    return out


def _regimens(f: _File) -> list[ContentItem]:
    out = []
    inds = f.data.get("indications", {})
    out.append(
        _item(
            f,
            "Regimens",
            "regimens/indications",
            "Indications",
            "; ".join(f"{k} = {v}" for k, v in inds.items()),
            "",
            "indications",
            {"verified": True},
        )
    )
    for i, limit in enumerate(f.data.get("indication_rate_limit", [])):
        out.append(
            _item(
                f,
                "Regimens",
                f"regimens/indication_rate_limit/{limit['indication']}",
                f"Rate ceiling for {inds.get(limit['indication'], limit['indication'])}, any product",
                _fmt(limit["max_mg_kg_min"]),
                "mg/kg/min",
                f"indication_rate_limit[{i}]",
                limit,
                str(limit.get("reason", "")),
            )
        )
    for i, r in enumerate(f.data.get("regimen", [])):
        out.append(
            _item(
                f,
                "Regimens",
                f"regimens/regimen/{r['id']}",
                r.get("name", r["id"]),
                _scalars(r, skip=("id", "name", "product_days")),
                "",
                f"regimen[{i}]",
                r,
            )
        )
        for j, split in enumerate(r.get("product_days", [])):
            out.append(
                _item(
                    f,
                    "Regimens",
                    f"regimens/regimen/{r['id']}/days/{split['product']}",
                    f"{r.get('name', r['id'])}: days with {split['product']}",
                    f"{split['days']} (label: {split['days_min']} to {split['days_max']})",
                    "days",
                    f"regimen[{i}].product_days[{j}]",
                    split,
                )
            )
    return out


def _limits(f: _File) -> list[ContentItem]:
    out = []
    for name, table in f.data.items():
        if name in _SKIP_KEYS or not isinstance(table, dict):
            continue
        out.append(
            _item(
                f,
                "Limits",
                f"limits/{name}",
                name.replace("_", " ").capitalize(),
                _scalars(table),
                "",
                name,
                table,
            )
        )
    return out


def _vitals(f: _File) -> list[ContentItem]:
    out = []
    for i, m in enumerate(f.data.get("measure", [])):
        flags = "; ".join(
            f"{k.replace('flag_', '').replace('_', ' ')} {_fmt(m[k])}"
            for k in ("flag_low", "flag_high", "flag_change", "flag_change_percent")
            if k in m
        )
        rng = f"accepted {_fmt(m.get('min'))} to {_fmt(m.get('max', 'pump maximum'))}"
        out.append(
            _item(
                f,
                "Vital-sign flags",
                f"vitals/measure/{m['id']}",
                m.get("label", m["id"]),
                f"{rng}; flags: {flags or 'none'}",
                m.get("unit", ""),
                f"measure[{i}]",
                m,
                " ".join(str(m.get(k, "")) for k in ("range_note", "flag_note")).strip(),
            )
        )
    return out


def _monitoring(f: _File) -> list[ContentItem]:
    out = []
    for name in ("vitals", "observation"):
        table = f.data.get(name)
        if isinstance(table, dict):
            if name == "vitals" and "verified" not in table:
                table = {**table, "verified": f.data.get("verified", True)}
            out.append(
                _item(
                    f,
                    "Monitoring",
                    f"monitoring/{name}",
                    "Vital-signs timing" if name == "vitals" else "Observation after the infusion",
                    _scalars(table),
                    "min",
                    name,
                    table,
                    table.get("note", "") or (f.data.get("note", "") if name == "vitals" else ""),
                )
            )
    return out


def _checklist(f: _File) -> list[ContentItem]:
    out = []
    stem = f.relative.rsplit("/", 1)[-1].removesuffix(".toml")
    for i, phase in enumerate(f.data.get("phase", [])):
        for j, item in enumerate(phase.get("item", [])):
            kind = "required" if item.get("required") else "optional"
            it = _item(
                f,
                "Checklist",
                f"checklists/{stem}/{item['id']}",
                f"{phase.get('title', phase.get('id'))}: {item.get('text', '')}",
                f"{item.get('text', '')} ({kind})",
                "",
                f"phase[{i}].item[{j}]",
                item,
                item.get("help", ""),
            )
            if item.get("agency_policy"):
                it = it.as_agency_policy()
            out.append(it)
    return out


def _reactions(f: _File) -> list[ContentItem]:
    out = []
    grading = {"verified": f.data.get("grading_verified", True), "note": f.data.get("grading_note", "")}
    out.append(
        _item(
            f,
            "Reactions",
            "reactions/grading",
            "Severity grading",
            "mild / moderate / severe tiers",
            "",
            "grading_verified",
            grading,
        )
    )
    for token, words in f.data.get("line_step", {}).items():
        # The wording of a step that puts saline in the line, chosen by the product's line rule.
        out.append(
            _item(
                f,
                "Reactions",
                f"reactions/line_step/{token}",
                f"Step with saline in the line: {{{token}}}",
                " / ".join(f"{saline}: {text}" for saline, text in words.items()),
                "",
                f"line_step.{token}",
                dict(words),
            )
        )
    for i, s in enumerate(f.data.get("severity", [])):
        flags = ", ".join(
            k.replace("_", " ") for k in ("stop_infusion", "call_prescriber", "call_emergency") if s.get(k)
        )
        out.append(
            _item(
                f,
                "Reactions",
                f"reactions/severity/{s['id']}",
                f"Tier: {s.get('title', s['id'])}",
                f"{s.get('examples', '')} Actions: {' '.join(s.get('actions', []))} ({flags or 'no calls'})",
                "",
                f"severity[{i}]",
                s,
            )
        )
    for i, k in enumerate(f.data.get("kind", [])):
        out.append(
            _item(
                f,
                "Reactions",
                f"reactions/kind/{k['id']}",
                f"Kind: {k.get('title', k['id'])}",
                f"{k.get('signs', '')} Tiers: {_fmt(k.get('tiers', []))}",
                "",
                f"kind[{i}]",
                k,
                k.get("tier_reason", ""),
            )
        )
    return out


def _followups(f: _File) -> list[ContentItem]:
    """Follow-up rules (resources/followups.toml), with the agency policy's [followups] changes
    (on/off, window) shown as the schedule applies them (core.schedule.apply_overrides)."""
    out = []
    overrides = _policy.load_policy().followups
    for name, value in f.data.items():
        if name in _SKIP_KEYS:
            continue
        rows = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        for i, rule in enumerate(rows):
            if not isinstance(rule, dict):
                continue
            rid = rule.get("id", i)
            path = f"{name}[{i}]" if isinstance(value, list) else name
            change = overrides.get(rid) if name == "rule" else None
            shown = {**rule, **change} if isinstance(change, dict) else rule
            it = _item(
                f,
                "Follow-up rules",
                f"followups/{name}/{rid}",
                str(rule.get("title", rule.get("name", rid))),
                _scalars(shown, skip=("id", "title", "questions", "escalate_if", "why", "advice")),
                "days",
                path,
                rule,
                str(rule.get("why", "")),
            )
            if change:
                it = it.as_agency_policy()
            out.append(it)
            for j, q in enumerate(
                rule.get("questions", []) if isinstance(rule.get("questions"), list) else []
            ):
                if isinstance(q, dict):
                    out.append(
                        _item(
                            f,
                            "Follow-up rules",
                            f"followups/{name}/{rid}/question/{q.get('id', j)}",
                            f"{rule.get('title', rid)}: question",
                            str(q.get("text", "")),
                            "",
                            f"{path}.questions[{j}]",
                            {**q, "sources": rule.get("sources", [])},
                        )
                    )
    return out


def _guides() -> list[ContentItem]:
    from nurse_app.core.guides import load_guides

    out = []
    for guide in load_guides().values():
        sources = tuple(Source(s.key, s.source_class, s.citation) for s in guide.sources)
        unverified = "UNVERIFIED" in " ".join(s.markdown for s in guide.sections)
        strong = any(s.source_class in STRONG_CLASSES for s in sources)
        status = UNVERIFIED if unverified or not strong else VERIFIED
        best = next(
            (
                c
                for c in (*STRONG_CLASSES, "patient-org", "secondary")
                if any(s.source_class == c for s in sources)
            ),
            "none",
        )
        handout = ", ".join(s.key for s in guide.handout_sources())
        out.append(
            ContentItem(
                f"guides/{guide.id}",
                "Guides",
                guide.title,
                f"{len(guide.sections)} sections; last reviewed {guide.reviewed_text}; "
                f"handout prints sources {handout or 'none'}",
                "",
                status,
                best,
                guide.file.split("resources/")[-1] if "resources/" in guide.file else guide.file,
                "front matter",
                sources,
                "Contains UNVERIFIED statements (marked in the text)." if unverified else "",
            )
        )
    return out


def _translations() -> list[ContentItem]:
    """Each translated handout, marked until a qualified medical translator has reviewed it."""
    from nurse_app.core.guides import format_date, load_translations
    from nurse_app.core.languages import TRANSLATION_NOT_REVIEWED, load_languages

    out = []
    for lang, guides in sorted(load_translations().items()):
        language = load_languages().get(lang)
        for guide in guides.values():
            reviewed = guide.translation_status == "reviewed"
            out.append(
                ContentItem(
                    f"translations/{lang}/{guide.id}",
                    "Translations",
                    f"{guide.title} ({language.name if language else lang} handout)",
                    f"translation of the handout reviewed {format_date(guide.last_reviewed)}",
                    "",
                    VERIFIED if reviewed else UNVERIFIED,
                    "translation",
                    f"guides/{lang}/{guide.id}.md",
                    "front matter",
                    (),
                    "" if reviewed else TRANSLATION_NOT_REVIEWED,
                )
            )
    return out


def _policy_items() -> list[ContentItem]:
    out = []
    for s in _policy.settings_in_force():
        status = AGENCY_POLICY if s.origin in (_policy.AGENCY, _policy.APP_DEFAULT) else VERIFIED
        note = "" if s.origin != _policy.AGENCY else f"app value {_fmt(s.packaged)}"
        out.append(
            ContentItem(
                f"policy/{s.key}",
                "Agency policy settings",
                s.title,
                s.text.removesuffix(s.unit).strip(),
                s.unit,
                status,
                s.origin,
                f"resources/{s.file}",
                s.key,
                (),
                note,
            )
        )
    return out


_WALKERS = {
    "products.toml": _products,
    "regimens.toml": _regimens,
    "limits.toml": _limits,
    "vitals.toml": _vitals,
    "monitoring.toml": _monitoring,
    "reactions.toml": _reactions,
    "followups.toml": _followups,
}


def resource_files() -> list[str]:
    """Every clinical TOML file in resources/ the report walks (relative names)."""
    root = resource_root()
    names = sorted(e.name for e in root.iterdir() if e.name in _WALKERS)
    checklists = root / "checklists"
    names += sorted(f"checklists/{e.name}" for e in checklists.iterdir() if e.name.endswith(".toml"))
    return names


def content_items() -> list[ContentItem]:
    items: list[ContentItem] = _policy_items()
    for relative in resource_files():
        f = _File(relative)
        walker = _checklist if relative.startswith("checklists/") else _WALKERS[relative]
        items += walker(f)
    items += _guides()
    items += _translations()
    _mark_policy(items)
    order = {g: i for i, g in enumerate(GROUPS)}
    items.sort(key=lambda it: order.get(it.group, len(order)))
    return items


def _policy_prefixes() -> list[str]:
    pol = _policy.load_policy()
    prefixes = []
    for key in pol.values:
        head, _, rest = key.partition(".")
        if head == "vitals":
            prefixes.append(f"vitals/measure/{rest.split('.')[0]}")
        elif head == "monitoring":
            prefixes.append("monitoring/vitals")
        elif head == "observation":
            prefixes.append("monitoring/observation")
        elif head == "rates":
            prefixes.append("limits/titration_default")
        elif head == "pump":
            prefixes.append("limits/pump")
        elif head == "limits":
            prefixes.append(f"limits/{rest.split('.')[0]}")
        elif head == "products":
            prefixes.append(f"products/product/{rest.split('.')[0]}/rate/")
    for item_id in pol.checklist_required:
        prefixes.append(f"checklists/*/{item_id}")
    return prefixes


def _mark_policy(items: list[ContentItem]) -> None:
    prefixes = _policy_prefixes()
    if not prefixes:
        return
    for n, it in enumerate(items):
        if it.group == "Agency policy settings":
            continue
        hit = any(
            it.id.startswith(p)
            if "*" not in p
            else (it.id.startswith("checklists/") and it.id.endswith("/" + p.rsplit("/", 1)[1]))
            for p in prefixes
        )
        if hit:
            items[n] = it.as_agency_policy()


# ----------------------------------------------------------------------------- version and changes


def content_version() -> str:
    """A short hash of resources/ (the start-up content fingerprint: every content file and the
    app version) plus the agency policy file in force, e.g. "a1b2c3d4e5f6"."""
    from nurse_app.core.content import content_fingerprint

    digest = hashlib.sha256(content_fingerprint(with_code=False).encode())
    digest.update(b"\0policy\0" + _policy.load_policy().digest.encode())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Changes:
    approved_version: str
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.changed or self.added or self.removed)


def approval_values(items: Iterable[ContentItem]) -> dict[str, str]:
    """What an approval stores: item id -> fingerprint."""
    return {it.id: it.fingerprint() for it in items}


def changes_since(
    approved_values: dict[str, str], approved_version: str, items: Iterable[ContentItem]
) -> Changes:
    now = approval_values(items)
    return Changes(
        approved_version,
        changed=tuple(k for k in now if k in approved_values and approved_values[k] != now[k]),
        added=tuple(k for k in now if k not in approved_values),
        removed=tuple(k for k in approved_values if k not in now),
    )


@dataclass
class ContentReport:
    version: str
    generated_on: str
    policy_file: str
    agency: str
    items: list[ContentItem]
    approval: dict[str, Any] | None = None  # latest approval (name, credentials, date, version)
    changes: Changes | None = None  # since that approval (None: none recorded)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    verification: dict[str, int] = field(default_factory=dict)  # reference-pack UNVERIFIED items re-checked

    @property
    def approved(self) -> bool:
        return self.approval is not None and self.approval.get("content_version") == self.version

    def changed_ids(self) -> set[str]:
        if self.changes is None:
            return set()
        return set(self.changes.changed) | set(self.changes.added)

    def to_json(self) -> dict[str, Any]:
        changes = None
        if self.changes is not None:
            changes = {
                "approved_version": self.changes.approved_version,
                "changed": list(self.changes.changed),
                "added": list(self.changes.added),
                "removed": list(self.changes.removed),
            }
        return {
            "content_version": self.version,
            "generated_on": self.generated_on,
            "agency_policy_file": self.policy_file or None,
            "agency": self.agency or None,
            "approved": self.approved,
            "approval": self.approval,
            "changes_since_approval": changes,
            "counts": self.counts,
            "verification": self.verification,
            "source_classes": SOURCE_CLASS_NAMES,
            "items": [dict(it.to_json(), changed=it.id in self.changed_ids()) for it in self.items],
        }


def build_report(approval: dict[str, Any] | None = None, today: _dt.date | None = None) -> ContentReport:
    """The report of the content in force; ``approval`` is the latest recorded one (with its
    ``items`` values) to mark what changed since."""
    pol = _policy.validate_policy()  # every loader accepts the content with the policy applied
    items = content_items()
    counts: dict[str, dict[str, int]] = {}
    for it in items:
        group = counts.setdefault(it.group, {VERIFIED: 0, UNVERIFIED: 0, AGENCY_POLICY: 0})
        group[it.status] += 1
    changes = None
    public = None
    if approval is not None:
        changes = changes_since(
            approval.get("items") or approval.get("approved_items") or {},
            approval.get("content_version", ""),
            items,
        )
        public = {
            k: approval.get(k)
            for k in (
                "approver_name",
                "approver_credentials",
                "approved_on",
                "content_version",
                "recorded_by",
                "recorded_at",
            )
        }
    return ContentReport(
        content_version(),
        (today or _dt.date.today()).isoformat(),
        str(pol.path) if pol.path else "",
        pol.agency_name,
        items,
        public,
        changes,
        counts,
        verification_counts(),
    )


def verification_counts() -> dict[str, int]:
    """How the reference pack's UNVERIFIED items fared when re-checked (resources/verification.toml)."""
    from nurse_app.core.resources import read_toml, resource_path, validate

    if not resource_path("verification.toml").is_file():
        return {}  # an installation without the record simply has no counts
    data, name = read_toml("verification.toml")
    validate("verification.toml", data, name)
    entries = data["item"]
    counts = {"items": len(entries), "confirmed": 0, "partly": 0, "unverified": 0, "data_changed": 0}
    for e in entries:
        counts[e.get("status", "unverified")] = counts.get(e.get("status", "unverified"), 0) + 1
        counts["data_changed"] += bool(e.get("changed"))
    return counts
