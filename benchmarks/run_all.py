"""Run every benchmark in this folder, one after another (``make bench``; CI runs ``--quick``).

Each script prints its own figures; this only runs them and stops on the first failure.  The
records they make are encrypted like every record: all of them get one throw-away passphrase
for this run in ``NURSE_APP_PASSPHRASE`` (unless it is already set), never printed.

``--quick``: smaller records and fewer rounds, for CI (a store of 500 patients instead of 5,000,
the patient list and the schedule on 200 instead of 1,000, fewer repeats, start-up with 5 cold
runs); the figures to compare with a goal come from a full run.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _passphrase import ENV_VAR, throwaway

# Extra arguments of each script under --quick (a script not listed runs as it is).
QUICK = {
    "bench_store.py": ["--patients", "500", "--repeat", "10"],
    "bench_encryption.py": ["--patients", "300", "--repeat", "10"],
    "bench_patient_list.py": ["--patients", "200", "--repeat", "5"],
    "bench_schedule.py": ["--patients", "200", "--repeat", "5"],
    "bench_unlock.py": ["--patients", "200", "--runs", "3"],
    "bench_visit_pdf.py": ["--runs", "5"],
    "startup.py": ["--runs", "5", "--no-frozen"],
}


def scripts() -> list[Path]:
    return [*sorted(HERE.glob("bench_*.py")), HERE / "startup.py"]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    env = {**os.environ}
    env[ENV_VAR] = env.get(ENV_VAR) or throwaway()
    for script in scripts():
        args = [sys.executable, str(script)]
        if quick:
            args += QUICK.get(script.name, [])
        print(f"== {script.name} {' '.join(args[2:])}".rstrip(), flush=True)
        code = subprocess.call(args, env=env)
        if code:
            print(f"{script.name} failed with exit status {code}", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
