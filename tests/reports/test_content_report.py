"""Issue 15 §2: the content report lists every item of every resource file; the educator's
approval is recorded (record + audit log) and reset when the content changes."""

from __future__ import annotations

import json
import re

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QDate, QSettings, Qt
from PySide6.QtGui import QAction
from qt_helpers import run_in_dialog

from nurse_app import cli
from nurse_app.core import policy
from nurse_app.core.content_report import (
    AGENCY_POLICY,
    UNVERIFIED,
    VERIFIED,
    approval_values,
    build_report,
    content_version,
    resource_files,
)
from nurse_app.core.guides import load_guides
from nurse_app.core.resources import read_toml
from nurse_app.store import Store

SKIP = {"sources", "source_class", "schema_version"}


@pytest.fixture(autouse=True)
def no_policy(monkeypatch):
    monkeypatch.delenv(policy.ENV_VAR, raising=False)
    policy.set_policy_path(None)
    yield
    policy.set_policy_path(None)


def resource_paths(relative: str) -> list[str]:
    """Every table and every entry of every array of tables in the file, as report paths."""
    data, _ = read_toml(relative)
    paths: list[str] = []

    def walk(prefix: str, table: dict) -> None:
        for key, value in table.items():
            if not prefix and key in SKIP:
                continue
            here = f"{prefix}.{key}" if prefix else key
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                for i, entry in enumerate(value):
                    paths.append(f"{here}[{i}]")
                    walk(f"{here}[{i}]", entry)
            elif isinstance(value, dict) and not prefix:
                paths.append(here)

    walk("", data)
    return paths


@pytest.fixture(scope="module")
def report_json():
    policy.set_policy_path(None)
    return build_report().to_json()


def covered(items: list[dict], file: str, path: str) -> bool:
    return any(
        i["file"] == f"resources/{file}"
        and (i["path"] == path or i["path"].startswith(path + ".") or i["path"].startswith(path + "["))
        for i in items
    )


def test_the_report_walks_every_clinical_resource_file():
    names = resource_files()
    assert {
        "products.toml",
        "regimens.toml",
        "limits.toml",
        "vitals.toml",
        "monitoring.toml",
        "reactions.toml",
    } <= set(names)
    assert any(n.startswith("checklists/") for n in names)


@pytest.mark.parametrize("relative", resource_files())
def test_every_item_of_every_resource_file_is_in_the_report(report_json, relative):
    items = report_json["items"]
    missing = [p for p in resource_paths(relative) if not covered(items, relative, p)]
    assert not missing, f"{relative}: not in the content report: {missing[:10]}"
    # Each product rate row, vial, caution; each checklist item, reaction tier, measure: one row each.
    paths = {i["path"] for i in items if i["file"] == f"resources/{relative}"}
    nested = [p for p in resource_paths(relative) if p.count("[") == 2]
    assert all(p in paths for p in nested)


def test_every_guide_and_every_policy_setting_is_in_the_report(report_json):
    ids = {i["id"] for i in report_json["items"]}
    assert {f"guides/{g}" for g in load_guides()} <= ids
    assert {f"policy/{s.key}" for s in policy.settings_in_force()} <= ids


def test_items_carry_value_unit_sources_class_and_status(report_json):
    items = {i["id"]: i for i in report_json["items"]}
    rate = next(i for k, i in items.items() if k.startswith("products/product/privigen/rate/"))
    assert "maximum" in rate["value"] and rate["unit"] == "mg/kg/min"
    assert rate["sources"] and all(s["source_class"] for s in rate["sources"])
    assert {i["status"] for i in report_json["items"]} == {VERIFIED, UNVERIFIED, AGENCY_POLICY}
    assert items["limits/pump"]["status"] == AGENCY_POLICY  # local policy default
    assert re.fullmatch(r"[0-9a-f]{12}", report_json["content_version"])
    assert report_json["content_version"] == content_version()


def test_a_new_resource_item_without_report_coverage_fails(monkeypatch):
    """The coverage check above is real: a new array of tables in products.toml is not covered."""
    from nurse_app.core import content_report

    data, name = read_toml("products.toml")
    data = {**data, "product_family": [{"id": "x", "note": "new"}]}
    monkeypatch.setattr(
        content_report, "load_toml", lambda rel: (data, name) if rel == "products.toml" else read_toml(rel)
    )
    items = [i.to_json() for i in content_report.content_items()]
    assert not covered(items, "products.toml", "product_family[0]")


def test_content_report_cli_pdf_has_page_x_of_y_and_a_sign_off(tmp_path, capsys):
    out = tmp_path / "content report.pdf"
    assert cli.main(["--db", str(tmp_path / "none.db"), "content-report", "--out", str(out)]) == 0
    assert "content version" in capsys.readouterr().out
    reader = PdfReader(str(out))
    texts = [p.extract_text() for p in reader.pages]
    total = len(texts)
    assert total > 3
    for n, text in enumerate(texts, start=1):
        assert f"Page {n} of {total}" in text
    whole = " ".join(" ".join(texts).split())
    assert "Educator sign-off" in whole and "Approved by (name)" in whole and content_version() in whole
    for group in (
        "Products",
        "Regimens",
        "Limits",
        "Vital-sign flags",
        "Monitoring",
        "Checklist",
        "Reactions",
        "Guides",
        "Agency policy settings",
    ):
        assert f"{group} (" in whole
    assert "Not yet approved by your agency" in whole
    assert not (tmp_path / "none.db").exists()  # the report never creates a record


def test_approval_is_recorded_audited_and_append_only(tmp_path):
    report = build_report()
    with Store.open(tmp_path / "r.db") as store:
        store.set_nurse_profile("Maria Santos", "RN")
        row = store.record_content_approval(
            report.version, "Dana Educator", "RN, MSN", "2026-11-20", items=approval_values(report.items)
        )
        assert row["approved_items"] == approval_values(report.items)
        latest = store.latest_content_approval()
        assert latest["approver_name"] == "Dana Educator" and latest["content_version"] == report.version
        [entry] = store.audit_entries("content_approvals")
        assert entry["action"] == "insert" and entry["after"]["approver_name"] == "Dana Educator"
        assert entry["after"]["content_version"] == report.version
        with pytest.raises(Exception, match="never changed or deleted"):
            store.db.execute("UPDATE content_approvals SET approver_name = 'X'")
        with pytest.raises(Exception, match="required"):
            store.record_content_approval(report.version, " ", items={"a": "b"})
        assert build_report(latest).approved


def test_a_content_change_resets_approval_and_marks_what_changed(tmp_path, capsys):
    db = tmp_path / "r.db"
    report = build_report()
    with Store.open(db) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        store.record_content_approval(
            report.version, "Dana Educator", "RN", items=approval_values(report.items)
        )
    assert cli.main(["--db", str(db), "content-report", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["approved"] is True
    pol = tmp_path / "policy.toml"
    pol.write_text("[vitals.heart_rate]\nflag_high = 90\n", encoding="utf-8")
    assert cli.main(["--db", str(db), "--policy", str(pol), "content-report", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["approved"] is False and data["content_version"] != report.version
    changed = set(data["changes_since_approval"]["changed"])
    assert {"policy/vitals.heart_rate.flag_high", "vitals/measure/heart_rate"} <= changed
    assert all(i["changed"] == (i["id"] in changed) for i in data["items"])
    out = tmp_path / "changed.pdf"
    assert cli.main(["--db", str(db), "--policy", str(pol), "content-report", "--out", str(out)]) == 0
    whole = " ".join(" ".join(p.extract_text() for p in PdfReader(str(out)).pages).split())
    assert "CHANGED Heart rate" in whole and "Changed since the approved version" in whole


def _window(qtbot, path, tmp_path):
    from nurse_app.ui.main_window import MainWindow

    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    return window, store


def test_main_window_banner_approval_dialog_and_reset(qtbot, tmp_path):
    from nurse_app.ui.content_dialog import BANNER_TEXT, ContentDialog

    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
    window, store = _window(qtbot, path, tmp_path)
    assert window.content_banner.isVisible() and BANNER_TEXT in window.content_banner.text()

    def approve(dialog):
        assert isinstance(dialog, ContentDialog)
        assert content_version() in dialog.summary.text()
        dialog.name.setText("Dana Educator")
        qtbot.keyClicks(dialog.credentials, "RN, MSN")
        dialog.date.setDate(QDate(2026, 11, 20))
        pages = dialog.save_report_to(str(tmp_path / "from the dialog.pdf"))
        assert pages == len(PdfReader(str(tmp_path / "from the dialog.pdf")).pages) > 3
        qtbot.mouseClick(dialog.approve_button, Qt.LeftButton)

    seen = run_in_dialog(qtbot, approve)
    # Found on the window: under PySide6 6.6 (the floor) QAction.menu()'s wrapper is already deleted.
    action = next(
        a for a in window.findChildren(QAction) if a.text().replace("&", "").startswith("Clinical content")
    )
    action.trigger()
    assert "dialog" in seen
    approval = store.latest_content_approval()
    assert approval["approver_name"] == "Dana Educator" and approval["approver_credentials"] == "RN, MSN"
    assert approval["approved_on"] == "2026-11-20" and approval["content_version"] == content_version()
    assert approval["recorded_by"] == "Maria Santos, RN"
    assert store.audit_entries("content_approvals")[0]["after"]["approver_name"] == "Dana Educator"
    assert not window.content_banner.isVisible()
    window.close()
    store.close()

    # The agency changes its policy: different content version, the banner returns.
    pol = tmp_path / "policy.toml"
    pol.write_text("[monitoring]\nafter_start_minutes = 10\n", encoding="utf-8")
    policy.set_policy_path(pol)
    window, store = _window(qtbot, path, tmp_path)
    assert window.content_banner.isVisible()
    assert BANNER_TEXT in window.content_banner.text() and "changed since" in window.content_banner.text()
    report = build_report(store.latest_content_approval())
    assert "monitoring/vitals" in report.changes.changed
    window.close()
    store.close()


def test_content_approve_cli_records_only_the_version_in_force(tmp_path, capsys):
    db = tmp_path / "r.db"
    with Store.open(db) as store:
        store.set_nurse_profile("Maria Santos", "RN")
    version = content_version()
    assert (
        cli.main(
            [
                "--db",
                str(db),
                "content-approve",
                "--name",
                "Dana Educator",
                "--content-version",
                "abcdef123456",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"version {version}, not abcdef123456" in err[0]
    assert (
        cli.main(
            [
                "--db",
                str(db),
                "content-approve",
                "--name",
                "Dana Educator",
                "--credentials",
                "RN, MSN",
                "--date",
                "2026-11-21",
                "--content-version",
                version,
            ]
        )
        == 0
    )
    assert f"version {version} approved by Dana Educator, RN, MSN on 2026-11-21" in capsys.readouterr().out
    assert cli.main(["--db", str(db), "content-report", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["approved"] and data["approval"]["approver_name"] == "Dana Educator"
    assert (
        cli.main(
            [
                "--db",
                str(db),
                "content-approve",
                "--name",
                "X",
                "--date",
                "21/11/2026",
                "--content-version",
                version,
            ]
        )
        == 2
    )
    assert "must be a date written YYYY-MM-DD" in capsys.readouterr().err
