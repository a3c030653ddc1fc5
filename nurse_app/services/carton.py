"""Scanning a carton into a visit's lots (no Qt).

* :func:`read_for_visit` - what a scan says and whether this visit may use that carton: the
  code parsed (core ``carton.parse_carton``), its package found in the catalogue by GTIN, and
  the checks against the visit (the order's product, expiry against the end of the infusion,
  a serial already recorded).  It writes nothing: a refused scan leaves the record as it was.
* :func:`record_scan` - the lot row of an accepted scan, marked ``scanned`` with its GTIN and
  serial (one vial: each carton is scanned on its own).
* :func:`read_alone` - the same reading without a visit (``nurse-app carton``).
* :func:`decode_image` - the GS1 codes in a photo, a camera frame or a clipboard image
  (zxing-cpp; anything it reads: a file path, a QImage, a PIL image or a numpy array).

The Lots tab (scanner burst, camera, image file, clipboard) and the command line call these, so
the same checks hold however the carton was read.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nurse_app.core.carton import CartonCode, parse_carton, refusal
from nurse_app.core.catalogue import Product, VialSize, load_catalogue
from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_date, fmt_qty
from nurse_app.core.visit_logic import START
from nurse_app.core.visit_record import VisitRecord
from nurse_app.store import Store
from nurse_app.store.times import now_utc, to_local


def _local(moment: _dt.datetime) -> _dt.datetime:
    return moment.astimezone()


SCANNED = "scanned"


@dataclass(frozen=True)
class CartonRead:
    """One scan: what was read (``code``), the package it is, and why it is refused (if it is)."""

    code: CartonCode | None
    product: Product | None
    vial: VialSize | None
    refused: str | None

    @property
    def accepted(self) -> bool:
        return self.refused is None

    def describe(self) -> str:
        """What was read, in one line (product, pack, NDC, GTIN, lot, expiry, serial)."""
        if self.code is None:
            return ""
        parts = []
        if self.product is not None and self.vial is not None:
            parts.append(
                f"{self.product.display_name} {fmt_qty(self.vial.grams, 'g')} / {fmt_qty(self.vial.ml, 'mL')}"
            )
            ndc = f"NDC {self.vial.ndc}" + ("" if self.vial.ndc_verified else " (UNVERIFIED)")
            parts.append(ndc)
        parts += [
            f"GTIN {self.code.gtin}",
            f"lot {self.code.lot}",
            f"expires {fmt_date(self.code.expiry)}",
            f"serial {self.code.serial}" if self.code.serial else "no serial in the code",
        ]
        return " · ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        code = self.code
        return {
            "accepted": self.accepted,
            "refused": self.refused,
            "product": self.product.id if self.product else None,
            "product_name": self.product.display_name if self.product else None,
            "vial_size_g": self.vial.grams if self.vial else None,
            "vial_ml": self.vial.ml if self.vial else None,
            "ndc": self.vial.ndc if self.vial else None,
            "ndc_verified": self.vial.ndc_verified if self.vial and self.vial.ndc else None,
            "gtin": code.gtin if code else None,
            "lot": code.lot if code else None,
            "expiry": code.expiry.isoformat() if code else None,
            "serial": code.serial if code else None,
            "form": code.form if code else None,
        }


def _read(
    text: str,
    *,
    expected_product_id: str | None,
    needed_until: _dt.date,
    today: _dt.date,
    serials_seen: set[str],
) -> CartonRead:
    try:
        code = parse_carton(text)
    except InputError as exc:
        return CartonRead(None, None, None, str(exc))
    catalogue = load_catalogue()
    package = catalogue.package(code.gtin)
    product, vial = package if package else (None, None)
    expected = catalogue.products.get(expected_product_id) if expected_product_id else None
    why = refusal(
        code,
        product_id=product.id if product else None,
        expected_product_id=expected_product_id,
        expected_product_name=expected.display_name if expected else str(expected_product_id),
        found_product_name=product.display_name if product else None,
        needed_until=needed_until,
        today=today,
        serials_seen=serials_seen,
    )
    return CartonRead(code, product, vial, why)


def read_alone(text: str, product_id: str | None = None, now: _dt.datetime | None = None) -> CartonRead:
    """A scan read without a visit: refused when it is not ``product_id``'s, or expired today."""
    if product_id is not None:
        load_catalogue().product(product_id)  # an unknown --product is the caller's mistake
    today = _local(now or now_utc()).date()
    return _read(text, expected_product_id=product_id, needed_until=today, today=today, serials_seen=set())


def infusion_end(record: VisitRecord, now: _dt.datetime) -> _dt.datetime:
    """When the day's infusion is expected to end: its start (or now) plus the planned minutes."""
    starts = [e for e in record.infusion_events if e["kind"] == START and not e.get("corrected_at")]
    begin = to_local(starts[0]["occurred_at"]) if starts else _local(now)
    minutes = float(record.calculation.get("infusion_minutes_per_day") or 0)
    return begin + _dt.timedelta(minutes=minutes)


def read_for_visit(store: Store, visit_id: int, text: str, now: _dt.datetime | None = None) -> CartonRead:
    """What the scan ``text`` says, and whether this visit may use that carton (writes nothing).
    The visit is read as every screen reads it (:func:`nurse_app.services.visit_record.load_visit`):
    its order's product (else the calculation's), its lots' serials and its infusion's start."""
    from nurse_app.services.visit_record import load_visit

    moment = now or now_utc()
    record = load_visit(store, visit_id)
    product = (record.order or {}).get("product_id") or record.calculation.get("product")
    serials = {str(lot["serial"]) for lot in record.lots if lot.get("serial")}
    return _read(
        text,
        expected_product_id=str(product) if product else None,
        needed_until=infusion_end(record, moment).date(),
        today=_local(moment).date(),
        serials_seen=serials,
    )


def record_scan(store: Store, visit_id: int, read: CartonRead) -> int:
    """The lot row of an accepted scan (one carton, one vial); refuses a refused scan."""
    if not read.accepted or read.code is None or read.product is None or read.vial is None:
        raise InputError(read.refused or "Nothing was scanned.", "carton")
    return store.add_lot(
        visit_id,
        product_id=read.product.id,
        lot_number=read.code.lot,
        expiry_date=read.code.expiry.isoformat(),
        vial_size_g=read.vial.grams,
        vial_count=1,
        source=SCANNED,
        serial=read.code.serial,
        gtin=read.code.gtin,
    )


def decode_image(image: object) -> list[str]:
    """The GS1 codes (raw text, GS separators kept) of every DataMatrix or GS1 code in ``image``.

    ``image`` is a file path, or any image zxing-cpp reads (QImage, PIL image, numpy array).
    :class:`InputError` when a file cannot be read as an image.
    """
    import zxingcpp

    if isinstance(image, (str, Path)):
        path = Path(image)
        image = _load_image_file(path)
    formats = zxingcpp.barcode_formats_from_str("DataMatrix,QRCode,Code128")
    found = zxingcpp.read_barcodes(image, formats=formats, text_mode=zxingcpp.TextMode.Plain)
    return [b.symbology_identifier + b.text if b.symbology_identifier == "]d2" else b.text for b in found]


def _load_image_file(path: Path) -> object:
    """A grey-scale image of a photo or picture file (Pillow, which reportlab already needs)."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise InputError(f"{path} is not a file: choose a photo or picture of the carton's code.", "carton")
    try:
        with Image.open(path) as picture:
            return picture.convert("L")
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(
            f"{path.name} could not be read as a picture ({exc.__class__.__name__}).", "carton"
        ) from None
