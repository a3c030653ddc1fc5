"""Run every benchmark script in this folder, one after another (``make bench``).

Each script prints its own figures; this only runs them and stops on the first failure.
Pass ``--quick`` for small store benchmarks (500 patients instead of 5000; a patient list of
200 instead of 1000; 50 visits handed off instead of 1000).
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    for script in sorted(HERE.glob("bench_*.py")):
        args = [sys.executable, str(script)]
        if quick and script.name == "bench_store.py":
            args += ["--patients", "500"]
        if quick and script.name == "bench_patient_list.py":
            args += ["--patients", "200"]
        if quick and script.name == "bench_handoff.py":
            args += ["--quick"]
        print(f"== {script.name}", flush=True)
        code = subprocess.call(args)
        if code:
            print(f"{script.name} failed with exit status {code}", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
