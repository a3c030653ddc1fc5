"""Issue 22 §3-4 through the command line: passphrase forms, core dumps, files that are not
record files, exports to devices, numbers and dates that are nonsense, control characters."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from store_helpers import open_store, raw_connection, ready_visit

from nurse_app.store import Store, crypto, keys

NFC = unicodedata.normalize("NFC", "Crème brûlée à Zürich")
NFD = unicodedata.normalize("NFD", NFC)
RIGHT = os.environ["NURSE_APP_PASSPHRASE"]  # the suite's (the cli fixture changes the environment)


def _record(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "record.db"
    with open_store(path) as store:
        visit = ready_visit(store, "MRN-1")
        store.sign_visit(visit)
    return path, visit


def _made_with(path: Path, passphrase: str) -> None:
    """A record keyed with exactly ``passphrase`` (bytes as given), as before normalisation."""
    with open_store(path) as store:
        ready_visit(store, "MRN-1")
    conn = crypto.connect(path, isolation_level=None)
    conn.raw.execute(f'PRAGMA rekey = "{keys.raw_key(passphrase, conn.salt)}"')
    conn.close()


def test_a_passphrase_typed_in_nfd_opens_a_record_made_in_nfc(tmp_path, cli):
    path = tmp_path / "record.db"
    keys.lock()
    keys.unlock(NFC)
    with open_store(path):
        pass
    keys.lock()
    done = cli("--db", path, "patients", env={"NURSE_APP_PASSPHRASE": NFD})
    assert done.returncode == 0, done.stderr


def test_a_record_keyed_with_the_raw_nfd_form_still_opens_and_is_rekeyed_to_nfc(tmp_path):
    path = tmp_path / "record.db"
    _made_with(path, NFD)
    keys.lock()
    keys.unlock(NFD)
    Store.open(path).close()  # the way in: the form as typed
    keys.lock()
    conn = crypto.connect(path, passphrases=[NFC])  # and from now on the NFC form alone
    assert conn.execute("SELECT count(*) FROM patients").fetchone() == (1,)
    conn.close()


def test_core_dumps_are_off_once_a_passphrase_is_unlocked(tmp_path):
    code = (
        "import resource, sys; from nurse_app.store import keys, process; "
        "before = resource.getrlimit(resource.RLIMIT_CORE)[0]; keys.unlock('x' * 20); "
        "print(resource.getrlimit(resource.RLIMIT_CORE), process.dumpable())"
    )
    env = {k: v for k, v in os.environ.items() if k != "NURSE_APP_PASSPHRASE"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True
    ).stdout.strip()
    assert out.startswith("(0, 0)")
    if sys.platform.startswith("linux"):
        assert out.endswith("False")


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("command", [("patients",), ("check-db",), ("visit-addendum", "1", "--text", "x")])
def test_a_fifo_as_the_record_is_refused_at_once_with_its_real_reason(tmp_path, cli, command):
    fifo = tmp_path / "record.db"
    os.mkfifo(fifo)
    done = cli("--db", fifo, *command)  # before the fix this never returned
    assert done.returncode == 2 and "is a named pipe (FIFO), not a record file" in done.stderr


@pytest.mark.parametrize("target,kind", [("/dev/zero", "a device"), (".", "a folder")])
def test_a_device_or_folder_as_the_record_says_what_it_is(tmp_path, cli, target, kind):
    path = tmp_path if target == "." else Path(target)
    done = cli("--db", path, "patients")
    assert done.returncode == 2 and f"is {kind}, not a record file" in done.stderr
    assert "does not exist" not in done.stderr


def test_restore_of_a_fifo_is_refused_with_its_real_reason(tmp_path, cli):
    path, _ = _record(tmp_path)
    fifo = tmp_path / "backup.db"
    os.mkfifo(fifo)
    done = cli("--db", path, "restore", fifo)
    assert done.returncode == 2 and "named pipe (FIFO)" in done.stderr


def test_an_export_to_a_device_is_refused_and_the_device_stays(tmp_path, cli):
    path, visit = _record(tmp_path)
    done = cli("--db", path, "visit-fhir", visit, "--out", "/dev/full")
    assert done.returncode == 2 and "it is a device" in done.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    done = cli("--db", path, "seals", "--out", "/dev/full")
    assert done.returncode == 2 and "not a regular file" in done.stderr


def test_a_record_folder_chosen_with_db_is_made_private(tmp_path, cli):
    folder = tmp_path / "chosen"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    path, _ = _record(folder)
    done = cli("--db", path, "patients")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_shared_folder_holding_the_record_is_reported(tmp_path, cli):
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "someone-elses-file.txt").write_text("hello")
    os.chmod(folder, 0o755)
    path, _ = _record(folder)
    done = cli("--db", path, "patients")
    assert done.returncode == 0 and "can be listed by other users" in done.stderr
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # not ours alone: only said


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_schedule_far_dates_are_one_line_not_a_traceback(tmp_path, cli, day):
    path, _ = _record(tmp_path)
    done = cli("--db", path, "schedule", "--from", day)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "1900-01-01 to 2200-12-31" in done.stderr


@pytest.mark.parametrize("text", ["1_0", "+1", " 1_0 "])
def test_visit_pdf_refuses_a_visit_number_python_would_read(tmp_path, cli, text):
    path, _ = _record(tmp_path)
    done = cli("--db", path, "visit-pdf", text, "--out", tmp_path / "v.pdf")
    assert done.returncode == 2 and "whole number" in done.stderr
    assert not (tmp_path / "v.pdf").exists()


@pytest.mark.parametrize("text", ["\ufeff", "\u200b", "\u200b\ufeff \u2060"])
def test_an_addendum_of_invisible_characters_is_refused(tmp_path, cli, text):
    path, visit = _record(tmp_path)
    done = cli("--db", path, "visit-addendum", visit, "--text", text)
    assert done.returncode == 2 and "Addendum is required" in done.stderr
    with Store.open(path) as store:
        assert store.visit_addenda(visit) == []


def test_content_approval_in_the_future_is_refused(tmp_path, cli):
    from nurse_app.cli.content_cmds import build_report

    path, _ = _record(tmp_path)
    version = build_report().version
    done = cli(
        "--db",
        path,
        "content-approve",
        "--name",
        "Dana Educator",
        "--date",
        "9999-01-01",
        "--content-version",
        version,
    )
    assert done.returncode == 2 and "is in the future" in done.stderr


def test_the_cli_never_prints_a_control_character(tmp_path, cli):
    folder = tmp_path / "evil\x1b]0;pwned\x07\x1b[2J"
    done = cli("--db", folder / "record.db", "patients")
    assert done.returncode == 2
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr and "\\x1b" in done.stderr


def test_a_name_planted_with_an_escape_sequence_is_never_printed_raw(tmp_path, cli):
    path, _ = _record(tmp_path)
    conn = raw_connection(path)
    conn.execute("UPDATE patients SET name = 'Evil\x1b[2J\u202ename' WHERE id = 1")
    conn.close()
    done = cli("--db", path, "patients")
    assert "\x1b" not in done.stdout + done.stderr and "\u202e" not in done.stdout + done.stderr


# --------------------------------------------------------------------------- throttle


def _allow_now(path: Path) -> None:
    """Let the waiting time pass (the file holds the next allowed time, nothing secret)."""
    import json

    from nurse_app.store.throttle import throttle_file

    data = json.loads(throttle_file(path).read_text())
    assert set(data) == {"failures", "next_allowed_at"}
    data["next_allowed_at"] = 0
    throttle_file(path).write_text(json.dumps(data))


def test_wrong_passphrases_on_the_command_line_are_throttled_and_audited(tmp_path, cli):
    from nurse_app.core.security import policy
    from nurse_app.store.throttle import throttle_file

    path, _ = _record(tmp_path)
    wrong = {"NURSE_APP_PASSPHRASE": "not the passphrase at all"}
    free = policy().free_attempts
    for _ in range(free + 1):
        keys.lock()
        done = cli("--db", path, "patients", env=wrong)
        assert done.returncode == 2 and "wrong passphrase" in done.stderr
    keys.lock()
    refused = cli("--db", path, "patients", env=wrong)
    assert refused.returncode == 2 and "try again in" in refused.stderr
    assert stat.S_IMODE(throttle_file(path).stat().st_mode) == 0o600
    assert b"not the passphrase" not in throttle_file(path).read_bytes()
    _allow_now(path)
    keys.lock()
    right = cli("--db", path, "patients", env={"NURSE_APP_PASSPHRASE": RIGHT})
    assert right.returncode == 0, right.stderr
    assert not throttle_file(path).exists()
    with Store.open(path) as store:
        (entry,) = store.audit_entries("security")
    assert entry["after"]["event"] == "wrong passphrase attempts" and entry["after"]["count"] == free + 1


def test_the_window_unlock_screen_counts_the_command_lines_failures(tmp_path, cli, qtbot):
    from nurse_app.store.throttle import Throttle
    from nurse_app.ui.lock import StartDialog

    path, _ = _record(tmp_path)
    for _ in range(5):
        keys.lock()
        cli("--db", path, "patients", env={"NURSE_APP_PASSPHRASE": "not the passphrase at all"})
    keys.lock()
    dialog = StartDialog(path)
    qtbot.addWidget(dialog)
    assert dialog.mode == "unlock"
    assert len(dialog.form.failures) == 4 and dialog.form.seconds_to_wait() > 0  # the 5th was refused
    dialog.form.field.setText(RIGHT)
    assert dialog.form.attempt() is False  # still waiting, after a restart too
    assert Throttle(path).failures() and len(Throttle(path).failures()) == 4
