"""Issue 20 §4, the nurse's week through ``nurse-app schedule`` (cli.main): the dermatomyositis
review at about 4 months, rash calls after the first courses of a product only (agency policy
can widen), the kidney check for a patient over 65 without the renal flag (the dose engine's
age rule), and an order with no visit for more than two intervals shown once as "order may be
inactive — confirm with the pharmacy" (list, --json, --ics, --pdf)."""

from __future__ import annotations

import datetime as dt
import json

import icalendar
import pytest
from pypdf import PdfReader
from week_helpers import add_week20_patients

from nurse_app.cli import main
from nurse_app.core import policy
from nurse_app.store import Store

TODAY = dt.date.today()
INACTIVE = "order may be inactive — confirm with the pharmacy"


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    path = tmp_path_factory.mktemp("week20") / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        add_week20_patients(store, TODAY)
    return path


def schedule(record, capsys, *extra) -> list[dict]:
    assert main(["--db", str(record), "schedule", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def of(items, name, kind=None):
    return [i for i in items if i["label"].startswith(name) and (kind is None or i["kind"] == kind)]


def test_dermatomyositis_gets_a_response_review_at_about_4_months(record, capsys):
    reviews = of(schedule(record, capsys), "Dora Mill", "response-review")
    assert [r for r in reviews if "Response review at 4 months" in r["label"]], reviews
    four = next(r for r in reviews if "4 months" in r["label"])
    assert four["date"] == (TODAY - dt.timedelta(days=114) + dt.timedelta(days=112)).isoformat()


def test_rash_call_follows_only_the_first_courses_of_a_product(record, capsys):
    items = schedule(record, capsys)
    assert not of(items, "Piet Long", "rash-check-call"), "course 5 of the same product: no rash call"
    switched = of(items, "Sana Wick", "rash-check-call")
    assert len(switched) == 1 and "after course 1" in switched[0]["label"], switched
    assert switched[0]["status"] == "due"


def test_agency_policy_can_widen_the_rash_rule_to_every_course(record, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv(policy.ENV_VAR, raising=False)
    path = tmp_path / "policy.toml"
    path.write_text("[followups.rash-check-call]\nfirst_courses = 0\n", encoding="utf-8")
    try:
        assert main(["--policy", str(path), "--db", str(record), "schedule", "--json"]) == 0
        items = json.loads(capsys.readouterr().out)
    finally:
        policy.set_policy_path(None)
    piet = of(items, "Piet Long", "rash-check-call")
    assert any("after course 5" in i["label"] and i["status"] == "due" for i in piet), piet
    # ... but may not narrow it below the packaged rule.
    path.write_text("[followups.rash-check-call]\nfirst_courses = 1\n", encoding="utf-8")
    try:
        assert main(["--policy", str(path), "--db", str(record), "schedule", "--json"]) == 2
    finally:
        policy.set_policy_path(None)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "widen" in err[0]


def test_patient_over_65_without_the_renal_flag_gets_the_kidney_check(record, capsys):
    checks = [i for i in of(schedule(record, capsys), "Olga Grey", "lab") if "Kidney" in i["label"]]
    assert checks and "age over 65" in checks[0]["label"], checks
    # The same age rule (core.age_rules) as the dose engine's prompt: 72 is over, 65 is not.
    for age, prompted in (("72", True), ("65", False)):
        assert main(["calc", "--product", "privigen", "--weight", "65kg", "--regimen", "cidp-maintenance",
                     "--age", age, "--json"]) == 0  # fmt: skip
        codes = {w["code"] for w in json.loads(capsys.readouterr().out)["warning_details"]}
        assert ("age-renal-risk" in codes) is prompted


def test_an_order_without_visits_for_two_intervals_is_flagged_not_piled_up(record, capsys, tmp_path):
    items = of(schedule(record, capsys), "Ivo Stale")
    assert [i["kind"] for i in items] == ["order-check"], items
    assert INACTIVE in items[0]["label"] and items[0]["date"] == TODAY.isoformat()
    # The plain list, the iCalendar file and the week sheet say the same.
    assert main(["--db", str(record), "schedule"]) == 0
    listing = [line for line in capsys.readouterr().out.splitlines() if "Ivo Stale" in line]
    assert len(listing) == 1 and INACTIVE in listing[0]
    ics = tmp_path / "week.ics"
    assert main(["--db", str(record), "schedule", "--ics", str(ics), "--full-names"]) == 0
    events = [
        e
        for e in icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
        if "Ivo Stale" in str(e["summary"])
    ]
    assert len(events) == 1 and "Order may be inactive" in str(events[0]["summary"])
    pdf = tmp_path / "week.pdf"
    assert main(["--db", str(record), "schedule", "--pdf", str(pdf)]) == 0
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages)
    assert "confirm with the pharmacy" in text and "course 2 not started" not in text
    capsys.readouterr()
