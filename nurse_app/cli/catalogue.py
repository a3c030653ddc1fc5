"""``nurse-app products`` and ``nurse-app regimens``: list the catalogue."""

from __future__ import annotations

import argparse

from nurse_app.cli.common import print_json
from nurse_app.core.catalogue import CONFIRM_WITH_INSERT, load_catalogue
from nurse_app.core.formatting import fmt_number, fmt_qty


def register(subparsers) -> None:
    p = subparsers.add_parser("products", help="list the IVIG product catalogue")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_products)
    r = subparsers.add_parser("regimens", help="list the regimens by indication")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=run_regimens)


def run_products(args: argparse.Namespace) -> int:
    cat = load_catalogue()
    if args.json:
        out = [
            {
                "id": p.id,
                "brand": p.brand,
                "manufacturer": p.manufacturer,
                "concentration_percent": p.concentration_percent,
                "form": p.form,
                "label_indications": list(p.label_indications),
                "vials": [
                    {"grams": v.grams, "ml": v.ml, "verified": v.verified, "source": v.source}
                    for v in p.vials
                ],
                "rates": [
                    {
                        "indications": list(r.indications),
                        "initial_mg_per_kg_min": r.initial_mg_kg_min,
                        "max_mg_per_kg_min": r.max_mg_kg_min,
                        "label_unit": r.label_unit,
                        "label_initial": r.label_initial,
                        "label_max": r.label_max,
                        "label_text": r.label_text,
                        "first_infusion_max_mg_per_kg_min": r.first_infusion_max_mg_kg_min,
                        "first_infusion_sources": list(r.first_infusion_sources),
                        "verified": r.verified,
                        "sources": list(r.sources),
                    }
                    for r in p.rates
                ],
                "at_risk_max_mg_per_kg_min": p.at_risk_max_mg_kg_min,
                "cautions": [{"kind": c.kind, "text": c.text, "verified": c.verified} for c in p.cautions],
                "contraindications": [
                    {"kind": c.kind, "text": c.text, "verified": c.verified} for c in p.contraindications
                ],
            }
            for p in cat.products.values()
        ]
        print_json(out)
        return 0
    for p in cat.products.values():
        vials = ", ".join(fmt_qty(v.grams, "g") for v in p.vials) or "none listed"
        if p.vials and not p.vials_verified:
            vials += f" ({CONFIRM_WITH_INSERT})"
        print(f"{p.id:<20} {p.brand} ({p.manufacturer}), {fmt_qty(p.concentration_percent, '%')}")
        print(f"{'':<20} vials: {vials}")
        for r in p.rates:
            mark = "" if r.verified else f"  [{CONFIRM_WITH_INSERT}]"
            # As the label prints it (label's unit and figures), e.g. Gammagard Liquid in mL/kg/h.
            print(
                f"{'':<20} {', '.join(r.indications).upper()}: {fmt_qty(r.label_initial, r.label_unit)} "
                f"up to {fmt_qty(r.label_max, r.label_unit)}{mark}"
            )
        for c in p.contraindications:
            mark = "" if c.verified else f"  [{CONFIRM_WITH_INSERT}]"
            print(f"{'':<20} contraindication: {c.text}{mark}")
    return 0


def run_regimens(args: argparse.Namespace) -> int:
    cat = load_catalogue()
    if args.json:
        out = [
            {
                "id": r.id,
                "name": r.name,
                "indication": r.indication,
                "course_g_per_kg": r.course_g_per_kg,
                "dose_range_g_per_kg": list(r.dose_range_g_per_kg) if r.dose_range_g_per_kg else None,
                "days": r.days,
                "days_min": r.days_min,
                "days_max": r.days_max,
                "repeat_min_days": r.repeat_min_days,
                "repeat_max_days": r.repeat_max_days,
                "repeat_note": r.repeat_note,
                "label_status": r.label_status,
                "sources": list(r.sources),
            }
            for r in cat.regimens.values()
        ]
        print_json(out)
        return 0
    for r in cat.regimens.values():
        if r.course_g_per_kg is not None:
            dose = fmt_qty(r.course_g_per_kg, "g/kg")
        elif r.dose_range_g_per_kg is not None:
            dose = f"{fmt_number(r.dose_range_g_per_kg[0])} to {fmt_qty(r.dose_range_g_per_kg[1], 'g/kg')}"
        else:  # the catalogue refuses a regimen with neither
            dose = "dose as ordered"
        print(f"{r.id:<18} {dose} over {r.days} day{'s' if r.days != 1 else ''} ({r.label_status})  {r.name}")
    return 0
