"""A lot row says how it was made (typed or scanned); scanned rows carry the carton's GTIN and
serial, a serial once per visit, and the seal covers all of it."""

from __future__ import annotations

import datetime as dt

import pytest
from store_helpers import ready_visit

from nurse_app.services import carton
from nurse_app.store.errors import RecordValueError

PRIVIGEN_40 = "00344206439401"
NEXT = dt.date.today().year + 1


def _lot(store, vid, **kw):
    values = dict(
        product_id="privigen", lot_number="L1", expiry_date=f"{NEXT}-01-31", vial_size_g=40, vial_count=1
    )
    values.update(kw)
    return store.add_lot(vid, **values)


def test_typed_rows_say_typed_and_claim_no_code(store):
    vid = ready_visit(store)
    lot_id = _lot(store, vid)
    [row] = [r for r in store.visit_lots(vid) if r["id"] == lot_id]
    assert row["source"] == "typed" and row["serial"] is None and row["gtin"] is None
    with pytest.raises(RecordValueError, match="typed lot carries no GTIN or serial"):
        _lot(store, vid, serial="S1")
    with pytest.raises(RecordValueError, match="scanned lot needs the carton's GTIN"):
        _lot(store, vid, source="scanned", serial="S1")
    with pytest.raises(RecordValueError, match="14 digits"):
        _lot(store, vid, source="scanned", gtin="123", serial="S1")
    with pytest.raises(RecordValueError):
        _lot(store, vid, source="photocopied")


def test_one_serial_once_per_visit_and_a_refused_scan_writes_nothing(store):
    vid = ready_visit(store)
    before = len(store.visit_lots(vid))
    text = f"(01){PRIVIGEN_40}(17){NEXT % 100:02d}1231(10)L7(21)S1"
    wrong = carton.read_for_visit(store, vid, text.replace(PRIVIGEN_40, "00300696550026"))
    assert wrong.refused.startswith("Wrong product")
    with pytest.raises(Exception, match="Wrong product"):
        carton.record_scan(store, vid, wrong)
    assert len(store.visit_lots(vid)) == before  # a refused scan writes nothing
    read = carton.read_for_visit(store, vid, text)
    assert read.accepted
    carton.record_scan(store, vid, read)
    again = carton.read_for_visit(store, vid, text)
    assert "already scanned" in again.refused
    with pytest.raises(RecordValueError, match="already recorded in this visit"):
        _lot(store, vid, source="scanned", gtin=PRIVIGEN_40, serial="S1")
    assert len(store.visit_lots(vid)) == before + 1


def test_the_serial_is_part_of_the_sealed_content(store):
    from nurse_app.store import hashing

    vid = ready_visit(store)
    _lot(store, vid, source="scanned", gtin=PRIVIGEN_40, serial="SEAL1")
    visit = store.get_visit(vid)
    children = {"product_lots": store.visit_lots(vid)}
    before = hashing.content_hash(visit, children)
    children["product_lots"][-1]["serial"] = "SEAL2"
    assert hashing.content_hash(visit, children) != before  # the serial is part of the sealed content
