"""Issue 22 §2: the signed visit's seal leaves the laptop on the summary the patient keeps,
in the same short form as the seal list (one function, core.seal_text.short_seal)."""

from __future__ import annotations

from pdf_fonts import pdf_text
from store_helpers import open_store, ready_visit

from nurse_app.core.seal_text import short_seal
from nurse_app.store import seals
from nurse_app.store.database import open_read_only


def test_the_summary_pdf_prints_the_short_seal_and_its_chain_position(tmp_path, cli):
    path = tmp_path / "record.db"
    with open_store(path) as store:
        visit = ready_visit(store)
        store.sign_visit(visit)
    out = tmp_path / "visit.pdf"
    assert cli("--db", path, "visit-pdf", visit, "--out", out).returncode == 0
    conn = open_read_only(path)
    (entry,) = [e for e in seals.seal_entries(conn) if e.kind == "visit"]
    conn.close()
    assert entry.chain_position is not None
    short = short_seal(entry.content_hash, entry.chain_position)
    assert short == entry.short and f"chain #{entry.chain_position}" in short
    text = " ".join(pdf_text(out).split())
    assert short in text


def test_short_seal_groups_the_first_eighty_bits():
    digest = "sha256:" + "3f7a92c10b4de8a255c0" + "0" * 44
    assert short_seal(digest, 1234) == "3F7A-92C1-0B4D-E8A2-55C0 \u00b7 chain #1234"
    assert short_seal(digest) == "3F7A-92C1-0B4D-E8A2-55C0"
