"""The languages a patient may prefer, and the fixed wording of handouts in each of them.

``resources/languages.toml`` lists the languages (BCP 47 tags with their English and own names)
and, for each language that has handouts, the wording a handout prints around the guide's text
(headings of the two call boxes, the care-team block, the footer, the language-access tagline).
A language without handouts gets the English one; :func:`handout_languages` says which
language(s) a handout prints in for a patient: their preferred language when it has handouts,
with English beside it for a bilingual copy.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nurse_app.core.errors import InputError
from nurse_app.core.resources import load_toml, validate

ENGLISH = "en"
OTHER = "other"  # a language not in the list: its name is recorded as typed
TRANSLATION_NOT_REVIEWED = "translation — not yet reviewed by a qualified medical translator"


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    native: str

    @property
    def label(self) -> str:
        """How a form lists it: ``Spanish (Español)``."""
        return self.name if self.native == self.name else f"{self.name} ({self.native})"


@dataclass(frozen=True)
class HandoutWording:
    lang: str
    title_suffix: str
    subtitle: str
    emergency_heading: str
    call_heading: str
    emergency_signs: str
    care_team: str
    contact_labels: dict[str, str]
    sources_title: str
    reviewed_note: str
    footer_sources: str
    page: str
    months: tuple[str, ...]
    tagline_title: str
    tagline: str
    tagline_no_phone: str
    status: str  # source | unreviewed | reviewed

    @property
    def emergency_title(self) -> str:
        return f"{self.emergency_heading}…"

    @property
    def call_title(self) -> str:
        return f"{self.call_heading}…"

    def date(self, day: _dt.date) -> str:
        """A date as this language prints it on a handout (``24 Nov 2026``, ``24 nov 2026``)."""
        return f"{day.day} {self.months[day.month - 1]} {day.year}"

    def tagline_text(self, phone: str | None) -> str:
        return self.tagline.format(phone=phone) if phone else self.tagline_no_phone


@dataclass(frozen=True)
class Languages:
    languages: tuple[Language, ...]
    wording: dict[str, HandoutWording]

    def get(self, code: str) -> Language | None:
        return next((lang for lang in self.languages if lang.code == code), None)

    def has_handouts(self, code: str) -> bool:
        return code in self.wording


@lru_cache(maxsize=1)
def load_languages() -> Languages:
    data: dict[str, Any]
    data, name = load_toml("languages.toml")
    validate("languages.toml", data, name)
    languages = tuple(Language(x["code"], x["name"], x["native"]) for x in data["language"])
    wording = {code: _wording(code, table) for code, table in data["handout"].items()}
    return Languages(languages, wording)


def _wording(code: str, table: dict[str, Any]) -> HandoutWording:
    fields: dict[str, Any] = {k: v for k, v in table.items() if k != "source"}
    fields["months"] = tuple(fields["months"])
    return HandoutWording(lang=code, **fields)


def handout_wording(lang: str) -> HandoutWording:
    wording = load_languages().wording.get(lang)
    if wording is None:
        known = ", ".join(sorted(load_languages().wording))
        raise InputError(f"No handouts in {lang!r} (handouts exist in {known}).", "lang")
    return wording


def parse_handout_languages(spec: str) -> tuple[str, ...]:
    """``es``, ``en`` or ``es+en`` (bilingual: the first language, then the second)."""
    parts = tuple(p.strip() for p in str(spec or "").split("+"))
    if not parts or any(not p for p in parts) or len(parts) > 2 or len(set(parts)) != len(parts):
        raise InputError(
            f"Handout language {spec!r}: give one language (es) or two for a bilingual copy (es+en).", "lang"
        )
    for part in parts:
        handout_wording(part)
    return parts


def handout_languages(preferred: str | None, *, bilingual: bool = False) -> tuple[str, ...]:
    """The handout languages for a patient who prefers ``preferred``: that language when it has
    handouts (English otherwise); with ``bilingual``, English after it."""
    first = preferred if preferred and load_languages().has_handouts(preferred) else ENGLISH
    if bilingual and first != ENGLISH:
        return (first, ENGLISH)
    return (first,)


def language_text(patient: Mapping[str, Any]) -> str:
    """The patient's language as every screen and summary says it: ``Spanish (Español), interpreter
    needed``; ``Not recorded`` when nobody asked."""
    code, other = patient.get("preferred_language"), patient.get("preferred_language_other")
    if not code:
        text = "Not recorded"
    elif code == OTHER:
        text = f"{other} (other)" if other else "Other"
    else:
        language = load_languages().get(code)
        text = language.label if language else code
    needed = patient.get("interpreter_needed")
    if needed is None:
        return text
    return f"{text}, interpreter needed" if needed else f"{text}, no interpreter needed"


def interpreter_text(visit: Mapping[str, Any]) -> str:
    """Whether the visit used an interpreter, and who: ``Yes: Ana Ruiz (ID 4471)``, ``No``, ``Not recorded``."""
    used = visit.get("interpreter_used")
    if used is None:
        return "Not recorded"
    if not used:
        return "No"
    who = str(visit.get("interpreter") or "").strip()
    return f"Yes: {who}" if who else "Yes (who not recorded)"
