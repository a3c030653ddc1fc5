"""The short, readable form of a seal: what a person can compare by eye or read aloud.

A seal is a content hash (``sha256:`` and 64 hex digits) and the position of its signing
entry in the record's audit chain.  The short form keeps the first 80 bits of the hash
in upper-case groups of four, and the chain position::

    short_seal("sha256:3f7a92c1...", 1234)  ->  "3F7A-92C1-0B4D-E8A2-55C0 · chain #1234"

Eighty bits are far more than anyone can forge a match for by trial, and short enough to
print on a summary or read over the phone.  Every place that shows a seal (the summary
PDF, the FHIR Provenance, ``nurse-app seals``) calls this one function.
"""

from __future__ import annotations

SHORT_HEX_DIGITS = 20
GROUP = 4


def short_seal(content_hash: str, chain_position: int | None = None) -> str:
    """``"3F7A-92C1-0B4D-E8A2-55C0 · chain #1234"`` (no position: the hash part only)."""
    algorithm, _, digits = content_hash.partition(":")
    hex_digits = (digits or algorithm).upper()[:SHORT_HEX_DIGITS]
    grouped = "-".join(hex_digits[i : i + GROUP] for i in range(0, len(hex_digits), GROUP))
    return grouped if chain_position is None else f"{grouped} \u00b7 chain #{chain_position}"
