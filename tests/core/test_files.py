"""core/files.py: the one atomic write (temporary file, fsync, rename, fsync of the folder), used by
every writer of a file that must never be left half-written (PDF and FHIR exports included)."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from nurse_app.core.errors import InputError
from nurse_app.core.files import write_atomically
from nurse_app.reports.common import write_atomically as write_export


@pytest.fixture
def synced(monkeypatch):
    """The paths whose file or folder was flushed with os.fsync."""
    seen = []
    real = os.fsync

    def fsync(fd):
        seen.append(os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def test_an_export_is_flushed_to_the_disk_before_and_after_its_rename(tmp_path, synced):
    out = tmp_path / "visit.pdf"
    write_export(b"%PDF-1.4 summary", out, "visit summary")
    assert out.read_bytes() == b"%PDF-1.4 summary"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert len(synced) == 2  # the file's content, then the folder holding the rename
    assert synced[-1] == str(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["visit.pdf"]  # no temporary file left


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    out = tmp_path / "bundle.json"
    out.write_bytes(b"the good one")

    def full(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(InputError, match="the disk is full"):
        write_export(b"new", out, "FHIR export")
    with pytest.raises(OSError):
        write_atomically(b"new", out)
    assert out.read_bytes() == b"the good one"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.json"]


def test_a_handout_is_readable_by_everyone(tmp_path):
    out = tmp_path / "handout.pdf"
    write_export(b"%PDF-1.4 handout", out, "handout", private=False)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
