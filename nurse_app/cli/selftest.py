"""``nurse-app --selftest``: validate all content, build the window offscreen, run one calculation."""

from __future__ import annotations

import os
import sys

from nurse_app.core.errors import NurseAppError


def run_selftest() -> int:
    from nurse_app.core.content import validate_all
    from nurse_app.core.dosing import DoseRequest, calculate
    from nurse_app.core.formatting import fmt_qty

    try:
        for line in validate_all():
            print(f"ok  {line}")
        from nurse_app.store import expected_schema, schema

        if expected_schema.objects(schema.CURRENT_VERSION) != expected_schema.build(schema.CURRENT_VERSION):
            raise NurseAppError(
                "the record schema snapshot does not match the migrations "
                "(python -m nurse_app.store.expected_schema --write)"
            )
        print(f"ok  record schema v{schema.CURRENT_VERSION}: snapshot matches the migrations")
        result = calculate(
            DoseRequest(
                product_id="gamunex-c", weight_kg=70, height_cm=170, sex="female", regimen_id="pemphigus"
            )
        )
        print(
            f"ok  calculation: pemphigus day dose {fmt_qty(result.daily_dose_g, 'g')} "
            f"= {fmt_qty(result.daily_volume_ml, 'mL')}, {len(result.rate_steps)} rate steps"
        )
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from nurse_app.ui.app import selftest_window

        print(f"ok  main window: {selftest_window()}")
    except NurseAppError as exc:
        print(f"FAIL  {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the self-test reports any failure as one line
        print(f"FAIL  {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print("selftest passed")
    return 0
