"""``nurse-app calc``: the dose and rate calculator, headless."""

from __future__ import annotations

import argparse
import datetime as _dt

from nurse_app.cli.common import print_json
from nurse_app.core.calc_text import result_lines
from nurse_app.core.dosing import RISKS, DoseRequest, DoseResult, age_in_years, calculate
from nurse_app.core.errors import InputError
from nurse_app.core.units import parse_height_cm, parse_number, parse_weight_kg
from nurse_app.core.weights import BASES, SEXES


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "calc",
        help="calculate an IVIG dose, vial plan and rate schedule",
        description="Calculate an IVIG course: dosing weight, daily dose and volume, vial plan and "
        "rate titration. Give --regimen, or --dose-g-per-kg with --days.",
    )
    p.add_argument("--product", required=True, metavar="ID", help="product id (see `nurse-app products`)")
    p.add_argument("--weight", required=True, metavar="70kg|154lb", help="today's weight with unit")
    p.add_argument(
        "--height", metavar="175cm|69in", help="height with unit (needed for BMI, ideal/adjusted weight)"
    )
    p.add_argument("--sex", choices=SEXES)
    p.add_argument("--regimen", metavar="ID", help="regimen id (see `nurse-app regimens`)")
    p.add_argument(
        "--dose-g-per-kg", metavar="X", help="ordered dose per course in g/kg (overrides the regimen)"
    )
    p.add_argument("--days", metavar="N", help="days the course is divided over (overrides the regimen)")
    p.add_argument(
        "--indication", metavar="ID", help="indication id when no regimen is given (selects label rates)"
    )
    p.add_argument("--weight-basis", choices=BASES, default="auto")
    p.add_argument("--max-rate", metavar="MG_PER_KG_MIN", help="prescriber's maximum rate in mg/kg/min")
    p.add_argument(
        "--risk", metavar=",".join(RISKS), default="", help="comma-separated risk flags: " + ", ".join(RISKS)
    )
    p.add_argument(
        "--baseline-weight",
        metavar="70kg|154lb",
        help="the weight the order was written for: a change of 10 %% or more warns (tell the prescriber)",
    )
    p.add_argument(
        "--age",
        metavar="YEARS",
        help="age in years (child vs adult limits, over-65 renal prompt, fluid load in small patients)",
    )
    p.add_argument("--dob", metavar="YYYY-MM-DD", help="date of birth (gives the age today; not with --age)")
    p.add_argument(
        "--no-rounding-option", action="store_true", help="do not offer a whole-vial rounding option"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (numbers unrounded)")
    p.set_defaults(func=run)


def request_from_args(args: argparse.Namespace) -> DoseRequest:
    if args.regimen is None and args.dose_g_per_kg is None:
        raise InputError("Give --regimen ID, or --dose-g-per-kg X with --days N.")
    if args.regimen is not None and args.indication is not None:
        raise InputError("--indication is only used without --regimen (the regimen sets the indication).")
    if args.regimen is None and args.days is None:
        raise InputError("--dose-g-per-kg needs --days N.")
    days = None
    if args.days is not None:
        days_value = parse_number(args.days, "days", "Days")
        if days_value != int(days_value):
            raise InputError(f"Days must be a whole number, not {args.days}.")
        days = int(days_value)
    risks = frozenset(r.strip() for r in args.risk.split(",") if r.strip())
    age = None
    if args.age is not None and args.dob is not None:
        raise InputError("Give --age or --dob, not both.")
    if args.age is not None:
        age = parse_number(args.age, "age", "Age")
    elif args.dob is not None:
        try:
            born = _dt.date.fromisoformat(args.dob)
        except ValueError:
            raise InputError(f"Date of birth {args.dob!r} is not a real date: use YYYY-MM-DD.") from None
        age = age_in_years(born, _dt.date.today())
    return DoseRequest(
        product_id=args.product,
        weight_kg=parse_weight_kg(args.weight, default_unit=None),
        height_cm=parse_height_cm(args.height, default_unit=None) if args.height else None,
        sex=args.sex,
        regimen_id=args.regimen,
        dose_g_per_kg=parse_number(args.dose_g_per_kg, "dose", "Dose")
        if args.dose_g_per_kg is not None
        else None,
        days=days,
        indication=args.indication,
        weight_basis=args.weight_basis,
        max_rate_mg_kg_min=(
            parse_number(args.max_rate, "max_rate", "Maximum rate") if args.max_rate is not None else None
        ),
        risks=risks,
        offer_vial_rounding=not args.no_rounding_option,
        baseline_weight_kg=(
            parse_weight_kg(args.baseline_weight, default_unit=None) if args.baseline_weight else None
        ),
        age_years=age,
    )


def run(args: argparse.Namespace) -> int:
    result: DoseResult = calculate(request_from_args(args))
    if args.json:
        print_json(result.to_dict())
    else:
        print("\n".join(result_lines(result)))
    return 0
