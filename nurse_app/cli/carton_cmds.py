"""``nurse-app carton``: read a scanned carton code (or a photo of it) and say what it is.

    nurse-app carton "]d201003442064394011727120010ABC123<GS>21SER1" [--product ID] [--json]
    nurse-app carton --image carton.png [--product ID] [--json]

Prints the product, NDC, GTIN, lot, expiry and serial, or why the carton is refused (wrong
product, expired, unknown GTIN, bad check digit) with exit status 2.  Needs no record.
"""

from __future__ import annotations

import argparse
import json

from nurse_app.core.errors import InputError
from nurse_app.services.carton import decode_image, read_alone

EXIT_REFUSED = 2


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "carton",
        help="read a scanned carton code (GS1 DataMatrix text, or --image FILE)",
        description="Read a carton's GS1 code: product, NDC, GTIN, lot, expiry and serial, or why "
        "it is refused (exit 2). FNC1 separators may be typed as <GS>.",
    )
    p.add_argument("text", nargs="?", help="the scanned text (]d2…, 01…, or (01)…(17)…(10)…(21)…)")
    p.add_argument("--image", metavar="FILE", help="decode the code from a photo or picture file instead")
    p.add_argument("--product", metavar="ID", help="refuse a carton of any other product (the order's)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_carton)


def _printable(text: str) -> str:
    return "".join("<GS>" if c == "\x1d" else c if c.isprintable() else "?" for c in text)


def run_carton(args: argparse.Namespace) -> int:
    if (args.text is None) == (args.image is None):
        raise InputError("Give the scanned text or --image FILE (one of the two).")
    if args.image is not None:
        codes = decode_image(args.image)
        if not codes:
            raise InputError(f"No carton code was found in {args.image}: photograph the square code closer.")
        text = codes[0]
    else:
        text = args.text
    read = read_alone(text, args.product)
    if args.json:
        print(json.dumps({"scanned": _printable(text), **read.as_dict()}, indent=2, ensure_ascii=False))
    elif read.accepted:
        print(read.describe())
    else:
        if read.code is not None:
            print(read.describe())
    if not read.accepted:
        import sys

        print(f"refused: {read.refused}", file=sys.stderr)
        return EXIT_REFUSED
    return 0
