# Two commands on a fresh Debian/Ubuntu machine with Python 3.11+:
#   make run    set everything up and open the app
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# setuptools warns on every editable install that nurse_app/ in the checkout shadows the
# installed mapping: that is intended here (resources/ is found either way), so it is hushed.
PIP    := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip

.PHONY: run test setup sysdeps bench package screenshots clean

run: setup
	$(BIN)/nurse-app

# On every core (pytest-xdist): each worker is its own process with its own QApplication, temporary
# folders and user folders; a test file stays on one worker (its module fixtures are made once).
test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n auto --dist loadfile

setup: sysdeps $(STAMP)

sysdeps:
	@bash packaging/install-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	@touch $(STAMP)

bench: setup
	$(BIN)/python benchmarks/run_all.py

# The desktop build: dist/nurse-app/ and dist/nurse-app-VERSION-linux-x86_64.tar.gz
# (PyInstaller is installed into .venv on first use; see packaging/README.md).
package: setup $(VENV)/.package-tools
	@bash packaging/install-system-deps.sh --package
	$(BIN)/python packaging/build.py

$(VENV)/.package-tools: pyproject.toml $(STAMP)
	$(PIP) install -q -e '.[test,package]'
	@touch $@

# docs/main-window.png for the README, from the real window on a demo record (offscreen).
screenshots: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/screenshot.py

clean:
	rm -rf $(VENV) .venv-lowest build dist *.egg-info .pytest_cache
