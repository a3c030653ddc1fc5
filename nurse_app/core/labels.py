"""What the screens, documents and CLI call stored values (one wording, no Qt).

* :data:`SEX_LABELS` - the patient's recorded sex;
* :data:`BASIS_LABELS` - the weight basis of a dose (``core.weights.BASES``);
* :func:`indication_text` / :func:`regimen_short_name` - a patient's indication (a regimen id);
* :func:`days_text` - "1 day", "5 days".
"""

from __future__ import annotations

from nurse_app.core.catalogue import Catalogue, Regimen
from nurse_app.core.formatting import fmt_qty

SEX_LABELS = {"female": "Female", "male": "Male", "other": "Other", "unknown": "Not known"}

BASIS_LABELS = {
    "auto": "Automatic (obesity rule)",
    "actual": "Actual weight",
    "ideal": "Ideal body weight",
    "adjusted": "Adjusted body weight",
}


def regimen_short_name(regimen: Regimen) -> str:
    """``"Pemphigus: 0.4 g/kg/day..."`` -> ``"Pemphigus"`` (lists have no room for the rest)."""
    return regimen.name.split(":", 1)[0].strip()


def indication_text(catalogue: Catalogue, indication: str | None, short: bool = False) -> str:
    """What a patient's indication (a regimen id) is called; unknown ids are shown as stored."""
    if not indication:
        return ""
    regimen = catalogue.regimens.get(indication)
    if regimen is not None:
        return regimen_short_name(regimen) if short else regimen.name
    return str(catalogue.indications.get(indication, indication))


def days_text(days: int) -> str:
    return fmt_qty(days, "day" if days == 1 else "days")
