"""A scanned drug carton: its GS1 code read, its product found, and the checks before it is used.

Since the DSCSA every US drug package carries a GS1 DataMatrix with four element strings:
AI 01 (the GTIN, which holds the package's NDC), AI 17 (expiry, YYMMDD), AI 10 (lot) and
AI 21 (serial).  The element strings are parsed by `biip <https://biip.readthedocs.io>`_ (GS1's
rules: fixed and variable lengths, FNC1 separators, the GTIN check digit, an expiry day 00
meaning the last day of the month).  This module only normalises what a scanner, a camera or a
person hands over, and says in words why a carton is refused.

A scan arrives in one of three forms, all accepted:

* the raw symbol text with the ``]d2`` symbology prefix and GS (0x1D) separators;
* the same with each FNC1/GS shown as ``<GS>`` (how many scanners and label tools print it);
* the human-readable form printed under the symbol: ``(01)…(17)…(10)…(21)…``.

The GTIN of a US drug is ``0`` + ``03`` + the 10-digit NDC + a check digit (GS1 US's NDC rule), so
the catalogue stores each package's NDC with its source and the GTIN is derived from it.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Collection
from dataclasses import dataclass

from nurse_app.core.errors import InputError

GS = "\x1d"
# Symbology identifiers a scanner may put first: GS1 DataMatrix, GS1-128, GS1 QR.
_SYMBOLOGY_PREFIXES = ("]d2", "]C1", "]Q3", "]e0")
# What a keyboard-mode scanner's burst starts with (the raw form or a bare AI 01).
SCAN_STARTS = ("]d2", "]C1", "]Q3", "01", "(01)")
FIELD = "carton"


@dataclass(frozen=True)
class CartonCode:
    """What a carton's GS1 code says (the GTIN as 14 digits, the expiry as a day)."""

    gtin: str
    lot: str
    expiry: _dt.date
    serial: str | None
    form: str  # "raw", "<GS>" or "human-readable": how it arrived

    @property
    def ndc_digits(self) -> str | None:
        """The 10 NDC digits inside a US drug GTIN (None when the GTIN is not an NDC one)."""
        return ndc_digits_from_gtin(self.gtin)


def gs1_check_digit(digits: str) -> int:
    """GS1's mod-10 check digit of ``digits`` (every data digit before the check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def gtin_from_ndc(ndc: str) -> str:
    """The GTIN-14 of a US drug package from its NDC (``44206-439-40`` → ``00344206439409``)."""
    digits = ndc.replace("-", "")
    if not re.fullmatch(r"\d{10}", digits):
        raise InputError(f"{ndc!r} is not a 10-digit NDC.", FIELD)
    body = "003" + digits
    return body + str(gs1_check_digit(body))


def ndc_digits_from_gtin(gtin: str) -> str | None:
    if re.fullmatch(r"\d{14}", gtin) and gtin.startswith("003"):
        return gtin[3:13]
    return None


def _clean(text: str) -> tuple[str, str]:
    """The code with real GS separators and no symbology prefix or line end, and its form."""
    value = str(text or "").strip("\r\n\t ")
    form = "raw"
    if re.search(r"<gs>", value, flags=re.I):
        value = re.sub(r"<gs>", GS, value, flags=re.I)
        form = "<GS>"
    for prefix in _SYMBOLOGY_PREFIXES:
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    if value.startswith("("):
        form = "human-readable"
    if value.startswith(GS):  # some scanners send the leading FNC1 as a GS
        value = value[1:]
    return value, form


def parse_carton(text: str) -> CartonCode:
    """The GTIN, lot, expiry and serial of a scanned carton code.

    :class:`InputError` (one sentence) when it is not a GS1 code, its GTIN's check digit is wrong,
    or it lacks the product number, the lot or the expiry.
    """
    from biip import ParseError
    from biip.gs1_messages import GS1Message

    value, form = _clean(text)
    if not value:
        raise InputError("Nothing was read from the scan: scan the carton's square code again.", FIELD)
    if any(ord(c) < 32 and c != GS for c in value):
        raise InputError("The scan holds control characters that no carton code has: scan again.", FIELD)
    try:
        message = GS1Message.parse_hri(value) if form == "human-readable" else GS1Message.parse(value)
    except ParseError as exc:
        raise InputError(
            f"This is not a GS1 carton code ({_short(str(exc))}): scan the square code on the carton, "
            "or type the lot and expiry.",
            FIELD,
        ) from None
    found = {e.ai.ai: e for e in message.element_strings}
    gtin_element = found.get("01")
    if gtin_element is None:
        raise InputError(
            "The code has no product number (GTIN, AI 01): it is not the carton's drug code. "
            "Scan the square code on the carton.",
            FIELD,
        )
    if gtin_element.gtin_error:
        raise InputError(
            f"The product number {gtin_element.value} fails its check digit, so it was misread or the "
            "label is damaged: scan again, or type the lot and expiry.",
            FIELD,
        )
    missing = [name for ai, name in (("17", "expiry (AI 17)"), ("10", "lot (AI 10)")) if ai not in found]
    if missing:
        raise InputError(
            f"The carton code has no {' and no '.join(missing)}: type them from the carton.", FIELD
        )
    expiry = found["17"].date
    if expiry is None:
        raise InputError(
            f"The expiry {found['17'].value} in the code is not a date: type it from the carton.", FIELD
        )
    serial = found["21"].value if "21" in found else None
    return CartonCode(
        gtin=gtin_element.value,
        lot=found["10"].value,
        expiry=expiry,
        serial=serial,
        form=form,
    )


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "…"


def looks_like_scan_start(text: str) -> bool:
    """Whether ``text`` can be the beginning of a scanner burst (see :data:`SCAN_STARTS`)."""
    return any(start.startswith(text) or text.startswith(start) for start in SCAN_STARTS)


def refusal(
    code: CartonCode,
    *,
    product_id: str | None,
    expected_product_id: str | None,
    expected_product_name: str,
    found_product_name: str | None,
    needed_until: _dt.date,
    today: _dt.date,
    serials_seen: Collection[str],
) -> str | None:
    """Why this carton must not be used for this visit, in words (None: it may be used).

    ``product_id`` is the catalogue product the GTIN belongs to (None: unknown GTIN);
    ``needed_until`` is the day the infusion is expected to end (the carton must not expire before).
    """
    if product_id is None:
        return (
            f"Unknown product code (GTIN {code.gtin}): it is not a package in the catalogue. "
            "Check the carton is IVIG for this order; if it is, type the lot and tell your agency."
        )
    if expected_product_id is not None and product_id != expected_product_id:
        return (
            f"Wrong product: this carton is {found_product_name}, the order is for "
            f"{expected_product_name}. Do not use it."
        )
    from nurse_app.core.formatting import fmt_date

    if code.expiry < today:
        return f"Expired carton: lot {code.lot} expired on {fmt_date(code.expiry)}. Do not use it."
    if code.expiry < needed_until:
        return (
            f"Lot {code.lot} expires on {fmt_date(code.expiry)}, before the infusion is expected to end "
            f"({fmt_date(needed_until)}). Do not use it."
        )
    if code.serial is not None and code.serial in serials_seen:
        return (
            f"This carton (serial {code.serial}) was already scanned in this visit: each carton is "
            "recorded once."
        )
    return None
