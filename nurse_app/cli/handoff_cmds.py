"""``nurse-app send``: hand the outbox over to the agency's FHIR server (services/handoff.py)."""

from __future__ import annotations

import json
import sys

from nurse_app.core.errors import InputError

EXIT_NOT_ALL_SENT = 1


def register(subparsers) -> None:
    send = subparsers.add_parser(
        "send",
        help="send signed visits, follow-up calls and addenda to the agency's FHIR server",
        description="Send what is waiting in the outbox (signed visits, signed follow-up calls, addenda) "
        "to the agency's FHIR R4 server as transactions of PUTs: the server's address from the agency "
        "policy's [handoff] base_url or --to; the access token from NURSE_APP_AGENCY_TOKEN, else the one "
        "stored in the record. Exit 0 when nothing is left waiting or refused, 1 otherwise.",
    )
    send.add_argument("--to", metavar="URL", help="the server's FHIR base URL (instead of the policy's)")
    send.add_argument("--json", action="store_true", help="print the outcome as JSON")
    send.set_defaults(func=run_send)

    order = subparsers.add_parser(
        "order-in",
        help="take an order from a FHIR MedicationRequest (file or the agency's server) for review",
        description="Read a FHIR R4 MedicationRequest (from FILE, or the active ones on the agency's server for "
        "the patient) as an order draft and show it beside the patient's current order. Nothing changes "
        "until --accept: the draft then becomes the active order. An unknown product or a dose outside the "
        "app's limits is refused with the reason (exit 2).",
    )
    order.add_argument("--patient", type=int, required=True, metavar="ID", help="the patient's number")
    source = order.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", metavar="FILE.json", help="a MedicationRequest (or a Bundle of them)")
    source.add_argument("--fetch", action="store_true", help="fetch from the agency's server")
    order.add_argument("--to", metavar="URL", help="the server's FHIR base URL (with --fetch)")
    order.add_argument("--accept", action="store_true", help="make the draft the patient's active order")
    order.set_defaults(func=run_order_in)


def run_send(args) -> int:
    from pathlib import Path

    from nurse_app.services.handoff import destination, send_outbox, state_text
    from nurse_app.store import Store, resolve_db_path

    path, _ = resolve_db_path(args.db)
    if not Path(path).exists():
        raise InputError(f"There is no patient record at {path}; check --db or NURSE_APP_DB.")
    with Store.open(path) as store:
        dest = destination(store, args.to)
        if dest is None:
            raise InputError(
                "No agency server is set: give --to URL or [handoff] base_url in the agency policy."
            )
        result = send_outbox(store, dest)
        refused = [store.outbox_item(i) for i in result.refused]
    if args.json:
        print(json.dumps({**result.as_dict(), "to": dest.base_url}, indent=2))
    else:
        print(f"Agency server {dest.base_url}: {result.text()}")
        for row in refused:
            what = f"visit {row['visit_id']}" if row["visit_id"] else f"call {row['call_id']}"
            print(f"  {what}: {state_text(row)}", file=sys.stderr)
    return 0 if not (result.refused or result.waiting) else EXIT_NOT_ALL_SENT


def _order_line(values) -> str:
    from nurse_app.core.catalogue import load_catalogue
    from nurse_app.core.formatting import fmt_qty

    product = load_catalogue().products.get(values.get("product_id"))
    days = values.get("course_days")
    every = f", every {values['interval_days']} days" if values.get("interval_days") else ""
    dose = (
        fmt_qty(values["dose_g_per_kg"], "g/kg")
        if values.get("dose_g_per_kg") is not None
        else "regimen dose"
    )
    return (
        f"{product.display_name if product else values.get('product_id')} {dose} over {days} days{every}, "
        f"from {values.get('start_date')}" + (f", {values['prescriber']}" if values.get("prescriber") else "")
    )


def run_order_in(args) -> int:
    from pathlib import Path

    from nurse_app.core.order_import import order_from_request
    from nurse_app.services.handoff import destination, fetch_orders, request_is_for
    from nurse_app.services.orders import active_order, replace_order
    from nurse_app.store import Store, resolve_db_path

    path, _ = resolve_db_path(args.db)
    if not Path(path).exists():
        raise InputError(f"There is no patient record at {path}; check --db or NURSE_APP_DB.")
    with Store.open(path) as store:
        store.get_patient(args.patient)
        if args.fetch:
            dest = destination(store, args.to)
            if dest is None:
                raise InputError(
                    "No agency server is set: give --to URL or [handoff] base_url in the agency policy."
                )
            requests = fetch_orders(store, dest, args.patient)
        else:
            try:
                data = json.loads(Path(args.file).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(f"Cannot read {args.file}: {exc}.") from None
            requests = (
                [e.get("resource") or {} for e in data.get("entry") or ()]
                if data.get("resourceType") == "Bundle"
                else [data]
            )
            if not all(request_is_for(store, r, args.patient) for r in requests):
                raise InputError(f"This order names another patient than patient {args.patient}.")
        if not requests:
            print(f"No active order for patient {args.patient} on the agency server.")
            return 0
        if len(requests) > 1:
            raise InputError(f"{len(requests)} active orders were found: take them one at a time (--file).")
        draft = order_from_request(requests[0])
        current = active_order(store, args.patient)
        print(f"Current order: {_order_line(current) if current else 'none'}")
        print(f"New order ({draft.request_id or 'MedicationRequest'}): {_order_line(draft.values)}")
        if not args.accept:
            print("Nothing changed: run again with --accept to make the new order the active one.")
            return 0
        order_id = replace_order(store, args.patient, draft.values)
    print(f"Accepted: order {order_id} is now the patient's active order.")
    return 0
