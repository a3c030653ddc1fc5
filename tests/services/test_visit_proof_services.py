"""The Week page's course days say when the nurse arrived and left (issue 23), from the visit's
arrival and departure, not the infusion's times."""

from __future__ import annotations

import datetime as dt

from store_helpers import open_store, ready_visit

from nurse_app.services.schedule import build_schedule
from nurse_app.store.times import to_local


def test_a_given_course_day_shows_arrival_departure_and_time_in_the_home(tmp_path):
    with open_store(tmp_path / "record.db") as store:
        visit = ready_visit(store)  # arrived 09:00 UTC, left 13:30 UTC; infusion 09:10 to 13:00
        store.sign_visit(visit)
        schedule = build_schedule(store, dt.date(2024, 6, 1), 1, today=dt.date(2024, 6, 1))
        [item] = [i for i in schedule.items if i.visit_id == visit]
        arrived = to_local("2024-06-01T09:00:00.000Z")
        left = to_local("2024-06-01T13:30:00.000Z")
        assert f"Arrived {arrived:%H:%M}, left {left:%H:%M} (4 h 30 min in the home)" in item.detail
