"""``nurse-app schedule`` through cli.main: list, --json, --ics (parsed back with icalendar),
--pdf (read back with pypdf); the service's bulk read against the record file."""

from __future__ import annotations

import datetime as dt
import json
import time

import icalendar
import pytest
from pypdf import PdfReader

from nurse_app.cli import main
from nurse_app.services.schedule import build_schedule
from nurse_app.store import Store, demo

TODAY = dt.date.today()


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    path = tmp_path_factory.mktemp("sched") / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        demo.add_week_examples(store, TODAY)
    return path


def run_json(record, capsys, *extra):
    assert main(["--db", str(record), "schedule", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def by_name(items, name):
    return [i for i in items if i["label"].startswith(name)]


def test_json_has_exactly_the_specified_keys_and_the_week_examples(record, capsys):
    items = run_json(record, capsys)
    assert items and all(
        list(i) == ["date", "kind", "patient_id", "order_id", "visit_id", "status", "label"] for i in items
    )
    assert [i["date"] for i in items] == sorted(i["date"] for i in items)
    # mid-course: day 3 of 5 due today, no visit yet
    hana = by_name(items, "Hana Novák")
    today = [i for i in hana if i["date"] == TODAY.isoformat()]
    assert today[0]["kind"] == "course-day" and today[0]["status"] == "due"
    assert today[0]["visit_id"] is None and "day 3 of 5" in today[0]["label"]
    assert " g a day" in today[0]["label"]  # expected dose from the dose engine
    # a missed course, and the next one due
    luis = by_name(items, "Luis Fernández")
    assert {i["status"] for i in luis if i["kind"] == "course-day"} == {"missed", "due"}
    # the rash call signed this week is done; the other one is due
    grace = [i for i in by_name(items, "Grace MacLeod") if i["kind"] == "rash-check-call"]
    assert grace[0]["status"] == "done"
    omar = [i for i in by_name(items, "Omar Haddad") if i["kind"] == "rash-check-call"]
    assert omar[0]["status"] == "due"


def test_from_and_days_limit_the_range(record, capsys):
    start = TODAY + dt.timedelta(days=1)
    items = run_json(record, capsys, "--from", start.isoformat(), "--days", "2")
    in_range = [i for i in items if i["status"] not in ("late", "missed")]
    assert in_range and all(
        start.isoformat() <= i["date"] < (start + dt.timedelta(days=2)).isoformat()
        or i["kind"] != "course-day"
        for i in in_range
    )
    assert "day 4 of 5" in " ".join(i["label"] for i in by_name(items, "Hana Novák"))


def test_partial_day_from_a_stopped_infusion(record):
    with Store.open(record) as store:
        schedule = build_schedule(store, TODAY - dt.timedelta(days=13), days=14)
    omar = [i for i in schedule.items if i.patient_name == "Omar Haddad" and i.kind == "course-day"]
    assert [i.status for i in omar] == ["done", "done", "done", "partial", "done"]
    assert "stopped before finishing" in omar[3].label


def test_plain_listing(record, capsys):
    assert main(["--db", str(record), "schedule"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Schedule {TODAY.isoformat()} to ") and "late or missed" in out


def test_ics_has_every_item_with_initials_unless_full_names(record, capsys, tmp_path):
    items = run_json(record, capsys)
    out = tmp_path / "week.ics"
    assert main(["--db", str(record), "schedule", "--ics", str(out)]) == 0
    assert "patient information" in capsys.readouterr().out
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(items)
    text = "\n".join(str(e["summary"]) for e in events)
    assert "Hana Novák" not in text and "H.N. (DEMO-000001)" in text
    assert all("patient information" in str(e["description"]) for e in events)
    first = next(e for e in events if "H.N." in str(e["summary"]) and e.decoded("dtstart") == TODAY)
    assert first.decoded("dtend") == TODAY + dt.timedelta(days=1)
    full = tmp_path / "full.ics"
    assert main(["--db", str(record), "schedule", "--ics", str(full), "--full-names"]) == 0
    assert "Hana Novák" in icalendar.Calendar.from_ical(full.read_bytes()).to_ical().decode()


def test_week_sheet_pdf_reads_back(record, capsys, tmp_path):
    out = tmp_path / "week.pdf"
    assert main(["--db", str(record), "schedule", "--pdf", str(out)]) == 0
    reader = PdfReader(out)
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Contains patient information" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "Hana Novák" in text and "day 3 of 5" in text and "missed" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["schedule", "--from", "2025-13-01"], "a date is YYYY-MM-DD"),
        (["schedule", "--days", "0"], "from 1 to 366"),
        (["schedule", "--json", "--ics", "x.ics"], "not allowed with"),
    ],
)
def test_bad_arguments_are_one_line(record, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(record), *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_no_record_is_a_message_not_a_new_file(tmp_path, capsys):
    missing = tmp_path / "none.db"
    assert main(["--db", str(missing), "schedule"]) == 2
    assert "no patient record" in capsys.readouterr().err and not missing.exists()


def test_visit_date_is_the_local_day_across_a_dst_change(tmp_path, monkeypatch):
    """A visit at 23:30 local on the night the clocks change belongs to that local day."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        with Store.open(tmp_path / "dst.db") as store:
            store.set_nurse_profile("Maria Santos", "RN")
            pid = store.create_patient(mrn="D1", name="Ann Lee", date_of_birth="1970-01-01", sex="female")
            oid = store.create_order(
                pid,
                product_id="privigen",
                regimen_id="pi-replacement",
                dose_g_per_kg=0.4,
                course_days=1,
                interval_days=21,
                start_date="2025-03-08",
                prescriber="Dr. K",
            )
            # 2025-03-09 03:30 UTC is 2025-03-08 22:30 EST, the night before clocks go forward
            store.create_visit(pid, order_id=oid, started_at="2025-03-09T03:30:00+00:00")
            schedule = build_schedule(store, dt.date(2025, 3, 8), days=30, today=dt.date(2025, 3, 9))
        days = [i for i in schedule.items if i.kind == "course-day"]
        assert days[0].date == dt.date(2025, 3, 8) and days[0].visit_id is not None
        assert days[1].date == dt.date(2025, 3, 29)  # 21 calendar days later
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_demo_data_week_examples_show_on_the_schedule(tmp_path, capsys):
    db = tmp_path / "demo.db"
    assert main(["--db", str(db), "demo-data", "--patients", "2", "--week-examples"]) == 0
    capsys.readouterr()
    items = run_json(db, capsys)
    statuses = {(i["kind"], i["status"]) for i in items}
    assert ("course-day", "due") in statuses and ("course-day", "missed") in statuses
    assert ("rash-check-call", "done") in statuses
