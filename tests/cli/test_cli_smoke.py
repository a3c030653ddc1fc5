"""The real ``nurse-app`` process: a handful of runs through ``python -m nurse_app`` and the installed
console script, for what only a separate process shows (the entry point itself, the exit status the
shell sees, no traceback on stderr).  Everything else about the commands is tested in process through
``cli.main`` (the ``cli`` fixture in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NURSE_APP = Path(sys.executable).parent / "nurse-app"


def run(*args: str, script: bool = False, env_db: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("NURSE_APP_DB", "NURSE_APP_POLICY")}
    if env_db is not None:
        env["NURSE_APP_DB"] = env_db
    command = [str(NURSE_APP)] if script else [sys.executable, "-m", "nurse_app"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, encoding="utf-8", env=env, timeout=120
    )


def assert_one_line_error(done: subprocess.CompletedProcess, fragment: str) -> None:
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert fragment in done.stderr


@pytest.mark.slow
def test_version_through_python_m():
    done = run("--version")
    assert done.returncode == 0 and done.stdout.startswith("nurse-app "), done


@pytest.mark.slow
def test_a_calculation_through_python_m():
    done = run(
        "calc",
        "--product",
        "privigen",
        "--weight",
        "154lb",
        "--height",
        "69in",
        "--sex",
        "male",
        "--regimen",
        "pemphigus",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["product"]


@pytest.mark.slow
def test_bad_input_is_exit_2_and_one_line_through_python_m():
    assert_one_line_error(
        run("calc", "--product", "privigen", "--weight", "seventy", "--regimen", "pemphigus"),
        "is not a number",
    )


@pytest.mark.slow
def test_usage_error_is_exit_2_and_one_line_through_the_script():
    assert_one_line_error(run("guides", script=True), "nurse-app")


@pytest.mark.slow
def test_exit_1_reaches_the_shell_through_the_script():
    done = run("guides", "search", "zzqxv", script=True)
    assert done.returncode == 1 and done.stderr.strip() == "No guide matches."


@pytest.mark.slow
def test_damaged_record_named_by_the_environment_is_exit_2_through_the_script(tmp_path):
    path = tmp_path / "record.db"
    path.write_bytes(b"PK\x03\x04 not a database")
    assert_one_line_error(run("check-db", script=True, env_db=str(path)), "not an SQLite database")
    assert path.read_bytes() == b"PK\x03\x04 not a database"
