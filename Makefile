# One command to run the bot, one to test it; both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
LOCALE := bot/i18n/locale
POT := $(LOCALE)/messages.pot
CODE := bot reports broadcasts faq storage content web
PYTEST_WORKERS ?= auto

.PHONY: run test install install-dev lint i18n i18n-update i18n-compile migrate seed bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Runtime dependencies only: what `make run` needs. The build compiles the catalogs.
$(RUNTIME): pyproject.toml setup.py | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $(RUNTIME)

# The dev extras (linters, test runner, browser driver) on top, for `make test`.
$(DEV): pyproject.toml setup.py | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(DEV) $(RUNTIME)

install: $(RUNTIME) i18n-compile

install-dev: $(DEV) i18n-compile

i18n-compile: | $(VENV)/bin/python
	$(VENV)/bin/pybabel compile --domain messages --directory $(LOCALE) --use-fuzzy --statistics 2>&1 | grep -v "^compiling" || true

migrate: install
	$(VENV)/bin/emas db upgrade

seed: migrate
	$(VENV)/bin/emas seed

run: seed
	$(VENV)/bin/emas serve

lint: install-dev
	$(VENV)/bin/ruff check $(CODE) tests bench setup.py
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Refresh the template and the Indonesian catalog from the code (English msgids need no catalog).
i18n-update: install-dev
	$(VENV)/bin/pybabel extract --mapping-file babel.cfg --keyword N_ --keyword ngettext:1,2 \
		--add-comments TRANSLATORS: --no-location --sort-output --width 100 \
		--project emas --version 0.1 --output-file $(POT) $(CODE)
	$(VENV)/bin/pybabel update --input-file $(POT) --domain messages --output-dir $(LOCALE) \
		--no-fuzzy-matching --ignore-obsolete --width 100
	$(MAKE) i18n-compile

# The catalogs are checked by tests/bot/i18n/test_catalogs.py (template current, id complete).
i18n: install-dev
	$(PY) -m pytest -q -p no:cacheprovider tests/bot/i18n

test: install-dev lint
	$(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS)

bench: install
	$(PY) bench/inbound.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache build dist *.egg-info
