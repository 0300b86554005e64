# One command to run the bot, one to test it; both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: run test install lint i18n i18n-update migrate seed bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)
	$(PY) scripts/i18n.py compile

migrate: install
	$(VENV)/bin/emas db upgrade

seed: migrate
	$(VENV)/bin/emas seed

run: seed
	$(VENV)/bin/emas serve

lint: install
	$(VENV)/bin/ruff check src tests scripts $(wildcard bench)
	$(VENV)/bin/mypy

i18n: install
	$(PY) scripts/i18n.py check

i18n-update: $(STAMP)
	$(PY) scripts/i18n.py update

test: install lint i18n
	$(PY) -m pytest -q -p no:cacheprovider

bench: install
	$(PY) bench/inbound.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache
