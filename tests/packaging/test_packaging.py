"""A non-editable install (wheel) run from another folder finds every resource.

Builds the wheel, installs it without dependencies into a fresh virtual environment,
borrows the dependencies of the test environment through PYTHONPATH (site-packages
folders on PYTHONPATH do not run .pth files, so the editable checkout is NOT visible),
and runs ``nurse-app --selftest`` and a calculation from an empty temporary folder.
"""

import os
import subprocess
import sys
import sysconfig
import venv

import pytest
from repo_paths import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next((work / "dist").glob("nurse_app-*.whl"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"], "QT_QPA_PLATFORM": "offscreen"}
    return env_dir, env, work / "elsewhere"


@pytest.mark.slow
def test_wheel_contains_resources(installed):
    env_dir, env, cwd = installed
    cwd.mkdir(exist_ok=True)
    code = (
        "import nurse_app, pathlib, nurse_app.core.resources as r; print(nurse_app.__file__); "
        "root = pathlib.Path(str(r.resource_root())); print(root); "
        "print('|'.join(sorted(str(p.relative_to(root)) for p in root.rglob('*') "
        "if p.is_file() and '__pycache__' not in p.parts)))"
    )
    p = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    module_file, root, names = p.stdout.splitlines()
    assert module_file.startswith(str(env_dir)), "the installed copy, not the checkout, must be imported"
    assert root.startswith(str(env_dir))
    shipped = set(names.split("|"))
    in_repo = {
        str(f.relative_to(ROOT / "resources"))
        for f in (ROOT / "resources").rglob("*")
        if f.is_file() and "__pycache__" not in f.parts
    }
    assert {"products.toml", "regimens.toml", "limits.toml"} <= shipped
    assert in_repo <= shipped, f"missing from the wheel: {sorted(in_repo - shipped)}"


@pytest.mark.slow
def test_installed_selftest_and_calc_from_another_folder(installed):
    env_dir, env, cwd = installed
    cwd.mkdir(exist_ok=True)
    exe = str(env_dir / "bin" / "nurse-app")
    p = subprocess.run([exe, "--selftest"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "selftest passed" in p.stdout
    p = subprocess.run(
        [exe, "calc", "--product", "panzyga", "--weight", "40kg", "--regimen", "itp-2day", "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert '"total_dose_g": 80' in p.stdout
