PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test install lint format bench bench-peer api-contract

# Re-install whenever the pinned dependencies change.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(STAMP)

# The scheduler runs beside the web server and stops with it.
run: export PYTHONUNBUFFERED = 1
run: install
	$(BIN)/groupbill migrate --noinput
	$(BIN)/groupbill demo --if-empty
	$(BIN)/groupbill deliver
	$(BIN)/groupbill scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/groupbill serve --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/groupbill makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest

# Schemathesis, all checks and phases, against a served instance (a few minutes).
api-contract: install
	$(BIN)/python -m tests.api_contract

bench: install
	$(BIN)/python bench/resolver.py

# A separate virtual environment with the peer the engine is timed against (Tryton 8.2).
PEER := bench-peer/venv
bench-peer: install
	test -x $(PEER)/bin/python || $(PYTHON) -m venv $(PEER)
	$(PEER)/bin/pip install --quiet --disable-pip-version-check trytond==8.2.1 \
		trytond-sale-subscription==8.2.0 proteus==8.2.0
