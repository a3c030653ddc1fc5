# Two commands on a fresh Debian/Ubuntu machine with Python 3.11+:
#   make run    set everything up and open the app
#   make test   set everything up, run the linters (make lint) and the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# setuptools warns on every editable install that nurse_app/ in the checkout shadows the
# installed mapping: that is intended here (resources/ is found either way), so it is hushed.
PIP    := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip

.PHONY: run test lint setup sysdeps bench package screenshots clean

run: setup
	$(BIN)/nurse-app

# On every core (pytest-xdist): each worker is its own process with its own QApplication, temporary
# folders and user folders.  Work stealing keeps both cores busy to the end (a worker that runs
# out takes tests from the other's queue).  pytest-randomly shuffles the order every run, so a
# test that relies on another's leftovers fails here rather than by chance (the seed is printed:
# --randomly-seed=N repeats an order, -p no:randomly keeps the file order).  Every test runs, the
# slow ones too; property tests run hypothesis' "ci" profile (tests/property_settings.py).
test: setup lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n auto --dist worksteal

# Lint, format check and types (configured in pyproject.toml; CONTRIBUTING.md says how to
# fix what they find).  Each step prints its time; mypy keeps an incremental cache in
# .mypy_cache, so a second run checks only what changed.
lint: setup
	@bash -c 'TIMEFORMAT="ruff check: %1R s"; time $(BIN)/ruff check --quiet .'
	@bash -c 'TIMEFORMAT="ruff format --check: %1R s"; time $(BIN)/ruff format --check --quiet .'
	@bash -c 'TIMEFORMAT="mypy: %1R s"; time $(BIN)/mypy'

setup: sysdeps $(STAMP)

sysdeps:
	@bash packaging/install-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	@touch $(STAMP)

bench: setup
	$(BIN)/python benchmarks/run_all.py

# The desktop build: dist/nurse-app/ and dist/nurse-app-VERSION-linux-x86_64.tar.gz
# (PyInstaller is installed into .venv on first use; see packaging/README.md).
package: setup $(VENV)/.package-tools
	@bash packaging/install-system-deps.sh --package
	$(BIN)/python packaging/build.py

$(VENV)/.package-tools: pyproject.toml $(STAMP)
	$(PIP) install -q -e '.[dev,package]'
	@touch $@

# docs/main-window.png for the README, from the real window on a demo record (offscreen).
screenshots: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/screenshot.py

clean:
	rm -rf $(VENV) .venv-lowest build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
