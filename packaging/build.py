"""``make package``: the frozen desktop build and its archive.

    .venv/bin/python packaging/build.py

1. PyInstaller builds ``dist/nurse-app/`` from ``packaging/nurse-app.spec`` (one folder:
   the program ``nurse-app`` and ``_internal/``).
2. The install and uninstall scripts, the desktop entry and the icons are added beside it.
3. The built program is checked from another folder with a clean environment
   (``--selftest`` and ``--smoke-test``, offscreen).
4. ``dist/nurse-app-VERSION-linux-x86_64.tar.gz`` is written; it unpacks to
   ``nurse-app-VERSION/`` (run ``./install.sh`` there).

Prints the build time and the archive size.
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
APP = DIST / "nurse-app"
HERE = ROOT / "packaging"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def version() -> str:
    sys.path.insert(0, str(ROOT))
    from nurse_app import __version__

    return __version__


def arch_name() -> str:
    system = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    return f"{system}-{ {'amd64': 'x86_64', 'arm64': 'arm64', 'aarch64': 'aarch64'}.get(machine, machine) }"


def freeze() -> None:
    shutil.rmtree(APP, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "ERROR",
            "--distpath",
            str(DIST),
            "--workpath",
            str(ROOT / "build" / "pyinstaller"),
            str(HERE / "nurse-app.spec"),
        ],
        check=True,
        cwd=ROOT,
    )


def add_desktop_files() -> None:
    for name in ("install.sh", "uninstall.sh"):
        shutil.copy2(HERE / name, APP / name)
        (APP / name).chmod(0o755)
    shutil.copy2(HERE / "nurse-app.desktop", APP / "nurse-app.desktop")
    icons = APP / "icons"
    icons.mkdir(exist_ok=True)
    shutil.copy2(ROOT / "resources" / "icons" / "nurse-app.svg", icons / "nurse-app.svg")
    for size in ICON_SIZES:
        shutil.copy2(ROOT / "resources" / "icons" / f"nurse-app-{size}.png", icons / f"nurse-app-{size}.png")
    shutil.copy2(ROOT / "resources" / "icons" / "nurse-app-256.png", APP / "nurse-app.png")
    (APP / "README.txt").write_text(
        "IVIG Nurse Companion\n\n"
        "Install for your user (menu entry and icon):  ./install.sh\n"
        "Run without installing:                       ./nurse-app\n"
        "Remove (your record is kept):                 ~/.local/opt/nurse-app/uninstall.sh\n\n"
        "Your record lives in ~/.local/share/nurse-app/nurse-app.db (File > Back up now... copies it).\n"
        "Fonts: DejaVu Sans, licence in _internal/nurse_app/resources/fonts/LICENSE.\n",
        encoding="utf-8",
    )


def check() -> None:
    """The built program, from another folder, with a clean environment (no venv, no PYTHONPATH)."""
    with tempfile.TemporaryDirectory(prefix="nurse-app-check-") as tmp:
        runtime = Path(tmp, "run")
        runtime.mkdir(mode=0o700)
        # The record is encrypted (SQLCipher): the smoke test creates one with a throwaway
        # passphrase, given in the environment (never on the command line).
        env = {
            "HOME": tmp,
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_RUNTIME_DIR": str(runtime),
            "LANG": "C.UTF-8",
            "NURSE_APP_PASSPHRASE": "build check " + secrets.token_urlsafe(18),
        }
        exe = str(APP / "nurse-app")
        for args in (["--selftest"], ["--db", str(Path(tmp, "check.db")), "--smoke-test"]):
            p = subprocess.run([exe, *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
            if p.returncode != 0:
                raise SystemExit(f"build check failed: nurse-app {' '.join(args)}: {p.stdout}{p.stderr}")
            print(f"  nurse-app {args[-1]}: {p.stdout.strip().splitlines()[-1]}")


def archive(ver: str) -> Path:
    target = DIST / f"nurse-app-{ver}-{arch_name()}.tar.gz"
    tmp = target.with_suffix(".tmp")
    with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        tar.add(APP, arcname=f"nurse-app-{ver}")
    os.replace(tmp, target)
    return target


def main() -> int:
    started = time.monotonic()
    ver = version()
    print(f"Building nurse-app {ver} ({arch_name()}) with PyInstaller…", flush=True)
    freeze()
    add_desktop_files()
    built = time.monotonic()
    print(f"  built dist/nurse-app in {built - started:.0f} s; checking it from another folder…", flush=True)
    check()
    target = archive(ver)
    size = target.stat().st_size / 1e6
    folder = sum(f.stat().st_size for f in APP.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6
    print(
        f"Wrote {target.relative_to(ROOT)} ({size:.1f} MB; {folder:.0f} MB unpacked) "
        f"in {time.monotonic() - started:.0f} s."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
