"""``nurse-app send``: hand the outbox over to the agency's FHIR server (reports/handoff.py)."""

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


def run_send(args) -> int:
    from pathlib import Path

    from nurse_app.reports.handoff import destination, send_outbox, state_text
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
