"""GS1 carton codes: every form a scanner or a person hands over, and every refusal in words."""

from __future__ import annotations

import datetime as dt

import pytest

from nurse_app.core.carton import (
    CartonCode,
    gs1_check_digit,
    gtin_from_ndc,
    looks_like_scan_start,
    ndc_digits_from_gtin,
    parse_carton,
    refusal,
)
from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.errors import InputError

PRIVIGEN_40 = "00344206439401"  # NDC 44206-439-40 (openFDA, P52)
RAW = f"]d201{PRIVIGEN_40}17271200" + "10ABC123\x1d21SER0001"


@pytest.mark.parametrize(
    ("text", "form"),
    [
        (RAW, "raw"),
        (RAW + "\r\n", "raw"),  # the scanner's Enter
        (f"01{PRIVIGEN_40}1727120010ABC123<GS>21SER0001", "<GS>"),
        (f"]d201{PRIVIGEN_40}1727120010ABC123<gs>21SER0001", "<GS>"),
        (f"(01){PRIVIGEN_40}(17)271200(10)ABC123(21)SER0001", "human-readable"),
        (f"\x1d01{PRIVIGEN_40}1727120010ABC123\x1d21SER0001", "raw"),  # leading FNC1 as GS
    ],
)
def test_every_form_gives_the_same_carton(text, form):
    code = parse_carton(text)
    assert code == CartonCode(PRIVIGEN_40, "ABC123", dt.date(2027, 12, 31), "SER0001", form)


def test_expiry_day_00_is_the_last_day_of_that_month():
    assert parse_carton(f"(01){PRIVIGEN_40}(17)280200(10)L1").expiry == dt.date(2028, 2, 29)
    assert parse_carton(f"(01){PRIVIGEN_40}(17)270215(10)L1").expiry == dt.date(2027, 2, 15)


def test_a_variable_length_lot_at_the_end_needs_no_separator():
    code = parse_carton(f"01{PRIVIGEN_40}1727063021SN99\x1d10LOT-7734X")
    assert (code.lot, code.serial) == ("LOT-7734X", "SN99")


def test_serial_is_optional_lot_and_expiry_are_not():
    assert parse_carton(f"(01){PRIVIGEN_40}(17)271231(10)ABC").serial is None
    with pytest.raises(InputError, match=r"no lot \(AI 10\)"):
        parse_carton(f"(01){PRIVIGEN_40}(17)271231(21)S1")
    with pytest.raises(InputError, match=r"no expiry \(AI 17\) and no lot"):
        parse_carton(f"01{PRIVIGEN_40}")
    with pytest.raises(InputError, match="no product number"):
        parse_carton("(17)271231(10)ABC")


def test_a_bad_check_digit_is_refused_in_words():
    with pytest.raises(InputError, match="fails its check digit"):
        parse_carton(f"(01){PRIVIGEN_40[:-1]}9(17)271231(10)ABC")


@pytest.mark.parametrize(
    "text", ["", "   ", "garbage", "hello world", "]d2", "(01)12", "01" + "9" * 40, "\x1b[31m"]
)
def test_garbage_is_one_clear_sentence(text):
    with pytest.raises(InputError) as info:
        parse_carton(text)
    assert "\n" not in str(info.value) and str(info.value).endswith((".", ")"))


def test_an_impossible_expiry_is_refused():
    with pytest.raises(InputError, match="not a GS1 carton code"):
        parse_carton(f"(01){PRIVIGEN_40}(17)271332(10)ABC")


def test_ndc_and_gtin_follow_the_gs1_us_rule():
    assert gtin_from_ndc("0944-2705-10") == "00309442705109"  # checked by biip as well
    assert gtin_from_ndc("44206-439-40") == PRIVIGEN_40
    assert ndc_digits_from_gtin(PRIVIGEN_40) == "4420643940"
    assert ndc_digits_from_gtin("04012345678901") is None  # not an NDC GTIN
    assert gs1_check_digit("0034420643940") == 1
    with pytest.raises(InputError):
        gtin_from_ndc("1234")


def test_every_catalogue_ndc_has_a_source_and_a_valid_gtin_and_maps_back():
    catalogue = load_catalogue()
    coded = [(p, v) for p in catalogue.products.values() for v in p.vials if v.ndc]
    assert coded, "some packages carry an NDC"
    gtins = [v.gtin for _p, v in coded]
    assert len(set(gtins)) == len(gtins)
    for product, vial in coded:
        assert vial.ndc_source in catalogue.sources
        assert catalogue.package(vial.gtin) == (product, vial)
        parse_carton(f"(01){vial.gtin}(17)301231(10)X")  # the derived GTIN passes biip's check
    assert catalogue.package("00300000000000") is None


def test_scanner_burst_starts():
    for start in ("]", "]d", "]d2", "0", "01", "0100344", "(", "(01", "(01)003"):
        assert looks_like_scan_start(start), start
    for other in ("a", "1", "02", "]x", "(1", "Lot"):
        assert not looks_like_scan_start(other), other


def _refusal(code, **kw):
    args = dict(
        product_id="privigen",
        expected_product_id="privigen",
        expected_product_name="Privigen 10 %",
        found_product_name="Privigen 10 %",
        needed_until=dt.date(2026, 12, 8),
        today=dt.date(2026, 12, 8),
        serials_seen=(),
    )
    args.update(kw)
    return refusal(code, **args)


def test_refusals_say_why_and_a_good_carton_passes():
    code = parse_carton(f"(01){PRIVIGEN_40}(17)270131(10)ABC(21)S1")
    assert _refusal(code) is None
    assert "Unknown product code" in _refusal(code, product_id=None)
    wrong = _refusal(code, product_id="octagam-10", found_product_name="Octagam 10%")
    assert wrong.startswith("Wrong product: this carton is Octagam 10%, the order is for Privigen 10 %")
    assert "Expired carton" in _refusal(code, today=dt.date(2027, 2, 1), needed_until=dt.date(2027, 2, 1))
    late = _refusal(code, today=dt.date(2027, 1, 31), needed_until=dt.date(2027, 2, 1))
    assert "before the infusion is expected to end (1 Feb 2027)" in late
    assert "already scanned in this visit" in _refusal(code, serials_seen={"S1"})
    assert (
        _refusal(code, today=dt.date(2027, 1, 31), needed_until=dt.date(2027, 1, 31)) is None
    )  # valid through its day
