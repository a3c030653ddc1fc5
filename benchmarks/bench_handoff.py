"""Hand-off to the agency: signed visits sent to the test FHIR server (Medplum's router,
tests/fhir_server/, Node.js on 127.0.0.1), and what the receipts cost the record.

A demo record is made with about ``--visits`` signed visits (each signing queued one outbox
row in its own transaction); the whole outbox is then sent with :func:`send_outbox` (one or more
transactions of PUTs per visit) and timed.  Reported:

* visits/s      -- signed visits sent per second (bundle building, HTTP, server, receipts);
* growth        -- record file growth per receipt (bytes of file after - before, per visit sent),
                   and the receipt's own JSON size;
* again         -- the same visits sent again (no receipt lost here, so nothing is sent: the
                   check is that nothing is duplicated).

Run:  .venv/bin/python benchmarks/bench_handoff.py [--visits 1000] [--quick]   (--quick: 50 visits)
Skips (exit 0) when Node.js is not installed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fhir_server_helpers import FhirServer
from visit_export_helpers import open_record

from nurse_app.services import handoff
from nurse_app.store import Store, demo, keys

keys.unlock("benchmark passphrase, not a secret")  # the record is encrypted (issue 13)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1000, help="signed visits to send (1000)")
    parser.add_argument("--quick", action="store_true", help="50 visits")
    args = parser.parse_args()
    wanted = 50 if args.quick else args.visits
    if shutil.which("node") is None:
        print("bench_handoff: skipped, Node.js is not installed (the test FHIR server needs it)")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "record.db"
        started = time.perf_counter()
        with open_record(path) as store:
            # Demo patients have about 4 signed visits each (1367 from 334): send them all.
            patients = max(1, wanted // 4 + 1)
            demo.generate(store, patients, seed=1)
            queued = len(store.outbox())
        made = time.perf_counter() - started
        size_before = path.stat().st_size + _wal(path)
        server = FhirServer().start()
        try:
            with Store.open(path) as store:
                dest = handoff.Destination(server.base)
                started = time.perf_counter()
                result = handoff.send_outbox(store, dest)
                took = time.perf_counter() - started
                again = handoff.send_outbox(store, dest)
                receipts = [r["receipt"] for r in store.outbox(("sent",))]
                store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size_after = path.stat().st_size + _wal(path)
            on_server = server.count("Encounter")
        finally:
            server.stop()
    sent = len(result.sent)
    receipt_bytes = sum(len(json.dumps(r, separators=(",", ":"))) for r in receipts) / max(1, len(receipts))
    print(f"record: {queued} signed visits from {patients} demo patients, made in {made:.1f} s")
    print(
        f"sent:   {sent} visits in {took:.1f} s = {sent / took:.1f} visits/s; refused {len(result.refused)}"
    )
    print(f"again:  {len(again.sent)} sent (nothing waiting); server holds {on_server} Encounters")
    print(
        f"growth: {(size_after - size_before) / max(1, sent) / 1024:.1f} KiB of record file per receipt "
        f"(receipt JSON {receipt_bytes / 1024:.1f} KiB)"
    )
    return 0 if sent == queued and on_server == queued and not again.sent else 1


def _wal(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


if __name__ == "__main__":
    raise SystemExit(main())
