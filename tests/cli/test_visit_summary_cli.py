"""``nurse-app visit-pdf`` and ``nurse-app visit-fhir`` through the entry point ``cli.main``, in
Toronto local time."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.bundle import Bundle
from visit_export_helpers import ACCENTED_NAME, flat, make_visit, open_record, read_pdf

pytestmark = pytest.mark.usefixtures("toronto_time")


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    """A record with a draft visit (1) and a signed one (2)."""
    path = tmp_path_factory.mktemp("cli") / "record.db"
    with open_record(path) as store:
        draft = make_visit(store, readings=4)
        signed = make_visit(store, mrn="MRN-0099", readings=4, sign=True)
    return path, draft, signed


def test_visit_pdf_writes_the_summary(cli, record, tmp_path):
    path, draft, signed = record
    out = tmp_path / "visit summary.pdf"
    result = cli("--db", str(path), "visit-pdf", str(signed), "--out", str(out))
    assert result.returncode == 0, result.stderr
    texts = read_pdf(out)
    assert result.stdout.strip() == f"Wrote {out}: visit {signed} (signed), {len(texts)} pages."
    text = flat("\n".join(texts))
    assert f"{ACCENTED_NAME} · MRN MRN-0099" in text
    assert "Tue 4 Mar 2025, 09:00 to" in text and f"Page 1 of {len(texts)}" in text
    assert "DRAFT" not in text
    draft_out = tmp_path / "draft.pdf"
    result = cli("--db", str(path), "visit-pdf", str(draft), "--out", str(draft_out))
    assert result.returncode == 0 and "(DRAFT, not signed)" in result.stdout
    assert all("DRAFT" in page for page in read_pdf(draft_out))


def test_visit_fhir_writes_a_valid_bundle(cli, record, tmp_path):
    path, _, signed = record
    out = tmp_path / "visit.json"
    result = cli("--db", str(path), "visit-fhir", str(signed), "--out", str(out))
    assert result.returncode == 0, result.stderr
    bundle = Bundle.model_validate_json(out.read_text(encoding="utf-8"))
    assert bundle.type == "transaction"
    assert result.stdout.strip().startswith(
        f"Wrote {out}: FHIR R4 Bundle for visit {signed} with 1 Patient, "
    )
    # patient, nurse, 4 readings x 5 vital signs + the weight used, 2 allergies, the reaction.
    for part in ("1 Practitioner", "1 Encounter", "21 Observation", "2 AllergyIntolerance", "1 AdverseEvent"):
        assert part in result.stdout
    assert ACCENTED_NAME in out.read_text(encoding="utf-8")  # UTF-8, not \u escapes
    stdout = cli("--db", str(path), "visit-fhir", str(signed), "--out", "-")
    assert stdout.returncode == 0
    assert Bundle.model_validate_json(stdout.stdout).entry[0].fullUrl == bundle.entry[0].fullUrl


@pytest.mark.parametrize("command", ["visit-pdf", "visit-fhir"])
def test_unknown_visit_is_one_line_and_exit_2(cli, record, tmp_path, command):
    path, _, _ = record
    out = tmp_path / "out.file"
    result = cli("--db", str(path), command, "999", "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "nurse-app: Visit 999 does not exist (it may have been deleted)."
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (("visit-pdf", "abc", "--out", "x.pdf"), "a visit id is a whole number, not 'abc'"),
        (("visit-pdf", "0", "--out", "x.pdf"), "a visit id is 1 or more"),
        (("visit-fhir", "1"), "the following arguments are required: --out"),
    ],
)
def test_usage_errors_are_one_line(cli, record, args, message):
    result = cli("--db", str(record[0]), *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_missing_record_file_is_not_created(cli, tmp_path):
    missing = tmp_path / "no-such.db"
    result = cli("--db", str(missing), "visit-pdf", "1", "--out", str(tmp_path / "x.pdf"))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"nurse-app: There is no patient record at {missing}; check --db or NURSE_APP_DB."
    )
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_is_one_line(cli, record, tmp_path):
    target = tmp_path / "missing-folder" / "x.json"
    result = cli("--db", str(record[0]), "visit-fhir", "1", "--out", str(target))
    assert result.returncode == 2
    assert result.stderr.startswith(f"nurse-app: Could not save the FHIR export to {target}")
    assert len(result.stderr.strip().splitlines()) == 1
