"""What a patient's allergy entry says, decided once for every screen, the visit summary
and the FHIR export.

The record keeps allergies as the free text the nurse typed.  Three states matter and
must never be confused:

* **not recorded** - nothing typed: nobody has asked yet.  Shown as a prompt to ask;
  never read as "no allergies" (FHIR: no AllergyIntolerance at all).
* **no known allergies** - the patient was asked and has none: "none", "none known",
  "NKA", "NKDA", "no known (drug) allergies", "nil", "no allergies" (case, spaces and a
  final full stop ignored).  Shown calmly as "No known allergies" (FHIR: one
  AllergyIntolerance coded SNOMED CT 716186003 "No known allergy").
* **listed** - anything else: each allergy as an entry (split on ``;``, ``,`` and new
  lines, never inside brackets: "Penicillin (rash, hives)" stays whole), shown loud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NOT_RECORDED, NONE_KNOWN, LISTED = "not-recorded", "none-known", "listed"
NONE_KNOWN_TEXT = "No known allergies"
NOT_RECORDED_TEXT = "Not recorded: ask the patient and record them"

_NONE = re.compile(
    r"^\s*(none(\s+known)?|nka|nkda|nil|no\s+allergies|no\s+known(\s+drug)?\s+allergies)"
    r"\s*\.?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Allergies:
    state: str  # NOT_RECORDED, NONE_KNOWN or LISTED
    entries: tuple[str, ...]  # the allergies, one per entry (empty unless LISTED)

    @property
    def listed(self) -> bool:
        return self.state == LISTED

    @property
    def text(self) -> str:
        """The one wording: "Penicillin (rash); Latex", "No known allergies" or "Not recorded: ..."."""
        if self.state == LISTED:
            return "; ".join(self.entries)
        return NONE_KNOWN_TEXT if self.state == NONE_KNOWN else NOT_RECORDED_TEXT


def _split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        if ch in ",;\n" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def allergies(typed: str | None) -> Allergies:
    """The state and entries of a patient's allergy text."""
    text = (typed or "").strip()
    if not text:
        return Allergies(NOT_RECORDED, ())
    if _NONE.match(text):
        return Allergies(NONE_KNOWN, ())
    entries = tuple(p for p in _split(text) if not _NONE.match(p))
    return Allergies(LISTED, entries) if entries else Allergies(NONE_KNOWN, ())
