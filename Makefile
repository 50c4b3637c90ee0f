# Two commands: `make run` (set up and start everything on embedded defaults) and
# `make test` (set up and run every check). Both create the `ads-venv` virtualenv first.
SHELL := /bin/bash
VENV := ads-venv
BIN := $(VENV)/bin

# Python 3.12 from PATH, else from pyenv; `make PYTHON=/path/to/python3.11 ...` also works.
PYTHON ?= $(shell for candidate in python3.12 \
	"$$(pyenv root 2>/dev/null)/versions/$$(pyenv latest 3.12 2>/dev/null)/bin/python"; do \
	"$$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 \
	&& { command -v "$$candidate"; break; }; done)

.PHONY: run test setup lint typecheck pytest format migrate seed worker beat web clean

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "Python 3.12 was not found on PATH or through pyenv." >&2; \
		echo "Install it, or run: make $(MAKECMDGOALS) PYTHON=/path/to/python3.12" >&2; \
		exit 1; \
	fi
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

setup: $(VENV)/.dev

# Development mode, asked for explicitly (DJANGO_DEBUG defaults to off), with a key generated
# once and kept under var/ (never committed).
DEV_KEY := var/secret_key
# The demo's ad accounts (seed_data) reach the local protocol fakes (`manage.py run_fakes`, a
# Procfile process) at these ports: their credentials variables point there, the egress
# policy lets loopback through, each variable is bound to its demo brand, and the sync runs
# every minute so its results show soon. Busy ports: `make run FAKE_META_PORT=8062`.
FAKE_GOOGLE_ADS_PORT ?= 50061
FAKE_META_PORT ?= 8061
DEMO_ENV = OUTBOUND_ALLOWED_NETWORKS=127.0.0.0/8,::1/128 \
	DEMO_GOOGLE_ADS='{"developer_token": "demo", "insecure_endpoint": "127.0.0.1:$(FAKE_GOOGLE_ADS_PORT)"}' \
	DEMO_META='{"access_token": "demo-meta-token", "graph_url": "http://127.0.0.1:$(FAKE_META_PORT)"}' \
	PLATFORM_CREDENTIALS='{"DEMO_GOOGLE_ADS": ["Acme Coffee"], "DEMO_META": ["Brolly & Co"]}' \
	PLATFORM_SYNC_INTERVAL_MINUTES=1
DEV_ENV = DJANGO_DEBUG=True DJANGO_SECRET_KEY="$$(cat $(DEV_KEY))" $(DEMO_ENV)

$(DEV_KEY):
	@mkdir -p var
	@$(PYTHON_FOR_KEY) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	@chmod 600 $@

PYTHON_FOR_KEY = $(if $(wildcard $(BIN)/python),$(BIN)/python,python3)

## make run: migrate, load demo data, then the fakes + web + worker + beat in one terminal
## (Ctrl-C stops all).
run: $(VENV)/.runtime $(DEV_KEY)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_data
	@echo
	@echo "  Admin:  http://127.0.0.1:8000/admin/   (demo login: admin / admin)"
	@echo "  Demo ad accounts on local fakes: Google Ads 127.0.0.1:$(FAKE_GOOGLE_ADS_PORT), Meta 127.0.0.1:$(FAKE_META_PORT)"
	@echo "  Ctrl-C stops the fakes, web, worker and beat."
	@echo
	@$(DEV_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/run_all.py Procfile

## make test: lint, format check, import order, strict typing, the layers' import contracts,
## then the test suite with coverage.
test: $(VENV)/.dev
	$(BIN)/flake8
	$(BIN)/black --check --quiet .
	$(BIN)/isort --check-only --quiet .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	@[ -x /usr/bin/chromium ] || echo "NOTE: no Chromium at /usr/bin/chromium: the browser tests will be SKIPPED (apt-get install chromium)."
	$(BIN)/pytest --cov --cov-report=term

lint: $(VENV)/.dev
	$(BIN)/flake8 && $(BIN)/black --check . && $(BIN)/isort --check-only . && $(BIN)/lint-imports

typecheck: $(VENV)/.dev
	$(BIN)/mypy .

pytest: $(VENV)/.dev
	$(BIN)/pytest

format: $(VENV)/.dev
	$(BIN)/isort . && $(BIN)/black .

migrate: $(VENV)/.runtime $(DEV_KEY)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput

seed: migrate
	$(DEV_ENV) $(BIN)/python manage.py seed_data

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .coverage htmlcov
