"""Hand-off to the agency: the outbox sent to its FHIR R4 server as transactions.

Each outbox row (:mod:`nurse_app.store.outbox`) becomes one or more ``transaction`` Bundles of
PUTs with stable ids (:mod:`nurse_app.reports.fhir`), POSTed to the server's base URL.  A
server caps the entries of one transaction (Medplum: 50 updates), so a visit's Bundle is sent in
parts of at most ``max_entries`` (resources referred to come first: patient, nurse, medications,
encounter, administrations, then the rest).  Every part is a set of PUTs: sending a part again
changes nothing, so a try cut short (network lost, app killed) is simply sent again.

What the server answers decides the row's state:

* every part accepted: **sent**, with the receipt (each resource's type, id, ``versionId`` and
  ``lastUpdated``) stored next to the seal that was sent;
* the content refused (HTTP 400/403 on content, 404, 409, 412, 422 with an OperationOutcome):
  **refused**, the OperationOutcome kept and shown in words with what to do;
* no answer about the content (no network, DNS, TLS, timeout, HTTP 5xx, 429, 401 token): the row
  stays **waiting**; the next automatic try waits 30 s, 1, 2, 4... minutes (at most an hour).

Settings come from the agency policy's ``[handoff]`` table (:mod:`nurse_app.core.policy`); the
access token is the nurse's (:func:`credentials`), kept in the record (encrypted with it) and
never written to a log or an error message.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nurse_app.core.errors import InputError
from nurse_app.core.policy import load_policy
from nurse_app.store import Store
from nurse_app.store.outbox import ADDENDUM, CALL, REFUSED, SENT, VISIT, WAITING

TOKEN_ENV = "NURSE_APP_AGENCY_TOKEN"
TOKEN_SETTING = "agency_token"
MAX_ENTRIES = 50  # Medplum's cap on the updates of one transaction; the policy may lower it
TIMEOUT_S = 30
BACKOFF_FIRST_S = 30
BACKOFF_MAX_S = 3600
_CONTENT_REFUSALS = {400, 403, 404, 409, 412, 422}


@dataclass(frozen=True)
class Destination:
    base_url: str
    token: str | None = None  # a bearer token
    client_id: str | None = None  # or OAuth2 client credentials
    client_secret: str | None = field(default=None, repr=False)
    token_url: str | None = None
    ca_file: str | None = None
    max_entries: int = MAX_ENTRIES


@dataclass(frozen=True)
class SendResult:
    """What one send did, for the screen and ``nurse-app send``."""

    sent: tuple[int, ...] = ()  # outbox ids
    refused: tuple[int, ...] = ()
    waiting: tuple[int, ...] = ()
    problem: str = ""  # why the waiting ones are still waiting (one line, no secret)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": list(self.sent),
            "refused": list(self.refused),
            "waiting": list(self.waiting),
            "problem": self.problem,
        }

    def text(self) -> str:
        parts = [f"{len(self.sent)} sent"]
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        if self.waiting:
            parts.append(f"{len(self.waiting)} still waiting ({self.problem})")
        return ", ".join(parts) + "."


class _Unreachable(Exception):
    """No answer about the content: try again later."""


class _Refused(Exception):
    def __init__(self, outcome: dict[str, Any]):
        super().__init__("refused")
        self.outcome = outcome


# ----------------------------------------------------------------------------- settings


def stored_credentials(store: Store) -> dict[str, str]:
    """The token (or client credentials) the nurse entered; ``{}`` when none."""
    value = store.get_setting(TOKEN_SETTING, {})
    return dict(value) if isinstance(value, Mapping) else {}


def save_credentials(store: Store, *, token: str = "", client_id: str = "", client_secret: str = "") -> None:
    """Keep the access token in the record (encrypted with it); empty values clear it."""
    token, client_id, client_secret = token.strip(), client_id.strip(), client_secret.strip()
    if bool(client_id) != bool(client_secret):
        raise InputError("Enter both the client id and the client secret, or neither.", "client_id")
    value = {
        k: v for k, v in (("token", token), ("client_id", client_id), ("client_secret", client_secret)) if v
    }
    store.set_setting(TOKEN_SETTING, value)


def destination(
    store: Store, to: str | None = None, env: Mapping[str, str] | None = None
) -> Destination | None:
    """Where to send, from the policy (``--to`` overrides the base URL); None when no server is set."""
    handoff = load_policy().handoff
    base = (to or handoff.get("base_url") or "").rstrip("/")
    if not base:
        return None
    if not base.startswith(("https://", "http://")):
        raise InputError(f"The agency server address must start with https:// (got {base!r}).", "to")
    environ = os.environ if env is None else env
    creds = stored_credentials(store)
    token = environ.get(TOKEN_ENV) or creds.get("token")
    return Destination(
        base_url=base,
        token=token or None,
        client_id=None if token else creds.get("client_id"),
        client_secret=None if token else creds.get("client_secret"),
        token_url=handoff.get("token_url"),
        ca_file=handoff.get("ca_file"),
        max_entries=int(handoff.get("max_entries", MAX_ENTRIES)),
    )


# ----------------------------------------------------------------------------- HTTP


def _context(dest: Destination) -> ssl.SSLContext | None:
    if not dest.base_url.startswith("https://"):
        return None
    return ssl.create_default_context(cafile=dest.ca_file) if dest.ca_file else ssl.create_default_context()


def _open(request: urllib.request.Request, dest: Destination) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=_context(dest)) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Unreachable(f"the agency server did not answer ({reason})") from None


def _bearer(dest: Destination) -> str | None:
    if dest.token:
        return dest.token
    if not (dest.client_id and dest.client_secret):
        return None
    url = dest.token_url or dest.base_url.rsplit("/fhir", 1)[0] + "/oauth2/token"
    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": dest.client_id, "client_secret": dest.client_secret}
    ).encode()
    request = urllib.request.Request(
        url, data=form, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    status, body = _open(request, dest)
    if status != 200:
        raise _Unreachable("the agency server refused the client id and secret: enter them again")
    try:
        token = json.loads(body)["access_token"]
    except (ValueError, KeyError, TypeError):
        raise _Unreachable("the agency server's token answer was not understood") from None
    return str(token)


def _post(dest: Destination, bearer: str | None, bundle: Mapping[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        dest.base_url,
        data=json.dumps(bundle, ensure_ascii=False).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"},
    )
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    status, body = _open(request, dest)
    try:
        answer = json.loads(body) if body else {}
    except ValueError:
        answer = {}
    if status in (401,):
        raise _Unreachable("the agency server did not accept the access token: enter a new one")
    if status >= 500 or status == 429:
        raise _Unreachable(f"the agency server had a problem (HTTP {status})")
    if status in _CONTENT_REFUSALS or (status >= 400 and answer.get("resourceType") == "OperationOutcome"):
        if answer.get("resourceType") != "OperationOutcome":
            answer = {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "processing", "diagnostics": f"HTTP {status}"}],
            }
        raise _Refused(answer)
    if status >= 300 or answer.get("resourceType") != "Bundle":
        raise _Unreachable(f"the agency server's answer was not understood (HTTP {status})")
    return answer


# ----------------------------------------------------------------------------- what is sent


def bundle_for(store: Store, item: Mapping[str, Any]) -> dict[str, Any]:
    """The transaction Bundle (JSON) an outbox row sends."""

    if item["kind"] in (VISIT, ADDENDUM):
        bundle = store_visit_bundle(store, int(item["visit_id"]))
    elif item["kind"] == CALL:
        bundle = store_call_bundle(store, int(item["call_id"]))
    else:  # pragma: no cover - the table's CHECK allows no other kind
        raise ValueError(item["kind"])
    # Every element was validated as the models were built; the file export's parse-back
    # (reports.fhir.bundle_json) would double the cost of each send.
    from nurse_app.reports.fhir import bundle_data

    result: dict[str, Any] = bundle_data(bundle)
    return result


def parts(bundle: Mapping[str, Any], max_entries: int) -> list[dict[str, Any]]:
    """The Bundle split into transactions of at most ``max_entries`` entries, in order."""
    entries = list(bundle.get("entry") or ())
    size = max(1, max_entries)
    return [
        {"resourceType": "Bundle", "type": "transaction", "entry": entries[i : i + size]}
        for i in range(0, len(entries), size)
    ] or [{"resourceType": "Bundle", "type": "transaction", "entry": []}]


def receipt_rows(answer: Mapping[str, Any], sent: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """``[resourceType, id, versionId, lastUpdated]`` per entry of a transaction-response."""
    rows = []
    for entry, request in zip(answer.get("entry") or (), sent, strict=False):
        resource = entry.get("resource") or {}
        response = entry.get("response") or {}
        meta = resource.get("meta") or {}
        kind, _, rid = (response.get("location") or request["request"]["url"]).partition("/")
        rid = rid.split("/_history/")[0]
        version = meta.get("versionId") or (response.get("etag") or "").removeprefix('W/"').rstrip('"')
        rows.append(
            [
                resource.get("resourceType") or kind,
                resource.get("id") or rid,
                version,
                meta.get("lastUpdated") or response.get("lastModified") or "",
            ]
        )
    return rows


def fetch_orders(store: Store, dest: Destination, patient_id: int) -> list[dict[str, Any]]:
    """The active MedicationRequests the agency's server holds for one of the nurse's patients
    (found by the Patient id the app sends for that patient)."""
    from nurse_app.core.agency import AGENCY_SETTING, details_from_setting
    from nurse_app.reports.fhir import identifier_systems, patient_resource

    mrn_system, _ = identifier_systems(details_from_setting(store.get_setting(AGENCY_SETTING, {})))
    patient = patient_resource(store.get_patient(patient_id), mrn_system)
    query = urllib.parse.urlencode({"subject": f"Patient/{patient.id}", "status": "active"})
    request = urllib.request.Request(
        f"{dest.base_url}/MedicationRequest?{query}", headers={"Accept": "application/fhir+json"}
    )
    bearer = _bearer(dest)
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    try:
        status, body = _open(request, dest)
    except _Unreachable as exc:
        raise InputError(f"Orders not fetched: {exc}.") from None
    if status != 200:
        raise InputError(f"Orders not fetched: the agency server answered HTTP {status}.")
    bundle = json.loads(body)
    return [
        e["resource"]
        for e in bundle.get("entry") or ()
        if e.get("resource", {}).get("resourceType") == "MedicationRequest"
    ]


def request_is_for(store: Store, resource: Mapping[str, Any], patient_id: int) -> bool:
    """Whether a MedicationRequest read from a file names this patient (by MRN or by the
    Patient id the app sends)."""
    from nurse_app.core.agency import AGENCY_SETTING, details_from_setting
    from nurse_app.reports.fhir import identifier_systems, patient_resource

    mrn_system, _ = identifier_systems(details_from_setting(store.get_setting(AGENCY_SETTING, {})))
    row = store.get_patient(patient_id)
    subject = resource.get("subject") or {}
    ident = subject.get("identifier") or {}
    return subject.get("reference") == f"Patient/{patient_resource(row, mrn_system).id}" or (
        ident.get("value") == row["mrn"] and ident.get("system") in (None, mrn_system)
    )


# ----------------------------------------------------------------------------- outcome in words


def outcome_text(outcome: Mapping[str, Any]) -> str:
    """The server's OperationOutcome as sentences the nurse can read."""
    lines = []
    for issue in outcome.get("issue") or ():
        what = (
            (issue.get("details") or {}).get("text")
            or issue.get("diagnostics")
            or issue.get("code")
            or "error"
        )
        where = ", ".join(issue.get("expression") or issue.get("location") or ())
        lines.append(f"{what} ({where})" if where else str(what))
    return "; ".join(lines) or "The agency server refused it without saying why."


WHAT_TO_DO = (
    "A signed record cannot be changed: give this message to your agency's IT with the patient's MRN "
    "and the visit date. When they have changed their server, choose Send again."
)


def state_text(row: Mapping[str, Any] | None) -> str:
    """One line for the Patients page and the Visit header."""
    if row is None:
        return ""
    if row["state"] == SENT:
        return f"Sent to the agency {str(row['sent_at'])[:16].replace('T', ' ')} UTC"
    if row["state"] == REFUSED:
        return "Refused by the agency: " + outcome_text(row.get("refusal") or {})
    tries = f" (tried {row['attempts']} times: {row['last_error']})" if row.get("attempts") else ""
    return "Waiting to be sent to the agency" + tries


def state_short(row: Mapping[str, Any] | None) -> str:
    """One word for a table cell: sent, waiting or refused (the full line is :func:`state_text`)."""
    return "" if row is None else str(row["state"])


def state_help(row: Mapping[str, Any] | None) -> str:
    """The full line and, for a refusal, what to do (tooltips, the Visit header)."""
    if row is None:
        return ""
    text = state_text(row)
    return f"{text}\n{WHAT_TO_DO}" if row["state"] == REFUSED else text


# ----------------------------------------------------------------------------- sending


def backoff_until(attempts: int, now: dt.datetime | None = None) -> str:
    """When the next automatic try is due after ``attempts`` failed tries (UTC text)."""
    seconds = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, attempts))
    moment = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(seconds=seconds)
    return moment.isoformat(timespec="seconds")


def send_outbox(
    store: Store,
    dest: Destination,
    *,
    due_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SendResult:
    """Send every waiting row (``due_only``: only those whose backoff has passed, the quiet
    automatic try).  Stops at the first try that reaches no server (the rest stay waiting)."""
    items = store.outbox_due() if due_only else store.outbox((WAITING,))
    sent: list[int] = []
    refused: list[int] = []
    problem = ""
    bearer: str | None = None
    have_bearer = False
    for n, item in enumerate(items, 1):
        try:
            if not have_bearer:
                bearer, have_bearer = _bearer(dest), True
            receipt: list[list[str]] = []
            for part in parts(bundle_for(store, item), dest.max_entries):
                receipt += receipt_rows(_post(dest, bearer, part), part["entry"])
        except _Unreachable as exc:
            problem = str(exc)
            store.record_send_failure(item["id"], problem, backoff_until(int(item["attempts"])))
            break
        except _Refused as exc:
            store.record_refusal(item["id"], exc.outcome, dest.base_url)
            refused.append(item["id"])
            continue
        store.record_receipt(item["id"], receipt, dest.base_url)
        sent.append(item["id"])
        if progress is not None:
            progress(n, len(items))
    waiting = tuple(r["id"] for r in store.outbox((WAITING,)))
    return SendResult(tuple(sent), tuple(refused), waiting, problem)


# ------------------------------------------------------------------ bundles read from the record


def store_visit_bundle(store: Store, visit_id: int, timestamp: str | None = None) -> Any:
    """The transaction Bundle of one visit read from ``store`` (with the nurse profile)."""
    from nurse_app.reports.fhir import visit_bundle
    from nurse_app.services.visit_record import load_visit

    return visit_bundle(load_visit(store, visit_id), timestamp, store.nurse_profile())


def store_call_bundle(store: Store, call_id: int, timestamp: str | None = None) -> Any:
    """A signed follow-up call as a transaction: the patient and the call's Communication."""
    from nurse_app.core.agency import AGENCY_SETTING, details_from_setting
    from nurse_app.core.times import now_text
    from nurse_app.reports.fhir import (
        Bundle,
        _uuid,
        call_communication,
        identifier_systems,
        patient_resource,
        transaction_entry,
    )

    call = store.get_followup_call(call_id)
    mrn_system, _ = identifier_systems(details_from_setting(store.get_setting(AGENCY_SETTING, {})))
    patient = patient_resource(store.get_patient(call["patient_id"]), mrn_system)
    communication = call_communication(call, patient)
    return Bundle(
        id=_uuid("followup-call-bundle", call_id, call.get("created_at")),
        type="transaction",
        timestamp=timestamp or now_text(),
        entry=[transaction_entry(patient), transaction_entry(communication)],
    )
