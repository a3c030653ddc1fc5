"""The desktop build (PyInstaller, ``make package``) works on its own.

Runs the built program in ``dist/nurse-app/`` from a temporary folder outside the
repository with a clean environment (nothing inherited: only HOME, QT_QPA_PLATFORM=offscreen,
a private XDG runtime folder and the record's passphrase in NURSE_APP_PASSPHRASE; no virtual
environment on PATH, no PYTHONPATH), so nothing from the checkout or the development
environment can help it:

* ``--selftest`` and ``--smoke-test`` pass (the smoke test unlocks the encrypted record with
  NURSE_APP_PASSPHRASE, which needs the bundled SQLCipher);
* a visit summary and a handout for "Łucja Wójcik" print with the bundled DejaVu Sans,
  and do so with fontconfig shown no system fonts at all;
* the FHIR export works (the bundled fhir.resources/pydantic models);
* the archive's ``install.sh`` adds the menu entry and icon for a user, and the installed
  program starts; on an X server (Xvfb, when installed) the xcb platform plugin works.

Marked ``frozen``: skipped when PyInstaller is not installed (``make test`` on a fresh
machine); ``.ci/run`` runs it after ``make package``.  When PyInstaller is installed but
``dist/`` is missing or older than the sources, the build is made first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from importlib.util import find_spec
from pathlib import Path

import pytest
from conftest import TEST_PASSPHRASE
from pdf_fonts import embedded_fonts, pdf_text
from repo_paths import ROOT
from visit_export_helpers import make_visit, open_record

pytestmark = [
    pytest.mark.frozen,
    pytest.mark.skipif(
        find_spec("PyInstaller") is None, reason="PyInstaller is not installed (make package installs it)"
    ),
]

APP = ROOT / "dist" / "nurse-app"
EXE = APP / "nurse-app"
NAME = "Łucja Wójcik"
SOURCES = ("nurse_app", "resources", "packaging")


def _stale() -> bool:
    if not EXE.is_file():
        return True
    built = EXE.stat().st_mtime
    return any(
        f.stat().st_mtime > built
        for folder in SOURCES
        for f in (ROOT / folder).rglob("*")
        if f.is_file() and "__pycache__" not in f.parts
    )


@pytest.fixture(scope="module")
def frozen_app() -> Path:
    if _stale():
        subprocess.run(
            [sys.executable, str(ROOT / "packaging" / "build.py")], check=True, cwd=ROOT, timeout=1800
        )
    assert EXE.is_file()
    return EXE


@pytest.fixture
def clean(tmp_path):
    """Runs a command in a folder outside the repository with a minimal environment, inheriting nothing.

    The environment is given to the process directly rather than as ``env -i NAME=value``
    arguments, so the passphrase never appears on a command line.
    """
    home = tmp_path / "home"
    runtime = tmp_path / "xdg-runtime"
    work = tmp_path / "work"
    for folder in (home, work):
        folder.mkdir()
    runtime.mkdir(mode=0o700)
    assert ROOT not in work.parents

    def run(*args: str, extra_env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        env = {
            "HOME": str(home),
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_RUNTIME_DIR": str(runtime),
            "NURSE_APP_PASSPHRASE": TEST_PASSPHRASE,
        }
        env.update(extra_env or {})
        return subprocess.run(list(args), env=env, cwd=work, capture_output=True, text=True, timeout=timeout)

    run.home, run.work, run.tmp = home, work, tmp_path
    return run


def _no_system_fonts(tmp_path: Path) -> dict:
    """fontconfig configured with no font folders: only the app's bundled fonts exist."""
    conf = tmp_path / "no-fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n"
    )
    return {"FONTCONFIG_FILE": str(conf)}


@pytest.mark.slow
def test_frozen_selftest_and_smoke_test_from_another_folder(frozen_app, clean):
    p = clean(str(frozen_app), "--selftest")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "selftest passed" in p.stdout

    record = clean.tmp / "record.db"
    p = clean(str(frozen_app), "--db", str(record), "demo-data", "--patients", "5", "--seed", "3")
    assert p.returncode == 0, p.stderr
    p = clean(str(frozen_app), "--db", str(record), "--smoke-test")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("ready in ") and "page week" in p.stdout  # the Week page opens first

    p = clean(str(frozen_app), "--db", str(clean.tmp / "missing" / "x.db"), "--smoke-test")
    assert p.returncode != 0
    assert [line for line in p.stderr.splitlines() if line.startswith("nurse-app:")] == [
        p.stderr.strip().splitlines()[-1]
    ], p.stderr


@pytest.mark.slow
def test_frozen_prints_lucja_wojcik_with_the_bundled_font_and_no_system_fonts(frozen_app, clean):
    record = clean.tmp / "record.db"
    with open_record(record) as store:
        visit = make_visit(store, name=NAME, sign=True)
    fonts_env = _no_system_fonts(clean.tmp)

    summary = clean.work / "summary.pdf"
    p = clean(
        str(frozen_app),
        "--db",
        str(record),
        "visit-pdf",
        str(visit),
        "--out",
        str(summary),
        extra_env=fonts_env,
    )
    assert p.returncode == 0, p.stderr
    assert NAME in pdf_text(summary)
    fonts = embedded_fonts(summary)
    assert fonts and all(n.startswith("DejaVuSans") and embedded for n, embedded in fonts.items()), fonts

    handout = clean.work / "handout.pdf"
    p = clean(
        str(frozen_app), "handout", "pemphigus", "--out", str(handout), "--nurse", NAME, extra_env=fonts_env
    )
    assert p.returncode == 0, p.stderr
    assert NAME in pdf_text(handout)
    assert all(n.startswith("DejaVuSans") for n in embedded_fonts(handout))

    fhir = clean.work / "visit.json"
    p = clean(str(frozen_app), "--db", str(record), "visit-fhir", str(visit), "--out", str(fhir))
    assert p.returncode == 0, p.stderr
    bundle = json.loads(fhir.read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle"
    assert NAME in fhir.read_text(encoding="utf-8")

    # The window too starts with no system fonts (Qt gets the bundled DejaVu Sans).
    p = clean(str(frozen_app), "--db", str(record), "--smoke-test", extra_env=fonts_env)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.slow
def test_archive_installs_menu_entry_and_icon_for_the_user(frozen_app, clean):
    from nurse_app import __version__

    archives = sorted((ROOT / "dist").glob(f"nurse-app-{__version__}-linux-*.tar.gz"))
    assert archives, "make package writes dist/nurse-app-VERSION-linux-ARCH.tar.gz"
    with tarfile.open(archives[-1]) as tar:
        names = tar.getnames()
        assert f"nurse-app-{__version__}/nurse-app" in names
        assert f"nurse-app-{__version__}/install.sh" in names
        assert f"nurse-app-{__version__}/icons/nurse-app.svg" in names
        tar.extractall(clean.tmp / "unpacked")
    unpacked = clean.tmp / "unpacked" / f"nurse-app-{__version__}"

    p = clean("/bin/sh", str(unpacked / "install.sh"), extra_env={"PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stdout + p.stderr
    home = clean.home
    program = home / ".local" / "opt" / "nurse-app" / "nurse-app"
    desktop = home / ".local" / "share" / "applications" / "nurse-app.desktop"
    assert program.is_file() and os.access(program, os.X_OK)
    entry = desktop.read_text(encoding="utf-8")
    assert f'Exec="{program}"' in entry and "Icon=nurse-app" in entry
    for size in (16, 32, 48, 256):
        assert (home / f".local/share/icons/hicolor/{size}x{size}/apps/nurse-app.png").is_file()
    assert (home / ".local/share/icons/hicolor/scalable/apps/nurse-app.svg").is_file()
    if shutil.which("desktop-file-validate"):
        v = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
        assert v.returncode == 0, v.stdout + v.stderr

    record = clean.tmp / "installed.db"
    p = clean(str(home / ".local" / "bin" / "nurse-app"), "--db", str(record), "--smoke-test")
    assert p.returncode == 0, p.stdout + p.stderr

    p = clean("/bin/sh", str(program.parent / "uninstall.sh"))
    assert p.returncode == 0, p.stderr
    assert not program.exists() and not desktop.exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="Xvfb is not installed")
def test_frozen_smoke_test_on_an_x_server(frozen_app, clean):
    """The xcb platform plugin and the X11 libraries it needs are in the bundle."""
    record = clean.tmp / "x11.db"
    p = clean(
        "/usr/bin/xvfb-run",
        "-a",
        "-s",
        "-screen 0 1366x768x24",
        str(frozen_app),
        "--db",
        str(record),
        "--smoke-test",
        extra_env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "xcb"},
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "ready in" in p.stdout
