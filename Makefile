# meetwarden: the two set-up commands the README shows are `make run` and `make test`.
# Both work on a fresh Debian 12 machine: they install the system packages that
# are missing (as root, or through sudo), create .venv and install meetwarden in it.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Debian packages the test suite needs; checked one by one, installed only when missing.
SYSTEM_PACKAGES ?= python3-venv python3-dev gcc libmagic1 clamav-daemon postgresql chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format system-deps venv bench clean

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/meetwarden serve --host $(HOST) --port $(PORT) --data-dir data

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy policies client_sdk
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(PY) -m pytest -q

# Every benchmark prints its figures beside a baseline measured in the same run.
bench: $(STAMP)
	$(PY) bench/decisions.py
	$(PY) bench/server_joins.py --quick
	$(PY) bench/media_forwarding.py --quick
	$(PY) bench/media_meeting.py --quick
	$(PY) bench/file_upload.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
