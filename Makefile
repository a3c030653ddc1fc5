# Two commands on a fresh Debian/Ubuntu machine with Python 3.11+:
#   make run    set everything up and open the app
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup sysdeps bench screenshots clean

run: setup
	$(BIN)/nurse-app

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

setup: sysdeps $(STAMP)

sysdeps:
	@bash packaging/install-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
