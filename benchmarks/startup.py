"""Start-up benchmark: ``nurse-app --smoke-test`` against a bare PySide6 QMainWindow.

Every run is a new process (cold interpreter; the OS file cache is whatever the previous
run left, the same for both).  Runs of the contenders are interleaved so machine load hits
them alike.  Time to ready is measured from spawning the process to the line it prints
once its first page is painted and the event loop is idle (both use the same rule, see
``bare_window.py`` and ``nurse_app.ui.app.ReadyProbe``).  CPU time and peak RSS come from
``wait4`` on the child.  The app opens a demo record (25 patients) made for the run, with
fresh settings in a temporary XDG folder.

    python benchmarks/startup.py [--runs 7] [--frozen dist/nurse-app/nurse-app] [--no-frozen]
                                 [--compare OTHER_CHECKOUT]

``--compare`` adds the app from another checkout of the repository (e.g. a ``git worktree``
of an older commit, run with this environment's packages), for before/after tables.

The frozen build is included when it exists (``make package``).  Goal: ready <= 1.5x bare.
A reference row (``bare_window.py --table``: the bare window showing a QTableView over a
Python model) shows what any window listing records pays on top of a bare label; it is
printed for context and is not the goal's baseline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import _passphrase

GOAL = 1.5


def run_once(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, float]:
    """(seconds to the ready line, CPU seconds, peak RSS in MB) of one fresh process."""
    if cmd[0] == "PYTHONPATH":  # ["PYTHONPATH", path, *command]
        env, cmd = {**env, "PYTHONPATH": cmd[1]}, cmd[2:]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    ready = None
    for line in proc.stdout:
        if line.startswith(b"ready"):
            ready = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace").strip()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or ready is None:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}): {err or 'no ready line'}")
    return ready, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="cold runs of each (at least 5; default 7)")
    parser.add_argument(
        "--frozen",
        default=str(ROOT / "dist" / "nurse-app" / "nurse-app"),
        help="the frozen program (default dist/nurse-app/nurse-app, if built)",
    )
    parser.add_argument("--no-frozen", action="store_true", help="leave the frozen build out")
    parser.add_argument("--compare", metavar="CHECKOUT", help="also time the app of another checkout")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be 5 or more")

    work = Path(tempfile.mkdtemp(prefix="nurse-startup-"))
    try:
        env = {
            "HOME": str(work),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "XDG_CONFIG_HOME": str(work / "config"),
            "XDG_DATA_HOME": str(work / "data"),
            "XDG_RUNTIME_DIR": str(work / "run"),
            "QT_QPA_PLATFORM": "offscreen",
            "LANG": "C.UTF-8",
            # The record is encrypted: the demo data and --smoke-test read its passphrase here.
            _passphrase.ENV_VAR: _passphrase.unlock(),
        }
        (work / "run").mkdir(mode=0o700)
        db = work / "record.db"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "nurse_app",
                "--db",
                str(db),
                "demo-data",
                "--patients",
                "25",
                "--seed",
                "1",
            ],
            env={**env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
            cwd=work,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        contenders = {
            "bare PySide6 QMainWindow": [sys.executable, str(HERE / "bare_window.py")],
            # Reference only (not the goal's baseline): a bare window listing a Python table model.
            "bare + QTableView (reference)": [sys.executable, str(HERE / "bare_window.py"), "--table"],
            "nurse-app --smoke-test": [sys.executable, "-m", "nurse_app", "--db", str(db), "--smoke-test"],
        }
        if args.compare:
            other = str(Path(args.compare).resolve())
            # -S: without site's .pth files the editable install's mapping of nurse_app.resources
            # (to this checkout's resources/) is off, so the other checkout reads its own content;
            # this environment's packages come in through PYTHONPATH.  (Skipping site makes that
            # start a few ms quicker: the comparison errs in the other checkout's favour.)
            import sysconfig

            path = os.pathsep.join(
                [other, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
            )
            other_db = work / "record-compare.db"  # its own record (its schema version)
            subprocess.run(
                [
                    sys.executable,
                    "-S",
                    "-m",
                    "nurse_app",
                    "--db",
                    str(other_db),
                    "demo-data",
                    "--patients",
                    "25",
                    "--seed",
                    "1",
                ],
                env={**env, "PYTHONPATH": path},
                cwd=work,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            contenders[f"--compare {Path(other).name}"] = [
                "PYTHONPATH",
                path,
                sys.executable,
                "-S",
                "-m",
                "nurse_app",
                "--db",
                str(other_db),
                "--smoke-test",
            ]
        frozen = Path(args.frozen)
        if not args.no_frozen and frozen.is_file():
            contenders["frozen nurse-app --smoke-test"] = [str(frozen), "--db", str(db), "--smoke-test"]
        # One warm-up each (fills the OS file cache the same way for all), then the measured runs.
        for cmd in contenders.values():
            run_once(cmd, env, str(work))
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in contenders}
        for _ in range(args.runs):
            for name, cmd in contenders.items():
                results[name].append(run_once(cmd, env, str(work)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base = statistics.median(r[0] for r in results["bare PySide6 QMainWindow"])
    base_cpu = statistics.median(r[1] for r in results["bare PySide6 QMainWindow"])
    print(
        f"Start-up, medians of {args.runs} cold runs each ({os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}); goal: ready <= {GOAL:g}x bare"
    )
    print(f"{'':32} {'ready s':>8} {'ratio':>6} {'CPU s':>6} {'ratio':>6} {'peak RSS MB':>12}")
    worst = 0.0
    for name, rows in results.items():
        ready = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        rss = statistics.median(r[2] for r in rows)
        if name != "bare PySide6 QMainWindow" and not name.startswith(("--compare", "bare + ")):
            worst = max(worst, ready / base)
        print(f"{name:32} {ready:8.3f} {ready / base:5.2f}x {cpu:6.3f} {cpu / base_cpu:5.2f}x {rss:12.1f}")
    table = results.get("bare + QTableView (reference)")
    if table:
        ref = statistics.median(r[0] for r in table)
        app = statistics.median(r[0] for r in results["nurse-app --smoke-test"])
        print(
            f"(reference: the app is {app / ref:.2f}x a bare window listing a Python table model, which "
            f"also creates the Qt namespace's enums; the goal is against the bare label)"
        )
    print(f"worst ratio {worst:.2f}x: {'meets' if worst <= GOAL else 'misses'} the {GOAL:g}x goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
