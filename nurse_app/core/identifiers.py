"""Identifiers the hand-off carries: the nurse's NPI (National Provider Identifier)."""

from __future__ import annotations

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"


def npi_problem(npi: str) -> str | None:
    """Why ``npi`` is not an NPI, or None: 10 digits whose last is the Luhn check digit of
    the number prefixed with 80840 (CMS, "NPI check digit")."""
    if len(npi) != 10 or not npi.isdigit():
        return "An NPI is 10 digits."
    digits = "80840" + npi[:-1]
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    if (10 - total % 10) % 10 != int(npi[-1]):
        return "This NPI's check digit does not match: check the number."
    return None
