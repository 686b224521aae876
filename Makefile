# Each target creates .venv and installs first, so each is one command on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,report]'
	$(BIN)/python -m compileall -q rapport
	touch $(STAMP)

run: $(STAMP)
	@# Bytecode for what changed since install: each start then skips compiling Rapport's own
	@# modules (pip does this for installed packages, not for an editable install).
	@$(BIN)/python -m compileall -q rapport
	$(BIN)/rapport serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	@# One worker per core (each with its own PostgreSQL database, see tests/conftest.py);
	@# a test file stays on one worker, so its module fixtures are built once.
	$(BIN)/python -m pytest --numprocesses=auto --dist=loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	@for script in bench/*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
